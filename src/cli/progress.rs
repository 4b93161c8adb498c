//! The headless progress display: one bar per phase with epoch, losses and ETA.

use crate::train::Event;
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
        if self.quiet {
            return;
        }
        match &state.bar {
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => eprintln!("{line}"),
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
                let label = match notice.severity {
                    crate::train::Severity::Info => "note",
                    crate::train::Severity::Warning => "warning",
                    crate::train::Severity::Error => "error",
                };
                self.say(&state, format!("{label}: {}", notice.text))
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
