//! The real window driven through egui_kittest: clicks, sliders, dialogs, training.

use distillery::app::{Launch, RunState, ScriptedDialogs, Tab, Workbench};
use distillery::config::{self, DeviceChoice, Experiment};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::time::{Duration, Instant};

pub(crate) fn harness(dialogs: ScriptedDialogs) -> Harness<'static, Workbench> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| Workbench::new(cc, Launch::default(), Box::new(dialogs)))
}

/// A digits experiment that trains in about a second on the CPU.
pub(crate) fn tiny() -> Experiment {
    let mut exp =
        config::from_ron_str(include_str!("../../presets/digits-mlp.ron"), "digits-mlp").unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 2;
    exp.train.epochs = 2;
    exp
}

/// Step frames until `done` holds or `limit` passes.
pub(crate) fn step_until(
    h: &mut Harness<'static, Workbench>,
    limit: Duration,
    done: impl Fn(&Workbench) -> bool,
) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        h.step();
        if done(h.state()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Step until the window has nothing left to do (data loaded, dialogs answered).
pub(crate) fn settle(h: &mut Harness<'static, Workbench>) {
    assert!(
        step_until(h, Duration::from_secs(30), |w| w.is_settled()),
        "the window did not settle"
    );
    h.run();
}

pub(crate) fn label_text(h: &Harness<'static, Workbench>, prefix: &str) -> String {
    let node = h.get_by_label_contains(prefix);
    let ak = node.accesskit_node();
    ak.label()
        .map(|l| l.to_string())
        .or_else(|| ak.value().map(|v| v.to_string()))
        .unwrap_or_default()
}

#[test]
fn temperature_slider_changes_the_shown_entropy() {
    let mut h = harness(ScriptedDialogs::default());
    h.get_by_label("Temperature").click();
    settle(&mut h);
    assert_eq!(h.state().view.tab, Tab::Temperature);
    h.state_mut().view.use_hand_logits = true;
    settle(&mut h);
    let before = label_text(&h, "At the experiment's T");
    h.get_by_role_and_label(Role::Slider, "Temperature T")
        .set_value_accesskit(20.0);
    settle(&mut h);
    assert_eq!(h.state().experiment.distill.temperature, 20.0);
    let after = label_text(&h, "At the experiment's T");
    assert_ne!(before, after);
    // A hotter softmax has more entropy: parse "H = x nats".
    let entropy = |s: &str| -> f32 {
        s.split("H = ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(entropy(&after) > entropy(&before), "{before} -> {after}");
}

#[test]
fn start_trains_and_curves_and_progress_advance() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    h.state_mut().experiment = tiny();
    h.step();
    h.get_by_label("Start").click();
    h.step();
    assert!(h.state().live.is_some(), "Start began a run");
    let progressed = step_until(&mut h, Duration::from_secs(60), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| l.progress.step > 0 && !l.view.losses.is_empty())
    });
    assert!(progressed, "no steps arrived");
    let finished = step_until(&mut h, Duration::from_secs(120), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| l.state == RunState::Finished)
    });
    assert!(finished, "the run did not finish");
    let w = h.state();
    let live = w.live.as_ref().unwrap();
    assert_eq!(live.progress.phases_done, 3);
    assert!(
        live.view.epochs.len() >= 6,
        "epoch points for all three models"
    );
    assert_eq!(w.runs.len(), 1, "the finished run is in the Runs table");
    assert!(
        w.runs[0]
            .view
            .summary
            .as_ref()
            .unwrap()
            .teacher
            .test_accuracy
            .unwrap()
            > 0.8
    );

    // The Probabilities tab finds an example the (briefly trained) student gets wrong.
    h.get_by_label("Probabilities").click();
    settle(&mut h);
    h.get_by_label("A sample the student gets wrong").click();
    settle(&mut h);
    let w = h.state();
    let sample = w.view.sample;
    let splits = w.preview.data.as_ref().unwrap();
    let live = w.live.as_ref().unwrap();
    let student = live
        .view
        .logits
        .get(&distillery::train::Role::Student)
        .unwrap();
    let probs =
        distillery::app::model_probs(student, sample, 1.0, config::Combine::MeanLogits).unwrap();
    assert_ne!(
        distillery::distill::host::argmax(&probs),
        splits.test.labels[sample] as usize,
        "example {sample} is one the student misclassifies"
    );
}

