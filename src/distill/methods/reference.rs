//! Every method against values computed with its authors' PyTorch formulas
//! (`scripts/reference_losses.py`, float64), on the same fixed logits; extreme logits of ±50
//! without NaN; and each loss's gradient against central finite differences.

use super::dist::dist_terms;
use super::dkd::{dkd_terms, warmup_factor};
use super::nkd::nkd_terms;
use super::standardise::standardised_kd;
use super::virtual_teacher::{label_smoothing, tf_kd_regulariser};
use burn::prelude::*;

const STUDENT: [[f32; 5]; 4] = [
    [2.0, -1.0, 0.5, 0.0, 1.5],
    [-0.5, 3.0, 1.0, -2.0, 0.0],
    [0.3, 0.2, -0.1, 2.5, -1.0],
    [1.0, 1.0, 1.0, 1.0, 0.5],
];
const TEACHER: [[f32; 5]; 4] = [
    [4.0, -2.0, 1.0, -1.0, 2.5],
    [-1.0, 5.0, 2.0, -3.0, 0.5],
    [0.0, 1.0, -2.0, 3.0, -0.5],
    [2.0, -1.0, 0.0, 1.5, 0.5],
];
const LABELS: [i64; 4] = [0, 1, 3, 2];
const STUDENT_X: [[f32; 3]; 2] = [[50.0, -50.0, 0.0], [-50.0, 50.0, 10.0]];
const TEACHER_X: [[f32; 3]; 2] = [[-50.0, 50.0, 0.0], [50.0, -50.0, -10.0]];
const LABELS_X: [i64; 2] = [0, 1];

fn device() -> Device {
    Device::flex()
}

fn logits<const C: usize, const B: usize>(v: [[f32; C]; B]) -> Tensor<2> {
    Tensor::from_floats(v, &device())
}

fn labels<const B: usize>(v: [i64; B]) -> Tensor<1, Int> {
    Tensor::from_ints(v, &device())
}

fn value(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

/// f32 against a float64 reference: relative 2e-5, or absolute 2e-6 near zero.
fn assert_close(got: f64, want: f64, what: &str) {
    let tolerance = (want.abs() * 2e-5).max(2e-6);
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, PyTorch {want}"
    );
}

#[test]
fn dkd_matches_mdistiller() {
    for (t, tckd, nckd) in [
        (1.0, 0.082200040, 0.198296995),
        (4.0, 0.217076688, 0.421925893),
        (10.0, 0.214270492, 0.460001549),
    ] {
        let terms = dkd_terms(logits(STUDENT), logits(TEACHER), labels(LABELS), t);
        assert_close(value(terms.target), tckd, &format!("TCKD at T = {t}"));
        assert_close(value(terms.non_target), nckd, &format!("NCKD at T = {t}"));
    }
    assert_eq!(warmup_factor(1, 20), 0.05);
    assert_eq!(warmup_factor(20, 20), 1.0);
    assert_eq!(warmup_factor(40, 20), 1.0);
}

#[test]
fn dist_matches_the_reference() {
    for (tau, inter, intra) in [
        (1.0, 0.204168042, 0.038089902),
        (4.0, 3.996605012, 0.787607449),
    ] {
        let terms = dist_terms(logits(STUDENT), logits(TEACHER), tau);
        assert_close(value(terms.inter), inter, &format!("inter at τ = {tau}"));
        assert_close(value(terms.intra), intra, &format!("intra at τ = {tau}"));
    }
}

#[test]
fn standardised_kd_matches_the_reference() {
    for (t, want) in [(1.0, 0.115328728), (2.0, 0.169438142)] {
        let got = value(standardised_kd(logits(STUDENT), logits(TEACHER), t));
        assert_close(got, want, &format!("logit-standardised KD at T = {t}"));
    }
}

#[test]
fn nkd_matches_the_reference() {
    for (t, target, non_target) in [
        (1.0, 0.265475265, 1.032779417),
        (4.0, 0.265475265, 21.572355333),
    ] {
        let terms = nkd_terms(logits(STUDENT), logits(TEACHER), labels(LABELS), t);
        assert_close(
            value(terms.target),
            target,
            &format!("NKD target at T = {t}"),
        );
        assert_close(
            value(terms.non_target),
            non_target,
            &format!("NKD non-target at T = {t}"),
        );
    }
}

#[test]
fn virtual_teachers_match_the_reference() {
    for (a, t, want) in [(0.99, 20.0, 0.126123657), (0.9, 1.0, 0.076437946)] {
        let got = value(tf_kd_regulariser(logits(STUDENT), labels(LABELS), a, t));
        assert_close(got, want, &format!("Tf-KD regulariser at a = {a}, T = {t}"));
    }
    let got = value(label_smoothing(logits(STUDENT), labels(LABELS), 0.9));
    assert_close(got, 0.873191132, "label smoothing at a = 0.9");
}

