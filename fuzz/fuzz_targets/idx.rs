//! The IDX reader never panics on any bytes, gzipped or raw, and what it accepts is
//! consistent with its header.
#![no_main]

use distillery::data::read_idx;
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(arr) = read_idx(data, Path::new("fuzz")) {
        assert_eq!(arr.data.len(), arr.dims.iter().product::<usize>());
    }
    // The same bytes as a gzip stream, as the loader reads `.gz` files.
    let mut unzipped = Vec::new();
    if flate2_decode(data, &mut unzipped) {
        let _ = read_idx(&unzipped, Path::new("fuzz.gz"));
    }
});

fn flate2_decode(data: &[u8], out: &mut Vec<u8>) -> bool {
    flate2::read::GzDecoder::new(data)
        .take(1 << 20)
        .read_to_end(out)
        .is_ok()
}
