//! The loss a distillation step differentiates: the chosen method's soft term, the hard
//! cross-entropy, and how the two add up. Each method's own terms come back separately so the
//! engine can log them (TCKD and NCKD for DKD, the learned T for CTKD, …).

use super::head::{HeadScalars, kd_head, weigh};
use super::methods::{ctkd, dist, dkd, nkd, standardise, virtual_teacher};
use super::{
    SoftTargets, centred, hard_cross_entropy, logit_mse, teacher_logits, teacher_soft_targets,
};
use crate::config::{Combine, DistillConfig, MethodParams, SoftLoss, Weighting};
use burn::prelude::*;

/// The weights of the distillation loss, changeable between steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWeights {
    pub temperature: f64,
    pub alpha: f64,
    pub loss: SoftLoss,
    pub scale_by_t_squared: bool,
    pub weighting: Weighting,
    pub params: MethodParams,
}

impl From<&DistillConfig> for LossWeights {
    fn from(d: &DistillConfig) -> Self {
        Self {
            temperature: d.temperature,
            alpha: d.alpha,
            loss: d.loss,
            scale_by_t_squared: d.scale_by_t_squared,
            weighting: d.weighting,
            params: d.params(),
        }
    }
}

impl LossWeights {
    /// The factor on KL or soft cross-entropy: T² when scaling is on. The other methods carry
    /// the factor their authors' code has, inside their terms.
    pub fn soft_scale(&self) -> f64 {
        if self.loss.scalable_by_t_squared() && self.scale_by_t_squared {
            self.temperature * self.temperature
        } else {
            1.0
        }
    }

    /// `(soft weight, hard weight)`. Without labels the hard term has nothing to train on,
    /// and under α weighting the soft term then takes all the weight (α = 1).
    pub fn term_weights(&self, use_labels: bool) -> (f64, f64) {
        match (self.weighting, use_labels) {
            (Weighting::Alpha, true) => (self.alpha, 1.0 - self.alpha),
            (Weighting::Alpha, false) => (1.0, 0.0),
            (Weighting::Fixed { soft, hard }, true) => (soft, hard),
            (Weighting::Fixed { soft, .. }, false) => (soft, 0.0),
        }
    }
}

/// What a step knows beyond its batch.
#[derive(Debug, Clone, Default)]
pub struct StepContext {
    /// The phase's epoch, counted from 1 as the references count it (DKD's warm-up, CTKD's
    /// reversal ramp).
    pub epoch: usize,
    /// CTKD's θ: a parameter on the autodiff device, its gradient taken from the loss.
    pub theta: Option<Tensor<1>>,
    /// The teacher's soft targets for this batch at the weights' T, when the engine has them
    /// cached; otherwise they are computed from the members' logits.
    pub soft_targets: Option<SoftTargets>,
}

/// What a distillation step differentiates and what it reports.
#[derive(Debug, Clone)]
pub struct LossParts {
    /// The weighted total, shape `[1]`: the one differentiated.
    pub total: Tensor<1>,
    /// Detached, on the inner device: `[soft, hard, total]`, then the method's two logged
    /// terms (`SoftLoss::term_names`) if it has them; `[hard]` for a step without a teacher
    /// ([`super::head::hard_head`]). `soft` is the method's soft term with its own factors
    /// (T² included), before the weighting.
    pub reported: Tensor<1>,
}

impl LossParts {
    /// The reported values, read back (a device sync: for tests and tools, not the step loop).
    pub fn values(&self) -> Vec<f32> {
        self.reported
            .clone()
            .into_data()
            .try_to_vec()
            .expect("losses are f32")
    }
}

