//! The engine end to end on the CPU (`flex`), with accuracy thresholds on real data.

use distillery::config::{
    ArchSpec, DataSource, DeviceChoice, Experiment, MlpSpec, SoftLoss, SyntheticKind, SyntheticSpec,
};
use distillery::train::{self, Control, Event, NoticeKind, Phase, PhaseStatus, Severity};
use std::sync::Mutex;
use std::time::Duration;

/// The default digits preset, shortened for tests.
fn quick_digits() -> Experiment {
    let mut exp = distillery::config::from_ron_str(
        include_str!("../../presets/digits-mlp.ron"),
        "digits-mlp",
    )
    .unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 20;
    exp.train.epochs = 40;
    exp
}

/// The phases in the order the engine announced them.
fn phases_started(events: &[Event]) -> Vec<Phase> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PhaseStarted { phase, .. } => Some(*phase),
            _ => None,
        })
        .collect()
}

use crate::support::run;

#[test]
fn digits_teacher_baseline_and_student_train_to_real_accuracy() {
    let _serial = crate::support::training_lock();
    let exp = quick_digits();
    let (outcome, events) = run(&exp);
    let s = &outcome.summary;
    assert_eq!(s.error, None);
    let teacher = s.teacher.test_accuracy.unwrap();
    let baseline = s.baseline.as_ref().unwrap().test_accuracy.unwrap();
    let student = s.student.as_ref().unwrap().test_accuracy.unwrap();
    assert!(teacher >= 0.95, "teacher {teacher}");
    assert!(baseline >= 0.80, "baseline {baseline}");
    assert!(student >= 0.85, "student {student}");
    assert!(baseline >= 0.85, "baseline {baseline}");
    assert_eq!(
        s.teacher.parameters,
        64 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10
    );
    assert_eq!(
        s.student.as_ref().unwrap().parameters,
        64 * 16 + 16 + 16 * 10 + 10
    );
    assert!(s.student.as_ref().unwrap().samples_per_second.unwrap() > 1000.0);
    assert_eq!(s.device.kind, "cpu");

    // Phases in order, each announced before its steps.
    let phases = phases_started(&events);
    assert_eq!(
        phases,
        vec![
            Phase::Teacher { member: 0, of: 1 },
            Phase::Baseline,
            Phase::Student
        ]
    );

    // Every step is recorded once, read back in windows of log_every.
    let student_steps: Vec<_> = outcome
        .history
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Student)
        .collect();
    assert_eq!(student_steps.len(), 40 * 1438usize.div_ceil(64));
    assert!(
        student_steps
            .iter()
            .all(|s| s.soft.is_finite() && s.hard.is_finite())
    );
    let windows = events
        .iter()
        .filter(|e| matches!(e, Event::Steps(v) if v[0].phase == Phase::Student))
        .count();
    assert!(windows <= 40 * 3 + 40, "{windows} read-backs for 920 steps");
    // The total is α·soft + (1−α)·hard, step by step.
    for s in &student_steps {
        assert!((s.total - (0.9 * s.soft + 0.1 * s.hard)).abs() < 1e-4 * s.total.max(1.0));
    }
    // Training reduces the distillation loss.
    let first: f32 = student_steps[..10].iter().map(|s| s.total).sum();
    let last: f32 = student_steps[student_steps.len() - 10..]
        .iter()
        .map(|s| s.total)
        .sum();
    assert!(last < first * 0.5, "{first} -> {last}");
    // Per-epoch agreement with the teacher is measured for the student.
    let last_epoch = outcome
        .history
        .epochs
        .iter()
        .rev()
        .find(|e| e.phase == Phase::Student)
        .unwrap();
    assert!(last_epoch.agreement > 0.85);
    assert_eq!(s.student.as_ref().unwrap().confusion.len(), 10);
}

#[test]
fn baseline_and_student_start_from_the_same_weights_and_batches() {
    let _serial = crate::support::training_lock();
    // With α = 0 the distillation loss is the hard loss alone: the student must then
    // reproduce the baseline exactly, step for step.
    let mut exp = quick_digits();
    exp.teacher.epochs = 1;
    exp.train.epochs = 1;
    exp.distill.alpha = 0.0;
    let (outcome, _) = run(&exp);
    let steps = |p: Phase| -> Vec<f32> {
        outcome
            .history
            .steps
            .iter()
            .filter(|s| s.phase == p)
            .map(|s| s.hard)
            .collect()
    };
    let (b, s) = (steps(Phase::Baseline), steps(Phase::Student));
    assert_eq!(b.len(), s.len());
    for (x, y) in b.iter().zip(&s) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
}

