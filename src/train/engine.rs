//! The three phases: teacher (or its saved weights), baseline, distilled student.
//!
//! Data lives on the device once; each batch is a `select` of rows from it, so batches are
//! assembled without copying the dataset. Step losses stay on the device and are read back
//! together every `log_every` steps; test-set logits are read back once per epoch.

use super::eval::{Evaluation, ensemble_probs, predict, predict_tensor};
use super::summary::{DistillSettings, FailureKind, ModelReport, PhaseStatus, RunFailure, Summary};
use super::{
    Control, DataInfo, EpochMetrics, Event, Flow, History, Notice, NoticeKind, Outcome, Phase,
    RegionGrid, Role, RunError, SetupInfo, StepMetrics, TestLogits, device,
};
use crate::config::{Combine, Experiment, OptimizerSpec, TrainConfig, validate};
use crate::data::{self, Dataset, Splits, TransferSet, select_transfer, split};
use crate::distill::{LossWeights, distillation_loss, hard_cross_entropy};
use crate::model::{IoShape, Net, arch_size};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::ops::PadMode;
use rand::RngExt;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Grid points per side of the decision-region maps for 2-D data.
pub const REGION_RESOLUTION: usize = 80;

type Sink<'a> = &'a (dyn Fn(Event) + Sync);

/// Validate, load the data, pick the device and run every phase.
pub fn run_experiment(
    exp: &Experiment,
    control: &Control,
    sink: Sink,
) -> Result<Outcome, RunError> {
    let problems = validate(exp);
    if !problems.is_empty() {
        return Err(RunError::BadInput(crate::config::Problem::list(&problems)));
    }
    let started = Instant::now();
    let splits = data::load(&exp.data, exp.seed).map_err(|e| RunError::BadInput(e.to_string()))?;
    let transfer = select_transfer(&splits.train, &exp.transfer, exp.seed)
        .map_err(|e| RunError::BadInput(e.to_string()))?;
    let (mut device, mut device_info) = device::select(exp.device).map_err(RunError::Device)?;
    let io = IoShape {
        inputs: splits.train.num_features,
        classes: splits.train.num_classes,
        image: splits.train.image,
    };
    // A tensor larger than the GPU can bind would fail mid-run: use the CPU instead when the
    // GPU was chosen automatically, refuse when it was asked for.
    let largest = super::memory::largest_tensor(exp, io, splits.train.len(), splits.test.len());
    if let Some(problem) = super::memory::gpu_buffer_problem(largest, device_info.max_buffer_bytes)
    {
        if exp.device == crate::config::DeviceChoice::Gpu {
            return Err(RunError::BadInput(format!(
                "this experiment cannot run on the GPU: {problem}"
            )));
        }
        (device, device_info) = device::cpu(Some(format!("the GPU is too small: {problem}")));
    }
    // Checked before any tensor exists: a configuration that cannot fit is refused up front.
    let needed = super::memory::estimate(exp, io, splits.train.len(), splits.test.len());
    if !device_info.is_gpu() {
        super::memory::check_fits(&needed, super::memory::available_bytes(), "CPU")
            .map_err(RunError::BadInput)?;
    }
    if let Some(note) = &device_info.note {
        sink(Event::Notice(Notice::new(
            NoticeKind::CpuFallback,
            format!("training on the CPU ({note})"),
        )));
    }
    let mut trainer = Trainer::new(exp, &splits, &transfer, device, control, sink)?;
    let setup = SetupInfo {
        device: device_info,
        data: data_info(&splits, &transfer),
        teacher_size: trainer.teacher_size(),
        student_size: arch_size(&exp.student, trainer.io),
    };
    sink(Event::Setup(Box::new(setup.clone())));
    Ok(trainer.run(setup, started))
}

fn data_info(splits: &Splits, transfer: &TransferSet) -> DataInfo {
    DataInfo {
        description: splits.description.clone(),
        train_examples: splits.train.len(),
        test_examples: splits.test.len(),
        transfer_examples: transfer.transfer.len(),
        teacher_examples: transfer.teacher.len(),
        features: splits.train.num_features,
        classes: splits.train.num_classes,
        class_names: splits.train.class_names.clone(),
        transfer_labeled: transfer.labeled,
    }
}

