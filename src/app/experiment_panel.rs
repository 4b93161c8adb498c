//! The left panel: the experiment being set up. Edits the experiment in place; while a run
//! is going only T and α stay editable, and their changes are sent to the engine.

use super::command::Command;
use super::preview::DataPreview;
use super::widgets::{Problems, compact, widths_ui};
use crate::config::{
    ActivationKind, ArchSpec, CnnSpec, Combine, CsvSource, DataSource, DeviceChoice, Experiment,
    MlpSpec, OptimizerSpec, SoftLoss, SyntheticKind, SyntheticSpec, TransferSource,
};
use crate::model::{IoShape, ModelSize, arch_size};
use egui::{CollapsingHeader, ComboBox, DragValue, RichText, Slider, Ui};

pub const T_RANGE: std::ops::RangeInclusive<f64> = 0.5..=50.0;

/// Everything the panel needs for one frame.
pub struct ExperimentPanel<'a> {
    pub experiment: &'a mut Experiment,
    pub running: bool,
    pub problems: &'a Problems,
    pub preview: &'a mut DataPreview,
    pub commands: &'a mut Vec<Command>,
}

impl ExperimentPanel<'_> {
    pub fn ui(mut self, ui: &mut Ui) {
        egui::ScrollArea::vertical().show(ui, |ui| {
            if self.running {
                ui.label(
                    RichText::new("Training: only T and α can change until the run ends.")
                        .italics(),
                );
            }
            let io = self.preview.io();
            ui.add_enabled_ui(!self.running, |ui| self.data_ui(ui));
            ui.add_enabled_ui(!self.running, |ui| self.models_ui(ui, io));
            self.distill_ui(ui);
            ui.add_enabled_ui(!self.running, |ui| self.transfer_ui(ui, io));
            ui.add_enabled_ui(!self.running, |ui| self.training_ui(ui));
        });
    }

    fn data_ui(&mut self, ui: &mut Ui) {
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
                    let r = ui.add(
                        Slider::new(&mut self.experiment.data.test_fraction, 0.05..=0.5)
                            .text("Test share"),
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
                let r = ui.add(Slider::new(&mut s.classes, 2..=10).text("Classes"));
                problems.mark(r, "data.source.classes");
                let r = ui.add(
                    Slider::new(&mut s.samples, 100..=10_000)
                        .logarithmic(true)
                        .text("Samples"),
                );
                problems.mark(r, "data.source.samples");
                let r = ui.add(Slider::new(&mut s.noise, 0.0..=0.5).text("Noise"));
                problems.mark(r, "data.source.noise");
            }
        }
    }

    fn models_ui(&mut self, ui: &mut Ui, io: Option<IoShape>) {
        let is_image = self.experiment.data.source.is_image();
        let teacher_size = io.map(|io| {
            self.experiment
                .teacher
                .members
                .iter()
                .map(|m| arch_size(m, io))
                .fold(ModelSize::default(), |a, b| a + b)
        });
        let student_size = io.map(|io| arch_size(&self.experiment.student, io));
        CollapsingHeader::new("Teacher")
            .default_open(true)
            .show(ui, |ui| {
                let teacher = &mut self.experiment.teacher;
                let mut remove = None;
                let count = teacher.members.len();
                for (i, member) in teacher.members.iter_mut().enumerate() {
                    ui.group(|ui| {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(format!("Member {}", i + 1)).strong());
                            if count > 1 && ui.small_button("remove").clicked() {
                                remove = Some(i);
                            }
                        });
                        arch_ui(
                            ui,
                            &format!("teacher{i}"),
                            member,
                            is_image,
                            self.problems,
                            &format!("teacher.members[{i}]"),
                        );
                    });
                }
                if let Some(i) = remove {
                    teacher.members.remove(i);
                }
                ui.horizontal(|ui| {
                    if ui
                        .button("+ member")
                        .on_hover_text("add an ensemble member (a new seed)")
                        .clicked()
                    {
                        let copy = teacher
                            .members
                            .last()
                            .cloned()
                            .unwrap_or(ArchSpec::Mlp(MlpSpec::default()));
                        teacher.members.push(copy);
                    }
                    if teacher.members.len() > 1 {
                        ComboBox::from_label("Combine")
                            .selected_text(combine_name(teacher.combine))
                            .show_ui(ui, |ui| {
                                for c in [Combine::MeanProbabilities, Combine::MeanLogits] {
                                    ui.selectable_value(&mut teacher.combine, c, combine_name(c));
                                }
                            });
                    }
                });
                let r = ui.add(Slider::new(&mut teacher.epochs, 1..=200).text("Teacher epochs"));
                self.problems.mark(r, "teacher.epochs");
                ui.horizontal(|ui| {
                    let mut load = teacher.weights.is_some();
                    if ui.checkbox(&mut load, "Load saved weights").changed() {
                        teacher.weights = if load { Some(Default::default()) } else { None };
                    }
                    if let Some(dir) = &teacher.weights {
                        ui.label(dir.display().to_string());
                        if ui.button("Browse…").clicked() {
                            self.commands.push(Command::BrowseTeacherWeights);
                        }
                    }
                });
                if let Some(size) = teacher_size {
                    size_line(ui, size);
                }
            });
        CollapsingHeader::new("Student")
            .default_open(true)
            .show(ui, |ui| {
                arch_ui(
                    ui,
                    "student",
                    &mut self.experiment.student,
                    is_image,
                    self.problems,
                    "student",
                );
                if let (Some(s), Some(t)) = (student_size, teacher_size) {
                    size_line(ui, s);
                    ui.label(
                        RichText::new(format!(
                            "compression {:.1}× fewer parameters, {:.1}× fewer MACs",
                            t.parameters as f64 / s.parameters.max(1) as f64,
                            t.macs as f64 / s.macs.max(1) as f64
                        ))
                        .strong(),
                    );
                }
            });
    }

    fn distill_ui(&mut self, ui: &mut Ui) {
        CollapsingHeader::new("Distillation").default_open(true).show(ui, |ui| {
            let d = &mut self.experiment.distill;
            let before = (d.temperature, d.alpha);
            let r = ui.add(
                Slider::new(&mut d.temperature, T_RANGE)
                    .logarithmic(true)
                    .text("Temperature T"),
            );
            self.problems.mark(r, "distill.temperature");
            let r = ui.add(Slider::new(&mut d.alpha, 0.0..=1.0).text("Soft weight α"));
            self.problems.mark(r, "distill.alpha");
            if self.running && (d.temperature, d.alpha) != before {
                self.commands.push(Command::LiveWeights {
                    temperature: d.temperature,
                    alpha: d.alpha,
                });
            }
            ui.add_enabled_ui(!self.running, |ui| {
                ComboBox::from_label("Soft loss")
                    .selected_text(d.loss.name())
                    .show_ui(ui, |ui| {
                        for l in SoftLoss::ALL {
                            ui.selectable_value(&mut d.loss, l, l.name());
                        }
                    });
                ui.add_enabled(
                    d.loss != SoftLoss::LogitMse,
                    egui::Checkbox::new(&mut d.scale_by_t_squared, "Scale soft term by T²"),
                )
                .on_hover_text("keeps the soft gradients' size comparable as T changes (Hinton et al. 2015, §2)");
            });
            formula_ui(ui, self.experiment);
        });
    }

    fn transfer_ui(&mut self, ui: &mut Ui, io: Option<IoShape>) {
        CollapsingHeader::new("Transfer set")
            .default_open(false)
            .show(ui, |ui| {
                let t = &mut self.experiment.transfer;
                let mut held_out = matches!(t.source, TransferSource::HeldOut(_));
                ui.horizontal(|ui| {
                    ui.radio_value(&mut held_out, false, "Teacher's training set");
                    ui.radio_value(&mut held_out, true, "Held out from the teacher");
                });
                match (held_out, &mut t.source) {
                    (true, TransferSource::HeldOut(share)) => {
                        let r = ui.add(Slider::new(share, 0.05..=0.9).text("Held-out share"));
                        self.problems.mark(r, "transfer.source.HeldOut");
                    }
                    (true, src) => *src = TransferSource::HeldOut(0.5),
                    (false, src) => *src = TransferSource::TrainSet,
                }
                let r = ui.add(
                    Slider::new(&mut t.fraction, 0.01..=1.0)
                        .logarithmic(true)
                        .text("Fraction used"),
                );
                self.problems.mark(r, "transfer.fraction");
                if let Some(io) = io {
                    ui.label("Omit classes:");
                    let r = ui
                        .horizontal_wrapped(|ui| {
                            for c in 0..io.classes {
                                let mut omitted = t.omit_classes.contains(&c);
                                if ui.checkbox(&mut omitted, c.to_string()).changed() {
                                    t.omit_classes.retain(|&x| x != c);
                                    if omitted {
                                        t.omit_classes.push(c);
                                        t.omit_classes.sort_unstable();
                                    }
                                }
                            }
                        })
                        .response;
                    self.problems.mark(r, "transfer.omit_classes");
                }
                ui.checkbox(&mut t.labeled, "Labeled (hard labels may be used)");
            });
    }

    fn training_ui(&mut self, ui: &mut Ui) {
        CollapsingHeader::new("Training")
            .default_open(true)
            .show(ui, |ui| {
                let tr = &mut self.experiment.train;
                let r = ui.add(
                    Slider::new(&mut tr.epochs, 1..=500)
                        .logarithmic(true)
                        .text("Student epochs"),
                );
                self.problems.mark(r, "train.epochs");
                let r = ui.add(
                    Slider::new(&mut tr.batch_size, 1..=1024)
                        .logarithmic(true)
                        .text("Batch size"),
                );
                self.problems.mark(r, "train.batch_size");
                let adam = matches!(tr.optimizer, OptimizerSpec::Adam { .. });
                ComboBox::from_label("Optimizer")
                    .selected_text(if adam { "Adam" } else { "SGD" })
                    .show_ui(ui, |ui| {
                        let lr = tr.optimizer.learning_rate();
                        if ui.selectable_label(adam, "Adam").clicked() {
                            tr.optimizer = OptimizerSpec::Adam { lr };
                        }
                        if ui.selectable_label(!adam, "SGD").clicked() {
                            tr.optimizer = OptimizerSpec::Sgd { lr, momentum: 0.9 };
                        }
                    });
                let r = ui.add(
                    Slider::new(tr.optimizer.learning_rate_mut(), 1e-5..=1.0)
                        .logarithmic(true)
                        .text("Learning rate"),
                );
                self.problems.mark(r, "train.optimizer.lr");
                if let OptimizerSpec::Sgd { momentum, .. } = &mut tr.optimizer {
                    ui.add(Slider::new(momentum, 0.0..=0.99).text("Momentum"));
                }
                ui.add(Slider::new(&mut tr.weight_decay, 0.0..=0.01).text("Weight decay"));
                ui.horizontal(|ui| {
                    ui.label("Seed");
                    ui.add(DragValue::new(&mut self.experiment.seed))
                        .on_hover_text("seed of splits, initialisation and shuffling");
                });
                ui.checkbox(&mut tr.baseline, "Train a baseline student on labels alone");
                if self.experiment.data.source.is_image() {
                    let r = ui.add(Slider::new(&mut tr.jitter_pixels, 0..=4).text("Pixel jitter"));
                    self.problems.mark(r, "train.jitter_pixels");
                }
                ComboBox::from_label("Device")
                    .selected_text(format!("{:?}", self.experiment.device))
                    .show_ui(ui, |ui| {
                        for d in [DeviceChoice::Auto, DeviceChoice::Cpu, DeviceChoice::Gpu] {
                            ui.selectable_value(&mut self.experiment.device, d, format!("{d:?}"));
                        }
                    });
            });
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

fn combine_name(c: Combine) -> &'static str {
    match c {
        Combine::MeanProbabilities => "mean of probabilities",
        Combine::MeanLogits => "mean of logits (geometric)",
    }
}

