//! The rows a sweep writes as it goes: `sweep.csv`, one per finished cell, and `seeds.csv`,
//! one per seed's teacher and baseline. Best-epoch and last-epoch accuracy stay in columns of
//! their own; they are never mixed.

use super::grid::{Cell, TeacherChoice};
use crate::config::SoftLoss;
use crate::train::EpochMetrics;
use crate::train::sweep::{SeedRun, StudentRun};
use serde::{Deserialize, Serialize};

/// One finished cell: the student's numbers beside its seed's baseline and teacher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellRow {
    pub seed: u64,
    /// The method's short name (`kd`, `dkd`, …).
    pub loss: String,
    /// The teacher distilled: `whole`, or the ensemble's `best-member`.
    #[serde(default)]
    pub teacher: TeacherChoice,
    pub temperature: f64,
    pub alpha: f64,
    /// Test accuracy after the last epoch.
    pub student_accuracy: f32,
    /// The best test accuracy over the epochs, and its epoch (for reference only: picking it
    /// uses the test set).
    pub student_best_accuracy: f32,
    pub student_best_epoch: usize,
    pub baseline_accuracy: Option<f32>,
    pub baseline_best_accuracy: Option<f32>,
    pub teacher_accuracy: Option<f32>,
    /// Student minus baseline, last epoch, in accuracy (not points).
    pub gain: Option<f32>,
    pub agreement_with_teacher: Option<f32>,
    pub kl_to_teacher: Option<f32>,
    pub ece: Option<f32>,
    pub baseline_ece: Option<f32>,
    pub wall_seconds: f64,
    /// With omitted classes and a validation split: the student's test errors in all and on
    /// the omitted classes, before and after the bias correction, and the bias (the mean
    /// over the omitted classes; one class's own bias when one is omitted).
    #[serde(default)]
    pub test_errors: Option<usize>,
    #[serde(default)]
    pub omitted_errors: Option<usize>,
    #[serde(default)]
    pub corrected_test_errors: Option<usize>,
    #[serde(default)]
    pub corrected_omitted_errors: Option<usize>,
    #[serde(default)]
    pub bias: Option<f32>,
}

/// One seed's teacher and baseline, shared by all of its cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRow {
    pub seed: u64,
    pub teacher_accuracy: Option<f32>,
    pub teacher_ece: Option<f32>,
    pub baseline_accuracy: Option<f32>,
    pub baseline_best_accuracy: Option<f32>,
    pub baseline_best_epoch: Option<usize>,
    pub baseline_ece: Option<f32>,
}

impl SeedRow {
    pub fn from_run(seed: u64, run: &SeedRun) -> Self {
        let best = best_epoch(&run.baseline_epochs);
        SeedRow {
            seed,
            teacher_accuracy: run.teacher.test_accuracy,
            teacher_ece: run.teacher.ece,
            baseline_accuracy: run.baseline.as_ref().and_then(|b| b.test_accuracy),
            baseline_best_accuracy: best.map(|b| b.1),
            baseline_best_epoch: best.map(|b| b.0),
            baseline_ece: run.baseline.as_ref().and_then(|b| b.ece),
        }
    }
}

impl CellRow {
    /// The row of a finished student, or `None` if it never measured anything.
    pub fn new(cell: &Cell, student: &StudentRun, seed: &SeedRow) -> Option<Self> {
        let accuracy = student.report.test_accuracy?;
        let (best_epoch, best) = best_epoch(&student.epochs).unwrap_or((0, accuracy));
        let fix = student.report.bias_correction.as_ref();
        let sum = |v: &[usize]| v.iter().sum::<usize>();
        Some(CellRow {
            seed: cell.seed,
            loss: cell.loss.short().to_string(),
            teacher: cell.teacher,
            temperature: cell.temperature,
            alpha: cell.alpha,
            student_accuracy: accuracy,
            student_best_accuracy: best,
            student_best_epoch: best_epoch,
            baseline_accuracy: seed.baseline_accuracy,
            baseline_best_accuracy: seed.baseline_best_accuracy,
            teacher_accuracy: student.teacher_accuracy.or(seed.teacher_accuracy),
            gain: seed.baseline_accuracy.map(|b| accuracy - b),
            agreement_with_teacher: student.report.agreement_with_teacher,
            kl_to_teacher: student.report.kl_to_teacher,
            ece: student.report.ece,
            baseline_ece: seed.baseline_ece,
            wall_seconds: student.report.wall_seconds,
            test_errors: fix.map(|c| c.test_errors_before),
            omitted_errors: fix.map(|c| sum(&c.omitted_errors_before)),
            corrected_test_errors: fix.map(|c| c.test_errors_after),
            corrected_omitted_errors: fix.map(|c| sum(&c.omitted_errors_after)),
            bias: fix.map(|c| c.biases.iter().sum::<f32>() / c.biases.len().max(1) as f32),
        })
    }

    pub fn cell(&self) -> Option<Cell> {
        Some(Cell {
            seed: self.seed,
            loss: SoftLoss::from_short(&self.loss)?,
            teacher: self.teacher,
            temperature: self.temperature,
            alpha: self.alpha,
        })
    }
}

/// `(epoch, accuracy)` of the most accurate epoch, the earliest of equals.
pub fn best_epoch(epochs: &[EpochMetrics]) -> Option<(usize, f32)> {
    epochs
        .iter()
        .fold(None, |best: Option<(usize, f32)>, e| match best {
            Some((_, a)) if a >= e.test_accuracy => best,
            _ => Some((e.epoch, e.test_accuracy)),
        })
}

/// Rows as CSV with a header.
pub fn to_csv<T: Serialize>(rows: &[T]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).expect("rows serialise");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("CSV is UTF-8")
}

/// Rows read back from CSV written by [`to_csv`]; the file named in errors.
pub fn from_csv<T: for<'de> Deserialize<'de>>(text: &str, file: &str) -> Result<Vec<T>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| format!("{file} line {}: {e}", i + 2)))
        .collect()
}
