//! One phase's step loop: batches in a seeded order, forward, loss, backward, optimiser.
//!
//! Data lives on the device once; each batch is a `select` of rows from it, so batches are
//! assembled without copying the dataset. Step losses stay on the device in a [`LossWindow`]
//! and are read back together every `log_every` steps (a flush), which also checks for
//! divergence; test-set logits are read back once per epoch.

use super::eval::predict;
use super::learned_t::LearnedTemperature;
use super::optim::optimizer;
use super::phases::FrozenTeacher;
use super::setup::Trainer;
use super::soft_cache::SoftTargetCache;
use super::summary::{FailureKind, PhaseStatus, RunFailure};
use super::{Event, Flow, Phase, StepMetrics};
use crate::config::SoftLoss;
use crate::data::split;
use crate::distill::head::hard_head;
use crate::distill::{LossWeights, StepContext, distillation_loss};
use crate::model::Net;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::time::Instant;

/// What the loss is computed against.
pub(super) enum Objective<'a> {
    HardLabels,
    Distill(&'a FrozenTeacher),
}

/// One step's batch: its rows of the training data, the epoch it belongs to (from 1) and the
/// loss weights in force.
pub(super) struct Batch<'a> {
    rows: &'a [usize],
    epoch: usize,
    weights: &'a LossWeights,
}

/// How one phase went.
pub(super) struct PhaseResult {
    /// `None` if the phase diverged (its weights are not worth keeping).
    pub(super) model: Option<Net>,
    pub(super) status: PhaseStatus,
    pub(super) epochs_completed: usize,
    pub(super) train_seconds: f64,
    pub(super) wall_seconds: f64,
    pub(super) samples: usize,
    pub(super) logits: Option<Vec<f32>>,
    pub(super) error: Option<RunFailure>,
}

impl PhaseResult {
    /// Record a read-back's divergence, if it found one; true if it did.
    fn diverged(&mut self, flushed: Result<(), RunFailure>) -> bool {
        match flushed {
            Ok(()) => false,
            Err(e) => {
                self.status = PhaseStatus::Diverged;
                self.error = Some(e);
                true
            }
        }
    }
}

/// Losses of the steps since the last read-back, still on the device, and the running sum of
/// the epoch's finite losses read back so far.
struct LossWindow {
    values: Vec<Tensor<1>>,
    /// `(step, epoch, T, α)` of each value.
    meta: Vec<(usize, usize, f32, f32)>,
    epoch_sum: f64,
    epoch_count: usize,
}

impl LossWindow {
    fn new() -> Self {
        LossWindow {
            values: Vec::new(),
            meta: Vec::new(),
            epoch_sum: 0.0,
            epoch_count: 0,
        }
    }

    /// Start a new epoch's running loss.
    fn new_epoch(&mut self) {
        self.epoch_sum = 0.0;
        self.epoch_count = 0;
    }

    /// Mean total loss of the epoch's training steps.
    fn epoch_mean(&self) -> f32 {
        (self.epoch_sum / self.epoch_count.max(1) as f64) as f32
    }
}

#[cfg(test)]
thread_local! {
    /// Tests make a phase diverge at its first read-back on this thread.
    pub(super) static DIVERGE_IN: std::cell::Cell<Option<Phase>> =
        const { std::cell::Cell::new(None) };
}

/// In unit tests, turn the losses read back for the phase [`DIVERGE_IN`] names into NaN.
#[cfg(test)]
fn inject_divergence(phase: Phase, values: &mut [f32]) {
    if DIVERGE_IN.get() == Some(phase) {
        values.fill(f32::NAN);
    }
}

#[cfg(not(test))]
fn inject_divergence(_phase: Phase, _values: &mut [f32]) {}

