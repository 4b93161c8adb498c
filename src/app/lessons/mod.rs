//! Lessons: short sequences of steps that set up an experiment, point at the tab and the
//! control to watch, and may ask the learner to predict the outcome before pressing Start.
//! A lesson is a plain RON file (the built-in ones live in `assets/lessons/` and are
//! embedded); a lecturer's own opens like a preset, with errors naming the step and field.

pub mod panel;

use super::state::Tab;
use crate::config::{self, ConfigError, Experiment};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The most words a step's text may have: a lecture slide, not a chapter.
pub const MAX_WORDS: usize = 120;

/// The lessons shipped with the program, by file name.
pub const BUILT_IN: [(&str, &str); 8] = [
    (
        "1-softmax-and-temperature",
        include_str!("../../../assets/lessons/1-softmax-and-temperature.ron"),
    ),
    (
        "2-what-soft-targets-know",
        include_str!("../../../assets/lessons/2-what-soft-targets-know.ron"),
    ),
    (
        "3-first-distillation",
        include_str!("../../../assets/lessons/3-first-distillation.ron"),
    ),
    (
        "4-why-t-squared",
        include_str!("../../../assets/lessons/4-why-t-squared.ron"),
    ),
    (
        "5-the-class-never-seen",
        include_str!("../../../assets/lessons/5-the-class-never-seen.ron"),
    ),
    (
        "6-ensembles-as-teachers",
        include_str!("../../../assets/lessons/6-ensembles-as-teachers.ron"),
    ),
    (
        "7-logit-matching",
        include_str!("../../../assets/lessons/7-logit-matching.ron"),
    ),
    (
        "8-when-it-does-not-help",
        include_str!("../../../assets/lessons/8-when-it-does-not-help.ron"),
    ),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    /// One line for the list of lessons.
    pub summary: String,
    pub steps: Vec<Step>,
}

/// One step: what to read, what it sets up, where to look, and what to predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// At most [`MAX_WORDS`] words.
    pub text: String,
    /// The experiment to start from: a built-in preset's name, or a preset file (relative to
    /// the lesson file). Without one the step changes the experiment already in the editor.
    #[serde(default)]
    pub preset: Option<String>,
    /// Changes to it, as `--set` takes them: `distill.temperature=8`.
    #[serde(default)]
    pub changes: Vec<String>,
    /// The tab to show: `curves`, `probabilities`, `temperature`, `regions`, `diagnostics`,
    /// `sweep` or `runs`.
    pub tab: String,
    /// The label of the control to look at, outlined in the window.
    #[serde(default)]
    pub control: Option<String>,
    /// Logits the Temperature tab shows instead of a model's (typed by hand).
    #[serde(default)]
    pub hand_logits: Option<Vec<f32>>,
    /// Whether the step's point is a run: the learner presses Start.
    #[serde(default)]
    pub run: bool,
    #[serde(default)]
    pub question: Option<Question>,
}

/// A "predict first" question, answered before Start and revealed after the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub prompt: String,
    pub choices: Vec<String>,
    /// Index into `choices`, from 0.
    pub answer: usize,
    /// Why that is the answer, shown with it.
    pub why: String,
}

impl Step {
    /// The step's tab (checked when the lesson loads).
    pub fn tab(&self) -> Tab {
        Tab::from_name(&self.tab).unwrap_or(Tab::Curves)
    }

    /// The experiment the step sets up, from `current` (the editor's) when it names no preset.
    pub fn experiment(
        &self,
        current: &Experiment,
        dir: Option<&Path>,
    ) -> Result<Experiment, String> {
        let base = match &self.preset {
            None => current.clone(),
            Some(name) => {
                match super::presets::built_in(name) {
                    Some(exp) => exp,
                    None => {
                        let path = dir.map_or_else(|| PathBuf::from(name), |d| d.join(name));
                        config::load_file(&path).map_err(|e| {
                        format!("preset `{name}` is neither a built-in preset nor a readable file: {e}")
                    })?
                    }
                }
            }
        };
        config::apply_overrides(&base, &self.changes).map_err(|e| e.to_string())
    }
}

/// A lesson, its name and where it came from (a file's folder, for presets beside it).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedLesson {
    /// The built-in name, or the file's path.
    pub name: String,
    pub dir: Option<PathBuf>,
    pub lesson: Lesson,
}

/// Parse and check a lesson. `origin` names it in errors; `dir` is where its preset files
/// are. Every error names the step (from 1) and the field.
pub fn parse(text: &str, origin: &str, dir: Option<&Path>) -> Result<Lesson, String> {
    let lesson: Lesson = config::parse_ron(text, origin).map_err(|e| match e {
        ConfigError::Parse { location, message } => {
            let line: usize = location
                .rsplit(':')
                .nth(1)
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            match step_at_line(text, line) {
                Some(step) => format!("{location}: step {step}: {message}"),
                None => format!("{location}: {message}"),
            }
        }
        other => other.to_string(),
    })?;
    if lesson.steps.is_empty() {
        return Err(format!(
            "{origin}: field steps: a lesson needs at least one step"
        ));
    }
    for (i, step) in lesson.steps.iter().enumerate() {
        check_step(step, dir).map_err(|(field, why)| {
            format!(
                "{origin}: step {} (\"{}\"), field {field}: {why}",
                i + 1,
                step.title
            )
        })?;
    }
    Ok(lesson)
}