fn size_line(ui: &mut Ui, size: ModelSize) {
    ui.label(format!(
        "{} parameters · {} multiply-adds per example",
        compact(size.parameters),
        compact(size.macs)
    ));
}

/// Edit one architecture: its kind, then its layers.
pub fn arch_ui(
    ui: &mut Ui,
    id: &str,
    arch: &mut ArchSpec,
    is_image: bool,
    problems: &Problems,
    field: &str,
) {
    ui.push_id(id, |ui| {
        let kind = match arch {
            ArchSpec::Mlp(_) => "MLP",
            ArchSpec::SoftmaxRegression => "Softmax regression",
            ArchSpec::Cnn(_) => "CNN",
        };
        let r = ComboBox::from_label("Architecture")
            .selected_text(kind)
            .show_ui(ui, |ui| {
                if ui.selectable_label(kind == "MLP", "MLP").clicked() && kind != "MLP" {
                    *arch = ArchSpec::Mlp(MlpSpec::default());
                }
                if ui
                    .selectable_label(kind == "Softmax regression", "Softmax regression")
                    .clicked()
                {
                    *arch = ArchSpec::SoftmaxRegression;
                }
                let cnn = ui.add_enabled(is_image, egui::Button::selectable(kind == "CNN", "CNN"));
                if cnn
                    .on_disabled_hover_text("a CNN needs image data")
                    .clicked()
                    && kind != "CNN"
                {
                    *arch = ArchSpec::Cnn(CnnSpec::default());
                }
            })
            .response;
        problems.mark(r, field);
        match arch {
            ArchSpec::Mlp(m) => {
                ui.horizontal(|ui| {
                    ui.label("Hidden");
                    widths_ui(ui, &mut m.hidden, "layer", 4096);
                });
                ui.horizontal(|ui| {
                    ComboBox::from_label("Activation")
                        .selected_text(m.activation.name())
                        .show_ui(ui, |ui| {
                            for a in ActivationKind::ALL {
                                ui.selectable_value(&mut m.activation, a, a.name());
                            }
                        });
                });
                let r = ui.add(Slider::new(&mut m.dropout, 0.0..=0.8).text("Dropout"));
                problems.mark(r, &format!("{field}.dropout"));
            }
            ArchSpec::SoftmaxRegression => {
                ui.label("One linear layer from inputs to classes.");
            }
            ArchSpec::Cnn(c) => {
                ui.horizontal(|ui| {
                    ui.label("Conv channels");
                    widths_ui(ui, &mut c.channels, "stage", 512);
                });
                ui.horizontal(|ui| {
                    ui.label("Dense");
                    widths_ui(ui, &mut c.hidden, "layer", 4096);
                });
                ComboBox::from_label("Kernel")
                    .selected_text(format!("{0}×{0}", c.kernel_size))
                    .show_ui(ui, |ui| {
                        for k in [1, 3, 5, 7] {
                            ui.selectable_value(&mut c.kernel_size, k, format!("{k}×{k}"));
                        }
                    });
                ui.add(Slider::new(&mut c.dropout, 0.0..=0.8).text("Dropout"));
            }
        }
    });
}