/// `w_s·soft + w_h·CE(y, softmax(z_s))` for the chosen method, the weights from
/// [`LossWeights::term_weights`]. Without labels (`use_labels` false) the hard loss is still
/// computed for monitoring, and the methods that use the label inside their soft term (DKD,
/// NKD) take the teacher's predicted class in its place.
pub fn distillation_loss(
    student_logits: Tensor<2>,
    teacher_members: &[Tensor<2>],
    combine: Combine,
    labels: Tensor<1, Int>,
    weights: &LossWeights,
    use_labels: bool,
    ctx: &StepContext,
) -> LossParts {
    let teacher = Teacher {
        members: teacher_members,
        combine,
        labels: labels.clone(),
        use_labels,
    };
    let (w_soft, w_hard) = weights.term_weights(use_labels);
    if let Some(cross_entropy) = head_soft_term(weights.loss) {
        // KL and soft cross-entropy go through the fused head (see `super::head`).
        let t = weights.temperature;
        let scalars = HeadScalars {
            temperature: t as f32,
            soft_scale: weights.soft_scale() as f32,
            soft_weight: w_soft as f32,
            hard_weight: w_hard as f32,
            cross_entropy,
        };
        return kd_head(
            student_logits,
            &soft_targets(&teacher, t, ctx),
            labels,
            scalars,
        );
    }
    let (soft, terms) = soft_term(student_logits.clone(), &teacher, weights, ctx);
    let hard = hard_cross_entropy(student_logits, labels);
    weigh(soft, hard, (w_soft, w_hard), terms)
}

/// For the soft terms the fused head computes, whether it is the cross-entropy form
/// (`Some(false)` for KL); `None` for the other methods.
fn head_soft_term(loss: SoftLoss) -> Option<bool> {
    match loss {
        SoftLoss::Kl => Some(false),
        SoftLoss::SoftCrossEntropy => Some(true),
        _ => None,
    }
}

/// The teacher's side of a batch, and the labels the soft term may use.
struct Teacher<'a> {
    members: &'a [Tensor<2>],
    combine: Combine,
    labels: Tensor<1, Int>,
    use_labels: bool,
}

impl Teacher<'_> {
    /// One set of logits for the whole teacher (see [`teacher_logits`]).
    fn logits(&self) -> Tensor<2> {
        teacher_logits(self.members, self.combine)
    }

    /// The true labels, or on an unlabeled transfer set the teacher's predicted classes.
    fn target_labels(&self) -> Tensor<1, Int> {
        if self.use_labels {
            return self.labels.clone();
        }
        let z = self.logits();
        let [batch, _] = z.dims();
        z.argmax(1).reshape([batch])
    }
}

fn pair(a: Tensor<1>, b: Tensor<1>) -> Option<Tensor<1>> {
    Some(Tensor::cat(vec![a, b], 0))
}

/// The batch's soft targets at T: the cached ones if the step carries them.
fn soft_targets(teacher: &Teacher, t: f64, ctx: &StepContext) -> SoftTargets {
    ctx.soft_targets
        .clone()
        .unwrap_or_else(|| teacher_soft_targets(teacher.members, teacher.combine, t))
}

