//! Many students against one teacher, the piece sweeps are built from: one seed's data,
//! teacher (trained, or loaded from saved weights) and baseline, then one distilled student
//! per variant of the distillation settings, each reported as soon as it is done. A variant
//! may distil the ensemble's best single member instead of the whole ensemble, on the same
//! seed: the comparison that says whether the ensemble itself is worth distilling.

use super::phases::FrozenTeacher;
use super::setup::{Sink, prepare};
use super::{
    Control, EpochMetrics, History, ModelReport, Phase, RunError, RunFailure, StepMetrics,
};
use crate::config::Experiment;
use crate::model::{Net, arch_size};
use serde::{Deserialize, Serialize};

/// Which teacher a student is distilled from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeacherChoice {
    /// The teacher as configured: an ensemble combined by `teacher.combine`.
    #[default]
    Whole,
    /// The ensemble's member with the highest test accuracy, alone. Picking it on the test set
    /// favours the single member, so the ensemble's edge over it is never overstated.
    BestMember,
}

impl TeacherChoice {
    pub const ALL: [TeacherChoice; 2] = [TeacherChoice::Whole, TeacherChoice::BestMember];

    /// The name in `--teachers`, `sweep.csv` and tables.
    pub fn short(self) -> &'static str {
        match self {
            TeacherChoice::Whole => "whole",
            TeacherChoice::BestMember => "best-member",
        }
    }

    pub fn from_short(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.short() == name)
    }
}

/// One student to train against a seed's teacher: its experiment (differing from the seed's
/// only in the distillation settings) and which teacher it learns from.
#[derive(Debug, Clone)]
pub struct Variant {
    pub experiment: Experiment,
    pub teacher: TeacherChoice,
}

/// The teacher and the baseline of one seed.
#[derive(Debug, Clone)]
pub struct SeedRun {
    pub teacher: ModelReport,
    pub baseline: Option<ModelReport>,
    /// The baseline's test measurements per epoch (best and last epoch are kept apart).
    pub baseline_epochs: Vec<EpochMetrics>,
    /// What ended the seed early (a teacher that diverged, say); its students did not train.
    pub error: Option<RunFailure>,
}

/// One distilled student of a seed.
#[derive(Debug, Clone)]
pub struct StudentRun {
    pub report: ModelReport,
    /// Test accuracy of the teacher this student learned from (the best member's, for one).
    pub teacher_accuracy: Option<f32>,
    pub epochs: Vec<EpochMetrics>,
    pub steps: Vec<StepMetrics>,
    pub error: Option<RunFailure>,
}

/// What the caller hears while a seed trains.
pub struct SeedListener<'a> {
    /// Every engine event, as a single run's listener gets them.
    pub sink: Sink<'a>,
    /// The frozen teacher's members, once, before any student trains (to save their weights).
    pub on_teacher: &'a mut dyn FnMut(&[Net]),
    /// The teacher's and the baseline's results, before the first variant trains.
    pub on_seed: &'a mut dyn FnMut(&SeedRun),
    /// Variant `i`'s student, when it ends.
    pub on_student: &'a mut dyn FnMut(usize, StudentRun),
}

/// Train `base`'s teacher (or load it) and, if `baseline`, its baseline, then one student per
/// experiment in `variants`, which differ from `base` only in their distillation settings.
/// A stop ends the seed after the student in flight (reported with its stopped status).
pub fn train_seed(
    base: &Experiment,
    variants: &[Variant],
    baseline: bool,
    control: &Control,
    listener: SeedListener,
) -> Result<SeedRun, RunError> {
    let base = Experiment {
        train: crate::config::TrainConfig {
            baseline,
            ..base.train.clone()
        },
        ..base.clone()
    };
    let prepared = prepare(&base)?;
    let mut trainer = prepared.trainer(&base, control, listener.sink)?;
    prepared.announce(&trainer, listener.sink);
    let teacher = match trainer.teacher_phase() {
        Ok(teacher) => teacher,
        Err(failure) => {
            let seed = SeedRun {
                teacher: failure.report,
                baseline: None,
                baseline_epochs: Vec::new(),
                error: failure.error,
            };
            (listener.on_seed)(&seed);
            return Ok(seed);
        }
    };
    (listener.on_teacher)(&teacher.members);
    trainer.teacher_test_probs = Some(teacher.test_probs.clone());
    let (_, baseline, error) = trainer.baseline_phase(&teacher);
    let seed = SeedRun {
        teacher: teacher.report.clone(),
        baseline,
        baseline_epochs: phase_epochs(&trainer.history, Phase::Baseline),
        error,
    };
    (listener.on_seed)(&seed);
    let best = variants
        .iter()
        .any(|v| v.teacher == TeacherChoice::BestMember)
        .then(|| trainer.best_member(&teacher));
    for (i, variant) in variants.iter().enumerate() {
        if control.is_stopped() {
            break;
        }
        let chosen = match (&best, variant.teacher) {
            (Some(best), TeacherChoice::BestMember) => best,
            _ => &teacher,
        };
        let run = train_variant(&mut trainer, &variant.experiment, chosen);
        (listener.on_student)(i, run);
    }
    Ok(seed)
}

fn train_variant<'a>(
    trainer: &mut super::setup::Trainer<'a>,
    variant: &'a Experiment,
    teacher: &FrozenTeacher,
) -> StudentRun {
    trainer.exp = variant;
    trainer.history = History::default();
    trainer.teacher_test_probs = Some(teacher.test_probs.clone());
    let result = trainer.train_student(teacher);
    let size = arch_size(&variant.student, trainer.io);
    let report = trainer.student_report(&result, teacher, size);
    let history = std::mem::take(&mut trainer.history);
    StudentRun {
        report,
        teacher_accuracy: teacher.report.test_accuracy,
        epochs: phase_epochs(&history, Phase::Student),
        steps: history.steps,
        error: result.error,
    }
}

fn phase_epochs(history: &History, phase: Phase) -> Vec<EpochMetrics> {
    history
        .epochs
        .iter()
        .filter(|e| e.phase == phase)
        .copied()
        .collect()
}
