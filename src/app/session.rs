//! The window's side of a run: the engine's handle, and everything its events told us,
//! arranged for drawing. The window never trains; it only drains events into a [`RunView`].

use super::series::Series;
use crate::config::{Combine, Experiment};
use crate::train::{
    self, EpochMetrics, Event, Notice, NoticeKind, Outcome, Phase, RegionGrid, Role, RunFailure,
    SetupInfo, StepMetrics, Summary, TestLogits, TrainingHandle,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which loss a step series holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossKind {
    Soft,
    Hard,
    Total,
    /// The method's own terms (`SoftLoss::term_names`): TCKD and NCKD, the learned T, …
    TermA,
    TermB,
}

/// Everything measured in one run, as the plots and tabs need it.
#[derive(Debug, Default)]
pub struct RunView {
    /// Loss per step, x in (fractional) epochs of the phase.
    pub losses: HashMap<(Phase, LossKind), Series>,
    pub epochs: Vec<EpochMetrics>,
    /// `(epoch position, T, α)` where T or α changed mid-run.
    pub weight_changes: Vec<(f64, f32, f32)>,
    pub steps_per_epoch: HashMap<Phase, usize>,
    pub logits: HashMap<Role, Arc<TestLogits>>,
    pub regions: HashMap<Role, Arc<RegionGrid>>,
    /// Bumped whenever regions change, so cached textures know to rebuild.
    pub regions_version: u64,
    /// Every model's regions as they stood after each epoch, to scrub or replay.
    pub region_frames: Vec<RegionFrame>,
    pub setup: Option<SetupInfo>,
    pub summary: Option<Summary>,
    /// The temperature of the latest student step of a method with terms of its own: for CTKD
    /// the learned one.
    pub learned_temperature: Option<f32>,
}

/// Each model's decision regions after one epoch (the grids are shared, not copied).
#[derive(Debug, Clone, Default)]
pub struct RegionFrame {
    /// `student epoch 12`.
    pub label: String,
    /// That epoch, within its phase (0 before any).
    pub epoch: usize,
    pub regions: HashMap<Role, Arc<RegionGrid>>,
}

impl RunView {
    fn epoch_position(&self, phase: Phase, step: usize) -> f64 {
        let spe = self
            .steps_per_epoch
            .get(&phase)
            .copied()
            .unwrap_or(1)
            .max(1);
        step as f64 / spe as f64
    }

    fn add_steps(&mut self, steps: &[StepMetrics]) {
        for s in steps {
            let x = self.epoch_position(s.phase, s.step);
            if s.phase == Phase::Student && s.terms[0].is_finite() {
                self.learned_temperature = Some(s.temperature);
            }
            // Phases without a soft term have one loss: their total is their hard loss.
            let distilling = !s.soft.is_nan();
            for (kind, value) in [
                (LossKind::Soft, s.soft),
                (LossKind::Hard, s.hard),
                (LossKind::Total, s.total),
                (LossKind::TermA, s.terms[0]),
                (LossKind::TermB, s.terms[1]),
            ] {
                let is_term = matches!(kind, LossKind::TermA | LossKind::TermB);
                if is_term && value.is_nan() {
                    continue;
                }
                if distilling || kind == LossKind::Total {
                    self.losses
                        .entry((s.phase, kind))
                        .or_default()
                        .push(x, value as f64);
                }
            }
        }
    }

    /// Rebuild a view from a finished run's history (a run folder opened from disk).
    pub fn from_history(history: &train::History, summary: Option<Summary>) -> Self {
        let mut view = RunView::default();
        for s in &history.steps {
            let spe = view.steps_per_epoch.entry(s.phase).or_insert(1);
            if s.epoch == 1 {
                *spe = (*spe).max(s.step);
            }
        }
        view.add_steps(&history.steps);
        view.epochs = history.epochs.clone();
        view.summary = summary;
        view
    }

    /// Test accuracy per epoch of one model, as plot points (epoch, accuracy).
    pub fn accuracy_points(&self, role: Role) -> Vec<[f64; 2]> {
        self.epochs
            .iter()
            .filter(|e| {
                e.phase.role() == role
                    && !matches!(e.phase, Phase::Teacher { member, .. } if member > 0)
            })
            .map(|e| [e.epoch as f64, e.test_accuracy as f64])
            .collect()
    }
}

/// Where the run stands, for the top bar.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub phase: Option<Phase>,
    pub epochs: usize,
    pub steps_per_epoch: usize,
    pub step: usize,
    pub phase_started: Option<Instant>,
    /// Phases finished and phases in all, for the overall fraction.
    pub phases_done: usize,
    pub phases_total: usize,
}