/// What the loss is computed against.
enum Objective<'a> {
    HardLabels,
    Distill(&'a TeacherState),
}

/// The trained teacher, frozen: eval-mode members and their cached logits.
struct TeacherState {
    members: Vec<Net>,
    /// Each member's logits for every training example, on the device: `[train, classes]`.
    train_logits: Vec<Tensor<2>>,
    /// The combined teacher's test-set probabilities at T = 1, on the host.
    test_probs: Vec<f32>,
    report: ModelReport,
}

/// A teacher phase that ended early: what exists of it, and why.
struct TeacherFailure {
    report: ModelReport,
    members: Vec<Net>,
    error: Option<RunFailure>,
}

/// How one phase went.
struct PhaseResult {
    /// `None` if the phase diverged (its weights are not worth keeping).
    model: Option<Net>,
    status: PhaseStatus,
    epochs_completed: usize,
    train_seconds: f64,
    wall_seconds: f64,
    samples: usize,
    logits: Option<Vec<f32>>,
    error: Option<RunFailure>,
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

/// Losses of the steps since the last read-back, still on the device.
struct LossWindow {
    values: Vec<Tensor<1>>,
    meta: Vec<(usize, usize, f32, f32)>,
}

struct Trainer<'a> {
    exp: &'a Experiment,
    splits: &'a Splits,
    transfer: &'a TransferSet,
    device: Device,
    io: IoShape,
    train_x: Tensor<2>,
    train_y: Tensor<1, Int>,
    test_x: Tensor<2>,
    /// Grid over the data for decision regions (2-D data only) and its bounds.
    grid: Option<(Tensor<2>, [f32; 4])>,
    control: &'a Control,
    sink: Sink<'a>,
    history: History,
    logits: Vec<Arc<TestLogits>>,
    /// The frozen teacher's test-set probabilities, once it exists, to compare students with.
    teacher_test_probs: Option<Vec<f32>>,
    /// The student's initial weights, shared by the baseline and the distilled student.
    student_init: Option<Net>,
}

impl<'a> Trainer<'a> {
    fn new(
        exp: &'a Experiment,
        splits: &'a Splits,
        transfer: &'a TransferSet,
        device: Device,
        control: &'a Control,
        sink: Sink<'a>,
    ) -> Result<Self, RunError> {
        let train = &splits.train;
        let io = IoShape {
            inputs: train.num_features,
            classes: train.num_classes,
            image: train.image,
        };
        // Build each architecture once up front, so a CNN too deep for the images is an input
        // error now rather than a failure after the teacher has trained.
        for spec in exp.teacher.members.iter().chain([&exp.student]) {
            Net::build(spec, io, &device).map_err(RunError::BadInput)?;
        }
        Ok(Self {
            exp,
            splits,
            transfer,
            io,
            train_x: features_tensor(train, &device),
            train_y: labels_tensor(&train.labels, &device),
            test_x: features_tensor(&splits.test, &device),
            grid: region_grid(train, &device),
            device,
            control,
            sink,
            history: History::default(),
            logits: Vec::new(),
            teacher_test_probs: None,
            student_init: None,
        })
    }

    fn teacher_size(&self) -> crate::model::ModelSize {
        self.exp
            .teacher
            .members
            .iter()
            .map(|m| arch_size(m, self.io))
            .fold(Default::default(), |a, b| a + b)
    }

    fn student_seed(&self) -> u64 {
        self.exp.seed.wrapping_add(1)
    }

