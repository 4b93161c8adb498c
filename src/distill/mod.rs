//! The distillation losses as pure tensor functions (Hinton, Vinyals & Dean 2015;
//! Buciluă, Caruana & Niculescu-Mizil 2006). All reductions are batch means, as in PyTorch's
//! `kl_div(..., reduction="batchmean")` and `cross_entropy`.

pub mod breakdown;
pub mod dark;
mod formula;
pub mod gradients;
pub mod head;
mod head_rows;
pub mod host;
pub mod methods;
mod objective;
mod targets_kernel;

pub use formula::formula_lines;
pub use objective::{LossParts, LossWeights, StepContext, distillation_loss};

use crate::config::Combine;
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};

/// `softmax(z / T)` over classes: `[batch, classes] -> [batch, classes]`.
pub fn softened_softmax(logits: Tensor<2>, temperature: f64) -> Tensor<2> {
    softmax(logits / temperature, 1)
}

/// `log softmax(z / T)` over classes, computed stably.
pub fn log_softened_softmax(logits: Tensor<2>, temperature: f64) -> Tensor<2> {
    log_softmax(logits / temperature, 1)
}

/// A teacher's softened distribution for a batch, as probabilities and their logarithms.
#[derive(Debug, Clone)]
pub struct SoftTargets {
    pub probs: Tensor<2>,
    pub log_probs: Tensor<2>,
}

impl SoftTargets {
    /// The targets of `rows` (a batch of a whole set's targets): on flex one operation
    /// copies both tensors' rows ([`targets_kernel`]), elsewhere two `select`s.
    pub fn rows(&self, rows: Tensor<1, Int>) -> SoftTargets {
        match targets_kernel::select_rows(self, &rows) {
            Some(picked) => picked,
            None => SoftTargets {
                probs: self.probs.clone().select(0, rows.clone()),
                log_probs: self.log_probs.clone().select(0, rows),
            },
        }
    }
}

/// The soft targets of an ensemble at temperature T. One member is simply `softmax(z/T)`.
/// `MeanProbabilities` averages the members' softened probabilities (arithmetic mean);
/// `MeanLogits` averages logits, which is the normalised geometric mean of the probabilities.
/// On flex (without autodiff) one parallel pass computes both ([`targets_kernel`]).
pub fn teacher_soft_targets(
    members: &[Tensor<2>],
    combine: Combine,
    temperature: f64,
) -> SoftTargets {
    assert!(!members.is_empty(), "a teacher has at least one member");
    let arithmetic = combine == Combine::MeanProbabilities;
    match targets_kernel::soft_targets(members, arithmetic, temperature) {
        Some((probs, log_probs)) => SoftTargets { probs, log_probs },
        None => soft_targets_by_tensor_functions(members, combine, temperature),
    }
}

/// [`teacher_soft_targets`] as tensor functions: any device, autodiff included.
fn soft_targets_by_tensor_functions(
    members: &[Tensor<2>],
    combine: Combine,
    temperature: f64,
) -> SoftTargets {
    if members.len() == 1 || combine == Combine::MeanLogits {
        let z = mean_of(members);
        return SoftTargets {
            probs: softened_softmax(z.clone(), temperature),
            log_probs: log_softened_softmax(z, temperature),
        };
    }
    let probs = mean_of(
        &members
            .iter()
            .map(|z| softened_softmax(z.clone(), temperature))
            .collect::<Vec<_>>(),
    );
    // Every member's softmax is positive, so the mean is too; the floor only guards underflow.
    let log_probs = probs.clone().clamp_min(1e-30).log();
    SoftTargets { probs, log_probs }
}

/// The logits an ensemble is matched against in logit regression: the mean logits, or for an
/// arithmetic-mean ensemble the log of its mean probabilities, centred per example (logits are
/// defined up to a constant, and the centred form is the one Buciluă's regression assumes).
pub fn teacher_logits(members: &[Tensor<2>], combine: Combine) -> Tensor<2> {
    let z = if members.len() == 1 || combine == Combine::MeanLogits {
        mean_of(members)
    } else {
        teacher_soft_targets(members, combine, 1.0).log_probs
    };
    centred(z)
}

