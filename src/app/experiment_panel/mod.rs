//! The left panel: the experiment being set up. Edits the experiment in place; while a run
//! is going only T and α stay editable, and their changes are sent to the engine.

mod data;
mod method;
mod models;

pub use method::formula_ui;

use super::command::Command;
use super::preview::DataPreview;
use super::widgets::{Problems, ranged};
use crate::config::ranges;
use crate::config::{DeviceChoice, Experiment, OptimizerSpec, TransferSource};
use crate::model::IoShape;
use egui::{CollapsingHeader, ComboBox, DragValue, RichText, Ui};

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

    fn distill_ui(&mut self, ui: &mut Ui) {
        CollapsingHeader::new("Distillation")
            .default_open(true)
            .show(ui, |ui| {
                let d = &mut self.experiment.distill;
                let before = (d.temperature.to_bits(), d.alpha.to_bits());
                let t = ranged(
                    ui,
                    &mut d.temperature,
                    &ranges::TEMPERATURE,
                    "Temperature T",
                );
                let a = ranged(ui, &mut d.alpha, &ranges::ALPHA, "Soft weight α");
                // Only a change the user made reaches a running student; drawing changes nothing.
                let edited = (t.changed() || a.changed())
                    && (d.temperature.to_bits(), d.alpha.to_bits()) != before;
                self.problems.mark(t, "distill.temperature");
                self.problems.mark(a, "distill.alpha");
                if self.running && edited {
                    self.commands.push(Command::LiveWeights {
                        temperature: d.temperature,
                        alpha: d.alpha,
                    });
                }
                ui.add_enabled_ui(!self.running, |ui| self.method_ui(ui));
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
                        let r = ranged(ui, share, &ranges::HELD_OUT, "Held-out share");
                        self.problems.mark(r, "transfer.source.HeldOut");
                    }
                    (true, src) => *src = TransferSource::HeldOut(0.5),
                    (false, src) => *src = TransferSource::TrainSet,
                }
                let r = ranged(
                    ui,
                    &mut t.fraction,
                    &ranges::TRANSFER_FRACTION,
                    "Fraction used",
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
                let r = ranged(
                    ui,
                    &mut t.validation_fraction,
                    &ranges::VALIDATION_FRACTION,
                    "Validation share",
                )
                .on_hover_text(
                    "held out from every phase; an omitted class's bias correction is chosen on it",
                );
                self.problems.mark(r, "transfer.validation_fraction");
                ui.checkbox(&mut t.labeled, "Labeled (hard labels may be used)");
            });
    }

    fn training_ui(&mut self, ui: &mut Ui) {
        CollapsingHeader::new("Training")
            .default_open(true)
            .show(ui, |ui| {
                let tr = &mut self.experiment.train;
                let r = ranged(
                    ui,
                    &mut tr.epochs,
                    &ranges::STUDENT_EPOCHS,
                    "Student epochs",
                );
                self.problems.mark(r, "train.epochs");
                let r = ranged(ui, &mut tr.batch_size, &ranges::BATCH_SIZE, "Batch size");
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
                let r = ranged(
                    ui,
                    tr.optimizer.learning_rate_mut(),
                    &ranges::LEARNING_RATE,
                    "Learning rate",
                );
                self.problems.mark(r, "train.optimizer.lr");
                if let OptimizerSpec::Sgd { momentum, .. } = &mut tr.optimizer {
                    let r = ranged(ui, momentum, &ranges::MOMENTUM, "Momentum");
                    self.problems.mark(r, "train.optimizer.momentum");
                }
                let r = ranged(
                    ui,
                    &mut tr.weight_decay,
                    &ranges::WEIGHT_DECAY,
                    "Weight decay",
                );
                self.problems.mark(r, "train.weight_decay");
                ui.horizontal(|ui| {
                    ui.label("Seed");
                    ui.add(DragValue::new(&mut self.experiment.seed))
                        .on_hover_text("seed of splits, initialisation and shuffling");
                });
                ui.checkbox(&mut tr.baseline, "Train a baseline student on labels alone");
                if self.experiment.data.source.is_image() {
                    let r = ranged(
                        ui,
                        &mut tr.jitter_pixels,
                        &ranges::JITTER_PIXELS,
                        "Pixel jitter",
                    );
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
