//! Normalised KD (Yang et al., ICCV 2023), after `yzd-v/cls_KD`
//! `mmcls/models/dis_losses/nkd.py`: a target term at T = 1, `−mean(t_y · log s_y)`, plus a
//! non-target term over the distributions renormalised without the label's class,
//! `−γ·T²·mean Σ_{k≠y} T_k log S_k`. As in the reference the non-target term is a
//! cross-entropy, which differs from a KL by the teacher's (constant) entropy: same gradients.

use super::{MASK_OFFSET, target_mask};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

/// The target term and the non-target term (with its T², before γ).
#[derive(Debug, Clone)]
pub struct NkdTerms {
    pub target: Tensor<1>,
    pub non_target: Tensor<1>,
}

pub fn nkd_terms(
    student: Tensor<2>,
    teacher: Tensor<2>,
    labels: Tensor<1, Int>,
    t: f64,
) -> NkdTerms {
    let [batch, classes] = student.dims();
    let mask = target_mask(labels, classes);
    let log_s = log_softmax(student.clone(), 1);
    let p_t = softmax(teacher.clone(), 1);
    let target = -(p_t * log_s * mask.clone()).sum() / batch as f64;
    // Removing the label's column and renormalising is a softmax with that logit pushed to
    // −1000: its probability is exactly 0 in f32, and so is its share of the sum.
    let off = mask * MASK_OFFSET;
    let p_non = softmax(teacher / t - off.clone(), 1);
    let log_s_non = log_softmax(student / t - off, 1);
    let non_target = -(p_non * log_s_non).sum() / batch as f64 * (t * t);
    NkdTerms { target, non_target }
}
