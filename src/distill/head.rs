//! The loss head of a training step (the soft term, the hard cross-entropy and their weighted
//! sum) as one operation with its own backward pass, on the CPU.
//!
//! Written as tensor functions, KL at T plus cross-entropy is some twenty small operations
//! (divide by T, two log-softmaxes, gather, products, sums, weights), and on flex each one
//! pays its own dispatch, allocation and autodiff bookkeeping twice, forward and backward. On a
//! 30-30 student that was a quarter of the step. Here the forward pass is one sweep over the
//! logits that also writes the gradient the backward pass will need,
//!
//! `∂total/∂z_j = w_s·s·(q_j·Σp − p_j)/(T·B) + w_h·(r_j − [j = y])/B`,
//!
//! with `q = softmax(z/T)`, `r = softmax(z)`, `s` the soft term's factor (T² or 1) and `B`
//! the batch. That is the exact derivative of the formulas in [`super`] (the tests compare
//! both, value and gradient). Off flex (wgpu) the tensor functions are used unchanged: there
//! burn fuses them itself.

use super::head_rows::Sweep;
use super::{LossParts, SoftTargets, hard_cross_entropy, kl_divergence, soft_cross_entropy};
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Autodiff, Backend, DType, Flex, backend_extension};
use burn::prelude::*;

/// The constants of one head: which soft term, at what T, with what weights.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadScalars {
    pub temperature: f32,
    /// The soft term's own factor (T² when scaling is on).
    pub soft_scale: f32,
    pub soft_weight: f32,
    pub hard_weight: f32,
    /// Soft cross-entropy `−Σ p log q` instead of KL (the same gradient, a different value).
    pub cross_entropy: bool,
}

/// The weighted KL (or soft cross-entropy) at T plus cross-entropy: one fused operation on
/// flex, the tensor functions elsewhere. Reports `[soft, hard, total]`.
pub fn kd_head(
    logits: Tensor<2>,
    targets: &SoftTargets,
    labels: Tensor<1, Int>,
    s: HeadScalars,
) -> LossParts {
    if !on_flex(&logits) {
        return composite(logits, Some(targets), labels, s);
    }
    fused(
        logits,
        Some((targets.probs.clone(), targets.log_probs.clone())),
        labels,
        s,
    )
}

/// Cross-entropy alone (a step without a teacher), fused on flex. Reports `[hard]`.
pub fn hard_head(logits: Tensor<2>, labels: Tensor<1, Int>) -> LossParts {
    if !on_flex(&logits) {
        return composite(logits, None, labels, HARD_ONLY);
    }
    fused(logits, None, labels, HARD_ONLY)
}

/// Whether `t` is an f32 tensor on flex, with or without autodiff (device equality ignores
/// it), so the CPU kernels apply.
pub(crate) fn on_flex<const D: usize>(t: &Tensor<D>) -> bool {
    t.device() == Device::flex() && t.dtype() == DType::F32
}

/// The head from the tensor functions, as the rest of the methods are computed.
fn composite(
    logits: Tensor<2>,
    targets: Option<&SoftTargets>,
    labels: Tensor<1, Int>,
    s: HeadScalars,
) -> LossParts {
    let hard = hard_cross_entropy(logits.clone(), labels);
    let Some(targets) = targets else {
        return LossParts {
            reported: hard.clone().detach().inner(),
            total: hard,
        };
    };
    let t = s.temperature as f64;
    let soft = if s.cross_entropy {
        soft_cross_entropy(targets, logits, t)
    } else {
        kl_divergence(targets, logits, t)
    } * s.soft_scale as f64;
    weigh(
        soft,
        hard,
        (s.soft_weight as f64, s.hard_weight as f64),
        None,
    )
}

