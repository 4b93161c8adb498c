//! The Teacher and Student sections: architectures, layers, ensemble members, sizes.

use super::ExperimentPanel;
use crate::app::command::Command;
use crate::app::widgets::{Problems, compact, ranged, widths_ui};
use crate::config::ranges;
use crate::config::{ActivationKind, ArchSpec, CnnSpec, Combine, MlpSpec};
use crate::model::{IoShape, ModelSize, arch_size};
use egui::{CollapsingHeader, ComboBox, RichText, Ui};

impl ExperimentPanel<'_> {
    pub(super) fn models_ui(&mut self, ui: &mut Ui, io: Option<IoShape>) {
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
                    let room = teacher.members.len() < ranges::MEMBERS.max;
                    if ui
                        .add_enabled(room, egui::Button::new("+ member"))
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
                let r = ranged(
                    ui,
                    &mut teacher.epochs,
                    &ranges::TEACHER_EPOCHS,
                    "Teacher epochs",
                );
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
                    widths_ui(ui, &mut m.hidden, "layer", &ranges::WIDTH, &ranges::LAYERS);
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
                let r = ranged(ui, &mut m.dropout, &ranges::DROPOUT, "Dropout");
                problems.mark(r, &format!("{field}.dropout"));
            }
            ArchSpec::SoftmaxRegression => {
                ui.label("One linear layer from inputs to classes.");
            }
            ArchSpec::Cnn(c) => {
                ui.horizontal(|ui| {
                    ui.label("Conv channels");
                    let (channels, stages) = (&ranges::CHANNELS, &ranges::CNN_STAGES);
                    widths_ui(ui, &mut c.channels, "stage", channels, stages);
                });
                ui.horizontal(|ui| {
                    ui.label("Dense");
                    widths_ui(ui, &mut c.hidden, "layer", &ranges::WIDTH, &ranges::LAYERS);
                });
                let r = ComboBox::from_label("Kernel")
                    .selected_text(format!("{0}×{0}", c.kernel_size))
                    .show_ui(ui, |ui| {
                        for k in ranges::KERNEL_SIZES {
                            ui.selectable_value(&mut c.kernel_size, k, format!("{k}×{k}"));
                        }
                    });
                problems.mark(r.response, &format!("{field}.kernel_size"));
                let r = ranged(ui, &mut c.dropout, &ranges::DROPOUT, "Dropout");
                problems.mark(r, &format!("{field}.dropout"));
            }
        }
    });
}