#[test]
fn stop_keeps_what_was_measured() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.epochs = 200;
    let control = Control::new();
    let stopper = control.clone();
    let events = Mutex::new(Vec::new());
    let outcome = std::thread::scope(|scope| {
        let run = scope
            .spawn(|| train::run_blocking(&exp, &control, &|e| events.lock().unwrap().push(e)));
        // Stop once the teacher has finished an epoch.
        while !events
            .lock()
            .unwrap()
            .iter()
            .any(|e| matches!(e, Event::Epoch(_)))
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        stopper.stop();
        run.join().unwrap().unwrap()
    });
    let s = &outcome.summary;
    assert!(s.stopped);
    assert_eq!(s.teacher.status, PhaseStatus::Stopped);
    assert!(
        s.teacher.test_accuracy.unwrap() > 0.5,
        "the stopped teacher is still evaluated"
    );
    assert!(s.teacher.epochs_completed < 200);
    assert_eq!(
        outcome.teacher.len(),
        1,
        "the stopped teacher's weights are kept"
    );
    assert!(s.student.is_none());
}

#[test]
fn pause_stops_steps_until_resumed() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.epochs = 50;
    let control = Control::new();
    let steps = Mutex::new(0usize);
    std::thread::scope(|scope| {
        let ctl = control.clone();
        let run = scope.spawn(|| {
            train::run_blocking(&exp, &control, &|e| {
                if let Event::Steps(v) = e {
                    *steps.lock().unwrap() += v.len();
                }
            })
        });
        while *steps.lock().unwrap() < 30 {
            std::thread::sleep(Duration::from_millis(2));
        }
        ctl.pause();
        std::thread::sleep(Duration::from_millis(100));
        let paused_at = *steps.lock().unwrap();
        std::thread::sleep(Duration::from_millis(400));
        // At most one read-back window can land after the pause took effect.
        assert!(
            *steps.lock().unwrap() - paused_at <= exp.train.log_every,
            "steps advanced while paused"
        );
        ctl.resume();
        std::thread::sleep(Duration::from_millis(200));
        assert!(*steps.lock().unwrap() > paused_at, "steps did not resume");
        ctl.stop();
        run.join().unwrap().unwrap();
    });
}

#[test]
fn divergence_stops_the_phase_and_names_the_step() {
    let _serial = crate::support::training_lock();
    // Logit regression with plain SGD at a learning rate far above 2/λ_max blows up
    // exponentially: the student's loss overflows within a few dozen steps.
    let mut exp = quick_digits();
    exp.teacher.epochs = 2;
    exp.train.epochs = 3;
    exp.student = ArchSpec::SoftmaxRegression;
    exp.distill.loss = SoftLoss::LogitMse;
    exp.train.optimizer = distillery::config::OptimizerSpec::Sgd {
        lr: 3.0,
        momentum: 0.0,
    };
    let (outcome, _) = run(&exp);
    let s = &outcome.summary;
    let failure = s.error.as_ref().expect("the run diverges");
    assert_eq!(failure.kind, distillery::train::FailureKind::Diverged);
    assert_eq!(failure.phase, Some(distillery::train::Phase::Student));
    let err = &failure.message;
    assert!(
        err.contains("student diverged") && err.contains("at step") && err.contains("try 0.3"),
        "{err}"
    );
    let student = s.student.as_ref().unwrap();
    assert_eq!(student.status, PhaseStatus::Diverged);
    assert!(student.epochs_completed < 3);
    assert!(outcome.student.is_none(), "diverged weights are not kept");
    // Earlier phases are kept.
    assert_eq!(s.teacher.status, PhaseStatus::Completed);
    assert!(s.baseline.as_ref().unwrap().test_accuracy.is_some());
    assert_eq!(outcome.teacher.len(), 1);
    let last = outcome.history.steps.last().unwrap();
    assert!(!last.total.is_finite(), "the diverging step is recorded");
}

#[test]
fn spirals_regions_and_logit_matching() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.data.source = DataSource::Synthetic(SyntheticSpec {
        kind: SyntheticKind::Moons,
        classes: 2,
        samples: 400,
        noise: 0.1,
    });
    exp.teacher.members = vec![ArchSpec::Mlp(MlpSpec {
        hidden: vec![32, 32],
        ..MlpSpec::default()
    })];
    exp.teacher.epochs = 30;
    exp.train.epochs = 100;
    exp.train.optimizer = distillery::config::OptimizerSpec::Adam { lr: 0.01 };
    exp.student = ArchSpec::Mlp(MlpSpec {
        hidden: vec![8],
        ..MlpSpec::default()
    });
    exp.distill.loss = SoftLoss::LogitMse;
    let (outcome, events) = run(&exp);
    assert!(outcome.summary.teacher.test_accuracy.unwrap() > 0.95);
    // Regressing a confident teacher's large logits is hard for 8 units (0.89 measured).
    assert!(
        outcome
            .summary
            .student
            .as_ref()
            .unwrap()
            .test_accuracy
            .unwrap()
            > 0.85
    );
    let regions = events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Regions(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        regions.probs.len(),
        regions.resolution * regions.resolution * 2
    );
    let sums_to_one = regions
        .probs
        .chunks(2)
        .all(|p| (p[0] + p[1] - 1.0).abs() < 1e-4);
    assert!(sums_to_one);
}

