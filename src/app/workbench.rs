//! The application's core: the state it owns (the experiment, the run the engine is doing,
//! the panels), the work of every frame and the layout. Panels emit [`Command`]s, applied in
//! one place (`apply.rs`); dialog answers are routed in `dialog_routing.rs`, messages live in
//! `messages.rs` and screenshots in `screenshot.rs`.

use super::Launch;
use super::command::Command;
use super::curves::curves_ui;
use super::dialog_routing::DialogPurpose;
use super::dialogs::{FileDialogs, PendingPath};
use super::experiment_panel::ExperimentPanel;
use super::messages::Message;
use super::preview::DataPreview;
use super::probabilities::{ProbabilitiesTab, live_probabilities_ui};
use super::regions::{RegionTextures, regions_ui};
use super::runs::{RunRecord, runs_ui};
use super::screenshot::PendingShot;
use super::session::{LiveRun, RunState, RunView};
use super::state::{self, Tab, ViewSettings};
use super::temperature::TemperatureTab;
use super::top_bar::TopBar;
use super::widgets::Problems;
use crate::config::{self, Experiment};
use crate::train::Role;
use egui::{Key, Modifiers, Ui};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long draining engine events may take per frame.
const EVENT_BUDGET: Duration = Duration::from_millis(6);
/// Repaint interval while something is going on; coalesces many events into one frame.
const REPAINT_EVERY: Duration = Duration::from_millis(50);

pub struct Workbench {
    pub experiment: Experiment,
    pub view: ViewSettings,
    pub live: Option<LiveRun>,
    pub runs: Vec<RunRecord>,
    pub preview: DataPreview,
    pub messages: Vec<Message>,
    pub problems: Problems,
    pub(super) region_textures: RegionTextures,
    pub(super) dialogs: Box<dyn FileDialogs>,
    pub(super) pending_dialog: Option<(DialogPurpose, PendingPath)>,
    pub(super) commands: Vec<Command>,
    pub(super) launch: Launch,
    pub(super) launched_at: Instant,
    pub(super) screenshot_requested: bool,
    pub(super) pending_shot: Option<PendingShot>,
    /// The central area's rectangle last frame, for exporting the plot.
    pub(super) central_rect: Option<egui::Rect>,
    /// Exit code for `distillery gui --screenshot`.
    pub exit_code: Arc<std::sync::atomic::AtomicI32>,
}

impl Workbench {
    pub fn new(
        cc: &eframe::CreationContext<'_>,
        launch: Launch,
        dialogs: Box<dyn FileDialogs>,
    ) -> Self {
        let (stored, view) = state::load(cc.storage);
        let mut app = Self {
            experiment: stored.unwrap_or_else(|| {
                super::presets::built_in("digits-mlp").expect("the default preset parses")
            }),
            view,
            live: None,
            runs: Vec::new(),
            preview: DataPreview::default(),
            messages: Vec::new(),
            problems: Problems::default(),
            region_textures: RegionTextures::default(),
            dialogs,
            pending_dialog: None,
            commands: Vec::new(),
            launch,
            launched_at: Instant::now(),
            screenshot_requested: false,
            pending_shot: None,
            central_rect: None,
            exit_code: Arc::new(std::sync::atomic::AtomicI32::new(0)),
        };
        if let Some(path) = app.launch.preset.clone() {
            app.open_path(&path);
        }
        if let Some(tab) = app.launch.tab {
            app.view.tab = tab;
        }
        if app.launch.start {
            app.commands.push(Command::Start);
        }
        app.preview.follow(&app.experiment);
        app
    }

    pub(super) fn running(&self) -> bool {
        self.live.as_ref().is_some_and(LiveRun::is_active)
    }

    /// Why Start cannot be pressed now, if it cannot.
    pub fn start_blocked(&self) -> Option<String> {
        if self.running() {
            return Some("a run is in progress".into());
        }
        if !self.problems.is_empty() {
            let list: Vec<String> = self.problems.0.iter().map(|p| p.to_string()).collect();
            return Some(format!(
                "fix the marked settings first:\n{}",
                list.join("\n")
            ));
        }
        if let Some(err) = &self.preview.error {
            return Some(format!("the data cannot be loaded: {err}"));
        }
        None
    }

    // ----- every frame ----------------------------------------------------------------------

