//! The views tell the truth: each loss term readable on its own scale, every view at the T and
//! ensemble rule of the run it shows, class names under every bar, work done once per change,
//! and bad data or run folders turned into messages. All through the real window (kittest).

use crate::gui::{harness, label_text, settle, step_until, tiny};
use distillery::app::{
    EMPTY_TEST_SPLIT, HARD_PLOT, RunState, SOFT_PLOT, ScriptedDialogs, TOTAL_PLOT, Tab, Workbench,
};
use distillery::config::{self, Combine, DeviceChoice, Experiment};
use distillery::distill::host;
use distillery::train::{Phase, Role};
use egui::accesskit;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::sync::Arc;
use std::time::Duration;

fn preset(name: &str) -> Experiment {
    let path = crate::support::root().join(format!("presets/{name}.ron"));
    let mut exp = config::load_file(&path).unwrap();
    exp.device = DeviceChoice::Cpu;
    exp
}

/// Press Start and step until the run has finished.
fn train_to_the_end(h: &mut Harness<'static, Workbench>) {
    settle(h);
    h.get_by_label("Start").click();
    h.step();
    assert!(h.state().live.is_some(), "Start began a run");
    let finished = step_until(h, Duration::from_secs(240), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| l.state == RunState::Finished)
    });
    assert!(finished, "the run did not finish");
    assert!(
        h.state().messages.iter().all(|m| !m.is_error()),
        "{:?}",
        h.state().messages
    );
    settle(h);
}

fn show(h: &mut Harness<'static, Workbench>, tab: Tab) {
    h.state_mut().view.tab = tab;
    settle(h);
    // Plots settle their bounds over a frame or two.
    for _ in 0..3 {
        h.step();
    }
}

/// The texts of the labels in the central area (right of the experiment panel), in order.
fn central_labels(h: &Harness<'static, Workbench>) -> Vec<String> {
    h.query_all_by_role(accesskit::Role::Label)
        .filter(|n| {
            n.accesskit_node()
                .bounding_box()
                .is_some_and(|b| b.x0 > 420.0)
        })
        .map(|n| {
            let ak = n.accesskit_node();
            ak.label()
                .map(|l| l.to_string())
                .or_else(|| ak.value().map(|v| v.to_string()))
                .unwrap_or_default()
        })
        .collect()
}

