//! Stratified, seeded selections of example indices.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// A reproducible random generator for one purpose of one experiment. `stream` keeps the
/// purposes (split, subset, shuffling) independent of each other.
pub fn rng(seed: u64, stream: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Indices of each class, shuffled with `seed`.
fn shuffled_by_class(
    labels: &[u32],
    num_classes: usize,
    seed: u64,
    stream: u64,
) -> Vec<Vec<usize>> {
    let mut by_class = vec![Vec::new(); num_classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l as usize].push(i);
    }
    let mut rng = rng(seed, stream);
    for idx in &mut by_class {
        idx.shuffle(&mut rng);
    }
    by_class
}

/// How many of `count` examples a share `fraction` keeps: rounded, and at least one of any
/// class that has examples, so no class vanishes from a small subset by rounding.
fn share(count: usize, fraction: f64) -> usize {
    if count == 0 {
        return 0;
    }
    ((count as f64 * fraction).round() as usize).clamp(1, count)
}

/// Split into (train, test) with `test_fraction` of every class in the test set. Both lists
/// are sorted, so the split does not depend on the order classes are visited in.
pub fn stratified_split(
    labels: &[u32],
    num_classes: usize,
    test_fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for idx in shuffled_by_class(labels, num_classes, seed, 1) {
        // A class with a single example goes to training: it cannot be in both.
        let n_test = if idx.len() < 2 {
            0
        } else {
            share(idx.len(), test_fraction).min(idx.len() - 1)
        };
        test.extend_from_slice(&idx[..n_test]);
        train.extend_from_slice(&idx[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// A stratified subset keeping `fraction` of every class, sorted.
pub fn stratified_subset(
    labels: &[u32],
    num_classes: usize,
    fraction: f64,
    seed: u64,
) -> Vec<usize> {
    if fraction >= 1.0 {
        return (0..labels.len()).collect();
    }
    let mut keep: Vec<usize> = shuffled_by_class(labels, num_classes, seed, 2)
        .into_iter()
        .flat_map(|idx| {
            let n = share(idx.len(), fraction);
            idx.into_iter().take(n)
        })
        .collect();
    keep.sort_unstable();
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<u32> {
        (0..1000).map(|i| (i % 10) as u32).collect()
    }

    #[test]
    fn split_is_stratified_disjoint_and_seeded() {
        let l = labels();
        let (train, test) = stratified_split(&l, 10, 0.2, 7);
        assert_eq!((train.len(), test.len()), (800, 200));
        for c in 0..10 {
            assert_eq!(test.iter().filter(|&&i| l[i] == c).count(), 20);
        }
        let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(stratified_split(&l, 10, 0.2, 7).1, test);
        assert_ne!(stratified_split(&l, 10, 0.2, 8).1, test);
    }

    #[test]
    fn subset_keeps_every_class() {
        let l = labels();
        let keep = stratified_subset(&l, 10, 0.005, 1);
        // 100 per class × 0.005 rounds to 1 (never 0).
        assert_eq!(keep.len(), 10);
        let mut classes: Vec<u32> = keep.iter().map(|&i| l[i]).collect();
        classes.sort_unstable();
        assert_eq!(classes, (0..10).collect::<Vec<_>>());
    }
}
