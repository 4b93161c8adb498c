//! The phases of a run as reusable pieces: the teacher (trained, or loaded in setup) ends in a
//! [`FrozenTeacher`]; the baseline and the distilled student train against one. A run is
//! [`Trainer::teacher_phase`] then [`Trainer::student_phases`]; a sweep can train the teacher
//! once and call `student_phases` for many students with the same frozen teacher.

use super::eval::{Evaluation, ensemble_probs, predict_tensor};
use super::setup::Trainer;
use super::step::{Objective, PhaseResult};
use super::summary::{DistillSettings, ModelReport, PhaseStatus, RunFailure, Summary};
use super::{Event, Notice, NoticeKind, Outcome, Phase, Role, SetupInfo};
use crate::config::{Combine, TeacherConfig};
use crate::model::{ModelSize, Net, arch_size};
use burn::prelude::*;
use std::time::Instant;

/// The trained teacher, frozen: eval-mode members and their cached logits.
pub(crate) struct FrozenTeacher {
    pub(super) members: Vec<Net>,
    /// Each member's logits for every training example, on the device: `[train, classes]`.
    pub(super) train_logits: Vec<Tensor<2>>,
    /// The combined teacher's test-set probabilities at T = 1, on the host.
    pub(super) test_probs: Vec<f32>,
    pub(super) report: ModelReport,
}

/// A teacher phase that ended early: what exists of it, and why.
pub(crate) struct TeacherFailure {
    pub(super) report: ModelReport,
    pub(super) members: Vec<Net>,
    pub(super) error: Option<RunFailure>,
}

/// The students' models and reports, gathered for the outcome.
pub(crate) struct Students {
    pub(super) baseline: Option<Net>,
    pub(super) baseline_report: Option<ModelReport>,
    pub(super) student: Option<Net>,
    pub(super) student_report: Option<ModelReport>,
    /// What ended a student phase early (the first such failure).
    pub(super) error: Option<RunFailure>,
}

