//! A loaded value is never changed behind the user's back: every numeric field at the ends of
//! its allowed range (and between a slider's end and the limit) survives opening in the
//! window, drawing and saving, byte for byte. The sliders still move the values they show.

use crate::gui::step_until;
use distillery::app::{Launch, RunState, ScriptedDialogs, Workbench};
use distillery::config::ranges::{self, Range};
use distillery::config::{
    self, ArchSpec, CnnSpec, DataSource, DeviceChoice, Experiment, MlpSpec, OptimizerSpec,
    SoftLoss, SyntheticSpec, TransferSource, Weighting,
};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::time::Duration;

fn harness(dialogs: ScriptedDialogs, launch: Launch) -> Harness<'static, Workbench> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |cc| Workbench::new(cc, launch, Box::new(dialogs)))
}

/// Step until the window has nothing left to do. The first step lets a change made by the last
/// one (new data settings, say) start its work.
fn settle(h: &mut Harness<'static, Workbench>) {
    h.step();
    assert!(
        step_until(h, Duration::from_secs(60), |w| w.is_settled()),
        "the window did not settle"
    );
    h.run();
}

// ----- the table ----------------------------------------------------------------------------

/// A field's name, the experiment it lives in, its range, and how to set it.
type Field<T> = (
    &'static str,
    fn() -> Experiment,
    Range<T>,
    fn(&mut Experiment, T),
);

fn digits() -> Experiment {
    Experiment {
        device: DeviceChoice::Cpu,
        ..Experiment::default()
    }
}

fn synthetic() -> Experiment {
    Experiment {
        data: config::DataConfig {
            source: DataSource::Synthetic(SyntheticSpec::default()),
            ..Default::default()
        },
        ..digits()
    }
}

fn synthetic_mut(exp: &mut Experiment) -> &mut SyntheticSpec {
    match &mut exp.data.source {
        DataSource::Synthetic(s) => s,
        _ => unreachable!("a synthetic base"),
    }
}

fn mlp_student(exp: &mut Experiment) -> &mut MlpSpec {
    if !matches!(exp.student, ArchSpec::Mlp(_)) {
        exp.student = ArchSpec::Mlp(MlpSpec::default());
    }
    match &mut exp.student {
        ArchSpec::Mlp(m) => m,
        _ => unreachable!(),
    }
}

fn mlp_teacher(exp: &mut Experiment) -> &mut MlpSpec {
    match &mut exp.teacher.members[0] {
        ArchSpec::Mlp(m) => m,
        _ => unreachable!("the default teacher is an MLP"),
    }
}

fn cnn_student(exp: &mut Experiment) -> &mut CnnSpec {
    if !matches!(exp.student, ArchSpec::Cnn(_)) {
        exp.student = ArchSpec::Cnn(CnnSpec::default());
    }
    match &mut exp.student {
        ArchSpec::Cnn(c) => c,
        _ => unreachable!(),
    }
}

fn sgd(exp: &mut Experiment) -> (&mut f64, &mut f64) {
    if !matches!(exp.train.optimizer, OptimizerSpec::Sgd { .. }) {
        exp.train.optimizer = OptimizerSpec::Sgd {
            lr: 0.1,
            momentum: 0.9,
        };
    }
    match &mut exp.train.optimizer {
        OptimizerSpec::Sgd { lr, momentum } => (lr, momentum),
        _ => unreachable!(),
    }
}

/// The allowed ends of a float range, and points between each slider end and the limit.
fn float_values(r: &Range<f64>) -> Vec<f64> {
    let lo = if r.min_open { r.min.next_up() } else { r.min };
    let hi = if r.max_open { r.max.next_down() } else { r.max };
    let mut v = vec![lo, hi];
    if r.slider_max < r.max {
        v.push((r.slider_max + r.max) / 2.0);
    }
    if r.slider_min > r.min {
        v.push((r.min + r.slider_min) / 2.0);
    }
    v
}

fn whole_values(r: &Range<usize>) -> Vec<usize> {
    let mut v = vec![r.min, r.max];
    if r.slider_max < r.max {
        v.push((r.slider_max + r.max) / 2 + 1);
    }
    if r.slider_min > r.min {
        v.push((r.min + r.slider_min) / 2);
    }
    v
}

