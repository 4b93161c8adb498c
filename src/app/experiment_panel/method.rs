//! The distillation method: the chooser, each method's hyper-parameters (ranges shared with
//! validation), how soft and hard terms add up, and the formula with the current numbers.

use super::ExperimentPanel;
use crate::app::widgets::ranged;
use crate::config::{Experiment, SoftLoss, Weighting};
use crate::config::{Range, ranges};
use crate::distill::formula_lines;
use egui::emath::Numeric;
use egui::{ComboBox, Response, RichText, Ui};

impl ExperimentPanel<'_> {
    /// Chooser, hyper-parameters and weighting; not editable while a run is going.
    pub(super) fn method_ui(&mut self, ui: &mut Ui) {
        let d = &mut self.experiment.distill;
        ComboBox::from_label("Method")
            .selected_text(d.loss.name())
            .show_ui(ui, |ui| {
                for l in SoftLoss::ALL {
                    ui.selectable_value(&mut d.loss, l, l.name())
                        .on_hover_text(method_blurb(l));
                }
            });
        if d.loss.scalable_by_t_squared() {
            let r = ui
                .checkbox(&mut d.scale_by_t_squared, "Scale soft term by T²")
                .on_hover_text(
                    "keeps the soft gradients' size comparable as T changes (Hinton et al. 2015, §2)",
                );
            crate::app::lesson_steps::highlight(ui, &r, "Scale soft term by T²");
        }
        self.params_ui(ui);
        self.weighting_ui(ui);
    }

    fn params_ui(&mut self, ui: &mut Ui) {
        let d = &mut self.experiment.distill;
        let w = &ranges::TERM_WEIGHT;
        let mut m = Vec::new();
        match d.loss {
            SoftLoss::Dkd => {
                let p = &mut d.dkd;
                let field = "distill.dkd.target_weight";
                control(ui, &mut m, &mut p.target_weight, w, "a: TCKD weight", field);
                let field = "distill.dkd.non_target_weight";
                control(
                    ui,
                    &mut m,
                    &mut p.non_target_weight,
                    w,
                    "b: NCKD weight",
                    field,
                );
                let (r, field) = (&ranges::RAMP_EPOCHS, "distill.dkd.warmup_epochs");
                control(ui, &mut m, &mut p.warmup_epochs, r, "Warm-up epochs", field);
                let text = "z-score the logits first (logit standardisation)";
                ui.checkbox(&mut p.standardise, text);
            }
            SoftLoss::Dist => {
                let p = &mut d.dist;
                let field = "distill.dist.inter_weight";
                control(
                    ui,
                    &mut m,
                    &mut p.inter_weight,
                    w,
                    "β: inter-class weight",
                    field,
                );
                let field = "distill.dist.intra_weight";
                control(
                    ui,
                    &mut m,
                    &mut p.intra_weight,
                    w,
                    "γ: intra-class weight",
                    field,
                );
            }
            SoftLoss::Ctkd => {
                let p = &mut d.ctkd;
                let r = &ranges::CTKD_T_START;
                control(
                    ui,
                    &mut m,
                    &mut p.t_start,
                    r,
                    "Lowest T",
                    "distill.ctkd.t_start",
                );
                let r = &ranges::CTKD_T_RANGE;
                control(
                    ui,
                    &mut m,
                    &mut p.t_range,
                    r,
                    "Range of T",
                    "distill.ctkd.t_range",
                );
                let r = &ranges::CTKD_THETA;
                control(
                    ui,
                    &mut m,
                    &mut p.theta,
                    r,
                    "Starting θ",
                    "distill.ctkd.theta",
                );
                let (r, field) = (&ranges::RAMP_EPOCHS, "distill.ctkd.ramp_epochs");
                control(
                    ui,
                    &mut m,
                    &mut p.ramp_epochs,
                    r,
                    "Reversal ramp epochs",
                    field,
                );
                let r = &ranges::CTKD_LR;
                control(
                    ui,
                    &mut m,
                    &mut p.lr,
                    r,
                    "θ learning rate",
                    "distill.ctkd.lr",
                );
            }
            SoftLoss::Nkd => {
                let field = "distill.nkd.gamma";
                control(
                    ui,
                    &mut m,
                    &mut d.nkd.gamma,
                    w,
                    "γ: non-target weight",
                    field,
                );
            }
            SoftLoss::LabelSmoothing | SoftLoss::TeacherFree => {
                let p = &mut d.virtual_teacher;
                let (r, field) = (
                    &ranges::CORRECT_PROB,
                    "distill.virtual_teacher.correct_prob",
                );
                control(
                    ui,
                    &mut m,
                    &mut p.correct_prob,
                    r,
                    "Probability on the label",
                    field,
                );
                if d.loss == SoftLoss::TeacherFree {
                    let (r, field) = (&ranges::MULTIPLIER, "distill.virtual_teacher.multiplier");
                    control(ui, &mut m, &mut p.multiplier, r, "Multiplier", field);
                }
            }
            SoftLoss::Kl
            | SoftLoss::SoftCrossEntropy
            | SoftLoss::LogitMse
            | SoftLoss::Standardised => {}
        }
        for (response, field) in m {
            self.problems.mark(response, field);
        }
    }

    fn weighting_ui(&mut self, ui: &mut Ui) {
        let d = &mut self.experiment.distill;
        let mut fixed = matches!(d.weighting, Weighting::Fixed { .. });
        ui.horizontal(|ui| {
            ui.label("Terms add up by");
            ui.radio_value(&mut fixed, false, "α")
                .on_hover_text("α·soft + (1 − α)·CE, as Hinton et al.");
            ui.radio_value(&mut fixed, true, "two weights")
                .on_hover_text(
                    "w_soft·soft + w_hard·CE, as DKD's and logit standardisation's code",
                );
        });
        match (fixed, &mut d.weighting) {
            (true, Weighting::Fixed { soft, hard }) => {
                let s = ranged(ui, soft, &ranges::TERM_WEIGHT, "w_soft");
                let h = ranged(ui, hard, &ranges::TERM_WEIGHT, "w_hard");
                self.problems.mark(s, "distill.weighting.soft");
                self.problems.mark(h, "distill.weighting.hard");
            }
            // Switching starts from the split α gives, so the loss is unchanged until edited.
            (true, w) => {
                *w = Weighting::Fixed {
                    soft: d.alpha,
                    hard: 1.0 - d.alpha,
                }
            }
            (false, w) => *w = Weighting::Alpha,
        }
    }
}

