//! The fused head against the tensor functions it replaces: values and gradients.

use super::*;
use crate::config::Combine;
use crate::distill::teacher_soft_targets;
use burn::tensor::Distribution;

const BATCH: usize = 7;
const CLASSES: usize = 5;

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec().expect("f32")
}

fn labels(device: &Device) -> Tensor<1, Int> {
    let y: Vec<i64> = (0..BATCH as i64)
        .map(|i| (i * 3) % CLASSES as i64)
        .collect();
    Tensor::from_data(TensorData::new(y, [BATCH]), device)
}

/// A two-member arithmetic-mean teacher's soft targets at T, and a student's logits.
fn batch(t: f64) -> (SoftTargets, Tensor<2>) {
    let device = Device::flex();
    let members: Vec<Tensor<2>> = (0..2)
        .map(|_| Tensor::random([BATCH, CLASSES], Distribution::Normal(0.0, 3.0), &device))
        .collect();
    let targets = teacher_soft_targets(&members, Combine::MeanProbabilities, t);
    let z = Tensor::random([BATCH, CLASSES], Distribution::Normal(0.0, 2.0), &device);
    (targets, z)
}

/// The head's reported values and `∂total/∂z`, from the fused operation or the tensor
/// functions.
fn value_and_gradient(
    z: &Tensor<2>,
    head: impl FnOnce(Tensor<2>) -> LossParts,
) -> (Vec<f32>, Vec<f32>) {
    let z = Tensor::<2>::from_data(z.to_data(), &Device::flex().autodiff()).require_grad();
    let out = head(z.clone());
    let grads = out.total.backward();
    let g = z.grad(&grads).expect("the logits are tracked");
    (floats(out.reported), floats(g))
}

/// Equal within `relative` of the largest magnitude (at least 1). The values get a looser
/// bound than the gradients: T² multiplies the KL's f32 rounding (about 10⁻⁵ at T = 20).
fn assert_close(got: &[f32], want: &[f32], relative: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= relative * scale + 1e-7,
            "{what}[{i}]: {g} vs {w} (all: {got:?} vs {want:?})"
        );
    }
}

#[test]
fn the_fused_kd_head_is_the_tensor_functions_value_and_gradient() {
    for (t, cross_entropy, scale, weights) in [
        (1.0, false, 1.0, (0.5, 0.5)),
        (4.0, false, 16.0, (0.9, 0.1)),
        (20.0, false, 400.0, (1.0, 0.0)),
        (3.0, true, 9.0, (0.7, 0.3)),
        (2.0, true, 1.0, (2.0, 0.5)),
    ] {
        let (targets, z) = batch(t);
        let s = HeadScalars {
            temperature: t as f32,
            soft_scale: scale,
            soft_weight: weights.0,
            hard_weight: weights.1,
            cross_entropy,
        };
        let y = labels(&Device::flex().autodiff());
        let fused_head = value_and_gradient(&z, |z| {
            fused(
                z,
                Some((targets.probs.clone(), targets.log_probs.clone())),
                y.clone(),
                s,
            )
        });
        let tensor_functions =
            value_and_gradient(&z, |z| composite(z, Some(&targets), y.clone(), s));
        let what = format!("T = {t}, cross-entropy {cross_entropy}");
        assert_close(
            &fused_head.0,
            &tensor_functions.0,
            2e-5,
            &format!("{what}: values"),
        );
        assert_close(
            &fused_head.1,
            &tensor_functions.1,
            2e-6,
            &format!("{what}: gradient"),
        );
        let [soft, hard, total] = fused_head.0[..] else {
            panic!("three reported values")
        };
        assert!(soft > 0.0 && hard > 0.0, "{soft} {hard}");
        assert_eq!(total, weights.0 * soft + weights.1 * hard);
    }
}

#[test]
fn the_fused_cross_entropy_is_the_tensor_functions_value_and_gradient() {
    let (_, z) = batch(1.0);
    let y = labels(&Device::flex().autodiff());
    let fused_head = value_and_gradient(&z, |z| hard_head(z, y.clone()));
    let tensor_functions = value_and_gradient(&z, |z| composite(z, None, y.clone(), HARD_ONLY));
    assert_eq!(
        fused_head.0.len(),
        1,
        "cross-entropy alone reports one value"
    );
    assert_close(&fused_head.0, &tensor_functions.0, 2e-6, "value");
    assert_close(&fused_head.1, &tensor_functions.1, 2e-6, "gradient");
    // The gradient of a batch-mean cross-entropy sums to zero over each row.
    for row in fused_head.1.chunks(CLASSES) {
        assert!(row.iter().sum::<f32>().abs() < 1e-7, "{row:?}");
    }
}

/// Without autodiff (evaluation, the tools), the head is the same numbers.
#[test]
fn the_fused_head_without_autodiff_gives_the_same_values() {
    let (targets, z) = batch(4.0);
    let y = labels(&Device::flex());
    let s = HeadScalars {
        temperature: 4.0,
        soft_scale: 16.0,
        soft_weight: 0.9,
        hard_weight: 0.1,
        cross_entropy: false,
    };
    let untracked = kd_head(z.clone(), &targets, y.clone(), s);
    let reference = composite(z, Some(&targets), y, s);
    assert_close(
        &floats(untracked.reported),
        &floats(reference.reported),
        2e-5,
        "values",
    );
    assert_eq!(floats(untracked.total).len(), 1);
}
