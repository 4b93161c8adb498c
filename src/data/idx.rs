//! IDX files (MNIST, Fashion-MNIST), gzipped or raw, with every header field checked.
//!
//! Layout: two zero bytes, a type code (0x08 = unsigned byte, the only type image and label
//! files use), the number of dimensions, each dimension as a big-endian u32, then the data.

use super::{DataError, Dataset, ImageShape, read_all};
use crate::config::IdxFiles;
use std::path::{Path, PathBuf};

/// A decoded unsigned-byte IDX array.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

fn idx_error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Idx {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Decode IDX bytes. `path` only names the file in errors.
pub fn read_idx(bytes: &[u8], path: &Path) -> Result<IdxArray, DataError> {
    if bytes.len() < 4 {
        return Err(idx_error(
            path,
            format!("only {} bytes, too short for a header", bytes.len()),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(idx_error(
            path,
            format!(
                "wrong magic number {:02x}{:02x}{:02x}{:02x} (an IDX file starts with 0000)",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(idx_error(
            path,
            format!(
                "element type 0x{:02x} is not unsigned bytes (0x08)",
                bytes[2]
            ),
        ));
    }
    let ndim = bytes[3] as usize;
    if ndim == 0 || ndim > 4 {
        return Err(idx_error(
            path,
            format!("{ndim} dimensions; expected 1 to 4"),
        ));
    }
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(idx_error(path, "truncated inside the header"));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| idx_error(path, format!("dimensions {dims:?} overflow")))?;
    let actual = bytes.len() - header;
    if actual != expected {
        let what = if actual < expected {
            "truncated"
        } else {
            "longer than its header says"
        };
        return Err(idx_error(
            path,
            format!(
                "{what}: dimensions {dims:?} need {expected} data bytes, the file has {actual}"
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

fn read_idx_file(path: &Path) -> Result<IdxArray, DataError> {
    read_idx(&read_all(path)?, path)
}

/// Images as `[n, rows, cols]` with pixels scaled to [0, 1].
pub fn read_idx_images(path: &Path) -> Result<(Vec<f32>, usize, ImageShape), DataError> {
    let arr = read_idx_file(path)?;
    let (n, shape) = match arr.dims[..] {
        [n, h, w] => (
            n,
            ImageShape {
                channels: 1,
                height: h,
                width: w,
            },
        ),
        [n, c, h, w] => (
            n,
            ImageShape {
                channels: c,
                height: h,
                width: w,
            },
        ),
        _ => {
            return Err(idx_error(
                path,
                format!(
                    "an image file has 3 dimensions (count, rows, columns), this one {:?}",
                    arr.dims
                ),
            ));
        }
    };
    if shape.pixels() == 0 {
        return Err(idx_error(path, "images have no pixels"));
    }
    let pixels = arr.data.iter().map(|&p| p as f32 / 255.0).collect();
    Ok((pixels, n, shape))
}

/// Labels as class indices.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u32>, DataError> {
    let arr = read_idx_file(path)?;
    if arr.dims.len() != 1 {
        return Err(idx_error(
            path,
            format!("a label file has 1 dimension, this one {:?}", arr.dims),
        ));
    }
    Ok(arr.data.iter().map(|&l| l as u32).collect())
}

/// Images and labels of one split, counts checked against each other. With `fixed_classes`
/// (MNIST, Fashion-MNIST: 10 named classes) a label outside them is an error; otherwise the
/// classes are `0..=max label`.
fn read_pair(
    images: &Path,
    labels: &Path,
    fixed_classes: Option<&[String]>,
) -> Result<Dataset, DataError> {
    let (features, n, shape) = read_idx_images(images)?;
    let labels_v = read_idx_labels(labels)?;
    if labels_v.len() != n {
        return Err(DataError::Invalid {
            path: labels.to_path_buf(),
            message: format!(
                "{} labels, but {} has {n} images",
                labels_v.len(),
                images.display()
            ),
        });
    }
    if let Some(names) = fixed_classes
        && let Some((i, &label)) = labels_v
            .iter()
            .enumerate()
            .find(|&(_, &l)| l as usize >= names.len())
    {
        return Err(DataError::Invalid {
            path: labels.to_path_buf(),
            message: format!(
                "example {i} has the label {label}, but this dataset has {} classes (labels 0 to {})",
                names.len(),
                names.len() - 1
            ),
        });
    }
    let max_label = labels_v.iter().copied().max().unwrap_or(0) as usize;
    let num_classes = fixed_classes.map_or(max_label + 1, <[String]>::len);
    if num_classes < 2 {
        return Err(DataError::Invalid {
            path: labels.to_path_buf(),
            message: "every label is the same: there is nothing to classify".into(),
        });
    }
    Ok(Dataset {
        features,
        labels: labels_v,
        num_features: shape.pixels(),
        num_classes,
        image: Some(shape),
        class_names: match fixed_classes {
            Some(names) => names.to_vec(),
            None => Dataset::numbered_classes(num_classes),
        },
    })
}

/// Every test label must be a class the training split has: a model cannot be scored on a
/// class it has no output for, nor fairly on one it never saw. The test set takes the
/// training set's classes.
fn check_test_labels(
    train: &Dataset,
    test: &mut Dataset,
    test_labels: &Path,
) -> Result<(), DataError> {
    let mut seen = vec![false; train.num_classes];
    for &l in &train.labels {
        seen[l as usize] = true;
    }
    if let Some((i, &label)) = test
        .labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| !seen.get(l as usize).copied().unwrap_or(false))
    {
        return Err(DataError::Invalid {
            path: test_labels.to_path_buf(),
            message: format!(
                "test example {i} has the label {label}, which no training example has \
                 (training labels: {})",
                seen.iter()
                    .enumerate()
                    .filter(|&(_, &s)| s)
                    .map(|(c, _)| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    test.num_classes = train.num_classes;
    test.class_names = train.class_names.clone();
    Ok(())
}

/// The file `stem` in `dir`, gzipped or raw, under its canonical or dotted name.
fn find(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    let candidates = [
        format!("{stem}.gz"),
        stem.to_string(),
        format!("{dotted}.gz"),
        dotted,
    ];
    candidates
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            DataError::Other(format!(
                "{} has no {stem}(.gz): expected the four MNIST-style files \
                 train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and \
                 t10k-labels-idx1-ubyte (point --data-dir at the folder that holds them)",
                dir.display()
            ))
        })
}

/// An MNIST-layout folder: the canonical four files, with the given class names.
pub fn load_mnist_folder(
    dir: &Path,
    class_names: &[String],
) -> Result<(Dataset, Dataset), DataError> {
    if !dir.is_dir() {
        return Err(DataError::Other(format!(
            "data folder {} does not exist (point --data-dir at the folder with the IDX files)",
            dir.display()
        )));
    }
    let train = read_pair(
        &find(dir, "train-images-idx3-ubyte")?,
        &find(dir, "train-labels-idx1-ubyte")?,
        Some(class_names),
    )?;
    let test_labels = find(dir, "t10k-labels-idx1-ubyte")?;
    let mut test = read_pair(
        &find(dir, "t10k-images-idx3-ubyte")?,
        &test_labels,
        Some(class_names),
    )?;
    check_same_shape(&train, &test, dir)?;
    check_test_labels(&train, &mut test, &test_labels)?;
    Ok((train, test))
}

fn check_same_shape(train: &Dataset, test: &Dataset, dir: &Path) -> Result<(), DataError> {
    if train.image != test.image {
        return Err(DataError::Invalid {
            path: dir.to_path_buf(),
            message: format!(
                "training images are {:?} but test images are {:?}",
                train.image, test.image
            ),
        });
    }
    Ok(())
}

/// IDX files named one by one; the test pair is optional.
pub fn load_idx_files(files: &IdxFiles) -> Result<(Dataset, Option<Dataset>), DataError> {
    let at = |p: &Path| match &files.dir {
        Some(dir) => dir.join(p),
        None => p.to_path_buf(),
    };
    let train = read_pair(&at(&files.train_images), &at(&files.train_labels), None)?;
    let test = match (&files.test_images, &files.test_labels) {
        (Some(images), Some(labels)) => {
            let mut test = read_pair(&at(images), &at(labels), None)?;
            check_test_labels(&train, &mut test, &at(labels))?;
            Some(test)
        }
        (None, None) => None,
        _ => {
            return Err(DataError::Other(
                "give both test_images and test_labels, or neither".into(),
            ));
        }
    };
    if let Some(test) = &test {
        check_same_shape(&train, test, &at(&files.train_images))?;
    }
    Ok((train, test))
}

pub const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(data);
        b
    }

    /// Write a four-file MNIST folder of 2×2 images with the given labels.
    fn mnist_folder(train: &[u8], test: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let images = |n: usize| idx_bytes(&[n as u32, 2, 2], &vec![7; n * 4]);
        let write =
            |name: &str, bytes: Vec<u8>| std::fs::write(dir.path().join(name), bytes).unwrap();
        write("train-images-idx3-ubyte", images(train.len()));
        write(
            "train-labels-idx1-ubyte",
            idx_bytes(&[train.len() as u32], train),
        );
        write("t10k-images-idx3-ubyte", images(test.len()));
        write(
            "t10k-labels-idx1-ubyte",
            idx_bytes(&[test.len() as u32], test),
        );
        dir
    }

    fn ten_classes() -> Vec<String> {
        Dataset::numbered_classes(10)
    }

    #[test]
    fn an_mnist_label_outside_its_ten_classes_names_the_file_and_label() {
        let dir = mnist_folder(&[0, 1, 99, 2], &[0, 1]);
        let err = load_mnist_folder(dir.path(), &ten_classes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("train-labels-idx1-ubyte"), "{err}");
        assert!(
            err.contains("example 2 has the label 99") && err.contains("10 classes"),
            "{err}"
        );
    }

    #[test]
    fn a_test_label_the_training_split_never_has_is_an_error() {
        let dir = mnist_folder(&[0, 1, 0, 1], &[0, 5]);
        let err = load_mnist_folder(dir.path(), &ten_classes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("t10k-labels-idx1-ubyte"), "{err}");
        assert!(err.contains("test example 1 has the label 5"), "{err}");
        assert!(err.contains("training labels: 0, 1"), "{err}");
    }

    #[test]
    fn idx_test_split_takes_the_training_classes() {
        let dir = mnist_folder(&[0, 1, 2, 3], &[0, 1]);
        let files = IdxFiles {
            dir: Some(dir.path().to_path_buf()),
            train_images: "train-images-idx3-ubyte".into(),
            train_labels: "train-labels-idx1-ubyte".into(),
            test_images: Some("t10k-images-idx3-ubyte".into()),
            test_labels: Some("t10k-labels-idx1-ubyte".into()),
        };
        let (train, test) = load_idx_files(&files).unwrap();
        let test = test.unwrap();
        // Scored by a 4-class model, the test set must be a 4-class dataset too.
        assert_eq!((train.num_classes, test.num_classes), (4, 4));
        let dir = mnist_folder(&[0, 1, 0, 1], &[0, 3]);
        let files = IdxFiles {
            dir: Some(dir.path().to_path_buf()),
            ..files
        };
        let err = load_idx_files(&files).unwrap_err().to_string();
        assert!(err.contains("label 3"), "{err}");
    }

    #[test]
    fn reads_a_well_formed_array() {
        let arr = read_idx(&idx_bytes(&[2, 3], &[1, 2, 3, 4, 5, 6]), Path::new("x")).unwrap();
        assert_eq!(arr.dims, vec![2, 3]);
        assert_eq!(arr.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_bad_magic_truncation_and_trailing_bytes() {
        let p = Path::new("f");
        let mut bad = idx_bytes(&[2], &[1, 2]);
        bad[0] = 0x1f;
        assert!(read_idx(&bad, p).unwrap_err().to_string().contains("magic"));
        let short = idx_bytes(&[3], &[1, 2]);
        assert!(
            read_idx(&short, p)
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let long = idx_bytes(&[1], &[1, 2]);
        assert!(
            read_idx(&long, p)
                .unwrap_err()
                .to_string()
                .contains("longer")
        );
        let mut float = idx_bytes(&[1], &[1]);
        float[2] = 0x0d;
        assert!(
            read_idx(&float, p)
                .unwrap_err()
                .to_string()
                .contains("0x0d")
        );
    }
}