impl Progress {
    /// Back to the first phase, for a run that starts again (on the CPU after a GPU failure).
    pub fn restart(&mut self) {
        *self = Progress {
            phases_total: self.phases_total,
            ..Progress::default()
        };
    }

    pub fn phase_fraction(&self) -> f32 {
        let total = self.epochs * self.steps_per_epoch;
        if total == 0 {
            0.0
        } else {
            self.step as f32 / total as f32
        }
    }

    pub fn overall_fraction(&self) -> f32 {
        if self.phases_total == 0 {
            return 0.0;
        }
        (self.phases_done as f32 + self.phase_fraction()) / self.phases_total as f32
    }

    pub fn epoch(&self) -> usize {
        self.step
            .saturating_sub(1)
            .checked_div(self.steps_per_epoch)
            .map_or(0, |e| (e + 1).min(self.epochs))
    }

    /// Time left in this phase, from its pace so far.
    pub fn eta(&self) -> Option<Duration> {
        let started = self.phase_started?;
        let f = self.phase_fraction();
        if f <= 0.0 {
            return None;
        }
        let elapsed = started.elapsed().as_secs_f32();
        Some(Duration::from_secs_f32(elapsed * (1.0 - f) / f))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Running,
    Paused,
    /// Done (completed, stopped or failed part-way): the outcome is in the view.
    Finished,
    /// Could not start at all.
    Failed(String),
}

/// A run the window started.
pub struct LiveRun {
    handle: Option<TrainingHandle>,
    pub experiment: Experiment,
    pub view: RunView,
    pub state: RunState,
    pub progress: Progress,
    /// The finished outcome (with weights), once the engine sent it.
    pub outcome: Option<Box<Outcome>>,
}

/// What draining found that the app must act on.
#[derive(Debug, Default)]
pub struct Drained {
    pub notices: Vec<Notice>,
    /// What ended the run early, when it finished that way.
    pub failure: Option<RunFailure>,
    pub finished: bool,
    pub events: usize,
}

impl LiveRun {
    pub fn start(experiment: Experiment) -> Self {
        let phases_total = experiment.teacher.members.len()
            * usize::from(experiment.teacher.weights.is_none())
            // The engine skips the baseline on an unlabeled transfer set (no hard labels).
            + usize::from(experiment.train.baseline && experiment.transfer.labeled)
            + 1;
        Self {
            // Training may use every core; it runs below the window so drawing stays smooth.
            handle: Some(super::priority::spawn_below({
                let experiment = experiment.clone();
                move || train::spawn(experiment)
            })),
            experiment,
            view: RunView::default(),
            state: RunState::Running,
            progress: Progress {
                phases_total,
                ..Progress::default()
            },
            outcome: None,
        }
    }

    /// The run's temperature now: the last one set while it trained, else its experiment's.
    pub fn temperature(&self) -> f32 {
        self.view
            .weight_changes
            .last()
            .map_or(self.experiment.distill.temperature as f32, |c| c.1)
    }

    /// The run's soft weight α now, likewise.
    pub fn alpha(&self) -> f32 {
        self.view
            .weight_changes
            .last()
            .map_or(self.experiment.distill.alpha as f32, |c| c.2)
    }

    /// The run's class names: those the engine reported, else none yet.
    pub fn class_names(&self) -> Option<&[String]> {
        self.view
            .setup
            .as_ref()
            .map(|s| s.data.class_names.as_slice())
    }

    /// One line saying which run the views show: its name, T, α, seed and ensemble rule.
    pub fn header(&self) -> String {
        let exp = &self.experiment;
        let teacher = match exp.teacher.members.len() {
            1 => "one teacher".to_string(),
            n => format!(
                "an ensemble of {n} teachers combined by {}",
                combine_name(exp.teacher.combine)
            ),
        };
        let d = &exp.distill;
        let method = if d.loss == crate::config::SoftLoss::Kl {
            String::new()
        } else {
            format!("{}, ", d.loss.name())
        };
        let t = match (d.loss, self.view.learned_temperature) {
            (crate::config::SoftLoss::Ctkd, Some(t)) => format!("T learned, {t:.2} now"),
            (crate::config::SoftLoss::Ctkd, None) => "T learned".to_string(),
            _ => format!("T = {}", self.temperature()),
        };
        let weights = match d.weighting {
            crate::config::Weighting::Alpha => format!("α = {}", self.alpha()),
            crate::config::Weighting::Fixed { soft, hard } => {
                format!("weights {soft} (soft) and {hard} (hard)")
            }
        };
        format!(
            "Run \u{201c}{}\u{201d}: {method}{t}, {weights}, seed {}, {teacher}",
            exp.name, exp.seed
        )
    }

