//! The Diagnostics tab: how each model of the run is calibrated (a reliability diagram and
//! the ECE at T = 1), where it errs (confusion matrices), and Hinton's high-temperature limit
//! on the run's own logits (the KD gradient against logit matching's as T rises).

use super::session::LiveRun;
use super::style::role_color;
use crate::distill::dark::{difference, off_diagonal_max};
use crate::distill::gradients::GradientPoint;
use crate::train::{ModelReport, Role};
use egui::{Color32, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

pub fn diagnostics_ui(
    ui: &mut Ui,
    run: Option<&LiveRun>,
    names: &[String],
    test_labels: Option<&[u32]>,
) {
    let Some(run) = run else {
        ui.label("Press Start: calibration, confusion matrices and the gradient comparison appear for the run.");
        return;
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        super::omitted::omitted_ui(ui, run, names, test_labels);
        dark_knowledge_ui(ui, run, names, test_labels);
        gradients_ui(ui, run);
        match &run.view.summary {
            Some(summary) => {
                if let Some(e) = &summary.ensemble {
                    ui.label(RichText::new("Ensemble teacher").strong());
                    ui.label(crate::cli::ensemble_line(e));
                }
                let models: Vec<(Role, &ModelReport)> = [
                    (Role::Teacher, Some(&summary.teacher)),
                    (Role::Baseline, summary.baseline.as_ref()),
                    (Role::Student, summary.student.as_ref()),
                ]
                .into_iter()
                .filter_map(|(r, m)| Some((r, m?)))
                .filter(|(_, m)| m.ece.is_some())
                .collect();
                reliability_ui(ui, &models);
                confusion_ui(ui, &models, names);
            }
            None => {
                ui.label("Calibration and confusion matrices appear when the run ends.");
            }
        }
    });
}

/// Each model's mean soft target per true class at a temperature the user chooses (the run's
/// own to begin with): the teacher's, the student's, and their difference.
fn dark_knowledge_ui(ui: &mut Ui, run: &LiveRun, names: &[String], test_labels: Option<&[u32]>) {
    use crate::distill::dark::mean_soft_targets;
    ui.label(
        RichText::new(
            "Dark knowledge: the mean soft target per true class (rows), diagonal greyed",
        )
        .strong(),
    );
    let id = egui::Id::unique("dark-knowledge-t");
    let mut t: f32 = ui.data_mut(|d| *d.get_temp_mut_or(id, run.temperature()));
    ui.horizontal(|ui| {
        ui.add(
            egui::Slider::new(&mut t, 0.5..=50.0)
                .logarithmic(true)
                .text("T"),
        );
        let r = ui.button("= the run's T");
        crate::app::lesson_steps::highlight(ui, &r, "= the run's T");
        if r.clicked() {
            t = run.temperature();
        }
    });
    ui.data_mut(|d| d.insert_temp(id, t));
    let Some(test_labels) = test_labels else {
        return;
    };
    let matrix = |role: Role| {
        let l = run.view.logits.get(&role)?;
        let combine = if role == Role::Teacher {
            run.experiment.teacher.combine
        } else {
            crate::config::Combine::MeanLogits
        };
        Some(mean_soft_targets(
            &l.members,
            combine,
            test_labels,
            l.classes,
            t,
        ))
    };
    let (Some(teacher), student) = (matrix(Role::Teacher), matrix(Role::Student)) else {
        ui.label("Appears once the teacher has trained.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        grid_ui(ui, "teacher", &teacher, names, false);
        if let Some(student) = &student {
            grid_ui(ui, "student", student, names, false);
            let diff = difference(student, &teacher);
            grid_ui(ui, "student − teacher", &diff, names, true);
        }
    });
}

/// One matrix as coloured cells, each with its value on hover; the diagonal greyed.
fn grid_ui(ui: &mut Ui, title: &str, m: &[Vec<f32>], names: &[String], signed: bool) {
    const CELL: f32 = 16.0;
    ui.vertical(|ui| {
        ui.label(title);
        let k = m.len();
        let (rect, response) = ui.allocate_exact_size(
            egui::vec2(CELL * k as f32, CELL * k as f32),
            egui::Sense::hover(),
        );
        let max = off_diagonal_max(m);
        let painter = ui.painter_at(rect);
        for (r, row) in m.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let cell = egui::Rect::from_min_size(
                    rect.min + egui::vec2(j as f32 * CELL, r as f32 * CELL),
                    egui::vec2(CELL - 1.0, CELL - 1.0),
                );
                let a = (v.abs() / max).clamp(0.0, 1.0);
                let fill = if r == j || !v.is_finite() {
                    Color32::GRAY
                } else if signed && v < 0.0 {
                    Color32::from_rgb(220, 80, 70).gamma_multiply(a)
                } else {
                    Color32::from_rgb(70, 170, 230).gamma_multiply(a)
                };
                painter.rect_filled(cell, 0.0, fill);
            }
        }
        if let Some(pos) = response.hover_pos() {
            let j = ((pos.x - rect.min.x) / CELL) as usize;
            let r = ((pos.y - rect.min.y) / CELL) as usize;
            if let Some(v) = m.get(r).and_then(|row| row.get(j)) {
                let name = |c: usize| names.get(c).map_or("?", String::as_str);
                response.on_hover_text(format!("true {}, class {}: {v:.4}", name(r), name(j)));
            }
        }
    });
}

