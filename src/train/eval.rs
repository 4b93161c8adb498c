//! Test-set evaluation: logits are computed on the device in chunks and read back once; the
//! measures are computed on the host from them.

use crate::config::Combine;
use crate::distill::host;
use crate::model::Net;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Rows per forward pass when evaluating, to bound memory on large test sets.
const EVAL_CHUNK: usize = 2048;

/// Logits of `model` (already in eval mode) for every row of `x`, kept on the device.
pub fn predict_tensor(model: &Net, x: &Tensor<2>) -> Tensor<2> {
    let [n, _] = x.dims();
    let chunks: Vec<Tensor<2>> = (0..n)
        .step_by(EVAL_CHUNK)
        .map(|start| {
            let end = (start + EVAL_CHUNK).min(n);
            model.forward(x.clone().slice(start..end))
        })
        .collect();
    Tensor::cat(chunks, 0)
}

/// Logits of `model` (already in eval mode) for every row of `x`, as one host buffer.
pub fn predict(model: &Net, x: &Tensor<2>) -> Vec<f32> {
    predict_tensor(model, x)
        .into_data()
        .try_to_vec::<f32>()
        .expect("logits are f32")
}

/// Class probabilities at T = 1 for each row, combining ensemble members as configured.
pub fn ensemble_probs(members: &[Vec<f32>], classes: usize, combine: Combine) -> Vec<f32> {
    let rows = members[0].len() / classes;
    let mut out = Vec::with_capacity(members[0].len());
    for r in 0..rows {
        let row: Vec<&[f32]> = members
            .iter()
            .map(|m| &m[r * classes..(r + 1) * classes])
            .collect();
        out.extend(host::ensemble_softmax(&row, combine, 1.0));
    }
    out
}

/// Test examples the gradient comparison of `distillery gradients` and the Diagnostics tab
/// uses: the first ones.
pub const GRADIENT_BATCH: usize = 256;

/// Hinton's high-temperature limit on a run's own test logits: the KD gradient against logit
/// matching's on the first [`GRADIENT_BATCH`] examples, teacher members averaged by logits.
pub fn gradient_comparison(
    teacher: &super::TestLogits,
    student: &super::TestLogits,
) -> Vec<crate::distill::gradients::GradientPoint> {
    use crate::distill::gradients::{compare, temperatures};
    let k = student.classes;
    let (t, s) = (teacher.mean_logits(), student.mean_logits());
    let n = (s.len() / k).min(t.len() / k).min(GRADIENT_BATCH);
    compare(&s[..n * k], &t[..n * k], k, &temperatures())
}

/// How a model does on the test set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub accuracy: f32,
    /// Mean cross-entropy.
    pub loss: f32,
    /// Share of examples whose predicted class is the teacher's (1 for the teacher itself).
    pub agreement: f32,
    /// Mean KL(p_teacher ‖ p_model).
    pub kl_to_teacher: f32,
    pub per_class_accuracy: Vec<f32>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<u32>>,
    /// Expected calibration error over [`ECE_BINS`] equal-width confidence bins.
    pub ece: f32,
    /// The reliability diagram behind `ece`, one entry per bin.
    pub reliability: Vec<ReliabilityBin>,
}

/// Equal-width confidence bins of the expected calibration error (Guo et al. 2017).
pub const ECE_BINS: usize = 15;

/// One bin of a reliability diagram: the examples whose top probability fell in it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub count: u32,
    /// Share of them predicted correctly (none for an empty bin).
    pub accuracy: Option<f32>,
    /// Their mean top probability (none for an empty bin).
    pub confidence: Option<f32>,
}

/// `ECE = Σ_b (n_b / n)·|accuracy_b − confidence_b|` over `bins` equal-width bins of the top
/// probability, bin `b` holding confidences in `(b/bins, (b+1)/bins]` (the first also 0).
pub fn calibration(
    confidences: &[f32],
    correct: &[bool],
    bins: usize,
) -> (f32, Vec<ReliabilityBin>) {
    let mut count = vec![0u32; bins];
    let mut hits = vec![0u32; bins];
    let mut conf_sum = vec![0f64; bins];
    for (&c, &ok) in confidences.iter().zip(correct) {
        // The first bin whose upper edge (in f32, as PyTorch's `linspace` has it) is at or
        // above the confidence: an edge value belongs to the lower bin.
        let b = (0..bins)
            .find(|&b| c <= (b + 1) as f32 / bins as f32)
            .unwrap_or(bins - 1);
        count[b] += 1;
        hits[b] += u32::from(ok);
        conf_sum[b] += c as f64;
    }
    let n = confidences.len().max(1) as f64;
    let mut ece = 0.0f64;
    let table = (0..bins)
        .map(|b| {
            if count[b] == 0 {
                return ReliabilityBin {
                    count: 0,
                    accuracy: None,
                    confidence: None,
                };
            }
            let k = count[b] as f64;
            let (acc, conf) = (hits[b] as f64 / k, conf_sum[b] / k);
            ece += k / n * (acc - conf).abs();
            ReliabilityBin {
                count: count[b],
                accuracy: Some(acc as f32),
                confidence: Some(conf as f32),
            }
        })
        .collect();
    (ece as f32, table)
}