/// `w_s·soft + w_h·hard`, reported detached as `[soft, hard, total]` and then the method's
/// two `terms` if it has them: how every tensor-function loss adds up.
pub(super) fn weigh(
    soft: Tensor<1>,
    hard: Tensor<1>,
    (w_soft, w_hard): (f64, f64),
    terms: Option<Tensor<1>>,
) -> LossParts {
    let total = soft.clone() * w_soft + hard.clone() * w_hard;
    let mut reported = vec![
        soft.detach().inner(),
        hard.detach().inner(),
        total.clone().detach().inner(),
    ];
    reported.extend(terms.map(|t| t.detach().inner()));
    LossParts {
        total,
        reported: Tensor::cat(reported, 0),
    }
}

fn fused(
    logits: Tensor<2>,
    targets: Option<(Tensor<2>, Tensor<2>)>,
    labels: Tensor<1, Int>,
    s: HeadScalars,
) -> LossParts {
    type Ops = burn::backend::Dispatch;
    let (total, reported, _) = match targets {
        Some((p, l)) => <Ops as LossHeadOps>::kd_head(
            logits.into_dispatch(),
            p.into_dispatch(),
            l.into_dispatch(),
            labels.into_dispatch(),
            s,
            false,
        ),
        None => {
            <Ops as LossHeadOps>::hard_head(logits.into_dispatch(), labels.into_dispatch(), false)
        }
    };
    LossParts {
        total: Tensor::from_dispatch(total),
        reported: Tensor::<1>::from_dispatch(reported).inner(),
    }
}

/// The head as a backend operation: flex computes it, autodiff records its backward pass.
/// Each returns `(total [1], reported, ∂total/∂logits when `gradient`)`.
#[backend_extension(Flex, Autodiff)]
pub trait LossHeadOps: Backend {
    /// The soft term against `targets` (probabilities) and `target_logs` (their logarithms),
    /// plus cross-entropy, weighted.
    fn kd_head(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        target_logs: FloatTensor<Self>,
        labels: IntTensor<Self>,
        scalars: HeadScalars,
        gradient: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        Option<FloatTensor<Self>>,
    );

    /// Cross-entropy alone.
    fn hard_head(
        logits: FloatTensor<Self>,
        labels: IntTensor<Self>,
        gradient: bool,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        Option<FloatTensor<Self>>,
    );
}

/// The scalars of a head without a soft term.
const HARD_ONLY: HeadScalars = HeadScalars {
    temperature: 1.0,
    soft_scale: 0.0,
    soft_weight: 0.0,
    hard_weight: 1.0,
    cross_entropy: false,
};

type HeadOutput<B> = (FloatTensor<B>, FloatTensor<B>, Option<FloatTensor<B>>);

impl LossHeadOps for Flex {
    fn kd_head(
        logits: FlexTensor,
        targets: FlexTensor,
        target_logs: FlexTensor,
        labels: FlexTensor,
        s: HeadScalars,
        gradient: bool,
    ) -> HeadOutput<Self> {
        flex_head(
            logits,
            Some((dense(targets), dense(target_logs))),
            labels,
            s,
            gradient,
        )
    }

    fn hard_head(logits: FlexTensor, labels: FlexTensor, gradient: bool) -> HeadOutput<Self> {
        flex_head(logits, None, labels, HARD_ONLY, gradient)
    }
}

fn flex_head(
    logits: FlexTensor,
    soft: Option<(FlexTensor, FlexTensor)>,
    labels: FlexTensor,
    s: HeadScalars,
    gradient: bool,
) -> HeadOutput<Flex> {
    let [batch, classes] = logits.layout().shape().dims::<2>();
    let z = dense(logits);
    let y = class_indices(&labels, batch);
    let sweep = Sweep {
        z: floats(&z),
        soft: soft.as_ref().map(|(p, l)| (floats(p), floats(l))),
        labels: &y,
        classes,
        s,
    };
    let mut grad = gradient.then(|| vec![0.0f32; batch * classes]);
    let (soft_mean, hard_mean) = sweep.run(grad.as_deref_mut());
    let soft_value = soft_mean * s.soft_scale;
    let total = s.soft_weight * soft_value + s.hard_weight * hard_mean;
    let reported = match sweep.soft {
        Some(_) => vec![soft_value, hard_mean, total],
        None => vec![hard_mean],
    };
    (
        vector(vec![total]),
        vector(reported),
        grad.map(|g| matrix(g, batch, classes)),
    )
}