#[test]
fn cnn_student_with_pixel_jitter_trains_on_digits() {
    let _serial = crate::support::training_lock();
    // Jitter makes the teacher recompute its logits on every shifted batch.
    let mut exp = quick_digits();
    exp.teacher.epochs = 20;
    exp.train.epochs = 30;
    exp.train.jitter_pixels = 1;
    exp.train.optimizer = distillery::config::OptimizerSpec::Adam { lr: 0.003 };
    exp.student = ArchSpec::Cnn(distillery::config::CnnSpec {
        channels: vec![8],
        kernel_size: 3,
        hidden: vec![32],
        dropout: 0.0,
    });
    let (outcome, _) = run(&exp);
    let s = &outcome.summary;
    assert_eq!(s.error, None);
    // conv 1→8 (3×3): 80 parameters; dense 8·4·4=128 → 32 → 10.
    assert_eq!(
        s.student.as_ref().unwrap().parameters,
        80 + 128 * 32 + 32 + 32 * 10 + 10
    );
    // Measured: teacher 0.914 (a one-pixel shift is an eighth of these images), CNN baseline
    // 0.933, CNN student 0.858.
    let student = s.student.as_ref().unwrap().test_accuracy.unwrap();
    let baseline = s.baseline.as_ref().unwrap().test_accuracy.unwrap();
    assert!(
        student > 0.8 && baseline > 0.88,
        "CNN student {student}, baseline {baseline}"
    );
    let teacher = s.teacher.test_accuracy.unwrap();
    assert!(teacher > 0.88, "teacher {teacher}");
}

#[test]
fn ensemble_members_train_in_turn_and_combine() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.members = vec![
        ArchSpec::Mlp(MlpSpec {
            hidden: vec![64],
            ..MlpSpec::default()
        }),
        ArchSpec::Mlp(MlpSpec {
            hidden: vec![64],
            ..MlpSpec::default()
        }),
    ];
    exp.teacher.combine = distillery::config::Combine::MeanLogits;
    exp.teacher.epochs = 30;
    exp.train.epochs = 5;
    let (outcome, events) = run(&exp);
    let phases = phases_started(&events);
    assert_eq!(
        phases[..2],
        [
            Phase::Teacher { member: 0, of: 2 },
            Phase::Teacher { member: 1, of: 2 }
        ]
    );
    assert_eq!(outcome.teacher.len(), 2);
    assert_eq!(outcome.summary.teacher_members, 2);
    assert_eq!(
        outcome.summary.teacher.parameters,
        2 * (64 * 64 + 64 + 64 * 10 + 10)
    );
    let teacher_logits = outcome
        .logits
        .iter()
        .find(|l| l.role == distillery::train::Role::Teacher)
        .unwrap();
    assert_eq!(
        teacher_logits.members.len(),
        2,
        "each member's logits reach the window"
    );
    assert_ne!(
        teacher_logits.members[0], teacher_logits.members[1],
        "members differ in seed"
    );
    // Measured: members 0.944 and 0.955, their mean of logits 0.944.
    assert!(outcome.summary.teacher.test_accuracy.unwrap() > 0.92);
}

#[test]
fn held_out_unlabeled_transfer_set_trains_on_soft_targets_alone() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.epochs = 15;
    exp.train.epochs = 100;
    exp.transfer.source = distillery::config::TransferSource::HeldOut(0.3);
    exp.transfer.labeled = false;
    let (outcome, events) = run(&exp);
    let setup = events
        .iter()
        .find_map(|e| match e {
            Event::Setup(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    // 30% of each class is held out from the teacher for the student.
    assert_eq!(
        setup.data.teacher_examples + setup.data.transfer_examples,
        setup.data.train_examples
    );
    assert!(
        (setup.data.transfer_examples as f64 / setup.data.train_examples as f64 - 0.3).abs() < 0.01
    );
    assert!(!setup.data.transfer_labeled);
    assert!(
        events.iter().any(
            |e| matches!(e, Event::Notice(n) if n.kind == NoticeKind::PhaseSkipped
                && n.severity == Severity::Info
                && n.text.contains("baseline skipped"))
        ),
        "the window and the CLI are told why there is no baseline"
    );
    let s = &outcome.summary;
    assert_eq!(s.baseline.as_ref().unwrap().status, PhaseStatus::Skipped);
    // Without labels the total is the soft term alone.
    let student_steps: Vec<_> = outcome
        .history
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Student)
        .collect();
    assert!(
        student_steps
            .iter()
            .all(|s| (s.total - s.soft).abs() < 1e-5 * s.soft.max(1.0))
    );
    // Measured: 0.869 from 431 unlabeled examples.
    assert!(
        s.student.as_ref().unwrap().test_accuracy.unwrap() > 0.8,
        "soft targets alone teach the student"
    );
}

#[test]
fn an_explicit_gpu_without_one_is_a_clear_error() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.device = DeviceChoice::Gpu;
    exp.teacher.epochs = 1;
    exp.train.epochs = 1;
    let result = train::run_blocking(&exp, &Control::new(), &|_| {});
    if distillery::train::device::auto_uses_gpu() {
        assert_eq!(result.unwrap().summary.device.kind, "gpu");
    } else {
        let Err(train::RunError::Device(msg)) = result else {
            panic!("expected a device error")
        };
        assert!(
            msg.contains("no hardware GPU") && msg.contains("Auto or Cpu"),
            "{msg}"
        );
    }
}

