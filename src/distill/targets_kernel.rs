//! The teacher's soft targets at T, `softmax(z/T)` and its logarithm, in one parallel pass
//! over the rows on the CPU.
//!
//! A KD phase fills its cache of soft targets for the whole training set with this (and
//! again at every live change of T): as tensor functions that was a dozen passes over
//! 60,000 × 10 values, 12 ms, about 4% of a 30-30 student's KD epoch. The formulas are
//! those of [`super::teacher_soft_targets`] (the tests compare both). Each KD step then
//! gathers its batch's rows of both tensors in one operation ([`select_rows`]).

use super::SoftTargets;
use super::head::{dense, floats, indices, matrix, on_flex};
use super::head_rows::{scaled_into, softmax_into};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Flex, backend_extension};
use burn::prelude::*;
use rayon::prelude::*;

/// Rows per rayon task.
const ROWS: usize = 2048;

/// `(probabilities, log-probabilities)` of an ensemble's softened distribution, if the
/// members are plain f32 tensors on flex without autodiff; `None` elsewhere (the caller uses tensor functions).
pub(super) fn soft_targets(
    members: &[Tensor<2>],
    mean_of_probabilities: bool,
    temperature: f64,
) -> Option<(Tensor<2>, Tensor<2>)> {
    if !members.iter().all(plain_flex) {
        return None;
    }
    // One tensor `[members, rows, classes]`: a lone member is a view, an ensemble a copy.
    let stacked: Tensor<3> = match members {
        [one] => one.clone().unsqueeze(),
        _ => Tensor::stack(members.to_vec(), 0),
    };
    let (p, l) = <burn::backend::Dispatch as SoftTargetOps>::soft_targets(
        stacked.into_dispatch(),
        mean_of_probabilities,
        temperature as f32,
    );
    Some((Tensor::from_dispatch(p), Tensor::from_dispatch(l)))
}

/// The rows `rows` of both tensors of `all`, if they are plain f32 tensors on flex without
/// autodiff; `None` elsewhere (the caller selects).
pub(super) fn select_rows(all: &SoftTargets, rows: &Tensor<1, Int>) -> Option<SoftTargets> {
    if !(plain_flex(&all.probs) && plain_flex(&all.log_probs)) || rows.device().is_autodiff() {
        return None;
    }
    let (probs, log_probs) = <burn::backend::Dispatch as SoftTargetOps>::select_rows(
        all.probs.clone().into_dispatch(),
        all.log_probs.clone().into_dispatch(),
        rows.clone().into_dispatch(),
    );
    Some(SoftTargets {
        probs: Tensor::from_dispatch(probs),
        log_probs: Tensor::from_dispatch(log_probs),
    })
}

/// Whether `t` is an f32 tensor on flex without autodiff, which these operations take.
/// Device equality ignores autodiff; tensors on an autodiff device take the tensor
/// functions (these operations have no backward pass).
fn plain_flex(t: &Tensor<2>) -> bool {
    on_flex(t) && !t.device().is_autodiff()
}

#[backend_extension(Flex)]
pub trait SoftTargetOps: Backend {
    /// `members`: `[members, rows, classes]` logits.
    fn soft_targets(
        members: FloatTensor<Self>,
        mean_of_probabilities: bool,
        temperature: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The rows `rows` of two `[rows, classes]` tensors of the same shape.
    fn select_rows(
        probs: FloatTensor<Self>,
        log_probs: FloatTensor<Self>,
        rows: IntTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

impl SoftTargetOps for Flex {
    fn soft_targets(
        members: FlexTensor,
        mean_of_probabilities: bool,
        temperature: f32,
    ) -> (FlexTensor, FlexTensor) {
        let [n, rows, classes] = members.layout().shape().dims::<3>();
        let members = dense(members);
        let all = members.as_slice::<f32>().expect("contiguous f32");
        let z: Vec<&[f32]> = all.chunks(rows * classes).take(n).collect();
        let mut probs = vec![0.0f32; rows * classes];
        let mut logs = vec![0.0f32; rows * classes];
        let rule = Rule {
            mean_of_probabilities: mean_of_probabilities && z.len() > 1,
            temperature,
            classes,
        };
        probs
            .par_chunks_mut(ROWS * classes)
            .zip(logs.par_chunks_mut(ROWS * classes))
            .enumerate()
            .for_each(|(chunk, (p, l))| {
                let first = chunk * ROWS * classes;
                let mut scratch = vec![0.0f32; classes];
                // One list of the members' rows per task, refilled for each row.
                let mut rows: Vec<&[f32]> = Vec::with_capacity(z.len());
                for (r, (p, l)) in p.chunks_mut(classes).zip(l.chunks_mut(classes)).enumerate() {
                    let at = first + r * classes;
                    rows.clear();
                    rows.extend(z.iter().map(|m| &m[at..at + classes]));
                    rule.row(&rows, p, l, &mut scratch);
                }
            });
        (matrix(probs, rows, classes), matrix(logs, rows, classes))
    }

    fn select_rows(
        probs: FlexTensor,
        log_probs: FlexTensor,
        rows: FlexTensor,
    ) -> (FlexTensor, FlexTensor) {
        let [n, classes] = probs.layout().shape().dims::<2>();
        assert_eq!(
            log_probs.layout().shape().dims::<2>(),
            [n, classes],
            "soft targets: probabilities and logarithms of one shape"
        );
        let picked = indices(&rows);
        let (p, l) = (dense(probs), dense(log_probs));
        let gather = |all: &[f32]| -> Vec<f32> {
            let mut out = Vec::with_capacity(picked.len() * classes);
            for &r in &picked {
                assert!(r < n, "soft targets: row {r} of {n}");
                out.extend_from_slice(&all[r * classes..(r + 1) * classes]);
            }
            out
        };
        let (p, l) = (gather(floats(&p)), gather(floats(&l)));
        (
            matrix(p, picked.len(), classes),
            matrix(l, picked.len(), classes),
        )
    }
}

struct Rule {
    mean_of_probabilities: bool,
    temperature: f32,
    classes: usize,
}

impl Rule {
    /// One example's targets from its members' logit rows.
    fn row(&self, members: &[&[f32]], p: &mut [f32], l: &mut [f32], scratch: &mut [f32]) {
        if !self.mean_of_probabilities {
            // One member, or the mean of logits: softmax of the mean.
            let n = members.len() as f32;
            for (k, s) in scratch.iter_mut().enumerate() {
                let sum = members.iter().skip(1).fold(members[0][k], |a, m| a + m[k]);
                *s = if members.len() == 1 { sum } else { sum / n };
            }
            softmax_row(scratch, self.temperature, p, l);
            return;
        }
        p.fill(0.0);
        for m in members {
            softmax_row(m, self.temperature, scratch, l);
            for (p, q) in p.iter_mut().zip(scratch.iter()) {
                *p += q;
            }
        }
        let n = members.len() as f32;
        for (p, l) in p.iter_mut().zip(l.iter_mut()) {
            *p /= n;
            *l = p.max(1e-30).ln();
        }
        debug_assert_eq!(p.len(), self.classes);
    }
}

/// `softmax(z/T)` into `p` and its logarithm into `l` (which first holds `z/T`).
fn softmax_row(z: &[f32], t: f32, p: &mut [f32], l: &mut [f32]) {
    scaled_into(z, t, l);
    let lse = softmax_into(l, p);
    for l in l.iter_mut() {
        *l = lse.log_prob(*l);
    }
}
