//! The Runs tab: every finished or stopped run of this session (and run folders opened from
//! disk) in a table, with the selected runs' accuracy curves overlaid.

use super::command::Command;
use super::session::RunView;
use super::style::role_color;
use super::widgets::duration;
use crate::config::Experiment;
use crate::train::{Outcome, Role};
use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};
use std::path::PathBuf;

pub struct RunRecord {
    pub experiment: Experiment,
    pub view: RunView,
    /// Step and epoch metrics, for CSV export.
    pub history: crate::train::History,
    /// The models, for runs trained in this session.
    pub outcome: Option<Box<Outcome>>,
    /// Where the run is on disk, if it is.
    pub dir: Option<PathBuf>,
    pub selected: bool,
}

impl RunRecord {
    fn status(&self) -> &'static str {
        match &self.view.summary {
            Some(s) if s.error.is_some() => "failed",
            Some(s) if s.stopped => "stopped",
            Some(_) => "done",
            None => "?",
        }
    }
}

fn acc(r: &RunRecord, role: Role) -> Option<f32> {
    let s = r.view.summary.as_ref()?;
    match role {
        Role::Teacher => s.teacher.test_accuracy,
        Role::Baseline => s.baseline.as_ref()?.test_accuracy,
        Role::Student => s.student.as_ref()?.test_accuracy,
    }
}

fn fmt_acc(v: Option<f32>) -> String {
    v.map_or_else(|| "–".to_string(), |a| format!("{:.2}%", a * 100.0))
}

pub fn runs_ui(ui: &mut Ui, runs: &mut [RunRecord], commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if ui.button("Open run folder…").clicked() {
            commands.push(Command::OpenRunDialog);
        }
        if ui
            .button("Export plot as PNG…")
            .on_hover_text("saves the plot area of this tab")
            .clicked()
        {
            commands.push(Command::ExportPlotPng);
        }
    });
    if runs.is_empty() {
        ui.label("Finished and stopped runs of this session are listed here.");
        return;
    }
    let table_height = (ui.available_height() * 0.45).max(120.0);
    ui.push_id("runs-table", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .max_scroll_height(table_height)
            .column(Column::auto())
            .column(Column::auto())
            .column(Column::auto().at_least(120.0))
            .columns(Column::auto(), 9)
            .column(Column::remainder())
            .header(20.0, |mut header| {
                for h in [
                    "show",
                    "#",
                    "experiment",
                    "T",
                    "α",
                    "loss",
                    "teacher",
                    "baseline",
                    "student",
                    "gain",
                    "time",
                    "status",
                    "",
                ] {
                    header.col(|ui| {
                        ui.label(RichText::new(h).strong());
                    });
                }
            })
            .body(|mut body| {
                for (i, run) in runs.iter_mut().enumerate() {
                    body.row(20.0, |mut row| {
                        let d = &run.experiment.distill;
                        row.col(|ui| {
                            ui.checkbox(&mut run.selected, "")
                                .on_hover_text("overlay this run's curves");
                        });
                        row.col(|ui| {
                            ui.label(format!("{}", i + 1));
                        });
                        row.col(|ui| {
                            ui.label(&run.experiment.name).on_hover_text(format!(
                                "{}\nteacher {} to student {}",
                                run.experiment.data.source.label(),
                                run.experiment
                                    .teacher
                                    .members
                                    .first()
                                    .map_or_else(|| "(none)".into(), |m| m.short_name()),
                                run.experiment.student.short_name()
                            ));
                        });
                        row.col(|ui| {
                            ui.label(format!("{}", d.temperature));
                        });
                        row.col(|ui| {
                            ui.label(format!("{}", d.alpha));
                        });
                        row.col(|ui| {
                            ui.label(d.loss.name());
                        });
                        for role in Role::ALL {
                            row.col(|ui| {
                                ui.label(fmt_acc(acc(run, role)));
                            });
                        }
                        row.col(|ui| {
                            let gain = run
                                .view
                                .summary
                                .as_ref()
                                .and_then(|s| s.distillation_gain());
                            ui.label(gain.map_or("–".into(), |g| format!("{:+.2}", g * 100.0)));
                        });
                        row.col(|ui| {
                            let secs = run.view.summary.as_ref().map_or(0.0, |s| s.wall_seconds);
                            ui.label(duration(secs));
                        });
                        row.col(|ui| {
                            ui.label(run.status());
                        });
                        row.col(|ui| {
                            if ui
                                .small_button("CSV…")
                                .on_hover_text("export the step metrics")
                                .clicked()
                            {
                                commands.push(Command::ExportRunCsv(i));
                            }
                            if run.outcome.is_some()
                                && ui
                                    .small_button("Save folder…")
                                    .on_hover_text("config, metrics, summary and weights")
                                    .clicked()
                            {
                                commands.push(Command::SaveRunFolder(i));
                            }
                        });
                    });
                }
            });
    });
    overlay_ui(ui, runs);
}

fn overlay_ui(ui: &mut Ui, runs: &[RunRecord]) {
    ui.label("Test accuracy per epoch of the selected runs (student solid, baseline dashed)");
    super::plot_export::menu(
        &Plot::new("runs-overlay")
            .legend(Legend::default())
            .x_axis_label("epoch")
            .y_axis_label("test accuracy")
            .label_formatter(|hover| {
                super::curves::hover_label(hover, |x, y| format!("epoch {x:.0}\naccuracy {y:.4}"))
            })
            .show(ui, |plot| {
                for (i, run) in runs.iter().enumerate().filter(|(_, r)| r.selected) {
                    let hue = egui::ecolor::Hsva::new((i as f32 * 0.17) % 1.0, 0.7, 0.9, 1.0);
                    for (role, style) in [
                        (Role::Student, LineStyle::Solid),
                        (Role::Baseline, LineStyle::dashed_dense()),
                    ] {
                        let pts = run.view.accuracy_points(role);
                        if pts.is_empty() {
                            continue;
                        }
                        plot.line(
                            Line::new(
                                format!("#{} {} {}", i + 1, run.experiment.name, role.name()),
                                PlotPoints::new(pts),
                            )
                            .color(if runs.len() == 1 {
                                role_color(role)
                            } else {
                                hue.into()
                            })
                            .style(style)
                            .width(super::style::lw(plot.ctx(), 2.0)),
                        );
                    }
                }
            })
            .response,
    );
}
