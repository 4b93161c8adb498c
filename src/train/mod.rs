//! The training engine: teacher, baseline and distilled student on a background thread.
//!
//! [`spawn`] starts a run and hands back its [`TrainingHandle`]: a receiver of typed
//! [`Event`]s and a [`Control`] for pause, resume, stop and live T/α. [`run_blocking`] runs
//! the same loop on the calling thread (tests, the CLI's core).
//!
//! The engine is split by job: [`setup`] (validation, data, device, memory, models and saved
//! weights, all checked before anything trains), `phases` (teacher, baseline and student as
//! reusable pieces), `step` (the step loop, its loss window and read-backs), `publish`
//! (epoch evaluation, logits, decision regions) and `optim` (the optimiser).

pub mod allocator;
pub mod bias;
mod control;
pub mod device;
mod eval;
mod events;
pub mod fused_adam;
mod learned_t;
pub mod memory;
mod optim;
mod phases;
mod pool;
mod publish;
pub mod setup;
mod soft_cache;
mod step;
pub mod subnormal;
mod summary;
pub mod sweep;

pub use control::{Control, Flow};
pub use device::{DeviceInfo, limit_cpu_threads};
pub use eval::{
    ECE_BINS, Evaluation, GRADIENT_BATCH, ReliabilityBin, calibration, gradient_comparison,
};
pub use events::*;
pub use publish::REGION_RESOLUTION;
pub use setup::run_experiment;
pub use summary::{EnsembleReport, FailureKind, ModelReport, PhaseStatus, RunFailure, Summary};

use crate::config::Experiment;
use crate::model::Net;
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;

/// Everything a run produced, also when it stopped or failed part-way.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    pub history: History,
    /// Trained (or loaded) teacher members; empty if the teacher never finished.
    pub teacher: Vec<Net>,
    pub baseline: Option<Net>,
    pub student: Option<Net>,
    /// The final test-set logits of each model, for the probability views.
    pub logits: Vec<std::sync::Arc<TestLogits>>,
}

/// The measurements of a run, in the order they were taken.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub steps: Vec<StepMetrics>,
    pub epochs: Vec<EpochMetrics>,
    /// `(phase step, T, α)` whenever T or α changed during the student phase.
    pub weight_changes: Vec<(usize, f32, f32)>,
}

/// Why a run could not start. Failures after training began end in an [`Outcome`] instead.
/// Every variant but [`RunError::Device`] is bad input: nothing trained, and the command
/// line exits with 2 (see [`RunError::is_bad_input`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Settings out of range: every problem, listed.
    #[error("{0}")]
    Invalid(String),
    /// The data could not be read, split or turned into a transfer set.
    #[error("{0}")]
    Data(String),
    /// An architecture does not fit the data (a CNN on non-images, or too deep for them).
    #[error("{0}")]
    Model(String),
    /// Saved teacher weights are missing, unreadable, or of another architecture.
    #[error("{0}")]
    TeacherWeights(TeacherWeightsError),
    /// The run would not fit in memory, or in the largest buffer of the GPU asked for.
    #[error("{0}")]
    TooLarge(String),
    /// The device could not be used, or the engine failed on it.
    #[error("{0}")]
    Device(String),
}

impl RunError {
    /// True for every problem with the experiment or its files (not with the machine).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, RunError::Device(_))
    }
}

/// Saved teacher weights that cannot be used, with the file and the member they were for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TeacherWeightsError {
    pub path: std::path::PathBuf,
    pub member: usize,
    pub problem: WeightsProblem,
    /// The whole explanation, naming the file; burn's per-tensor findings one per line.
    pub message: String,
}

/// What is wrong with a teacher weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsProblem {
    /// No `teacher-M.bpk` for a member the preset lists.
    Missing,
    /// Not a readable burn weights file (truncated, damaged, or something else).
    Unreadable,
    /// Readable, but its tensors do not match the member's architecture.
    WrongArchitecture,
}

