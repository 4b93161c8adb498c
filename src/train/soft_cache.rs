//! The teacher's soft targets for the whole training set at the temperature in force.
//!
//! With cached teacher logits (no jitter), `softmax(z/T)` and its logarithm depend only on the
//! example and T, so they are computed once for every training example and each step selects
//! its rows. A live change of T recomputes them at the next step. Softmax works row by row,
//! so a batch's rows are the same numbers a per-batch computation gives.

use crate::config::{Combine, SoftLoss};
use crate::distill::{SoftTargets, teacher_soft_targets};
use burn::prelude::*;

/// Soft targets of every training example, for one temperature.
pub(super) struct SoftTargetCache {
    temperature: f64,
    all: SoftTargets,
}

impl SoftTargetCache {
    /// Whether a step's soft term reads `softmax(z_t/T)` from cached logits, so caching pays.
    pub(super) fn applies(loss: SoftLoss, jitter_pixels: usize) -> bool {
        jitter_pixels == 0 && matches!(loss, SoftLoss::Kl | SoftLoss::SoftCrossEntropy)
    }

    /// The targets of `rows` at `temperature`, from `cache` (filled, or refilled when T has
    /// changed, from the members' logits for the whole training set).
    pub(super) fn batch(
        cache: &mut Option<Self>,
        train_logits: &[Tensor<2>],
        combine: Combine,
        temperature: f64,
        rows: Tensor<1, Int>,
    ) -> SoftTargets {
        if cache.as_ref().is_none_or(|c| c.temperature != temperature) {
            *cache = Some(Self {
                temperature,
                all: teacher_soft_targets(train_logits, combine, temperature),
            });
        }
        let all = &cache.as_ref().expect("filled above").all;
        SoftTargets {
            probs: all.probs.clone().select(0, rows.clone()),
            log_probs: all.log_probs.clone().select(0, rows),
        }
    }
}