impl Trainer<'_> {
    /// Every phase in turn: the teacher, then the baseline and the student against it.
    pub(super) fn run(&mut self, setup: SetupInfo, started: Instant) -> Outcome {
        match self.teacher_phase() {
            Ok(teacher) => {
                let students = self.student_phases(&teacher);
                let FrozenTeacher {
                    members, report, ..
                } = teacher;
                self.outcome_with(setup, started, report, members, students)
            }
            Err(failure) => {
                let TeacherFailure {
                    report,
                    members,
                    error,
                } = *failure;
                let none = Students {
                    baseline: None,
                    baseline_report: None,
                    student: None,
                    student_report: None,
                    error,
                };
                self.outcome_with(setup, started, report, members, none)
            }
        }
    }

    fn outcome_with(
        &mut self,
        setup: SetupInfo,
        started: Instant,
        teacher: ModelReport,
        members: Vec<Net>,
        models: Students,
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
                weighting: match self.exp.distill.weighting {
                    crate::config::Weighting::Alpha => "Alpha".into(),
                    crate::config::Weighting::Fixed { soft, hard } => {
                        format!("Fixed(soft: {soft}, hard: {hard})")
                    }
                },
            },
            compression_ratio: teacher.parameters as f64 / student_parameters as f64,
            teacher,
            teacher_members: self.exp.teacher.members.len(),
            baseline: models.baseline_report,
            student: models.student_report,
            wall_seconds: started.elapsed().as_secs_f64(),
            stopped: self.control.is_stopped(),
            error: models.error,
            dark_knowledge: self.dark_knowledge(),
            ensemble: self.ensemble_report(),
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

    /// Each teacher member's test accuracy and the ensemble's under both rules, when the
    /// teacher has more than one member.
    fn ensemble_report(&self) -> Option<super::summary::EnsembleReport> {
        let l = self.logits.iter().rev().find(|l| l.role == Role::Teacher)?;
        if l.members.len() < 2 {
            return None;
        }
        let labels = &self.splits.test.labels;
        let accuracy = |members: &[Vec<f32>], combine: Combine| {
            let probs = ensemble_probs(members, l.classes, combine);
            Evaluation::new(&probs, labels, l.classes, None).accuracy
        };
        Some(super::summary::EnsembleReport {
            members: l
                .members
                .iter()
                .map(|m| accuracy(std::slice::from_ref(m), Combine::MeanLogits))
                .collect(),
            mean_probabilities: accuracy(&l.members, Combine::MeanProbabilities),
            mean_logits: accuracy(&l.members, Combine::MeanLogits),
        })
    }

    /// The teacher's and the student's mean soft targets per true class at the run's final T.
    fn dark_knowledge(&self) -> Option<crate::distill::dark::DarkKnowledge> {
        use crate::distill::dark::{DarkKnowledge, mean_soft_targets, optional};
        let t = self
            .history
            .weight_changes
            .last()
            .map_or(self.exp.distill.temperature as f32, |c| c.1);
        let labels = &self.splits.test.labels;
        let of = |role: Role, combine: Combine| {
            let l = self.logits.iter().rev().find(|l| l.role == role)?;
            Some(optional(mean_soft_targets(
                &l.members, combine, labels, l.classes, t,
            )))
        };
        Some(DarkKnowledge {
            temperature: t,
            teacher: of(Role::Teacher, self.exp.teacher.combine)?,
            student: of(Role::Student, Combine::MeanLogits),
        })
    }

    // ----- teacher -------------------------------------------------------------------------

    /// Train every member (or take the members setup loaded), then freeze the ensemble and
    /// cache its logits on the training set.
    pub(crate) fn teacher_phase(&mut self) -> Result<FrozenTeacher, Box<TeacherFailure>> {
        let t0 = Instant::now();
        let cfg = &self.exp.teacher;
        let count = cfg.members.len();
        let size = self.teacher_size();
        let name = teacher_name(cfg);
        let mut report = ModelReport::empty(&name, size, cfg.epochs);
        let mut members = Vec::with_capacity(count);
        if let Some(loaded) = self.loaded_teacher.take() {
            members = loaded;
            report.status = PhaseStatus::Loaded;
            let dir = cfg.weights.as_deref().unwrap_or(std::path::Path::new("?"));
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
        let logits_start = Instant::now();
        // On a pool's worker, as training runs, so that the large products fork and join there.
        let train_logits = super::pool::install(|| {
            frozen
                .iter()
                .map(|m| predict_tensor(m, &self.train_x))
                .collect()
        });
        // A lazy device (wgpu) has only queued the work; the time is the work's.
        let _ = self.device.sync();
        report.logits_seconds = Some(logits_start.elapsed().as_secs_f64());
        Ok(FrozenTeacher {
            members: frozen,
            train_logits,
            test_probs,
            report,
        })
    }

    /// The member of `teacher` with the highest test accuracy (the first of equals), frozen
    /// alone with its own cached logits and its own report.
    pub(crate) fn best_member(&self, teacher: &FrozenTeacher) -> FrozenTeacher {
        let labels = &self.splits.test.labels;
        let test = self.logits.iter().rev().find(|l| l.role == Role::Teacher);
        let evaluations: Vec<Evaluation> = test
            .map(|l| {
                l.members
                    .iter()
                    .map(|m| {
                        let probs =
                            ensemble_probs(std::slice::from_ref(m), l.classes, Combine::MeanLogits);
                        Evaluation::new(&probs, labels, l.classes, None)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let best = (0..evaluations.len())
            .fold(None, |best: Option<usize>, k| match best {
                Some(b) if evaluations[b].accuracy >= evaluations[k].accuracy => best,
                _ => Some(k),
            })
            .unwrap_or(0);
        let mut report = teacher.report.clone();
        report.architecture = format!("member {} of {}", best + 1, teacher.members.len());
        let test_probs = match (test, evaluations.get(best)) {
            (Some(l), Some(e)) => {
                report.set_evaluation(e);
                ensemble_probs(&l.members[best..=best], l.classes, Combine::MeanLogits)
            }
            _ => teacher.test_probs.clone(),
        };
        FrozenTeacher {
            members: vec![teacher.members[best].clone()],
            train_logits: vec![teacher.train_logits[best].clone()],
            test_probs,
            report,
        }
    }

    // ----- baseline and student -------------------------------------------------------------

    /// The baseline, then the distilled student, both against `teacher`. The student does
    /// not depend on the baseline: it trains even when the baseline diverged, and only a
    /// stop skips it.
    pub(crate) fn student_phases(&mut self, teacher: &FrozenTeacher) -> Students {
        self.teacher_test_probs = Some(teacher.test_probs.clone());
        let size = arch_size(&self.exp.student, self.io);
        let (baseline, baseline_report, baseline_error) = self.baseline_phase(teacher);
        let (student, student_report, student_error) = if self.control.is_stopped() {
            let skipped =
                ModelReport::empty(&self.exp.student.short_name(), size, self.exp.train.epochs);
            (None, Some(skipped), None)
        } else {
            let result = self.train_student(teacher);
            let report = self.student_report(&result, teacher, size);
            (result.model, Some(report), result.error)
        };
        Students {
            baseline,
            baseline_report,
            student,
            student_report,
            error: baseline_error.or(student_error),
        }
    }

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
    pub(super) fn baseline_phase(
        &mut self,
        teacher: &FrozenTeacher,
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
                Some(ModelReport::empty(
                    &self.exp.student.short_name(),
                    size,
                    epochs,
                )),
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

    pub(super) fn train_student(&mut self, teacher: &FrozenTeacher) -> PhaseResult {
        let loss = self.exp.distill.loss;
        if !self.transfer.labeled && loss.needs_labels() && loss.uses_teacher() {
            (self.sink)(Event::Notice(Notice::new(
                NoticeKind::LabelStandIn,
                format!(
                    "{} uses the true label inside its loss; the transfer set is unlabeled, so \
                     the teacher's predicted class stands in for it",
                    loss.name()
                ),
            )));
        }
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

    pub(super) fn student_report(
        &self,
        result: &PhaseResult,
        teacher: &FrozenTeacher,
        size: ModelSize,
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
            report.bias_correction = result
                .model
                .as_ref()
                .and_then(|model| self.bias_correction(model, logits));
        }
        report
    }

    /// Hinton's bias fix for the omitted classes, chosen on the validation split, when the
    /// transfer set omits classes and a validation split exists (else `None`).
    fn bias_correction(
        &self,
        model: &Net,
        test_logits: &[f32],
    ) -> Option<super::bias::BiasCorrection> {
        let classes = self.exp.transfer.omitted();
        let held = &self.transfer.validation;
        if classes.is_empty() || held.is_empty() {
            return None;
        }
        let x = self
            .train_x
            .clone()
            .select(0, super::setup::rows_tensor(held, &self.device));
        let val_logits = super::eval::predict(&model.valid(), &x);
        let val_labels: Vec<u32> = held.iter().map(|&i| self.splits.train.labels[i]).collect();
        Some(super::bias::correct(
            (&val_logits, &val_labels),
            (test_logits, &self.splits.test.labels),
            self.io.classes,
            &classes,
        ))
    }
}

impl ModelReport {
    pub(super) fn empty(architecture: &str, size: ModelSize, epochs: usize) -> Self {
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
            logits_seconds: None,
            per_class_accuracy: Vec::new(),
            confusion: Vec::new(),
            ece: None,
            reliability: Vec::new(),
            bias_correction: None,
        }
    }

    pub(super) fn set_evaluation(&mut self, e: &Evaluation) {
        self.test_accuracy = Some(e.accuracy);
        self.test_loss = Some(e.loss);
        self.agreement_with_teacher = Some(e.agreement);
        self.kl_to_teacher = Some(e.kl_to_teacher);
        self.per_class_accuracy = e.per_class_accuracy.clone();
        self.confusion = e.confusion.clone();
        self.ece = Some(e.ece);
        self.reliability = e.reliability.clone();
    }
}

fn teacher_name(cfg: &TeacherConfig) -> String {
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
