//! Seeded two-dimensional toy problems for teaching: spirals, moons, blobs, circles.
//!
//! Each kind fills roughly the square [-1, 2]², and `noise` is the standard deviation of the
//! Gaussian noise added to each coordinate (the scikit-learn convention for moons and circles).

use super::{Dataset, split::rng};
use crate::config::{SyntheticKind, SyntheticSpec};
use rand::RngExt;
use rand::rngs::StdRng;
use std::f64::consts::PI;

/// `spec.samples` points split as evenly as possible over `spec.classes` classes.
pub fn generate(spec: &SyntheticSpec, seed: u64) -> Dataset {
    let mut rng = rng(seed, 3);
    let k = spec.classes.max(1);
    let mut features = Vec::with_capacity(spec.samples * 2);
    let mut labels = Vec::with_capacity(spec.samples);
    for i in 0..spec.samples {
        let class = i % k;
        // Position of this point along its class's curve, in [0, 1).
        let t = (i / k) as f64 / spec.samples.div_ceil(k) as f64;
        let (x, y) = point(spec.kind, class, k, t, &mut rng);
        features.push((x + spec.noise * normal(&mut rng)) as f32);
        features.push((y + spec.noise * normal(&mut rng)) as f32);
        labels.push(class as u32);
    }
    Dataset {
        features,
        labels,
        num_features: 2,
        num_classes: k,
        image: None,
        class_names: Dataset::numbered_classes(k),
    }
}

fn point(kind: SyntheticKind, class: usize, k: usize, t: f64, rng: &mut StdRng) -> (f64, f64) {
    let c = class as f64;
    match kind {
        SyntheticKind::Spirals => {
            // Arms start at the centre and turn about 0.6 of a revolution.
            let angle = 2.0 * PI * c / k as f64 + 4.0 * t;
            (t * angle.cos(), t * angle.sin())
        }
        SyntheticKind::Moons => {
            // scikit-learn's two moons, continued as an interleaved chain for k > 2.
            let a = PI * t;
            let sign = if class.is_multiple_of(2) { 1.0 } else { -1.0 };
            let y = if class.is_multiple_of(2) {
                a.sin()
            } else {
                0.5 - a.sin()
            };
            (c + sign * a.cos(), y)
        }
        SyntheticKind::Blobs => {
            let angle = 2.0 * PI * c / k as f64;
            (angle.cos(), angle.sin())
        }
        SyntheticKind::Circles => {
            let radius = (c + 1.0) / k as f64;
            let angle = 2.0 * PI * rng.random::<f64>();
            (radius * angle.cos(), radius * angle.sin())
        }
    }
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_seeded_and_noisy() {
        let spec = SyntheticSpec {
            kind: SyntheticKind::Spirals,
            classes: 3,
            samples: 300,
            noise: 0.1,
        };
        let a = generate(&spec, 1);
        assert_eq!(a.class_counts(), vec![100, 100, 100]);
        assert_eq!(a, generate(&spec, 1));
        assert_ne!(a.features, generate(&spec, 2).features);
        let quiet = generate(&SyntheticSpec { noise: 0.0, ..spec }, 1);
        // Without noise every spiral point lies within the unit disc.
        assert!(
            quiet
                .features
                .chunks(2)
                .all(|p| p[0].hypot(p[1]) <= 1.0 + 1e-6)
        );
    }

    #[test]
    fn circles_are_concentric_rings() {
        let spec = SyntheticSpec {
            kind: SyntheticKind::Circles,
            classes: 2,
            samples: 200,
            noise: 0.0,
        };
        let d = generate(&spec, 5);
        for (p, &l) in d.features.chunks(2).zip(&d.labels) {
            let r = p[0].hypot(p[1]);
            let want = (l as f32 + 1.0) / 2.0;
            assert!((r - want).abs() < 1e-5);
        }
    }
}
