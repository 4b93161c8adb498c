//! The presets shipped in `presets/`, embedded so the menu works from any folder.

use crate::config::{Experiment, from_ron_str};

pub const BUILT_IN: [(&str, &str); 8] = [
    ("digits-mlp", include_str!("../../presets/digits-mlp.ron")),
    (
        "digits-few-labels",
        include_str!("../../presets/digits-few-labels.ron"),
    ),
    ("omit-class", include_str!("../../presets/omit-class.ron")),
    ("ensemble", include_str!("../../presets/ensemble.ron")),
    (
        "logit-matching",
        include_str!("../../presets/logit-matching.ron"),
    ),
    (
        "spirals-teaching",
        include_str!("../../presets/spirals-teaching.ron"),
    ),
    (
        "mnist-hinton",
        include_str!("../../presets/mnist-hinton.ron"),
    ),
    (
        "mnist-small-student",
        include_str!("../../presets/mnist-small-student.ron"),
    ),
];

/// A built-in preset by name.
pub fn built_in(name: &str) -> Option<Experiment> {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| from_ron_str(text, n).expect("built-in presets parse"))
}

/// The first comment paragraph of a preset: what it demonstrates.
pub fn description(name: &str) -> String {
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| {
            text.lines()
                .take_while(|l| l.starts_with("//"))
                .map(|l| l.trim_start_matches("//").trim())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_built_in_preset_parses_and_validates() {
        for (name, _) in super::BUILT_IN {
            let exp = super::built_in(name).unwrap();
            // MNIST presets name a folder that --data-dir usually replaces.
            let problems: Vec<_> = crate::config::validate(&exp)
                .into_iter()
                .filter(|p| !(name.starts_with("mnist") && p.field == "data.source"))
                .collect();
            assert!(problems.is_empty(), "{name}: {problems:?}");
            assert!(!super::description(name).is_empty());
        }
    }
}
