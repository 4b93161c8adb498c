//! The RON preset loader, validation, `--set` overrides and saving never panic, and what
//! is saved reads back the same.
#![no_main]

use distillery::config::{apply_override, from_ron_str, to_ron_string, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line, if it looks like one, is a --set assignment; the rest is the preset.
    let (assignment, preset) = match text.split_once('\n') {
        Some((first, rest)) if first.contains('=') => (Some(first), rest),
        _ => (None, text),
    };
    let Ok(mut exp) = from_ron_str(preset, "fuzz") else {
        return;
    };
    if let Some(a) = assignment
        && let Ok(changed) = apply_override(&exp, a)
    {
        exp = changed;
    }
    let _ = validate(&exp);
    let saved = to_ron_string(&exp);
    let back = from_ron_str(&saved, "saved").expect("a saved experiment reads back");
    assert_eq!(to_ron_string(&back), saved, "saving is stable");
});
