//! Time from pressing Start in the window to the first point drawn on the loss plot, and to
//! the end of the run, for the default preset (issue #10's responsiveness target:
//! first point within 1 s, the whole preset within 10 s). The preset's device is left as
//! it is (Auto: a hardware GPU when there is one, else the CPU), as a user gets it.
//!
//!     cargo bench --bench first_point [-- --repeat 5]
//!
//! The window is the real one, driven headless through egui_kittest: a click on Start, then
//! frames stepped every 5 ms as a display would, until the Curves tab has drawn a point.

use distillery::app::{Launch, RunState, ScriptedDialogs, Workbench};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Whether the loss plot has drawn at least one point of the run.
fn plotted(w: &Workbench) -> bool {
    w.live
        .as_ref()
        .is_some_and(|l| l.view.losses.values().any(|s| !s.cached().is_empty()))
}

fn finished(w: &Workbench) -> bool {
    w.live
        .as_ref()
        .is_some_and(|l| !matches!(l.state, RunState::Running | RunState::Paused))
}

/// Step frames until `done` or a minute passes; the seconds it took.
fn until(h: &mut Harness<'static, Workbench>, t0: Instant, done: fn(&Workbench) -> bool) -> f64 {
    while !done(h.state()) {
        assert!(t0.elapsed() < Duration::from_secs(60), "the run stalled");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    t0.elapsed().as_secs_f64()
}

fn main() {
    let repeat = std::env::args()
        .skip_while(|a| a != "--repeat")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let (mut first, mut whole) = (Vec::new(), Vec::new());
    for k in 0..repeat {
        let mut h = Harness::builder()
            .with_size([1400.0, 900.0])
            .build_eframe(|cc| {
                Workbench::new(cc, Launch::default(), Box::new(ScriptedDialogs::default()))
            });
        h.run_steps(3);
        h.get_by_label("Start").click();
        let t0 = Instant::now();
        let f = until(&mut h, t0, plotted);
        let w = until(&mut h, t0, finished);
        println!("run {}: first point {f:.3} s, whole run {w:.2} s", k + 1);
        first.push(f);
        whole.push(w);
    }
    println!(
        "median of {repeat}: first point {:.3} s after Start, whole run {:.2} s",
        median(first),
        median(whole)
    );
}
