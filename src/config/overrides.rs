//! `--set key.path=value`: change any field of an experiment by its dotted path.
//!
//! The experiment is turned into a JSON tree (serde's externally tagged form), the value —
//! written in RON, as in a preset — is parsed into the same form, placed at the path, and the
//! tree is turned back into an `Experiment`, so every field and every enum is reachable
//! without a hand-kept table of paths. Path segments step through an enum's payload
//! transparently: `data.source.classes` reaches into `Synthetic(classes: ..)`.

use super::{ConfigError, Experiment, load::nearest};
use serde_json::{Map, Value};

/// Apply each `key.path=value` in order.
pub fn apply_overrides(exp: &Experiment, sets: &[String]) -> Result<Experiment, ConfigError> {
    sets.iter().try_fold(exp.clone(), |acc, assignment| {
        apply_override(&acc, assignment)
    })
}

/// Apply one `key.path=value`.
pub fn apply_override(exp: &Experiment, assignment: &str) -> Result<Experiment, ConfigError> {
    let fail = |message: String| ConfigError::Override {
        assignment: assignment.to_string(),
        message,
    };
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| fail("expected key.path=value".into()))?;
    let segments: Vec<&str> = path.trim().split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(fail(format!("`{path}` is not a dotted field path")));
    }
    let mut tree = serde_json::to_value(exp).expect("an Experiment always serialises");
    let slot = walk(&mut tree, &segments).map_err(fail)?;
    *slot = parse_value(raw.trim());
    serde_json::from_value(tree).map_err(|e| fail(format!("{e}")))
}

/// The node at `segments`, descending through enum payloads where the name is not a variant.
fn walk<'a>(mut node: &'a mut Value, segments: &[&str]) -> Result<&'a mut Value, String> {
    let mut walked = Vec::new();
    for segment in segments {
        node = step(node, segment, &walked.join("."))?;
        walked.push(*segment);
    }
    Ok(node)
}

fn step<'a>(node: &'a mut Value, segment: &str, at: &str) -> Result<&'a mut Value, String> {
    let node = unwrap_variant(node, segment);
    match node {
        Value::Object(map) => {
            if !map.contains_key(segment) {
                return Err(unknown_field(map, segment, at));
            }
            Ok(map.get_mut(segment).expect("checked above"))
        }
        Value::Array(items) => {
            let len = items.len();
            segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get_mut(i))
                .ok_or_else(|| {
                    format!("`{at}` is a list of {len}; `{segment}` is not an index in it")
                })
        }
        other => Err(format!("`{at}` is {other}, which has no field `{segment}`")),
    }
}

/// Step into `{"Variant": payload}` unless the segment names the variant itself.
fn unwrap_variant<'a>(node: &'a mut Value, segment: &str) -> &'a mut Value {
    let is_variant = matches!(node, Value::Object(map) if map.len() == 1
        && !map.contains_key(segment)
        && map.keys().all(|k| k.starts_with(|c: char| c.is_ascii_uppercase())));
    if !is_variant {
        return node;
    }
    match node {
        Value::Object(map) => map.values_mut().next().expect("one entry"),
        _ => unreachable!("checked above"),
    }
}

fn unknown_field(map: &Map<String, Value>, segment: &str, at: &str) -> String {
    let names: Vec<&str> = map.keys().map(String::as_str).collect();
    let hint = nearest(segment, &names)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    let place = if at.is_empty() {
        "the experiment".to_string()
    } else {
        format!("`{at}`")
    };
    format!(
        "{place} has no field `{segment}`{hint} (fields: {})",
        names.join(", ")
    )
}

/// Parse a RON value into serde's JSON form; text that is not RON is taken as a plain string,
/// so paths need no quotes (`--set teacher.weights=runs/a/weights`).
fn parse_value(text: &str) -> Value {
    let mut parser = RonParser {
        chars: text.chars().collect(),
        pos: 0,
    };
    match parser.value() {
        Ok(v) if parser.at_end() => v,
        _ => Value::String(text.to_string()),
    }
}

/// A small recursive-descent reader for the RON values a command line needs.
struct RonParser {
    chars: Vec<char>,
    pos: usize,
}

type Parsed = Result<Value, ()>;

impl RonParser {
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.chars.len()
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Parsed {
        match self.peek().ok_or(())? {
            '"' => self.string(),
            '[' => self.list(),
            '(' => self.group(),
            c if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => self.number(),
            c if c.is_alphabetic() || c == '_' => self.word(),
            _ => Err(()),
        }
    }