    fn run(&mut self, setup: SetupInfo, started: Instant) -> Outcome {
        let teacher = match self.teacher_phase() {
            Ok(t) => t,
            Err(failure) => {
                let TeacherFailure {
                    report,
                    members,
                    error,
                } = *failure;
                let none = Models {
                    baseline: None,
                    baseline_report: None,
                    student: None,
                    student_report: None,
                };
                return self.outcome_with(setup, started, report, members, none, error);
            }
        };
        let student_size = arch_size(&self.exp.student, self.io);
        let (baseline, baseline_report, mut error) = self.baseline_phase(&teacher);
        let stopped_early = error.is_some() || self.control.is_stopped();
        let (student, student_report) = if stopped_early {
            (
                None,
                Some(skipped_report(
                    &self.exp.student.short_name(),
                    student_size,
                    self.exp.train.epochs,
                )),
            )
        } else {
            let result = self.train_student(&teacher);
            error = result.error.clone();
            let report = self.student_report(&result, &teacher, student_size);
            (result.model, Some(report))
        };
        let TeacherState {
            members, report, ..
        } = teacher;
        let students = Models {
            baseline,
            baseline_report,
            student,
            student_report,
        };
        self.outcome_with(setup, started, report, members, students, error)
    }

    fn outcome_with(
        &mut self,
        setup: SetupInfo,
        started: Instant,
        teacher: ModelReport,
        members: Vec<Net>,
        models: Models,
        error: Option<RunFailure>,
    ) -> Outcome {
        let student_parameters = setup.student_size.parameters.max(1);
        let summary = Summary {
            name: self.exp.name.clone(),
            device: setup.device,
            data: setup.data,
            distill: DistillSettings {
                temperature: self.exp.distill.temperature,
                alpha: self.exp.distill.alpha,
                loss: format!("{:?}", self.exp.distill.loss),
                scale_by_t_squared: self.exp.distill.scale_by_t_squared,
            },
            compression_ratio: teacher.parameters as f64 / student_parameters as f64,
            teacher,
            teacher_members: self.exp.teacher.members.len(),
            baseline: models.baseline_report,
            student: models.student_report,
            wall_seconds: started.elapsed().as_secs_f64(),
            stopped: self.control.is_stopped(),
            error,
        };
        Outcome {
            summary,
            history: std::mem::take(&mut self.history),
            teacher: members,
            baseline: models.baseline,
            student: models.student,
            logits: std::mem::take(&mut self.logits),
        }
    }

    // ----- teacher -------------------------------------------------------------------------

    /// Train (or load) every member, then freeze the ensemble and cache its logits.
    fn teacher_phase(&mut self) -> Result<TeacherState, Box<TeacherFailure>> {
        let t0 = Instant::now();
        let cfg = &self.exp.teacher;
        let count = cfg.members.len();
        let size = self.teacher_size();
        let name = teacher_name(&self.exp.teacher);
        let mut report = ModelReport::empty(&name, size, cfg.epochs);
        let mut members = Vec::with_capacity(count);
        if let Some(dir) = &cfg.weights {
            members = self.load_teacher(dir).map_err(|e| {
                Box::new(TeacherFailure {
                    report: report.clone(),
                    members: Vec::new(),
                    error: Some(RunFailure {
                        kind: FailureKind::BadInput,
                        phase: Some(Phase::Teacher {
                            member: 0,
                            of: count,
                        }),
                        message: e,
                    }),
                })
            })?;
            report.status = PhaseStatus::Loaded;
            (self.sink)(Event::Notice(Notice::new(
                NoticeKind::TeacherLoaded,
                format!("teacher weights loaded from {}", dir.display()),
            )));
        } else {
            report.status = PhaseStatus::Completed;
            for m in 0..count {
                let phase = Phase::Teacher {
                    member: m,
                    of: count,
                };
                let seed = self.exp.seed.wrapping_add(1000 + m as u64);
                self.device.seed(seed);
                let net = Net::build(&cfg.members[m], self.io, &self.device.clone().autodiff())
                    .expect("checked when the trainer was built");
                let indices = self.transfer.teacher.clone();
                let result = self.train_phase(
                    phase,
                    net,
                    &indices,
                    cfg.epochs,
                    seed,
                    &Objective::HardLabels,
                );
                report.train_seconds += result.train_seconds;
                report.epochs_completed = result.epochs_completed;
                if result.samples > 0 && result.train_seconds > 0.0 {
                    report.samples_per_second = Some(result.samples as f64 / result.train_seconds);
                }
                if result.status != PhaseStatus::Completed {
                    report.status = result.status;
                    let error = result.error.clone();
                    if let Some(model) = result.model {
                        members.push(model);
                    }
                    // A stopped teacher is still measured: its members so far, as an ensemble.
                    if !members.is_empty() {
                        self.measure_teacher(&members, &mut report);
                    }
                    report.wall_seconds = t0.elapsed().as_secs_f64();
                    return Err(Box::new(TeacherFailure {
                        report,
                        members,
                        error,
                    }));
                }
                members.push(result.model.expect("a completed phase has a model"));
            }
        }
        let (frozen, test_probs) = self.measure_teacher(&members, &mut report);
        report.wall_seconds = t0.elapsed().as_secs_f64();
        self.publish_regions(Role::Teacher, &frozen, self.exp.teacher.combine);
        let train_logits = frozen
            .iter()
            .map(|m| predict_tensor(m, &self.train_x))
            .collect();
        self.teacher_test_probs = Some(test_probs.clone());
        Ok(TeacherState {
            members: frozen,
            train_logits,
            test_probs,
            report,
        })
    }

