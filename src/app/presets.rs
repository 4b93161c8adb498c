//! The presets shipped in `presets/`, embedded so the menu works from any folder.

use crate::config::{Experiment, from_ron_str};

pub const BUILT_IN: [(&str, &str); 11] = [
    (
        "digits-few-labels",
        include_str!("../../presets/digits-few-labels.ron"),
    ),
    ("digits-mlp", include_str!("../../presets/digits-mlp.ron")),
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
    (
        "mnist-few-labels",
        include_str!("../../presets/mnist-few-labels.ron"),
    ),
    (
        "mnist-no-threes",
        include_str!("../../presets/mnist-no-threes.ron"),
    ),
    (
        "mnist-only-7-8",
        include_str!("../../presets/mnist-only-7-8.ron"),
    ),
];

/// The experiment the window opens the first time.
pub const DEFAULT: &str = "digits-few-labels";

/// A preset comment line that tells the user what to look at.
const LOOK_AT: &str = "Look at:";

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
            comment_lines(text)
                .filter(|l| !l.starts_with(LOOK_AT))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The one line a preset gives on what to watch while it runs, for the built-in preset
/// `name` (the experiment's name).
pub fn look_at(name: &str) -> Option<String> {
    let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name)?;
    comment_lines(text)
        .find_map(|l| l.strip_prefix(LOOK_AT))
        .map(|l| l.trim().to_string())
}

/// The preset's opening comment, line by line, without the `//`.
fn comment_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches("//").trim())
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
            assert!(!super::description(name).contains(super::LOOK_AT), "{name}");
        }
    }

    #[test]
    fn the_default_preset_says_so_and_what_to_look_at() {
        let (_, text) = super::BUILT_IN
            .iter()
            .find(|(n, _)| *n == super::DEFAULT)
            .unwrap();
        assert!(text.starts_with("// The default experiment"), "{text}");
        let hint = super::look_at(super::DEFAULT).expect("a Look at: line");
        assert!(
            hint.contains("baseline") && hint.contains("student"),
            "{hint}"
        );
        // Only one preset claims to be the default.
        let claims = super::BUILT_IN
            .iter()
            .filter(|(_, t)| t.starts_with("// The default experiment"))
            .count();
        assert_eq!(claims, 1);
    }
}