/// Every text painted in the last frame, one per line.
fn painted_text(h: &Harness<'static, Workbench>) -> String {
    painted_texts(h)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every text painted in the last frame, with where it starts.
fn painted_texts(h: &Harness<'static, Workbench>) -> Vec<(egui::Pos2, String)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(egui::Pos2, String)>) {
        match shape {
            egui::Shape::Text(t) => out.push((t.pos, t.galley.text().to_string())),
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

/// Whether `text` is `name`, or `name` shortened with "…".
fn names(text: &str, name: &str) -> bool {
    text == name
        || text
            .strip_suffix('…')
            .is_some_and(|head| !head.is_empty() && name.starts_with(head))
}

#[test]
fn each_loss_term_has_a_plot_and_a_scale_of_its_own() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let mut exp = preset("digits-mlp");
    exp.train.epochs = 10;
    h.state_mut().experiment = exp;
    h.state_mut().view.smoothing = 0.0;
    h.state_mut().view.log_scale = false;
    train_to_the_end(&mut h);
    show(&mut h, Tab::Curves);

    let w = h.state();
    let history = &w.live.as_ref().unwrap().outcome.as_ref().unwrap().history;
    let max = |v: &mut dyn Iterator<Item = f32>| v.fold(0f32, f32::max) as f64;
    let student = || history.steps.iter().filter(|s| s.phase == Phase::Student);
    let soft_max = max(&mut student().map(|s| s.soft));
    let hard_max = max(&mut history
        .steps
        .iter()
        .map(|s| {
            if s.phase == Phase::Student {
                s.hard
            } else {
                s.total
            }
        })
        .chain(history.epochs.iter().map(|e| e.test_loss)));
    assert!(
        soft_max > 3.0 * hard_max,
        "the default preset's soft term ({soft_max}) dwarfs the hard one ({hard_max})"
    );

    let bounds = |id: &str| {
        *egui_plot::PlotMemory::load(&h.ctx, egui::Id::unique(id))
            .unwrap_or_else(|| panic!("the Curves tab draws the plot {id}"))
            .bounds()
    };
    let (soft, hard, total) = (bounds(SOFT_PLOT), bounds(HARD_PLOT), bounds(TOTAL_PLOT));
    assert!(
        soft.max()[1] >= 0.5 * soft_max,
        "the soft plot shows the soft term: {soft:?}, soft up to {soft_max}"
    );
    assert!(
        hard.max()[1] <= 1.3 * hard_max + 0.05,
        "the hard plot's scale is the hard losses' ({hard_max}), not the soft term's: {hard:?}"
    );
    assert!(hard.max()[1] < 0.5 * soft_max, "{hard:?}");
    assert!(
        total.max()[1] <= soft.max()[1] * 1.5 + 0.05,
        "the total follows the soft term: {total:?}"
    );
}

#[test]
fn views_show_the_run_at_its_own_t_and_ensemble_rule() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let mut exp = preset("ensemble");
    assert_eq!(exp.teacher.combine, Combine::MeanProbabilities);
    exp.teacher.epochs = 5;
    exp.train.epochs = 5;
    h.state_mut().experiment = exp;
    train_to_the_end(&mut h);

    // A header line names the run's T, seed and ensemble rule.
    show(&mut h, Tab::Temperature);
    let header = label_text(&h, "Run “ensemble”");
    for part in ["T = 4", "α = 0.9", "seed 21", "mean of their probabilities"] {
        assert!(header.contains(part), "{part:?} in {header:?}");
    }

    // The Temperature tab shows the targets the student was taught with: the members'
    // probabilities averaged (not their logits), at the run's T.
    let line = label_text(&h, "At the run's T");
    let w = h.state();
    let teacher = &w.live.as_ref().unwrap().view.logits[&Role::Teacher];
    let (k, s) = (teacher.classes, w.view.sample);
    let rows: Vec<&[f32]> = teacher
        .members
        .iter()
        .map(|m| &m[s * k..(s + 1) * k])
        .collect();
    assert_eq!(rows.len(), 3);
    let p = host::ensemble_softmax(&rows, Combine::MeanProbabilities, 4.0);
    let want = format!("At the run's T = 4.00: H = {:.3} nats", host::entropy(&p));
    assert!(line.starts_with(&want), "{line:?} should start {want:?}");
    let temperature_before = central_labels(&h);

    show(&mut h, Tab::Probabilities);
    let probabilities_before = central_labels(&h);
    assert!(
        probabilities_before
            .iter()
            .any(|l| l == "at the run's T = 4"),
        "{probabilities_before:?}"
    );
    show(&mut h, Tab::Curves);
    let side_before = label_text(&h, "Test example");
    assert!(side_before.contains("at the run's T = 4"), "{side_before}");

    // Editing the experiment for the next run leaves this run's views as they were.
    h.get_by_role_and_label(accesskit::Role::Slider, "Temperature T")
        .set_value_accesskit(12.0);
    h.state_mut().experiment.teacher.combine = Combine::MeanLogits;
    settle(&mut h);
    assert_eq!(h.state().experiment.distill.temperature, 12.0);
    assert_eq!(label_text(&h, "Test example"), side_before);
    show(&mut h, Tab::Probabilities);
    assert_eq!(central_labels(&h), probabilities_before);
    show(&mut h, Tab::Temperature);
    assert_eq!(central_labels(&h), temperature_before);
}

/// Ten classes named by a CSV file's label column, in two dimensions.
fn csv_experiment(dir: &std::path::Path) -> Experiment {
    let path = dir.join("ten.csv");
    let mut text = String::from("x,y,label\n");
    for c in 0..10 {
        let angle = c as f64 * std::f64::consts::TAU / 10.0;
        for i in 0..30 {
            let jitter = (i as f64 * 0.37).sin() * 0.3;
            text += &format!(
                "{:.4},{:.4},c{c}\n",
                3.0 * angle.cos() + jitter,
                3.0 * angle.sin() - jitter
            );
        }
    }
    std::fs::write(&path, text).unwrap();
    config::from_ron_str(
        &format!(
            r#"Experiment(
                name: "ten-classes",
                data: (source: Csv(path: "{}", label_column: "label", has_header: true),
                       test_fraction: 0.3),
                teacher: (members: [Mlp(hidden: [32])], epochs: 3),
                student: Mlp(hidden: [8]),
                train: (epochs: 3),
                device: Cpu,
            )"#,
            path.display()
        ),
        "ten-classes",
    )
    .unwrap()
}