#[test]
fn automatic_device_choice_is_announced_once() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.device = DeviceChoice::Auto;
    exp.teacher.epochs = 1;
    exp.train.epochs = 1;
    let (outcome, events) = run(&exp);
    let notices = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Notice(n) if n.kind == NoticeKind::CpuFallback
            && n.severity == Severity::Warning
            && n.text.starts_with("training on the CPU"))
        })
        .count();
    // One notice when a GPU was possible but the CPU is used, none on a GPU.
    let expected = usize::from(outcome.summary.device.note.is_some());
    assert_eq!(notices, expected, "{:?}", outcome.summary.device);
}

#[test]
fn a_stop_on_an_epoch_boundary_records_no_empty_epoch() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.epochs = 5;
    let control = Control::new();
    let events = Mutex::new(Vec::new());
    // Stop the moment the first epoch's results arrive: the next epoch has not taken a step.
    let outcome = train::run_blocking(&exp, &control, &|e| {
        if matches!(&e, Event::Epoch(m) if m.epoch == 1) {
            control.stop();
        }
        events.lock().unwrap().push(e);
    })
    .unwrap();
    let epochs = &outcome.history.epochs;
    assert_eq!(epochs.len(), 1, "no phantom epoch 2: {epochs:?}");
    assert!(epochs[0].train_loss > 0.0);
    let sent = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::Epoch(_)))
        .count();
    assert_eq!(sent, 1, "no epoch event without steps");
    let s = &outcome.summary;
    assert!(s.stopped);
    assert_eq!(s.teacher.status, PhaseStatus::Stopped);
    assert_eq!(s.teacher.epochs_completed, 1);
    assert!(s.teacher.test_accuracy.unwrap() > 0.5, "still evaluated");
}

#[test]
fn teacher_weights_of_another_architecture_are_refused_before_training() {
    let _serial = crate::support::training_lock();
    let mut exp = quick_digits();
    exp.teacher.weights = Some(crate::support::root().join("tests/bad_input/data/weights-mlp-8"));
    let events = Mutex::new(Vec::new());
    let result = train::run_blocking(&exp, &Control::new(), &|e| events.lock().unwrap().push(e));
    let Err(train::RunError::TeacherWeights(e)) = result else {
        panic!("expected a teacher weights error, got {result:?}");
    };
    assert_eq!(e.problem, train::WeightsProblem::WrongArchitecture);
    assert!(e.message.contains("teacher-0.bpk"), "{}", e.message);
    assert!(
        e.message.lines().count() >= 3,
        "one line per tensor: {}",
        e.message
    );
    assert!(
        events.lock().unwrap().is_empty(),
        "refused before setup: nothing was announced"
    );
}

/// An ensemble teacher's summary has each member's accuracy and the ensemble's under both
/// rules; the rule the preset names is the teacher's own accuracy.
#[test]
fn an_ensemble_reports_its_members_and_both_rules() {
    let _serial = crate::support::training_lock();
    let mut exp =
        distillery::config::from_ron_str(include_str!("../../presets/ensemble.ron"), "ensemble")
            .unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 5;
    exp.train.epochs = 2;
    let (outcome, _) = run(&exp);
    let s = &outcome.summary;
    let e = s.ensemble.as_ref().expect("an ensemble report");
    assert_eq!(e.members.len(), 3);
    assert!(e.members.iter().all(|a| (0.5..=1.0).contains(a)), "{e:?}");
    assert_eq!(Some(e.mean_probabilities), s.teacher.test_accuracy);
    assert!(e.mean_logits > 0.5);
    // Members differ only in their seed: their accuracies are not all the same.
    assert!(e.members.iter().any(|a| *a != e.members[0]), "{e:?}");
    let table = distillery::cli::ensemble_line(e);
    assert!(table.starts_with("teacher members "), "{table}");
}