/// The loss with the current numbers written in.
pub fn formula_ui(ui: &mut Ui, exp: &Experiment) {
    let d = &exp.distill;
    let alpha = if exp.transfer.labeled { d.alpha } else { 1.0 };
    let (soft, scale) = match d.loss {
        SoftLoss::Kl => ("KL(p_t(T)‖p_s(T))".to_string(), d.scale_by_t_squared),
        SoftLoss::SoftCrossEntropy => ("−Σp_t(T)·log p_s(T)".to_string(), d.scale_by_t_squared),
        SoftLoss::LogitMse => ("MSE(z_s, z_t)".to_string(), false),
    };
    let general = if scale {
        format!("L = α·T²·{soft} + (1−α)·CE(y,p_s(1))")
    } else {
        format!("L = α·{soft} + (1−α)·CE(y,p_s(1))")
    };
    let t2 = if scale {
        format!("·{:.1}", d.temperature * d.temperature)
    } else {
        String::new()
    };
    let numbers = format!(
        "  = {alpha:.2}{t2}·{} + {:.2}·CE",
        soft.replace('T', &format!("{:.2}", d.temperature)),
        1.0 - alpha
    );
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(general).monospace());
        ui.label(RichText::new(numbers).monospace().strong());
        if !exp.transfer.labeled {
            ui.label(RichText::new("unlabeled transfer set: soft targets only (α = 1)").italics());
        }
    });
}
