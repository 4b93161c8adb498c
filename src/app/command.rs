//! What the panels ask for. Panels only emit commands; the app applies them in one place.

use super::state::Tab;
use crate::config::Experiment;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub enum Command {
    Start,
    Pause,
    Resume,
    Stop,
    /// Replace the experiment (a built-in preset), keeping no file name.
    LoadExperiment(Box<Experiment>, String),
    /// Load a preset file.
    OpenPath(PathBuf),
    OpenDialog,
    Save,
    SaveAsDialog,
    SetTab(Tab),
    /// T or α changed while training: pass them to the engine.
    LiveWeights {
        temperature: f64,
        alpha: f64,
    },
    /// Pick a run folder and add it to the Runs table.
    OpenRunDialog,
    /// Write a run's step metrics as CSV.
    ExportRunCsv(usize),
    /// Write a run (config, metrics, summary, weights) to a folder.
    SaveRunFolder(usize),
    /// Save the central plot area as a PNG.
    ExportPlotPng,
    /// Pick a data folder or file for the experiment's data source.
    BrowseData,
    /// Pick a folder of saved teacher weights.
    BrowseTeacherWeights,
    DismissMessage(usize),
    /// Compare the chosen methods on the editor's experiment over seeds (Runs tab).
    StartComparison,
    StopComparison,
    /// Sweep T × α over seeds for the editor's experiment (Sweep tab).
    StartSweep,
    PauseSweep,
    ResumeSweep,
    StopSweep,
    /// Show or hide the Lessons panel.
    ToggleLessons,
    /// Open a built-in lesson by name, at the step it was left at.
    OpenLesson(String),
    OpenLessonPath(PathBuf),
    OpenLessonDialog,
    /// Back (−1), Next (+1) or set the current step up again (0).
    LessonStep(isize),
    /// Back to the list of lessons.
    CloseLesson,
    /// The learner's prediction for the step's question.
    LessonChoice(usize),
    /// Show the answer of a question whose step has no run.
    RevealAnswer,
    /// Presentation mode on or off.
    TogglePresent,
}