#[test]
fn every_bar_chart_names_each_class_under_its_bar() {
    let _serial = crate::support::training_lock();
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(ScriptedDialogs::default());
    h.state_mut().experiment = csv_experiment(dir.path());
    train_to_the_end(&mut h);
    let class_names: Vec<String> = (0..10).map(|c| format!("c{c}")).collect();
    let check = |h: &Harness<'static, Workbench>, left: f32, what: &str| {
        let texts = painted_texts(h);
        for name in &class_names {
            assert!(
                texts.iter().any(|(pos, t)| pos.x > left && names(t, name)),
                "{what}: no label {name:?} under its bar in {:?}",
                texts
                    .iter()
                    .filter(|(pos, _)| pos.x > left)
                    .collect::<Vec<_>>()
            );
        }
    };
    // The live probabilities beside the curves (the panel on the right).
    show(&mut h, Tab::Curves);
    check(&h, 1050.0, "the Curves tab's side panel");
    show(&mut h, Tab::Temperature);
    check(&h, 420.0, "the Temperature tab");
    show(&mut h, Tab::Probabilities);
    check(&h, 420.0, "the Probabilities tab");
}

#[test]
fn work_that_belongs_to_a_change_runs_once_per_change() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    settle(&mut h);
    let (loads, validations) = (h.state().preview.loads, h.state().validations);
    assert_eq!(loads, 1, "the data loaded once at the start");
    for _ in 0..50 {
        h.step();
    }
    assert_eq!(h.state().preview.loads, 1, "no reload without a change");
    assert_eq!(
        h.state().validations,
        validations,
        "no validation without a change"
    );

    // A slider dragged over twenty frames reloads the data once it rests, not per frame.
    for i in 1..=20 {
        h.state_mut().experiment.data.test_fraction = 0.2 + 0.005 * i as f64;
        h.step();
    }
    settle(&mut h);
    let after_drag = h.state().preview.loads;
    assert!(
        (2..=3).contains(&after_drag),
        "{after_drag} loads for one drag"
    );
    assert!(
        h.state()
            .preview
            .shows(&h.state().experiment.data, h.state().experiment.seed),
        "the data shown is the data set"
    );
    assert!(h.state().validations <= validations + 20);
    let validations = h.state().validations;
    for _ in 0..20 {
        h.step();
    }
    assert_eq!(h.state().preview.loads, after_drag);
    assert_eq!(h.state().validations, validations);

    // "A sample the student gets wrong" searches once per new student, not per frame.
    h.state_mut().experiment = tiny();
    train_to_the_end(&mut h);
    show(&mut h, Tab::Probabilities);
    let scans = h.state().wrong_sample.scans;
    assert!(scans >= 1, "the search ran for the trained student");
    for _ in 0..30 {
        h.step();
    }
    assert_eq!(h.state().wrong_sample.scans, scans);
}

#[test]
fn an_empty_test_split_is_a_message_not_a_panic() {
    let mut h = harness(ScriptedDialogs::default());
    settle(&mut h);
    let mut splits = (**h.state().preview.data.as_ref().unwrap()).clone();
    splits.test = splits.test.subset(&[]);
    h.state_mut().preview.data = Some(Arc::new(splits));
    for tab in [
        Tab::Probabilities,
        Tab::Curves,
        Tab::Temperature,
        Tab::Regions,
    ] {
        h.state_mut().view.tab = tab;
        h.step();
        h.step();
    }
    h.state_mut().view.tab = Tab::Probabilities;
    h.step();
    assert!(
        h.query_by_label_contains("The test split is empty")
            .is_some(),
        "the Probabilities tab says {EMPTY_TEST_SPLIT:?}"
    );
}

