//! The teacher-free controls (Yuan et al., CVPR 2020, `yuanli2333/Teacher-free-Knowledge-
//! Distillation` `my_loss_function.py`): a hand-made "virtual teacher" that puts probability
//! `a` on the true class and spreads `1 − a` evenly over the others. Label smoothing is
//! cross-entropy against it; Tf-KD's regularisation is a KL to it softened at T.

use super::target_mask;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

/// `[batch, classes]`: `a` at each label, `(1 − a)/(classes − 1)` elsewhere.
pub fn virtual_targets(labels: Tensor<1, Int>, classes: usize, a: f64) -> Tensor<2> {
    let rest = (1.0 - a) / (classes as f64 - 1.0);
    target_mask(labels, classes) * (a - rest) + rest
}

/// Cross-entropy against the virtual teacher, batch mean: label smoothing with `1 − a`.
pub fn label_smoothing(student: Tensor<2>, labels: Tensor<1, Int>, a: f64) -> Tensor<1> {
    let [batch, classes] = student.dims();
    let u = virtual_targets(labels, classes, a);
    -(u * log_softmax(student, 1)).sum() / batch as f64
}

/// Tf-KD's regulariser exactly as its reference computes it: the target is
/// `softmax(u / T)` of the virtual teacher's *probabilities* `u`, the student is at T = 1,
/// and `nn.KLDivLoss()`'s default reduction averages over every element (batch × classes),
/// not over the batch.
pub fn tf_kd_regulariser(student: Tensor<2>, labels: Tensor<1, Int>, a: f64, t: f64) -> Tensor<1> {
    let [batch, classes] = student.dims();
    let target = virtual_targets(labels, classes, a) / t;
    let p = softmax(target.clone(), 1);
    let log_p = log_softmax(target, 1);
    (p * (log_p - log_softmax(student, 1))).sum() / (batch * classes) as f64
}