    /// Freeze the members, measure them as one (ensemble) teacher on the test set into
    /// `report`, and publish their test logits. Returns the frozen members and the combined
    /// test probabilities.
    fn measure_teacher(
        &mut self,
        members: &[Net],
        report: &mut ModelReport,
    ) -> (Vec<Net>, Vec<f32>) {
        let frozen: Vec<Net> = members.iter().map(|m| m.valid()).collect();
        let member_test: Vec<Vec<f32>> = frozen.iter().map(|m| predict(m, &self.test_x)).collect();
        let probs = ensemble_probs(&member_test, self.io.classes, self.exp.teacher.combine);
        report.set_evaluation(&Evaluation::new(
            &probs,
            &self.splits.test.labels,
            self.io.classes,
            None,
        ));
        self.publish_logits(Role::Teacher, member_test, 0);
        (frozen, probs)
    }

    fn load_teacher(&self, dir: &Path) -> Result<Vec<Net>, String> {
        self.exp
            .teacher
            .members
            .iter()
            .enumerate()
            .map(|(m, spec)| {
                let file = dir.join(format!("teacher-{m}.bpk"));
                if !file.is_file() {
                    return Err(format!(
                        "teacher weights: {} is missing (the preset lists {} member(s); a run's \
                         weights/ folder holds teacher-0.bpk, teacher-1.bpk, ...)",
                        file.display(),
                        self.exp.teacher.members.len()
                    ));
                }
                let net = Net::build(spec, self.io, &self.device)?;
                net.try_load_file(&file).map_err(|e| {
                    format!(
                        "teacher weights: {} does not fit teacher member {m} ({}): {e}",
                        file.display(),
                        spec.short_name()
                    )
                })
            })
            .collect()
    }

    // ----- baseline and student -------------------------------------------------------------

    /// A freshly initialised student: clones of one network, so the baseline and the
    /// distilled student start from the very same weights whatever else draws random numbers.
    fn fresh_student(&mut self) -> Net {
        let seed = self.student_seed();
        let (exp, io, device) = (self.exp, self.io, &self.device);
        self.student_init
            .get_or_insert_with(|| {
                device.seed(seed);
                Net::build(&exp.student, io, &device.clone().autodiff())
                    .expect("checked when the trainer was built")
            })
            .clone()
    }

    #[allow(clippy::type_complexity)]
    fn baseline_phase(
        &mut self,
        teacher: &TeacherState,
    ) -> (Option<Net>, Option<ModelReport>, Option<RunFailure>) {
        let size = arch_size(&self.exp.student, self.io);
        let epochs = self.exp.train.epochs;
        if !self.exp.train.baseline {
            return (None, None, None);
        }
        if !self.transfer.labeled {
            (self.sink)(Event::Notice(Notice::new(
                NoticeKind::PhaseSkipped,
                "baseline skipped: the transfer set is unlabeled, so there are no hard labels to train it on",
            )));
            return (
                None,
                Some(skipped_report(&self.exp.student.short_name(), size, epochs)),
                None,
            );
        }
        let net = self.fresh_student();
        let indices = self.transfer.transfer.clone();
        let result = self.train_phase(
            Phase::Baseline,
            net,
            &indices,
            epochs,
            self.student_seed(),
            &Objective::HardLabels,
        );
        let report = self.student_report(&result, teacher, size);
        (result.model, Some(report), result.error)
    }