impl<B: LossHeadOps, C: CheckpointStrategy> LossHeadOps for Autodiff<B, C> {
    fn kd_head(
        logits: FloatTensor<Self>,
        targets: FloatTensor<Self>,
        target_logs: FloatTensor<Self>,
        labels: IntTensor<Self>,
        s: HeadScalars,
        _gradient: bool,
    ) -> HeadOutput<Self> {
        // The teacher's targets are constants: only the logits get a gradient.
        let (p, l) = (targets.into_primitive(), target_logs.into_primitive());
        tracked_head::<B, C>(logits, |z, gradient| {
            B::kd_head(z, p, l, labels, s, gradient)
        })
    }

    fn hard_head(
        logits: FloatTensor<Self>,
        labels: IntTensor<Self>,
        _gradient: bool,
    ) -> HeadOutput<Self> {
        tracked_head::<B, C>(logits, |z, gradient| B::hard_head(z, labels, gradient))
    }
}

/// Run the inner backend's head on the logits, recording [`HeadBackward`] when they are
/// tracked; the reported values are a constant.
fn tracked_head<B: Backend, C: CheckpointStrategy>(
    logits: FloatTensor<Autodiff<B, C>>,
    head: impl FnOnce(FloatTensor<B>, bool) -> HeadOutput<B>,
) -> HeadOutput<Autodiff<B, C>> {
    let (z, guard) = logits.into_parts();
    let constant = FloatTensor::<Autodiff<B, C>>::new;
    match HeadBackward
        .prepare::<C>([guard])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let (total, reported, grad) = head(z, true);
            let grad = grad.expect("the head was asked for its gradient");
            (prep.finish(grad, total), constant(reported), None)
        }
        OpsKind::UnTracked(prep) => {
            let (total, reported, _) = head(z, false);
            (prep.finish(total), constant(reported), None)
        }
    }
}

/// The head's backward pass: the gradient written in the forward sweep, times the upstream
/// gradient of the total.
#[derive(Debug)]
struct HeadBackward;

impl<B: Backend> Backward<B, 1> for HeadBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let per_logit = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |upstream| {
            B::float_mul(per_logit, B::float_reshape(upstream, Shape::new([1, 1])))
        });
    }
}

/// The tensor as one contiguous buffer from offset 0 (copied only if strided or offset).
pub(crate) fn dense(t: FlexTensor) -> FlexTensor {
    match t.layout().contiguous_offsets() {
        Some((0, _)) => t,
        _ => t.to_contiguous(),
    }
}

pub(crate) fn floats(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>().expect("a contiguous f32 tensor")
}

pub(crate) fn vector(values: Vec<f32>) -> FlexTensor {
    let n = values.len();
    FlexTensor::from_data(TensorData::new(values, [n]))
}

/// A row-major `[rows, cols]` tensor owning `values`.
pub(crate) fn matrix(values: Vec<f32>, rows: usize, cols: usize) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, [rows, cols]))
}

/// The labels as indices; a label outside the classes is a bug upstream (the data module
/// validates them), so it panics rather than reading another row.
fn class_indices(labels: &FlexTensor, batch: usize) -> Vec<usize> {
    let y = indices(labels);
    assert_eq!(y.len(), batch, "one label per row");
    y
}

/// An integer tensor's values as indices (a negative one becomes too large to index
/// anything, so it panics where it is used instead of reading another element).
pub(crate) fn indices(t: &FlexTensor) -> Vec<usize> {
    let t = dense(t.clone());
    match t.dtype() {
        DType::I64 => t
            .as_slice::<i64>()
            .expect("i64")
            .iter()
            .map(|&v| v as usize)
            .collect(),
        DType::I32 => t
            .as_slice::<i32>()
            .expect("i32")
            .iter()
            .map(|&v| v as usize)
            .collect(),
        other => panic!("indices of type {other:?}"),
    }
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
