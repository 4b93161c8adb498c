//! The one place commands take effect: what the panels asked for, applied in order.

use super::command::Command;
use super::dialog_routing::DialogPurpose;
use super::dialogs::DialogKind;
use super::regions::RegionTextures;
use super::session::LiveRun;
use super::workbench::Workbench;
use crate::config::{self, DataSource};
use std::path::Path;

impl Workbench {
    pub(super) fn apply_commands(&mut self, ctx: &egui::Context) {
        while !self.commands.is_empty() {
            let commands = std::mem::take(&mut self.commands);
            for c in commands {
                self.apply(c, ctx);
            }
        }
    }

    pub(super) fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::Start => self.start(),
            Command::StartComparison => {
                if let Some(why) = self.start_blocked() {
                    self.error(format!("cannot compare now: {why}"));
                } else if self.comparison.is_running() {
                    self.error("a comparison is already running");
                } else {
                    self.comparison.start(&self.experiment);
                }
            }
            Command::StopComparison => self.comparison.stop(),
            Command::StartSweep => {
                if let Some(why) = self.start_blocked() {
                    self.error(format!("cannot sweep now: {why}"));
                } else if let Err(e) = self.sweep.start(&self.experiment) {
                    self.error(format!("cannot sweep: {e}"));
                }
            }
            Command::PauseSweep => self.sweep.pause(true),
            Command::ResumeSweep => self.sweep.pause(false),
            Command::StopSweep => self.sweep.stop(),
            Command::OpenLessonDialog => self.ask(
                DialogPurpose::OpenLesson,
                DialogKind::OpenFile,
                "Open lesson",
                None,
            ),
            Command::TogglePresent => self.view.present = !self.view.present,
            c @ (Command::ToggleLessons
            | Command::OpenLesson(_)
            | Command::OpenLessonPath(_)
            | Command::LessonStep(_)
            | Command::CloseLesson
            | Command::LessonChoice(_)
            | Command::RevealAnswer) => self.apply_lesson(c),
            Command::Pause => self.live.iter_mut().for_each(LiveRun::pause),
            Command::Resume => self.live.iter_mut().for_each(LiveRun::resume),
            Command::Stop => self.live.iter_mut().for_each(LiveRun::stop),
            Command::LoadExperiment(exp, name) => {
                if self.running() {
                    self.error("stop the run before loading another experiment");
                } else {
                    self.experiment = *exp;
                    self.view.current_file = None;
                    self.info(format!("loaded the built-in preset {name}"));
                }
            }
            Command::OpenPath(path) => self.open_path(&path),
            Command::OpenDialog => self.ask(
                DialogPurpose::OpenPreset,
                DialogKind::OpenFile,
                "Open experiment",
                None,
            ),
            Command::Save => match self.view.current_file.clone() {
                Some(path) => self.save_to(&path),
                None => self.commands.push(Command::SaveAsDialog),
            },
            Command::SaveAsDialog => {
                let name = format!("{}.ron", self.experiment.name);
                self.ask(
                    DialogPurpose::SavePreset,
                    DialogKind::SaveFile,
                    "Save experiment",
                    Some(name),
                );
            }
            Command::SetTab(tab) => self.view.tab = tab,
            Command::LiveWeights { temperature, alpha } => {
                if let Some(live) = &self.live {
                    live.set_temperature_alpha(temperature, alpha);
                }
            }
            Command::OpenRunDialog => self.ask(
                DialogPurpose::OpenRun,
                DialogKind::PickFolder,
                "Open a run folder",
                None,
            ),
            Command::ExportRunCsv(i) => self.ask(
                DialogPurpose::ExportCsv(i),
                DialogKind::SaveFile,
                "Export metrics",
                Some("metrics.csv".into()),
            ),
            Command::SaveRunFolder(i) => self.ask(
                DialogPurpose::SaveRunFolder(i),
                DialogKind::PickFolder,
                "Save the run into a folder",
                None,
            ),
            Command::ExportPlotPng => self.ask(
                DialogPurpose::ExportPng,
                DialogKind::SaveFile,
                "Export plot",
                Some("plot.png".into()),
            ),
            Command::BrowseData => {
                let kind = if matches!(self.experiment.data.source, DataSource::Csv(_)) {
                    DialogKind::OpenFile
                } else {
                    DialogKind::PickFolder
                };
                self.ask(DialogPurpose::DataSource, kind, "Choose the data", None);
            }
            Command::BrowseTeacherWeights => self.ask(
                DialogPurpose::TeacherWeights,
                DialogKind::PickFolder,
                "Teacher weights folder",
                None,
            ),
            Command::DismissMessage(i) => {
                if i < self.messages.len() {
                    self.messages.remove(i);
                }
            }
        }
        let _ = ctx;
    }

    pub(super) fn start(&mut self) {
        // Files may have come or gone since the last change: look again before starting.
        self.validated = None;
        self.revalidate();
        if let Some(why) = self.start_blocked() {
            self.error(format!("cannot start: {why}"));
            return;
        }
        self.live = Some(LiveRun::start(self.experiment.clone()));
        // A new run is shown at its own T.
        self.view.explore_temperature = false;
        self.region_textures = RegionTextures::default();
    }

    pub(super) fn open_path(&mut self, path: &Path) {
        if self.running() {
            self.error("stop the run before opening another experiment");
            return;
        }
        match config::load_file(path) {
            Ok(exp) => {
                let problems = config::validate(&exp);
                self.experiment = exp;
                self.view.remember(path.to_path_buf());
                if problems.is_empty() {
                    self.info(format!("opened {}", path.display()));
                } else {
                    self.error(format!(
                        "opened {}, but {}",
                        path.display(),
                        config::Problem::list(&problems)
                    ));
                }
            }
            // The current experiment stays as it was.
            Err(e) => self.error(format!("could not open the preset: {e}")),
        }
    }

    pub(super) fn save_to(&mut self, path: &Path) {
        match crate::run::write_atomic(path, config::to_ron_string(&self.experiment).as_bytes()) {
            Ok(()) => {
                self.view.remember(path.to_path_buf());
                self.info(format!("saved {}", path.display()));
            }
            Err(e) => self.error(e.to_string()),
        }
    }
}
