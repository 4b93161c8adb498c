//! The Sweep tab: the experiment in the editor over a grid of temperatures × weights α for
//! one method, on several seeds, in the background (the same sweep and folder as `distillery
//! sweep`). A heatmap of the mean gain over the baseline fills in cell by cell; clicking a
//! cell shows its runs, one accuracy curve per seed beside that seed's baseline. Pause and
//! Stop act on the student in flight, as for a single run.

use super::command::Command;
use super::sweep_job::{Report, SweepJob};
use crate::config::ranges::{ALPHA, Range, TEMPERATURE};
use crate::config::{Experiment, SoftLoss};
use crate::sweep::Plan;
use crate::sweep::grid::{Cell, Grid, Setting};
use crate::sweep::rows::CellRow;
use crate::sweep::stats::{CellSummary, summarise};
use egui::{Color32, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// The tab's choices, the sweep in flight and what it has reported.
pub struct SweepTab {
    /// The grids as typed, comma-separated.
    pub temperatures: String,
    pub alphas: String,
    pub loss: SoftLoss,
    pub seeds: usize,
    job: Option<SweepJob>,
    /// The grid being swept (or last swept), with the experiment's name and seeds.
    pub grid: Option<Grid>,
    header: Option<String>,
    pub rows: Vec<CellRow>,
    /// Each finished cell's accuracy per epoch, and each seed's baseline.
    curves: Vec<(Cell, Vec<[f64; 2]>)>,
    baseline_curves: BTreeMap<u64, Vec<[f64; 2]>>,
    /// The heatmap cell clicked: indices into the grid's temperatures and alphas.
    pub selected: Option<(usize, usize)>,
    pub done: usize,
    pub todo: usize,
    started: Option<Instant>,
    pub folder: Option<PathBuf>,
    pub error: Option<String>,
    /// Where sweep folders go (`runs/` beside the working directory).
    pub folder_root: PathBuf,
}

impl Default for SweepTab {
    fn default() -> Self {
        SweepTab {
            temperatures: "1, 2, 4, 8, 16".into(),
            alphas: "0.1, 0.5, 0.9".into(),
            loss: SoftLoss::Kl,
            seeds: 3,
            job: None,
            grid: None,
            header: None,
            rows: Vec::new(),
            curves: Vec::new(),
            baseline_curves: BTreeMap::new(),
            selected: None,
            done: 0,
            todo: 0,
            started: None,
            folder: None,
            error: None,
            folder_root: PathBuf::from("runs"),
        }
    }
}

/// Comma-separated numbers, each inside `range`; the message names the list and the value.
pub fn parse_values(text: &str, range: &Range<f64>, what: &str) -> Result<Vec<f64>, String> {
    let values: Vec<f64> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let v: f64 = s
                .parse()
                .map_err(|_| format!("{what}: `{s}` is not a number"))?;
            if range.contains_finite(v) {
                Ok(v)
            } else {
                Err(format!("{what}: {s} is outside {}", range.allowed()))
            }
        })
        .collect::<Result<_, _>>()?;
    if values.is_empty() {
        return Err(format!("{what}: give at least one value"));
    }
    Ok(values)
}

impl SweepTab {
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    pub fn is_paused(&self) -> bool {
        self.job.as_ref().is_some_and(SweepJob::is_paused)
    }

    /// The grid the typed lists give, or what is wrong with them.
    pub fn parsed_grid(&self, exp: &Experiment) -> Result<Grid, String> {
        let temperatures = parse_values(&self.temperatures, &TEMPERATURE, "temperatures")?;
        let alphas = parse_values(&self.alphas, &ALPHA, "weights α")?;
        Ok(Grid::new(
            exp,
            Some(temperatures),
            Some(alphas),
            Some(vec![self.loss]),
            self.seeds,
        ))
    }

