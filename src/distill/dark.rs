//! Dark knowledge (Hinton et al. 2015): a model's mean softened distribution over the test
//! examples of each true class, a classes × classes matrix. Off the diagonal it says which
//! classes the model thinks alike (which 3s look like 5s or 8s), structure that grows visible
//! as T rises.

use super::host::ensemble_softmax;
use crate::config::Combine;
use serde::{Deserialize, Serialize};

/// `matrix[true class][class]`: the mean of `softmax(z/T)` over that class's test examples
/// (a row of NaN for a class with none).
pub fn mean_soft_targets(
    members: &[Vec<f32>],
    combine: Combine,
    labels: &[u32],
    classes: usize,
    t: f32,
) -> Vec<Vec<f32>> {
    let mut sum = vec![vec![0f64; classes]; classes];
    let mut count = vec![0usize; classes];
    for (i, &label) in labels.iter().enumerate() {
        let rows: Option<Vec<&[f32]>> = members
            .iter()
            .map(|m| m.get(i * classes..(i + 1) * classes))
            .collect();
        let Some(rows) = rows else { break };
        let p = ensemble_softmax(&rows, combine, t);
        let c = label as usize;
        if c >= classes {
            continue;
        }
        count[c] += 1;
        for (s, v) in sum[c].iter_mut().zip(p) {
            *s += v as f64;
        }
    }
    sum.into_iter()
        .zip(count)
        .map(|(row, n)| {
            row.into_iter()
                .map(|s| {
                    if n == 0 {
                        f32::NAN
                    } else {
                        (s / n as f64) as f32
                    }
                })
                .collect()
        })
        .collect()
}

/// `a − b`, entry by entry (the student's dark knowledge against the teacher's).
pub fn difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<Vec<f32>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.iter().zip(y).map(|(x, y)| x - y).collect())
        .collect()
}

/// The largest magnitude off the diagonal (what a picture of the matrix is scaled to: the
/// diagonal, the true class's own mass, would drown the rest), at least 1e-6.
pub fn off_diagonal_max(m: &[Vec<f32>]) -> f32 {
    m.iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.iter()
                .enumerate()
                .filter(move |(j, _)| *j != r)
                .map(|(_, v)| v.abs())
        })
        .filter(|v| v.is_finite())
        .fold(1e-6f32, f32::max)
}

/// A run's dark knowledge at its temperature, for `summary.json` and the run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DarkKnowledge {
    pub temperature: f32,
    pub teacher: Vec<Vec<Option<f32>>>,
    pub student: Option<Vec<Vec<Option<f32>>>>,
}

/// NaN as `None`, for JSON.
pub fn optional(matrix: Vec<Vec<f32>>) -> Vec<Vec<Option<f32>>> {
    matrix
        .into_iter()
        .map(|r| r.into_iter().map(|v| (!v.is_nan()).then_some(v)).collect())
        .collect()
}

/// `dark_knowledge.csv`: one row per model and true class.
pub fn to_csv(d: &DarkKnowledge) -> String {
    let classes = d.teacher.len();
    let mut out = String::from("model,temperature,true_class");
    for c in 0..classes {
        out.push_str(&format!(",p{c}"));
    }
    out.push('\n');
    let mut rows = vec![("teacher", &d.teacher)];
    if let Some(s) = &d.student {
        rows.push(("student", s));
    }
    for (model, matrix) in rows {
        for (c, row) in matrix.iter().enumerate() {
            out.push_str(&format!("{model},{},{c}", d.temperature));
            for v in row {
                out.push_str(&v.map_or(",".to_string(), |v| format!(",{v}")));
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_picture_scales_to_the_largest_value_off_the_diagonal() {
        let a = vec![vec![0.9, 0.1], vec![-0.3, 0.7]];
        let b = vec![vec![0.8, 0.2], vec![0.1, 0.9]];
        assert_eq!(off_diagonal_max(&a), 0.3);
        let d = difference(&a, &b);
        assert!(
            (d[1][0] + 0.4).abs() < 1e-6 && (d[0][1] + 0.1).abs() < 1e-6,
            "{d:?}"
        );
        assert_eq!(off_diagonal_max(&[vec![f32::NAN]]), 1e-6);
    }

    #[test]
    fn rows_are_each_classes_mean_distribution() {
        // Two classes; class 0 has two examples, class 1 one; class 2 none.
        let logits = vec![2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 1.0, 1.0, 1.0];
        let labels = [0, 0, 1];
        let m = mean_soft_targets(&[logits], Combine::MeanLogits, &labels, 3, 1.0);
        let p = super::super::host::softmax(&[2.0, 0.0, 0.0], 1.0);
        let q = super::super::host::softmax(&[0.0, 2.0, 0.0], 1.0);
        for k in 0..3 {
            assert!((m[0][k] - (p[k] + q[k]) / 2.0).abs() < 1e-6);
            assert!((m[1][k] - 1.0 / 3.0).abs() < 1e-6);
        }
        assert!(m[2].iter().all(|v| v.is_nan()));
        let csv = to_csv(&DarkKnowledge {
            temperature: 1.0,
            teacher: optional(m),
            student: None,
        });
        assert_eq!(csv.lines().count(), 4);
        assert!(csv.lines().nth(3).unwrap().ends_with("2,,,"), "{csv}");
    }
}
