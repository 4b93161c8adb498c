//! Results over seeds: mean ± sample standard deviation per setting, the gain over the
//! baseline and how many seeds it won. One run is an anecdote; these are the numbers a sweep
//! reports.

use super::grid::{Grid, Setting};
use super::rows::CellRow;
use serde::{Deserialize, Serialize};

/// Mean and sample standard deviation (n − 1) of some values; the deviation is absent for
/// fewer than two.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: Option<f64>,
    pub n: usize,
}

impl MeanStd {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let std = (n > 1).then(|| {
            let ss: f64 = v.iter().map(|x| (x - mean).powi(2)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Some(MeanStd { mean, std, n })
    }

    /// `86.03 ± 0.81` for accuracies given as fractions, in percent.
    pub fn percent(&self) -> String {
        match self.std {
            Some(s) => format!("{:.2} ± {:.2}", 100.0 * self.mean, 100.0 * s),
            None => format!("{:.2}", 100.0 * self.mean),
        }
    }

    /// `0.033 ± 0.013`, for values that are not percentages (ECE).
    pub fn decimal(&self) -> String {
        match self.std {
            Some(s) => format!("{:.3} ± {:.3}", self.mean, s),
            None => format!("{:.3}", self.mean),
        }
    }

    /// `109.3 ± 12.1`, for counts (errors) and biases.
    pub fn count(&self) -> String {
        match self.std {
            Some(s) => format!("{:.1} ± {:.1}", self.mean, s),
            None => format!("{:.1}", self.mean),
        }
    }

    /// `+5.62 ± 1.10` points.
    pub fn points(&self) -> String {
        match self.std {
            Some(s) => format!("{:+.2} ± {:.2}", 100.0 * self.mean, 100.0 * s),
            None => format!("{:+.2}", 100.0 * self.mean),
        }
    }
}

/// One setting's results over its seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    pub loss: String,
    /// The whole teacher, or the ensemble's best member.
    #[serde(default)]
    pub distilled_from: super::grid::TeacherChoice,
    pub temperature: f64,
    pub alpha: f64,
    pub seeds: usize,
    pub student: Option<MeanStd>,
    pub student_best: Option<MeanStd>,
    pub baseline: Option<MeanStd>,
    pub teacher: Option<MeanStd>,
    pub gain: Option<MeanStd>,
    /// Seeds on which the student's last-epoch accuracy beat the baseline's.
    pub wins: usize,
    pub ece: Option<MeanStd>,
}

/// The summaries of every setting of `grid` that has at least one finished cell.
pub fn summarise(grid: &Grid, rows: &[CellRow]) -> Vec<CellSummary> {
    grid.settings()
        .iter()
        .filter_map(|s| summarise_setting(s, rows))
        .collect()
}

fn summarise_setting(s: &Setting, rows: &[CellRow]) -> Option<CellSummary> {
    let mine: Vec<&CellRow> = rows
        .iter()
        .filter(|r| r.cell().is_some_and(|c| c.setting().same(s)))
        .collect();
    if mine.is_empty() {
        return None;
    }
    let of = |f: &dyn Fn(&CellRow) -> Option<f32>| {
        MeanStd::of(mine.iter().filter_map(|r| f(r)).map(f64::from))
    };
    Some(CellSummary {
        loss: s.loss.short().to_string(),
        distilled_from: s.teacher,
        temperature: s.temperature,
        alpha: s.alpha,
        seeds: mine.len(),
        student: of(&|r| Some(r.student_accuracy)),
        student_best: of(&|r| Some(r.student_best_accuracy)),
        baseline: of(&|r| r.baseline_accuracy),
        teacher: of(&|r| r.teacher_accuracy),
        gain: of(&|r| r.gain),
        wins: mine
            .iter()
            .filter(|r| r.gain.is_some_and(|g| g > 0.0))
            .count(),
        ece: of(&|r| r.ece),
    })
}

impl CellSummary {
    pub fn method_label(&self) -> String {
        method_label(&self.loss, self.distilled_from)
    }
}

/// `kd`, or `kd, best member` for a student of the ensemble's best member.
pub fn method_label(loss: &str, teacher: super::grid::TeacherChoice) -> String {
    match teacher {
        super::grid::TeacherChoice::Whole => loss.to_string(),
        super::grid::TeacherChoice::BestMember => format!("{loss}, best member"),
    }
}

/// For each setting distilled from both the whole ensemble and its best member: the whole
/// ensemble's student minus the best member's, seed by seed (the same seeds, the same
/// baseline and initial weights), as mean ± std points and the seeds the ensemble won.
pub fn whole_against_best_member(rows: &[CellRow]) -> Vec<String> {
    use super::grid::TeacherChoice::{BestMember, Whole};
    let mut lines = Vec::new();
    let mut seen: Vec<(String, u64, u64)> = Vec::new();
    for r in rows.iter().filter(|r| r.teacher == Whole) {
        let key = (r.loss.clone(), r.temperature.to_bits(), r.alpha.to_bits());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let same = |a: &CellRow, b: &CellRow| {
            a.loss == b.loss
                && a.temperature.to_bits() == b.temperature.to_bits()
                && a.alpha.to_bits() == b.alpha.to_bits()
        };
        let diffs: Vec<f64> = rows
            .iter()
            .filter(|w| w.teacher == Whole && same(w, r))
            .filter_map(|w| {
                let b = rows
                    .iter()
                    .find(|b| b.teacher == BestMember && b.seed == w.seed && same(b, w))?;
                Some(f64::from(w.student_accuracy - b.student_accuracy))
            })
            .collect();
        let Some(m) = MeanStd::of(diffs.iter().copied()) else {
            continue;
        };
        let wins = diffs.iter().filter(|&&d| d > 0.0).count();
        lines.push(format!(
            "{} T={} α={}: the whole ensemble's student minus its best member's {} points; the \
             ensemble won on {wins} of {} seeds",
            r.loss,
            r.temperature,
            r.alpha,
            m.points(),
            diffs.len()
        ));
    }
    lines
}

/// `cells.csv`: one line per setting, accuracies as fractions.
pub fn cells_csv(summaries: &[CellSummary]) -> String {
    let mut out = String::from(
        "loss,teacher,temperature,alpha,seeds,student_mean,student_std,student_best_mean,\
         student_best_std,baseline_mean,baseline_std,teacher_mean,gain_mean,gain_std,wins,\
         ece_mean,ece_std\n",
    );
    let m = |v: &Option<MeanStd>| v.map_or(String::new(), |v| v.mean.to_string());
    let s = |v: &Option<MeanStd>| {
        v.and_then(|v| v.std)
            .map_or(String::new(), |s| s.to_string())
    };
    for c in summaries {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            c.loss,
            c.distilled_from.short(),
            c.temperature,
            c.alpha,
            c.seeds,
            m(&c.student),
            s(&c.student),
            m(&c.student_best),
            s(&c.student_best),
            m(&c.baseline),
            s(&c.baseline),
            m(&c.teacher),
            m(&c.gain),
            s(&c.gain),
            c.wins,
            m(&c.ece),
            s(&c.ece),
        ));
    }
    out
}