    /// Start the sweep on `exp` into a new folder `NAME-sweep-TIMESTAMP` under `folder_root`.
    pub fn start(&mut self, exp: &Experiment) -> Result<(), String> {
        let grid = self.parsed_grid(exp)?;
        let name = crate::cli::out_dir_for(exp, "sweep");
        let out = self.folder_root.join(name.file_name().unwrap_or_default());
        let plan = Plan {
            base: exp.clone(),
            grid: grid.clone(),
            shard: None,
            out: out.clone(),
        };
        let seeds = &grid.seeds;
        *self = SweepTab {
            header: Some(format!(
                "{}, {}: seeds {}–{}, T and α as in the grid, {} teacher{}",
                exp.name,
                self.loss.short(),
                seeds[0],
                seeds[seeds.len() - 1],
                exp.teacher.members.len(),
                match exp.teacher.members.len() {
                    1 => String::new(),
                    _ => format!(
                        "s combined by {}",
                        super::session::combine_name(exp.teacher.combine)
                    ),
                }
            )),
            todo: grid.cells().len(),
            grid: Some(grid),
            job: Some(SweepJob::start(plan, "distillery-sweep")),
            started: Some(Instant::now()),
            folder: Some(out),
            temperatures: std::mem::take(&mut self.temperatures),
            alphas: std::mem::take(&mut self.alphas),
            loss: self.loss,
            seeds: self.seeds,
            folder_root: std::mem::take(&mut self.folder_root),
            ..SweepTab::default()
        };
        Ok(())
    }

    pub fn stop(&self) {
        if let Some(job) = &self.job {
            job.stop();
        }
    }

    pub fn pause(&self, paused: bool) {
        match (&self.job, paused) {
            (Some(job), true) => job.pause(),
            (Some(job), false) => job.resume(),
            (None, _) => {}
        }
    }

    /// Take what the sweep reported since the last frame; true if anything changed.
    pub fn drain(&mut self) -> bool {
        let Some(job) = &self.job else { return false };
        let reports = job.drain();
        let changed = !reports.is_empty();
        for report in reports {
            match report {
                Report::Cell(p) => {
                    self.done = p.done;
                    self.todo = p.todo;
                    if let Some(row) = p.last {
                        if !p.baseline_curve.is_empty() {
                            self.baseline_curves.insert(row.seed, p.baseline_curve);
                        }
                        if let Some(cell) = row.cell() {
                            self.curves.push((cell, p.student_curve));
                        }
                        self.rows.push(row);
                    }
                }
                Report::Done(result) => {
                    self.job = None;
                    if let Err(e) = result {
                        self.error = Some(e);
                    }
                }
            }
        }
        changed
    }

    /// The mean over the seeds finished so far of each setting.
    pub fn summaries(&self) -> Vec<CellSummary> {
        self.grid
            .as_ref()
            .map_or_else(Vec::new, |g| summarise(g, &self.rows))
    }

    fn setting(&self, t: usize, a: usize) -> Option<Setting> {
        let g = self.grid.as_ref()?;
        Some(Setting {
            loss: g.losses[0],
            teacher: g.teachers[0],
            temperature: *g.temperatures.get(t)?,
            alpha: *g.alphas.get(a)?,
        })
    }

    fn eta(&self) -> Option<String> {
        let elapsed = self.started?.elapsed().as_secs_f64();
        (self.done > 0).then(|| {
            let left = elapsed / self.done as f64 * (self.todo - self.done.min(self.todo)) as f64;
            format!("ETA {:.0} s", left)
        })
    }
}

/// The Sweep tab.
pub fn sweep_ui(
    ui: &mut Ui,
    s: &mut SweepTab,
    exp: &Experiment,
    blocked: Option<String>,
    commands: &mut Vec<Command>,
) {
    ui.label(
        RichText::new("Sweep T × α over seeds: the mean gain of the student over the baseline")
            .strong(),
    );
    choices_ui(ui, s, exp, blocked, commands);
    if let Some(header) = &s.header {
        ui.label(RichText::new(header).italics());
    }
    if let Some(e) = &s.error {
        ui.colored_label(super::style::ERROR, e);
    }
    if s.grid.is_none() {
        return;
    }
    let summaries = s.summaries();
    heatmap_ui(ui, s, &summaries);
    if let Some(dir) = &s.folder {
        ui.label(format!("sweep folder: {}", dir.display()));
    }
    if let Some((t, a)) = s.selected {
        cell_runs_ui(ui, s, t, a, &summaries);
    } else {
        ui.label("Click a cell to see its runs, one curve per seed.");
    }
}

