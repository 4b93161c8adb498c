//! Every dataset loader against real files.

use crate::support::mnist_dir;
use distillery::config::{
    CsvSource, DataConfig, DataSource, IdxFiles, LabelColumn, SyntheticKind, SyntheticSpec,
};
use distillery::data::{self, read_idx_labels};
use std::io::Write;

#[test]
fn real_mnist_loads_with_canonical_counts() {
    let cfg = DataConfig {
        source: DataSource::Mnist(mnist_dir()),
        test_fraction: 0.2,
    };
    let splits = data::load(&cfg, 0).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (60_000, 10_000));
    assert_eq!(splits.train.num_features, 784);
    assert_eq!(splits.train.num_classes, 10);
    // The canonical first labels and the test set's class counts.
    assert_eq!(splits.train.labels[..4], [5, 0, 4, 1]);
    assert_eq!(splits.test.labels[0], 7);
    assert_eq!(
        splits.test.class_counts(),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    let (lo, hi) = splits
        .train
        .features
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    assert_eq!((lo, hi), (0.0, 1.0));
}

#[test]
fn raw_idx_files_and_single_files_match_the_gzipped_ones() {
    let dir = tempfile::tempdir().unwrap();
    let gz = mnist_dir().join("t10k-labels-idx1-ubyte.gz");
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap()),
        &mut raw,
    )
    .unwrap();
    let raw_path = dir.path().join("t10k-labels-idx1-ubyte");
    std::fs::write(&raw_path, &raw).unwrap();
    assert_eq!(
        read_idx_labels(&raw_path).unwrap(),
        read_idx_labels(&gz).unwrap()
    );

    // Idx source with only a training pair: the test set is split off stratified.
    let files = IdxFiles {
        dir: Some(mnist_dir()),
        train_images: "t10k-images-idx3-ubyte.gz".into(),
        train_labels: "t10k-labels-idx1-ubyte.gz".into(),
        test_images: None,
        test_labels: None,
    };
    let cfg = DataConfig {
        source: DataSource::Idx(files),
        test_fraction: 0.25,
    };
    let splits = data::load(&cfg, 9).unwrap();
    // Each class's share is rounded separately: 2502 of the 10,000 go to the test set.
    assert_eq!(splits.train.len() + splits.test.len(), 10_000);
    assert!(
        (splits.test.len() as i64 - 2_500).abs() <= 5,
        "{}",
        splits.test.len()
    );
}

#[test]
fn truncated_and_corrupt_idx_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let gz = std::fs::read(mnist_dir().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let cut = dir.path().join("cut-labels-idx1-ubyte.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let err = read_idx_labels(&cut).unwrap_err().to_string();
    assert!(
        err.contains("cut-labels") && err.contains("damaged"),
        "{err}"
    );
}

#[test]
fn embedded_digits_split_is_stratified() {
    let splits = data::load(&DataConfig::default(), 42).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (1438, 359));
    assert_eq!(splits.train.image.unwrap().height, 8);
    for (train, test) in splits
        .train
        .class_counts()
        .iter()
        .zip(splits.test.class_counts())
    {
        let share = test as f64 / (train + test) as f64;
        assert!((share - 0.2).abs() < 0.01, "{share}");
    }
}

#[test]
fn csv_file_with_header_is_standardised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iris-like.csv");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "length,width,kind").unwrap();
    for i in 0..60 {
        let kind = ["a", "b", "c"][i % 3];
        writeln!(
            f,
            "{},{},{kind}",
            i as f32 * 0.1 + (i % 3) as f32,
            5.0 - (i % 3) as f32
        )
        .unwrap();
    }
    drop(f);
    let cfg = DataConfig {
        source: DataSource::Csv(CsvSource {
            path,
            label_column: Some(LabelColumn::Name("kind".into())),
            has_header: true,
        }),
        test_fraction: 0.2,
    };
    let splits = data::load(&cfg, 1).unwrap();
    assert_eq!(splits.train.class_names, vec!["a", "b", "c"]);
    assert_eq!(
        (
            splits.train.len(),
            splits.test.len(),
            splits.train.num_features
        ),
        (48, 12, 2)
    );
    let mean0: f32 = splits.train.features.iter().step_by(2).sum::<f32>() / 48.0;
    assert!(mean0.abs() < 1e-5, "training features are centred: {mean0}");
}

#[test]
fn every_synthetic_kind_is_balanced_and_seeded() {
    for kind in [
        SyntheticKind::Spirals,
        SyntheticKind::Moons,
        SyntheticKind::Blobs,
        SyntheticKind::Circles,
    ] {
        let spec = SyntheticSpec {
            kind,
            classes: 4,
            samples: 400,
            noise: 0.1,
        };
        let cfg = DataConfig {
            source: DataSource::Synthetic(spec),
            test_fraction: 0.25,
        };
        let a = data::load(&cfg, 3).unwrap();
        assert_eq!(a.test.class_counts(), vec![25; 4], "{kind:?}");
        assert_eq!(
            a.train.features,
            data::load(&cfg, 3).unwrap().train.features
        );
    }
}