fn mean_of(tensors: &[Tensor<2>]) -> Tensor<2> {
    let n = tensors.len() as f64;
    let sum = tensors
        .iter()
        .skip(1)
        .fold(tensors[0].clone(), |acc, t| acc + t.clone());
    if tensors.len() == 1 { sum } else { sum / n }
}

/// KL(p_teacher(T) ‖ p_student(T)), batch mean: `Σ_k p (log p − log q) / batch`. Shape `[1]`.
pub fn kl_divergence(
    targets: &SoftTargets,
    student_logits: Tensor<2>,
    temperature: f64,
) -> Tensor<1> {
    let log_q = log_softened_softmax(student_logits, temperature);
    let [batch, _] = log_q.dims();
    (targets.probs.clone() * (targets.log_probs.clone() - log_q)).sum() / batch as f64
}

/// Soft cross-entropy `−Σ_k p log q / batch`: KL plus the teacher's entropy (same gradients).
pub fn soft_cross_entropy(
    targets: &SoftTargets,
    student_logits: Tensor<2>,
    temperature: f64,
) -> Tensor<1> {
    let log_q = log_softened_softmax(student_logits, temperature);
    let [batch, _] = log_q.dims();
    -(targets.probs.clone() * log_q).sum() / batch as f64
}

/// Mean squared error between logits over every element (PyTorch's `mse_loss`).
pub fn logit_mse(student_logits: Tensor<2>, teacher_logits: Tensor<2>) -> Tensor<1> {
    (student_logits - teacher_logits).square().mean()
}

/// Cross-entropy with hard labels at T = 1, batch mean. `labels`: `[batch]` class indices.
pub fn hard_cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let picked = log_softmax(logits, 1).gather(1, labels.reshape([batch, 1]));
    -picked.mean()
}

/// Logits minus their per-example mean: logit matching compares zero-mean logits.
pub fn centred(z: Tensor<2>) -> Tensor<2> {
    let centre = z.clone().mean_dim(1);
    z - centre
}

#[cfg(test)]
mod tests {
    //! Reference values computed with PyTorch (`F.kl_div(log_softmax(s/T), softmax(t/T),
    //! reduction="batchmean") * T*T`, `F.cross_entropy`, `F.mse_loss`).
    use super::*;
    use crate::config::{DistillConfig, SoftLoss};

    fn device() -> Device {
        Device::flex()
    }

    fn teacher() -> Tensor<2> {
        Tensor::from_floats([[2.0, 1.0, 0.1], [0.5, -1.0, 3.0]], &device())
    }

    fn student() -> Tensor<2> {
        Tensor::from_floats([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], &device())
    }

    fn labels() -> Tensor<1, Int> {
        Tensor::from_ints([0, 2], &device())
    }

    fn kd_weights() -> LossWeights {
        let d = DistillConfig {
            loss: SoftLoss::Kl,
            ..DistillConfig::default()
        };
        LossWeights::from(&d)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        t.into_scalar::<f32>() as f64
    }

    fn kl_t2(t: f64) -> f64 {
        let targets = teacher_soft_targets(&[teacher()], Combine::MeanProbabilities, t);
        scalar(kl_divergence(&targets, student(), t)) * t * t
    }

    #[test]
    fn kl_times_t_squared_matches_pytorch() {
        for (t, want) in [
            (1.0, 0.587176),
            (2.0, 0.812741),
            (4.0, 0.880266),
            (20.0, 0.868970),
        ] {
            let got = kl_t2(t);
            // f32 arithmetic: the T² factor magnifies rounding in the KL (~0.002 at T = 20).
            assert!((got - want).abs() < 1e-4 * want, "T={t}: {got} vs {want}");
        }
    }

    #[test]
    fn hard_cross_entropy_matches_pytorch() {
        let got = scalar(hard_cross_entropy(student(), labels()));
        assert!((got - 1.281491).abs() < 1e-5, "{got}");
    }