/// A ranged control for one hyper-parameter, remembered with its field for marking problems.
fn control<N: Numeric>(
    ui: &mut Ui,
    marks: &mut Vec<(Response, &'static str)>,
    value: &mut N,
    range: &Range<N>,
    text: &str,
    field: &'static str,
) {
    marks.push((ranged(ui, value, range, text), field));
}

/// One line on what a method does differently, for the chooser's tooltips.
pub fn method_blurb(loss: SoftLoss) -> &'static str {
    match loss {
        SoftLoss::Kl => "Hinton et al. 2015: match the teacher's softened distribution",
        SoftLoss::SoftCrossEntropy => "KL plus the teacher's entropy: same gradients, offset loss",
        SoftLoss::LogitMse => "Buciluă et al. 2006: regress the zero-mean logits",
        SoftLoss::Dkd => {
            "Zhao et al. 2022: weigh the target-class and non-target parts of KD apart"
        }
        SoftLoss::Dist => "Huang et al. 2022: match correlations, per example and per class",
        SoftLoss::Standardised => {
            "Sun et al. 2024: KD on z-scored logits, so only their relations count"
        }
        SoftLoss::Ctkd => "Li et al. 2023: T is learned against the student, easy to hard",
        SoftLoss::Nkd => "Yang et al. 2023: target term plus renormalised non-target KD",
        SoftLoss::LabelSmoothing => "no teacher: cross-entropy with smoothed labels (the control)",
        SoftLoss::TeacherFree => {
            "Yuan et al. 2020: KD from a hand-made virtual teacher (the control)"
        }
    }
}

/// The loss with the current numbers written in.
pub fn formula_ui(ui: &mut Ui, exp: &Experiment) {
    let (general, numbers, notes) = formula_lines(exp);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(general).monospace());
        ui.label(RichText::new(numbers).monospace().strong());
        for note in notes {
            ui.label(RichText::new(note).italics());
        }
    });
}