/// Every numeric field of an experiment, each at every value `float_values` or
/// `whole_values` gives for its range: (what, experiment).
fn cases() -> Vec<(String, Experiment)> {
    let floats: [Field<f64>; 25] = [
        (
            "data.test_fraction",
            digits,
            ranges::TEST_FRACTION,
            |e, v| e.data.test_fraction = v,
        ),
        (
            "data.source.noise",
            synthetic,
            ranges::SYNTHETIC_NOISE,
            |e, v| synthetic_mut(e).noise = v,
        ),
        (
            "transfer.fraction",
            digits,
            ranges::TRANSFER_FRACTION,
            |e, v| e.transfer.fraction = v,
        ),
        (
            "transfer.validation_fraction",
            digits,
            ranges::VALIDATION_FRACTION,
            |e, v| e.transfer.validation_fraction = v,
        ),
        (
            "transfer.source.HeldOut",
            digits,
            ranges::HELD_OUT,
            |e, v| e.transfer.source = TransferSource::HeldOut(v),
        ),
        (
            "teacher.members[0].dropout",
            digits,
            ranges::DROPOUT,
            |e, v| mlp_teacher(e).dropout = v,
        ),
        ("student.dropout (MLP)", digits, ranges::DROPOUT, |e, v| {
            mlp_student(e).dropout = v
        }),
        ("student.dropout (CNN)", digits, ranges::DROPOUT, |e, v| {
            cnn_student(e).dropout = v
        }),
        (
            "distill.temperature",
            digits,
            ranges::TEMPERATURE,
            |e, v| e.distill.temperature = v,
        ),
        ("distill.alpha", digits, ranges::ALPHA, |e, v| {
            e.distill.alpha = v
        }),
        (
            "train.optimizer.lr (Adam)",
            digits,
            ranges::LEARNING_RATE,
            |e, v| e.train.optimizer = OptimizerSpec::Adam { lr: v },
        ),
        (
            "train.optimizer.lr (SGD)",
            digits,
            ranges::LEARNING_RATE,
            |e, v| *sgd(e).0 = v,
        ),
        (
            "train.optimizer.momentum",
            digits,
            ranges::MOMENTUM,
            |e, v| *sgd(e).1 = v,
        ),
        (
            "train.weight_decay",
            digits,
            ranges::WEIGHT_DECAY,
            |e, v| e.train.weight_decay = v,
        ),
        // Each method's controls, with the method chosen so they are drawn.
        (
            "distill.dkd.target_weight",
            digits,
            ranges::TERM_WEIGHT,
            |e, v| {
                e.distill.loss = SoftLoss::Dkd;
                e.distill.dkd.target_weight = v
            },
        ),
        (
            "distill.dkd.non_target_weight",
            digits,
            ranges::TERM_WEIGHT,
            |e, v| {
                e.distill.loss = SoftLoss::Dkd;
                e.distill.dkd.non_target_weight = v
            },
        ),
        (
            "distill.dist.inter_weight",
            digits,
            ranges::TERM_WEIGHT,
            |e, v| {
                e.distill.loss = SoftLoss::Dist;
                e.distill.dist.inter_weight = v
            },
        ),
        (
            "distill.dist.intra_weight",
            digits,
            ranges::TERM_WEIGHT,
            |e, v| {
                e.distill.loss = SoftLoss::Dist;
                e.distill.dist.intra_weight = v
            },
        ),
        ("distill.nkd.gamma", digits, ranges::TERM_WEIGHT, |e, v| {
            e.distill.loss = SoftLoss::Nkd;
            e.distill.nkd.gamma = v
        }),
        (
            "distill.ctkd.t_start",
            digits,
            ranges::CTKD_T_START,
            |e, v| {
                e.distill.loss = SoftLoss::Ctkd;
                e.distill.ctkd.t_start = v
            },
        ),
        (
            "distill.ctkd.t_range",
            digits,
            ranges::CTKD_T_RANGE,
            |e, v| {
                e.distill.loss = SoftLoss::Ctkd;
                e.distill.ctkd.t_range = v
            },
        ),
        ("distill.ctkd.theta", digits, ranges::CTKD_THETA, |e, v| {
            e.distill.loss = SoftLoss::Ctkd;
            e.distill.ctkd.theta = v
        }),
        ("distill.ctkd.lr", digits, ranges::CTKD_LR, |e, v| {
            e.distill.loss = SoftLoss::Ctkd;
            e.distill.ctkd.lr = v
        }),
        (
            "distill.virtual_teacher.correct_prob",
            digits,
            ranges::CORRECT_PROB,
            |e, v| {
                e.distill.loss = SoftLoss::TeacherFree;
                e.distill.virtual_teacher.correct_prob = v
            },
        ),
        (
            "distill.weighting.soft",
            digits,
            ranges::TERM_WEIGHT,
            |e, v| e.distill.weighting = Weighting::Fixed { soft: v, hard: 0.5 },
        ),
    ];
    let wholes: [Field<usize>; 13] = [
        (
            "distill.dkd.warmup_epochs",
            digits,
            ranges::RAMP_EPOCHS,
            |e, v| {
                e.distill.loss = SoftLoss::Dkd;
                e.distill.dkd.warmup_epochs = v
            },
        ),
        (
            "distill.ctkd.ramp_epochs",
            digits,
            ranges::RAMP_EPOCHS,
            |e, v| {
                e.distill.loss = SoftLoss::Ctkd;
                e.distill.ctkd.ramp_epochs = v
            },
        ),
        (
            "data.source.classes",
            synthetic,
            ranges::SYNTHETIC_CLASSES,
            |e, v| synthetic_mut(e).classes = v,
        ),
        (
            "data.source.samples",
            synthetic,
            ranges::SYNTHETIC_SAMPLES,
            |e, v| {
                let s = synthetic_mut(e);
                s.classes = 2; // at least 10 samples per class
                s.samples = v;
            },
        ),
        ("teacher.epochs", digits, ranges::TEACHER_EPOCHS, |e, v| {
            e.teacher.epochs = v
        }),
        ("train.epochs", digits, ranges::STUDENT_EPOCHS, |e, v| {
            e.train.epochs = v
        }),
        ("train.batch_size", digits, ranges::BATCH_SIZE, |e, v| {
            e.train.batch_size = v
        }),
        ("train.log_every", digits, ranges::LOG_EVERY, |e, v| {
            e.train.log_every = v
        }),
        (
            "train.jitter_pixels",
            digits,
            ranges::JITTER_PIXELS,
            |e, v| e.train.jitter_pixels = v,
        ),
        (
            "teacher.members[0].hidden",
            digits,
            ranges::WIDTH,
            |e, v| mlp_teacher(e).hidden = vec![v, 8],
        ),
        ("student.hidden (MLP)", digits, ranges::WIDTH, |e, v| {
            mlp_student(e).hidden = vec![v]
        }),
        (
            "student.channels (CNN)",
            digits,
            ranges::CHANNELS,
            |e, v| cnn_student(e).channels = vec![v],
        ),
        ("student.hidden (CNN)", digits, ranges::WIDTH, |e, v| {
            cnn_student(e).hidden = vec![v]
        }),
    ];
    let mut out = Vec::new();
    for (what, base, range, set) in floats {
        for v in float_values(&range) {
            let mut exp = base();
            set(&mut exp, v);
            out.push((format!("{what} = {v:?}"), exp));
        }
    }
    for (what, base, range, set) in wholes {
        for v in whole_values(&range) {
            let mut exp = base();
            set(&mut exp, v);
            out.push((format!("{what} = {v}"), exp));
        }
    }
    for k in ranges::KERNEL_SIZES {
        let mut exp = digits();
        cnn_student(&mut exp).kernel_size = k;
        out.push((format!("student.kernel_size = {k}"), exp));
    }
    // The seed has no range, but its number box must not round it through f64 either.
    for seed in [0, (1 << 53) + 1, u64::MAX] {
        out.push((format!("seed = {seed}"), Experiment { seed, ..digits() }));
    }
    out
}