    fn string(&mut self) -> Parsed {
        self.pos += 1; // opening quote
        let mut out = String::new();
        while let Some(&c) = self.chars.get(self.pos) {
            self.pos += 1;
            match c {
                '"' => return Ok(Value::String(out)),
                '\\' => {
                    let escaped = *self.chars.get(self.pos).ok_or(())?;
                    self.pos += 1;
                    out.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
                c => out.push(c),
            }
        }
        Err(())
    }

    fn number(&mut self) -> Parsed {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_alphanumeric() || "+-._".contains(*c))
        {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
        let f = text.parse::<f64>().map_err(|_| ())?;
        serde_json::Number::from_f64(f).map(Value::Number).ok_or(())
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self
            .chars
            .get(self.pos)
            .is_some_and(|c| c.is_alphanumeric() || *c == '_')
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// `true`, `None`, `Some(x)`, a unit variant, or `Variant(...)`.
    fn word(&mut self) -> Parsed {
        let name = self.ident();
        match name.as_str() {
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            "None" => return Ok(Value::Null),
            _ => {}
        }
        if self.peek() != Some('(') {
            return Ok(Value::String(name));
        }
        let inner = self.group()?;
        if name == "Some" {
            return Ok(inner);
        }
        Ok(Value::Object(Map::from_iter([(name, inner)])))
    }

    fn list(&mut self) -> Parsed {
        self.pos += 1;
        let mut items = Vec::new();
        while !self.eat(']') {
            items.push(self.value()?);
            if !self.eat(',') && self.peek() != Some(']') {
                return Err(());
            }
        }
        Ok(Value::Array(items))
    }

    /// `(a: 1, b: 2)` as a map, `(x)` as `x`, `(x, y)` as a list.
    fn group(&mut self) -> Parsed {
        self.pos += 1;
        let mut fields = Map::new();
        let mut items = Vec::new();
        while !self.eat(')') {
            let save = self.pos;
            let key = if self.peek().is_some_and(|c| c.is_alphabetic()) {
                let k = self.ident();
                if self.eat(':') { Some(k) } else { None }
            } else {
                None
            };
            if key.is_none() {
                self.pos = save;
            }
            let v = self.value()?;
            match key {
                Some(k) => {
                    fields.insert(k, v);
                }
                None => items.push(v),
            }
            if !self.eat(',') && self.peek() != Some(')') {
                return Err(());
            }
        }
        match (fields.is_empty(), items.len()) {
            (false, 0) => Ok(Value::Object(fields)),
            (true, 1) => Ok(items.pop().expect("one item")),
            (true, _) => Ok(Value::Array(items)),
            (false, _) => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ArchSpec, DataSource, SoftLoss, SyntheticKind, SyntheticSpec};

    fn set(exp: &Experiment, a: &str) -> Experiment {
        apply_override(exp, a).unwrap_or_else(|e| panic!("{a}: {e}"))
    }

    #[test]
    fn numbers_and_enums_by_path() {
        let base = Experiment::default();
        let e = set(&base, "train.epochs=2");
        assert_eq!(e.train.epochs, 2);
        let e = set(&e, "distill.temperature=8");
        assert_eq!(e.distill.temperature, 8.0);
        let e = set(&e, "distill.loss=LogitMse");
        assert_eq!(e.distill.loss, SoftLoss::LogitMse);
        let e = set(&e, "train.optimizer.lr=0.01");
        assert_eq!(e.train.optimizer.learning_rate(), 0.01);
    }

    #[test]
    fn whole_subtrees_and_lists() {
        let base = Experiment::default();
        let e = set(&base, "student=Mlp(hidden: [30, 30], dropout: 0.1)");
        let ArchSpec::Mlp(m) = &e.student else {
            panic!()
        };
        assert_eq!((m.hidden.clone(), m.dropout), (vec![30, 30], 0.1));
        let e = set(&e, "transfer.omit_classes=[3]");
        assert_eq!(e.transfer.omit_classes, vec![3]);
        let e = set(&e, "teacher.members.0.hidden=[64]");
        let ArchSpec::Mlp(m) = &e.teacher.members[0] else {
            panic!()
        };
        assert_eq!(m.hidden, vec![64]);
    }

    #[test]
    fn paths_step_through_enum_payloads() {
        let mut base = Experiment::default();
        base.data.source = DataSource::Synthetic(SyntheticSpec::default());
        let e = set(&base, "data.source.classes=5");
        let e = set(&e, "data.source.kind=Moons");
        let DataSource::Synthetic(s) = &e.data.source else {
            panic!()
        };
        assert_eq!((s.classes, s.kind), (5, SyntheticKind::Moons));
    }

    #[test]
    fn bare_words_are_strings() {
        let e = set(&Experiment::default(), "teacher.weights=runs/a/weights");
        assert_eq!(e.teacher.weights.unwrap().to_str(), Some("runs/a/weights"));
        let e = set(&Experiment::default(), "name=my run");
        assert_eq!(e.name, "my run");
    }

    #[test]
    fn unknown_path_suggests_the_nearest_field() {
        let err = apply_override(&Experiment::default(), "distill.temprature=3").unwrap_err();
        assert!(
            err.to_string().contains("did you mean `temperature`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_is_an_error() {
        let err = apply_override(&Experiment::default(), "train.epochs=many").unwrap_err();
        assert!(err.to_string().contains("train.epochs=many"), "{err}");
    }
}
