//! Every built-in lesson, walked step by step in the real window: each step sets up the
//! experiment and the tab it names and outlines its control; a step with a question keeps
//! Start blocked until the learner predicts, and its run reveals the answer, within the
//! 30 seconds a lecture allows. A lecturer's own lesson file opens; a malformed one is
//! refused with the step and the field named.

use crate::gui::{harness, settle, step_until};
use distillery::app::lessons::{self, BUILT_IN};
use distillery::app::{RunState, ScriptedDialogs, Workbench};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::time::{Duration, Instant};

/// Press Start and wait for the run; returns how long it took.
fn run_step(h: &mut Harness<'static, Workbench>) -> Duration {
    let t0 = Instant::now();
    h.get_by_label("Start").click();
    h.run();
    assert!(
        step_until(h, Duration::from_secs(60), |w| w
            .live
            .as_ref()
            .is_some_and(|l| l.state == RunState::Finished)),
        "the step's run did not finish"
    );
    settle(h);
    t0.elapsed()
}

#[test]
fn every_built_in_lesson_sets_up_each_step_and_reveals_its_answers() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    settle(&mut h);
    h.get_by_label("Lessons").click();
    settle(&mut h);
    let mut slowest = Duration::ZERO;
    for (name, _) in BUILT_IN {
        let lesson = lessons::built_in(name).unwrap().lesson;
        let before = h.state().experiment.clone();
        h.get_by_label(&lesson.title).click();
        settle(&mut h);
        let mut expected = lesson.steps[0].experiment(&before, None).unwrap();
        for (i, step) in lesson.steps.iter().enumerate() {
            let where_ = format!("{name}, step {}", i + 1);
            let s = h.state().lesson.as_ref().unwrap();
            assert_eq!(s.step, i, "{where_}");
            assert_eq!(h.state().view.tab, step.tab(), "{where_}");
            assert_eq!(h.state().experiment, expected, "{where_}");
            if let Some(z) = &step.hand_logits {
                assert_eq!(&h.state().view.hand_logits, z, "{where_}");
                assert!(h.state().view.use_hand_logits, "{where_}");
            }
            if let Some(q) = &step.question {
                let wrong = (q.answer + 1) % q.choices.len();
                if step.run {
                    let why = h.state().start_blocked().unwrap_or_default();
                    assert!(why.contains("predict first"), "{where_}: {why}");
                }
                h.get_by_role_and_label(Role::RadioButton, &q.choices[wrong])
                    .click();
                settle(&mut h);
                if step.run {
                    assert_eq!(h.state().start_blocked(), None, "{where_}");
                    slowest = slowest.max(run_step(&mut h));
                } else {
                    h.get_by_label("Check answer").click();
                    settle(&mut h);
                }
                assert!(h.state().lesson.as_ref().unwrap().revealed, "{where_}");
                let answer = format!("Not quite. The answer: {}", q.choices[q.answer]);
                assert!(h.query_by_label(&answer).is_some(), "{where_}: {answer}");
            } else if step.run {
                slowest = slowest.max(run_step(&mut h));
            }
            if step.control.is_some() {
                h.run();
                assert!(
                    h.state().lesson_control_drawn,
                    "{where_}: {:?} is not outlined",
                    step.control
                );
            }
            if let Some(next) = lesson.steps.get(i + 1) {
                let before = h.state().experiment.clone();
                expected = next.experiment(&before, None).unwrap();
                h.get_by_label("Next").click();
                settle(&mut h);
            }
        }
        assert_eq!(
            h.state().view.lesson_progress.get(name),
            Some(&(lesson.steps.len() - 1)),
            "progress is kept"
        );
        h.get_by_label("Back").click();
        settle(&mut h);
        assert_eq!(
            h.state().lesson.as_ref().unwrap().step,
            lesson.steps.len() - 2
        );
        h.get_by_label("All lessons").click();
        settle(&mut h);
    }
    eprintln!("the slowest lesson step ran {slowest:?}");
    assert!(
        slowest < Duration::from_secs(30),
        "the slowest step took {slowest:?}"
    );
}

#[test]
fn a_lecturers_lesson_file_opens_and_a_malformed_one_names_the_step_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("mine.ron");
    std::fs::write(
        &good,
        r#"Lesson(title: "My lesson", summary: "mine", steps: [
            Step(title: "Cold", text: "Look at T = 1.", preset: Some("digits-mlp"),
                 changes: ["distill.temperature=1"], tab: "temperature"),
            Step(title: "Hot", text: "Now T = 16.", changes: ["distill.temperature=16"],
                 tab: "curves", control: Some("Temperature T")),
        ])"#,
    )
    .unwrap();
    let bad = tmp.path().join("bad.ron");
    std::fs::write(
        &bad,
        r#"Lesson(title: "Bad", summary: "", steps: [
            Step(title: "one", text: "fine", tab: "curves"),
            Step(title: "two", text: "fine", tab: "curves",
                 question: Question(prompt: "?", choices: ["a"], answer: 0, why: "")),
        ])"#,
    )
    .unwrap();
    let dialogs = ScriptedDialogs::default();
    let mut h = harness(dialogs.clone());
    settle(&mut h);
    h.get_by_label("Lessons").click();
    settle(&mut h);
    dialogs.answer_next(Some(good.clone()));
    h.get_by_label("Open lesson file…").click();
    assert!(step_until(&mut h, Duration::from_secs(30), |w| w
        .lesson
        .is_some()));
    for _ in 0..10 {
        h.step();
    }
    settle(&mut h);
    let s = h.state().lesson.as_ref().expect("the lesson opened");
    assert_eq!(s.loaded.lesson.title, "My lesson");
    assert_eq!(h.state().experiment.name, "digits-mlp");
    assert_eq!(h.state().experiment.distill.temperature, 1.0);
    h.key_press(lessons::panel::NEXT_KEY);
    settle(&mut h);
    assert_eq!(
        h.state().lesson.as_ref().unwrap().step,
        1,
        "Page Down is Next"
    );
    assert_eq!(h.state().experiment.distill.temperature, 16.0);
    assert!(h.state().lesson_control_drawn);
    h.key_press(lessons::panel::BACK_KEY);
    settle(&mut h);
    assert_eq!(
        h.state().lesson.as_ref().unwrap().step,
        0,
        "Page Up is Back"
    );

    h.get_by_label("All lessons").click();
    settle(&mut h);
    dialogs.answer_next(Some(bad.clone()));
    h.get_by_label("Open lesson file…").click();
    assert!(step_until(&mut h, Duration::from_secs(30), |w| !w
        .messages
        .is_empty()));
    settle(&mut h);
    assert!(h.state().lesson.is_none());
    let message = h
        .state()
        .messages
        .iter()
        .map(|m| m.text.clone())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        message.contains("step 2 (\"two\"), field question.choices"),
        "{message}"
    );
}