impl Evaluation {
    /// Measure probabilities `probs` (`[n × classes]`) against `labels`, and against the
    /// teacher's probabilities when given.
    pub fn new(probs: &[f32], labels: &[u32], classes: usize, teacher: Option<&[f32]>) -> Self {
        let mut confusion = vec![vec![0u32; classes]; classes];
        let mut loss = 0.0f64;
        let mut agree = 0usize;
        let mut kl = 0.0f64;
        let mut confidences = Vec::with_capacity(labels.len());
        let mut correct = Vec::with_capacity(labels.len());
        for (i, &label) in labels.iter().enumerate() {
            let p = &probs[i * classes..(i + 1) * classes];
            let predicted = host::argmax(p);
            confidences.push(p[predicted]);
            correct.push(predicted == label as usize);
            confusion[label as usize][predicted] += 1;
            loss -= (p[label as usize].max(1e-12) as f64).ln();
            if let Some(t) = teacher {
                let tp = &t[i * classes..(i + 1) * classes];
                agree += usize::from(host::argmax(tp) == predicted);
                kl += host::kl(tp, p) as f64;
            }
        }
        let n = labels.len().max(1);
        let hits: u32 = (0..classes).map(|c| confusion[c][c]).sum();
        let per_class_accuracy = confusion
            .iter()
            .enumerate()
            .map(|(c, row)| {
                let total: u32 = row.iter().sum();
                if total == 0 {
                    f32::NAN
                } else {
                    row[c] as f32 / total as f32
                }
            })
            .collect();
        let (ece, reliability) = calibration(&confidences, &correct, ECE_BINS);
        Self {
            ece,
            reliability,
            accuracy: hits as f32 / n as f32,
            loss: (loss / n as f64) as f32,
            agreement: if teacher.is_some() {
                agree as f32 / n as f32
            } else {
                1.0
            },
            kl_to_teacher: (kl / n as f64) as f32,
            per_class_accuracy,
            confusion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_confusion_agreement_by_hand() {
        // Three examples, two classes.
        let probs = [0.9, 0.1, 0.3, 0.7, 0.6, 0.4];
        let labels = [0, 1, 1];
        let teacher = [0.8, 0.2, 0.2, 0.8, 0.2, 0.8];
        let e = Evaluation::new(&probs, &labels, 2, Some(&teacher));
        assert!((e.accuracy - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(e.confusion, vec![vec![1, 0], vec![1, 1]]);
        assert_eq!(e.per_class_accuracy, vec![1.0, 0.5]);
        assert!((e.agreement - 2.0 / 3.0).abs() < 1e-6);
        let want_loss = -(0.9f64.ln() + 0.7f64.ln() + 0.4f64.ln()) / 3.0;
        assert!((e.loss as f64 - want_loss).abs() < 1e-6);
    }

    /// ECE by hand, 15 bins of width 1/15: 0.9 (right) is in bin 13, 0.95 (wrong) in bin 14,
    /// 0.55 (right) and 0.6 (wrong, on the edge 9/15, so the lower bin) in bin 8, 0.62 (right)
    /// in bin 9. ECE = (|1 − 0.9| + |0 − 0.95| + 2·|0.5 − 0.575| + |1 − 0.62|) / 5 = 0.316.
    #[test]
    fn ece_matches_a_hand_computed_case() {
        let conf = [0.9, 0.95, 0.55, 0.6, 0.62];
        let ok = [true, false, true, false, true];
        let (ece, bins) = calibration(&conf, &ok, ECE_BINS);
        assert!((ece - 0.316).abs() < 1e-6, "{ece}");
        assert_eq!(bins.len(), 15);
        assert_eq!(bins[8].count, 2);
        assert!((bins[8].accuracy.unwrap() - 0.5).abs() < 1e-6);
        assert!((bins[8].confidence.unwrap() - 0.575).abs() < 1e-6);
        assert_eq!((bins[9].count, bins[13].count, bins[14].count), (1, 1, 1));
        assert_eq!(bins[0].accuracy, None);
        // Perfectly calibrated: confidence 0.75 and three of four right.
        let (zero, _) = calibration(&[0.75; 4], &[true, true, true, false], ECE_BINS);
        assert!(zero.abs() < 1e-6, "{zero}");
    }
}