/// The comparison on the run's teacher and student test logits (first examples).
pub fn run_gradients(run: &LiveRun) -> Option<Vec<GradientPoint>> {
    let t = run.view.logits.get(&Role::Teacher)?;
    let s = run.view.logits.get(&Role::Student)?;
    Some(crate::train::gradient_comparison(t, s))
}

fn gradients_ui(ui: &mut Ui, run: &LiveRun) {
    ui.label(
        RichText::new("KD against logit matching as T rises (Hinton et al. 2015, §2.1)").strong(),
    );
    let Some(points) = run_gradients(run) else {
        ui.label(
            "Needs the teacher's and the student's test logits (after the student's first epoch).",
        );
        return;
    };
    ui.label(
        "cosine and norm ratio between the gradient of T²·KL and the logit-matching gradient (z − v)/N on the \
         student's logits, first 256 test examples; with zero-mean logits both tend to 1",
    );
    let series = |zero_mean: bool, f: fn(&GradientPoint) -> f32| -> Vec<[f64; 2]> {
        points
            .iter()
            .filter(|p| p.zero_mean == zero_mean)
            .map(|p| [(p.temperature as f64).log10(), f(p) as f64])
            .collect()
    };
    super::plot_export::menu(
        &Plot::new("diagnostics-gradients")
            .height(200.0)
            .legend(Legend::default())
            .x_axis_label("temperature T (log axis)")
            .x_axis_formatter(|mark, _| format!("{:.0}", 10f64.powf(mark.value)))
            .include_y(0.0)
            .include_y(1.2)
            .show(ui, |plot| {
                plot.line(
                    Line::new(
                        "cosine, zero-mean logits",
                        PlotPoints::new(series(true, |p| p.cosine)),
                    )
                    .width(super::style::lw(plot.ctx(), 2.0)),
                );
                plot.line(
                    Line::new(
                        "cosine, raw logits",
                        PlotPoints::new(series(false, |p| p.cosine)),
                    )
                    .width(super::style::lw(plot.ctx(), 2.0)),
                );
                plot.line(
                    Line::new(
                        "norm ratio, zero-mean",
                        PlotPoints::new(series(true, |p| p.norm_ratio)),
                    )
                    .width(super::style::lw(plot.ctx(), 1.5)),
                );
            })
            .response,
    );
}

fn reliability_ui(ui: &mut Ui, models: &[(Role, &ModelReport)]) {
    ui.label(RichText::new("Calibration at T = 1: reliability diagram (15 bins) and ECE").strong());
    let eces: Vec<String> = models
        .iter()
        .map(|(r, m)| format!("{} ECE {:.3}", r.name(), m.ece.unwrap_or(f32::NAN)))
        .collect();
    ui.label(eces.join(" · "));
    super::plot_export::menu(
        &Plot::new("diagnostics-reliability")
            .height(220.0)
            .legend(Legend::default())
            .x_axis_label("confidence (top probability)")
            .y_axis_label("accuracy")
            .include_x(0.0)
            .include_x(1.0)
            .include_y(0.0)
            .include_y(1.0)
            .show(ui, |plot| {
                plot.line(
                    Line::new(
                        "perfect calibration",
                        PlotPoints::new(vec![[0.0, 0.0], [1.0, 1.0]]),
                    )
                    .color(Color32::GRAY),
                );
                for (role, m) in models {
                    let pts: Vec<[f64; 2]> = m
                        .reliability
                        .iter()
                        .filter_map(|b| Some([b.confidence? as f64, b.accuracy? as f64]))
                        .collect();
                    plot.line(
                        Line::new(role.name(), PlotPoints::new(pts.clone()))
                            .color(role_color(*role))
                            .width(super::style::lw(plot.ctx(), 1.5)),
                    );
                    plot.points(
                        Points::new(role.name(), PlotPoints::new(pts))
                            .color(role_color(*role))
                            .radius(3.0),
                    );
                }
            })
            .response,
    );
}

fn confusion_ui(ui: &mut Ui, models: &[(Role, &ModelReport)], names: &[String]) {
    ui.label(
        RichText::new("Confusion matrices on the test set (rows: true class, columns: predicted)")
            .strong(),
    );
    ui.horizontal_wrapped(|ui| {
        for (role, m) in models {
            ui.vertical(|ui| {
                let errors: u32 = m
                    .confusion
                    .iter()
                    .enumerate()
                    .map(|(i, row)| row.iter().sum::<u32>() - row.get(i).copied().unwrap_or(0))
                    .sum();
                ui.colored_label(
                    role_color(*role),
                    format!("{}: {errors} errors", role.name()),
                );
                egui::Grid::new(("confusion", role.name()))
                    .spacing([4.0, 1.0])
                    .show(ui, |ui| {
                        ui.label("");
                        for c in 0..m.confusion.len() {
                            ui.label(
                                RichText::new(names.get(c).map_or("?", String::as_str)).small(),
                            );
                        }
                        ui.end_row();
                        for (i, row) in m.confusion.iter().enumerate() {
                            ui.label(
                                RichText::new(names.get(i).map_or("?", String::as_str)).small(),
                            );
                            for (j, &n) in row.iter().enumerate() {
                                let text = RichText::new(n.to_string()).small().monospace();
                                let text = match (i == j, n) {
                                    (true, _) => text.strong(),
                                    (false, 0) => text.weak(),
                                    (false, _) => text.color(super::style::ERROR),
                                };
                                ui.label(text);
                            }
                            ui.end_row();
                        }
                    });
            });
        }
    });
}
