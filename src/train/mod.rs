//! The training engine: teacher, baseline and distilled student on a background thread.
//!
//! [`spawn`] starts a run and hands back its [`TrainingHandle`]: a receiver of typed
//! [`Event`]s and a [`Control`] for pause, resume, stop and live T/α. [`run_blocking`] runs
//! the same loop on the calling thread (tests, the CLI's core).

mod control;
pub mod device;
mod engine;
mod eval;
mod events;
pub mod memory;
mod summary;

pub use control::{Control, Flow};
pub use device::{DeviceInfo, limit_cpu_threads};
pub use engine::run_experiment;
pub use eval::Evaluation;
pub use events::*;
pub use summary::{FailureKind, ModelReport, PhaseStatus, RunFailure, Summary};

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
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The experiment or its data is unusable; nothing was trained.
    #[error("{0}")]
    BadInput(String),
    /// The device could not be used.
    #[error("{0}")]
    Device(String),
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
/// (lost, out of memory), the run starts again on the CPU with a notice.
pub fn run_blocking(
    experiment: &Experiment,
    control: &Control,
    sink: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, RunError> {
    match run_catching(experiment, control, sink) {
        Err(RunError::Device(why))
            if retry_on_cpu(experiment.device, device::auto_uses_gpu(), control) =>
        {
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
}
