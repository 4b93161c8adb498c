//! Hinton, Vinyals & Dean (2015), §3: a student distilled on a transfer set without class c
//! still learns to recognise c from the soft targets of other classes, but its output bias for
//! c stays too low, since c was never anyone's most likely class. Adding a constant to c's
//! logit repairs most of it. The paper picked the constant on the test set; here it is chosen
//! on a validation split held out from every phase, and only then measured on the test set.

use crate::config::ranges::{BIAS_STEP, OMITTED_BIAS};
use crate::distill::host::argmax;
use serde::{Deserialize, Serialize};

/// A model's errors before and after the correction the validation split chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasCorrection {
    /// The omitted classes, and the bias added to each one's logit.
    pub classes: Vec<usize>,
    pub biases: Vec<f32>,
    pub validation_examples: usize,
    pub validation_errors_before: usize,
    pub validation_errors_after: usize,
    pub test_examples: usize,
    pub test_errors_before: usize,
    pub test_errors_after: usize,
    /// The test examples of each omitted class, and the errors on them before and after.
    pub omitted_test_examples: Vec<usize>,
    pub omitted_errors_before: Vec<usize>,
    pub omitted_errors_after: Vec<usize>,
}

/// Errors in all, and on each of the classes given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Errors {
    pub total: usize,
    pub on: Vec<usize>,
}

/// The predicted class of each row of `logits` (`[examples × n_classes]`, row-major) with
/// `biases[k]` added to the logit of `classes[k]`.
pub fn predictions<'a>(
    logits: &'a [f32],
    n_classes: usize,
    classes: &'a [usize],
    biases: &'a [f32],
) -> impl Iterator<Item = usize> + 'a {
    let mut row = vec![0.0; n_classes];
    logits.chunks_exact(n_classes).map(move |z| {
        row.copy_from_slice(z);
        for (&c, &b) in classes.iter().zip(biases) {
            row[c] += b;
        }
        argmax(&row)
    })
}

/// The errors with the biases added; `on[k]` counts the misclassified examples of `classes[k]`.
pub fn errors(
    logits: &[f32],
    labels: &[u32],
    n_classes: usize,
    classes: &[usize],
    biases: &[f32],
) -> Errors {
    let mut out = Errors {
        total: 0,
        on: vec![0; classes.len()],
    };
    for (predicted, &label) in predictions(logits, n_classes, classes, biases).zip(labels) {
        if predicted != label as usize {
            out.total += 1;
            if let Some(k) = classes.iter().position(|&c| c == label as usize) {
                out.on[k] += 1;
            }
        }
    }
    out
}

/// Accuracy on each true class with the biases added (NaN for a class with no examples).
pub fn per_class_accuracy(
    logits: &[f32],
    labels: &[u32],
    n_classes: usize,
    classes: &[usize],
    biases: &[f32],
) -> Vec<f32> {
    let mut right = vec![0usize; n_classes];
    let mut seen = vec![0usize; n_classes];
    for (predicted, &label) in predictions(logits, n_classes, classes, biases).zip(labels) {
        seen[label as usize] += 1;
        right[label as usize] += usize::from(predicted == label as usize);
    }
    right
        .iter()
        .zip(&seen)
        .map(|(&r, &n)| {
            if n == 0 {
                f32::NAN
            } else {
                r as f32 / n as f32
            }
        })
        .collect()
}

/// Every bias the search tries, smallest magnitude first: a tie keeps the bias nearer 0, so a
/// flat stretch of the error curve never moves a class's bias for nothing.
fn candidates() -> Vec<f32> {
    let steps = |v: f64| (v / BIAS_STEP).round() as i32;
    let mut out: Vec<i32> = (steps(OMITTED_BIAS.min)..=steps(OMITTED_BIAS.max)).collect();
    out.sort_by_key(|i| (i.abs(), *i < 0));
    out.into_iter()
        .map(|i| (i as f64 * BIAS_STEP) as f32)
        .collect()
}

/// The biases for `classes` that make the fewest errors on `(logits, labels)`: first one
/// bias shared by all of them (the paper's form for its 7s-and-8s transfer set), then each
/// class's own in turn, twice over.
pub fn choose_biases(
    logits: &[f32],
    labels: &[u32],
    n_classes: usize,
    classes: &[usize],
) -> Vec<f32> {
    let tries = candidates();
    let count = |b: &[f32]| errors(logits, labels, n_classes, classes, b).total;
    let mut best = vec![0.0; classes.len()];
    let mut fewest = count(&best);
    for &b in &tries {
        let shared = vec![b; classes.len()];
        let e = count(&shared);
        if e < fewest {
            (best, fewest) = (shared, e);
        }
    }
    if classes.len() > 1 {
        for _round in 0..2 {
            for k in 0..classes.len() {
                for &b in &tries {
                    let mut trial = best.clone();
                    trial[k] = b;
                    let e = count(&trial);
                    if e < fewest {
                        (best, fewest) = (trial, e);
                    }
                }
            }
        }
    }
    best
}

