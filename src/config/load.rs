//! RON in and out, with errors that say where and what.

use super::{Experiment, validate::Problem};
use ron::extensions::Extensions;
use std::fmt;
use std::path::{Path, PathBuf};

/// Anything wrong with a preset, from an unreadable file to out-of-range values.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read preset {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Syntax, type or field-name errors, with the place in the file.
    #[error("{location}: {message}")]
    Parse { location: String, message: String },
    #[error("--set {assignment}: {message}")]
    Override { assignment: String, message: String },
    /// Every value that parsed but is out of range, reported together.
    #[error("{}", Problem::list(.0))]
    Invalid(Vec<Problem>),
}

/// The RON dialect presets are written in: `Some` may be left out, and a newtype variant
/// holding a struct may be written `Mlp(hidden: [16])` rather than `Mlp((hidden: [16]))`.
fn ron_options() -> ron::Options {
    ron::Options::default()
        .with_default_extension(Extensions::IMPLICIT_SOME)
        .with_default_extension(Extensions::UNWRAP_VARIANT_NEWTYPES)
}

/// Read and parse a preset file; values are not range-checked here (see [`super::validate`]).
pub fn load_file(path: &Path) -> Result<Experiment, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    from_ron_str(&text, &path.display().to_string())
}

/// Parse RON text; `origin` names the text in error messages (usually the file path).
pub fn from_ron_str(text: &str, origin: &str) -> Result<Experiment, ConfigError> {
    parse_ron(text, origin)
}

/// Parse any RON document in the presets' dialect (lesson files too), with the same errors.
pub fn parse_ron<T: serde::de::DeserializeOwned>(
    text: &str,
    origin: &str,
) -> Result<T, ConfigError> {
    ron_options().from_str::<T>(text).map_err(|err| {
        let (line, col) = (err.span.start.line, err.span.start.col);
        ConfigError::Parse {
            location: format!("{origin}:{line}:{col}"),
            message: format!("{}{}", explain(&err.code), excerpt(text, line, col)),
        }
    })
}

/// How much of the offending line an error shows on each side of the column: a minified
/// preset can be one line of hundreds of kilobytes.
const EXCERPT_HALF_WIDTH: usize = 40;

/// The offending line with a caret under the column, as compilers show it; a long line is
/// cut around the column, with `…` where it was cut.
fn excerpt(text: &str, line: usize, col: usize) -> String {
    let Some(source) = text.lines().nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let chars: Vec<char> = source.chars().collect();
    let at = col.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(EXCERPT_HALF_WIDTH);
    let end = (at + EXCERPT_HALF_WIDTH).min(chars.len());
    let head = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    let shown: String = chars[start..end].iter().collect();
    let pad: String = std::iter::once(head)
        .filter(|h| !h.is_empty())
        .map(|_| ' ')
        .chain(
            chars[start..at]
                .iter()
                .map(|&c| if c == '\t' { '\t' } else { ' ' }),
        )
        .collect();
    format!("\n    {head}{shown}{tail}\n    {pad}^")
}

/// Serialise an experiment in the same dialect, readable by [`from_ron_str`].
pub fn to_ron_string(experiment: &Experiment) -> String {
    let pretty = ron::ser::PrettyConfig::new()
        .depth_limit(4)
        .indentor("    ".to_string());
    let body = ron_options()
        .to_string_pretty(experiment, pretty)
        .expect("an Experiment always serialises");
    format!("Experiment{body}\n")
}

/// Turn ron's error into a sentence, adding the nearest valid name for a misspelt one.
fn explain(code: &ron::Error) -> String {
    match code {
        ron::Error::NoSuchStructField {
            expected,
            found,
            outer,
        } => unknown_name("field", found, expected, outer.as_deref()),
        ron::Error::NoSuchEnumVariant {
            expected,
            found,
            outer,
        } => unknown_name("variant", found, expected, outer.as_deref()),
        other => other.to_string(),
    }
}

fn unknown_name(kind: &str, found: &str, expected: &[&str], outer: Option<&str>) -> String {
    let place = outer.map(|o| format!(" in {o}")).unwrap_or_default();
    let hint = nearest(found, expected)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    format!(
        "unknown {kind} `{found}`{place}{hint} (expected one of: {})",
        ExpectedList(expected)
    )
}

/// The candidate closest to `found`, if any is close enough to be a plausible typo.
pub(crate) fn nearest<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&found.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

struct ExpectedList<'a>(&'a [&'a str]);

impl fmt::Display for ExpectedList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_through_ron() {
        let exp = Experiment::default();
        let text = to_ron_string(&exp);
        assert!(text.starts_with("Experiment("), "{text}");
        assert_eq!(from_ron_str(&text, "t").unwrap(), exp);
    }

    #[test]
    fn empty_struct_is_all_defaults() {
        assert_eq!(from_ron_str("()", "t").unwrap(), Experiment::default());
    }

    #[test]
    fn misspelt_field_names_the_nearest_valid_one() {
        let err = from_ron_str("(distill: (temprature: 2.0))", "p.ron").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("p.ron:1:"), "{msg}");
        assert!(msg.contains("did you mean `temperature`"), "{msg}");
    }

    #[test]
    fn misspelt_variant_names_the_nearest_valid_one() {
        let err = from_ron_str("(distill: (loss: LogitMSE))", "p").unwrap_err();
        assert!(err.to_string().contains("`LogitMse`"), "{err}");
    }

    #[test]
    fn syntax_error_has_line_column_and_a_caret() {
        let err = from_ron_str("(\n  seed: 1,\n  name: \"x\" oops\n)", "f.ron").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("f.ron:3:"), "{msg}");
        assert!(msg.contains("\n      name: \"x\" oops\n"), "{msg}");
        assert!(msg.trim_end().ends_with('^'), "{msg}");
    }

    #[test]
    fn an_error_on_a_huge_line_shows_only_the_place_around_it() {
        let filler = "1, ".repeat(100_000);
        let text = format!("(seed: 1, student: Mlp(hidden: [{filler}]), oops: 3)");
        let msg = from_ron_str(&text, "big.ron").unwrap_err().to_string();
        assert!(msg.len() < 1_000, "{} bytes: {}", msg.len(), &msg[..300]);
        assert!(msg.contains("oops"), "{msg}");
        let lines: Vec<&str> = msg.lines().collect();
        let (shown, caret) = (lines[lines.len() - 2], lines[lines.len() - 1]);
        assert!(shown.contains('…'), "{shown}");
        // The caret sits under the column the error names.
        let at = caret.chars().count() - 1;
        assert_eq!(shown.chars().nth(at), Some('o'), "{shown}\n{caret}");
    }

    #[test]
    fn newtype_variants_need_no_double_parentheses() {
        let exp = from_ron_str(
            "(student: Mlp(hidden: [30, 30], activation: Tanh), teacher: (weights: \"w\"))",
            "t",
        )
        .unwrap();
        let crate::config::ArchSpec::Mlp(mlp) = exp.student else {
            panic!("expected an MLP")
        };
        assert_eq!(mlp.hidden, vec![30, 30]);
        assert_eq!(exp.teacher.weights, Some(PathBuf::from("w")));
    }
}
