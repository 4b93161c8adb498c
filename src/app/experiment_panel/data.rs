//! The Dataset section: the source, its settings and the test share.

use super::ExperimentPanel;
use crate::app::command::Command;
use crate::app::widgets::ranged;
use crate::config::ranges;
use crate::config::{CsvSource, DataSource, SyntheticKind, SyntheticSpec};
use egui::{CollapsingHeader, ComboBox, Ui};

impl ExperimentPanel<'_> {
    pub(super) fn data_ui(&mut self, ui: &mut Ui) {
        CollapsingHeader::new("Dataset")
            .default_open(true)
            .show(ui, |ui| {
                let source = &mut self.experiment.data.source;
                let current = source_name(source);
                ComboBox::from_label("Source")
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        for (name, make) in SOURCES {
                            if ui.selectable_label(current == *name, *name).clicked()
                                && current != *name
                            {
                                *source = make();
                            }
                        }
                    });
                self.source_settings_ui(ui);
                // MNIST-style folders (and IDX with test files) bring their own test split.
                let own_test_split = match &self.experiment.data.source {
                    DataSource::Mnist(_) | DataSource::FashionMnist(_) => true,
                    DataSource::Idx(files) => files.test_images.is_some(),
                    _ => false,
                };
                if !own_test_split {
                    let r = ranged(
                        ui,
                        &mut self.experiment.data.test_fraction,
                        &ranges::TEST_FRACTION,
                        "Test share",
                    );
                    self.problems.mark(r, "data.test_fraction");
                }
                self.preview.preview_ui(ui);
            });
    }

    fn source_settings_ui(&mut self, ui: &mut Ui) {
        let commands = &mut *self.commands;
        let problems = self.problems;
        match &mut self.experiment.data.source {
            DataSource::Digits => {
                ui.label("UCI handwritten digits, 8×8 pixels, embedded.");
            }
            DataSource::Mnist(dir) | DataSource::FashionMnist(dir) => {
                folder_row(ui, dir, commands);
            }
            DataSource::Idx(files) => {
                let mut dir = files.dir.clone().unwrap_or_default();
                if folder_row(ui, &mut dir, commands) {
                    files.dir = Some(dir);
                }
                ui.label(format!("train images: {}", files.train_images.display()));
            }
            DataSource::Csv(csv) => csv_ui(ui, csv, commands),
            DataSource::Synthetic(s) => {
                ComboBox::from_label("Shape")
                    .selected_text(format!("{:?}", s.kind))
                    .show_ui(ui, |ui| {
                        for kind in [
                            SyntheticKind::Spirals,
                            SyntheticKind::Moons,
                            SyntheticKind::Blobs,
                            SyntheticKind::Circles,
                        ] {
                            ui.selectable_value(&mut s.kind, kind, format!("{kind:?}"));
                        }
                    });
                let r = ranged(ui, &mut s.classes, &ranges::SYNTHETIC_CLASSES, "Classes");
                problems.mark(r, "data.source.classes");
                let r = ranged(ui, &mut s.samples, &ranges::SYNTHETIC_SAMPLES, "Samples");
                problems.mark(r, "data.source.samples");
                let r = ranged(ui, &mut s.noise, &ranges::SYNTHETIC_NOISE, "Noise");
                problems.mark(r, "data.source.noise");
            }
        }
    }
}

type SourceMaker = fn() -> DataSource;

const SOURCES: &[(&str, SourceMaker)] = &[
    ("Digits (embedded)", || DataSource::Digits),
    ("MNIST folder", || DataSource::Mnist("data/mnist".into())),
    ("Fashion-MNIST folder", || {
        DataSource::FashionMnist("data/fashion".into())
    }),
    ("CSV file", || DataSource::Csv(CsvSource::default())),
    ("Synthetic 2-D", || {
        DataSource::Synthetic(SyntheticSpec::default())
    }),
    ("IDX files", || DataSource::Idx(Default::default())),
];

fn source_name(source: &DataSource) -> &'static str {
    match source {
        DataSource::Digits => SOURCES[0].0,
        DataSource::Mnist(_) => SOURCES[1].0,
        DataSource::FashionMnist(_) => SOURCES[2].0,
        DataSource::Csv(_) => SOURCES[3].0,
        DataSource::Synthetic(_) => SOURCES[4].0,
        DataSource::Idx(_) => SOURCES[5].0,
    }
}

/// A folder path with a Browse… button; true if edited by hand.
fn folder_row(ui: &mut Ui, dir: &mut std::path::PathBuf, commands: &mut Vec<Command>) -> bool {
    let mut text = dir.display().to_string();
    let mut changed = false;
    ui.horizontal(|ui| {
        if ui
            .text_edit_singleline(&mut text)
            .on_hover_text("data folder")
            .changed()
        {
            *dir = text.clone().into();
            changed = true;
        }
        if ui.button("Browse…").clicked() {
            commands.push(Command::BrowseData);
        }
    });
    changed
}

fn csv_ui(ui: &mut Ui, csv: &mut CsvSource, commands: &mut Vec<Command>) {
    let mut text = csv.path.display().to_string();
    ui.horizontal(|ui| {
        if ui
            .text_edit_singleline(&mut text)
            .on_hover_text("CSV file")
            .changed()
        {
            csv.path = text.clone().into();
        }
        if ui.button("Browse…").clicked() {
            commands.push(Command::BrowseData);
        }
    });
    ui.checkbox(&mut csv.has_header, "First row is a header");
    let mut label = match &csv.label_column {
        None => String::new(),
        Some(crate::config::LabelColumn::Index(i)) => i.to_string(),
        Some(crate::config::LabelColumn::Name(n)) => n.clone(),
    };
    ui.horizontal(|ui| {
        ui.label("Label column");
        if ui
            .add(
                egui::TextEdit::singleline(&mut label)
                    .hint_text("last")
                    .desired_width(80.0),
            )
            .on_hover_text("label column: a header name or a 0-based index")
            .changed()
        {
            csv.label_column = match label.trim() {
                "" => None,
                t => Some(
                    t.parse()
                        .map(crate::config::LabelColumn::Index)
                        .unwrap_or_else(|_| crate::config::LabelColumn::Name(t.to_string())),
                ),
            };
        }
    });
}
