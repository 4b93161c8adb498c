//! The top bar: presets and files, Start / Pause / Resume / Stop, progress, device.

use super::command::Command;
use super::presets;
use super::session::{LiveRun, RunState};
use super::widgets::duration;
use egui::{RichText, Ui};
use std::path::PathBuf;

pub struct TopBar<'a> {
    pub live: Option<&'a LiveRun>,
    /// Why Start is disabled, if it is.
    pub start_blocked: Option<String>,
    pub recent_files: &'a [PathBuf],
    pub current_file: Option<&'a PathBuf>,
    pub dark_mode: &'a mut bool,
    /// Whether the Lessons panel is open and presentation mode is on.
    pub lessons_open: bool,
    pub present: bool,
    pub commands: &'a mut Vec<Command>,
}

impl TopBar<'_> {
    pub fn ui(mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            self.menu_ui(ui);
            ui.separator();
            self.controls_ui(ui);
            ui.separator();
            progress_ui(ui, self.live);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let icon = if *self.dark_mode {
                    "Light theme"
                } else {
                    "Dark theme"
                };
                if ui.button(icon).on_hover_text("switch theme").clicked() {
                    *self.dark_mode = !*self.dark_mode;
                }
                if ui
                    .selectable_label(self.present, "Present")
                    .on_hover_text("presentation mode (F5): no editor, large type, thick lines, high contrast; Ctrl + and Ctrl − zoom")
                    .clicked()
                {
                    self.commands.push(Command::TogglePresent);
                }
                if ui
                    .selectable_label(self.lessons_open, "Lessons")
                    .on_hover_text("guided lessons; Page Up and Page Down move between steps")
                    .clicked()
                {
                    self.commands.push(Command::ToggleLessons);
                }
                // The device line makes room for the progress text in the larger type.
                if !self.present {
                    device_ui(ui, self.live);
                }
            });
        });
    }

    fn menu_ui(&mut self, ui: &mut Ui) {
        let commands = &mut *self.commands;
        let (current_file, recent_files) = (self.current_file, self.recent_files);
        ui.menu_button("Preset", |ui| {
            for (name, _) in presets::BUILT_IN {
                if ui
                    .button(name)
                    .on_hover_text(presets::description(name))
                    .clicked()
                {
                    let exp = presets::built_in(name).expect("built-in presets parse");
                    commands.push(Command::LoadExperiment(Box::new(exp), name.to_string()));
                    ui.close();
                }
            }
            ui.separator();
            if ui.button("Open…  (Ctrl+O)").clicked() {
                commands.push(Command::OpenDialog);
                ui.close();
            }
            let save_label = match current_file {
                Some(p) => format!(
                    "Save {}  (Ctrl+S)",
                    p.file_name().unwrap_or_default().to_string_lossy()
                ),
                None => "Save…  (Ctrl+S)".to_string(),
            };
            if ui.button(save_label).clicked() {
                commands.push(Command::Save);
                ui.close();
            }
            if ui.button("Save as…").clicked() {
                commands.push(Command::SaveAsDialog);
                ui.close();
            }
            if !recent_files.is_empty() {
                ui.separator();
                ui.label(RichText::new("Recent").weak());
                for path in recent_files {
                    if ui.button(path.display().to_string()).clicked() {
                        commands.push(Command::OpenPath(path.clone()));
                        ui.close();
                    }
                }
            }
        });
    }

    fn controls_ui(&mut self, ui: &mut Ui) {
        let state = self.live.map(|r| r.state.clone());
        match state {
            Some(RunState::Running) => {
                if ui.button("Pause").clicked() {
                    self.commands.push(Command::Pause);
                }
                if ui.button("Stop").on_hover_text("Space").clicked() {
                    self.commands.push(Command::Stop);
                }
            }
            Some(RunState::Paused) => {
                if ui.button("Resume").clicked() {
                    self.commands.push(Command::Resume);
                }
                if ui.button("Stop").on_hover_text("Space").clicked() {
                    self.commands.push(Command::Stop);
                }
            }
            _ => {
                let start =
                    ui.add_enabled(self.start_blocked.is_none(), egui::Button::new("Start"));
                let start = match &self.start_blocked {
                    Some(why) => start.on_disabled_hover_text(format!("Start is disabled: {why}")),
                    None => start.on_hover_text("train teacher, baseline and student (Space)"),
                };
                if start.clicked() {
                    self.commands.push(Command::Start);
                }
            }
        }
    }
}

/// Phase, epoch, step and time left.
fn progress_ui(ui: &mut Ui, live: Option<&LiveRun>) {
    let Some(run) = live else {
        ui.label(RichText::new("idle").weak());
        return;
    };
    let p = &run.progress;
    let phase = p
        .phase
        .map(|ph| ph.name())
        .unwrap_or_else(|| "starting".into());
    let status = match &run.state {
        RunState::Running => String::new(),
        RunState::Paused => " · paused".into(),
        RunState::Finished => match &run.view.summary {
            Some(s) if s.error.is_some() => " · failed".into(),
            Some(s) if s.stopped => " · stopped".into(),
            _ => " · finished".into(),
        },
        RunState::Failed(_) => " · could not start".into(),
    };
    let fraction = if run.state == RunState::Finished {
        1.0
    } else {
        p.overall_fraction()
    };
    let eta = p
        .eta()
        .filter(|_| run.is_active())
        .map(|d| format!(" · ETA {}", duration(d.as_secs_f64())))
        .unwrap_or_default();
    let text = format!(
        "{phase} · epoch {}/{} · step {}/{}{eta}{status}",
        p.epoch(),
        p.epochs,
        p.step,
        p.epochs * p.steps_per_epoch
    );
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_width(200.0)
            .show_percentage(),
    )
    .on_hover_text("progress over all phases");
    ui.label(text);
}

fn device_ui(ui: &mut Ui, live: Option<&LiveRun>) {
    let setup = live.and_then(|r| r.view.setup.as_ref());
    match setup {
        Some(s) => {
            let d = &s.device;
            let label = ui.label(format!(
                "{} {}",
                if d.is_gpu() { "GPU" } else { "CPU" },
                d.name
            ));
            if let Some(note) = &d.note {
                label.on_hover_text(format!("CPU because {note}"));
            }
        }
        None => {
            ui.label(RichText::new("device: chosen at Start").weak());
        }
    }
}
