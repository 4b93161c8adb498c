//! The workbench window (eframe/egui). It never trains: it sends commands to the engine's
//! thread and draws what the engine's events report.

mod apply;
mod bars;
mod breakdown;
mod command;
mod compare;
mod curves;
mod diagnostics;
mod dialog_routing;
mod dialogs;
mod experiment_panel;
mod frame_stats;
mod lesson_steps;
pub mod lessons;
mod messages;
mod omitted;
mod plot_export;
mod present;
pub mod presets;
mod preview;
mod priority;
mod probabilities;
mod regions;
mod runs;
mod screenshot;
mod series;
mod session;
mod state;
mod style;
mod sweep_job;
mod sweep_tab;
mod temperature;
mod top_bar;
mod widgets;
mod workbench;

pub use command::Command;
pub use curves::{ACCURACY_PLOT, HARD_PLOT, SOFT_PLOT, TOTAL_PLOT};
pub use diagnostics::run_gradients;
pub use dialogs::{DialogKind, DialogRequest, FileDialogs, RfdDialogs, ScriptedDialogs};
pub use frame_stats::FrameStats;
pub use messages::Message;
pub use priority::{TRAINING_NICENESS, this_thread_niceness};
pub use probabilities::{EMPTY_TEST_SPLIT, model_probs};
pub use screenshot::save_png;
pub use session::RunState;
pub use state::{Tab, ViewSettings};
pub use sweep_tab::cell_text as sweep_cell_text;
pub use workbench::Workbench;

use std::path::PathBuf;

/// How the window is opened from the command line.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub preset: Option<PathBuf>,
    pub start: bool,
    /// Write a PNG of the window to this path after this many seconds, then exit.
    pub screenshot: Option<(PathBuf, f64)>,
    /// The tab to show first.
    pub tab: Option<Tab>,
    /// Print the frame times (p50, p95, max) and the last run's training speed on exit.
    pub frame_stats: bool,
    /// Open in presentation mode.
    pub present: bool,
    /// A lesson to open: a built-in name or a lesson file.
    pub lesson: Option<String>,
}

impl eframe::App for Workbench {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        // The previous frame's time, as eframe measured it (building and painting).
        if let Some(seconds) = frame.info().cpu_usage {
            let training = self.live.as_ref().is_some_and(session::LiveRun::is_active);
            self.frame_stats
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(seconds, training);
        }
        Workbench::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        Workbench::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        state::save(storage, &self.experiment, &self.view);
    }
}

/// Which renderer draws the window: glow (OpenGL) unless `DISTILLERY_RENDERER=wgpu`.
fn renderer() -> eframe::Renderer {
    match std::env::var("DISTILLERY_RENDERER").as_deref() {
        Ok("wgpu") => eframe::Renderer::Wgpu,
        _ => eframe::Renderer::Glow,
    }
}

/// Open the window; returns the process exit code.
pub fn run_window(launch: Launch) -> i32 {
    // Train on every core, at a lower priority than the window's thread, so a run is as fast
    // as on the command line and the window still draws on time.
    priority::training_pool_on_every_core();
    let print_stats = launch.frame_stats;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Distillery")
            .with_inner_size([1400.0, 900.0])
            .with_min_inner_size([900.0, 600.0]),
        renderer: renderer(),
        ..Default::default()
    };
    let exit_code = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
    let shared_exit = exit_code.clone();
    let stats = std::sync::Arc::new(std::sync::Mutex::new(FrameStats::default()));
    let shared_stats = stats.clone();
    let speed = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let shared_speed = speed.clone();
    let result = eframe::run_native(
        "Distillery",
        options,
        Box::new(move |cc| {
            let mut app = Workbench::new(cc, launch, Box::new(RfdDialogs));
            app.exit_code = shared_exit;
            app.frame_stats = shared_stats;
            app.speed_report = shared_speed;
            Ok(Box::new(app))
        }),
    );
    if print_stats {
        println!(
            "{}",
            stats.lock().unwrap_or_else(|e| e.into_inner()).report()
        );
        if let Some(line) = speed.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            println!("{line}");
        }
    }
    match result {
        Ok(()) => exit_code.load(std::sync::atomic::Ordering::SeqCst),
        Err(e) => {
            eprintln!("error: the window could not open: {e}");
            1
        }
    }
}
