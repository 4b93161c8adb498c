//! Dropout with masks drawn by a counter-based generator on the CPU.
//!
//! burn's `Dropout` draws every mask element from a ChaCha generator, one at a time; on flex
//! that was about a fifth of a 1200-1200 teacher's step. Here the CPU's mask comes from
//! SplitMix64 over a counter (two 32-bit draws per hash, filled in parallel), already scaled
//! by `1/(1 − p)`, and the layer is one multiplication. The output is burn's formula
//! (`x·mask/(1 − p)`, with the mask 0 or 1); only the random stream differs. On a GPU burn's
//! own generator runs on the device, so there the layer is burn's.
//!
//! The stream is per thread, reseeded with [`seed`] when a phase starts, as burn's generator
//! is with `Device::seed`: the same seed gives the same masks.

use burn::prelude::*;
use burn::tensor::Distribution;
use rayon::prelude::*;
use std::cell::Cell;

thread_local! {
    /// The counter base of the next mask.
    static STREAM: Cell<u64> = const { Cell::new(0x243F_6A88_85A3_08D3) };
}

/// Mask elements per rayon task (each task hashes its own counter range).
const CHUNK: usize = 1 << 15;

/// Reseed this thread's mask stream.
pub fn seed(seed: u64) {
    STREAM.set(splitmix64(seed ^ 0x6A09_E667_F3BC_C908));
}

/// SplitMix64's output function: a bijective mix of a 64-bit counter.
#[inline(always)]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` mask values, each `scale` with probability `keep` and 0 otherwise, from counters
/// `base, base + 1, …` (two elements per counter).
fn mask(n: usize, keep: f64, base: u64) -> Vec<f32> {
    // A 32-bit draw below the threshold keeps the unit: P = threshold / 2³².
    let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64) as u32;
    let scale = (1.0 / keep) as f32;
    let pick = |bits: u32| if bits < threshold { scale } else { 0.0 };
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let first = base.wrapping_add((c * CHUNK / 2) as u64);
            for (k, pair) in chunk.chunks_mut(2).enumerate() {
                let h = splitmix64(first.wrapping_add(k as u64));
                pair[0] = pick(h as u32);
                if let Some(second) = pair.get_mut(1) {
                    *second = pick((h >> 32) as u32);
                }
            }
        });
    out
}

/// The next mask of this thread's stream.
fn next_mask(n: usize, keep: f64) -> Vec<f32> {
    let base = STREAM.get();
    STREAM.set(splitmix64(base));
    mask(n, keep, base)
}

/// Dropout with probability `prob`, active only on an autodiff (training) device.
#[derive(Module, Debug)]
pub struct FastDropout {
    #[module(skip)]
    prob: f64,
}

impl FastDropout {
    pub fn new(prob: f64) -> Self {
        assert!(
            prob.is_finite() && (0.0..1.0).contains(&prob),
            "dropout probability {prob} is outside [0, 1)"
        );
        Self { prob }
    }

    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        let device = input.device();
        if self.prob == 0.0 || !device.is_autodiff() {
            return input;
        }
        let keep = 1.0 - self.prob;
        if device != Device::flex().autodiff() {
            let random = input.random_like(Distribution::Bernoulli(keep));
            return input * random * (1.0 / keep);
        }
        let shape = input.shape();
        let values = next_mask(shape.num_elements(), keep);
        input * Tensor::from_data(TensorData::new(values, shape), &device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_the_right_share_scaled_and_repeat_with_the_seed() {
        let n = 200_003;
        let a = mask(n, 0.8, 99);
        let kept = a.iter().filter(|&&v| v != 0.0).count() as f64 / n as f64;
        assert!((kept - 0.8).abs() < 0.005, "kept {kept}");
        assert!(a.iter().all(|&v| v == 0.0 || v == 1.25));
        assert_eq!(a, mask(n, 0.8, 99));
        assert_ne!(a, mask(n, 0.8, 100));
        seed(5);
        let first = next_mask(1000, 0.5);
        let second = next_mask(1000, 0.5);
        assert_ne!(first, second, "successive masks differ");
        seed(5);
        assert_eq!(next_mask(1000, 0.5), first, "the seed restarts the stream");
    }

    #[test]
    fn training_drops_units_and_evaluation_passes_through() {
        let device = Device::flex();
        let x = Tensor::<2>::ones([64, 100], &device);
        let layer = FastDropout::new(0.5);
        let eval = layer.forward(x.clone()).into_data();
        assert_eq!(eval, x.into_data());
        let train = |seed_with: u64| -> Vec<f32> {
            seed(seed_with);
            layer
                .forward(Tensor::<2>::ones([64, 100], &device.clone().autodiff()))
                .into_data()
                .try_to_vec()
                .expect("f32")
        };
        let trained = train(11);
        // The masks come from this module's stream, not burn's generator.
        assert_eq!(train(11), trained);
        assert_ne!(train(12), trained);
        let zeros = trained.iter().filter(|&&v| v == 0.0).count();
        assert!((2900..3500).contains(&zeros), "{zeros} of 6400 dropped");
        assert!(trained.iter().all(|&v| v == 0.0 || v == 2.0));
    }
}