/// Choose the biases on the validation split, then measure them on the test set.
pub fn correct(
    validation: (&[f32], &[u32]),
    test: (&[f32], &[u32]),
    n_classes: usize,
    classes: &[usize],
) -> BiasCorrection {
    let biases = choose_biases(validation.0, validation.1, n_classes, classes);
    let zero = vec![0.0; classes.len()];
    let at = |(logits, labels): (&[f32], &[u32]), b: &[f32]| {
        errors(logits, labels, n_classes, classes, b)
    };
    let (val_before, val_after) = (at(validation, &zero), at(validation, &biases));
    let (test_before, test_after) = (at(test, &zero), at(test, &biases));
    BiasCorrection {
        classes: classes.to_vec(),
        validation_examples: validation.1.len(),
        validation_errors_before: val_before.total,
        validation_errors_after: val_after.total,
        test_examples: test.1.len(),
        test_errors_before: test_before.total,
        test_errors_after: test_after.total,
        omitted_test_examples: classes
            .iter()
            .map(|&c| test.1.iter().filter(|&&l| l as usize == c).count())
            .collect(),
        omitted_errors_before: test_before.on,
        omitted_errors_after: test_after.on,
        biases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three classes; class 2's logit is `shortfall` too low on its own examples, which are
    /// otherwise right by `margin`.
    fn logits(labels: &[u32], shortfall: f32, margin: f32) -> Vec<f32> {
        labels
            .iter()
            .flat_map(|&l| {
                let mut z = [0.0f32; 3];
                z[l as usize] = margin;
                z[2] -= shortfall;
                z
            })
            .collect()
    }

    #[test]
    fn errors_count_in_all_and_on_the_omitted_class() {
        let labels = [0, 1, 2, 2];
        let z = logits(&labels, 2.0, 1.0);
        // Class 2's examples score 1 − 2 = −1 against 0: both wrong.
        assert_eq!(
            errors(&z, &labels, 3, &[2], &[0.0]),
            Errors {
                total: 2,
                on: vec![2]
            }
        );
        // +1.5 makes them right (0.5 > 0) and leaves the others right (−0.5 < 1).
        assert_eq!(errors(&z, &labels, 3, &[2], &[1.5]).total, 0);
        assert_eq!(
            per_class_accuracy(&z, &labels, 3, &[2], &[0.0]),
            vec![1.0, 1.0, 0.0]
        );
        // +3.5 makes every other example a 2 (1.5 > 1).
        assert_eq!(
            errors(&z, &labels, 3, &[2], &[3.5]),
            Errors {
                total: 2,
                on: vec![0]
            }
        );
    }

    #[test]
    fn the_bias_is_the_smallest_that_makes_fewest_errors() {
        let labels = [0, 1, 2, 2];
        let z = logits(&labels, 2.05, 1.0);
        // Any bias in (1.05, 3.05) is right everywhere; the smallest step above 1.05 wins.
        let b = choose_biases(&z, &labels, 3, &[2])[0];
        assert!((b - 1.1).abs() < 1e-5, "{b}");
    }

    #[test]
    fn the_bias_comes_from_the_validation_split_and_not_the_test_set() {
        let labels = [0, 1, 2, 2];
        // Validation wants about +1.1; the test set's 2s fall short by 5 and would want +4.1.
        let val = logits(&labels, 2.05, 1.0);
        let test = logits(&labels, 5.0, 1.0);
        let c = correct((&val, &labels), (&test, &labels), 3, &[2]);
        assert!((c.biases[0] - 1.1).abs() < 1e-5, "{c:?}");
        assert_eq!(
            (c.validation_errors_before, c.validation_errors_after),
            (2, 0)
        );
        // On the test set +1.1 is not enough: 5 − 1.1 still loses to 0.
        assert_eq!((c.test_errors_before, c.test_errors_after), (2, 2));
        assert_eq!(c.omitted_test_examples, vec![2]);
    }

    #[test]
    fn several_classes_get_biases_of_their_own() {
        // Classes 1 and 2 omitted; 1 falls short by 1, 2 by 3 (margin 0.5 over the rest).
        let labels: Vec<u32> = (0..30).map(|i| i % 3).collect();
        let z: Vec<f32> = labels
            .iter()
            .flat_map(|&l| {
                let mut row = [0.0f32, -1.0, -3.0];
                row[l as usize] += 0.5;
                row
            })
            .collect();
        let b = choose_biases(&z, &labels, 3, &[1, 2]);
        assert_eq!(errors(&z, &labels, 3, &[1, 2], &b).total, 0, "{b:?}");
        // (At a tie the later class wins, so the interval ends count.)
        assert!(
            (0.5..=1.5).contains(&b[0]) && (2.5..=3.5).contains(&b[1]),
            "{b:?}"
        );
    }

    #[test]
    fn no_bias_when_nothing_improves() {
        let labels = [0, 1, 2];
        let z = logits(&labels, 0.0, 1.0);
        assert_eq!(choose_biases(&z, &labels, 3, &[2]), vec![0.0]);
    }
}
