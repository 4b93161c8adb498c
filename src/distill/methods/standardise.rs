//! Logit standardisation (Sun et al., CVPR 2024), after `sunshangquan/logit-standardization-KD`
//! `mdistiller/distillers/KD.py`: z-score each row of teacher and student logits before the
//! usual KD at a base temperature, so the student matches the teacher's logit *relations*
//! rather than their range. The reference's `std` is PyTorch's default, with Bessel's
//! correction (divides by classes − 1).

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

/// The reference's guard added to the deviation.
const EPS: f64 = 1e-7;

/// `(z − mean) / (std + 1e-7)` per row, `std` unbiased.
pub fn standardise(z: Tensor<2>) -> Tensor<2> {
    let mean = z.clone().mean_dim(1);
    let std = z.clone().var(1).sqrt();
    (z - mean) / (std + EPS)
}

/// `T²·KL(softmax(std(z_t)/T) ‖ softmax(std(z_s)/T))`, batch mean. Shape `[1]`.
pub fn standardised_kd(student: Tensor<2>, teacher: Tensor<2>, t: f64) -> Tensor<1> {
    let log_p = log_softmax(standardise(teacher) / t, 1);
    let log_q = log_softmax(standardise(student) / t, 1);
    super::kl_from_logs(log_p, log_q) * (t * t)
}
