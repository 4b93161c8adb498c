//! Decoupled knowledge distillation (Zhao et al., CVPR 2022), after mdistiller's
//! `mdistiller/distillers/DKD.py`: the KD loss split into a target-class part (TCKD, a binary
//! KL between "the label" and "anything else") and a non-target part (NCKD, a KL between the
//! distributions over the other classes), weighted separately:
//! `CE + w(epoch)·(a·TCKD + b·NCKD)` with `w` a linear warm-up.
//!
//! The reference takes `log` of the 2-way probabilities, which gives inf or NaN once one of
//! them underflows in f32 (logits about 120 apart); here both parts are computed in log space.

use super::{MASK_OFFSET, kl_from_logs, log_sum_exp, target_mask};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// The two parts, each including its T² factor, before the weights a and b.
#[derive(Debug, Clone)]
pub struct DkdTerms {
    pub target: Tensor<1>,
    pub non_target: Tensor<1>,
}

/// TCKD and NCKD at temperature `t` against the labels. Shapes `[1]`.
pub fn dkd_terms(
    student: Tensor<2>,
    teacher: Tensor<2>,
    labels: Tensor<1, Int>,
    t: f64,
) -> DkdTerms {
    let [_, classes] = student.dims();
    let mask = target_mask(labels, classes);
    let target = kl_from_logs(
        binary_log_probs(teacher.clone() / t, mask.clone()),
        binary_log_probs(student.clone() / t, mask.clone()),
    );
    let non_target = kl_from_logs(
        log_softmax(teacher / t - mask.clone() * MASK_OFFSET, 1),
        log_softmax(student / t - mask * MASK_OFFSET, 1),
    );
    DkdTerms {
        target: target * (t * t),
        non_target: non_target * (t * t),
    }
}

/// `(log p_target, log (1 − p_target))` per row for softmax(`scaled`): `[batch, 2]`.
fn binary_log_probs(scaled: Tensor<2>, mask: Tensor<2>) -> Tensor<2> {
    let all = log_sum_exp(scaled.clone());
    let target = (scaled.clone() * mask.clone()).sum_dim(1);
    let others = log_sum_exp(scaled - mask * MASK_OFFSET);
    Tensor::cat(vec![target - all.clone(), others - all], 1)
}

/// mdistiller's warm-up factor `min(epoch / warmup, 1)`, epochs counted from 1.
pub fn warmup_factor(epoch: usize, warmup_epochs: usize) -> f64 {
    if warmup_epochs == 0 {
        return 1.0;
    }
    (epoch as f64 / warmup_epochs as f64).min(1.0)
}
