//! The Runs tab's method comparison: the experiment in the editor distilled with several
//! methods on the same seeds, in the background (a sweep over methods, written to a sweep
//! folder like `distillery sweep --losses`), a table of mean ± std and the accuracy curves
//! averaged over seeds, overlaid. The window never trains: it drains the sweep's reports.

use super::command::Command;
use super::style::role_color;
use super::sweep_job::{Report, SweepJob};
use crate::config::{Experiment, SoftLoss};
use crate::sweep::grid::{Grid, TeacherChoice};
use crate::sweep::stats::{CellSummary, MeanStd};
use crate::sweep::{Plan, SweepProgress};
use crate::train::Role;
use egui::{RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The comparison's choices, progress and results.
pub struct Comparison {
    pub losses: Vec<SoftLoss>,
    pub seeds: usize,
    /// For an ensemble teacher: also distil each method from its best member alone.
    pub best_member: bool,
    job: Option<SweepJob>,
    pub done: usize,
    pub todo: usize,
    pub summaries: Vec<CellSummary>,
    /// Per method, each seed's accuracy curve; and each seed's baseline curve.
    pub curves: BTreeMap<String, Vec<Vec<[f64; 2]>>>,
    /// Every finished student, for the ensemble-against-best-member pairing.
    pub rows: Vec<crate::sweep::rows::CellRow>,
    pub baseline_curves: Vec<Vec<[f64; 2]>>,
    pub folder: Option<PathBuf>,
    pub error: Option<String>,
    /// The experiment compared, for the header.
    pub header: Option<String>,
    /// Where comparison folders go (`runs/` beside the working directory).
    pub folder_root: PathBuf,
}

impl Default for Comparison {
    fn default() -> Self {
        Comparison {
            losses: vec![
                SoftLoss::Kl,
                SoftLoss::Dkd,
                SoftLoss::Dist,
                SoftLoss::Standardised,
                SoftLoss::Nkd,
                SoftLoss::TeacherFree,
            ],
            seeds: 3,
            best_member: false,
            job: None,
            done: 0,
            todo: 0,
            summaries: Vec::new(),
            curves: BTreeMap::new(),
            rows: Vec::new(),
            baseline_curves: Vec::new(),
            folder: None,
            error: None,
            header: None,
            folder_root: PathBuf::from("runs"),
        }
    }
}

impl Comparison {
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Start comparing the chosen methods on `exp` over the chosen seeds, into a new folder
    /// named `NAME-compare-TIMESTAMP` under `folder_root`.
    pub fn start(&mut self, exp: &Experiment) {
        let name = crate::cli::out_dir_for(exp, "compare");
        let out = self.folder_root.join(name.file_name().unwrap_or_default());
        let teachers = (self.best_member && exp.teacher.members.len() > 1)
            .then(|| vec![TeacherChoice::Whole, TeacherChoice::BestMember]);
        let grid = Grid::new(exp, None, None, Some(self.losses.clone()), self.seeds)
            .with_teachers(teachers);
        let todo = grid.cells().len();
        let plan = Plan {
            base: exp.clone(),
            grid,
            shard: None,
            out: out.clone(),
        };
        *self = Comparison {
            losses: self.losses.clone(),
            seeds: self.seeds,
            best_member: self.best_member,
            job: Some(SweepJob::start(plan, "distillery-compare")),
            todo,
            folder: Some(out),
            folder_root: self.folder_root.clone(),
            header: Some(format!(
                "{}: T = {}, α = {}, seeds {}–{}",
                exp.name,
                exp.distill.temperature,
                exp.distill.alpha,
                exp.seed,
                exp.seed + self.seeds as u64 - 1
            )),
            ..Comparison::default()
        };
    }

    pub fn stop(&self) {
        if let Some(job) = &self.job {
            job.stop();
        }
    }

    /// Take what the sweep reported since the last frame; true if anything changed.
    pub fn drain(&mut self) -> bool {
        let Some(job) = &self.job else { return false };
        let reports = job.drain();
        let changed = !reports.is_empty();
        for report in reports {
            match report {
                Report::Cell(p) => self.add_cell(*p),
                Report::Done(result) => {
                    self.job = None;
                    match result {
                        Ok(summaries) => self.summaries = summaries,
                        Err(e) => self.error = Some(e),
                    }
                }
            }
        }
        changed
    }

    fn add_cell(&mut self, p: SweepProgress) {
        self.done = p.done;
        self.todo = p.todo;
        if let Some(row) = &p.last {
            let label = crate::sweep::stats::method_label(&row.loss, row.teacher);
            self.curves.entry(label).or_default().push(p.student_curve);
            self.rows.push(row.clone());
        }
        if !p.baseline_curve.is_empty() {
            self.baseline_curves.push(p.baseline_curve);
        }
    }
}

/// Mean over seeds, epoch by epoch (epochs every curve has).
fn mean_curve(curves: &[Vec<[f64; 2]>]) -> Vec<[f64; 2]> {
    let len = curves.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let mean = curves.iter().map(|c| c[i][1]).sum::<f64>() / curves.len() as f64;
            [curves[0][i][0], mean]
        })
        .collect()
}

