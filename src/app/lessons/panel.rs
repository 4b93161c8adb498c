//! The Lessons panel: the built-in lessons to choose from, then the current step's text, its
//! "predict first" question and Back / Next. It only emits commands; `apply.rs` sets a step
//! up (experiment, tab, outlined control) and the run reveals the answer.

use super::{BUILT_IN, LoadedLesson, Step};
use crate::app::command::Command;
use egui::{RichText, Ui};
use std::collections::BTreeMap;

/// A lesson being followed.
#[derive(Debug, Clone)]
pub struct LessonSession {
    pub loaded: LoadedLesson,
    pub step: usize,
    /// The learner's prediction for the current step's question.
    pub choice: Option<usize>,
    /// Whether the answer is shown (after the step's run, or Check for a step without one).
    pub revealed: bool,
}

impl LessonSession {
    pub fn new(loaded: LoadedLesson, step: usize) -> Self {
        let last = loaded.lesson.steps.len().saturating_sub(1);
        LessonSession {
            loaded,
            step: step.min(last),
            choice: None,
            revealed: false,
        }
    }

    pub fn current(&self) -> &Step {
        &self.loaded.lesson.steps[self.step]
    }

    /// The step asks for a prediction before its run and has none yet.
    pub fn awaits_prediction(&self) -> bool {
        let step = self.current();
        step.run && step.question.is_some() && self.choice.is_none()
    }
}

/// Keyboard shortcuts of the lesson commands (a presenter's remote sends Page Up / Down).
pub const NEXT_KEY: egui::Key = egui::Key::PageDown;
pub const BACK_KEY: egui::Key = egui::Key::PageUp;

pub fn lessons_ui(
    ui: &mut Ui,
    session: Option<&LessonSession>,
    progress: &BTreeMap<String, usize>,
    (present, control_drawn): (bool, bool),
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.heading("Lessons");
        if ui.small_button("Close").clicked() {
            commands.push(Command::ToggleLessons);
        }
    });
    match session {
        None => lesson_list(ui, progress, commands),
        Some(s) => step_ui(ui, s, (present, control_drawn), commands),
    }
}

fn lesson_list(ui: &mut Ui, progress: &BTreeMap<String, usize>, commands: &mut Vec<Command>) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (name, _) in BUILT_IN {
            let Some(loaded) = super::built_in(name) else {
                continue;
            };
            let l = &loaded.lesson;
            if ui.button(&l.title).clicked() {
                commands.push(Command::OpenLesson(name.to_string()));
            }
            let mut line = l.summary.clone();
            if let Some(&k) = progress.get(name) {
                line.push_str(&format!(" (left at step {} of {})", k + 1, l.steps.len()));
            }
            ui.label(RichText::new(line).weak());
            ui.add_space(4.0);
        }
        ui.separator();
        if ui.button("Open lesson file…").clicked() {
            commands.push(Command::OpenLessonDialog);
        }
    });
}

fn step_ui(
    ui: &mut Ui,
    s: &LessonSession,
    (present, control_drawn): (bool, bool),
    commands: &mut Vec<Command>,
) {
    let lesson = &s.loaded.lesson;
    let step = s.current();
    let size = if present { 22.0 } else { 15.0 };
    ui.label(RichText::new(&lesson.title).strong());
    ui.label(format!(
        "Step {} of {}: {}",
        s.step + 1,
        lesson.steps.len(),
        step.title
    ));
    ui.horizontal(|ui| {
        let back = ui.add_enabled(s.step > 0, egui::Button::new("Back"));
        if back.on_hover_text("Page Up").clicked() {
            commands.push(Command::LessonStep(-1));
        }
        let last = s.step + 1 >= lesson.steps.len();
        let next = ui.add_enabled(!last, egui::Button::new("Next"));
        if next.on_hover_text("Page Down").clicked() {
            commands.push(Command::LessonStep(1));
        }
        if ui
            .button("Set up again")
            .on_hover_text("this step's experiment and tab, as the lesson gives them")
            .clicked()
        {
            commands.push(Command::LessonStep(0));
        }
        if ui.button("All lessons").clicked() {
            commands.push(Command::CloseLesson);
        }
    });
    ui.separator();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.label(RichText::new(&step.text).size(size));
        if let Some(control) = &step.control {
            let place = if control_drawn {
                "outlined"
            } else if present {
                "in the editor, hidden in presentation mode (F5)"
            } else {
                "outlined once it is on screen"
            };
            ui.label(RichText::new(format!("Look at: {control} ({place})")).italics());
        }
        if let Some(q) = &step.question {
            ui.add_space(8.0);
            question_ui(ui, s, q, size, commands);
        } else if step.run {
            ui.label(RichText::new("Press Start.").strong());
        }
    });
}

fn question_ui(
    ui: &mut Ui,
    s: &LessonSession,
    q: &super::Question,
    size: f32,
    commands: &mut Vec<Command>,
) {
    ui.label(
        RichText::new(format!("Predict first: {}", q.prompt))
            .size(size)
            .strong(),
    );
    for (i, choice) in q.choices.iter().enumerate() {
        let r = ui.add_enabled(
            !s.revealed,
            egui::RadioButton::new(s.choice == Some(i), RichText::new(choice).size(size)),
        );
        if r.clicked() {
            commands.push(Command::LessonChoice(i));
        }
    }
    if s.revealed {
        let verdict = if s.choice == Some(q.answer) {
            "Right."
        } else {
            "Not quite."
        };
        ui.label(
            RichText::new(format!("{verdict} The answer: {}", q.choices[q.answer]))
                .size(size)
                .strong(),
        );
        ui.label(RichText::new(&q.why).size(size));
    } else if s.current().run {
        let hint = match s.choice {
            None => "Choose an answer, then press Start: it is revealed when the run ends.",
            Some(_) => "Now press Start: the answer is revealed when the run ends.",
        };
        ui.label(RichText::new(hint).italics());
    } else if ui
        .add_enabled(s.choice.is_some(), egui::Button::new("Check answer"))
        .clicked()
    {
        commands.push(Command::RevealAnswer);
    }
}