/// The table a sweep prints: one line per setting.
pub fn table(summaries: &[CellSummary]) -> String {
    let dash = || "–".to_string();
    let w = summaries
        .iter()
        .map(|c| c.method_label().chars().count())
        .fold(7, usize::max);
    let mut lines = vec![format!(
        "{:<w$} {:>6} {:>5} {:>5}  {:>15} {:>15} {:>15} {:>15} {:>5} {:>13}",
        "method",
        "T",
        "α",
        "seeds",
        "student (last)",
        "student (best)",
        "baseline",
        "gain (points)",
        "wins",
        "ECE"
    )];
    for c in summaries {
        lines.push(format!(
            "{:<w$} {:>6} {:>5} {:>5}  {:>15} {:>15} {:>15} {:>15} {:>5} {:>13}",
            c.method_label(),
            c.temperature,
            c.alpha,
            c.seeds,
            c.student.map_or_else(dash, |v| v.percent()),
            c.student_best.map_or_else(dash, |v| v.percent()),
            c.baseline.map_or_else(dash, |v| v.percent()),
            c.gain.map_or_else(dash, |v| v.points()),
            format!("{}/{}", c.wins, c.seeds),
            c.ece.map_or_else(dash, |v| v.decimal()),
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_deviation_by_hand() {
        let m = MeanStd::of([0.80, 0.82, 0.84]).unwrap();
        assert!((m.mean - 0.82).abs() < 1e-12);
        // Sample variance: (0.0004 + 0 + 0.0004) / 2 = 0.0004.
        assert!((m.std.unwrap() - 0.02).abs() < 1e-12);
        assert_eq!(m.percent(), "82.00 ± 2.00");
        assert_eq!(m.decimal(), "0.820 ± 0.020");
        let one = MeanStd::of([0.05]).unwrap();
        assert_eq!((one.std, one.points()), (None, "+5.00".to_string()));
        assert_eq!(MeanStd::of([f64::NAN]), None);
    }
}
