//! The transfer set: which training examples the teacher learns from and which the student
//! is distilled on. Both are index lists into the training split, so nothing is copied.

use super::{DataError, Dataset, split};
use crate::config::{TransferConfig, TransferSource};

#[derive(Debug, Clone, PartialEq)]
pub struct TransferSet {
    /// Training-split indices the teacher is trained on.
    pub teacher: Vec<usize>,
    /// Training-split indices the baseline and the student are trained on.
    pub transfer: Vec<usize>,
    /// Whether the student may use hard labels.
    pub labeled: bool,
    /// Training-split indices no phase trains on (every class, omitted ones included): where
    /// an omitted class's bias correction is chosen.
    pub validation: Vec<usize>,
}

/// Select the teacher's training examples and the transfer set from `train`.
pub fn select_transfer(
    train: &Dataset,
    cfg: &TransferConfig,
    seed: u64,
) -> Result<TransferSet, DataError> {
    let (all, validation) = if cfg.validation_fraction > 0.0 {
        split::stratified_split(
            &train.labels,
            train.num_classes,
            cfg.validation_fraction,
            seed ^ 0x7A11,
        )
    } else {
        ((0..train.len()).collect(), Vec::new())
    };
    let (teacher, pool) = match cfg.source {
        TransferSource::TrainSet => (all.clone(), all),
        TransferSource::HeldOut(share) => {
            let labels: Vec<u32> = all.iter().map(|&i| train.labels[i]).collect();
            let (kept, held) =
                split::stratified_split(&labels, train.num_classes, share, seed ^ 0x7EAC);
            let back = |js: Vec<usize>| js.into_iter().map(|j| all[j]).collect::<Vec<_>>();
            (back(kept), back(held))
        }
    };
    let pool_labels: Vec<u32> = pool.iter().map(|&i| train.labels[i]).collect();
    let kept = split::stratified_subset(&pool_labels, train.num_classes, cfg.fraction, seed);
    let transfer: Vec<usize> = kept
        .into_iter()
        .map(|j| pool[j])
        .filter(|&i| !cfg.omit_classes.contains(&(train.labels[i] as usize)))
        .collect();
    if transfer.is_empty() {
        return Err(DataError::Other(
            "the transfer set is empty: lower the omitted classes or raise transfer.fraction"
                .into(),
        ));
    }
    Ok(TransferSet {
        teacher,
        transfer,
        labeled: cfg.labeled,
        validation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> Dataset {
        Dataset {
            features: vec![0.0; 200],
            labels: (0..200).map(|i| (i % 4) as u32).collect(),
            num_features: 1,
            num_classes: 4,
            image: None,
            class_names: Dataset::numbered_classes(4),
        }
    }

    #[test]
    fn held_out_transfer_is_disjoint_from_the_teachers_data() {
        let cfg = TransferConfig {
            source: TransferSource::HeldOut(0.25),
            ..TransferConfig::default()
        };
        let t = select_transfer(&data(), &cfg, 3).unwrap();
        assert_eq!((t.teacher.len(), t.transfer.len()), (148, 52));
        assert!(t.transfer.iter().all(|i| !t.teacher.contains(i)));
    }

    #[test]
    fn omitted_classes_and_fraction() {
        let d = data();
        let cfg = TransferConfig {
            fraction: 0.1,
            omit_classes: vec![3],
            ..TransferConfig::default()
        };
        let t = select_transfer(&d, &cfg, 3).unwrap();
        assert_eq!(t.teacher.len(), 200);
        assert_eq!(t.transfer.len(), 15);
        assert!(t.transfer.iter().all(|&i| d.labels[i] != 3));
    }

    #[test]
    fn validation_is_held_out_from_every_phase_and_keeps_omitted_classes() {
        let d = data();
        let cfg = TransferConfig {
            source: TransferSource::HeldOut(0.5),
            omit_classes: vec![3],
            validation_fraction: 0.1,
            ..TransferConfig::default()
        };
        let t = select_transfer(&d, &cfg, 3).unwrap();
        assert_eq!(t.validation.len(), 20);
        for c in 0..4 {
            assert_eq!(
                t.validation.iter().filter(|&&i| d.labels[i] == c).count(),
                5
            );
        }
        for i in &t.validation {
            assert!(!t.teacher.contains(i) && !t.transfer.contains(i));
        }
        // 45 per class remain; half of each (23, rounded) is held out from the teacher, and
        // the held-out 3s are omitted from the transfer set.
        assert_eq!((t.teacher.len(), t.transfer.len()), (4 * 22, 3 * 23));
    }
}
