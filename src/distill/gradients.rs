//! Hinton et al. (2015), §2.1: the gradient of `T²·KL(p_t(T) ‖ p_s(T))` with respect to the
//! student's logits is `T·(q_i − p_i)` per example, which for large T and zero-mean logits
//! approaches `(z_i − v_i)/N`: logit matching (Buciluă et al. 2006). Here both gradients on a
//! fixed batch, compared by cosine and by norm ratio as T rises, with the logits as they are
//! or zero-meaned per example first.

use super::host::softmax;

/// One temperature's comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradientPoint {
    pub temperature: f32,
    pub zero_mean: bool,
    /// Cosine between the two gradients over the whole batch (1: the same direction).
    pub cosine: f32,
    /// `|∇ T²·KL| / |∇ logit matching|` (1: the same size).
    pub norm_ratio: f32,
}

/// The temperatures the comparison runs at: 1 to 50, evenly on a log scale.
pub fn temperatures() -> Vec<f32> {
    (0..=24).map(|i| 50f32.powf(i as f32 / 24.0)).collect()
}

fn centred(row: &[f32]) -> Vec<f32> {
    let mean = row.iter().sum::<f32>() / row.len() as f32;
    row.iter().map(|v| v - mean).collect()
}

/// `∂(T²·KL)/∂z = T·(softmax(z/T) − softmax(v/T))` per example, divided by the batch (the
/// loss is a batch mean), for `[batch × classes]` logits.
pub fn kd_gradient(student: &[f32], teacher: &[f32], classes: usize, t: f32) -> Vec<f32> {
    let batch = (student.len() / classes).max(1) as f32;
    student
        .chunks(classes)
        .zip(teacher.chunks(classes))
        .flat_map(|(z, v)| {
            let (q, p) = (softmax(z, t), softmax(v, t));
            q.into_iter()
                .zip(p)
                .map(|(q, p)| t * (q - p) / batch)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The logit-matching gradient Hinton's limit gives: `(z − v)/N` per example, over the batch.
pub fn matching_gradient(student: &[f32], teacher: &[f32], classes: usize) -> Vec<f32> {
    let batch = (student.len() / classes).max(1) as f32;
    student
        .iter()
        .zip(teacher)
        .map(|(z, v)| (z - v) / (classes as f32 * batch))
        .collect()
}

fn cosine_and_ratio(a: &[f32], b: &[f32]) -> (f32, f32) {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    (
        (dot / (na * nb).max(1e-30)) as f32,
        (na / nb.max(1e-30)) as f32,
    )
}

/// Both gradients at each of `temps`, on logits as given and zero-meaned per example.
pub fn compare(
    student: &[f32],
    teacher: &[f32],
    classes: usize,
    temps: &[f32],
) -> Vec<GradientPoint> {
    let centre = |x: &[f32]| -> Vec<f32> { x.chunks(classes).flat_map(centred).collect() };
    let (zs, zt) = (centre(student), centre(teacher));
    let mut out = Vec::new();
    for zero_mean in [false, true] {
        let (s, v) = if zero_mean {
            (zs.as_slice(), zt.as_slice())
        } else {
            (student, teacher)
        };
        let matching = matching_gradient(s, v, classes);
        for &t in temps {
            let (cosine, norm_ratio) = cosine_and_ratio(&kd_gradient(s, v, classes, t), &matching);
            out.push(GradientPoint {
                temperature: t,
                zero_mean,
                cosine,
                norm_ratio,
            });
        }
    }
    out
}

/// The comparison as CSV.
pub fn to_csv(points: &[GradientPoint]) -> String {
    let mut out = String::from("temperature,zero_mean,cosine,norm_ratio\n");
    for p in points {
        out.push_str(&format!(
            "{},{},{},{}\n",
            p.temperature, p.zero_mean, p.cosine, p.norm_ratio
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Combine;
    use crate::distill::{kl_divergence, teacher_soft_targets};
    use burn::prelude::*;

    /// Logits with a non-zero mean per example, like a real network's.
    fn batch() -> (Vec<f32>, Vec<f32>) {
        let student = vec![1.0, 2.5, -0.5, 0.3, 4.0, 3.0, 2.0, 1.0, -2.0, 0.0, 0.5, 1.5];
        let teacher = vec![
            6.0, 1.0, -3.0, 2.0, 7.0, 9.0, 5.5, 6.0, -1.0, -4.0, 2.0, 0.0,
        ];
        (student, teacher)
    }

    /// The closed form is the gradient the training loss really has (burn's autodiff).
    #[test]
    fn the_kd_gradient_is_the_losses_own() {
        let (s, v) = batch();
        let ad = Device::flex().autodiff();
        for t in [1.0f32, 4.0, 20.0] {
            let zs = Tensor::<1>::from_floats(s.as_slice(), &ad)
                .reshape([3, 4])
                .require_grad();
            let zt = Tensor::<1>::from_floats(v.as_slice(), &ad).reshape([3, 4]);
            let targets = teacher_soft_targets(&[zt], Combine::MeanLogits, t as f64);
            let loss = kl_divergence(&targets, zs.clone(), t as f64) * (t * t) as f64;
            let grads = loss.backward();
            let g: Vec<f32> = zs.grad(&grads).unwrap().into_data().try_to_vec().unwrap();
            let want = kd_gradient(&s, &v, 4, t);
            for (a, b) in g.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "T = {t}: {g:?} vs {want:?}");
            }
        }
    }

    /// Hinton's claim: on zero-mean logits the KD gradient turns into logit matching's as T
    /// grows (cosine past 0.99, the same size); on raw logits the directions stay apart.
    #[test]
    fn kd_becomes_logit_matching_at_high_t_on_zero_mean_logits() {
        let (s, v) = batch();
        let points = compare(&s, &v, 4, &temperatures());
        let at = |t: f32, zero_mean: bool| {
            *points
                .iter()
                .filter(|p| p.zero_mean == zero_mean)
                .min_by(|a, b| {
                    (a.temperature - t)
                        .abs()
                        .total_cmp(&(b.temperature - t).abs())
                })
                .unwrap()
        };
        let high = at(50.0, true);
        assert!(high.cosine > 0.99, "{high:?}");
        assert!((high.norm_ratio - 1.0).abs() < 0.05, "{high:?}");
        assert!(
            at(1.0, true).cosine < high.cosine,
            "the agreement grows with T"
        );
        assert!(
            at(50.0, false).cosine < 0.9,
            "raw logits: {:?}",
            at(50.0, false)
        );
    }
}
