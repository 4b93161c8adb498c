//! The loss written out, in symbols and with the run's numbers, for the window's formula box
//! and the command line's run header.

use super::LossWeights;
use crate::config::{DistillConfig, Experiment, SoftLoss, Weighting};

/// The soft term in symbols, and with the current numbers.
fn soft_formula(d: &DistillConfig, batch: usize) -> (String, String) {
    let t = d.temperature;
    let t2 = if d.scale_by_t_squared { "T²·" } else { "" };
    let n2 = if d.scale_by_t_squared {
        format!("{:.1}·", t * t)
    } else {
        String::new()
    };
    match d.loss {
        SoftLoss::Kl => (
            format!("{t2}KL(p_t(T)‖p_s(T))"),
            format!("{n2}KL(p_t({t:.2})‖p_s({t:.2}))"),
        ),
        SoftLoss::SoftCrossEntropy => (
            format!("{t2}H(p_t(T), p_s(T))"),
            format!("{n2}H(p_t({t:.2}), p_s({t:.2}))"),
        ),
        SoftLoss::LogitMse => (
            "MSE(z_s − mean z_s, z_t − mean z_t)".into(),
            "MSE of the zero-mean logits".into(),
        ),
        SoftLoss::Dkd => {
            let p = &d.dkd;
            let z = if p.standardise {
                " on z-scored logits"
            } else {
                ""
            };
            (
                "min(e/E,1)·(a·TCKD + b·NCKD), each T²·KL".into(),
                format!(
                    "min(e/{},1)·({}·TCKD + {}·NCKD) at T = {t:.2}{z}",
                    p.warmup_epochs, p.target_weight, p.non_target_weight
                ),
            )
        }
        SoftLoss::Dist => (
            "τ²·[β·(1 − ρ_inter) + γ·(1 − ρ_intra)]".into(),
            format!(
                "{:.1}·[{}·(1 − ρ_inter) + {}·(1 − ρ_intra)], ρ_intra over batches of {batch}",
                t * t,
                d.dist.inter_weight,
                d.dist.intra_weight
            ),
        ),
        SoftLoss::Standardised => (
            "T²·KL(p_t(z*_t/T)‖p_s(z*_s/T)), z* = (z − mean)/std".into(),
            format!("{:.1}·KL at base T = {t:.2} of the z-scored logits", t * t),
        ),
        SoftLoss::Ctkd => {
            let c = &d.ctkd;
            (
                "T_θ²·KL(p_t(T_θ)‖p_s(T_θ)), T_θ = T_min + R·σ(θ)".into(),
                format!(
                    "T_θ = {} + {}·σ(θ), θ from {} against the student, reversal ramp {} epochs",
                    c.t_start, c.t_range, c.theta, c.ramp_epochs
                ),
            )
        }
        SoftLoss::Nkd => (
            "−t_y·log s_y + γ·T²·H(t'(T), s'(T)) over the other classes".into(),
            format!(
                "−t_y·log s_y + {}·{:.1}·H(t'({t:.2}), s'({t:.2}))",
                d.nkd.gamma,
                t * t
            ),
        ),
        SoftLoss::LabelSmoothing => (
            "CE(u, p_s), u = a on the label, (1 − a)/(C − 1) elsewhere".into(),
            format!("CE(u, p_s), a = {}", d.virtual_teacher.correct_prob),
        ),
        SoftLoss::TeacherFree => (
            "m·KL(softmax(u/T)‖p_s), mean over classes".into(),
            format!(
                "{}·KL(softmax(u/{t:.2})‖p_s), a = {}",
                d.virtual_teacher.multiplier, d.virtual_teacher.correct_prob
            ),
        ),
    }
}

/// The whole loss, in symbols and with the current numbers, and notes on what does not show.
pub fn formula_lines(exp: &Experiment) -> (String, String, Vec<String>) {
    let d = &exp.distill;
    let labeled = exp.transfer.labeled;
    let (soft, numbers) = soft_formula(d, exp.train.batch_size);
    let (w_soft, w_hard) = LossWeights::from(d).term_weights(labeled);
    let general = match d.weighting {
        Weighting::Alpha => format!("L = α·{soft} + (1−α)·CE(y, p_s(1))"),
        Weighting::Fixed { .. } => format!("L = w_soft·{soft} + w_hard·CE(y, p_s(1))"),
    };
    let numbers = format!("  = {w_soft:.2}·{numbers} + {w_hard:.2}·CE");
    let mut notes = Vec::new();
    if !labeled {
        notes.push("unlabeled transfer set: the hard term trains nothing (weight 0)".to_string());
        if d.loss.needs_labels() && d.loss.uses_teacher() {
            notes.push(format!(
                "{} uses the teacher's predicted class where it needs the label",
                d.loss.name()
            ));
        }
    }
    if !d.loss.uses_temperature() && d.loss != SoftLoss::LogitMse {
        notes.push("the T slider above is not used by this method".to_string());
    }
    if d.loss == SoftLoss::Dist {
        notes.push("the intra-class term depends on the batch size and its make-up".to_string());
    }
    if !d.loss.uses_teacher() {
        notes.push("no teacher enters this loss: it is the teacher-free control".to_string());
    }
    (general, numbers, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_writes_its_numbers_into_the_formula() {
        let mut exp = Experiment::default();
        for loss in SoftLoss::ALL {
            exp.distill.loss = loss;
            let (general, numbers, _) = formula_lines(&exp);
            assert!(general.starts_with("L = α·"), "{loss:?}: {general}");
            assert!(
                numbers.contains("0.90·") && numbers.contains("0.10·CE"),
                "{loss:?}: {numbers}"
            );
        }
        exp.distill.loss = SoftLoss::Dkd;
        exp.distill.weighting = Weighting::Fixed {
            soft: 1.0,
            hard: 1.0,
        };
        let (general, numbers, _) = formula_lines(&exp);
        assert!(
            general.contains("w_soft·min(e/E,1)·(a·TCKD + b·NCKD)"),
            "{general}"
        );
        assert!(
            numbers.contains("1.00·min(e/20,1)·(1·TCKD + 8·NCKD) at T = 4.00 + 1.00·CE"),
            "{numbers}"
        );
        exp.transfer.labeled = false;
        let (_, numbers, notes) = formula_lines(&exp);
        assert!(numbers.ends_with("+ 0.00·CE"), "{numbers}");
        assert!(
            notes
                .iter()
                .any(|n| n.contains("teacher's predicted class")),
            "{notes:?}"
        );
    }
}
