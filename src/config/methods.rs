//! The distillation methods a preset can choose, and each one's hyper-parameters, with the
//! authors' defaults. The formulas are in `distill::methods`.

use serde::{Deserialize, Serialize};

/// The soft term of the distillation loss: Hinton's KD and its relatives, and the methods of
/// the last years that need only the teacher's and the student's logits. The short names
/// (`kd`, `dkd`, …) are accepted in presets and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SoftLoss {
    /// KL(p_teacher(T) ‖ p_student(T)) (Hinton et al. 2015).
    #[serde(alias = "kd")]
    Kl,
    /// −Σ p_teacher(T) log p_student(T): KL plus the teacher's entropy, same gradients.
    #[serde(alias = "sce")]
    SoftCrossEntropy,
    /// Mean squared error between logits (Buciluă et al. 2006); T plays no part.
    #[serde(alias = "mse")]
    LogitMse,
    /// Decoupled KD (Zhao et al. 2022): target-class and non-target parts weighted apart.
    #[serde(alias = "dkd")]
    Dkd,
    /// DIST (Huang et al. 2022): Pearson correlations between and within classes.
    #[serde(alias = "dist")]
    Dist,
    /// KD on z-scored logits (Sun et al. 2024), at a base temperature.
    #[serde(alias = "ls")]
    Standardised,
    /// Curriculum temperature (Li et al. 2023): T is learned, adversarially.
    #[serde(alias = "ctkd")]
    Ctkd,
    /// Normalised KD (Yang et al. 2023): target term plus renormalised non-target term.
    #[serde(alias = "nkd")]
    Nkd,
    /// Label smoothing: cross-entropy against a hand-made teacher; no real teacher at all.
    #[serde(alias = "smooth")]
    LabelSmoothing,
    /// Teacher-free KD (Yuan et al. 2020): KL to a hand-made teacher softened at T.
    #[serde(alias = "tf")]
    TeacherFree,
}

impl SoftLoss {
    pub const ALL: [SoftLoss; 10] = [
        Self::Kl,
        Self::SoftCrossEntropy,
        Self::LogitMse,
        Self::Dkd,
        Self::Dist,
        Self::Standardised,
        Self::Ctkd,
        Self::Nkd,
        Self::LabelSmoothing,
        Self::TeacherFree,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Kl => "KL divergence",
            Self::SoftCrossEntropy => "soft cross-entropy",
            Self::LogitMse => "logit MSE",
            Self::Dkd => "DKD (decoupled KD)",
            Self::Dist => "DIST (correlations)",
            Self::Standardised => "logit standardisation",
            Self::Ctkd => "CTKD (learned T)",
            Self::Nkd => "NKD (normalised KD)",
            Self::LabelSmoothing => "label smoothing (no teacher)",
            Self::TeacherFree => "Tf-KD (virtual teacher)",
        }
    }

    /// The short name used on the command line and in sweep tables.
    pub fn short(self) -> &'static str {
        match self {
            Self::Kl => "kd",
            Self::SoftCrossEntropy => "sce",
            Self::LogitMse => "mse",
            Self::Dkd => "dkd",
            Self::Dist => "dist",
            Self::Standardised => "ls",
            Self::Ctkd => "ctkd",
            Self::Nkd => "nkd",
            Self::LabelSmoothing => "smooth",
            Self::TeacherFree => "tf",
        }
    }

    /// The method a short (or full variant) name means, case-insensitively.
    pub fn from_short(name: &str) -> Option<SoftLoss> {
        let name = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|l| l.short() == name || format!("{l:?}").to_ascii_lowercase() == name)
    }

    /// The two extra terms a step logs for this method (metrics.csv columns), if it has any.
    pub fn term_names(self) -> Option<[&'static str; 2]> {
        match self {
            Self::Dkd => Some(["tckd", "nckd"]),
            Self::Dist => Some(["inter_class", "intra_class"]),
            Self::Ctkd => Some(["learned_temperature", "reversal_lambda"]),
            Self::Nkd => Some(["target_term", "non_target_term"]),
            _ => None,
        }
    }

    /// Whether the method uses the true label inside its soft term (not just in the CE).
    pub fn needs_labels(self) -> bool {
        matches!(
            self,
            Self::Dkd | Self::Nkd | Self::LabelSmoothing | Self::TeacherFree
        )
    }

    /// Whether the method uses a teacher at all (the teacher-free controls do not).
    pub fn uses_teacher(self) -> bool {
        !matches!(self, Self::LabelSmoothing | Self::TeacherFree)
    }

    /// Whether `distill.temperature` enters the loss.
    pub fn uses_temperature(self) -> bool {
        !matches!(self, Self::LogitMse | Self::Ctkd | Self::LabelSmoothing)
    }

    /// Whether `distill.scale_by_t_squared` applies (the other methods fix their own factor).
    pub fn scalable_by_t_squared(self) -> bool {
        matches!(self, Self::Kl | Self::SoftCrossEntropy)
    }
}

