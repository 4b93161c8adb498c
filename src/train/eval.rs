//! Test-set evaluation: logits are computed on the device in chunks and read back once; the
//! measures are computed on the host from them.

use crate::config::Combine;
use crate::distill::host;
use crate::model::Net;
use burn::prelude::*;

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
}

impl Evaluation {
    /// Measure probabilities `probs` (`[n × classes]`) against `labels`, and against the
    /// teacher's probabilities when given.
    pub fn new(probs: &[f32], labels: &[u32], classes: usize, teacher: Option<&[f32]>) -> Self {
        let mut confusion = vec![vec![0u32; classes]; classes];
        let mut loss = 0.0f64;
        let mut agree = 0usize;
        let mut kl = 0.0f64;
        for (i, &label) in labels.iter().enumerate() {
            let p = &probs[i * classes..(i + 1) * classes];
            let predicted = host::argmax(p);
            confusion[label as usize][predicted] += 1;
            loss -= (p[label as usize].max(1e-12) as f64).ln();
            if let Some(t) = teacher {
                let tp = &t[i * classes..(i + 1) * classes];
                agree += usize::from(host::argmax(tp) == predicted);
                kl += host::kl(tp, p) as f64;
            }
        }
        let n = labels.len().max(1);
        let correct: u32 = (0..classes).map(|c| confusion[c][c]).sum();
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
        Self {
            accuracy: correct as f32 / n as f32,
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
}
