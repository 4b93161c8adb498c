//! DIST (Huang et al., NeurIPS 2022), after `hunto/image_classification_sota`
//! `lib/models/losses/dist_kd.py`: match the *relations* of the softened predictions rather
//! than the predictions themselves. Inter-class: one minus the mean Pearson correlation of
//! each example's class distribution; intra-class: the same over each class's column across
//! the batch. The intra-class term therefore depends on the batch (its size and make-up).

use burn::prelude::*;
use burn::tensor::activation::softmax;

/// The reference's guard in the cosine's denominator.
const EPS: f64 = 1e-8;

/// The two relation terms, each including the reference's τ² factor, before β and γ.
#[derive(Debug, Clone)]
pub struct DistTerms {
    pub inter: Tensor<1>,
    pub intra: Tensor<1>,
}

pub fn dist_terms(student: Tensor<2>, teacher: Tensor<2>, tau: f64) -> DistTerms {
    let y_s = softmax(student / tau, 1);
    let y_t = softmax(teacher / tau, 1);
    let inter = one_minus_mean_pearson(y_s.clone(), y_t.clone());
    let intra = one_minus_mean_pearson(y_s.transpose(), y_t.transpose());
    DistTerms {
        inter: inter * (tau * tau),
        intra: intra * (tau * tau),
    }
}

/// `1 − mean_i pearson(a[i, :], b[i, :])`, with the reference's cosine
/// `(a·b) / (|a|·|b| + eps)` on the row-centred vectors.
fn one_minus_mean_pearson(a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    let a = a.clone() - a.mean_dim(1);
    let b = b.clone() - b.mean_dim(1);
    let dot = (a.clone() * b.clone()).sum_dim(1);
    let norms = a.square().sum_dim(1).sqrt() * b.square().sum_dim(1).sqrt();
    let cosine = dot / (norms + EPS);
    cosine.mean().neg() + 1.0
}
