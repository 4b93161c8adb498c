//! Dialog routing: what each open dialog's answer is for, and where the answer goes.

use super::dialogs::{DialogKind, DialogRequest};
use super::runs::RunRecord;
use super::screenshot::{PendingShot, SharedImage};
use super::session::RunView;
use super::state::Tab;
use super::workbench::Workbench;
use crate::config::DataSource;
use std::path::PathBuf;

/// What an open dialog's answer is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum DialogPurpose {
    OpenPreset,
    SavePreset,
    OpenRun,
    ExportCsv(usize),
    SaveRunFolder(usize),
    ExportPng,
    DataSource,
    TeacherWeights,
    OpenLesson,
    /// One plot as a PNG at twice the resolution: the plot's rectangle on screen.
    ExportPlot(egui::Rect),
}

impl Workbench {
    pub(super) fn ask(
        &mut self,
        purpose: DialogPurpose,
        kind: DialogKind,
        title: &str,
        file_name: Option<String>,
    ) {
        if self.pending_dialog.is_some() {
            return;
        }
        let filter = match purpose {
            DialogPurpose::OpenPreset | DialogPurpose::SavePreset | DialogPurpose::OpenLesson => {
                Some(("RON preset".into(), vec!["ron".into()]))
            }
            DialogPurpose::ExportCsv(_) => Some(("CSV".into(), vec!["csv".into()])),
            DialogPurpose::ExportPng | DialogPurpose::ExportPlot(_) => {
                Some(("PNG image".into(), vec!["png".into()]))
            }
            _ => None,
        };
        let request = DialogRequest {
            kind,
            title: title.into(),
            filter,
            file_name,
        };
        self.pending_dialog = Some((purpose, self.dialogs.ask(request)));
    }

    pub(super) fn poll_dialog(&mut self) {
        let Some((purpose, rx)) = &self.pending_dialog else {
            return;
        };
        let purpose = *purpose;
        let answer = match rx.try_recv() {
            Ok(answer) => answer,
            Err(std::sync::mpsc::TryRecvError::Empty) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => None,
        };
        self.pending_dialog = None;
        if let Some(path) = answer {
            self.dialog_answered(purpose, path);
        }
    }

    pub(super) fn dialog_answered(&mut self, purpose: DialogPurpose, path: PathBuf) {
        match purpose {
            DialogPurpose::OpenPreset => self.open_path(&path),
            DialogPurpose::SavePreset => self.save_to(&path),
            DialogPurpose::OpenRun => match crate::run::read_run(&path) {
                Ok(saved) => {
                    // A run from elsewhere may name files this machine lacks, or have been
                    // edited: show it, and say what its settings would need to run again.
                    let problems = crate::config::validate(&saved.experiment);
                    if !problems.is_empty() {
                        self.say(
                            crate::train::Severity::Warning,
                            format!(
                                "opened the run {}; its config.ron would not run as it is: {}",
                                path.display(),
                                crate::config::Problem::list(&problems)
                            ),
                        );
                    }
                    let view = RunView::from_history(&saved.history, Some(saved.summary.clone()));
                    self.runs.push(RunRecord {
                        experiment: saved.experiment,
                        view,
                        history: saved.history,
                        outcome: None,
                        dir: Some(path),
                        selected: true,
                    });
                    self.view.tab = Tab::Runs;
                }
                Err(e) => self.error(format!("could not open the run: {e}")),
            },
            DialogPurpose::ExportCsv(i) => {
                let Some(run) = self.runs.get(i) else { return };
                let csv = crate::run::steps_csv(&run.history.steps, run.experiment.distill.loss);
                match crate::run::write_atomic(&path, csv.as_bytes()) {
                    Ok(()) => self.info(format!("wrote {}", path.display())),
                    Err(e) => self.error(e.to_string()),
                }
            }
            DialogPurpose::SaveRunFolder(i) => {
                let Some(run) = self.runs.get_mut(i) else {
                    return;
                };
                let Some(outcome) = &run.outcome else { return };
                match crate::run::write_run(&path, &run.experiment, outcome) {
                    Ok(files) => {
                        run.dir = Some(path.clone());
                        self.info(format!("wrote {} files to {}", files.len(), path.display()));
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            DialogPurpose::ExportPng => {
                self.pending_shot = Some(PendingShot {
                    path,
                    crop: self.central_rect,
                    image: SharedImage::default(),
                    then_close: false,
                });
                self.screenshot_requested = false;
            }
            DialogPurpose::DataSource => match &mut self.experiment.data.source {
                DataSource::Csv(csv) => csv.path = path,
                source => {
                    if let Some(dir) = source.folder_mut() {
                        *dir = path;
                    }
                }
            },
            DialogPurpose::TeacherWeights => self.experiment.teacher.weights = Some(path),
            DialogPurpose::ExportPlot(rect) => self.plot_to_save = Some((path, rect)),
            DialogPurpose::OpenLesson => self
                .commands
                .push(super::command::Command::OpenLessonPath(path)),
        }
    }
}
