//! CSV files: numeric feature columns and one label column (numbers or names).

use super::{DataError, Dataset, open_maybe_gz};
use crate::config::{CsvSource, LabelColumn};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

/// Load a CSV file as configured.
pub fn load_csv(cfg: &CsvSource) -> Result<Dataset, DataError> {
    let reader = open_maybe_gz(&cfg.path)?;
    parse_csv(reader, &cfg.path, cfg.label_column.as_ref(), cfg.has_header)
}

/// Parse CSV from any reader; `path` names the source in errors (lines and columns 1-based).
pub fn parse_csv(
    reader: impl Read,
    path: &Path,
    label_column: Option<&LabelColumn>,
    has_header: bool,
) -> Result<Dataset, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(has_header)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let err = |line: u64, column: usize, message: String| DataError::Csv {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let headers: Option<Vec<String>> = if has_header {
        let h = rdr.headers().map_err(|e| err(1, 0, e.to_string()))?;
        Some(h.iter().map(str::to_string).collect())
    } else {
        None
    };

    let mut width: Option<usize> = headers.as_ref().map(Vec::len);
    let mut label_idx: Option<usize> = None;
    let mut features = Vec::new();
    let mut raw_labels = Vec::new();
    for record in rdr.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, 0, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record[0].is_empty() {
            continue; // a blank line
        }
        let w = *width.get_or_insert(record.len());
        if record.len() != w {
            return Err(err(
                line,
                record.len().min(w) + 1,
                format!("this row has {} columns, the first has {w}", record.len()),
            ));
        }
        let li = match label_idx {
            Some(li) => li,
            None => *label_idx.insert(resolve_label(label_column, headers.as_deref(), w, path)?),
        };
        for (j, cell) in record.iter().enumerate() {
            if j == li {
                raw_labels.push(cell.to_string());
                continue;
            }
            let v: f32 = cell
                .parse()
                .map_err(|_| err(line, j + 1, format!("`{cell}` is not a number")))?;
            if !v.is_finite() {
                return Err(err(line, j + 1, format!("`{cell}` is not a finite number")));
            }
            features.push(v);
        }
    }
    let width = width.unwrap_or(0);
    if raw_labels.is_empty() {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: "the file has no data rows".into(),
        });
    }
    if width < 2 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: "a CSV needs at least one feature column besides the label".into(),
        });
    }
    let (labels, class_names) = index_labels(&raw_labels);
    if class_names.len() < 2 {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "every row has the label `{}`: a classifier needs at least two classes",
                class_names[0]
            ),
        });
    }
    Ok(Dataset {
        features,
        labels,
        num_features: width - 1,
        num_classes: class_names.len(),
        image: None,
        class_names,
    })
}

fn resolve_label(
    column: Option<&LabelColumn>,
    headers: Option<&[String]>,
    width: usize,
    path: &Path,
) -> Result<usize, DataError> {
    let missing = |message: String| DataError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    match column {
        None => Ok(width - 1),
        Some(LabelColumn::Index(i)) if *i < width => Ok(*i),
        Some(LabelColumn::Index(i)) => Err(missing(format!(
            "label column {i} does not exist: rows have {width} columns (0 to {})",
            width - 1
        ))),
        Some(LabelColumn::Name(name)) => {
            let Some(headers) = headers else {
                return Err(missing(format!(
                    "label column `{name}` is named, but the file is read without a header \
                     (set has_header: true, or give the column's index)"
                )));
            };
            headers.iter().position(|h| h == name).ok_or_else(|| {
                missing(format!(
                    "no column is named `{name}` (columns: {})",
                    headers.join(", ")
                ))
            })
        }
    }
}

/// Map label strings to class indices: numerically sorted if all are numbers, else by name.
fn index_labels(raw: &[String]) -> (Vec<u32>, Vec<String>) {
    let distinct: BTreeSet<&str> = raw.iter().map(String::as_str).collect();
    let mut names: Vec<&str> = distinct.into_iter().collect();
    if names.iter().all(|n| n.parse::<f64>().is_ok()) {
        names.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
        });
    }
    let index = |s: &str| names.iter().position(|n| *n == s).unwrap() as u32;
    let labels = raw.iter().map(|s| index(s)).collect();
    (labels, names.into_iter().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, label: Option<LabelColumn>, header: bool) -> Result<Dataset, DataError> {
        parse_csv(text.as_bytes(), Path::new("t.csv"), label.as_ref(), header)
    }

    #[test]
    fn header_and_named_label_column() {
        let d = parse(
            "a,species,b\n1,cat,2\n3,dog,4\n5,cat,6\n",
            Some(LabelColumn::Name("species".into())),
            true,
        )
        .unwrap();
        assert_eq!(d.features, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(d.labels, vec![0, 1, 0]);
        assert_eq!(d.class_names, vec!["cat", "dog"]);
    }

    #[test]
    fn numeric_labels_sort_numerically() {
        let d = parse("1,10\n2,9\n3,2\n", None, false).unwrap();
        assert_eq!(d.class_names, vec!["2", "9", "10"]);
        assert_eq!(d.labels, vec![2, 1, 0]);
    }

    #[test]
    fn bad_cell_names_line_and_column() {
        let e = parse("1,2,0\n3,x,1\n", None, false).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:2:2: `x` is not a number");
    }

    #[test]
    fn ragged_row_empty_file_single_class_missing_column() {
        let e = parse("1,2,0\n3,1\n", None, false).unwrap_err().to_string();
        assert!(e.contains("t.csv:2:") && e.contains("2 columns"), "{e}");
        let e = parse("", None, false).unwrap_err().to_string();
        assert!(e.contains("no data rows"), "{e}");
        let e = parse("1,0\n2,0\n", None, false).unwrap_err().to_string();
        assert!(e.contains("at least two classes"), "{e}");
        let e = parse("a,b\n1,0\n", Some(LabelColumn::Name("label".into())), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no column is named `label`"), "{e}");
    }
}
