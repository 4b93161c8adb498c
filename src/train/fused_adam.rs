//! Adam in one pass over each parameter on the CPU.
//!
//! burn's Adam is a chain of whole-tensor operations (about thirteen passes over every
//! parameter, most of them allocating a new buffer); on flex that was a third of an 800-800
//! student's step. [`FusedAdam`] computes exactly burn's update, in the same order of f32
//! operations (so the weights are bit-identical), in one pass that updates the parameter and
//! both moments in place, split over the rayon pool. On any other device (wgpu) it is burn's
//! Adam unchanged: there the whole-tensor operations are fused by burn itself.

use crate::distill::head::on_flex;
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, backend_extension};
use burn::optim::{
    Adam, AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::prelude::*;
use rayon::prelude::*;

/// Elements per rayon task: big enough that splitting costs nothing, small enough that both
/// threads get work on a 30-unit layer's weights.
const CHUNK: usize = 1 << 14;

/// Adam's constants, as burn's `AdamConfig` has them by default.
#[derive(Debug, Clone, Copy)]
struct Betas {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
}

const BETAS: Betas = Betas {
    beta_1: 0.9,
    beta_2: 0.999,
    epsilon: 1e-5,
};

/// The scalars of one step, computed as burn computes them (in f32, from the step count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepScalars {
    pub lr: f32,
    pub beta_1: f32,
    pub beta_2: f32,
    /// `√(1 − β₂ᵗ) / (1 − β₁ᵗ)`: both bias corrections on the first moment.
    pub combined: f32,
    /// `ε·√(1 − β₂ᵗ)`: ε moved inside the corrected square root.
    pub epsilon: f32,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`); `None` adds nothing.
    pub decay: Option<f32>,
}

impl StepScalars {
    fn new(lr: LearningRate, time: usize, betas: Betas, decay: Option<f32>) -> Self {
        let t = time as i32;
        let correction_2 = (1.0 - betas.beta_2.powi(t)).sqrt();
        Self {
            lr: lr as f32,
            beta_1: betas.beta_1,
            beta_2: betas.beta_2,
            combined: correction_2 / (1.0 - betas.beta_1.powi(t)),
            epsilon: betas.epsilon * correction_2,
            decay,
        }
    }
}

/// One element's update, in burn's order of operations.
#[inline(always)]
fn update(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, s: &StepScalars) {
    let g = match s.decay {
        Some(d) => *p * d + g,
        None => g,
    };
    *m = *m * s.beta_1 + g * (1.0 - s.beta_1);
    *v = *v * s.beta_2 + (g * g) * (1.0 - s.beta_2);
    let step = (*m * s.combined) / (v.sqrt() + s.epsilon);
    *p -= step * s.lr;
}

/// The update over slices of equal length; `decay` is hoisted out of the loop so that each
/// variant vectorises.
pub fn update_slices(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], s: &StepScalars) {
    let run = |p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]| {
        for (((p, m), v), g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            update(p, m, v, *g, s);
        }
    };
    if p.len() < 2 * CHUNK {
        return run(p, m, v, g);
    }
    p.par_chunks_mut(CHUNK)
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .zip(g.par_chunks(CHUNK))
        .for_each(|(((p, m), v), g)| run(p, m, v, g));
}

/// The tensor's elements in order, as one contiguous buffer it owns alone (copied only if
/// shared or strided).
fn dense(t: FlexTensor) -> FlexTensor {
    let n = t.layout().shape().num_elements();
    match t.layout().contiguous_offsets() {
        Some((0, end)) if end == n && t.bytes().len() == n * 4 => t,
        _ => t.to_contiguous(),
    }
}

/// The fused step as a backend operation, so that it reaches flex's buffers through burn's
/// dispatch.
#[backend_extension(Flex)]
pub trait FusedAdamOps: Backend {
    /// `(parameter, first moment, second moment)` after one step.
    fn fused_adam(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        moment_1: FloatTensor<Self>,
        moment_2: FloatTensor<Self>,
        scalars: StepScalars,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

impl FusedAdamOps for Flex {
    fn fused_adam(
        param: FlexTensor,
        grad: FlexTensor,
        moment_1: FlexTensor,
        moment_2: FlexTensor,
        scalars: StepScalars,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let shape = param.layout().shape().clone();
        let grad = dense(grad);
        let (mut p, mut m, mut v) = (dense(param), dense(moment_1), dense(moment_2));
        update_slices(
            p.storage_mut(),
            m.storage_mut(),
            v.storage_mut(),
            grad.storage(),
            &scalars,
        );
        debug_assert_eq!(p.layout().shape(), &shape);
        (p, m, v)
    }
}

/// burn's Adam (its default constants, optional L2 decay) with the fused step on flex.
#[derive(Clone)]
pub struct FusedAdam {
    fallback: Adam,
    decay: Option<f32>,
}

impl FusedAdam {
    /// The module optimiser, with `decay` as burn's `WeightDecayConfig` penalty.
    pub fn init(decay: Option<f32>) -> ModuleOptimizer {
        let config = AdamConfig::new()
            .with_weight_decay(decay.map(burn::optim::decay::WeightDecayConfig::new));
        ModuleOptimizer::from(FusedAdam {
            fallback: config.build(),
            decay,
        })
    }
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if !on_flex(&tensor)
            || state
                .as_ref()
                .is_some_and(|s| s.momentum.max_moment_2.is_some())
        {
            return self.fallback.step(lr, tensor, grad, state);
        }
        let (time, m, v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                s.momentum.moment_1,
                s.momentum.moment_2,
            ),
            // Zero moments give exactly burn's first step: 0·β + x is x.
            None => (1, tensor.zeros_like(), tensor.zeros_like()),
        };
        let scalars = StepScalars::new(lr, time, BETAS, self.decay);
        let (p, m, v) = <burn::backend::Dispatch as FusedAdamOps>::fused_adam(
            tensor.into_dispatch(),
            grad.into_dispatch(),
            m.into_dispatch(),
            v.into_dispatch(),
            scalars,
        );
        let momentum =
            AdaptiveMomentumState::new(time, Tensor::from_dispatch(m), Tensor::from_dispatch(v));
        (Tensor::from_dispatch(p), Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Adam as Optimizer>::to_device(state, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ActivationKind, MlpSpec};
    use crate::distill::hard_cross_entropy;
    use crate::model::Mlp;
    use burn::module::{ModuleVisitor, Param};
    use burn::optim::GradientsParams;
    use burn::optim::decay::WeightDecayConfig;
    use burn::tensor::Distribution;

    /// Every parameter of a module, flattened in visiting order.
    struct Flatten(Vec<f32>);

    impl ModuleVisitor for Flatten {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0
                .extend(param.val().into_data().try_to_vec::<f32>().expect("f32"));
        }
    }

    /// A fixed batch and a 784-64-10 network, its first weight matrix large enough to be
    /// split over threads.
    fn setup() -> (Mlp, Tensor<2>, Tensor<1, Int>) {
        let device = Device::flex().autodiff();
        let spec = MlpSpec {
            hidden: vec![64],
            activation: ActivationKind::Relu,
            dropout: 0.0,
        };
        let model = Mlp::new(&spec, 784, 10, &device);
        let x = Tensor::<2>::random([32, 784], Distribution::Normal(0.0, 1.0), &device);
        let labels: Vec<i64> = (0..32).map(|i| i % 10).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [32]), &device);
        (model, x, y)
    }

    /// The parameters after `steps` steps of `optim` from `setup`'s network.
    fn trained(
        (mut model, x, y): (Mlp, Tensor<2>, Tensor<1, Int>),
        mut optim: ModuleOptimizer,
        steps: usize,
    ) -> Vec<f32> {
        for _ in 0..steps {
            let loss = hard_cross_entropy(model.forward(x.clone()), y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(3e-3, model, grads);
        }
        let mut flat = Flatten(Vec::new());
        model.visit(&mut flat);
        flat.0
    }

    #[test]
    fn the_fused_step_gives_burns_adam_bit_for_bit() {
        let start = setup();
        let initial = trained(start.clone(), AdamConfig::new().init(), 0);
        for decay in [None, Some(5e-2)] {
            let burn = AdamConfig::new()
                .with_weight_decay(decay.map(WeightDecayConfig::new))
                .init();
            let reference = trained(start.clone(), burn, 6);
            let fused = trained(start.clone(), FusedAdam::init(decay), 6);
            assert_eq!(reference.len(), fused.len());
            let first_diff = reference
                .iter()
                .zip(&fused)
                .position(|(a, b)| a.to_bits() != b.to_bits());
            assert_eq!(first_diff, None, "decay {decay:?}: parameters differ");
            let moved = initial.iter().zip(&fused).filter(|(a, b)| a != b).count();
            assert!(
                moved > fused.len() / 2,
                "the steps moved the weights: {moved}"
            );
        }
    }

    #[test]
    fn scalars_follow_burns_bias_corrections() {
        let s = StepScalars::new(1e-3, 1, BETAS, None);
        // t = 1: √(1 − 0.999) / (1 − 0.9) and ε·√(1 − 0.999).
        let close = |a: f32, b: f64| ((a as f64 - b) / b).abs() < 1e-4;
        assert!(close(s.combined, 0.001f64.sqrt() / 0.1), "{}", s.combined);
        assert!(close(s.epsilon, 1e-5 * 0.001f64.sqrt()), "{}", s.epsilon);
        let late = StepScalars::new(1e-3, 10_000, BETAS, None);
        assert!(
            (late.combined - 1.0).abs() < 0.01,
            "corrections vanish: {}",
            late.combined
        );
    }
}