    fn train_student(&mut self, teacher: &TeacherState) -> PhaseResult {
        let net = self.fresh_student();
        let indices = self.transfer.transfer.clone();
        let epochs = self.exp.train.epochs;
        self.train_phase(
            Phase::Student,
            net,
            &indices,
            epochs,
            self.student_seed(),
            &Objective::Distill(teacher),
        )
    }

    fn student_report(
        &self,
        result: &PhaseResult,
        teacher: &TeacherState,
        size: crate::model::ModelSize,
    ) -> ModelReport {
        let mut report =
            ModelReport::empty(&self.exp.student.short_name(), size, self.exp.train.epochs);
        report.status = result.status;
        report.epochs_completed = result.epochs_completed;
        report.train_seconds = result.train_seconds;
        report.wall_seconds = result.wall_seconds;
        if result.samples > 0 && result.train_seconds > 0.0 {
            report.samples_per_second = Some(result.samples as f64 / result.train_seconds);
        }
        if let Some(logits) = &result.logits {
            let probs = ensemble_probs(
                std::slice::from_ref(logits),
                self.io.classes,
                Combine::MeanLogits,
            );
            let eval = Evaluation::new(
                &probs,
                &self.splits.test.labels,
                self.io.classes,
                Some(&teacher.test_probs),
            );
            report.set_evaluation(&eval);
        }
        report
    }

    // ----- one phase --------------------------------------------------------------------------

    fn train_phase(
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
        let mut rng = split::rng(shuffle_seed, 40);
        let mut weights = LossWeights::from(&self.exp.distill);
        let mut window = LossWindow {
            values: Vec::new(),
            meta: Vec::new(),
        };
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
            let mut order = indices.to_vec();
            order.shuffle(&mut rng);
            let mut epoch_loss = (0.0f64, 0usize);
            for chunk in order.chunks(batch_size) {
                // Show every step taken before a pause, not just full read-back windows.
                if self.control.is_paused()
                    && result.diverged(self.flush(phase, &mut window, &mut epoch_loss, lr))
                {
                    break;
                }
                if self.control.checkpoint() == Flow::Stop {
                    result.status = PhaseStatus::Stopped;
                }
                if result.status == PhaseStatus::Completed
                    && matches!(objective, Objective::Distill(_))
                    && self.control.take_weight_change(&mut weights)
                {
                    self.announce_weights(step + 1, &weights);
                }
                if result.status != PhaseStatus::Completed {
                    break;
                }
                let (next, losses) =
                    self.step(model, &mut optim, lr, chunk, objective, &weights, &mut rng);
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
                    && result.diverged(self.flush(phase, &mut window, &mut epoch_loss, lr))
                {
                    break;
                }
            }
            if result.status != PhaseStatus::Diverged {
                result.diverged(self.flush(phase, &mut window, &mut epoch_loss, lr));
            }
            // The read-back above waits for the device, so this covers the epoch's real work.
            result.train_seconds += epoch_start.elapsed().as_secs_f64();
            if result.status == PhaseStatus::Diverged {
                break 'epochs;
            }
            if result.status == PhaseStatus::Stopped && step == 0 {
                break 'epochs;
            }
            let train_loss = (epoch_loss.0 / epoch_loss.1.max(1) as f64) as f32;
            let logits = self.evaluate_epoch(phase, &model, epoch, step, train_loss, epoch_start);
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
    /// `[soft, hard, total]` when distilling, `[hard]` otherwise.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        model: Net,
        optim: &mut ModuleOptimizer,
        lr: f64,
        chunk: &[usize],
        objective: &Objective,
        weights: &LossWeights,
        rng: &mut StdRng,
    ) -> (Net, Tensor<1>) {
        let rows = Tensor::<1, Int>::from_ints(
            TensorData::new(
                chunk.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [chunk.len()],
            ),
            &self.device,
        );
        let x = self.jitter(self.train_x.clone().select(0, rows.clone()), rng);
        let y = self.train_y.clone().select(0, rows.clone());
        let logits = model.forward(x.clone());
        let (loss, report) = match objective {
            Objective::HardLabels => {
                let hard = hard_cross_entropy(logits, y);
                (hard.clone(), hard.detach().inner())
            }
            Objective::Distill(teacher) => {
                let members = self.teacher_batch_logits(teacher, rows, &x);
                let parts = distillation_loss(
                    logits,
                    &members,
                    self.exp.teacher.combine,
                    y,
                    weights,
                    self.transfer.labeled,
                );
                let report = Tensor::cat(
                    vec![
                        parts.soft.detach().inner(),
                        parts.hard.detach().inner(),
                        parts.total.clone().detach().inner(),
                    ],
                    0,
                );
                (parts.total, report)
            }
        };
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        (optim.step(lr, model, grads), report)
    }

