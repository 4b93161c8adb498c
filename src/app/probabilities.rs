//! The Probabilities tab: one test example, each model's class probabilities at a chosen T,
//! re-softened from cached logits instantly, with entropy and effective number of classes.

use super::preview::{DataPreview, scatter_ui};
use super::session::RunView;
use super::state::ViewSettings;
use super::style::role_color;
use crate::config::Combine;
use crate::distill::host;
use crate::train::{Role, TestLogits};
use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Plot, VLine};

/// One model's distribution for an example at temperature `t`.
pub fn model_probs(
    logits: &TestLogits,
    sample: usize,
    t: f32,
    combine: Combine,
) -> Option<Vec<f32>> {
    let k = logits.classes;
    let rows: Vec<&[f32]> = logits
        .members
        .iter()
        .map(|m| m.get(sample * k..(sample + 1) * k))
        .collect::<Option<_>>()?;
    Some(host::ensemble_softmax(&rows, combine, t))
}

/// Every trained model's distribution for an example at `t` (the teacher combined as configured).
pub fn all_model_probs(
    view: Option<&RunView>,
    sample: usize,
    t: f32,
    combine: Combine,
) -> Vec<(Role, Vec<f32>)> {
    let Some(view) = view else { return Vec::new() };
    Role::ALL
        .iter()
        .filter_map(|&role| {
            let how = if role == Role::Teacher {
                combine
            } else {
                Combine::MeanLogits
            };
            Some((role, model_probs(view.logits.get(&role)?, sample, t, how)?))
        })
        .collect()
}

/// The next example after `from` (wrapping) that the student classifies wrongly.
pub fn next_student_error(
    view: &RunView,
    labels: &[u32],
    from: usize,
    combine: Combine,
) -> Option<usize> {
    let student = view.logits.get(&Role::Student)?;
    let n = labels.len();
    (1..=n).map(|d| (from + d) % n).find(|&i| {
        model_probs(student, i, 1.0, combine)
            .is_some_and(|p| host::argmax(&p) != labels[i] as usize)
    })
}

/// The Curves tab's side strip: the chosen test example's class probabilities at the
/// training T, moving as each model learns.
pub fn live_probabilities_ui(
    ui: &mut Ui,
    view: Option<&RunView>,
    preview: &mut DataPreview,
    sample: usize,
    t: f32,
    combine: Combine,
) {
    let Some(splits) = preview.data.clone() else {
        return;
    };
    let test = &splits.test;
    let sample = sample.min(test.len().saturating_sub(1));
    let label = test.labels[sample] as usize;
    ui.label(RichText::new(format!("Test example {sample} at T = {t:.1}")).strong());
    ui.horizontal(|ui| {
        if let Some(tex) = preview.test_image(ui.ctx(), sample) {
            ui.image((tex.id(), egui::vec2(64.0, 64.0)));
        }
        ui.label(format!(
            "true class {}
(choose another in Probabilities)",
            test.class_names[label]
        ));
    });
    let models = all_model_probs(view, sample, t, combine);
    if models.is_empty() {
        ui.label("Bars appear after each model's first epoch.");
        return;
    }
    bars_plot(
        ui,
        "live-probability-bars",
        &models,
        label,
        &test.class_names,
        t,
    );
}

pub struct ProbabilitiesTab<'a> {
    pub view: Option<&'a RunView>,
    pub preview: &'a mut DataPreview,
    pub settings: &'a mut ViewSettings,
    pub combine: Combine,
    /// The experiment's training temperature, to reset the view slider to.
    pub train_temperature: f32,
}

