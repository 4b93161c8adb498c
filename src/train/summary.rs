//! The run summary written to `summary.json`: each model's size, accuracy and timing.

use super::{DataInfo, DeviceInfo};
use serde::{Deserialize, Serialize};

/// How a phase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Completed,
    /// Stopped by the user; the model as it was is kept.
    Stopped,
    /// A loss became NaN or infinite; the phase ended there.
    Diverged,
    /// Weights loaded from disk instead of trained.
    Loaded,
    /// Not run (baseline off, or an earlier phase ended the run).
    Skipped,
}

/// One model's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    pub architecture: String,
    pub parameters: usize,
    /// Multiply–accumulates per example, one forward pass.
    pub macs: usize,
    pub status: PhaseStatus,
    pub epochs_completed: usize,
    pub epochs_planned: usize,
    pub test_accuracy: Option<f32>,
    pub test_loss: Option<f32>,
    /// Top-1 agreement with the teacher on the test set.
    pub agreement_with_teacher: Option<f32>,
    /// Mean KL(p_teacher ‖ p_model) at T = 1 on the test set.
    pub kl_to_teacher: Option<f32>,
    /// Whole phase, evaluation included.
    pub wall_seconds: f64,
    /// Training steps only.
    pub train_seconds: f64,
    /// Training examples per second over the phase's training steps.
    pub samples_per_second: Option<f64>,
    /// A teacher's one pass over the whole training set for the logits every distillation
    /// step then reads from the cache. No student phase counts it; a loop that runs the
    /// teacher inside its KD phase (PyTorch's reference) does.
    #[serde(default)]
    pub logits_seconds: Option<f64>,
    pub per_class_accuracy: Vec<f32>,
    /// `confusion[true][predicted]` counts on the test set.
    pub confusion: Vec<Vec<u32>>,
    /// Expected calibration error at T = 1 on the test set (15 equal-width bins).
    #[serde(default)]
    pub ece: Option<f32>,
    /// The reliability diagram behind `ece`.
    #[serde(default)]
    pub reliability: Vec<super::ReliabilityBin>,
    /// For a student or baseline trained without some classes: the bias added to each
    /// omitted class's logit, chosen on the validation split, and the errors before and after.
    #[serde(default)]
    pub bias_correction: Option<super::bias::BiasCorrection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillSettings {
    pub temperature: f64,
    pub alpha: f64,
    pub loss: String,
    pub scale_by_t_squared: bool,
    /// How soft and hard terms added up: `Alpha`, or `Fixed(soft: .., hard: ..)`.
    #[serde(default)]
    pub weighting: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub name: String,
    pub device: DeviceInfo,
    pub data: DataInfo,
    pub distill: DistillSettings,
    pub teacher: ModelReport,
    pub teacher_members: usize,
    pub baseline: Option<ModelReport>,
    pub student: Option<ModelReport>,
    /// Teacher parameters over student parameters.
    pub compression_ratio: f64,
    pub wall_seconds: f64,
    /// True when the user stopped the run before it finished.
    pub stopped: bool,
    /// What ended the run early, if anything did.
    pub error: Option<RunFailure>,
    /// Each model's mean soft target per true class on the test set, at the run's T.
    #[serde(default)]
    pub dark_knowledge: Option<crate::distill::dark::DarkKnowledge>,
    /// For an ensemble teacher: each member's test accuracy, and the ensemble's under both
    /// rules (the run distils the one `teacher.combine` names).
    #[serde(default)]
    pub ensemble: Option<EnsembleReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleReport {
    pub members: Vec<f32>,
    pub mean_probabilities: f32,
    pub mean_logits: f32,
}

/// Why a run ended before its end, as a value callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A loss became NaN or infinite.
    Diverged,
    /// The device (GPU lost, out of memory) or the engine failed.
    Device,
    /// Input that could only be checked once training was under way.
    BadInput,
}

/// What ended a run early: its kind, the phase it happened in, and the explanation. In
/// `summary.json`: `{"kind": "diverged", "phase": "student", "message": "..."}`, the phase
/// named as in the CSV files (`teacher`, `teacher 2/3`, `baseline`, `student`) or null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    pub kind: FailureKind,
    #[serde(default, with = "phase_name")]
    pub phase: Option<super::Phase>,
    pub message: String,
}

/// A phase in JSON as its name, the way the CSV files write it.
mod phase_name {
    use super::super::Phase;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(phase: &Option<Phase>, s: S) -> Result<S::Ok, S::Error> {
        match phase {
            Some(p) => s.serialize_str(&p.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Phase>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => Phase::from_name(&name)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("`{name}` is not a phase"))),
        }
    }
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Summary {
    /// `student accuracy − baseline accuracy`, when both exist.
    pub fn distillation_gain(&self) -> Option<f32> {
        Some(self.student.as_ref()?.test_accuracy? - self.baseline.as_ref()?.test_accuracy?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Phase;

    #[test]
    fn a_run_failure_reads_plainly_in_json() {
        for (phase, name) in [
            (Some(Phase::Student), "\"student\""),
            (Some(Phase::Teacher { member: 1, of: 3 }), "\"teacher 2/3\""),
            (None, "null"),
        ] {
            let failure = RunFailure {
                kind: FailureKind::Diverged,
                phase,
                message: "the student diverged".into(),
            };
            let json = serde_json::to_string(&failure).unwrap();
            assert_eq!(
                json,
                format!(
                    "{{\"kind\":\"diverged\",\"phase\":{name},\"message\":\"the student diverged\"}}"
                )
            );
            assert_eq!(serde_json::from_str::<RunFailure>(&json).unwrap(), failure);
        }
    }
}
