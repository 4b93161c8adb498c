//! The window (placeholder until the workbench lands).

use std::path::PathBuf;

/// How the window is opened from the command line.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub preset: Option<PathBuf>,
    pub start: bool,
    /// Write a PNG of the window to this path after this many seconds, then exit.
    pub screenshot: Option<(PathBuf, f64)>,
}

/// Open the window; returns the process exit code.
pub fn run_window(launch: Launch) -> i32 {
    let options = eframe::NativeOptions::default();
    let result = eframe::run_ui_native("Distillery", options, move |ui, _frame| {
        ui.heading("Distillery");
        ui.label(format!("{launch:?}"));
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: the window could not open: {e}");
            1
        }
    }
}