    #[test]
    fn total_loss_matches_pytorch() {
        let w = LossWeights {
            temperature: 4.0,
            alpha: 0.9,
            ..kd_weights()
        };
        let parts = distillation_loss(
            student(),
            &[teacher()],
            Combine::MeanProbabilities,
            labels(),
            &w,
            true,
            &StepContext::default(),
        );
        let got = scalar(parts.total.clone());
        assert!((got - 0.920388).abs() < 2e-5, "{got}");
        let [soft, hard, total] = parts.values()[..] else {
            panic!("KL reports three values")
        };
        assert!((soft as f64 - 0.880266).abs() < 2e-5, "{soft}");
        assert!((hard as f64 - 1.281491).abs() < 1e-5, "{hard}");
        assert_eq!(total as f64, got);
    }

    #[test]
    fn logit_mse_matches_pytorch() {
        let got = scalar(logit_mse(student(), teacher()));
        assert!((got - 2.068333).abs() < 1e-5, "{got}");
    }

    #[test]
    fn softened_softmax_matches_pytorch() {
        let p = softened_softmax(Tensor::from_floats([[2.0, 1.0, 0.1]], &device()), 4.0);
        let v = p.into_data().try_to_vec::<f32>().unwrap();
        for (got, want) in v.iter().zip([0.416548, 0.324408, 0.259045]) {
            assert!((*got as f64 - want).abs() < 1e-6, "{v:?}");
        }
    }

    #[test]
    fn soft_cross_entropy_is_kl_plus_teacher_entropy() {
        let t = 2.0;
        let targets = teacher_soft_targets(&[teacher()], Combine::MeanProbabilities, t);
        let ce = scalar(soft_cross_entropy(&targets, student(), t));
        let kl = scalar(kl_divergence(&targets, student(), t));
        let p = targets.probs.into_data().try_to_vec::<f32>().unwrap();
        let entropy: f64 = p
            .iter()
            .map(|&x| -(x as f64) * (x as f64).ln())
            .sum::<f64>()
            / 2.0;
        assert!((ce - kl - entropy).abs() < 1e-5, "{ce} {kl} {entropy}");
    }

    #[test]
    fn alpha_one_and_unlabeled_drop_the_hard_term() {
        let w = LossWeights {
            temperature: 4.0,
            alpha: 0.5,
            ..kd_weights()
        };
        let unlabeled = distillation_loss(
            student(),
            &[teacher()],
            Combine::MeanLogits,
            labels(),
            &w,
            false,
            &StepContext::default(),
        );
        assert!((scalar(unlabeled.total) - 0.880266).abs() < 2e-5);
        let w1 = LossWeights { alpha: 1.0, ..w };
        let soft_only = distillation_loss(
            student(),
            &[teacher()],
            Combine::MeanLogits,
            labels(),
            &w1,
            true,
            &StepContext::default(),
        );
        assert!((scalar(soft_only.total) - 0.880266).abs() < 2e-5);
    }

    #[test]
    fn ensembles_average_probabilities_or_logits() {
        let a = teacher();
        let b = student();
        let t = 1.0;
        let arith = teacher_soft_targets(&[a.clone(), b.clone()], Combine::MeanProbabilities, t);
        let geo = teacher_soft_targets(&[a.clone(), b.clone()], Combine::MeanLogits, t);
        let pa = softened_softmax(a.clone(), t)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let pb = softened_softmax(b.clone(), t)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let want_arith: Vec<f32> = pa.iter().zip(&pb).map(|(x, y)| (x + y) / 2.0).collect();
        let got_arith = arith.probs.into_data().try_to_vec::<f32>().unwrap();
        for (g, w) in got_arith.iter().zip(&want_arith) {
            assert!((g - w).abs() < 1e-6);
        }
        // Geometric: normalised sqrt(pa·pb) per row.
        let got_geo = geo.probs.into_data().try_to_vec::<f32>().unwrap();
        for row in 0..2 {
            let raw: Vec<f32> = (0..3)
                .map(|k| (pa[row * 3 + k] * pb[row * 3 + k]).sqrt())
                .collect();
            let s: f32 = raw.iter().sum();
            for k in 0..3 {
                assert!((got_geo[row * 3 + k] - raw[k] / s).abs() < 1e-6);
            }
        }
    }

