//! A sweep in the background, for the window: the thread runs [`crate::sweep::run`] (at a
//! lower priority, so the window stays responsive) and reports each finished cell; the window
//! drains the reports every frame and never trains. Shared by the Runs tab's method
//! comparison and the Sweep tab.

use crate::sweep::stats::CellSummary;
use crate::sweep::{Plan, SweepProgress};
use crate::train::Control;
use std::sync::mpsc::{Receiver, channel};

/// What the sweep thread reports.
pub enum Report {
    Cell(Box<SweepProgress>),
    Done(Result<Vec<CellSummary>, String>),
}

/// A sweep in flight.
pub struct SweepJob {
    events: Receiver<Report>,
    control: Control,
}

impl SweepJob {
    /// Start `plan` on a thread of its own.
    pub fn start(plan: Plan, thread_name: &str) -> SweepJob {
        let (tx, rx) = channel();
        let control = Control::new();
        let thread_control = control.clone();
        std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || {
                super::priority::lower_this_thread();
                let cell_tx = std::sync::Mutex::new(tx.clone());
                let result = crate::sweep::run(&plan, &thread_control, &|p| {
                    let tx = cell_tx.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = tx.send(Report::Cell(Box::new(p.clone())));
                });
                let _ = tx.send(Report::Done(
                    result.map(|r| r.summaries).map_err(|e| e.to_string()),
                ));
            })
            .expect("the OS can start a thread");
        SweepJob {
            events: rx,
            control,
        }
    }

    /// Everything reported since the last call.
    pub fn drain(&self) -> Vec<Report> {
        self.events.try_iter().collect()
    }

    /// End after the student in flight (a paused one too); the folder keeps every finished
    /// cell.
    pub fn stop(&self) {
        self.control.stop();
    }

    pub fn pause(&self) {
        self.control.pause();
    }

    pub fn resume(&self) {
        self.control.resume();
    }

    pub fn is_paused(&self) -> bool {
        self.control.is_paused()
    }
}
