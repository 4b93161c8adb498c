//! The logit-based distillation methods of the last years, each as pure tensor functions
//! that mirror its authors' PyTorch code (the file of each names the reference). Each returns
//! its terms separately, so the engine can log them and the window can show them apart;
//! the weighting between terms stays with the caller.
//!
//! Every function takes student logits `[batch, classes]` (differentiated) and, where it uses
//! one, the teacher's logits `[batch, classes]` (constant). Reductions are batch means unless
//! the reference code reduces otherwise, which the function then says.

pub mod ctkd;
pub mod dist;
pub mod dkd;
pub mod nkd;
pub mod standardise;
pub mod virtual_teacher;

#[cfg(test)]
mod reference;

use burn::prelude::*;

/// What the references subtract from a masked-out class's scaled logit (mdistiller's DKD):
/// large enough that `exp` of it vanishes in f32, small enough to stay finite.
pub const MASK_OFFSET: f64 = 1000.0;

/// `[batch, classes]` mask: 1.0 at each row's label, 0.0 elsewhere, built on the device
/// without reading the labels back.
pub fn target_mask(labels: Tensor<1, Int>, classes: usize) -> Tensor<2> {
    let [batch] = labels.dims();
    let device = labels.device();
    let columns = Tensor::<1, Int>::arange(0..classes as i64, &device)
        .reshape([1, classes])
        .expand([batch, classes]);
    labels
        .reshape([batch, 1])
        .expand([batch, classes])
        .equal(columns)
        .float()
}

/// `log Σ_k exp(x_k)` per row, stable for any magnitude: `[batch, classes] -> [batch, 1]`.
pub fn log_sum_exp(x: Tensor<2>) -> Tensor<2> {
    let max = x.clone().max_dim(1).detach();
    (x - max.clone()).exp().sum_dim(1).log() + max
}

/// Batch mean of `Σ_k p_k (log p_k − log q_k)` given both sides' log-probabilities. A class
/// with `p = 0` adds nothing, as PyTorch's `kl_div` (which uses `xlogy`) has it.
pub fn kl_from_logs(log_p: Tensor<2>, log_q: Tensor<2>) -> Tensor<1> {
    let [batch, _] = log_p.dims();
    (log_p.clone().exp() * (log_p - log_q)).sum() / batch as f64
}