    /// The one-pass kernel on flex against the tensor functions, for both ensemble rules and
    /// a lone member, at several temperatures, with logits large enough to underflow.
    #[test]
    fn the_soft_target_kernel_is_the_tensor_functions() {
        use burn::tensor::Distribution;
        let members: Vec<Tensor<2>> = (0..3)
            .map(|_| Tensor::random([4100, 10], Distribution::Normal(0.0, 30.0), &device()))
            .collect();
        for (n, combine) in [
            (1, Combine::MeanProbabilities),
            (3, Combine::MeanProbabilities),
            (3, Combine::MeanLogits),
        ] {
            for t in [1.0, 4.0, 20.0] {
                let fast = teacher_soft_targets(&members[..n], combine, t);
                let slow = soft_targets_by_tensor_functions(&members[..n], combine, t);
                for (name, a, b) in [
                    ("probabilities", fast.probs, slow.probs),
                    ("logarithms", fast.log_probs, slow.log_probs),
                ] {
                    let (a, b) = (
                        a.into_data().try_to_vec::<f32>().unwrap(),
                        b.into_data().try_to_vec::<f32>().unwrap(),
                    );
                    assert_eq!(a.len(), b.len());
                    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                        let tolerance = 2e-6 * y.abs().max(1.0);
                        assert!(
                            (x - y).abs() <= tolerance,
                            "{n} × {combine:?}, T = {t}, {name}[{i}]: {x} vs {y}"
                        );
                    }
                }
            }
        }
    }

    /// A batch's rows gathered by the flex kernel are `select`'s rows, repeats included, on
    /// flex and through autodiff (which takes the two selects); a row out of range panics.
    #[test]
    fn a_batch_of_soft_targets_is_select_of_its_rows() {
        use burn::tensor::Distribution;
        let logits = Tensor::<2>::random([300, 10], Distribution::Normal(0.0, 5.0), &device());
        let picked = vec![299i64, 0, 17, 17, 150];
        for on in [device(), device().autodiff()] {
            let all =
                teacher_soft_targets(&[logits.clone().to_device(&on)], Combine::MeanLogits, 4.0);
            let rows = Tensor::<1, Int>::from_data(TensorData::new(picked.clone(), [5]), &on);
            let batch = all.rows(rows.clone());
            let values = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
            assert_eq!(batch.probs.dims(), [5, 10]);
            assert_eq!(
                values(batch.probs),
                values(all.probs.clone().select(0, rows.clone()))
            );
            assert_eq!(
                values(batch.log_probs),
                values(all.log_probs.clone().select(0, rows))
            );
        }
        let all = teacher_soft_targets(&[logits], Combine::MeanLogits, 4.0);
        let outside = Tensor::<1, Int>::from_data(TensorData::new(vec![300i64], [1]), &device());
        let panicked = std::panic::catch_unwind(|| all.rows(outside));
        assert!(panicked.is_err(), "row 300 of 300 was read");
    }

    /// Hinton §2.1: with zero-mean logits and high T, the gradient of KL·T² is ≈ (z_i − v_i)/N,
    /// so KL·T² itself approaches Σ_i (z_i − v_i)² / 2N: logit matching.
    #[test]
    fn high_temperature_kl_approaches_logit_matching() {
        let t = 200.0;
        let zs = centred(student());
        let zt = centred(teacher());
        let targets = teacher_soft_targets(std::slice::from_ref(&zt), Combine::MeanLogits, t);
        let kl = scalar(kl_divergence(&targets, zs.clone(), t)) * t * t;
        // KL·T² -> Σ_k (z_k − v_k)² / (2N), batch-averaged; N = 3 classes.
        let sq = scalar((zs - zt).square().sum()) / 2.0;
        let want = sq / (2.0 * 3.0);
        assert!((kl - want).abs() / want < 0.01, "{kl} vs {want}");
    }
}
