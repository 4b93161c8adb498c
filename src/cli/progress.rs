//! The headless progress display: one bar per phase with epoch, losses and ETA.

use crate::train::{Event, Severity};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Mutex;

pub struct Progress {
    quiet: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    epochs: usize,
    last_accuracy: Option<f32>,
}

/// A line on stderr, above the bar if one is drawn.
fn print_line(state: &State, line: String) {
    match &state.bar {
        Some(bar) if !bar.is_hidden() => bar.println(line),
        _ => eprintln!("{line}"),
    }
}

/// Whether a notice is printed: `--quiet` hides notes, never warnings or errors.
fn shown(severity: Severity, quiet: bool) -> bool {
    !quiet || severity >= Severity::Warning
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} [{bar:28}] {pos}/{len} steps  {msg}  ETA {eta}")
        .expect("the template is valid")
        .progress_chars("=> ")
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            state: Mutex::new(State::default()),
        }
    }

    fn say(&self, state: &State, line: String) {
        if !self.quiet {
            print_line(state, line);
        }
    }

    pub fn on_event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Setup(info) => {
                let line = format!(
                    "{}: {} train / {} test examples, {} features, {} classes; transfer set {}; {}",
                    info.data.description,
                    info.data.train_examples,
                    info.data.test_examples,
                    info.data.features,
                    info.data.classes,
                    info.data.transfer_examples,
                    info.device.describe()
                );
                self.say(&state, line);
            }
            Event::Notice(notice) => {
                // The engine starts again from nothing on the CPU: so does the display.
                if notice.kind == crate::train::NoticeKind::RetryOnCpu {
                    if let Some(bar) = state.bar.take() {
                        bar.finish_and_clear();
                    }
                    *state = State::default();
                }
                let label = match notice.severity {
                    Severity::Info => "note",
                    Severity::Warning => "warning",
                    Severity::Error => "error",
                };
                if shown(notice.severity, self.quiet) {
                    print_line(&state, format!("{label}: {}", notice.text));
                }
            }
            Event::PhaseStarted {
                phase,
                epochs,
                steps_per_epoch,
            } => {
                if self.quiet {
                    return;
                }
                let bar = ProgressBar::new((epochs * steps_per_epoch) as u64)
                    .with_style(style())
                    .with_prefix(phase.name());
                state.bar = Some(bar);
                state.epochs = *epochs;
                state.last_accuracy = None;
            }
            Event::Steps(steps) => {
                let Some(last) = steps.last() else { return };
                let acc = state
                    .last_accuracy
                    .map(|a| format!("  test acc {a:.4}"))
                    .unwrap_or_default();
                let losses = if last.soft.is_nan() {
                    format!("loss {:.4}", last.total)
                } else {
                    format!(
                        "soft {:.4} hard {:.4} total {:.4}",
                        last.soft, last.hard, last.total
                    )
                };
                if let Some(bar) = &state.bar {
                    bar.set_position(last.step as u64);
                    bar.set_message(format!(
                        "epoch {}/{}  {losses}{acc}",
                        last.epoch, state.epochs
                    ));
                }
            }
            Event::Epoch(e) => state.last_accuracy = Some(e.test_accuracy),
            Event::PhaseFinished { phase, stopped } => {
                let acc = state
                    .last_accuracy
                    .map(|a| format!(", test accuracy {a:.4}"))
                    .unwrap_or_default();
                let how = if *stopped { "stopped" } else { "done" };
                if let Some(bar) = state.bar.take() {
                    bar.finish_and_clear();
                }
                self.say(&state, format!("{:>12} {how}{acc}", phase.name()));
            }
            _ => {}
        }
    }

    pub fn finish(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Notice, NoticeKind, Phase, StepMetrics};

    fn steps(step: usize) -> Event {
        Event::Steps(vec![StepMetrics {
            phase: Phase::Student,
            step,
            epoch: 1,
            soft: 0.5,
            hard: 1.0,
            total: 0.55,
            temperature: 4.0,
            alpha: 0.9,
            terms: [f32::NAN; 2],
        }])
    }

    #[test]
    fn a_retry_on_the_cpu_starts_the_display_again() {
        let p = Progress::new(false);
        p.on_event(&Event::PhaseStarted {
            phase: Phase::Student,
            epochs: 2,
            steps_per_epoch: 10,
        });
        p.on_event(&steps(7));
        p.on_event(&Event::Epoch(crate::train::EpochMetrics {
            phase: Phase::Student,
            epoch: 1,
            step: 7,
            test_accuracy: 0.9,
            test_loss: 0.3,
            train_loss: 0.4,
            agreement: 0.9,
            kl_to_teacher: 0.1,
            seconds: 0.1,
        }));
        p.on_event(&Event::Notice(Notice::new(
            NoticeKind::RetryOnCpu,
            "GPU lost; training again on the CPU",
        )));
        let state = p.state.lock().unwrap();
        assert!(state.bar.is_none(), "the failed attempt's bar is gone");
        assert_eq!((state.epochs, state.last_accuracy), (0, None));
    }

    #[test]
    fn quiet_hides_notes_but_not_warnings_or_errors() {
        assert!(!shown(Severity::Info, true));
        assert!(shown(Severity::Warning, true));
        assert!(shown(Severity::Error, true));
        assert!(shown(Severity::Info, false));
    }

    #[test]
    fn each_phase_bar_reaches_its_end() {
        // An unlabeled transfer set skips the baseline: no bar for it, and the student's
        // own bar still counts exactly its steps.
        let p = Progress::new(false);
        p.on_event(&Event::PhaseStarted {
            phase: Phase::Student,
            epochs: 2,
            steps_per_epoch: 10,
        });
        p.on_event(&steps(20));
        let state = p.state.lock().unwrap();
        let bar = state.bar.as_ref().unwrap();
        assert_eq!((bar.position(), bar.length()), (20, Some(20)));
    }
}
