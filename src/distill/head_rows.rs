//! The loss head's sweep over a batch's rows: each row's softmax at 1 and at T, its
//! cross-entropy and soft term, and its gradient (see [`super::head`] for the formula).

use super::head::HeadScalars;

/// One pass over a batch's rows.
pub(super) struct Sweep<'a> {
    pub(super) z: &'a [f32],
    /// The soft targets' probabilities and logarithms, row-major like `z`.
    pub(super) soft: Option<(&'a [f32], &'a [f32])>,
    pub(super) labels: &'a [usize],
    pub(super) classes: usize,
    pub(super) s: HeadScalars,
}

impl Sweep<'_> {
    /// The batch means of the soft term (before its factor) and of the cross-entropy,
    /// writing `∂total/∂z` into `grad` when given. (Splitting the rows over the pool was
    /// measured: no faster on a 128 × 10 head.)
    pub(super) fn run(&self, mut grad: Option<&mut [f32]>) -> (f32, f32) {
        let c = self.classes;
        let batch = self.labels.len();
        let (mut soft_sum, mut hard_sum) = (0.0f64, 0.0f64);
        let mut q = vec![0.0f32; c];
        let mut r = vec![0.0f32; c];
        let mut zt = vec![0.0f32; c];
        for (b, &y) in self.labels.iter().enumerate() {
            let rows = b * c..(b + 1) * c;
            let z = &self.z[rows.clone()];
            // The cross-entropy's softmax is at T = 1: the logits are their own quotients.
            hard_sum += -softmax_into(z, &mut r).log_prob(z[y]) as f64;
            let soft_row = self.soft.map(|(p, l)| {
                let (p, l) = (&p[rows.clone()], &l[rows.clone()]);
                scaled_into(z, self.s.temperature, &mut zt);
                let lse = softmax_into(&zt, &mut q);
                let row = if self.s.cross_entropy {
                    -p.iter()
                        .zip(&zt)
                        .map(|(p, zt)| p * lse.log_prob(*zt))
                        .sum::<f32>()
                } else {
                    p.iter()
                        .zip(l)
                        .zip(&zt)
                        .map(|((p, lp), zt)| p * (lp - lse.log_prob(*zt)))
                        .sum::<f32>()
                };
                soft_sum += row as f64;
                p.iter().sum::<f32>()
            });
            if let Some(g) = grad.as_deref_mut() {
                self.gradient_row(&mut g[rows.clone()], rows, y, &q, &r, soft_row, batch);
            }
        }
        let n = batch.max(1) as f64;
        ((soft_sum / n) as f32, (hard_sum / n) as f32)
    }

    /// `∂total/∂z` for one row; `p_sum` is `Σp` when there is a soft term.
    #[allow(clippy::too_many_arguments)]
    fn gradient_row(
        &self,
        g: &mut [f32],
        rows: std::ops::Range<usize>,
        y: usize,
        q: &[f32],
        r: &[f32],
        p_sum: Option<f32>,
        batch: usize,
    ) {
        let s = self.s;
        let hard = s.hard_weight / batch as f32;
        for (j, g) in g.iter_mut().enumerate() {
            *g = hard * (r[j] - if j == y { 1.0 } else { 0.0 });
        }
        if let (Some((p, _)), Some(p_sum)) = (self.soft, p_sum) {
            let soft = s.soft_weight * s.soft_scale / (s.temperature * batch as f32);
            for ((g, p), q) in g.iter_mut().zip(&p[rows]).zip(q) {
                *g += soft * (q * p_sum - p);
            }
        }
    }
}

/// `logsumexp(z/T)` kept in two parts, so that a log-probability is formed as
/// `(z/T − max) − ln Σ`, as the tensor functions' log-softmax forms it: adding the parts
/// first would cancel to within an ulp of the largest logit.
#[derive(Debug, Clone, Copy)]
pub(super) struct LogSumExp {
    max: f32,
    log_sum: f32,
}

impl LogSumExp {
    /// `log softmax(z/T)` at one logit already divided by T.
    pub(super) fn log_prob(self, zt: f32) -> f32 {
        (zt - self.max) - self.log_sum
    }
}

/// `z/T` into `zt`: one division per logit, none at T = 1 (where it is exact), so a row's
/// softmax, its logarithm and the KL read the same quotients without dividing again.
pub(super) fn scaled_into(z: &[f32], t: f32, zt: &mut [f32]) {
    if t == 1.0 {
        zt.copy_from_slice(z);
    } else {
        for (s, z) in zt.iter_mut().zip(z) {
            *s = z / t;
        }
    }
}

/// The softmax of logits already divided by T (`zt`, from [`scaled_into`]) into `probs`
/// (one exponential per class), returning its `logsumexp`; a row without a finite maximum
/// gives NaN throughout, as the tensor functions do.
pub(super) fn softmax_into(zt: &[f32], probs: &mut [f32]) -> LogSumExp {
    let max = zt.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() {
        probs.fill(f32::NAN);
        return LogSumExp {
            max: f32::NAN,
            log_sum: f32::NAN,
        };
    }
    let mut sum = 0.0f32;
    for (p, zt) in probs.iter_mut().zip(zt) {
        *p = (zt - max).exp();
        sum += *p;
    }
    for p in probs.iter_mut() {
        *p /= sum;
    }
    LogSumExp {
        max,
        log_sum: sum.ln(),
    }
}