#[test]
fn pause_stops_steps_until_resume() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let mut exp = tiny();
    exp.teacher.epochs = 400;
    h.state_mut().experiment = exp;
    h.step();
    h.get_by_label("Start").click();
    assert!(step_until(&mut h, Duration::from_secs(60), |w| w
        .live
        .as_ref()
        .is_some_and(|l| l.progress.step > 20)));
    h.get_by_label("Pause").click();
    h.step();
    // Let any step in flight and its read-back arrive.
    std::thread::sleep(Duration::from_millis(200));
    h.step();
    let paused_at = h.state().live.as_ref().unwrap().progress.step;
    std::thread::sleep(Duration::from_millis(500));
    h.step();
    h.step();
    assert_eq!(
        h.state().live.as_ref().unwrap().progress.step,
        paused_at,
        "steps advanced while paused"
    );
    h.get_by_label("Resume").click();
    assert!(step_until(&mut h, Duration::from_secs(30), |w| w
        .live
        .as_ref()
        .unwrap()
        .progress
        .step
        > paused_at));
    h.get_by_label("Stop").click();
    assert!(step_until(&mut h, Duration::from_secs(30), |w| w
        .live
        .as_ref()
        .unwrap()
        .state
        == RunState::Finished));
    assert!(
        h.state()
            .live
            .as_ref()
            .unwrap()
            .view
            .summary
            .as_ref()
            .unwrap()
            .stopped
    );
}

#[test]
fn malformed_preset_shows_the_error_and_keeps_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.ron");
    std::fs::write(&bad, "(distill: (temperature: 2.0,, alpha: 0.5))").unwrap();
    let dialogs = ScriptedDialogs::default();
    dialogs.answer_next(Some(bad));
    let mut h = harness(dialogs.clone());
    let before = h.state().experiment.clone();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    settle(&mut h);
    settle(&mut h);
    assert_eq!(
        dialogs.asked.lock().unwrap().len(),
        1,
        "Ctrl+O asked for a file"
    );
    let w = h.state();
    assert_eq!(w.experiment, before, "the old experiment stays loaded");
    let msg = w
        .messages
        .iter()
        .find(|m| m.is_error())
        .expect("an error message is shown");
    assert!(msg.text.contains("broken.ron:1:"), "{}", msg.text);
    // The message can be dismissed.
    h.get_by_label("Dismiss").click();
    settle(&mut h);
    assert!(h.state().messages.is_empty());
}

#[test]
fn save_then_open_round_trips_the_experiment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.ron");
    let dialogs = ScriptedDialogs::default();
    dialogs.answer_next(Some(path.clone()));
    dialogs.answer_next(Some(path.clone()));
    let mut h = harness(dialogs);
    h.get_by_role_and_label(Role::Slider, "Temperature T")
        .set_value_accesskit(7.0);
    h.get_by_role_and_label(Role::Slider, "Soft weight α")
        .set_value_accesskit(0.25);
    settle(&mut h);
    let saved = h.state().experiment.clone();
    h.get_by_label("Preset").click();
    settle(&mut h);
    h.get_by_label("Save as…").click();
    settle(&mut h);
    settle(&mut h);
    assert!(path.is_file(), "the preset was written");
    h.get_by_role_and_label(Role::Slider, "Temperature T")
        .set_value_accesskit(2.0);
    settle(&mut h);
    assert_ne!(h.state().experiment, saved);
    h.get_by_label("Preset").click();
    settle(&mut h);
    h.get_by_label("Open…  (Ctrl+O)").click();
    settle(&mut h);
    settle(&mut h);
    assert_eq!(h.state().experiment, saved);
    assert_eq!(h.state().view.current_file.as_deref(), Some(path.as_path()));
}

#[test]
fn changing_t_during_a_run_reaches_the_student_and_is_marked() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let mut exp = tiny();
    exp.train.epochs = 150;
    h.state_mut().experiment = exp;
    h.step();
    h.get_by_label("Start").click();
    h.step();
    // Wait for the student phase, then move the temperature slider.
    assert!(step_until(&mut h, Duration::from_secs(60), |w| {
        w.live.as_ref().is_some_and(|l| {
            l.progress.phase == Some(distillery::train::Phase::Student) && l.progress.step > 50
        })
    }));
    h.get_by_role_and_label(Role::Slider, "Temperature T")
        .set_value_accesskit(8.0);
    h.step();
    assert!(step_until(&mut h, Duration::from_secs(120), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| l.state == RunState::Finished)
    }));
    let live = h.state().live.as_ref().unwrap();
    let changes = &live.view.weight_changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].1, 8.0, "the new T is marked on the curves");
    let steps = &live.outcome.as_ref().unwrap().history.steps;
    let student: Vec<_> = steps
        .iter()
        .filter(|s| s.phase == distillery::train::Phase::Student)
        .collect();
    assert_eq!(student.first().unwrap().temperature, 4.0);
    assert_eq!(
        student.last().unwrap().temperature,
        8.0,
        "later steps used the new T"
    );
}

