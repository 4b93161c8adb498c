//! The embedded default: the UCI optical-recognition digits (see `assets/DIGITS-ATTRIBUTION.md`).

use super::{DataError, Dataset, ImageShape, csv_source::parse_csv};
use std::path::Path;

const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../assets/digits.csv.gz");

/// Pixel values in the file run from 0 to 16.
const MAX_PIXEL: f32 = 16.0;

/// 1797 images of 8×8 pixels scaled to [0, 1], labels 0..9.
pub fn load() -> Result<Dataset, DataError> {
    let reader = flate2::read::GzDecoder::new(DIGITS_CSV_GZ);
    let mut data = parse_csv(reader, Path::new("embedded digits.csv.gz"), None, false)?;
    for v in &mut data.features {
        *v /= MAX_PIXEL;
    }
    data.image = Some(ImageShape {
        channels: 1,
        height: 8,
        width: 8,
    });
    Ok(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_digits_are_the_uci_test_set() {
        let d = super::load().unwrap();
        assert_eq!((d.len(), d.num_features, d.num_classes), (1797, 64, 10));
        // scikit-learn's load_digits has between 174 and 183 examples per class.
        let counts = d.class_counts();
        assert_eq!(counts.iter().sum::<usize>(), 1797);
        assert_eq!(*counts.iter().min().unwrap(), 174);
        assert_eq!(*counts.iter().max().unwrap(), 183);
        assert!(d.features.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_eq!(d.labels[..3], [0, 1, 2]);
    }
}
