//! The `distillery` binary as a user runs it.

use crate::support::{bin, mnist_dir, root};
use std::process::Command;

fn distillery(args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn run_writes_every_output_file() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let o = distillery(&[
        "run",
        "presets/digits-mlp.ron",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "teacher.epochs=3",
        "--set",
        "train.epochs=10",
        "--set",
        "device=Cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in [
        "config.ron",
        "metrics.csv",
        "epochs.csv",
        "summary.json",
        "weights/teacher-0.bpk",
        "weights/teacher-0.safetensors",
        "weights/baseline.bpk",
        "weights/student.bpk",
        "weights/student.safetensors",
        "dark_knowledge.csv",
        "dark_knowledge.png",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    // Dark knowledge: each model's mean soft target per true class, a distribution per row.
    let dark = std::fs::read_to_string(dir.join("dark_knowledge.csv")).unwrap();
    let rows: Vec<&str> = dark.lines().skip(1).collect();
    assert_eq!(rows.len(), 20, "teacher and student, 10 classes each");
    for row in rows {
        let p: f32 = row
            .split(',')
            .skip(3)
            .map(|v| v.parse::<f32>().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-4, "{row}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    for key in ["teacher", "baseline", "student"] {
        let ece = summary[key]["ece"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ece), "{key} ECE {ece}");
        assert_eq!(summary[key]["reliability"].as_array().unwrap().len(), 15);
        let acc = summary[key]["test_accuracy"].as_f64().unwrap();
        assert!(acc > 0.5, "{key} accuracy {acc}");
        assert!(summary[key]["parameters"].as_u64().unwrap() > 0);
    }
    assert!(summary["student"]["samples_per_second"].as_f64().unwrap() > 0.0);
    assert!(summary["wall_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(summary["device"]["kind"], "cpu");
    // The resolved config records the overrides.
    let config = std::fs::read_to_string(dir.join("config.ron")).unwrap();
    assert!(config.contains("epochs: 10"), "{config}");
    // metrics.csv has one row per step: 3 teacher epochs + 10 + 10 of 23 steps each.
    let rows = std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows, 23 * 23);

    // A saved teacher can be loaded instead of trained.
    let again = out.path().join("again");
    let weights = dir.join("weights");
    let o = distillery(&[
        "run",
        "presets/digits-mlp.ron",
        "--quiet",
        "--out",
        again.to_str().unwrap(),
        "--set",
        &format!("teacher.weights={}", weights.display()),
        "--set",
        "train.epochs=1",
        "--set",
        "device=Cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s2["teacher"]["status"], "loaded");
    assert_eq!(
        s2["teacher"]["test_accuracy"],
        summary["teacher"]["test_accuracy"]
    );
}

#[test]
fn check_accepts_every_preset() {
    let top = std::fs::read_dir(root().join("presets")).unwrap();
    let methods = std::fs::read_dir(root().join("presets/methods")).unwrap();
    let files: Vec<_> = top
        .chain(methods)
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    assert!(files.len() >= 15, "{files:?}");
    for path in files {
        let mut args = vec!["check", path.to_str().unwrap()];
        let mnist = mnist_dir();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name.starts_with("mnist") {
            args.extend(["--data-dir", mnist.to_str().unwrap()]);
        }
        let o = distillery(&args);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
    }
}

#[test]
fn an_unwritable_output_folder_is_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out = file.join("run");
    let t0 = std::time::Instant::now();
    let o = distillery(&[
        "run",
        "presets/digits-mlp.ron",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("cannot write") && text(&o).contains("a-file"),
        "{}",
        text(&o)
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(5),
        "refused before any training"
    );
}

#[test]
fn bad_input_exits_2_with_a_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.ron");
    std::fs::write(&bad, "(distill: (temperature: -1.0, alpha: 2.0))").unwrap();
    let o = distillery(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("distill.temperature") && t.contains("distill.alpha"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");

    let o = distillery(&["check", "presets/digits-mlp.ron", "--set", "train.epochz=3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("did you mean `epochs`"), "{}", text(&o));

    let o = distillery(&[
        "check",
        "presets/mnist-hinton.ron",
        "--data-dir",
        "/nonexistent",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("/nonexistent"), "{}", text(&o));
}

#[test]
fn mnist_hinton_one_epoch_on_real_mnist() {
    let out = tempfile::tempdir().unwrap();
    let mnist = mnist_dir();
    let o = distillery(&[
        "run",
        "presets/mnist-hinton.ron",
        "--quiet",
        "--data-dir",
        mnist.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--set",
        "train.epochs=1",
        "--set",
        "teacher.epochs=1",
        "--set",
        "device=Cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    let teacher = s["teacher"]["test_accuracy"].as_f64().unwrap();
    let student = s["student"]["test_accuracy"].as_f64().unwrap();
    assert!(teacher >= 0.95, "teacher {teacher}");
    assert!(student >= 0.95, "student {student}");
}

#[test]
fn bench_reports_each_phases_throughput() {
    let o = distillery(&[
        "bench",
        "presets/digits-mlp.ron",
        "--repeat",
        "2",
        "--set",
        "teacher.epochs=2",
        "--set",
        "train.epochs=2",
        "--set",
        "device=Cpu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    for row in [
        "teacher examples/s",
        "baseline examples/s",
        "student examples/s",
        "wall seconds",
    ] {
        let line = t
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("{row} missing:\n{t}"));
        let numbers: Vec<f64> = line[row.len()..]
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(numbers.len(), 3, "{line}");
        assert!(
            numbers[0] > 0.0 && numbers[0] <= numbers[1] && numbers[1] <= numbers[2],
            "{line}"
        );
    }
}

#[test]
fn a_headless_run_prints_only_its_own_messages() {
    // No desktop session: the GPU probe's graphics stack complains about XDG_RUNTIME_DIR on
    // stderr. The command line keeps that out of its output and in the device info.
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args([
            "run",
            "presets/digits-mlp.ron",
            "--out",
            out.path().to_str().unwrap(),
            "--set",
            "teacher.epochs=1",
            "--set",
            "train.epochs=1",
            "--set",
            "device=Auto",
        ])
        .env_remove("XDG_RUNTIME_DIR")
        .current_dir(root())
        .output()
        .expect("the binary runs");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    // What the graphics stack said, if anything, is kept in the device info.
    if let Some(said) = summary["device"].get("probe_messages") {
        let said = said.as_str().unwrap();
        assert!(!said.is_empty() && !said.starts_with("error: "), "{said}");
    }
}

/// The teacher-assistant chain: step 2's teacher is step 1's distilled assistant, loaded from
/// its `student.bpk`; step 3 reloads step 1's teacher; the script prints the table.
#[test]
fn the_teacher_assistant_chain_runs_and_prints_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(root().join("scripts/teacher-assistant"))
        .arg(tmp.path())
        .args(["--set", "train.epochs=60", "--set", "teacher.epochs=5"])
        .env("DISTILLERY_BIN", crate::support::bin())
        .env("SEEDS", "11 12")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for row in [
        "assistant ",
        "student via TA",
        "student direct",
        "baseline ",
    ] {
        assert!(
            stdout.lines().any(|l| l.contains(row) && l.contains(" ± ")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("over seeds 11, 12"), "{stdout}");
    let summary = |step: &str| -> serde_json::Value {
        let dir = tmp.path().join("seed-12").join(step);
        let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (one, two, three) = (summary("ta-1"), summary("ta-2"), summary("ta-3"));
    assert_eq!(two["teacher"]["status"], "loaded");
    assert_eq!(two["teacher"]["parameters"], one["student"]["parameters"]);
    assert_eq!(
        two["teacher"]["test_accuracy"],
        one["student"]["test_accuracy"]
    );
    assert_eq!(
        three["teacher"]["test_accuracy"],
        one["teacher"]["test_accuracy"]
    );
    assert_eq!(
        two["baseline"]["test_accuracy"],
        three["baseline"]["test_accuracy"]
    );
}

/// `distillery gradients`: the KD gradient against logit matching's on real digits logits,
/// written as CSV and PNG; zero-meaned, the two agree better and better as T rises.
#[test]
fn gradients_writes_the_high_temperature_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("g");
    let preset = root().join("presets/digits-few-labels.ron");
    let o = distillery(&[
        "gradients",
        preset.to_str().unwrap(),
        "--set",
        "teacher.epochs=5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.join("gradients.png").is_file());
    let csv = std::fs::read_to_string(out.join("gradients.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 50, "25 temperatures, raw and zero-mean");
    let cosine = |zero_mean: &str, first: bool| -> f32 {
        let mut it = rows.iter().filter(|r| r[1] == zero_mean);
        let row = if first { it.next() } else { it.next_back() };
        row.unwrap()[2].parse().unwrap()
    };
    assert!(cosine("true", false) > cosine("true", true), "{csv}");
    assert!(cosine("true", false) > cosine("false", false), "{csv}");
    assert!(cosine("true", false) > 0.97, "{csv}");
}