#[test]
fn temperature_tab_snapshot() {
    let mut h = Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| {
            Workbench::new(cc, Launch::default(), Box::new(ScriptedDialogs::default()))
        });
    h.state_mut().view.tab = Tab::Temperature;
    h.state_mut().view.use_hand_logits = true;
    settle(&mut h);
    h.snapshot("temperature_hand_logits");
}

/// A run that cannot start (teacher weights of another architecture, found only when the
/// engine loads them) shows one error, not two, and the error stays until dismissed while
/// information fades.
#[test]
fn a_failed_start_is_one_error_that_stays() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let mut exp = config::load_file(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bad_input/teacher-weights-other-architecture.ron"),
    )
    .unwrap();
    exp.device = DeviceChoice::Cpu;
    h.state_mut().experiment = exp;
    settle(&mut h);
    h.get_by_label("Start").click();
    assert!(step_until(&mut h, Duration::from_secs(60), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| matches!(l.state, RunState::Failed(_)))
    }));
    h.run_steps(3);
    let errors = |w: &Workbench| w.messages.iter().filter(|m| m.is_error()).count();
    assert_eq!(errors(h.state()), 1, "{:?}", h.state().messages);
    let text = &h
        .state()
        .messages
        .iter()
        .find(|m| m.is_error())
        .unwrap()
        .text;
    assert!(text.contains("weights-mlp-8"), "{text}");
    // Long past the time information is shown, the error is still there.
    for m in &mut h.state_mut().messages {
        m.shown_at -= Duration::from_secs(60);
    }
    h.run_steps(2);
    assert_eq!(errors(h.state()), 1);
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert_eq!(errors(h.state()), 0);
}

/// The method chooser: picking DKD by clicks shows its hyper-parameters and writes its
/// formula with the current numbers.
#[test]
fn choosing_a_method_shows_its_controls_and_formula() {
    let mut h = harness(ScriptedDialogs::default());
    settle(&mut h);
    h.get_by_label("Method").click();
    h.run();
    h.get_by_label("DKD (decoupled KD)").click();
    settle(&mut h);
    assert_eq!(h.state().experiment.distill.loss, config::SoftLoss::Dkd);
    assert!(h.get_all_by_label("a: TCKD weight").count() >= 1);
    let formula = label_text(&h, "L = α·min(e/E,1)");
    assert!(formula.contains("TCKD"), "{formula}");
    let numbers = label_text(&h, "  = 0.90·min(e/20,1)·(1·TCKD + 8·NCKD) at T = 4.00");
    assert!(numbers.ends_with("+ 0.10·CE"), "{numbers}");
}

/// Step until the Runs tab's comparison has ended.
fn wait_for_comparison(h: &mut Harness<'static, Workbench>) {
    assert!(
        step_until(h, Duration::from_secs(120), |w| !w.comparison.is_running()),
        "the comparison did not finish"
    );
    h.run();
}

/// The Runs tab compares methods on the same seeds in the background and shows the table and
/// the overlaid curves; nothing else can start meanwhile.
#[test]
fn the_runs_tab_compares_methods_over_seeds() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let tmp = tempfile::tempdir().unwrap();
    h.state_mut().experiment = tiny();
    h.state_mut().comparison.folder_root = tmp.path().to_path_buf();
    h.state_mut().comparison.losses = vec![config::SoftLoss::Kl];
    h.state_mut().comparison.seeds = 2;
    h.get_by_label("Runs").click();
    settle(&mut h);
    h.get_by_label("dkd").click();
    settle(&mut h);
    h.get_by_label("Run comparison").click();
    h.run();
    assert!(h.state().comparison.is_running());
    assert!(
        h.state().start_blocked().is_some(),
        "Start stays blocked while comparing"
    );
    wait_for_comparison(&mut h);
    let c = &h.state().comparison;
    assert_eq!(c.error, None);
    let methods: Vec<&str> = c.summaries.iter().map(|s| s.loss.as_str()).collect();
    assert_eq!(methods, ["kd", "dkd"]);
    assert!(
        c.summaries
            .iter()
            .all(|s| s.seeds == 2 && s.student.is_some())
    );
    assert_eq!(c.curves.values().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    assert!(h.get_all_by_label("gain (points)").count() >= 1);
    assert!(c.folder.as_ref().unwrap().join("cells.csv").is_file());
}