/// Which step (from 1) a line of the file falls in: the steps are written `Step(` … `)`.
fn step_at_line(text: &str, line: usize) -> Option<usize> {
    let before: String = text.lines().take(line).collect::<Vec<_>>().join("\n");
    let n = before.matches("Step(").count();
    (n > 0).then_some(n)
}

fn check_step(step: &Step, dir: Option<&Path>) -> Result<(), (&'static str, String)> {
    let words = step.text.split_whitespace().count();
    if words > MAX_WORDS {
        return Err((
            "text",
            format!("{words} words; a step has at most {MAX_WORDS}"),
        ));
    }
    if Tab::from_name(&step.tab).is_none() {
        let names: Vec<String> = Tab::ALL
            .iter()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect();
        return Err((
            "tab",
            format!(
                "`{}` is not a tab; expected one of {}",
                step.tab,
                names.join(", ")
            ),
        ));
    }
    if let Some(q) = &step.question {
        if q.choices.len() < 2 {
            return Err((
                "question.choices",
                "a question needs at least two choices".into(),
            ));
        }
        if q.answer >= q.choices.len() {
            return Err((
                "question.answer",
                format!(
                    "{} is not one of the {} choices (0 to {})",
                    q.answer,
                    q.choices.len(),
                    q.choices.len() - 1
                ),
            ));
        }
    }
    let exp = step.experiment(&Experiment::default(), dir).map_err(|e| {
        (
            if step.changes.is_empty() {
                "preset"
            } else {
                "changes"
            },
            e,
        )
    })?;
    let problems = config::validate(&exp);
    if let Some(p) = problems.first() {
        return Err((
            "changes",
            format!("the experiment it sets up is invalid: {p}"),
        ));
    }
    Ok(())
}

/// A built-in lesson by name.
pub fn built_in(name: &str) -> Option<LoadedLesson> {
    let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
    let lesson = parse(text, &format!("assets/lessons/{name}.ron"), None)
        .expect("built-in lessons parse (tested)");
    Some(LoadedLesson {
        name: name.to_string(),
        dir: None,
        lesson,
    })
}

/// A lesson file.
pub fn load_file(path: &Path) -> Result<LoadedLesson, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read lesson {}: {e}", path.display()))?;
    let dir = path.parent().map(Path::to_path_buf);
    let lesson = parse(&text, &path.display().to_string(), dir.as_deref())?;
    Ok(LoadedLesson {
        name: path.display().to_string(),
        dir,
        lesson,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_lesson_parses_and_checks() {
        for (name, text) in BUILT_IN {
            let lesson = parse(text, name, None).unwrap_or_else(|e| panic!("{e}"));
            assert!(!lesson.steps.is_empty(), "{name}");
        }
    }

    const GOOD: &str = r#"Lesson(title: "t", summary: "s", steps: [
        Step(title: "one", text: "Read this.", tab: "curves"),
        Step(title: "two", text: "And this.", tab: "curves", run: true,
             question: Question(prompt: "?", choices: ["a", "b"], answer: 1, why: "because")),
    ])"#;

    #[test]
    fn errors_name_the_step_and_the_field() {
        assert!(parse(GOOD, "l.ron", None).is_ok());
        let typo = GOOD.replace("run: true", "runn: true");
        let e = parse(&typo, "l.ron", None).unwrap_err();
        assert!(
            e.contains("step 2") && e.contains("`runn`") && e.contains("`run`"),
            "{e}"
        );
        let answer = GOOD.replace("answer: 1", "answer: 2");
        let e = parse(&answer, "l.ron", None).unwrap_err();
        assert!(e.contains("step 2 (\"two\"), field question.answer"), "{e}");
        let tab = GOOD.replace("tab: \"curves\", run", "tab: \"curvez\", run");
        let e = parse(&tab, "l.ron", None).unwrap_err();
        assert!(
            e.contains("step 2 (\"two\"), field tab: `curvez` is not a tab"),
            "{e}"
        );
        let long = GOOD.replace("Read this.", &"word ".repeat(121));
        let e = parse(&long, "l.ron", None).unwrap_err();
        assert!(e.contains("step 1 (\"one\"), field text: 121 words"), "{e}");
        let change = GOOD.replace(
            "tab: \"curves\")",
            "tab: \"curves\", changes: [\"distill.temperatur=2\"])",
        );
        let e = parse(&change, "l.ron", None).unwrap_err();
        assert!(
            e.contains("step 1 (\"one\"), field changes") && e.contains("temperatur"),
            "{e}"
        );
        let range = GOOD.replace(
            "tab: \"curves\")",
            "tab: \"curves\", changes: [\"distill.temperature=-1\"])",
        );
        let e = parse(&range, "l.ron", None).unwrap_err();
        assert!(
            e.contains("field changes: the experiment it sets up is invalid"),
            "{e}"
        );
    }
}
