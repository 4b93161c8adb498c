//! Datasets in memory: features as one row-major `f32` buffer, labels as class indices.
//!
//! Every source (embedded digits, synthetic 2-D, IDX, CSV) produces a [`Dataset`]; [`load`]
//! turns a [`DataConfig`] into normalised, stratified train/test [`Splits`], and
//! [`transfer`] selects the student's transfer set from the training split.

mod csv_source;
mod digits;
mod idx;
pub mod split;
mod synthetic;
pub mod transfer;

pub use csv_source::{load_csv, parse_csv};
pub use idx::{read_idx, read_idx_images, read_idx_labels};
pub use synthetic::generate as generate_synthetic;
pub use transfer::{TransferSet, select_transfer};

use crate::config::{DataConfig, DataSource};
use std::path::{Path, PathBuf};

/// Shape of one image example, channels first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// Examples in memory. `features` holds `len() × num_features` values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    pub num_features: usize,
    pub num_classes: usize,
    /// Set for image data: a CNN and pixel jitter need it.
    pub image: Option<ImageShape>,
    pub class_names: Vec<String>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The features of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
    }

    /// A new dataset of the given examples, in the given order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut features = Vec::with_capacity(indices.len() * self.num_features);
        for &i in indices {
            features.extend_from_slice(self.row(i));
        }
        Dataset {
            features,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..self.empty_like()
        }
    }

    fn empty_like(&self) -> Dataset {
        Dataset {
            features: Vec::new(),
            labels: Vec::new(),
            num_features: self.num_features,
            num_classes: self.num_classes,
            image: self.image,
            class_names: self.class_names.clone(),
        }
    }

    /// How many examples each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Default class names "0", "1", ...
    pub fn numbered_classes(k: usize) -> Vec<String> {
        (0..k).map(|c| c.to_string()).collect()
    }
}

/// The training and test examples of an experiment, normalised.
#[derive(Debug, Clone)]
pub struct Splits {
    pub train: Dataset,
    pub test: Dataset,
    /// What the data is, for summaries ("MNIST (data/mnist)").
    pub description: String,
}

/// Why data could not be loaded. Each names the file and, where known, the place in it.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid IDX file: {message}", path.display())]
    Idx { path: PathBuf, message: String },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Other(String),
}

/// Load the configured source and split it into normalised train and test sets.
pub fn load(config: &DataConfig, seed: u64) -> Result<Splits, DataError> {
    let description = config.source.label();
    let (train, test) = match &config.source {
        DataSource::Digits => split_off_test(digits::load()?, config.test_fraction, seed)?,
        DataSource::Mnist(dir) => idx::load_mnist_folder(dir, &Dataset::numbered_classes(10))?,
        DataSource::FashionMnist(dir) => {
            let names: Vec<String> = idx::FASHION_CLASSES.iter().map(|s| s.to_string()).collect();
            idx::load_mnist_folder(dir, &names)?
        }
        DataSource::Idx(files) => match idx::load_idx_files(files)? {
            (train, Some(test)) => (train, test),
            (all, None) => split_off_test(all, config.test_fraction, seed)?,
        },
        DataSource::Csv(csv) => split_off_test(load_csv(csv)?, config.test_fraction, seed)?,
        DataSource::Synthetic(spec) => {
            split_off_test(synthetic::generate(spec, seed), config.test_fraction, seed)?
        }
    };
    let (train, test) = normalise(train, test, &config.source);
    Ok(Splits {
        train,
        test,
        description,
    })
}

fn split_off_test(all: Dataset, fraction: f64, seed: u64) -> Result<(Dataset, Dataset), DataError> {
    let (train_idx, test_idx) =
        split::stratified_split(&all.labels, all.num_classes, fraction, seed);
    if train_idx.is_empty() || test_idx.is_empty() {
        return Err(DataError::Other(format!(
            "{} examples are too few to split into train and test sets",
            all.len()
        )));
    }
    Ok((all.subset(&train_idx), all.subset(&test_idx)))
}

/// Image pixels are already in [0, 1] (the loaders scale them); other features are
/// standardised with the training set's mean and deviation so every input has unit scale.
fn normalise(mut train: Dataset, mut test: Dataset, source: &DataSource) -> (Dataset, Dataset) {
    if source.is_image() {
        return (train, test);
    }
    let stats = FeatureStats::of(&train);
    stats.apply(&mut train);
    stats.apply(&mut test);
    (train, test)
}

/// Per-feature mean and standard deviation.
pub struct FeatureStats {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl FeatureStats {
    pub fn of(data: &Dataset) -> Self {
        let d = data.num_features;
        let n = data.len().max(1) as f64;
        let mut sum = vec![0f64; d];
        let mut sq = vec![0f64; d];
        for row in data.features.chunks_exact(d) {
            for (j, &v) in row.iter().enumerate() {
                sum[j] += v as f64;
                sq[j] += (v as f64) * (v as f64);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(s, m)| (s / n - m * m).max(0.0).sqrt())
            // A constant feature stays as it is rather than dividing by zero.
            .map(|s| if s < 1e-8 { 1.0 } else { s as f32 })
            .collect();
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    pub fn apply(&self, data: &mut Dataset) {
        for row in data.features.chunks_exact_mut(self.mean.len()) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (*v - self.mean[j]) / self.std[j];
            }
        }
    }
}

/// Open a file and, if its name ends in `.gz`, decompress it as it is read.
pub(crate) fn open_maybe_gz(path: &Path) -> Result<Box<dyn std::io::Read>, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = std::io::BufReader::new(file);
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::GzDecoder::new(reader)))
    } else {
        Ok(Box::new(reader))
    }
}

/// Read a whole (possibly gzipped) file, naming it in any error.
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>, DataError> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut open_maybe_gz(path)?, &mut bytes).map_err(|e| {
        DataError::Invalid {
            path: path.to_path_buf(),
            message: format!("the file is damaged or not gzip data ({e})"),
        }
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardised_features_have_zero_mean_unit_deviation() {
        let mut d = Dataset {
            features: vec![1.0, 10.0, 3.0, 10.0, 5.0, 10.0],
            labels: vec![0, 1, 0],
            num_features: 2,
            num_classes: 2,
            image: None,
            class_names: Dataset::numbered_classes(2),
        };
        let stats = FeatureStats::of(&d);
        stats.apply(&mut d);
        let col0: Vec<f32> = d.features.iter().step_by(2).copied().collect();
        let mean = col0.iter().sum::<f32>() / 3.0;
        let var = col0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 3.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{col0:?}");
        // The constant column is centred, not blown up.
        assert_eq!(d.features[1], 0.0);
    }
}
