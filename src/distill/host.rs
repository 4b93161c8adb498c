//! The same softmax arithmetic on plain `f32` slices, for the window: re-softening cached
//! logits at any T instantly, entropies, and the effective number of classes.

use crate::config::Combine;

/// `softmax(z / T)`, computed with the maximum subtracted so large logits cannot overflow.
pub fn softmax(logits: &[f32], temperature: f32) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits
        .iter()
        .map(|&z| ((z - max) / temperature).exp())
        .collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Shannon entropy in nats.
pub fn entropy(probs: &[f32]) -> f32 {
    probs
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| -p * p.ln())
        .sum()
}

/// `exp(entropy)`: 1 for a one-hot distribution, N for a uniform one over N classes.
pub fn effective_classes(probs: &[f32]) -> f32 {
    entropy(probs).exp()
}

/// KL(p ‖ q) in nats.
pub fn kl(p: &[f32], q: &[f32]) -> f32 {
    p.iter()
        .zip(q)
        .filter(|&(&pi, _)| pi > 0.0)
        .map(|(&pi, &qi)| pi * (pi.ln() - qi.max(1e-30).ln()))
        .sum()
}

/// The ensemble's distribution at T from each member's logits for one example.
/// No members give an empty distribution.
pub fn ensemble_softmax(members: &[&[f32]], combine: Combine, temperature: f32) -> Vec<f32> {
    let Some(first) = members.first() else {
        return Vec::new();
    };
    let k = first.len();
    let n = members.len() as f32;
    match combine {
        Combine::MeanLogits => {
            let mean: Vec<f32> = (0..k)
                .map(|i| members.iter().map(|m| m[i]).sum::<f32>() / n)
                .collect();
            softmax(&mean, temperature)
        }
        Combine::MeanProbabilities => {
            let probs: Vec<Vec<f32>> = members.iter().map(|m| softmax(m, temperature)).collect();
            (0..k)
                .map(|i| probs.iter().map(|p| p[i]).sum::<f32>() / n)
                .collect()
        }
    }
}

/// Index of the largest value (the predicted class).
pub fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_at_temperature_matches_pytorch() {
        let p = softmax(&[2.0, 1.0, 0.1], 4.0);
        for (g, w) in p.iter().zip([0.416548, 0.324408, 0.259045]) {
            assert!((g - w).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn entropy_grows_with_temperature_towards_log_n() {
        let z = [5.0, 1.0, -2.0, 0.0];
        let h: Vec<f32> = [0.5, 1.0, 5.0, 50.0]
            .iter()
            .map(|&t| entropy(&softmax(&z, t)))
            .collect();
        assert!(h.windows(2).all(|w| w[0] < w[1]), "{h:?}");
        assert!((effective_classes(&softmax(&z, 1e4)) - 4.0).abs() < 1e-2);
        assert!((effective_classes(&softmax(&z, 0.01)) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn huge_logits_do_not_overflow() {
        let p = softmax(&[1000.0, 0.0], 1.0);
        assert_eq!(p, vec![1.0, 0.0]);
    }
}