/// The comparison section of the Runs tab.
pub fn compare_ui(
    ui: &mut Ui,
    c: &mut Comparison,
    members: usize,
    blocked: bool,
    commands: &mut Vec<Command>,
) {
    ui.label(RichText::new("Compare methods on this experiment").strong());
    ui.horizontal_wrapped(|ui| {
        for loss in SoftLoss::ALL {
            let mut on = c.losses.contains(&loss);
            let r = ui
                .add_enabled(!c.is_running(), egui::Checkbox::new(&mut on, loss.short()))
                .on_hover_text(loss.name());
            if r.changed() {
                c.losses.retain(|l| *l != loss);
                if on {
                    c.losses.push(loss);
                }
                c.losses
                    .sort_by_key(|l| SoftLoss::ALL.iter().position(|a| a == l));
            }
        }
    });
    const BEST: &str = "and each method from the ensemble's best member alone";
    let r = ui
        .add_enabled(
            !c.is_running() && members > 1,
            egui::Checkbox::new(&mut c.best_member, BEST),
        )
        .on_disabled_hover_text("needs an ensemble teacher (more than one member)");
    crate::app::lesson_steps::highlight(ui, &r, BEST);
    ui.horizontal(|ui| {
        let label = ui.label("Seeds");
        ui.add_enabled(
            !c.is_running(),
            egui::DragValue::new(&mut c.seeds).range(1..=20),
        )
        .labelled_by(label.id);
        if c.is_running() {
            if ui.button("Stop comparison").clicked() {
                commands.push(Command::StopComparison);
            }
            ui.add(
                egui::ProgressBar::new(c.done as f32 / c.todo.max(1) as f32)
                    .text(format!("{}/{} students", c.done, c.todo)),
            );
        } else {
            let r = ui.add_enabled(
                !blocked && !c.losses.is_empty(),
                egui::Button::new("Run comparison"),
            );
            crate::app::lesson_steps::highlight(ui, &r, "Run comparison");
            if r.on_disabled_hover_text("needs at least one method, and no run training")
                .clicked()
            {
                commands.push(Command::StartComparison);
            }
        }
    });
    if let Some(header) = &c.header {
        ui.label(RichText::new(header).italics());
    }
    if let Some(e) = &c.error {
        ui.colored_label(super::style::ERROR, e);
    }
    if !c.summaries.is_empty() {
        summary_table(ui, &c.summaries);
    }
    for line in crate::sweep::stats::whole_against_best_member(&c.rows) {
        ui.label(line);
    }
    if let Some(dir) = &c.folder {
        ui.label(format!("sweep folder: {}", dir.display()));
    }
    if c.curves.is_empty() {
        return;
    }
    super::plot_export::menu(
        &Plot::new("compare-accuracy")
            .height(220.0)
            .legend(Legend::default())
            .x_axis_label("epoch")
            .y_axis_label("test accuracy, mean over seeds")
            .show(ui, |plot| {
                if !c.baseline_curves.is_empty() {
                    plot.line(
                        Line::new("baseline", PlotPoints::new(mean_curve(&c.baseline_curves)))
                            .color(role_color(Role::Baseline))
                            .style(LineStyle::dashed_loose())
                            .width(super::style::lw(plot.ctx(), 1.0)),
                    );
                }
                for (i, (loss, curves)) in c.curves.iter().enumerate() {
                    plot.line(
                        Line::new(
                            format!("{loss} ({} seeds)", curves.len()),
                            PlotPoints::new(mean_curve(curves)),
                        )
                        .color(super::style::series_color(i))
                        .width(super::style::lw(plot.ctx(), 1.5)),
                    );
                }
            })
            .response,
    );
}

fn summary_table(ui: &mut Ui, summaries: &[CellSummary]) {
    let pct = |m: &Option<MeanStd>| m.map_or("–".to_string(), |m| m.percent());
    egui::Grid::new("compare-table")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "method",
                "student %",
                "best epoch %",
                "baseline %",
                "gain (points)",
                "wins",
                "ECE",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for s in summaries {
                ui.label(s.method_label());
                ui.label(pct(&s.student));
                ui.label(pct(&s.student_best));
                ui.label(pct(&s.baseline));
                ui.label(s.gain.map_or("–".into(), |g| g.points()));
                ui.label(format!("{}/{}", s.wins, s.seeds));
                ui.label(s.ece.map_or("–".into(), |e| format!("{:.3}", e.mean)));
                ui.end_row();
            }
        });
}