    /// The teacher's logits for a batch: cached, unless jitter changed the inputs.
    fn teacher_batch_logits(
        &self,
        teacher: &TeacherState,
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
    fn flush(
        &mut self,
        phase: Phase,
        window: &mut LossWindow,
        epoch_loss: &mut (f64, usize),
        lr: f64,
    ) -> Result<(), RunFailure> {
        if window.values.is_empty() {
            return Ok(());
        }
        let width = window.values[0].dims()[0];
        let values: Vec<f32> = Tensor::stack::<2>(std::mem::take(&mut window.values), 0)
            .into_data()
            .try_to_vec()
            .expect("losses are f32");
        let rows: Vec<StepMetrics> = values
            .chunks_exact(width)
            .zip(window.meta.drain(..))
            .map(|(v, (step, epoch, temperature, alpha))| {
                let (soft, hard, total) = match v {
                    [s, h, t] => (*s, *h, *t),
                    _ => (f32::NAN, v[0], v[0]),
                };
                StepMetrics {
                    phase,
                    step,
                    epoch,
                    soft,
                    hard,
                    total,
                    temperature,
                    alpha,
                }
            })
            .collect();
        let diverged = rows.iter().find(|r| !r.total.is_finite()).copied();
        for r in rows.iter().filter(|r| r.total.is_finite()) {
            epoch_loss.0 += r.total as f64;
            epoch_loss.1 += 1;
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

    /// Test-set logits and measures after an epoch, published as events.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_epoch(
        &mut self,
        phase: Phase,
        model: &Net,
        epoch: usize,
        step: usize,
        train_loss: f32,
        epoch_start: Instant,
    ) -> Vec<f32> {
        let frozen = model.valid();
        let logits = predict(&frozen, &self.test_x);
        let probs = ensemble_probs(
            std::slice::from_ref(&logits),
            self.io.classes,
            Combine::MeanLogits,
        );
        let teacher_probs = match phase {
            Phase::Teacher { .. } => None,
            _ => self.teacher_test_probs.as_deref(),
        };
        let eval = Evaluation::new(
            &probs,
            &self.splits.test.labels,
            self.io.classes,
            teacher_probs,
        );
        self.history.epochs.push(EpochMetrics {
            phase,
            epoch,
            step,
            test_accuracy: eval.accuracy,
            test_loss: eval.loss,
            train_loss,
            agreement: eval.agreement,
            kl_to_teacher: eval.kl_to_teacher,
            seconds: epoch_start.elapsed().as_secs_f32(),
        });
        (self.sink)(Event::Epoch(
            *self.history.epochs.last().expect("just pushed"),
        ));
        self.publish_logits(phase.role(), vec![logits.clone()], step);
        self.publish_regions(phase.role(), &[frozen], Combine::MeanLogits);
        logits
    }

    fn publish_logits(&mut self, role: Role, members: Vec<Vec<f32>>, step: usize) {
        let logits = Arc::new(TestLogits {
            role,
            members,
            classes: self.io.classes,
            step,
        });
        self.logits.retain(|l| l.role != role);
        self.logits.push(logits.clone());
        (self.sink)(Event::Logits(logits));
    }

    /// Class probabilities over the 2-D grid, for decision-region maps.
    fn publish_regions(&self, role: Role, members: &[Net], combine: Combine) {
        let Some((grid, bounds)) = &self.grid else {
            return;
        };
        let member_logits: Vec<Vec<f32>> = members.iter().map(|m| predict(m, grid)).collect();
        let probs = ensemble_probs(&member_logits, self.io.classes, combine);
        (self.sink)(Event::Regions(Arc::new(RegionGrid {
            role,
            resolution: REGION_RESOLUTION,
            bounds: *bounds,
            probs,
            classes: self.io.classes,
        })));
    }
}

/// The students' models and reports, gathered for the outcome.
struct Models {
    baseline: Option<Net>,
    baseline_report: Option<ModelReport>,
    student: Option<Net>,
    student_report: Option<ModelReport>,
}

impl ModelReport {
    fn empty(architecture: &str, size: crate::model::ModelSize, epochs: usize) -> Self {
        ModelReport {
            architecture: architecture.to_string(),
            parameters: size.parameters,
            macs: size.macs,
            status: PhaseStatus::Skipped,
            epochs_completed: 0,
            epochs_planned: epochs,
            test_accuracy: None,
            test_loss: None,
            agreement_with_teacher: None,
            kl_to_teacher: None,
            wall_seconds: 0.0,
            train_seconds: 0.0,
            samples_per_second: None,
            per_class_accuracy: Vec::new(),
            confusion: Vec::new(),
        }
    }

    fn set_evaluation(&mut self, e: &Evaluation) {
        self.test_accuracy = Some(e.accuracy);
        self.test_loss = Some(e.loss);
        self.agreement_with_teacher = Some(e.agreement);
        self.kl_to_teacher = Some(e.kl_to_teacher);
        self.per_class_accuracy = e.per_class_accuracy.clone();
        self.confusion = e.confusion.clone();
    }
}

fn skipped_report(arch: &str, size: crate::model::ModelSize, epochs: usize) -> ModelReport {
    ModelReport::empty(arch, size, epochs)
}

fn teacher_name(cfg: &crate::config::TeacherConfig) -> String {
    let first = cfg.members[0].short_name();
    match cfg.members.len() {
        1 => first,
        n => {
            let how = match cfg.combine {
                Combine::MeanProbabilities => "mean of probabilities",
                Combine::MeanLogits => "mean of logits",
            };
            format!("ensemble of {n} × {first} ({how})")
        }
    }
}

/// The optimiser and learning rate for the training settings.
fn optimizer(cfg: &TrainConfig) -> (ModuleOptimizer, f64) {
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

fn features_tensor(data: &Dataset, device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(data.features.clone(), [data.len(), data.num_features]),
        device,
    )
}

fn labels_tensor(labels: &[u32], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(
        TensorData::new(
            labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
            [labels.len()],
        ),
        device,
    )
}

/// A square grid over two-dimensional data with a margin, as device features.
fn region_grid(train: &Dataset, device: &Device) -> Option<(Tensor<2>, [f32; 4])> {
    if train.num_features != 2 || train.image.is_some() {
        return None;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in train.features.chunks_exact(2) {
        x0 = x0.min(p[0]);
        x1 = x1.max(p[0]);
        y0 = y0.min(p[1]);
        y1 = y1.max(p[1]);
    }
    let (mx, my) = ((x1 - x0) * 0.1, (y1 - y0) * 0.1);
    let bounds = [x0 - mx, x1 + mx, y0 - my, y1 + my];
    let r = REGION_RESOLUTION;
    let mut points = Vec::with_capacity(r * r * 2);
    for iy in 0..r {
        for ix in 0..r {
            let fx = (ix as f32 + 0.5) / r as f32;
            let fy = (iy as f32 + 0.5) / r as f32;
            points.push(bounds[0] + fx * (bounds[1] - bounds[0]));
            points.push(bounds[2] + fy * (bounds[3] - bounds[2]));
        }
    }
    Some((
        Tensor::from_data(TensorData::new(points, [r * r, 2]), device),
        bounds,
    ))
}