fn choices_ui(
    ui: &mut Ui,
    s: &mut SweepTab,
    exp: &Experiment,
    blocked: Option<String>,
    commands: &mut Vec<Command>,
) {
    let idle = !s.is_running();
    egui::Grid::new("sweep-choices").show(ui, |ui| {
        let label = ui.label("Temperatures");
        ui.add_enabled(idle, egui::TextEdit::singleline(&mut s.temperatures))
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Weights α");
        ui.add_enabled(idle, egui::TextEdit::singleline(&mut s.alphas))
            .labelled_by(label.id);
        ui.end_row();
        ui.label("");
        ui.add_enabled_ui(idle, |ui| {
            egui::ComboBox::from_label("method swept")
                .selected_text(s.loss.short())
                .show_ui(ui, |ui| {
                    for loss in SoftLoss::ALL {
                        ui.selectable_value(&mut s.loss, loss, loss.short())
                            .on_hover_text(loss.name());
                    }
                });
        });
        ui.end_row();
        let label = ui.label("Seeds");
        ui.add_enabled(idle, egui::DragValue::new(&mut s.seeds).range(1..=20))
            .labelled_by(label.id);
        ui.end_row();
    });
    let grid = s.parsed_grid(exp);
    if let Err(e) = &grid {
        ui.colored_label(super::style::ERROR, e);
    }
    ui.horizontal(|ui| {
        if s.is_running() {
            let (label, command) = if s.is_paused() {
                ("Resume sweep", Command::ResumeSweep)
            } else {
                ("Pause sweep", Command::PauseSweep)
            };
            if ui.button(label).clicked() {
                commands.push(command);
            }
            if ui.button("Stop sweep").clicked() {
                commands.push(Command::StopSweep);
            }
            let text = match s.eta() {
                Some(eta) => format!("{}/{} cells, {eta}", s.done, s.todo),
                None => format!("{}/{} cells", s.done, s.todo),
            };
            ui.add(egui::ProgressBar::new(s.done as f32 / s.todo.max(1) as f32).text(text));
        } else {
            let why = blocked.or_else(|| grid.as_ref().err().cloned());
            let cells = grid.as_ref().map_or(0, |g| g.cells().len());
            let r = ui.add_enabled(why.is_none(), egui::Button::new("Start sweep"));
            if let Some(why) = why {
                r.on_disabled_hover_text(why);
            } else if r
                .on_hover_text(format!(
                    "{cells} students, one teacher and baseline per seed"
                ))
                .clicked()
            {
                commands.push(Command::StartSweep);
            }
        }
    });
}

/// The summary of the setting at `(temperature, alpha)`, if any seed of it has finished.
fn summary_at(summaries: &[CellSummary], temperature: f64, alpha: f64) -> Option<&CellSummary> {
    summaries.iter().find(|c| {
        c.temperature.to_bits() == temperature.to_bits() && c.alpha.to_bits() == alpha.to_bits()
    })
}

/// Green for a gain, red for a loss, stronger the larger it is against the largest.
fn gain_color(gain: f64, largest: f64) -> Color32 {
    let a = (gain.abs() / largest.max(1e-9)).clamp(0.15, 1.0) as f32;
    if gain >= 0.0 {
        Color32::from_rgb(40, 150, 70).gamma_multiply(a)
    } else {
        Color32::from_rgb(200, 60, 50).gamma_multiply(a)
    }
}

/// A cell's button text: `+3.21 ± 1.10` over `2/3 seeds`, or `0/3 seeds` before any.
pub fn cell_text(summary: Option<&CellSummary>, seeds: usize) -> String {
    match summary.and_then(|c| Some((c, c.gain?))) {
        Some((c, gain)) => format!("{}\n{}/{seeds} seeds", gain.points(), c.seeds),
        None => format!("–\n{}/{seeds} seeds", summary.map_or(0, |c| c.seeds)),
    }
}

