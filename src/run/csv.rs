//! The CSV files of a run: `metrics.csv` (one row per step) and `epochs.csv` (one per
//! evaluation), written and read back.

use crate::config::SoftLoss;
use crate::train::{EpochMetrics, StepMetrics};

pub const STEPS_HEADER: &str = "phase,step,epoch,soft_loss,hard_loss,total_loss,temperature,alpha";
pub const EPOCHS_HEADER: &str = "phase,epoch,step,test_accuracy,test_loss,train_loss,agreement_with_teacher,kl_to_teacher,seconds";

/// The header of `metrics.csv` for a run of `loss`: the method's own terms (DKD's TCKD and
/// NCKD, CTKD's learned T, …) follow the common columns, named.
pub fn steps_header(loss: SoftLoss) -> String {
    match loss.term_names() {
        Some([a, b]) => format!("{STEPS_HEADER},{a},{b}"),
        None => STEPS_HEADER.to_string(),
    }
}

/// Step-level losses; an empty cell where a phase has no soft loss (or no such term).
pub fn steps_csv(steps: &[StepMetrics], loss: SoftLoss) -> String {
    let mut out = steps_header(loss);
    out.push('\n');
    let with_terms = loss.term_names().is_some();
    for s in steps {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}",
            s.phase.name(),
            s.step,
            s.epoch,
            cell(s.soft),
            cell(s.hard),
            cell(s.total),
            s.temperature,
            s.alpha
        ));
        if with_terms {
            out.push_str(&format!(",{},{}", cell(s.terms[0]), cell(s.terms[1])));
        }
        out.push('\n');
    }
    out
}

pub fn epochs_csv(epochs: &[EpochMetrics]) -> String {
    let mut out = String::from(EPOCHS_HEADER);
    out.push('\n');
    for e in epochs {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{:.3}\n",
            e.phase.name(),
            e.epoch,
            e.step,
            e.test_accuracy,
            e.test_loss,
            cell(e.train_loss),
            e.agreement,
            e.kl_to_teacher,
            e.seconds
        ));
    }
    out
}

fn cell(v: f32) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

fn phase_from(name: &str) -> Option<crate::train::Phase> {
    crate::train::Phase::from_name(name)
}

fn num(cell: &str) -> f32 {
    cell.parse().unwrap_or(f32::NAN)
}

fn csv_rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.is_empty())
        .map(|(i, l)| (i + 1, l.split(',').collect()))
}

/// Parse a `metrics.csv` written by [`steps_csv`], with or without the method's terms.
pub fn parse_steps(text: &str) -> Result<Vec<StepMetrics>, String> {
    csv_rows(text)
        .map(|(line, c)| {
            let phase = phase_from(c[0]).filter(|_| c.len() == 8 || c.len() == 10);
            let phase = phase.ok_or(format!("metrics.csv line {line} is not a step row"))?;
            let term = |i: usize| c.get(i).map_or(f32::NAN, |v| num(v));
            Ok(StepMetrics {
                phase,
                step: c[1].parse().unwrap_or(0),
                epoch: c[2].parse().unwrap_or(0),
                soft: num(c[3]),
                hard: num(c[4]),
                total: num(c[5]),
                temperature: num(c[6]),
                alpha: num(c[7]),
                terms: [term(8), term(9)],
            })
        })
        .collect()
}

/// Parse an `epochs.csv` written by [`epochs_csv`].
pub fn parse_epochs(text: &str) -> Result<Vec<EpochMetrics>, String> {
    csv_rows(text)
        .map(|(line, c)| {
            let phase = phase_from(c[0]).filter(|_| c.len() == 9);
            let phase = phase.ok_or(format!("epochs.csv line {line} is not an epoch row"))?;
            Ok(EpochMetrics {
                phase,
                epoch: c[1].parse().unwrap_or(0),
                step: c[2].parse().unwrap_or(0),
                test_accuracy: num(c[3]),
                test_loss: num(c[4]),
                train_loss: num(c[5]),
                agreement: num(c[6]),
                kl_to_teacher: num(c[7]),
                seconds: num(c[8]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Phase;

    #[test]
    fn step_csv_round_trips() {
        let steps = vec![
            StepMetrics {
                phase: Phase::Teacher { member: 1, of: 3 },
                step: 1,
                epoch: 1,
                soft: f32::NAN,
                hard: 2.5,
                total: 2.5,
                temperature: 4.0,
                alpha: 0.9,
                terms: [f32::NAN; 2],
            },
            StepMetrics {
                phase: Phase::Student,
                step: 7,
                epoch: 2,
                soft: 0.5,
                hard: 1.0,
                total: 0.55,
                temperature: 4.0,
                alpha: 0.9,
                terms: [0.25, 0.125],
            },
        ];
        let text = steps_csv(&steps, SoftLoss::Dkd);
        assert!(
            text.starts_with(&format!("{STEPS_HEADER},tckd,nckd\n")),
            "{text}"
        );
        let back = parse_steps(&text).unwrap();
        assert_eq!(back[0].phase, steps[0].phase);
        assert!(back[0].soft.is_nan() && back[0].terms[0].is_nan());
        assert_eq!(back[1], steps[1]);
        // Plain KD has no terms of its own: the file keeps its eight columns.
        let plain = steps_csv(&steps, SoftLoss::Kl);
        assert_eq!(plain.lines().nth(2).unwrap().split(',').count(), 8);
        assert!(parse_steps(&plain).unwrap()[1].terms[0].is_nan());
    }
}
