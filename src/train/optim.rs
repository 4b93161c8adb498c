//! The optimiser for a phase, built from the training settings.

use crate::config::{OptimizerSpec, TrainConfig};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};

/// The optimiser and learning rate for the training settings. Each phase builds its own, so
/// no optimiser state carries over from one model to the next.
pub(super) fn optimizer(cfg: &TrainConfig) -> (ModuleOptimizer, f64) {
    let decay = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
    match cfg.optimizer {
        OptimizerSpec::Adam { lr } => (AdamConfig::new().with_weight_decay(decay).init(), lr),
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
