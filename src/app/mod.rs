//! The workbench window (eframe/egui). It never trains: it sends commands to the engine's
//! thread and draws what the engine's events report.

mod apply;
mod command;
mod curves;
mod dialog_routing;
mod dialogs;
mod experiment_panel;
mod messages;
mod presets;
mod preview;
mod probabilities;
mod regions;
mod runs;
mod screenshot;
mod series;
mod session;
mod state;
mod style;
mod temperature;
mod top_bar;
mod widgets;
mod workbench;

pub use command::Command;
pub use dialogs::{DialogKind, DialogRequest, FileDialogs, RfdDialogs, ScriptedDialogs};
pub use messages::Message;
pub use probabilities::model_probs;
pub use screenshot::save_png;
pub use session::RunState;
pub use state::{Tab, ViewSettings};
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
}

impl eframe::App for Workbench {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
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
    // Leave one core to drawing when training on the CPU.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    crate::train::limit_cpu_threads(cores.saturating_sub(1).max(1));
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
    let result = eframe::run_native(
        "Distillery",
        options,
        Box::new(move |cc| {
            let mut app = Workbench::new(cc, launch, Box::new(RfdDialogs));
            app.exit_code = shared_exit;
            Ok(Box::new(app))
        }),
    );
    match result {
        Ok(()) => exit_code.load(std::sync::atomic::Ordering::SeqCst),
        Err(e) => {
            eprintln!("error: the window could not open: {e}");
            1
        }
    }
}