impl ProbabilitiesTab<'_> {
    pub fn ui(self, ui: &mut Ui) {
        let Some(splits) = self.preview.data.clone() else {
            ui.label("The data is loading…");
            return;
        };
        let test = &splits.test;
        let n = test.len();
        let s = &mut *self.settings;
        s.sample = s.sample.min(n.saturating_sub(1));
        ui.horizontal(|ui| {
            ui.label("Test example");
            ui.add(egui::DragValue::new(&mut s.sample).range(0..=n.saturating_sub(1)))
                .on_hover_text("index of the test example");
            if ui.button("< Previous").clicked() {
                s.sample = (s.sample + n - 1) % n;
            }
            if ui.button("Next >").clicked() {
                s.sample = (s.sample + 1) % n;
            }
            if ui.button("Random").clicked() {
                s.sample = rand_index(n, s.sample);
            }
            let wrong = self
                .view
                .and_then(|v| next_student_error(v, &test.labels, s.sample, self.combine));
            let r = ui.add_enabled(
                wrong.is_some(),
                egui::Button::new("A sample the student gets wrong"),
            );
            if r.on_disabled_hover_text("needs a trained student that makes a mistake")
                .clicked()
            {
                s.sample = wrong.expect("enabled only when found");
            }
        });
        ui.horizontal(|ui| {
            ui.add(
                egui::Slider::new(&mut s.view_temperature, 0.5..=50.0)
                    .logarithmic(true)
                    .text("View temperature T"),
            )
            .on_hover_text("re-softens the cached logits; the models are not retrained");
            if ui.button("= training T").clicked() {
                s.view_temperature = self.train_temperature;
            }
        });
        let sample = s.sample;
        let t = s.view_temperature;
        let models = all_model_probs(self.view, sample, t, self.combine);
        let label = test.labels[sample] as usize;
        ui.horizontal(|ui| {
            if let Some(tex) = self.preview.test_image(ui.ctx(), sample) {
                ui.image((tex.id(), egui::vec2(112.0, 112.0)));
            } else if test.num_features == 2 {
                ui.vertical(|ui| {
                    ui.set_width(160.0);
                    scatter_ui(ui, test, "probabilities-point", 120.0);
                    ui.label(format!(
                        "({:.2}, {:.2})",
                        test.row(sample)[0],
                        test.row(sample)[1]
                    ));
                });
            }
            ui.vertical(|ui| {
                ui.label(
                    RichText::new(format!("true class: {}", test.class_names[label])).strong(),
                );
                stats_table(ui, &models, label, &test.class_names);
            });
        });
        if models.is_empty() {
            ui.label("No model has been trained yet: press Start, and the bars fill in as each model learns.");
            return;
        }
        bars_plot(ui, "probability-bars", &models, label, &test.class_names, t);
    }
}

fn rand_index(n: usize, avoid: usize) -> usize {
    use rand::RngExt;
    let mut rng = rand::rng();
    let i = rng.random_range(0..n.max(1));
    if i == avoid && n > 1 { (i + 1) % n } else { i }
}

fn stats_table(ui: &mut Ui, rows: &[(Role, Vec<f32>)], label: usize, names: &[String]) {
    egui::Grid::new("prob-stats").striped(true).show(ui, |ui| {
        for h in [
            "model",
            "predicts",
            "p(true class)",
            "entropy (nats)",
            "effective classes",
        ] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for (role, p) in rows {
            ui.colored_label(role_color(*role), role.name());
            ui.label(&names[host::argmax(p)]);
            ui.label(format!("{:.3}", p[label]));
            ui.label(format!("{:.3}", host::entropy(p)));
            ui.label(format!("{:.2}", host::effective_classes(p)));
            ui.end_row();
        }
    });
}

fn bars_plot(
    ui: &mut Ui,
    id: &str,
    models: &[(Role, Vec<f32>)],
    label: usize,
    names: &[String],
    t: f32,
) {
    let width = 0.8 / models.len() as f64;
    let names = names.to_vec();
    Plot::new(id)
        .legend(Legend::default())
        .allow_scroll(false)
        .allow_drag(false)
        .include_y(0.0)
        .include_y(1.0)
        .y_axis_label(format!("probability at T = {t:.2}"))
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .show(ui, |plot| {
            for (j, (role, p)) in models.iter().enumerate() {
                let offset = (j as f64 - (models.len() as f64 - 1.0) / 2.0) * width;
                let bars = p
                    .iter()
                    .enumerate()
                    .map(|(c, &v)| {
                        Bar::new(c as f64 + offset, v as f64)
                            .width(width * 0.95)
                            .fill(role_color(*role).gamma_multiply(0.75))
                            .name(format!("class {c}"))
                    })
                    .collect();
                plot.bar_chart(BarChart::new(role.name(), bars).color(role_color(*role)));
            }
            plot.vline(
                VLine::new("true class", label as f64)
                    .color(egui::Color32::from_rgb(0xE8, 0x3E, 0x8C))
                    .width(2.0),
            );
        });
}
