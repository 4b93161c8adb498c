//! The Probabilities tab: one test example, each model's class probabilities at a chosen T,
//! re-softened from cached logits instantly, with entropy and effective number of classes.

use super::bars::{names_for, with_class_axis};
use super::preview::{DataPreview, scatter_ui};
use super::session::{LiveRun, RunView};
use super::state::ViewSettings;
use super::style::role_color;
use crate::config::Combine;
use crate::distill::host;
use crate::train::{Role, TestLogits};
use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Plot, VLine};
use std::sync::Arc;

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
pub fn next_student_error(view: &RunView, labels: &[u32], from: usize) -> Option<usize> {
    let student = view.logits.get(&Role::Student)?;
    let n = labels.len();
    (1..=n).map(|d| (from + d) % n).find(|&i| {
        model_probs(student, i, 1.0, Combine::MeanLogits)
            .is_some_and(|p| host::argmax(&p) != labels[i] as usize)
    })
}

/// "A sample the student gets wrong", searched once per change (new student logits, another
/// example, other data), not once per frame.
#[derive(Default)]
pub struct WrongSampleSearch {
    key: Option<(Arc<TestLogits>, usize, usize, usize)>,
    found: Option<usize>,
    /// Searches run so far.
    pub scans: usize,
}

impl WrongSampleSearch {
    pub fn next(&mut self, view: &RunView, labels: &[u32], from: usize) -> Option<usize> {
        let Some(student) = view.logits.get(&Role::Student) else {
            self.key = None;
            return None;
        };
        let fresh = match &self.key {
            Some((logits, f, n, ptr)) => {
                Arc::ptr_eq(logits, student)
                    && *f == from
                    && *n == labels.len()
                    && *ptr == labels.as_ptr() as usize
            }
            None => false,
        };
        if !fresh {
            self.scans += 1;
            self.found = next_student_error(view, labels, from);
            self.key = Some((
                student.clone(),
                from,
                labels.len(),
                labels.as_ptr() as usize,
            ));
        }
        self.found
    }
}

/// What an empty test split leaves the probability views to say.
pub const EMPTY_TEST_SPLIT: &str = "The test split is empty: there is no test example to show. Give the data a test split \
     (data.test_fraction, or a test file with examples in it).";

/// The Curves tab's side strip: the chosen test example's class probabilities at the
/// run's T, moving as each model learns.
pub fn live_probabilities_ui(
    ui: &mut Ui,
    run: Option<&LiveRun>,
    preview: &mut DataPreview,
    sample: usize,
) {
    let Some(splits) = preview.data.clone() else {
        return;
    };
    let test = &splits.test;
    if test.is_empty() {
        ui.label(EMPTY_TEST_SPLIT);
        return;
    }
    let sample = sample.min(test.len() - 1);
    let label = test.labels[sample] as usize;
    let Some(run) = run else {
        ui.label(format!("Test example {sample}"));
        ui.label("Bars appear after each model's first epoch.");
        return;
    };
    let t = run.temperature();
    let names = run_class_names(Some(run), test);
    ui.label(RichText::new(format!("Test example {sample} at the run's T = {t}")).strong());
    ui.horizontal(|ui| {
        if let Some(tex) = preview.test_image(ui.ctx(), sample) {
            ui.image((tex.id(), egui::vec2(64.0, 64.0)));
        }
        ui.label(format!(
            "true class {}\n(choose another in Probabilities)",
            names.get(label).map_or("?", String::as_str)
        ));
    });
    let models = all_model_probs(Some(&run.view), sample, t, run.experiment.teacher.combine);
    if models.is_empty() {
        ui.label("Bars appear after each model's first epoch.");
        return;
    }
    bars_plot(ui, "live-probability-bars", &models, label, &names, t);
}

