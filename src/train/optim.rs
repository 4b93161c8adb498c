//! The optimiser for a phase, built from the training settings.

use super::fused_adam::FusedAdam;
use crate::config::{OptimizerSpec, TrainConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, SgdConfig};

/// The optimiser and learning rate for the training settings. Each phase builds its own, so
/// no optimiser state carries over from one model to the next.
pub(super) fn optimizer(cfg: &TrainConfig) -> (ModuleOptimizer, f64) {
    let decay = decay_penalty(cfg).map(WeightDecayConfig::new);
    match cfg.optimizer {
        // burn's Adam, its update fused into one pass per parameter on the CPU.
        OptimizerSpec::Adam { lr } => (FusedAdam::init(decay_penalty(cfg)), lr),
        OptimizerSpec::Sgd { lr, momentum } => {
            // PyTorch's SGD momentum has no dampening; match it.
            let momentum = (momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(momentum)
                    .with_dampening(0.0)
            });
            (
                SgdConfig::new()
                    .with_weight_decay(decay)
                    .with_momentum(momentum)
                    .init(),
                lr,
            )
        }
    }
}

/// The L2 penalty on the weights, if any.
fn decay_penalty(cfg: &TrainConfig) -> Option<f32> {
    (cfg.weight_decay > 0.0).then_some(cfg.weight_decay as f32)
}