    pub fn is_active(&self) -> bool {
        matches!(self.state, RunState::Running | RunState::Paused)
    }

    pub fn pause(&mut self) {
        if let Some(h) = &self.handle {
            h.control.pause();
            self.state = RunState::Paused;
        }
    }

    pub fn resume(&mut self) {
        if let Some(h) = &self.handle {
            h.control.resume();
            self.state = RunState::Running;
        }
    }

    pub fn stop(&mut self) {
        if let Some(h) = &self.handle {
            h.control.stop();
        }
    }

    /// Pass new T and α to the running student phase.
    pub fn set_temperature_alpha(&self, temperature: f64, alpha: f64) {
        if let Some(h) = &self.handle {
            h.control.set_temperature_alpha(temperature, alpha);
        }
    }

    /// Take events for at most `budget`, so a flood of events never stalls a frame.
    pub fn drain(&mut self, budget: Duration) -> Drained {
        let deadline = Instant::now() + budget;
        let mut drained = Drained::default();
        while let Some(handle) = &self.handle {
            match handle.events.try_recv() {
                Ok(event) => {
                    drained.events += 1;
                    self.apply(event, &mut drained);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    if self.is_active() {
                        let why = "the training thread ended unexpectedly";
                        self.state = RunState::Failed(why.into());
                        drained
                            .notices
                            .push(Notice::new(NoticeKind::StartFailed, why));
                        drained.finished = true;
                    }
                    self.handle = None;
                    break;
                }
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        drained
    }

    fn apply(&mut self, event: Event, drained: &mut Drained) {
        match event {
            Event::Setup(info) => self.view.setup = Some(*info),
            Event::Notice(notice) => {
                match notice.kind {
                    NoticeKind::StartFailed => {
                        self.state = RunState::Failed(notice.text.clone());
                        drained.finished = true;
                    }
                    // The engine starts again from nothing: so do the curves.
                    NoticeKind::RetryOnCpu => {
                        self.view = RunView::default();
                        self.progress.restart();
                    }
                    _ => {}
                }
                drained.notices.push(notice);
            }
            Event::PhaseStarted {
                phase,
                epochs,
                steps_per_epoch,
            } => {
                self.view.steps_per_epoch.insert(phase, steps_per_epoch);
                self.progress.phase = Some(phase);
                self.progress.epochs = epochs;
                self.progress.steps_per_epoch = steps_per_epoch;
                self.progress.step = 0;
                self.progress.phase_started = Some(Instant::now());
            }
            Event::Steps(steps) => {
                if let Some(last) = steps.last() {
                    self.progress.step = last.step;
                }
                self.view.add_steps(&steps);
            }
            Event::Epoch(e) => self.view.epochs.push(e),
            Event::WeightsChanged {
                step,
                temperature,
                alpha,
            } => {
                let x = self.view.epoch_position(Phase::Student, step);
                self.view.weight_changes.push((x, temperature, alpha));
            }
            Event::Logits(l) => {
                self.view.logits.insert(l.role, l);
            }
            Event::Regions(r) => {
                self.view.regions.insert(r.role, r);
                self.view.regions_version += 1;
                // The epoch's measurements arrive just before its regions.
                let last = self.view.epochs.last();
                let label = last.map_or_else(String::new, |e| {
                    format!("{} epoch {}", e.phase.name(), e.epoch)
                });
                self.view.region_frames.push(RegionFrame {
                    label,
                    epoch: last.map_or(0, |e| e.epoch),
                    regions: self.view.regions.clone(),
                });
            }
            Event::PhaseFinished { .. } => self.progress.phases_done += 1,
            Event::Finished(outcome) => {
                self.view.summary = Some(outcome.summary.clone());
                drained.failure = outcome.summary.error.clone();
                self.progress.phases_done = self.progress.phases_total;
                self.outcome = Some(outcome);
                self.state = RunState::Finished;
                drained.finished = true;
            }
        }
    }
}

/// An ensemble rule in words.
pub fn combine_name(combine: Combine) -> &'static str {
    match combine {
        Combine::MeanProbabilities => "the mean of their probabilities",
        Combine::MeanLogits => "the mean of their logits",
    }
}

impl Drop for LiveRun {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop_and_join();
        }
    }
}