/// The class names of the run on screen (as the engine reported them), else the data's.
fn run_class_names(run: Option<&LiveRun>, test: &crate::data::Dataset) -> Vec<String> {
    let names = run
        .and_then(LiveRun::class_names)
        .unwrap_or(&test.class_names);
    names_for(names, test.num_classes.max(names.len()))
}

pub struct ProbabilitiesTab<'a> {
    /// The run on screen, when its data is the data shown.
    pub run: Option<&'a LiveRun>,
    pub preview: &'a mut DataPreview,
    pub settings: &'a mut ViewSettings,
    pub wrong: &'a mut WrongSampleSearch,
}

impl ProbabilitiesTab<'_> {
    pub fn ui(self, ui: &mut Ui) {
        let Some(splits) = self.preview.data.clone() else {
            ui.label("The data is loading…");
            return;
        };
        let test = &splits.test;
        let n = test.len();
        if n == 0 {
            ui.colored_label(super::style::ERROR, EMPTY_TEST_SPLIT);
            return;
        }
        let view = self.run.map(|r| &r.view);
        let names = run_class_names(self.run, test);
        let s = &mut *self.settings;
        s.sample = s.sample.min(n - 1);
        ui.horizontal(|ui| {
            ui.label("Test example");
            ui.add(egui::DragValue::new(&mut s.sample).range(0..=n - 1))
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
            let wrong = view.and_then(|v| self.wrong.next(v, &test.labels, s.sample));
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
        // The run's own T unless the user explores another, clearly marked as exploring.
        let run_t = self.run.map(LiveRun::temperature);
        ui.horizontal(|ui| {
            ui.checkbox(&mut s.explore_temperature, "Explore another T")
                .on_hover_text(
                    "re-soften the run's cached logits at a temperature of your choice; \
                     the models are not retrained",
                );
            if s.explore_temperature {
                ui.add(
                    egui::Slider::new(&mut s.view_temperature, 0.5..=50.0)
                        .logarithmic(true)
                        .text("Explore T"),
                )
                .on_hover_text("exploring: the run was trained at its own T");
                if let Some(t) = run_t
                    && ui.button("= the run's T").clicked()
                {
                    s.view_temperature = t;
                }
            } else if let Some(t) = run_t {
                ui.label(format!("at the run's T = {t}"));
            }
        });
        let t = match run_t {
            Some(t) if !s.explore_temperature => t,
            _ => s.view_temperature,
        };
        let sample = s.sample;
        let combine = self
            .run
            .map_or(Combine::MeanLogits, |r| r.experiment.teacher.combine);
        let models = all_model_probs(view, sample, t, combine);
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
                let true_name = names.get(label).map_or("?", String::as_str);
                ui.label(RichText::new(format!("true class: {true_name}")).strong());
                stats_table(ui, &models, label, &names);
            });
        });
        if models.is_empty() {
            ui.label("No model has been trained yet: press Start, and the bars fill in as each model learns.");
            return;
        }
        if let Some(run) = self.run {
            super::breakdown::breakdown_ui(ui, run, sample, label, &names);
        }
        bars_plot(ui, "probability-bars", &models, label, &names, t);
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
            ui.label(names.get(host::argmax(p)).map_or("?", String::as_str));
            ui.label(p.get(label).map_or("–".into(), |v| format!("{v:.3}")));
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
    let plot = Plot::new(id)
        .legend(Legend::default())
        .allow_scroll(false)
        .allow_drag(false)
        .include_y(0.0)
        .include_y(1.0)
        .y_axis_label(format!("probability at T = {t:.2}"));
    super::plot_export::menu(
        &with_class_axis(plot, names, ui)
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
                                .name(names.get(c).map_or("?", String::as_str))
                        })
                        .collect();
                    plot.bar_chart(BarChart::new(role.name(), bars).color(role_color(*role)));
                }
                plot.vline(
                    VLine::new("true class", label as f64)
                        .color(egui::Color32::from_rgb(0xE8, 0x3E, 0x8C))
                        .width(2.0),
                );
            })
            .response,
    );
}