/// A real run folder written by `distillery run`.
fn run_folder(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("run");
    let status = std::process::Command::new(crate::support::bin())
        .arg("run")
        .arg(crate::support::root().join("presets/digits-mlp.ron"))
        .args(["--set", "device=Cpu", "--set", "train.epochs=1"])
        .args(["--set", "teacher.epochs=1", "--quiet", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn a_damaged_or_invalid_run_folder_is_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_folder(dir.path());
    let dialogs = ScriptedDialogs::default();
    let mut h = harness(dialogs.clone());
    settle(&mut h);

    // Damaged: config.ron does not parse. The run is not listed; a message says why.
    std::fs::write(run.join("config.ron"), "Experiment(name: \"half").unwrap();
    dialogs.answer_next(Some(run.clone()));
    h.state_mut().view.tab = Tab::Runs;
    settle(&mut h);
    h.get_by_label("Open run folder…").click();
    settle(&mut h);
    settle(&mut h);
    assert!(h.state().runs.is_empty());
    let msg = h.state().messages.iter().find(|m| m.is_error());
    assert!(
        msg.is_some_and(|m| m.text.contains("could not open the run")),
        "{:?}",
        h.state().messages
    );

    // Invalid: it parses, but its teacher has no members. It is listed, with a warning.
    std::fs::write(
        run.join("config.ron"),
        "Experiment(name: \"no-teacher\", teacher: (members: []))",
    )
    .unwrap();
    dialogs.answer_next(Some(run.clone()));
    h.get_by_label("Open run folder…").click();
    settle(&mut h);
    settle(&mut h);
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().runs.len(), 1);
    assert!(
        h.state()
            .messages
            .iter()
            .any(|m| m.text.contains("would not run as it is")),
        "{:?}",
        h.state().messages
    );
    assert!(
        h.query_by_label("no-teacher").is_some(),
        "the run is listed"
    );
}

/// The Diagnostics tab after a run: each model's ECE, a confusion matrix per model with its
/// error count equal to the test errors its accuracy implies, and the gradient comparison on
/// the run's own logits, zero-mean agreement highest at the highest T.
#[test]
fn the_diagnostics_tab_shows_calibration_confusion_and_the_gradient_limit() {
    let _serial = crate::support::training_lock();
    let mut h = crate::gui::harness(ScriptedDialogs::default());
    let mut exp = preset("digits-few-labels");
    exp.teacher.epochs = 5;
    exp.train.epochs = 60;
    h.state_mut().experiment = exp;
    train_to_the_end(&mut h);
    show(&mut h, Tab::Diagnostics);
    let labels = painted_text(&h);
    assert!(
        labels.contains("teacher ECE") && labels.contains("student ECE"),
        "{labels}"
    );
    let summary = h
        .state()
        .live
        .as_ref()
        .unwrap()
        .view
        .summary
        .clone()
        .unwrap();
    let test = summary.data.test_examples as f32;
    for (name, m) in [
        ("teacher", &summary.teacher),
        ("student", summary.student.as_ref().unwrap()),
    ] {
        let errors = (test * (1.0 - m.test_accuracy.unwrap())).round() as u32;
        assert!(
            labels.contains(&format!("{name}: {errors} errors")),
            "{name}: {labels}"
        );
    }
    let run = h.state().live.as_ref().unwrap();
    let points = distillery::app::run_gradients(run).unwrap();
    let zero_mean: Vec<_> = points.iter().filter(|p| p.zero_mean).collect();
    assert!(zero_mean.last().unwrap().cosine > zero_mean[0].cosine);
    assert!(
        zero_mean.last().unwrap().cosine > 0.97,
        "{:?}",
        zero_mean.last()
    );
    // Every method's breakdown of an example draws (each with its own labels and charts),
    // and every method's formula box.
    show(&mut h, Tab::Probabilities);
    h.get_by_label_contains("sees this example").click();
    settle(&mut h);
    for loss in distillery::config::SoftLoss::ALL {
        h.state_mut().live.as_mut().unwrap().experiment.distill.loss = loss;
        h.state_mut().experiment.distill.loss = loss;
        settle(&mut h);
        let texts: Vec<String> = painted_texts(&h).into_iter().map(|(_, t)| t).collect();
        assert!(
            texts
                .iter()
                .any(|t| t == &format!("How {} sees this example", loss.name())),
            "{loss:?}"
        );
    }
}

/// The omitted-class section of the Diagnostics tab, after a run of the `omit-class` preset
/// (no 3s in the transfer set, a tenth of the training set held out for validation): the
/// per-class table, the bias the validation split chose, and the live re-evaluation of the
/// test set as the bias changes by real clicks, matching the summary's counts before and after.
#[test]
fn the_omitted_class_bias_is_chosen_on_validation_and_re_evaluated_live() {
    let _serial = crate::support::training_lock();
    let mut h = crate::gui::harness(ScriptedDialogs::default());
    h.state_mut().experiment = preset("omit-class");
    train_to_the_end(&mut h);
    show(&mut h, Tab::Diagnostics);
    let before = painted_text(&h);
    assert!(
        before.contains("Omitted from the transfer set: 3"),
        "{before}"
    );
    assert!(before.contains("student + bias"), "{before}");
    let summary = h
        .state()
        .live
        .as_ref()
        .unwrap()
        .view
        .summary
        .clone()
        .unwrap();
    let fix = summary
        .student
        .as_ref()
        .unwrap()
        .bias_correction
        .clone()
        .unwrap();
    assert_eq!(fix.validation_examples, summary.data.validation_examples);
    assert!(fix.validation_examples > 100, "{fix:?}");
    assert!(
        fix.test_errors_after < fix.test_errors_before
            && fix.omitted_errors_after[0] < fix.omitted_errors_before[0],
        "the correction helps on the test set: {fix:?}"
    );
    let live = |errors: usize, on: usize| {
        format!(
            "student at these biases: {errors} test errors, {on} of {} on the omitted classes",
            fix.omitted_test_examples[0]
        )
    };
    assert!(
        before.contains(&live(fix.test_errors_before, fix.omitted_errors_before[0])),
        "{before}"
    );
    assert!(before.contains(&distillery::cli::bias_line("student", &fix)));
    h.get_by_label("Validation's choice").click();
    settle(&mut h);
    let after = painted_text(&h);
    assert!(
        after.contains(&live(fix.test_errors_after, fix.omitted_errors_after[0])),
        "{after}"
    );
    h.get_by_label("No bias").click();
    settle(&mut h);
    assert!(painted_text(&h).contains(&live(fix.test_errors_before, fix.omitted_errors_before[0])));
    // The sliders are a view: the experiment keeps its settings.
    assert_eq!(h.state().experiment, preset("omit-class"));
}

/// The Decision regions tab keeps every epoch's maps: Replay starts from the first epoch and
/// moves on by itself, the slider's label names the epoch shown, and Latest follows the run.
#[test]
fn decision_regions_keep_every_epoch_and_replay_them() {
    let _serial = crate::support::training_lock();
    let mut h = crate::gui::harness(ScriptedDialogs::default());
    let mut exp = preset("spirals-teaching");
    exp.teacher.epochs = 3;
    exp.train.epochs = 3;
    h.state_mut().experiment = exp;
    train_to_the_end(&mut h);
    show(&mut h, Tab::Regions);
    let frames: Vec<String> = h
        .state()
        .live
        .as_ref()
        .unwrap()
        .view
        .region_frames
        .iter()
        .map(|f| f.label.clone())
        .collect();
    // Three teacher epochs and the frozen teacher, then three each for baseline and student.
    assert_eq!(frames.len(), 10, "{frames:?}");
    assert_eq!(frames[0], "teacher epoch 1");
    assert_eq!(frames[9], "student epoch 3");
    assert!(
        painted_text(&h).contains("shown: student epoch 3"),
        "{}",
        painted_text(&h)
    );
    h.get_by_label("Replay").click();
    h.run();
    assert!(
        painted_text(&h).contains("shown: teacher epoch 1"),
        "{}",
        painted_text(&h)
    );
    std::thread::sleep(Duration::from_millis(300));
    h.step();
    h.step();
    assert!(
        painted_text(&h).contains("shown: teacher epoch 2"),
        "{}",
        painted_text(&h)
    );
    h.get_by_label("Pause replay").click();
    h.run();
    h.get_by_label("Latest").click();
    h.run();
    assert!(painted_text(&h).contains("shown: student epoch 3"));
}