/// How the soft and the hard term are added up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Weighting {
    /// Hinton's `α·soft + (1 − α)·CE`.
    Alpha,
    /// `soft·soft_term + hard·CE`, as most later methods' code has it (DKD: 1 and 1; logit
    /// standardisation: 9 and 0.1).
    Fixed { soft: f64, hard: f64 },
}

/// Decoupled KD: `a·TCKD + b·NCKD`, ramped in linearly over the first epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkdParams {
    /// a: weight of the target-class part.
    pub target_weight: f64,
    /// b: weight of the non-target part.
    pub non_target_weight: f64,
    /// Epochs of the linear warm-up of both parts (0: none).
    pub warmup_epochs: usize,
    /// z-score the logits first (logit standardisation in front of DKD).
    pub standardise: bool,
}

impl Default for DkdParams {
    fn default() -> Self {
        // The paper's and mdistiller's CIFAR-100 settings (with T = 4).
        Self {
            target_weight: 1.0,
            non_target_weight: 8.0,
            warmup_epochs: 20,
            standardise: false,
        }
    }
}

/// DIST: `β·inter + γ·intra`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistParams {
    /// β: weight of the inter-class (per example) correlation term.
    pub inter_weight: f64,
    /// γ: weight of the intra-class (per class, across the batch) correlation term.
    pub intra_weight: f64,
}

impl Default for DistParams {
    fn default() -> Self {
        // β = γ = 1, the reference's defaults (with τ = 1).
        Self {
            inter_weight: 1.0,
            intra_weight: 1.0,
        }
    }
}

/// CTKD: `T = t_start + t_range·σ(θ)`, θ trained against the student.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CtkdParams {
    /// The lowest temperature.
    pub t_start: f64,
    /// How far above `t_start` the temperature can go.
    pub t_range: f64,
    /// θ's starting value (T starts at `t_start + t_range·σ(θ)`).
    pub theta: f64,
    /// Epochs over which the gradient reversal ramps from 0 to full strength.
    pub ramp_epochs: usize,
    /// Adam's learning rate for θ.
    pub lr: f64,
}

impl Default for CtkdParams {
    fn default() -> Self {
        // The reference's `t_start = 1`, `t_end = 20` (the range), θ = 1 and a ramp of 10
        // epochs (its CIFAR-100 scripts). It trains θ with the student's SGD; Adam at 0.01
        // moves T visibly within the few hundred steps of a workbench run.
        Self {
            t_start: 1.0,
            t_range: 20.0,
            theta: 1.0,
            ramp_epochs: 10,
            lr: 0.01,
        }
    }
}

/// NKD: `target term + γ·T²·non-target term`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NkdParams {
    pub gamma: f64,
}

impl Default for NkdParams {
    fn default() -> Self {
        // The reference's γ = 1.5 (with T = 1).
        Self { gamma: 1.5 }
    }
}

/// The virtual teacher of label smoothing and Tf-KD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VirtualTeacherParams {
    /// Probability on the true class; the rest is spread evenly.
    pub correct_prob: f64,
    /// Tf-KD's multiplier on its KL term.
    pub multiplier: f64,
}

impl Default for VirtualTeacherParams {
    fn default() -> Self {
        // The reference's `correct_prob = 0.99` and multiplier 1 (with T = 20).
        Self {
            correct_prob: 0.99,
            multiplier: 1.0,
        }
    }
}

/// Every method's hyper-parameters, as the loss needs them (one `Copy` value).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MethodParams {
    pub dkd: DkdParams,
    pub dist: DistParams,
    pub ctkd: CtkdParams,
    pub nkd: NkdParams,
    pub virtual_teacher: VirtualTeacherParams,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_round_trip() {
        for l in SoftLoss::ALL {
            assert_eq!(SoftLoss::from_short(l.short()), Some(l));
            assert_eq!(SoftLoss::from_short(&format!("{l:?}")), Some(l));
        }
        assert_eq!(SoftLoss::from_short("KD"), Some(SoftLoss::Kl));
        assert_eq!(SoftLoss::from_short("hinton"), None);
    }
}
