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
use super::frame_stats::FrameStats;
use super::messages::Message;
use super::preview::DataPreview;
use super::probabilities::{ProbabilitiesTab, WrongSampleSearch, live_probabilities_ui};
use super::regions::{RegionTextures, regions_ui};
use super::runs::{RunRecord, runs_ui};
use super::screenshot::PendingShot;
use super::session::{LiveRun, RunState, RunView};
use super::state::{self, Tab, ViewSettings};
use super::temperature::{TeacherSample, TemperatureTab};
use super::top_bar::TopBar;
use super::widgets::Problems;
use crate::config::{self, Experiment};
use crate::train::{Role, Severity};
use egui::{Key, Modifiers, RichText, Ui};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long draining engine events may take per frame.
const EVENT_BUDGET: Duration = Duration::from_millis(6);
/// Repaint interval while something is going on; coalesces many events into one frame.
const REPAINT_EVERY: Duration = Duration::from_millis(100);

pub struct Workbench {
    pub experiment: Experiment,
    pub view: ViewSettings,
    pub live: Option<LiveRun>,
    pub runs: Vec<RunRecord>,
    /// The Runs tab's method comparison (a background sweep).
    pub comparison: super::compare::Comparison,
    /// The Sweep tab's grid over T and α (a background sweep).
    pub sweep: super::sweep_tab::SweepTab,
    /// The lesson being followed, if any.
    pub lesson: Option<super::lessons::panel::LessonSession>,
    /// Whether the control the lesson step points at was outlined in the last frame.
    pub lesson_control_drawn: bool,
    /// Whether the last frame was in presentation mode (to switch zoom on a change).
    presenting: bool,
    /// A plot to draw again at twice the resolution and save: the file and its rectangle.
    pub(super) plot_to_save: Option<(std::path::PathBuf, egui::Rect)>,
    /// Whether the tab is being drawn off screen, and the Curves tab's side panel width.
    offscreen: bool,
    live_panel_width: Option<f32>,
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
    /// The experiment `problems` were found for: validation (which looks at files) runs
    /// once per change, not once per frame.
    pub(super) validated: Option<Experiment>,
    /// Validations run so far.
    pub validations: usize,
    /// The search behind "a sample the student gets wrong".
    pub wrong_sample: WrongSampleSearch,
    /// How long each frame took, for `distillery gui --frame-stats`.
    pub frame_stats: Arc<Mutex<FrameStats>>,
    /// The last finished run's training speed, printed with the frame times.
    pub speed_report: Arc<Mutex<Option<String>>>,
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
            comparison: Default::default(),
            sweep: Default::default(),
            lesson: None,
            lesson_control_drawn: false,
            presenting: false,
            plot_to_save: None,
            offscreen: false,
            live_panel_width: None,
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
            validated: None,
            validations: 0,
            wrong_sample: WrongSampleSearch::default(),
            frame_stats: Arc::default(),
            speed_report: Arc::default(),
        };
        app.resume_lesson();
        if app.launch.present {
            app.view.present = true;
        }
        if let Some(lesson) = app.launch.lesson.clone() {
            app.commands.push(match super::lessons::built_in(&lesson) {
                Some(_) => Command::OpenLesson(lesson),
                None => Command::OpenLessonPath(lesson.into()),
            });
        }
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
        if self.comparison.is_running() {
            return Some("a method comparison is running (Runs tab)".into());
        }
        if self.sweep.is_running() {
            return Some("a sweep is running (Sweep tab)".into());
        }
        if self
            .lesson
            .as_ref()
            .is_some_and(|s| self.view.show_lessons && s.awaits_prediction())
        {
            return Some("predict first: answer the lesson's question, then press Start".into());
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
        super::present::apply(ctx, &mut self.view, &mut self.presenting);
        self.poll_dialog();
        self.drain_run();
        self.comparison.drain();
        self.sweep.drain();
        if self.comparison.is_running() || self.sweep.is_running() {
            ctx.request_repaint_after(REPAINT_EVERY);
        }
        self.preview.follow(&self.experiment);
        if self.preview.poll()
            && let Some(data) = &self.preview.data
            && data.test.is_empty()
        {
            self.say(Severity::Warning, super::probabilities::EMPTY_TEST_SPLIT);
        }
        self.expire_messages();
        // Files can appear while the window is away: look again when it comes back.
        if ctx.input(|i| i.events.contains(&egui::Event::WindowFocused(true))) {
            self.validated = None;
        }
        self.revalidate();
        self.shortcuts(ctx);
        self.screenshot_logic(ctx);
        self.apply_commands(ctx);
        if !self.is_settled() {
            ctx.request_repaint_after(REPAINT_EVERY);
        }
    }

    /// Validate the experiment if it changed since the last validation.
    pub(super) fn revalidate(&mut self) {
        if self.validated.as_ref() != Some(&self.experiment) {
            self.problems = Problems(config::validate(&self.experiment));
            self.validated = Some(self.experiment.clone());
            self.validations += 1;
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
            self.reveal_after_run();
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
        if let Some(summary) = &live.view.summary {
            *self.speed_report.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(speed_line(summary));
        }
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
        let (space, open, save, next, back, present) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::Space),
                i.consume_key(Modifiers::COMMAND, Key::O),
                i.consume_key(Modifiers::COMMAND, Key::S),
                i.consume_key(Modifiers::NONE, super::lessons::panel::NEXT_KEY),
                i.consume_key(Modifiers::NONE, super::lessons::panel::BACK_KEY),
                i.consume_key(Modifiers::NONE, Key::F5),
            )
        });
        if self.lesson.is_some() && (next || back) {
            self.commands
                .push(Command::LessonStep(if next { 1 } else { -1 }));
        }
        if present {
            self.commands.push(Command::TogglePresent);
        }
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
        self.publish_highlight(ui.ctx());
        egui::Panel::top("top-bar").show(ui, |ui| {
            TopBar {
                live: self.live.as_ref(),
                start_blocked: self.start_blocked(),
                recent_files: &self.view.recent_files,
                current_file: self.view.current_file.as_ref(),
                dark_mode: &mut self.view.dark_mode,
                lessons_open: self.view.show_lessons,
                present: self.view.present,
                commands: &mut self.commands,
            }
            .ui(ui);
        });
        // Messages sit at the bottom so their coming and going never moves the controls.
        if !self.messages.is_empty() {
            egui::Panel::bottom("messages").show(ui, |ui| self.messages_ui(ui));
        }
        if self.view.show_lessons {
            egui::Panel::right("lessons")
                .resizable(true)
                .default_size(360.0)
                .show(ui, |ui| {
                    super::lessons::panel::lessons_ui(
                        ui,
                        self.lesson.as_ref(),
                        &self.view.lesson_progress,
                        (self.view.present, self.lesson_control_drawn),
                        &mut self.commands,
                    );
                });
        }
        // Presentation mode hides the editor so the plots fill the window.
        if !self.view.present {
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
        }
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
            self.look_at_ui(ui);
            ui.separator();
            self.central_rect = Some(ui.available_rect_before_wrap());
            self.tab_ui(ui);
        });
        if let Some(rect) = super::plot_export::take_request(ui.ctx()) {
            self.ask(
                DialogPurpose::ExportPlot(rect),
                super::dialogs::DialogKind::SaveFile,
                "Save plot as PNG",
                Some("plot.png".into()),
            );
        }
        if let Some((path, rect)) = self.plot_to_save.take() {
            self.save_plot(ui.ctx(), &path, rect);
        }
        self.lesson_control_drawn = ui.ctx().data(|d| {
            d.get_temp(egui::Id::unique(super::lesson_steps::HIGHLIGHT_DRAWN))
                .unwrap_or(false)
        });
        // Clicks take effect in the frame they happen in, and so does the data they name:
        // the preview starts loading now, so the window is never "settled" with a load due.
        let ctx = ui.ctx().clone();
        self.apply_commands(&ctx);
        self.preview.follow(&self.experiment);
    }

    /// Draw the tab again off screen at twice the resolution and save the plot at `rect`.
    fn save_plot(&mut self, ctx: &egui::Context, path: &std::path::Path, rect: egui::Rect) {
        let Some(central) = self.central_rect else {
            return;
        };
        let ppp = ctx.pixels_per_point() * super::plot_export::SCALE;
        // Region maps are textures of the window's context: the copy loads its own.
        let fresh = self.region_textures.same_view();
        let textures = std::mem::replace(&mut self.region_textures, fresh);
        self.offscreen = true;
        let image = super::plot_export::render(ctx, central.size(), ppp, |ui| self.tab_ui(ui));
        self.offscreen = false;
        self.region_textures = textures;
        let plot = super::plot_export::crop(&image, central.min, rect, ppp);
        match super::save_png(path, &plot) {
            Ok(()) => self.info(format!(
                "wrote {} ({} × {} pixels, twice the screen's resolution)",
                path.display(),
                plot.size[0],
                plot.size[1]
            )),
            Err(e) => self.error(e),
        }
    }

    /// A built-in preset's one line on what to watch, under the tabs.
    fn look_at_ui(&self, ui: &mut Ui) {
        if let Some(hint) = super::presets::look_at(&self.experiment.name) {
            ui.label(RichText::new(format!("What to look at: {hint}")).italics());
        }
    }

    /// The run on screen, if it was trained on the data now shown (so test indices match).
    fn run_on_shown_data(&self) -> Option<&LiveRun> {
        let live = self.live.as_ref()?;
        self.preview
            .shows(&live.experiment.data, live.experiment.seed)
            .then_some(live)
    }

    /// The line over every view saying which run it shows: its T, α, seed and ensemble rule.
    fn run_header_ui(&self, ui: &mut Ui) {
        let Some(live) = &self.live else { return };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(live.header()).strong())
                .on_hover_text(
                    "every view shows this run's numbers; editing the experiment changes the \
                     next run, not this one",
                );
            let needs_data = matches!(
                self.view.tab,
                Tab::Curves | Tab::Probabilities | Tab::Temperature | Tab::Regions
            );
            if needs_data && self.run_on_shown_data().is_none() && !self.preview.is_loading() {
                ui.label(
                    RichText::new(
                        "(trained on other data than the experiment now shows: its examples \
                         appear when the data settings match again)",
                    )
                    .italics(),
                );
            }
        });
        ui.separator();
    }

    fn tab_ui(&mut self, ui: &mut Ui) {
        // The Runs and Sweep tabs show many runs, each table and plot naming its own.
        if !matches!(self.view.tab, Tab::Runs | Tab::Sweep) {
            self.run_header_ui(ui);
        }
        match self.view.tab {
            Tab::Curves => {
                let sample = self.view.sample;
                // Wide enough for a name under each of ten bars; in presentation mode the
                // curves have the whole width.
                if !self.view.present {
                    let panel = egui::Panel::right("live-probabilities")
                        .resizable(true)
                        .default_size(320.0)
                        .min_size(280.0);
                    // Drawn again off screen (a plot saved at 2×), the panel keeps the width
                    // it has on screen, so the plots beside it keep theirs.
                    let panel = match self.live_panel_width {
                        Some(w) if self.offscreen => panel.exact_size(w),
                        _ => panel,
                    };
                    let shown = panel.show(ui, |ui| {
                        let run = shown_run(&self.live, &self.preview);
                        live_probabilities_ui(ui, run, &mut self.preview, sample);
                    });
                    if !self.offscreen {
                        self.live_panel_width = Some(shown.response.rect.width());
                    }
                }
                let (view, distill) = match &mut self.live {
                    Some(l) => (Some(&mut l.view), Some(&l.experiment.distill)),
                    None => (None, None),
                };
                curves_ui(ui, view, distill, &mut self.view);
            }
            Tab::Probabilities => ProbabilitiesTab {
                run: shown_run(&self.live, &self.preview),
                preview: &mut self.preview,
                settings: &mut self.view,
                wrong: &mut self.wrong_sample,
            }
            .ui(ui),
            Tab::Temperature => {
                let teacher = self.teacher_sample();
                let class_names = self
                    .run_on_shown_data()
                    .and_then(LiveRun::class_names)
                    .map(<[String]>::to_vec)
                    .or_else(|| {
                        let data = self.preview.data.as_ref()?;
                        Some(data.train.class_names.clone())
                    })
                    .unwrap_or_default();
                TemperatureTab {
                    settings: &mut self.view,
                    teacher,
                    class_names,
                    experiment_temperature: self.experiment.distill.temperature as f32,
                }
                .ui(ui);
            }
            Tab::Regions => {
                let view = shown_run(&self.live, &self.preview).map(|r| &r.view);
                regions_ui(ui, view, &self.preview, &mut self.region_textures);
            }
            Tab::Diagnostics => {
                let run = shown_run(&self.live, &self.preview);
                let names = run
                    .and_then(LiveRun::class_names)
                    .map(<[String]>::to_vec)
                    .unwrap_or_default();
                let classes = run
                    .and_then(|r| r.view.setup.as_ref())
                    .map_or(names.len(), |s| s.data.classes);
                let names = super::bars::names_for(&names, classes);
                let data = self.preview.data.clone();
                let labels = data.as_ref().map(|d| d.test.labels.as_slice());
                super::diagnostics::diagnostics_ui(ui, run, &names, labels);
            }
            Tab::Sweep => {
                let blocked = self.start_blocked();
                super::sweep_tab::sweep_ui(
                    ui,
                    &mut self.sweep,
                    &self.experiment,
                    blocked,
                    &mut self.commands,
                );
            }
            Tab::Runs => {
                let blocked = self.start_blocked().is_some();
                runs_ui(ui, &mut self.runs, &mut self.commands);
                ui.separator();
                let members = self.experiment.teacher.members.len();
                super::compare::compare_ui(
                    ui,
                    &mut self.comparison,
                    members,
                    blocked,
                    &mut self.commands,
                );
            }
        }
    }

    /// The teacher's members' logits for the selected test example, with the run's own
    /// ensemble rule and T (not the editor's).
    fn teacher_sample(&self) -> Option<TeacherSample> {
        let run = self.run_on_shown_data()?;
        let logits = run.view.logits.get(&Role::Teacher)?;
        let k = logits.classes;
        let s = self.view.sample;
        let members = logits
            .members
            .iter()
            .map(|m| m.get(s * k..(s + 1) * k).map(<[f32]>::to_vec))
            .collect::<Option<Vec<_>>>()?;
        (!members.is_empty() && k > 0).then(|| TeacherSample {
            members,
            combine: run.experiment.teacher.combine,
            run_temperature: run.temperature(),
        })
    }
}

/// The run on screen, if it trained on the data the preview now shows (same source, split
/// and seed), so its test-set indices match the examples on screen.
fn shown_run<'a>(live: &'a Option<LiveRun>, preview: &DataPreview) -> Option<&'a LiveRun> {
    let live = live.as_ref()?;
    preview
        .shows(&live.experiment.data, live.experiment.seed)
        .then_some(live)
}

/// Each phase's training speed, as `distillery bench` reports it.
fn speed_line(summary: &crate::train::Summary) -> String {
    let models = [
        ("teacher", Some(&summary.teacher)),
        ("baseline", summary.baseline.as_ref()),
        ("student", summary.student.as_ref()),
    ];
    let parts: Vec<String> = models
        .iter()
        .filter_map(|(name, report)| {
            let speed = (*report)?.samples_per_second?;
            Some(format!("{name} {speed:.0}"))
        })
        .collect();
    format!(
        "training examples per second: {} (wall {:.2} s)",
        parts.join(", "),
        summary.wall_seconds
    )
}