    /// Work that is not drawing: engine events, dialogs, data loading, shortcuts.
    pub fn logic(&mut self, ctx: &egui::Context) {
        ctx.set_theme(if self.view.dark_mode {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        self.poll_dialog();
        self.drain_run();
        self.preview.follow(&self.experiment);
        self.preview.poll();
        self.expire_messages();
        self.problems = Problems(config::validate(&self.experiment));
        self.shortcuts(ctx);
        self.screenshot_logic(ctx);
        self.apply_commands(ctx);
        if !self.is_settled() {
            ctx.request_repaint_after(REPAINT_EVERY);
        }
    }

    /// Nothing is running, loading or waiting: the window only changes on input.
    pub fn is_settled(&self) -> bool {
        !(self.running()
            || self.preview.is_loading()
            || self.pending_dialog.is_some()
            || self.pending_shot.is_some()
            || (self.launch.screenshot.is_some() && !self.screenshot_requested))
    }

    fn drain_run(&mut self) {
        let Some(live) = &mut self.live else { return };
        let drained = live.drain(EVENT_BUDGET);
        for notice in drained.notices {
            self.say(notice.severity, notice.text);
        }
        if let Some(failure) = drained.failure {
            self.error(failure.message);
        }
        if drained.finished {
            self.record_finished_run();
        }
    }

    /// Keep a finished run in the Runs table; the live view stays on screen.
    fn record_finished_run(&mut self) {
        let Some(live) = &mut self.live else { return };
        // A run that could not start was announced by its notice; nothing to record.
        if let RunState::Failed(_) = &live.state {
            return;
        }
        let outcome = live.outcome.take();
        let history = outcome
            .as_ref()
            .map(|o| o.history.clone())
            .unwrap_or_default();
        let mut view = RunView::from_history(&history, live.view.summary.clone());
        view.weight_changes = live.view.weight_changes.clone();
        live.outcome = outcome.clone();
        for r in &mut self.runs {
            r.selected = false;
        }
        self.runs.push(RunRecord {
            experiment: live.experiment.clone(),
            view,
            history,
            outcome,
            dir: None,
            selected: true,
        });
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (space, open, save) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::Space),
                i.consume_key(Modifiers::COMMAND, Key::O),
                i.consume_key(Modifiers::COMMAND, Key::S),
            )
        });
        if space {
            self.commands.push(if self.running() {
                Command::Stop
            } else {
                Command::Start
            });
        }
        if open {
            self.commands.push(Command::OpenDialog);
        }
        if save {
            self.commands.push(Command::Save);
        }
    }

    // ----- drawing ------------------------------------------------------------------------------

    pub fn ui(&mut self, ui: &mut Ui) {
        egui::Panel::top("top-bar").show(ui, |ui| {
            TopBar {
                live: self.live.as_ref(),
                start_blocked: self.start_blocked(),
                recent_files: &self.view.recent_files,
                current_file: self.view.current_file.as_ref(),
                dark_mode: &mut self.view.dark_mode,
                commands: &mut self.commands,
            }
            .ui(ui);
        });
        // Messages sit at the bottom so their coming and going never moves the controls.
        if !self.messages.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| self.messages_ui(ui));
        }
        egui::Panel::left("experiment")
            .resizable(true)
            .default_size(380.0)
            .show(ui, |ui| {
                ExperimentPanel {
                    experiment: &mut self.experiment,
                    running: self.live.as_ref().is_some_and(LiveRun::is_active),
                    problems: &self.problems,
                    preview: &mut self.preview,
                    commands: &mut self.commands,
                }
                .ui(ui);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                for tab in Tab::ALL {
                    if ui
                        .selectable_label(self.view.tab == tab, tab.title())
                        .clicked()
                    {
                        self.commands.push(Command::SetTab(tab));
                    }
                }
            });
            ui.separator();
            self.central_rect = Some(ui.available_rect_before_wrap());
            self.tab_ui(ui);
        });
        // Clicks take effect in the frame they happen in.
        let ctx = ui.ctx().clone();
        self.apply_commands(&ctx);
    }

    /// The live run's view, if it was trained on the data now shown (so test indices match).
    fn matching_view(&self) -> Option<&RunView> {
        let live = self.live.as_ref()?;
        let same_data = live.experiment.data == self.experiment.data
            && live.experiment.seed == self.experiment.seed;
        same_data.then_some(&live.view)
    }

    fn tab_ui(&mut self, ui: &mut Ui) {
        match self.view.tab {
            Tab::Curves => {
                let combine = self.experiment.teacher.combine;
                let t = self.experiment.distill.temperature as f32;
                let sample = self.view.sample;
                egui::Panel::right("live-probabilities")
                    .resizable(true)
                    .default_size(300.0)
                    .show(ui, |ui| {
                        let view = view_on_same_data(&self.live, &self.experiment);
                        live_probabilities_ui(ui, view, &mut self.preview, sample, t, combine);
                    });
                curves_ui(ui, self.live.as_mut().map(|l| &mut l.view), &mut self.view);
            }
            Tab::Probabilities => {
                let combine = self.experiment.teacher.combine;
                let train_temperature = self.experiment.distill.temperature as f32;
                ProbabilitiesTab {
                    view: view_on_same_data(&self.live, &self.experiment),
                    preview: &mut self.preview,
                    settings: &mut self.view,
                    combine,
                    train_temperature,
                }
                .ui(ui);
            }
            Tab::Temperature => {
                let teacher_logits = self.teacher_logits_for_sample();
                let class_names = self
                    .preview
                    .data
                    .as_ref()
                    .map(|d| d.train.class_names.clone())
                    .unwrap_or_default();
                TemperatureTab {
                    settings: &mut self.view,
                    teacher_logits,
                    class_names,
                    train_temperature: self.experiment.distill.temperature as f32,
                }
                .ui(ui);
            }
            Tab::Regions => {
                let view = view_on_same_data(&self.live, &self.experiment);
                regions_ui(ui, view, &self.preview, &mut self.region_textures);
            }
            Tab::Runs => runs_ui(ui, &mut self.runs, &mut self.commands),
        }
    }

    /// The teacher's logits for the selected test example: the mean over members, which for
    /// one member is its logits and for any ensemble gives the same softmax as MeanLogits.
    fn teacher_logits_for_sample(&self) -> Option<Vec<f32>> {
        let logits = self.matching_view()?.logits.get(&Role::Teacher)?;
        let k = logits.classes;
        let s = self.view.sample;
        let n = logits.members.len() as f32;
        (0..k)
            .map(|c| {
                logits
                    .members
                    .iter()
                    .map(|m| m.get(s * k + c).copied())
                    .sum::<Option<f32>>()
                    .map(|v| v / n)
            })
            .collect()
    }
}

/// A run's view, if it trained on the data `experiment` now shows (same source, split and
/// seed), so its test-set indices match the examples on screen.
fn view_on_same_data<'a>(
    live: &'a Option<LiveRun>,
    experiment: &Experiment,
) -> Option<&'a RunView> {
    let live = live.as_ref()?;
    let same = live.experiment.data == experiment.data && live.experiment.seed == experiment.seed;
    same.then_some(&live.view)
}