/// The Sweep tab: typed grids (a bad value refused by name), Start, Pause and Resume by
/// clicks, the heatmap filling in cell by cell with the same numbers the sweep folder holds,
/// a clicked cell's runs, and Stop keeping what finished.
#[test]
fn the_sweep_tab_fills_a_heatmap_pauses_resumes_and_shows_a_cells_runs() {
    use distillery::app::sweep_cell_text;
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let tmp = tempfile::tempdir().unwrap();
    h.state_mut().experiment = tiny();
    h.state_mut().sweep.folder_root = tmp.path().to_path_buf();
    h.state_mut().sweep.seeds = 2;
    h.state_mut().sweep.alphas = "0.5, 0.9".into();
    h.state_mut().sweep.temperatures = String::new();
    h.get_by_label("Sweep").click();
    settle(&mut h);
    let type_temperatures = |h: &mut Harness<'static, Workbench>, text: &str| {
        h.state_mut().sweep.temperatures = String::new();
        h.run();
        h.get_by_role_and_label(Role::TextInput, "Temperatures")
            .focus();
        h.run();
        h.get_by_role_and_label(Role::TextInput, "Temperatures")
            .type_text(text);
        h.run();
    };
    type_temperatures(&mut h, "2, x");
    assert_eq!(h.state().sweep.temperatures, "2, x");
    assert!(
        h.query_by_label("temperatures: `x` is not a number")
            .is_some()
    );
    assert!(h.get_by_label("Start sweep").accesskit_node().is_disabled());
    type_temperatures(&mut h, "2, 8");
    h.get_by_label("Start sweep").click();
    h.run();
    assert!(h.state().sweep.is_running());
    assert!(
        h.state().start_blocked().is_some(),
        "Start is blocked while sweeping"
    );

    h.get_by_label("Pause sweep").click();
    h.run();
    assert!(h.state().sweep.is_paused());
    std::thread::sleep(Duration::from_millis(700));
    h.run();
    let done = h.state().sweep.done;
    std::thread::sleep(Duration::from_millis(1500));
    h.run();
    assert_eq!(h.state().sweep.done, done, "no cell finishes while paused");
    h.get_by_label("Resume sweep").click();
    assert!(
        step_until(&mut h, Duration::from_secs(120), |w| !w.sweep.is_running()),
        "the sweep did not finish"
    );
    h.run();
    let s = &h.state().sweep;
    assert_eq!(s.error, None);
    assert_eq!(s.rows.len(), 8, "2 T × 2 α × 2 seeds");
    let summaries = s.summaries();
    assert_eq!(summaries.len(), 4);
    assert!(summaries.iter().all(|c| c.seeds == 2 && c.gain.is_some()));
    // The heatmap shows what the folder holds.
    let folder = s.folder.clone().unwrap();
    let on_disk =
        distillery::sweep::folder::read_rows(&folder, distillery::sweep::folder::CELLS).unwrap();
    let grid = s.grid.clone().unwrap();
    assert_eq!(
        distillery::sweep::stats::summarise(&grid, &on_disk),
        summaries
    );
    let last = summaries
        .iter()
        .find(|c| c.temperature == 8.0 && c.alpha == 0.9)
        .unwrap();
    h.get_by_label(&sweep_cell_text(Some(last), 2)).click();
    h.run();
    assert_eq!(h.state().sweep.selected, Some((1, 1)));
    assert!(h.query_by_label("T = 8, α = 0.9").is_some());

    h.get_by_label("Start sweep").click();
    h.run();
    h.get_by_label("Stop sweep").click();
    assert!(
        step_until(&mut h, Duration::from_secs(60), |w| !w.sweep.is_running()),
        "the stopped sweep did not end"
    );
    assert!(h.state().sweep.rows.len() < 8);
    assert_eq!(h.state().start_blocked(), None);
}

