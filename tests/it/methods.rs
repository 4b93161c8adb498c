//! Every distillation method trains from its preset on real digits, logs its own terms, and
//! the ones that need labels behave on an unlabeled transfer set as they say.

use distillery::config::{DeviceChoice, Experiment, SoftLoss, from_ron_str};
use distillery::train::{self, Control, Event, NoticeKind, Phase};

fn preset(name: &str) -> Experiment {
    let path = crate::support::root().join(format!("presets/methods/{name}.ron"));
    let mut exp = from_ron_str(&std::fs::read_to_string(&path).unwrap(), name).unwrap();
    exp.device = DeviceChoice::Cpu;
    exp
}

use crate::support::run;

/// Each method's preset on the few-labels digits experiment: the student trains to a real
/// accuracy (the baseline alone reaches about 80% here), and the methods with terms of their
/// own log them on every student step.
#[test]
fn every_method_trains_from_its_preset_and_logs_its_terms() {
    let _serial = crate::support::training_lock();
    let names = [
        "dkd",
        "dist",
        "logit-standardisation",
        "ctkd",
        "nkd",
        "teacher-free",
        "label-smoothing",
    ];
    for name in names {
        let mut exp = preset(name);
        exp.train.epochs = 150;
        let (outcome, _) = run(&exp);
        let s = &outcome.summary;
        assert_eq!(s.error, None, "{name}");
        let student = s.student.as_ref().unwrap().test_accuracy.unwrap();
        assert!(student >= 0.75, "{name}: student {student}");
        let steps: Vec<_> = outcome
            .history
            .steps
            .iter()
            .filter(|s| s.phase == Phase::Student)
            .collect();
        assert!(!steps.is_empty());
        let has_terms = exp.distill.loss.term_names().is_some();
        for st in &steps {
            assert!(
                st.soft.is_finite() && st.total.is_finite(),
                "{name}: {st:?}"
            );
            assert_eq!(st.terms[0].is_finite(), has_terms, "{name}: {st:?}");
        }
        // The file a run leaves has the method's columns, named.
        let csv = distillery::run::steps_csv(&outcome.history.steps, exp.distill.loss);
        let header = csv.lines().next().unwrap();
        if let Some([a, b]) = exp.distill.loss.term_names() {
            assert!(header.ends_with(&format!(",{a},{b}")), "{name}: {header}");
        }
    }
}

/// DKD's logged parts add up to its soft term: w·(a·TCKD + b·NCKD), w the warm-up factor.
#[test]
fn dkd_terms_make_its_soft_term() {
    let _serial = crate::support::training_lock();
    let mut exp = preset("dkd");
    exp.train.epochs = 30;
    let (outcome, _) = run(&exp);
    let p = exp.distill.dkd;
    for st in outcome
        .history
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Student)
    {
        let w = (st.epoch as f64 / p.warmup_epochs as f64).min(1.0);
        let want =
            w * (p.target_weight * st.terms[0] as f64 + p.non_target_weight * st.terms[1] as f64);
        assert!(
            (st.soft as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
            "step {}: soft {} vs {want}",
            st.step,
            st.soft
        );
    }
}

/// CTKD's temperature is learned: it starts at 1 + 20·σ(1) and moves, step by step, and the
/// temperature column reports it rather than the preset's T.
#[test]
fn ctkd_learns_its_temperature_and_logs_it() {
    let _serial = crate::support::training_lock();
    let mut exp = preset("ctkd");
    exp.train.epochs = 40;
    let (outcome, _) = run(&exp);
    let ts: Vec<f32> = outcome
        .history
        .steps
        .iter()
        .filter(|s| s.phase == Phase::Student)
        .map(|s| s.temperature)
        .collect();
    let start = 1.0 + 20.0 / (1.0 + (-1.0f32).exp());
    assert!((ts[0] - start).abs() < 0.05, "first T {}", ts[0]);
    let (lo, hi) = ts
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    assert!(hi - lo > 0.5, "T moved only within [{lo}, {hi}]");
    assert!(
        ts.iter().all(|t| (1.0..=21.0).contains(t)),
        "T left [1, 21]"
    );
}

/// On an unlabeled transfer set, DKD uses the teacher's predictions in place of the labels and
/// says so; label smoothing, which has no teacher to stand in, is refused by name.
#[test]
fn label_needing_methods_on_an_unlabeled_transfer_set() {
    let _serial = crate::support::training_lock();
    let mut exp = preset("dkd");
    exp.transfer.labeled = false;
    exp.train.epochs = 20;
    let (outcome, events) = run(&exp);
    assert_eq!(outcome.summary.error, None);
    let said = events.iter().any(|e| {
        matches!(e, Event::Notice(n) if n.kind == NoticeKind::LabelStandIn
            && n.text.contains("teacher's predicted class"))
    });
    assert!(
        said,
        "no notice that the teacher's predictions stand in for the labels"
    );
    let mut smooth = preset("label-smoothing");
    smooth.transfer.labeled = false;
    let err = train::run_blocking(&smooth, &Control::new(), &|_| {}).unwrap_err();
    assert!(err.is_bad_input());
    let text = err.to_string();
    assert!(
        text.contains("distill.loss = LabelSmoothing") && text.contains("unlabeled"),
        "{text}"
    );
    assert_eq!(
        SoftLoss::from_short("smooth"),
        Some(SoftLoss::LabelSmoothing)
    );
}
