//! The application: owns the experiment, the run the engine is doing, and the panels.
//! Panels emit [`Command`]s; [`Workbench::apply`] is the one place they take effect.

use super::Launch;
use super::command::Command;
use super::curves::curves_ui;
use super::dialogs::{DialogKind, DialogRequest, FileDialogs, PendingPath};
use super::experiment_panel::ExperimentPanel;
use super::preview::DataPreview;
use super::probabilities::{ProbabilitiesTab, live_probabilities_ui};
use super::regions::{RegionTextures, regions_ui};
use super::runs::{RunRecord, runs_ui};
use super::session::{LiveRun, RunState, RunView};
use super::state::{self, Tab, ViewSettings};
use super::temperature::TemperatureTab;
use super::top_bar::TopBar;
use super::widgets::Problems;
use crate::config::{self, DataSource, Experiment};
use crate::train::{Role, Severity};
use egui::{Key, Modifiers, RichText, Ui};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long draining engine events may take per frame.
const EVENT_BUDGET: Duration = Duration::from_millis(6);
/// Repaint interval while something is going on; coalesces many events into one frame.
const REPAINT_EVERY: Duration = Duration::from_millis(50);

/// A message the user reads and dismisses.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub severity: Severity,
    pub shown_at: Instant,
}

impl Message {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Information fades; warnings and errors stay until dismissed.
    fn expired(&self) -> bool {
        self.severity == Severity::Info && self.shown_at.elapsed().as_secs_f64() >= INFO_SECONDS
    }
}

/// Information goes away with the first frame drawn this long after it appeared (no frame
/// is drawn just for that); warnings and errors stay until dismissed.
const INFO_SECONDS: f64 = 8.0;

/// What an open dialog's answer is for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DialogPurpose {
    OpenPreset,
    SavePreset,
    OpenRun,
    ExportCsv(usize),
    SaveRunFolder(usize),
    ExportPng,
    DataSource,
    TeacherWeights,
}

type SharedImage = Arc<Mutex<Option<Arc<egui::ColorImage>>>>;

/// A window screenshot on its way: where it goes and which part of the window.
struct PendingShot {
    path: PathBuf,
    crop: Option<egui::Rect>,
    image: SharedImage,
    then_close: bool,
}

pub struct Workbench {
    pub experiment: Experiment,
    pub view: ViewSettings,
    pub live: Option<LiveRun>,
    pub runs: Vec<RunRecord>,
    pub preview: DataPreview,
    pub messages: Vec<Message>,
    pub problems: Problems,
    region_textures: RegionTextures,
    dialogs: Box<dyn FileDialogs>,
    pending_dialog: Option<(DialogPurpose, PendingPath)>,
    commands: Vec<Command>,
    launch: Launch,
    launched_at: Instant,
    screenshot_requested: bool,
    pending_shot: Option<PendingShot>,
    /// The central area's rectangle last frame, for exporting the plot.
    central_rect: Option<egui::Rect>,
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
                super::presets::built_in(super::presets::DEFAULT)
                    .expect("the default preset parses")
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

    fn info(&mut self, text: impl Into<String>) {
        self.say(Severity::Info, text);
    }

    fn error(&mut self, text: impl Into<String>) {
        self.say(Severity::Error, text);
    }

    /// Show a message once: the same words already on screen are not repeated.
    fn say(&mut self, severity: Severity, text: impl Into<String>) {
        let text = text.into();
        if let Some(m) = self.messages.iter_mut().find(|m| m.text == text) {
            m.severity = m.severity.max(severity);
            m.shown_at = Instant::now();
            return;
        }
        self.messages.push(Message {
            text,
            severity,
            shown_at: Instant::now(),
        });
    }

    fn running(&self) -> bool {
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
        self.messages.retain(|m| !m.expired());
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

    fn apply_commands(&mut self, ctx: &egui::Context) {
        while !self.commands.is_empty() {
            let commands = std::mem::take(&mut self.commands);
            for c in commands {
                self.apply(c, ctx);
            }
        }
    }

    fn messages_ui(&mut self, ui: &mut Ui) {
        for (i, m) in self.messages.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button("Dismiss").clicked() {
                    self.commands.push(Command::DismissMessage(i));
                }
                let text = RichText::new(&m.text);
                if m.is_error() {
                    ui.colored_label(super::style::ERROR, text);
                } else {
                    ui.label(text);
                }
            });
        }
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

    // ----- commands -----------------------------------------------------------------------------

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::Start => self.start(),
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

    fn start(&mut self) {
        if let Some(why) = self.start_blocked() {
            self.error(format!("cannot start: {why}"));
            return;
        }
        self.live = Some(LiveRun::start(self.experiment.clone()));
        self.region_textures = RegionTextures::default();
    }

    fn open_path(&mut self, path: &Path) {
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

    fn save_to(&mut self, path: &Path) {
        match crate::run::write_atomic(path, config::to_ron_string(&self.experiment).as_bytes()) {
            Ok(()) => {
                self.view.remember(path.to_path_buf());
                self.info(format!("saved {}", path.display()));
            }
            Err(e) => self.error(e.to_string()),
        }
    }

    // ----- dialogs ------------------------------------------------------------------------------

    fn ask(
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
            DialogPurpose::OpenPreset | DialogPurpose::SavePreset => {
                Some(("RON preset".into(), vec!["ron".into()]))
            }
            DialogPurpose::ExportCsv(_) => Some(("CSV".into(), vec!["csv".into()])),
            DialogPurpose::ExportPng => Some(("PNG image".into(), vec!["png".into()])),
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

    fn poll_dialog(&mut self) {
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

    fn dialog_answered(&mut self, purpose: DialogPurpose, path: PathBuf) {
        match purpose {
            DialogPurpose::OpenPreset => self.open_path(&path),
            DialogPurpose::SavePreset => self.save_to(&path),
            DialogPurpose::OpenRun => match crate::run::read_run(&path) {
                Ok(saved) => {
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
                let csv = crate::run::steps_csv(&run.history.steps);
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
        }
    }

    // ----- screenshots --------------------------------------------------------------------------

    fn screenshot_logic(&mut self, ctx: &egui::Context) {
        if let Some((path, after)) = self.launch.screenshot.clone()
            && self.pending_shot.is_none()
            && !self.screenshot_requested
            && self.launched_at.elapsed().as_secs_f64() >= after
        {
            self.pending_shot = Some(PendingShot {
                path,
                crop: None,
                image: SharedImage::default(),
                then_close: true,
            });
        }
        let Some(shot) = &self.pending_shot else {
            return;
        };
        if !self.screenshot_requested {
            let slot = shot.image.clone();
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(image);
                repaint.request_repaint();
            });
            self.screenshot_requested = true;
            return;
        }
        let image = shot.image.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(image) = image else { return };
        let shot = self.pending_shot.take().expect("checked above");
        let image = match shot.crop {
            Some(rect) => image.region(&rect, Some(ctx.pixels_per_point())),
            None => (*image).clone(),
        };
        match save_png(&shot.path, &image) {
            Ok(()) => {
                eprintln!("wrote {}", shot.path.display());
                if !shot.then_close {
                    self.info(format!("wrote {}", shot.path.display()));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                self.exit_code.store(1, std::sync::atomic::Ordering::SeqCst);
                self.error(e);
            }
        }
        if shot.then_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        } else {
            self.screenshot_requested = false;
        }
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

/// Write an image as an 8-bit RGBA PNG.
pub fn save_png(path: &Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(image.as_raw())
            .map_err(|e| e.to_string())?;
    }
    crate::run::write_atomic(path, &bytes).map_err(|e| e.to_string())
}