impl Trainer<'_> {
    /// Train `model` for `epochs` over `indices` in an order seeded by `shuffle_seed`, reading
    /// losses back every `log_every` steps and evaluating after every epoch. The phase runs
    /// on a rayon worker (see [`super::pool`]).
    pub(super) fn train_phase(
        &mut self,
        phase: Phase,
        model: Net,
        indices: &[usize],
        epochs: usize,
        shuffle_seed: u64,
        objective: &Objective,
    ) -> PhaseResult {
        // The tests' divergence hook is this thread's; the phase runs on a worker.
        #[cfg(test)]
        let diverge_in = DIVERGE_IN.get();
        super::pool::install(|| {
            #[cfg(test)]
            DIVERGE_IN.set(diverge_in);
            self.train_phase_here(phase, model, indices, epochs, shuffle_seed, objective)
        })
    }

    fn train_phase_here(
        &mut self,
        phase: Phase,
        mut model: Net,
        indices: &[usize],
        epochs: usize,
        shuffle_seed: u64,
        objective: &Objective,
    ) -> PhaseResult {
        let t0 = Instant::now();
        let cfg = &self.exp.train;
        let batch_size = cfg.batch_size.min(indices.len());
        (self.sink)(Event::PhaseStarted {
            phase,
            epochs,
            steps_per_epoch: indices.len().div_ceil(batch_size),
        });
        let (mut optim, lr) = optimizer(cfg);
        // Dropout masks (and weights not drawn yet) follow the phase's seed.
        self.device.seed(shuffle_seed);
        crate::model::dropout::seed(shuffle_seed);
        let mut rng = split::rng(shuffle_seed, 40);
        let mut weights = LossWeights::from(&self.exp.distill);
        let distilling = matches!(objective, Objective::Distill(_));
        let mut learned_t = (distilling && weights.loss == SoftLoss::Ctkd)
            .then(|| LearnedTemperature::new(&weights.params.ctkd, &self.device));
        let mut soft_cache = None;
        let mut window = LossWindow::new();
        let mut result = PhaseResult {
            model: None,
            status: PhaseStatus::Completed,
            epochs_completed: 0,
            train_seconds: 0.0,
            wall_seconds: 0.0,
            samples: 0,
            logits: None,
            error: None,
        };
        let mut step = 0;
        let mut evaluated_at = usize::MAX;
        'epochs: for epoch in 1..=epochs {
            let epoch_start = Instant::now();
            let epoch_first_step = step;
            let mut order = indices.to_vec();
            order.shuffle(&mut rng);
            window.new_epoch();
            for chunk in order.chunks(batch_size) {
                // Show every step taken before a pause, not just full read-back windows.
                if self.control.is_paused() && result.diverged(self.flush(phase, &mut window, lr)) {
                    break;
                }
                if self.control.checkpoint() == Flow::Stop {
                    result.status = PhaseStatus::Stopped;
                }
                if result.status == PhaseStatus::Completed
                    && distilling
                    && self.control.take_weight_change(&mut weights)
                {
                    self.announce_weights(step + 1, &weights);
                }
                if result.status != PhaseStatus::Completed {
                    break;
                }
                let batch = Batch {
                    rows: chunk,
                    epoch,
                    weights: &weights,
                };
                let (next, losses) = self.step(
                    model,
                    &mut optim,
                    lr,
                    &batch,
                    objective,
                    &mut learned_t,
                    &mut soft_cache,
                    &mut rng,
                );
                model = next;
                step += 1;
                result.samples += chunk.len();
                window.values.push(losses);
                window.meta.push((
                    step,
                    epoch,
                    weights.temperature as f32,
                    weights.alpha as f32,
                ));
                if window.values.len() >= cfg.log_every
                    && result.diverged(self.flush(phase, &mut window, lr))
                {
                    break;
                }
            }
            if result.status != PhaseStatus::Diverged {
                result.diverged(self.flush(phase, &mut window, lr));
            }
            // The read-back above waits for the device, so this covers the epoch's real work.
            result.train_seconds += epoch_start.elapsed().as_secs_f64();
            if result.status == PhaseStatus::Diverged {
                break 'epochs;
            }
            // A stop before the epoch's first step (on an epoch boundary, say) leaves nothing
            // of this epoch to measure: no epoch row without training steps.
            if result.status == PhaseStatus::Stopped && step == epoch_first_step {
                break 'epochs;
            }
            let logits = self.evaluate_epoch(
                phase,
                &model,
                (epoch, step),
                window.epoch_mean(),
                epoch_start,
            );
            result.logits = Some(logits);
            evaluated_at = step;
            if result.status == PhaseStatus::Completed {
                result.epochs_completed = epoch;
            } else {
                break 'epochs;
            }
        }
        if result.status != PhaseStatus::Diverged {
            if evaluated_at != step {
                result.logits = Some(predict(&model.valid(), &self.test_x));
            }
            result.model = Some(model);
        }
        result.wall_seconds = t0.elapsed().as_secs_f64();
        (self.sink)(Event::PhaseFinished {
            phase,
            stopped: result.status == PhaseStatus::Stopped,
        });
        result
    }

    fn announce_weights(&mut self, step: usize, w: &LossWeights) {
        let (t, a) = (w.temperature as f32, w.alpha as f32);
        self.history.weight_changes.push((step, t, a));
        (self.sink)(Event::WeightsChanged {
            step,
            temperature: t,
            alpha: a,
        });
    }

    /// One optimisation step; returns the updated model and its losses (still on the device):
    /// `[soft, hard, total]` when distilling, then the method's two terms if it logs any;
    /// `[hard]` otherwise.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        model: Net,
        optim: &mut ModuleOptimizer,
        lr: f64,
        batch: &Batch,
        objective: &Objective,
        learned_t: &mut Option<LearnedTemperature>,
        soft_cache: &mut Option<SoftTargetCache>,
        rng: &mut StdRng,
    ) -> (Net, Tensor<1>) {
        let chunk = batch.rows;
        let rows = super::setup::rows_tensor(chunk, &self.device);
        let x = self.jitter(self.train_x.clone().select(0, rows.clone()), rng);
        let y = self.train_y.clone().select(0, rows.clone());
        let logits = model.forward(x.clone());
        let theta = learned_t.as_ref().map(LearnedTemperature::tracked);
        let (loss, report) = match objective {
            Objective::HardLabels => {
                let head = hard_head(logits, y);
                (head.total, head.reported)
            }
            Objective::Distill(teacher) => {
                let w = batch.weights;
                let soft_targets = SoftTargetCache::applies(w.loss, self.exp.train.jitter_pixels)
                    .then(|| {
                        SoftTargetCache::batch(
                            soft_cache,
                            &teacher.train_logits,
                            self.exp.teacher.combine,
                            w.temperature,
                            rows.clone(),
                        )
                    });
                // Cached soft targets are all a KL or soft cross-entropy step reads of the teacher.
                let members = match soft_targets {
                    Some(_) => Vec::new(),
                    None => self.teacher_batch_logits(teacher, rows, &x),
                };
                let ctx = StepContext {
                    epoch: batch.epoch,
                    theta: theta.clone(),
                    soft_targets,
                };
                let parts = distillation_loss(
                    logits,
                    &members,
                    self.exp.teacher.combine,
                    y,
                    batch.weights,
                    self.transfer.labeled,
                    &ctx,
                );
                (parts.total, parts.reported)
            }
        };
        let mut grads = loss.backward();
        if let (Some(learner), Some(theta)) = (learned_t.as_mut(), theta)
            && let Some(g) = theta.grad_remove(&mut grads)
        {
            learner.update(g);
        }
        let grads = GradientsParams::from_grads(grads, &model);
        (optim.step(lr, model, grads), report)
    }

    /// The teacher's logits for a batch: cached, unless jitter changed the inputs.
    fn teacher_batch_logits(
        &self,
        teacher: &FrozenTeacher,
        rows: Tensor<1, Int>,
        x: &Tensor<2>,
    ) -> Vec<Tensor<2>> {
        if self.exp.train.jitter_pixels > 0 {
            teacher
                .members
                .iter()
                .map(|m| m.forward(x.clone()))
                .collect()
        } else {
            teacher
                .train_logits
                .iter()
                .map(|cache| cache.clone().select(0, rows.clone()))
                .collect()
        }
    }

    /// Shift a batch of images by a random offset of up to `jitter_pixels`, filling with 0.
    fn jitter(&self, x: Tensor<2>, rng: &mut StdRng) -> Tensor<2> {
        let j = self.exp.train.jitter_pixels;
        let Some(image) = self.io.image.filter(|_| j > 0) else {
            return x;
        };
        let [batch, features] = x.dims();
        let (c, h, w) = (image.channels, image.height, image.width);
        let dy = rng.random_range(0..=2 * j);
        let dx = rng.random_range(0..=2 * j);
        x.reshape([batch, c, h, w])
            .pad((j, j, j, j), PadMode::Constant(0.0))
            .slice([0..batch, 0..c, dy..dy + h, dx..dx + w])
            .reshape([batch, features])
    }

    /// Read the window's losses back in one transfer, publish them, and check for divergence.
    fn flush(&mut self, phase: Phase, window: &mut LossWindow, lr: f64) -> Result<(), RunFailure> {
        if window.values.is_empty() {
            return Ok(());
        }
        let width = window.values[0].dims()[0];
        let mut values: Vec<f32> = Tensor::stack::<2>(std::mem::take(&mut window.values), 0)
            .into_data()
            .try_to_vec()
            .expect("losses are f32");
        inject_divergence(phase, &mut values);
        let learns_t = phase == Phase::Student && self.exp.distill.loss == SoftLoss::Ctkd;
        let rows: Vec<StepMetrics> = values
            .chunks_exact(width)
            .zip(window.meta.drain(..))
            .map(|(v, (step, epoch, temperature, alpha))| {
                let (soft, hard, total, terms) = match v {
                    [s, h, t] => (*s, *h, *t, [f32::NAN; 2]),
                    [s, h, t, a, b] => (*s, *h, *t, [*a, *b]),
                    _ => (f32::NAN, v[0], v[0], [f32::NAN; 2]),
                };
                StepMetrics {
                    phase,
                    step,
                    epoch,
                    soft,
                    hard,
                    total,
                    // A learned temperature (CTKD) is the one in force, not the preset's.
                    temperature: if learns_t { terms[0] } else { temperature },
                    alpha,
                    terms,
                }
            })
            .collect();
        let diverged = rows.iter().find(|r| !r.total.is_finite()).copied();
        for r in rows.iter().filter(|r| r.total.is_finite()) {
            window.epoch_sum += r.total as f64;
            window.epoch_count += 1;
        }
        self.history.steps.extend_from_slice(&rows);
        (self.sink)(Event::Steps(rows));
        match diverged {
            None => Ok(()),
            Some(r) => Err(RunFailure {
                kind: FailureKind::Diverged,
                phase: Some(phase),
                message: format!(
                    "the {} diverged: its loss became {} at step {} (epoch {}). The learning rate \
                     {lr} is probably too high; try {}",
                    phase.name(),
                    r.total,
                    r.step,
                    r.epoch,
                    lr / 10.0
                ),
            }),
        }
    }
}