/// Logits of ±50 (the references agree in f32 here) and, for DKD, logits 120 apart, where
/// the reference's f32 `log(softmax)` of the 2-way split is `log 0`: it returns inf in one
/// case and NaN in the other, while the exact values (float64, log space) are finite.
#[test]
fn extreme_logits_give_finite_exact_values() {
    for (zs, zt, tckd, nckd) in [
        (
            [[60.0, -60.0, -60.0]],
            [[-60.0, 60.0, 0.0]],
            119.306852819,
            std::f64::consts::LN_2, // PyTorch: 0.693147181
        ),
        ([[60.0, -60.0, -60.0]], [[60.0, -60.0, -60.0]], 0.0, 0.0),
    ] {
        let terms = dkd_terms(logits(zs), logits(zt), labels([0]), 1.0);
        assert_close(value(terms.target), tckd, "TCKD, logits 120 apart");
        assert_close(value(terms.non_target), nckd, "NCKD, logits 120 apart");
    }
    let (s, t, y) = (
        || logits(STUDENT_X),
        || logits(TEACHER_X),
        || labels(LABELS_X),
    );
    let dkd = dkd_terms(s(), t(), y(), 1.0);
    assert_close(value(dkd.target), 45.0, "TCKD at ±50");
    assert_close(value(dkd.non_target), 55.0, "NCKD at ±50");
    let nkd = nkd_terms(s(), t(), y(), 1.0);
    assert_close(value(nkd.target), 0.0, "NKD target at ±50");
    assert_close(value(nkd.non_target), 55.0, "NKD non-target at ±50");
    let dist = dist_terms(s(), t(), 1.0);
    assert_close(value(dist.inter), 1.499999993, "DIST inter at ±50");
    assert_close(value(dist.intra), 1.666666653, "DIST intra at ±50");
    assert_close(
        value(standardised_kd(s(), t(), 2.0)),
        1.299757358,
        "standardised KD at ±50",
    );
}

/// The autodiff gradient of `loss` at the student logits against central differences of the
/// same function, every element.
fn check_gradient(name: &str, loss: impl Fn(Tensor<2>) -> Tensor<1>) -> Vec<f32> {
    let ad = device().autodiff();
    let flat: Vec<f32> = STUDENT.iter().flatten().copied().collect();
    let z = Tensor::<2>::from_floats(STUDENT, &ad).require_grad();
    let grads = loss(z.clone()).backward();
    let analytic: Vec<f32> = z
        .grad(&grads)
        .expect("a gradient")
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let at = |v: &[f32]| {
        let t = Tensor::<1>::from_floats(v, &device()).reshape([4, 5]);
        value(loss(t))
    };
    let h = 1e-2f32;
    for i in 0..flat.len() {
        let (mut up, mut down) = (flat.clone(), flat.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (at(&up) - at(&down)) / (2.0 * h as f64);
        let got = analytic[i] as f64;
        assert!(
            (got - numeric).abs() <= 1e-3 + 1e-2 * numeric.abs(),
            "{name}: ∂/∂z[{i}] autodiff {got}, finite difference {numeric}"
        );
    }
    analytic
}

#[test]
fn every_gradient_matches_finite_differences() {
    let teacher = || logits(TEACHER);
    let y = || labels(LABELS);
    let on = |t: Tensor<2>, like: &Tensor<2>| t.to_device(&like.device());
    let dkd = check_gradient("DKD", |z| {
        let terms = dkd_terms(
            z.clone(),
            on(teacher(), &z),
            y().to_device(&z.device()),
            4.0,
        );
        terms.target + terms.non_target
    });
    // And against PyTorch's own gradient of the reference DKD (first row).
    for (got, want) in dkd[..5].iter().zip([
        -0.100559881,
        0.062606357,
        0.002602585,
        0.080388154,
        -0.045037215,
    ]) {
        assert_close(*got as f64, want, "DKD gradient, row 0");
    }
    check_gradient("DIST", |z| {
        let terms = dist_terms(z.clone(), on(teacher(), &z), 4.0);
        terms.inter + terms.intra
    });
    check_gradient("standardised KD", |z| {
        standardised_kd(z.clone(), on(teacher(), &z), 2.0)
    });
    check_gradient("NKD", |z| {
        let terms = nkd_terms(
            z.clone(),
            on(teacher(), &z),
            y().to_device(&z.device()),
            4.0,
        );
        terms.target + terms.non_target
    });
    check_gradient("Tf-KD", |z| {
        let dev = z.device();
        tf_kd_regulariser(z, y().to_device(&dev), 0.99, 20.0)
    });
    check_gradient("label smoothing", |z| {
        let dev = z.device();
        label_smoothing(z, y().to_device(&dev), 0.9)
    });
}
