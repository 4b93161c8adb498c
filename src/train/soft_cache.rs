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
        cache.as_ref().expect("filled above").all.rows(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec().expect("f32")
    }

    #[test]
    fn cached_rows_are_the_batch_computed_alone_and_follow_a_change_of_t() {
        let device = Device::flex();
        let members: Vec<Tensor<2>> = (0..2)
            .map(|_| Tensor::random([50, 10], Distribution::Normal(0.0, 3.0), &device))
            .collect();
        let picked = [3i64, 41, 7, 7, 0];
        let rows = || Tensor::<1, Int>::from_data(TensorData::new(picked.to_vec(), [5]), &device);
        let mut cache = None;
        for t in [4.0, 4.0, 1.5] {
            let combine = Combine::MeanProbabilities;
            let cached = SoftTargetCache::batch(&mut cache, &members, combine, t, rows());
            let batch: Vec<Tensor<2>> = members
                .iter()
                .map(|m| m.clone().select(0, rows()))
                .collect();
            let alone = teacher_soft_targets(&batch, combine, t);
            assert_eq!(values(cached.probs), values(alone.probs), "T = {t}");
            assert_eq!(values(cached.log_probs), values(alone.log_probs), "T = {t}");
            assert_eq!(cache.as_ref().map(|c| c.temperature), Some(t));
        }
    }

    #[test]
    fn only_kl_and_soft_cross_entropy_on_unjittered_data_are_cached() {
        assert!(SoftTargetCache::applies(SoftLoss::Kl, 0));
        assert!(SoftTargetCache::applies(SoftLoss::SoftCrossEntropy, 0));
        assert!(!SoftTargetCache::applies(SoftLoss::Kl, 2));
        assert!(!SoftTargetCache::applies(SoftLoss::Dkd, 0));
    }
}
