//! Lesson commands take effect here: opening a lesson, moving between its steps (each sets
//! up its experiment, tab and outlined control), the learner's prediction, and the answer
//! revealed when the step's run ends. Progress is kept in the view settings, so a lesson
//! reopens where it was left.

use super::command::Command;
use super::lessons::panel::LessonSession;
use super::lessons::{self, LoadedLesson};
use super::workbench::Workbench;

/// Where the outlined control's label is kept for the widgets to find, each frame.
pub const HIGHLIGHT: &str = "lesson-highlight";
/// Set by the widget that drew the outline, this frame.
pub const HIGHLIGHT_DRAWN: &str = "lesson-highlight-drawn";

/// Outline `response` if its label is the control the lesson step points at.
pub fn highlight(ui: &egui::Ui, response: &egui::Response, label: &str) {
    let id = egui::Id::unique(HIGHLIGHT);
    let wanted: Option<Option<String>> = ui.ctx().data(|d| d.get_temp(id));
    if wanted.flatten().as_deref() != Some(label) {
        return;
    }
    ui.ctx()
        .layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("lesson-outline"),
        ))
        .rect_stroke(
            response.rect.expand(4.0),
            4.0,
            egui::Stroke::new(3.0, super::style::HIGHLIGHT),
            egui::StrokeKind::Outside,
        );
    ui.ctx()
        .data_mut(|d| d.insert_temp(egui::Id::unique(HIGHLIGHT_DRAWN), true));
}

impl Workbench {
    pub(super) fn apply_lesson(&mut self, command: Command) {
        match command {
            Command::ToggleLessons => self.view.show_lessons = !self.view.show_lessons,
            Command::OpenLesson(name) => match lessons::built_in(&name) {
                Some(loaded) => self.begin_lesson(loaded),
                None => self.error(format!("there is no built-in lesson `{name}`")),
            },
            Command::OpenLessonPath(path) => match lessons::load_file(&path) {
                Ok(loaded) => self.begin_lesson(loaded),
                Err(e) => self.error(e),
            },
            Command::CloseLesson => {
                self.lesson = None;
                self.view.lesson = None;
            }
            Command::LessonStep(delta) => {
                if self.running() {
                    self.error("stop the run before moving to another lesson step");
                    return;
                }
                let Some(s) = &mut self.lesson else { return };
                let last = s.loaded.lesson.steps.len() - 1;
                s.step = s.step.saturating_add_signed(delta).min(last);
                self.set_up_step();
            }
            Command::LessonChoice(i) => {
                if let Some(s) = &mut self.lesson
                    && !s.revealed
                {
                    s.choice = Some(i);
                }
            }
            Command::RevealAnswer => {
                if let Some(s) = &mut self.lesson
                    && s.choice.is_some()
                {
                    s.revealed = true;
                }
            }
            _ => {}
        }
    }

    /// Open a lesson at the step it was left at, and set that step up.
    fn begin_lesson(&mut self, loaded: LoadedLesson) {
        let step = self
            .view
            .lesson_progress
            .get(&loaded.name)
            .copied()
            .unwrap_or(0);
        self.view.lesson = Some(loaded.name.clone());
        self.view.show_lessons = true;
        self.lesson = Some(LessonSession::new(loaded, step));
        self.set_up_step();
    }

    /// Reopen the lesson of the last session at its step, without setting it up again: the
    /// experiment the learner had is restored as it was.
    pub(super) fn resume_lesson(&mut self) {
        let Some(name) = self.view.lesson.clone() else {
            return;
        };
        let loaded = lessons::built_in(&name)
            .map(Ok)
            .unwrap_or_else(|| lessons::load_file(std::path::Path::new(&name)));
        match loaded {
            Ok(loaded) => {
                let step = self.view.lesson_progress.get(&name).copied().unwrap_or(0);
                self.lesson = Some(LessonSession::new(loaded, step));
            }
            Err(e) => {
                self.view.lesson = None;
                self.error(format!("could not reopen the last lesson: {e}"));
            }
        }
    }

    /// Set up the current step: its experiment, tab, hand-typed logits and outlined control.
    fn set_up_step(&mut self) {
        if self.running() {
            self.error("stop the run before setting up a lesson step");
            return;
        }
        let Some(s) = &mut self.lesson else { return };
        s.choice = None;
        s.revealed = false;
        self.view
            .lesson_progress
            .insert(s.loaded.name.clone(), s.step);
        let step = s.current().clone();
        match step.experiment(&self.experiment, s.loaded.dir.as_deref()) {
            Ok(exp) => {
                self.experiment = exp;
                self.view.current_file = None;
            }
            Err(e) => self.error(format!(
                "this lesson step cannot set up its experiment: {e}"
            )),
        }
        self.view.tab = step.tab();
        if let Some(z) = step.hand_logits {
            self.view.hand_logits = z;
            self.view.use_hand_logits = true;
        } else if step.tab() == super::state::Tab::Temperature {
            self.view.use_hand_logits = false;
        }
    }

    /// The run of a step with a question has ended: show the answer.
    pub(super) fn reveal_after_run(&mut self) {
        if let Some(s) = &mut self.lesson
            && s.current().run
            && s.choice.is_some()
        {
            s.revealed = true;
        }
    }

    /// What the widgets outline this frame.
    pub(super) fn publish_highlight(&self, ctx: &egui::Context) {
        let control = self
            .lesson
            .as_ref()
            .filter(|_| self.view.show_lessons)
            .and_then(|s| s.current().control.clone());
        ctx.data_mut(|d| {
            d.insert_temp(egui::Id::unique(HIGHLIGHT), control);
            d.insert_temp(egui::Id::unique(HIGHLIGHT_DRAWN), false);
        });
    }
}