/// The Runs tab's comparison distils an ensemble beside its best member on the same seeds, by
/// one click, and shows both rows and the paired difference.
#[test]
fn the_runs_tab_compares_an_ensemble_with_its_best_member() {
    let _serial = crate::support::training_lock();
    let mut h = harness(ScriptedDialogs::default());
    let tmp = tempfile::tempdir().unwrap();
    let mut exp =
        config::from_ron_str(include_str!("../../presets/ensemble.ron"), "ensemble").unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 3;
    exp.train.epochs = 3;
    h.state_mut().experiment = exp;
    h.state_mut().comparison.folder_root = tmp.path().to_path_buf();
    h.state_mut().comparison.losses = vec![config::SoftLoss::Kl];
    h.state_mut().comparison.seeds = 2;
    h.get_by_label("Runs").click();
    settle(&mut h);
    h.get_by_label("and each method from the ensemble's best member alone")
        .click();
    settle(&mut h);
    assert!(h.state().comparison.best_member);
    h.get_by_label("Run comparison").click();
    h.run();
    wait_for_comparison(&mut h);
    let c = &h.state().comparison;
    assert_eq!(c.error, None);
    let labels: Vec<String> = c.summaries.iter().map(|s| s.method_label()).collect();
    assert_eq!(labels, ["kd", "kd, best member"]);
    assert_eq!(c.curves.values().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
    assert!(
        h.query_by_label_contains("the whole ensemble's student minus its best member's")
            .is_some()
    );
}

/// Presentation mode by mouse and keyboard: the editor hides, the UI scale rises (and Ctrl +
/// raises it further, remembered for next time), the theme turns high-contrast; F5 and the
/// button both toggle it, and leaving restores the ordinary scale and the editor.
#[test]
fn presentation_mode_hides_the_editor_scales_up_and_toggles_by_key() {
    let mut h = harness(ScriptedDialogs::default());
    settle(&mut h);
    assert!(
        h.query_all_by_label("Teacher epochs").next().is_some(),
        "the editor shows"
    );
    h.get_by_label("Present").click();
    settle(&mut h);
    assert!(h.state().view.present);
    assert!(
        h.query_all_by_label("Teacher epochs").next().is_none(),
        "the editor is hidden"
    );
    assert!(
        (h.ctx.zoom_factor() - 1.5).abs() < 1e-3,
        "{}",
        h.ctx.zoom_factor()
    );
    assert_eq!(
        h.ctx.global_style().visuals.override_text_color,
        Some(egui::Color32::BLACK)
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
    settle(&mut h);
    let bigger = h.ctx.zoom_factor();
    assert!(bigger > 1.55, "Ctrl + zooms in: {bigger}");
    h.key_press(egui::Key::F5);
    settle(&mut h);
    assert!(!h.state().view.present);
    assert!((h.ctx.zoom_factor() - 1.0).abs() < 1e-3);
    assert!(
        h.query_all_by_label("Teacher epochs").next().is_some(),
        "the editor is back"
    );
    h.key_press(egui::Key::F5);
    settle(&mut h);
    assert!(h.state().view.present);
    assert!(
        (h.ctx.zoom_factor() - bigger).abs() < 1e-3,
        "its own scale is remembered"
    );
}

/// Right-click a plot, Save this plot as PNG (2×): the file holds that plot alone, drawn again
/// at twice the window's resolution (not a blown-up screenshot), with the curves in it.
#[test]
fn a_single_plot_saves_as_a_png_at_twice_the_resolution() {
    let _serial = crate::support::training_lock();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("accuracy.png");
    let dialogs = ScriptedDialogs::default();
    let mut h = harness(dialogs.clone());
    h.state_mut().experiment = tiny();
    settle(&mut h);
    h.get_by_label("Start").click();
    assert!(step_until(&mut h, Duration::from_secs(120), |w| w
        .live
        .as_ref()
        .is_some_and(|l| l.state == RunState::Finished)));
    settle(&mut h);
    let title = h.get_by_label("Test accuracy per epoch").rect();
    let inside = title.center_bottom() + egui::vec2(0.0, 40.0);
    h.event(egui::Event::PointerMoved(inside));
    h.event(egui::Event::PointerButton {
        pos: inside,
        button: egui::PointerButton::Secondary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(egui::Event::PointerButton {
        pos: inside,
        button: egui::PointerButton::Secondary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run();
    dialogs.answer_next(Some(path.clone()));
    h.get_by_label("Save this plot as PNG (2×)…").click();
    assert!(step_until(&mut h, Duration::from_secs(30), |_| path.is_file()));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let message = h.state().messages.last().unwrap().text.clone();
    assert!(
        message.contains("twice the screen's resolution"),
        "{message}"
    );
    // The plot's width on screen is most of the central area; saved at 2 pixels per point.
    assert!(
        info.width > 800 && info.height > 150,
        "{}×{}",
        info.width,
        info.height
    );
    let colours: std::collections::HashSet<&[u8]> = pixels.chunks_exact(4).collect();
    assert!(
        colours.len() > 50,
        "lines, text and grid: {} colours",
        colours.len()
    );
}
