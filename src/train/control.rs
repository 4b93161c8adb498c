//! Pause, resume, stop and live loss weights, shared between a controller and the loop.
//! The loop calls [`Control::checkpoint`] before every batch, so every command takes effect
//! within one batch.

use crate::distill::LossWeights;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

#[derive(Debug, Default)]
struct State {
    paused: bool,
    stopped: bool,
    /// T and α requested while training, not yet picked up by the loop.
    pending: Option<(f64, f64)>,
}

/// A cloneable handle; every clone controls the same run.
#[derive(Debug, Clone, Default)]
pub struct Control {
    inner: Arc<(Mutex<State>, Condvar)>,
}

/// What the loop should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves plain flags behind; they stay usable.
        self.inner.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn pause(&self) {
        self.state().paused = true;
    }

    pub fn resume(&self) {
        self.state().paused = false;
        self.inner.1.notify_all();
    }

    pub fn stop(&self) {
        self.state().stopped = true;
        self.inner.1.notify_all();
    }

    pub fn is_paused(&self) -> bool {
        self.state().paused
    }

    pub fn is_stopped(&self) -> bool {
        self.state().stopped
    }

    /// Ask for new T and α; the student picks them up before its next batch.
    pub fn set_temperature_alpha(&self, temperature: f64, alpha: f64) {
        self.state().pending = Some((temperature, alpha));
    }

    /// Block while paused; say whether to go on.
    pub fn checkpoint(&self) -> Flow {
        let mut state = self.state();
        while state.paused && !state.stopped {
            state = self.inner.1.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.stopped {
            Flow::Stop
        } else {
            Flow::Continue
        }
    }

    /// Apply a pending T/α change to `weights`; true if anything changed.
    pub fn take_weight_change(&self, weights: &mut LossWeights) -> bool {
        match self.state().pending.take() {
            Some((t, a)) if (t, a) != (weights.temperature, weights.alpha) => {
                weights.temperature = t;
                weights.alpha = a;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn paused_loop_waits_until_resumed() {
        let c = Control::new();
        c.pause();
        let c2 = c.clone();
        let waiter = std::thread::spawn(move || c2.checkpoint());
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "checkpoint returned while paused");
        c.resume();
        assert_eq!(waiter.join().unwrap(), Flow::Continue);
    }

    #[test]
    fn stop_wakes_a_paused_loop() {
        let c = Control::new();
        c.pause();
        let c2 = c.clone();
        let waiter = std::thread::spawn(move || c2.checkpoint());
        c.stop();
        assert_eq!(waiter.join().unwrap(), Flow::Stop);
    }
}