fn heatmap_ui(ui: &mut Ui, s: &mut SweepTab, summaries: &[CellSummary]) {
    let Some(grid) = s.grid.clone() else { return };
    let find = |t: usize, a: usize| summary_at(summaries, grid.temperatures[t], grid.alphas[a]);
    let largest = summaries
        .iter()
        .filter_map(|c| c.gain.map(|g| g.mean.abs()))
        .fold(0.0, f64::max);
    ui.label("gain over the baseline in points, mean ± std over the seeds finished (last epoch)");
    egui::Grid::new("sweep-heatmap")
        .spacing([2.0, 2.0])
        .show(ui, |ui| {
            ui.label("α \\ T");
            for t in &grid.temperatures {
                ui.label(RichText::new(format!("T = {t}")).strong());
            }
            ui.end_row();
            for (a, alpha) in grid.alphas.iter().enumerate() {
                ui.label(RichText::new(format!("α = {alpha}")).strong());
                for t in 0..grid.temperatures.len() {
                    let summary = find(t, a);
                    let fill = summary
                        .and_then(|c| c.gain)
                        .map_or(Color32::TRANSPARENT, |g| gain_color(g.mean, largest));
                    let button = egui::Button::new(cell_text(summary, grid.seeds.len()))
                        .fill(fill)
                        .selected(s.selected == Some((t, a)))
                        .min_size(egui::vec2(96.0, 40.0));
                    if ui.add(button).clicked() {
                        s.selected = Some((t, a));
                    }
                }
                ui.end_row();
            }
        });
}

/// The clicked cell: its numbers over seeds, and one curve per seed beside its baseline.
fn cell_runs_ui(ui: &mut Ui, s: &SweepTab, t: usize, a: usize, summaries: &[CellSummary]) {
    let Some(setting) = s.setting(t, a) else {
        return;
    };
    let summary = summary_at(summaries, setting.temperature, setting.alpha);
    let pct = |m: Option<crate::sweep::stats::MeanStd>| m.map_or("–".into(), |m| m.percent());
    ui.label(
        RichText::new(format!(
            "T = {}, α = {}",
            setting.temperature, setting.alpha
        ))
        .strong(),
    );
    if let Some(c) = summary {
        ui.label(format!(
            "student {} % (best epoch {} %), baseline {} %, gain {} points, won {} of {} seeds",
            pct(c.student),
            pct(c.student_best),
            pct(c.baseline),
            c.gain.map_or("–".into(), |g| g.points()),
            c.wins,
            c.seeds
        ));
    }
    let runs: Vec<&(Cell, Vec<[f64; 2]>)> = s
        .curves
        .iter()
        .filter(|(cell, _)| cell.setting().same(&setting))
        .collect();
    if runs.is_empty() {
        ui.label("No seed of this cell has finished yet.");
        return;
    }
    super::plot_export::menu(
        &Plot::new("sweep-cell-runs")
            .height(240.0)
            .legend(Legend::default())
            .x_axis_label("epoch")
            .y_axis_label("test accuracy")
            .show(ui, |plot| {
                for (i, (cell, curve)) in runs.iter().enumerate() {
                    let color = super::style::series_color(i);
                    plot.line(
                        Line::new(
                            format!("student, seed {}", cell.seed),
                            PlotPoints::new(curve.clone()),
                        )
                        .color(color)
                        .width(super::style::lw(plot.ctx(), 1.5)),
                    );
                    if let Some(b) = s.baseline_curves.get(&cell.seed) {
                        plot.line(
                            Line::new(
                                format!("baseline, seed {}", cell.seed),
                                PlotPoints::new(b.clone()),
                            )
                            .color(color)
                            .style(LineStyle::dashed_loose())
                            .width(super::style::lw(plot.ctx(), 1.0)),
                        );
                    }
                }
            })
            .response,
    );
}