impl Clone for Outcome {
    fn clone(&self) -> Self {
        Outcome {
            summary: self.summary.clone(),
            history: self.history.clone(),
            teacher: self.teacher.clone(),
            baseline: self.baseline.clone(),
            student: self.student.clone(),
            logits: self.logits.clone(),
        }
    }
}

/// A run in progress on its own thread.
pub struct TrainingHandle {
    pub events: Receiver<Event>,
    pub control: Control,
    thread: Option<JoinHandle<()>>,
}

impl TrainingHandle {
    /// Whether the training thread has ended (its last event may still be queued).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stop the run and wait for its thread.
    pub fn stop_and_join(mut self) {
        self.control.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for TrainingHandle {
    fn drop(&mut self) {
        // A dropped handle must not leave a thread training for nobody.
        self.control.stop();
    }
}

/// Start `experiment` on a background thread. The last event is always `Finished`, or a
/// `Notice` of kind [`NoticeKind::StartFailed`] when the run could not start.
pub fn spawn(experiment: Experiment) -> TrainingHandle {
    let (tx, rx) = channel();
    let control = Control::new();
    let thread_control = control.clone();
    let thread = std::thread::Builder::new()
        .name("distillery-train".into())
        .spawn(move || {
            let send = |e: Event| {
                let _ = tx.send(e);
            };
            match run_blocking(&experiment, &thread_control, &send) {
                Ok(outcome) => send(Event::Finished(Box::new(outcome))),
                Err(err) => send(Event::Notice(Notice::new(
                    NoticeKind::StartFailed,
                    format!("the run could not start: {err}"),
                ))),
            }
        })
        .expect("the OS can start a thread");
    TrainingHandle {
        events: rx,
        control,
        thread: Some(thread),
    }
}

/// Run on this thread. A panic inside the engine (a device fault, say) becomes an error
/// rather than taking the caller down; when the GPU was picked automatically and fails
/// (lost, out of memory), the run starts again on the CPU with a notice. The second attempt
/// starts from nothing: a fresh history, and listeners are told to drop the first one's.
pub fn run_blocking(
    experiment: &Experiment,
    control: &Control,
    sink: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, RunError> {
    run_with_fallback(experiment, control, sink, &|exp, control| {
        retry_on_cpu(exp.device, device::auto_uses_gpu(), control)
    })
}

/// [`run_blocking`] with the decision whether a device failure is retried on the CPU given.
fn run_with_fallback(
    experiment: &Experiment,
    control: &Control,
    sink: &(dyn Fn(Event) + Sync),
    retry: &dyn Fn(&Experiment, &Control) -> bool,
) -> Result<Outcome, RunError> {
    match run_catching(experiment, control, sink) {
        Err(RunError::Device(why)) if retry(experiment, control) => {
            sink(Event::Notice(Notice::new(
                NoticeKind::RetryOnCpu,
                format!("{why}; training again on the CPU"),
            )));
            let on_cpu = Experiment {
                device: crate::config::DeviceChoice::Cpu,
                ..experiment.clone()
            };
            run_catching(&on_cpu, control, sink)
        }
        other => other,
    }
}

/// A failed device is worth a second try on the CPU only when nobody asked for the GPU
/// explicitly, the GPU was in use, and the user has not stopped the run.
fn retry_on_cpu(choice: crate::config::DeviceChoice, gpu_in_use: bool, control: &Control) -> bool {
    choice == crate::config::DeviceChoice::Auto && gpu_in_use && !control.is_stopped()
}

fn run_catching(
    experiment: &Experiment,
    control: &Control,
    sink: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_experiment(experiment, control, sink)
    }))
    .unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown cause".into());
        Err(RunError::Device(format!(
            "the training engine failed: {why}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DeviceChoice;

    #[test]
    fn only_an_automatic_gpu_falls_back_to_the_cpu() {
        let c = Control::new();
        assert!(retry_on_cpu(DeviceChoice::Auto, true, &c));
        assert!(
            !retry_on_cpu(DeviceChoice::Gpu, true, &c),
            "an explicit GPU request fails clearly"
        );
        assert!(
            !retry_on_cpu(DeviceChoice::Auto, false, &c),
            "a CPU failure is not retried"
        );
        assert!(!retry_on_cpu(DeviceChoice::Cpu, false, &c));
        c.stop();
        assert!(
            !retry_on_cpu(DeviceChoice::Auto, true, &c),
            "a stopped run stays stopped"
        );
    }

    #[test]
    fn a_panic_in_the_engine_becomes_an_error() {
        let exp = Experiment::default();
        let control = Control::new();
        let sink = |e: Event| {
            if let Event::Setup(_) = e {
                panic!("simulated device loss");
            }
        };
        let Err(RunError::Device(why)) = run_catching(
            &Experiment {
                device: DeviceChoice::Cpu,
                ..exp
            },
            &control,
            &sink,
        ) else {
            panic!("expected a device error");
        };
        assert!(why.contains("simulated device loss"), "{why}");
    }

    /// The default experiment, cut to a few quick epochs on the CPU.
    fn quick() -> Experiment {
        let mut exp = Experiment {
            device: DeviceChoice::Cpu,
            ..Experiment::default()
        };
        exp.teacher.epochs = 2;
        exp.train.epochs = 2;
        exp
    }

    #[test]
    fn a_retry_on_the_cpu_starts_from_a_fresh_history() {
        let exp = quick();
        let control = Control::new();
        let failed_once = std::sync::atomic::AtomicBool::new(false);
        let events = std::sync::Mutex::new(Vec::new());
        // The first attempt loses its "GPU" after some steps were recorded.
        let sink = |e: Event| {
            let steps = matches!(&e, Event::Steps(_));
            events.lock().unwrap().push(e);
            if steps && !failed_once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                panic!("simulated device loss");
            }
        };
        let outcome = run_with_fallback(&exp, &control, &sink, &|_, _| true).unwrap();
        let events = events.into_inner().unwrap();
        let retries: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Event::Notice(n) if n.kind == NoticeKind::RetryOnCpu))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(retries.len(), 1, "one retry notice");
        let Event::Notice(notice) = &events[retries[0]] else {
            unreachable!()
        };
        assert_eq!(notice.severity, Severity::Warning);
        assert!(
            notice.text.contains("simulated device loss"),
            "{}",
            notice.text
        );
        // The outcome holds the second attempt alone: exactly the steps it sent.
        let second: Vec<(Phase, usize)> = events[retries[0]..]
            .iter()
            .filter_map(|e| match e {
                Event::Steps(v) => Some(v.iter().map(|s| (s.phase, s.step)).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        let kept: Vec<(Phase, usize)> = outcome
            .history
            .steps
            .iter()
            .map(|s| (s.phase, s.step))
            .collect();
        assert_eq!(kept, second);
        assert_eq!(kept[0], (Phase::Teacher { member: 0, of: 1 }, 1));
        let teacher_epochs = outcome
            .history
            .epochs
            .iter()
            .filter(|e| e.phase.role() == Role::Teacher)
            .count();
        assert_eq!(teacher_epochs, 2, "{:?}", outcome.history.epochs);
        assert_eq!(outcome.summary.error, None);
    }

    #[test]
    fn a_diverged_baseline_does_not_skip_the_student() {
        let exp = quick();
        step::DIVERGE_IN.set(Some(Phase::Baseline));
        let outcome = run_blocking(&exp, &Control::new(), &|_| {});
        step::DIVERGE_IN.set(None);
        let s = outcome.unwrap().summary;
        assert_eq!(s.baseline.as_ref().unwrap().status, PhaseStatus::Diverged);
        let student = s.student.as_ref().unwrap();
        assert_eq!(student.status, PhaseStatus::Completed, "{student:?}");
        assert_eq!(student.epochs_completed, 2);
        assert!(student.test_accuracy.is_some(), "the student is measured");
        // The run still failed part-way: the baseline's divergence is what it reports.
        let failure = s.error.expect("the baseline's divergence is kept");
        assert_eq!(failure.kind, FailureKind::Diverged);
        assert_eq!(failure.phase, Some(Phase::Baseline));
    }
}