// ----- the tests ----------------------------------------------------------------------------

fn open(h: &mut Harness<'static, Workbench>, dialogs: &ScriptedDialogs, path: &Path) {
    dialogs.answer_next(Some(path.to_path_buf()));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    settle(h);
    settle(h);
}

fn save_as(h: &mut Harness<'static, Workbench>, dialogs: &ScriptedDialogs, path: &Path) {
    dialogs.answer_next(Some(path.to_path_buf()));
    h.get_by_label("Preset").click();
    settle(h);
    h.get_by_label("Save as…").click();
    settle(h);
    settle(h);
}

/// The first line where `saved` differs from `opened`, both trimmed.
fn first_difference(opened: &str, saved: &str) -> String {
    let mut saved_lines = saved.lines();
    for line in opened.lines() {
        let back = saved_lines.next().unwrap_or("<end of file>");
        if line != back {
            return format!("opened `{}`, saved `{}`", line.trim(), back.trim());
        }
    }
    "the saved file is longer".into()
}

#[test]
fn every_numeric_field_at_its_limits_survives_open_and_save() {
    let dir = tempfile::tempdir().unwrap();
    let dialogs = ScriptedDialogs::default();
    let mut h = harness(dialogs.clone(), Launch::default());
    settle(&mut h);
    // The transfer set's section starts folded; unfold it so its widgets draw too.
    h.get_by_label("Transfer set").click();
    settle(&mut h);
    let mut failures = Vec::new();
    for (i, (what, exp)) in cases().into_iter().enumerate() {
        let problems = config::validate(&exp);
        assert!(
            problems.is_empty(),
            "{what}: the table holds only valid experiments: {problems:?}"
        );
        let opened = dir.path().join(format!("case{i}.ron"));
        let saved = dir.path().join(format!("case{i}-saved.ron"));
        let text = config::to_ron_string(&exp);
        std::fs::write(&opened, &text).unwrap();
        open(&mut h, &dialogs, &opened);
        assert_eq!(
            h.state().view.current_file.as_deref(),
            Some(opened.as_path()),
            "{what}: opened"
        );
        // Draw a few more frames: nothing may change on drawing.
        for _ in 0..3 {
            h.step();
        }
        save_as(&mut h, &dialogs, &saved);
        let back = std::fs::read_to_string(&saved)
            .unwrap_or_else(|e| panic!("{what}: nothing saved to {}: {e}", saved.display()));
        let parsed = config::from_ron_str(&back, "saved").unwrap();
        if back != text || parsed != exp {
            failures.push(format!("{what}: {}", first_difference(&text, &back)));
        }
        assert!(config::validate(&parsed).is_empty(), "{what}");
    }
    assert!(
        failures.is_empty(),
        "{} of the values were changed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Each slider still moves its value, and each number box takes a value past the slider's end.
#[test]
fn sliders_and_number_boxes_still_edit_their_values() {
    type Get = fn(&Experiment) -> f64;
    let sgd_momentum: Get = |e| match e.train.optimizer {
        OptimizerSpec::Sgd { momentum, .. } => momentum,
        _ => f64::NAN,
    };
    // (label, a value for the slider, a value typed in the box (past the slider's end where
    // it has one), the field)
    let table: [(&str, f64, f64, Get); 11] = [
        ("Temperature T", 20.0, 100.0, |e| e.distill.temperature),
        ("Soft weight α", 0.25, 0.75, |e| e.distill.alpha),
        ("Test share", 0.3, 0.8, |e| e.data.test_fraction),
        ("Teacher epochs", 7.0, 1000.0, |e| e.teacher.epochs as f64),
        ("Student epochs", 9.0, 1000.0, |e| e.train.epochs as f64),
        ("Batch size", 32.0, 4096.0, |e| e.train.batch_size as f64),
        ("Learning rate", 0.01, 5.0, |e| {
            e.train.optimizer.learning_rate()
        }),
        ("Momentum", 0.5, 0.995, sgd_momentum),
        ("Weight decay", 0.005, 0.05, |e| e.train.weight_decay),
        ("Pixel jitter", 2.0, 3.0, |e| e.train.jitter_pixels as f64),
        ("Fraction used", 0.5, 0.75, |e| e.transfer.fraction),
    ];
    let mut h = harness(ScriptedDialogs::default(), Launch::default());
    let mut exp = digits();
    sgd(&mut exp);
    h.state_mut().experiment = exp;
    settle(&mut h);
    h.get_by_label("Transfer set").click();
    settle(&mut h);
    for (label, on_slider, in_box, get) in table {
        h.get_by_role_and_label(Role::Slider, label)
            .set_value_accesskit(on_slider);
        settle(&mut h);
        assert_eq!(get(&h.state().experiment), on_slider, "{label}: slider");
        h.get_by_role_and_label(Role::SpinButton, label)
            .set_value_accesskit(in_box);
        settle(&mut h);
        assert_eq!(get(&h.state().experiment), in_box, "{label}: number box");
        // The slider, now at its end, does not pull the value back.
        settle(&mut h);
        assert_eq!(get(&h.state().experiment), in_box, "{label}: kept");
    }
}

/// `gui --preset P --start` with T past the slider's end: the running student keeps the T the
/// preset names, and no change of T is sent or marked.
#[test]
fn a_started_preset_keeps_its_temperature() {
    let _serial = crate::support::training_lock();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hot.ron");
    let mut exp =
        config::from_ron_str(include_str!("../../presets/digits-mlp.ron"), "digits-mlp").unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 1;
    exp.train.epochs = 2;
    exp.distill.temperature = 100.0;
    std::fs::write(&path, config::to_ron_string(&exp)).unwrap();
    let launch = Launch {
        preset: Some(path),
        start: true,
        ..Launch::default()
    };
    let mut h = harness(ScriptedDialogs::default(), launch);
    assert!(step_until(&mut h, Duration::from_secs(120), |w| {
        w.live
            .as_ref()
            .is_some_and(|l| l.state == RunState::Finished)
    }));
    let w = h.state();
    assert_eq!(w.experiment.distill.temperature, 100.0);
    let live = w.live.as_ref().unwrap();
    assert!(
        live.view.weight_changes.is_empty(),
        "{:?}",
        live.view.weight_changes
    );
    let steps = &live.outcome.as_ref().unwrap().history.steps;
    assert!(
        steps
            .iter()
            .filter(|s| s.phase == distillery::train::Phase::Student)
            .all(|s| s.temperature == 100.0)
    );
}
