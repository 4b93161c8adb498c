//! One test example taken apart the way the run's method sees it, on plain `f32` slices for
//! the window: DKD's target and non-target parts, logit standardisation's raw and z-scored
//! logits, DIST's two correlation terms, and for KD each class's share of the KL.

use super::host::{kl, softmax};
use crate::config::{DistillConfig, SoftLoss};

/// Bars of one chart: a name per bar, and one series per model.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub bars: Vec<String>,
    /// `(model, values)`, teacher first.
    pub series: Vec<(&'static str, Vec<f32>)>,
}

/// What the window shows for an example: numbers in words, and charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Breakdown {
    pub lines: Vec<String>,
    pub charts: Vec<Chart>,
}

/// The inputs: one example's logits, its label, the class names, and for DIST's intra-class
/// term every test example's logits (`[n × classes]`, teacher's and student's).
pub struct Example<'a> {
    pub teacher: &'a [f32],
    pub student: &'a [f32],
    pub label: usize,
    pub names: &'a [String],
    pub all_teacher: &'a [f32],
    pub all_student: &'a [f32],
}

/// `(p_label, 1 − p_label)` and the distribution over the other classes, renormalised.
pub fn split_target(p: &[f32], label: usize) -> ([f32; 2], Vec<f32>) {
    let pt = p[label];
    let rest: f32 = 1.0 - pt;
    let others = p
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != label)
        .map(|(_, &v)| if rest > 0.0 { v / rest } else { 0.0 })
        .collect();
    ([pt, rest], others)
}

/// `(z − mean) / (std + 1e-7)`, std with Bessel's correction as in the reference.
pub fn standardise(z: &[f32]) -> Vec<f32> {
    let n = z.len() as f32;
    let mean = z.iter().sum::<f32>() / n;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0).max(1.0);
    z.iter().map(|v| (v - mean) / (var.sqrt() + 1e-7)).collect()
}

/// Pearson correlation as DIST's reference computes it: the cosine of the centred vectors.
pub fn pearson(a: &[f32], b: &[f32]) -> f32 {
    let ma = a.iter().sum::<f32>() / a.len() as f32;
    let mb = b.iter().sum::<f32>() / b.len() as f32;
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    dot / (na.sqrt() * nb.sqrt() + 1e-8)
}

fn others(names: &[String], label: usize) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != label)
        .map(|(_, n)| n.clone())
        .collect()
}

/// The breakdown of `ex` for the run's settings; `t` is the temperature the run used (CTKD's
/// last learned one).
pub fn breakdown(d: &DistillConfig, ex: &Example, t: f32) -> Breakdown {
    match d.loss {
        SoftLoss::Dkd => dkd(ex, t, d),
        SoftLoss::Standardised => standardised(ex, t),
        SoftLoss::Dist => dist(ex, t),
        _ => kd_shares(ex, t, d.loss),
    }
}

fn dkd(ex: &Example, t: f32, d: &DistillConfig) -> Breakdown {
    let (zt, zs) = if d.dkd.standardise {
        (standardise(ex.teacher), standardise(ex.student))
    } else {
        (ex.teacher.to_vec(), ex.student.to_vec())
    };
    let (bt, nt) = split_target(&softmax(&zt, t), ex.label);
    let (bs, ns) = split_target(&softmax(&zs, t), ex.label);
    let t2 = t * t;
    let tckd = t2 * kl(&bt, &bs);
    let nckd = t2 * kl(&nt, &ns);
    let label = ex.names.get(ex.label).cloned().unwrap_or_default();
    Breakdown {
        lines: vec![
            format!(
                "TCKD = T²·KL(b_t || b_s) = {tckd:.4}: how sure each model is of \"{label}\" at T = {t}"
            ),
            format!(
                "NCKD = T²·KL over the other classes = {nckd:.4}: the dark knowledge, weighted b = {} against a = {}",
                d.dkd.non_target_weight, d.dkd.target_weight
            ),
        ],
        charts: vec![
            Chart {
                title: format!("target class \"{label}\" against all the others"),
                bars: vec![label.clone(), "all others".into()],
                series: vec![("teacher", bt.to_vec()), ("student", bs.to_vec())],
            },
            Chart {
                title: "the other classes, renormalised (what NCKD matches)".into(),
                bars: others(ex.names, ex.label),
                series: vec![("teacher", nt), ("student", ns)],
            },
        ],
    }
}

fn standardised(ex: &Example, t: f32) -> Breakdown {
    let (st, ss) = (standardise(ex.teacher), standardise(ex.student));
    let raw = t * t * kl(&softmax(ex.teacher, t), &softmax(ex.student, t));
    let z = t * t * kl(&softmax(&st, t), &softmax(&ss, t));
    let names = ex.names.to_vec();
    Breakdown {
        lines: vec![
            format!("KD at T = {t} on the raw logits: {raw:.4}; on the z-scored logits: {z:.4}"),
            "z-scoring removes each model's logit scale and shift: only the classes' relative order and spacing are matched".into(),
        ],
        charts: vec![
            Chart {
                title: "raw logits".into(),
                bars: names.clone(),
                series: vec![("teacher", ex.teacher.to_vec()), ("student", ex.student.to_vec())],
            },
            Chart {
                title: "z-scored logits (z − mean) / std".into(),
                bars: names,
                series: vec![("teacher", st), ("student", ss)],
            },
        ],
    }
}

