//! The CSV reader never panics, with or without a header, whichever label column is named,
//! and what it accepts is a well-formed dataset.
#![no_main]

use distillery::config::LabelColumn;
use distillery::data::parse_csv;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let has_header = mode & 1 == 1;
    let label = match mode >> 1 & 3 {
        0 => None,
        1 => Some(LabelColumn::Index((mode >> 3) as usize)),
        2 => Some(LabelColumn::Name("label".into())),
        _ => Some(LabelColumn::Name(String::new())),
    };
    if let Ok(d) = parse_csv(body, Path::new("fuzz.csv"), label.as_ref(), has_header) {
        assert_eq!(d.features.len(), d.len() * d.num_features);
        assert!(d.num_classes >= 2);
        assert!(d.labels.iter().all(|&l| (l as usize) < d.num_classes));
        assert!(d.features.iter().all(|v| v.is_finite()));
    }
});
