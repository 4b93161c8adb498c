//! Every bad preset and bad data file in `tests/bad_input/`: exit code 2, a message naming
//! the problem, and never a panic — from `check` and from `run` alike.

use crate::support::{bin, root};
use std::process::Command;

/// (preset, words the message must contain)
const CASES: &[(&str, &[&str])] = &[
    ("syntax-error.ron", &["syntax-error.ron:4:32", "^"]),
    (
        "unknown-field.ron",
        &["unknown field `temprature`", "did you mean `temperature`"],
    ),
    (
        "unknown-variant.ron",
        &["unknown variant `KL`", "did you mean `Kl`"],
    ),
    ("wrong-type.ron", &["wrong-type.ron:2:", "Expected integer"]),
    (
        "negative-temperature.ron",
        &["distill.temperature = -1.0", "greater than 0"],
    ),
    ("zero-temperature.ron", &["distill.temperature = 0.0"]),
    (
        "alpha-out-of-range.ron",
        &["distill.alpha = 1.5", "between 0 and 1"],
    ),
    ("zero-width.ron", &["student.hidden = 0"]),
    ("absurd-width.ron", &["student.hidden = 10000000", "16384"]),
    ("batch-zero.ron", &["train.batch_size = 0"]),
    ("epochs-zero.ron", &["train.epochs = 0"]),
    (
        "fraction-zero.ron",
        &["transfer.fraction = 0.0", "greater than 0 and at most 1"],
    ),
    ("fraction-above-one.ron", &["transfer.fraction = 1.5"]),
    (
        "omit-every-class.ron",
        &["transfer.omit_classes", "omits every class"],
    ),
    (
        "empty-ensemble.ron",
        &["teacher.members = 0", "between 1 and 16 members"],
    ),
    ("cnn-on-points.ron", &["a CNN needs image data"]),
    ("cnn-too-deep.ron", &["4 pooling stages", "at most 3"]),
    (
        "many-problems.ron",
        &[
            "4 invalid settings",
            "distill.temperature",
            "distill.alpha",
            "train.batch_size",
            "train.epochs",
        ],
    ),
    (
        "missing-mnist-folder.ron",
        &["no-such-folder", "does not exist", "--data-dir"],
    ),
    ("missing-csv.ron", &["no-such.csv", "no such file"]),
    (
        "missing-teacher-weights.ron",
        &["teacher.weights", "no-weights"],
    ),
    (
        "teacher-weights-other-architecture.ron",
        &[
            "weights-mlp-8/teacher-0.bpk",
            "does not fit teacher member 0",
            "shape mismatch",
        ],
    ),
    (
        "teacher-weights-garbage.ron",
        &["weights-garbage/teacher-0.bpk", "cannot be read"],
    ),
    (
        "teacher-weights-truncated.ron",
        &["weights-truncated/teacher-0.bpk", "cannot be read"],
    ),
    ("huge-model.ron", &["GiB", "students", "free"]),
    ("csv-ragged.ron", &["ragged.csv:3:3", "2 columns"]),
    (
        "csv-non-numeric.ron",
        &["non-numeric.csv:3:2", "`four` is not a number"],
    ),
    ("csv-empty.ron", &["empty.csv", "no data rows"]),
    (
        "csv-single-class.ron",
        &["single-class.csv", "at least two classes"],
    ),
    (
        "csv-missing-label-column.ron",
        &["no column is named `label`", "x, y, kind"],
    ),
    (
        "idx-bad-magic.ron",
        &["bad-magic-images", "wrong magic number"],
    ),
    (
        "idx-truncated.ron",
        &["truncated-images", "truncated", "need 16 data bytes"],
    ),
    (
        "idx-trailing-bytes.ron",
        &["long-images", "longer than its header"],
    ),
    ("idx-count-mismatch.ron", &["3 labels", "4 images"]),
    (
        "idx-test-label-unseen.ron",
        &[
            "unseen-test-labels-idx1-ubyte",
            "label 7",
            "no training example",
        ],
    ),
    (
        "mnist-label-99.ron",
        &["train-labels-idx1-ubyte", "label 99", "10 classes"],
    ),
    (
        "idx-corrupt-gzip.ron",
        &["corrupt-images-idx3-ubyte.gz", "damaged or not gzip"],
    ),
    (
        "idx-dimension-mismatch.ron",
        &["labels-as-images", "1 dimension"],
    ),
    (
        "dkd-negative-weight.ron",
        &["distill.dkd.non_target_weight = -8.0", "between 0 and 100"],
    ),
    (
        "ctkd-zero-lr.ron",
        &["distill.ctkd.lr = 0.0", "greater than 0"],
    ),
    (
        "smooth-unlabeled.ron",
        &["distill.loss = LabelSmoothing", "transfer set is unlabeled"],
    ),
    (
        "weights-both-zero.ron",
        &["distill.weighting", "trains nothing"],
    ),
    (
        "unknown-method.ron",
        &["unknown variant `Dkdd`", "did you mean `dkd`"],
    ),
    (
        "dkd-unknown-param.ron",
        &["unknown field `tckd_weight`", "target_weight"],
    ),
];

fn distillery(args: &[&str]) -> (Option<i32>, String) {
    let o = Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

#[test]
fn every_bad_input_is_refused_with_a_clear_message() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("tests/bad_input"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every corpus file has a row in the table and every row a file"
    );
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let mut failures = Vec::new();
    for (file, words) in CASES {
        let path = format!("tests/bad_input/{file}");
        for args in [
            vec!["check", path.as_str()],
            vec!["run", path.as_str(), "--quiet", "--out", out],
        ] {
            let (code, text) = distillery(&args);
            let missing: Vec<&&str> = words.iter().filter(|w| !text.contains(**w)).collect();
            if code != Some(2) || !missing.is_empty() || text.contains("panicked") {
                failures.push(format!(
                    "{}: exit {code:?}, missing {missing:?}\n{text}",
                    args.join(" ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