fn dist(ex: &Example, tau: f32) -> Breakdown {
    let k = ex.teacher.len();
    let (pt, ps) = (softmax(ex.teacher, tau), softmax(ex.student, tau));
    let inter = 1.0 - pearson(&ps, &pt);
    let rows = ex.all_teacher.len() / k.max(1);
    let soft_rows = |all: &[f32]| -> Vec<Vec<f32>> {
        (0..rows)
            .map(|r| softmax(&all[r * k..(r + 1) * k], tau))
            .collect()
    };
    let (at, as_) = (soft_rows(ex.all_teacher), soft_rows(ex.all_student));
    let intra: Vec<f32> = (0..k)
        .map(|c| {
            let col = |m: &[Vec<f32>]| m.iter().map(|r| r[c]).collect::<Vec<f32>>();
            1.0 - pearson(&col(&as_), &col(&at))
        })
        .collect();
    let mean_intra = intra.iter().sum::<f32>() / k as f32;
    Breakdown {
        lines: vec![
            format!("inter-class term for this example: 1 − ρ(p_s, p_t) = {inter:.4}"),
            format!(
                "intra-class term over the {rows} test examples (training uses each batch): mean {mean_intra:.4}"
            ),
        ],
        charts: vec![
            Chart {
                title: format!(
                    "this example's distributions at τ = {tau} (their correlation is the inter-class term)"
                ),
                bars: ex.names.to_vec(),
                series: vec![("teacher", pt), ("student", ps)],
            },
            Chart {
                title: "intra-class term per class: 1 − ρ over the test set".into(),
                bars: ex.names.to_vec(),
                series: vec![("student", intra)],
            },
        ],
    }
}

/// KD and its relatives: each class's share `p_t·log(p_t/p_s)·T²` of the KL.
fn kd_shares(ex: &Example, t: f32, loss: SoftLoss) -> Breakdown {
    let (pt, ps) = (softmax(ex.teacher, t), softmax(ex.student, t));
    let shares: Vec<f32> = pt
        .iter()
        .zip(&ps)
        .map(|(&p, &q)| {
            if p > 0.0 {
                t * t * p * (p.ln() - q.max(1e-30).ln())
            } else {
                0.0
            }
        })
        .collect();
    let total: f32 = shares.iter().sum();
    let mut lines = vec![format!(
        "T²·KL(p_t || p_s) at T = {t} for this example: {total:.4}"
    )];
    if !loss.uses_teacher() {
        lines.push(format!(
            "{} does not use the teacher: this is what plain KD would see",
            loss.name()
        ));
    }
    Breakdown {
        lines,
        charts: vec![Chart {
            title: "each class's share of T²·KL (negative where the student puts more mass than the teacher)".into(),
            bars: ex.names.to_vec(),
            series: vec![("student", shares)],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distill::methods::{dist::dist_terms, dkd::dkd_terms};
    use burn::prelude::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|c| c.to_string()).collect()
    }

    /// The window's f32 DKD on one example equals the training loss's tensor DKD.
    #[test]
    fn host_dkd_matches_the_tensor_loss() {
        let zt = [4.0f32, -1.0, 2.5, 0.3];
        let zs = [1.0f32, 0.5, 2.0, -0.4];
        let d = DistillConfig {
            loss: SoftLoss::Dkd,
            ..DistillConfig::default()
        };
        let ns = names(4);
        let ex = Example {
            teacher: &zt,
            student: &zs,
            label: 2,
            names: &ns,
            all_teacher: &zt,
            all_student: &zs,
        };
        let b = breakdown(&d, &ex, 4.0);
        let dev = Device::flex();
        let terms = dkd_terms(
            Tensor::<2>::from_floats([zs], &dev),
            Tensor::<2>::from_floats([zt], &dev),
            Tensor::<1, Int>::from_ints([2], &dev),
            4.0,
        );
        let tckd: f32 = terms.target.into_scalar();
        let nckd: f32 = terms.non_target.into_scalar();
        assert!(
            b.lines[0].contains(&format!("{tckd:.4}")),
            "{} vs {tckd}",
            b.lines[0]
        );
        assert!(
            b.lines[1].contains(&format!("{nckd:.4}")),
            "{} vs {nckd}",
            b.lines[1]
        );
        let sum: f32 = b.charts[1].series[0].1.iter().sum();
        assert!(
            (sum - 1.0).abs() < 1e-5,
            "renormalised non-target mass {sum}"
        );
    }

    /// DIST's inter-class term for a one-example batch equals the tensor loss's.
    #[test]
    fn host_dist_inter_term_matches_the_tensor_loss() {
        let zt = [3.0f32, -2.0, 0.5];
        let zs = [0.2f32, 0.1, 1.5];
        let ns = names(3);
        let ex = Example {
            teacher: &zt,
            student: &zs,
            label: 0,
            names: &ns,
            all_teacher: &zt,
            all_student: &zs,
        };
        let d = DistillConfig {
            loss: SoftLoss::Dist,
            ..DistillConfig::default()
        };
        let b = breakdown(&d, &ex, 1.0);
        let dev = Device::flex();
        let terms = dist_terms(
            Tensor::<2>::from_floats([zs], &dev),
            Tensor::<2>::from_floats([zt], &dev),
            1.0,
        );
        let inter: f32 = terms.inter.into_scalar();
        assert!(
            b.lines[0].contains(&format!("{inter:.4}")),
            "{} vs {inter}",
            b.lines[0]
        );
    }

    #[test]
    fn z_scores_have_zero_mean_and_unit_sample_deviation() {
        let s = standardise(&[1.0, 2.0, 3.0, 6.0]);
        let mean: f32 = s.iter().sum::<f32>() / 4.0;
        let var: f32 = s.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{s:?}");
    }
}