/// The soft term of a method other than KL and soft cross-entropy, and its two logged terms.
fn soft_term(
    s: Tensor<2>,
    teacher: &Teacher,
    weights: &LossWeights,
    ctx: &StepContext,
) -> (Tensor<1>, Option<Tensor<1>>) {
    let t = weights.temperature;
    let p = &weights.params;
    match weights.loss {
        SoftLoss::Kl | SoftLoss::SoftCrossEntropy => {
            unreachable!("the fused head computes KL and soft cross-entropy")
        }
        SoftLoss::LogitMse => (logit_mse(centred(s), teacher.logits()), None),
        SoftLoss::Dkd => {
            let (s, z) = if p.dkd.standardise {
                (
                    standardise::standardise(s),
                    standardise::standardise(teacher.logits()),
                )
            } else {
                (s, teacher.logits())
            };
            let terms = dkd::dkd_terms(s, z, teacher.target_labels(), t);
            let ramp = dkd::warmup_factor(ctx.epoch, p.dkd.warmup_epochs);
            let soft = (terms.target.clone() * p.dkd.target_weight
                + terms.non_target.clone() * p.dkd.non_target_weight)
                * ramp;
            (soft, pair(terms.target, terms.non_target))
        }
        SoftLoss::Dist => {
            let terms = dist::dist_terms(s, teacher.logits(), t);
            let soft = terms.inter.clone() * p.dist.inter_weight
                + terms.intra.clone() * p.dist.intra_weight;
            (soft, pair(terms.inter, terms.intra))
        }
        SoftLoss::Standardised => (standardise::standardised_kd(s, teacher.logits(), t), None),
        SoftLoss::Ctkd => {
            let theta = ctx.theta.clone().expect("a CTKD step carries θ");
            let lambda = ctkd::reversal_lambda(ctx.epoch, p.ctkd.ramp_epochs);
            let learned = ctkd::learned_temperature(theta, lambda, p.ctkd.t_start, p.ctkd.t_range);
            let lambda_t = Tensor::<1>::from_floats([lambda as f32], &s.device());
            let soft = ctkd::kd_at_learned_temperature(s, teacher.logits(), learned.clone());
            (soft, pair(learned.detach(), lambda_t))
        }
        SoftLoss::Nkd => {
            let terms = nkd::nkd_terms(s, teacher.logits(), teacher.target_labels(), t);
            let soft = terms.target.clone() + terms.non_target.clone() * p.nkd.gamma;
            (soft, pair(terms.target, terms.non_target))
        }
        SoftLoss::LabelSmoothing => {
            let a = p.virtual_teacher.correct_prob;
            (
                virtual_teacher::label_smoothing(s, teacher.labels.clone(), a),
                None,
            )
        }
        SoftLoss::TeacherFree => {
            let vt = &p.virtual_teacher;
            let reg =
                virtual_teacher::tf_kd_regulariser(s, teacher.labels.clone(), vt.correct_prob, t);
            (reg * vt.multiplier, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Device {
        Device::flex()
    }

    fn student() -> Tensor<2> {
        Tensor::from_floats([[1.0, 2.0, 0.5], [0.0, 0.3, -0.2]], &dev())
    }

    fn teacher() -> Tensor<2> {
        Tensor::from_floats([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]], &dev())
    }

    fn parts(d: &DistillConfig, labels: [i64; 2], labeled: bool, epoch: usize) -> LossParts {
        distillation_loss(
            student(),
            &[teacher()],
            Combine::MeanLogits,
            Tensor::from_ints(labels, &dev()),
            &LossWeights::from(d),
            labeled,
            &StepContext {
                epoch,
                ..StepContext::default()
            },
        )
    }

    /// Fixed weights add the terms as given; DKD's soft term is the warm-up times
    /// a·TCKD + b·NCKD, with its logged terms.
    #[test]
    fn fixed_weights_and_the_dkd_warm_up() {
        let d = DistillConfig {
            loss: SoftLoss::Dkd,
            weighting: Weighting::Fixed {
                soft: 2.0,
                hard: 0.5,
            },
            ..DistillConfig::default()
        };
        let v = parts(&d, [0, 2], true, 5).values();
        let terms = &v[3..];
        let (soft, hard, total) = (v[0] as f64, v[1] as f64, v[2] as f64);
        let want_soft = 5.0 / 20.0 * (terms[0] as f64 + 8.0 * terms[1] as f64);
        assert!((soft - want_soft).abs() < 1e-5, "{soft} vs {want_soft}");
        assert!((total - (2.0 * soft + 0.5 * hard)).abs() < 1e-5);
        // Past the warm-up the factor is 1.
        let late = parts(&d, [0, 2], true, 40).values()[0] as f64;
        assert!((late - 4.0 * soft).abs() < 1e-4, "{late} vs {}", 4.0 * soft);
    }

    /// Without labels DKD's target is the teacher's prediction (classes 0 and 2 here), and
    /// the hard term weighs nothing.
    #[test]
    fn unlabeled_dkd_targets_the_teachers_prediction() {
        let d = DistillConfig {
            loss: SoftLoss::Dkd,
            ..DistillConfig::default()
        };
        let unlabeled = parts(&d, [1, 1], false, 20).values();
        let by_prediction = parts(&d, [0, 2], true, 20).values();
        assert!((unlabeled[0] - by_prediction[0]).abs() < 1e-6);
        assert!((unlabeled[2] - unlabeled[0]).abs() < 1e-6);
    }
}
