//! What the training thread tells its listeners. Plain data, no window types: the CLI prints
//! these, the window plots them, tests assert on them.

use super::device::DeviceInfo;
use crate::model::ModelSize;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which model is being trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Member `member` of an ensemble of `of`.
    Teacher { member: usize, of: usize },
    /// The student architecture trained from scratch on hard labels.
    Baseline,
    /// The student trained with the distillation loss.
    Student,
}

impl Phase {
    pub fn name(&self) -> String {
        match self {
            Phase::Teacher { of: 1, .. } => "teacher".into(),
            Phase::Teacher { member, of } => format!("teacher {}/{of}", member + 1),
            Phase::Baseline => "baseline".into(),
            Phase::Student => "student".into(),
        }
    }

    /// The phase a [`Phase::name`] names: `teacher`, `teacher 2/3`, `baseline`, `student`.
    pub fn from_name(name: &str) -> Option<Phase> {
        match name {
            "teacher" => Some(Phase::Teacher { member: 0, of: 1 }),
            "baseline" => Some(Phase::Baseline),
            "student" => Some(Phase::Student),
            other => {
                let rest = other.strip_prefix("teacher ")?;
                let (m, of) = rest.split_once('/')?;
                Some(Phase::Teacher {
                    member: m.parse::<usize>().ok()?.checked_sub(1)?,
                    of: of.parse().ok()?,
                })
            }
        }
    }

    /// The model this phase trains, ignoring the ensemble member.
    pub fn role(&self) -> Role {
        match self {
            Phase::Teacher { .. } => Role::Teacher,
            Phase::Baseline => Role::Baseline,
            Phase::Student => Role::Student,
        }
    }
}

/// The three models of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Teacher,
    Baseline,
    Student,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Teacher, Role::Baseline, Role::Student];

    pub fn name(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Baseline => "baseline",
            Role::Student => "student",
        }
    }
}

/// The losses of one training step. For the teacher and the baseline `soft` is NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub phase: Phase,
    /// Steps completed in this phase, counting from 1.
    pub step: usize,
    pub epoch: usize,
    pub soft: f32,
    pub hard: f32,
    pub total: f32,
    pub temperature: f32,
    pub alpha: f32,
    /// The method's own two terms (`SoftLoss::term_names`); NaN where it has none.
    pub terms: [f32; 2],
}

/// Test-set measurements after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub phase: Phase,
    /// Epochs completed, counting from 1.
    pub epoch: usize,
    /// The phase's step count when the epoch ended, to place it on a step axis.
    pub step: usize,
    pub test_accuracy: f32,
    /// Cross-entropy on the test set.
    pub test_loss: f32,
    /// Mean total loss of the epoch's training steps.
    pub train_loss: f32,
    /// Share of test examples where this model's top class is the teacher's.
    pub agreement: f32,
    /// Mean KL(p_teacher ‖ p_model) on the test set at T = 1.
    pub kl_to_teacher: f32,
    pub seconds: f32,
}

/// Every model's test-set logits at one moment: what the probability views show.
#[derive(Debug, Clone, PartialEq)]
pub struct TestLogits {
    pub role: Role,
    /// `[test examples × classes]`, row-major. For an ensemble teacher, one buffer per member.
    pub members: Vec<Vec<f32>>,
    pub classes: usize,
    /// The phase's step count when this was taken.
    pub step: usize,
}

impl TestLogits {
    /// One set of logits per example: the members' mean (a single model's own logits).
    pub fn mean_logits(&self) -> Vec<f32> {
        let n = self.members.len().max(1) as f32;
        let len = self.members.first().map_or(0, Vec::len);
        (0..len)
            .map(|i| self.members.iter().map(|m| m[i]).sum::<f32>() / n)
            .collect()
    }
}

/// Class probabilities over a grid covering two-dimensional data: decision regions.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionGrid {
    pub role: Role,
    /// Grid points per side.
    pub resolution: usize,
    /// The area covered: `[x_min, x_max, y_min, y_max]` in (normalised) feature units.
    pub bounds: [f32; 4],
    /// `[resolution² × classes]`, row-major, rows from `y_min` upwards, x fastest.
    pub probs: Vec<f32>,
    pub classes: usize,
}

/// Facts about the experiment known once data and models are set up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupInfo {
    pub device: DeviceInfo,
    pub data: DataInfo,
    pub teacher_size: ModelSize,
    pub student_size: ModelSize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    pub description: String,
    pub train_examples: usize,
    pub test_examples: usize,
    pub transfer_examples: usize,
    pub teacher_examples: usize,
    pub features: usize,
    pub classes: usize,
    pub class_names: Vec<String>,
    pub transfer_labeled: bool,
    /// Training examples held out from every phase (`transfer.validation_fraction`).
    #[serde(default)]
    pub validation_examples: usize,
}

/// How much a notice matters to the user: the window keeps errors until they are dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// What a notice is about, so listeners branch on a value, never on the wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The run trains on the CPU although a GPU was possible (the text says why).
    CpuFallback,
    /// The teacher's weights were loaded from disk instead of trained.
    TeacherLoaded,
    /// A phase does not run (the text says why).
    PhaseSkipped,
    /// The GPU failed mid-run; the run starts again from nothing on the CPU. Listeners drop
    /// what they recorded of the failed attempt.
    RetryOnCpu,
    /// The run could not start (bad input or an unusable device): nothing trained, and no
    /// `Finished` follows.
    StartFailed,
    /// The method needs the true label inside its loss, the transfer set has none, and the
    /// teacher's predicted class stands in for it.
    LabelStandIn,
    /// The transfer set omits classes but no validation split is held out, so their bias
    /// correction is not chosen.
    NoValidationSplit,
}

/// Something the user should know, typed: a kind to branch on, a severity, and the words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub severity: Severity,
    pub text: String,
}

impl Notice {
    pub fn new(kind: NoticeKind, text: impl Into<String>) -> Self {
        let severity = match kind {
            NoticeKind::TeacherLoaded
            | NoticeKind::PhaseSkipped
            | NoticeKind::NoValidationSplit => Severity::Info,
            NoticeKind::CpuFallback | NoticeKind::RetryOnCpu | NoticeKind::LabelStandIn => {
                Severity::Warning
            }
            NoticeKind::StartFailed => Severity::Error,
        };
        Notice {
            kind,
            severity,
            text: text.into(),
        }
    }
}

/// A message from the training thread.
#[derive(Debug, Clone)]
pub enum Event {
    Setup(Box<SetupInfo>),
    /// Something the user should know: a CPU fallback, a skipped phase, a failed start.
    Notice(Notice),
    PhaseStarted {
        phase: Phase,
        epochs: usize,
        steps_per_epoch: usize,
    },
    /// Step losses, read back from the device together every `log_every` steps.
    Steps(Vec<StepMetrics>),
    Epoch(EpochMetrics),
    /// T or α changed while the student was training, effective from `step`.
    WeightsChanged {
        step: usize,
        temperature: f32,
        alpha: f32,
    },
    Logits(Arc<TestLogits>),
    Regions(Arc<RegionGrid>),
    PhaseFinished {
        phase: Phase,
        stopped: bool,
    },
    /// The run ended (completed, stopped, or failed part-way); the outcome holds what exists.
    Finished(Box<super::Outcome>),
}
