//! A headless run killed with SIGKILL at arbitrary moments leaves every output file either
//! absent or complete and readable.

use crate::support::{bin, root};
use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use distillery::config::{self, Experiment};
use distillery::model::{IoShape, Net};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Delays spread over the first ~3 s of a run that lasts longer (4–6 s on the 2-core
/// machine: start, training, and on a quiet machine the final writes), jittered by the clock so
/// each test run kills at other moments; printed so a failure can be reproduced.
fn kill_delays() -> Vec<Duration> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (0..10u64)
        .map(|i| {
            let jitter = (nanos.wrapping_mul(i + 7) >> 7) % 300;
            Duration::from_millis(i * 320 + jitter)
        })
        .collect()
}

fn check_file(path: &Path, exp: &Experiment) -> Result<(), String> {
    let name = path.file_name().unwrap().to_str().unwrap();
    let text = || std::fs::read_to_string(path).map_err(|e| e.to_string());
    let io = IoShape {
        inputs: 64,
        classes: 10,
        image: Some(distillery::data::ImageShape {
            channels: 1,
            height: 8,
            width: 8,
        }),
    };
    let device = burn::tensor::Device::flex();
    let spec = |stem: &str| {
        if stem.starts_with("teacher") {
            exp.teacher.members[0].clone()
        } else {
            exp.student.clone()
        }
    };
    match name {
        "config.ron" => config::from_ron_str(&text()?, name)
            .map(drop)
            .map_err(|e| e.to_string()),
        "metrics.csv" => {
            let steps = distillery::run::parse_steps(&text()?)?;
            // Rows are complete and in order within each phase.
            for w in steps.windows(2) {
                if w[0].phase == w[1].phase && w[1].step != w[0].step + 1 {
                    return Err(format!("steps jump from {} to {}", w[0].step, w[1].step));
                }
            }
            Ok(())
        }
        "epochs.csv" => distillery::run::parse_epochs(&text()?).map(drop),
        "summary.json" => serde_json::from_str::<distillery::train::Summary>(&text()?)
            .map(drop)
            .map_err(|e| e.to_string()),
        n if n.ends_with(".bpk") => {
            let net = Net::build(&spec(n), io, &device)?;
            net.try_load_file(path).map(drop).map_err(|e| e.to_string())
        }
        n if n.ends_with(".safetensors") => {
            let mut net = Net::build(&spec(n), io, &device)?;
            net.load_from(&mut SafetensorsStore::from_file(path))
                .map(drop)
                .map_err(|e| e.to_string())
        }
        "dark_knowledge.csv" => complete_dark_knowledge_csv(&text()?, io.classes),
        "dark_knowledge.png" => decodes_as_png(path),
        other => Err(format!("unexpected file {other}")),
    }
}

/// A header and, for the teacher and then the student, one row per true class, each with a
/// probability (or an empty cell) per class.
fn complete_dark_knowledge_csv(text: &str, classes: usize) -> Result<(), String> {
    let lines: Vec<&str> = text.lines().collect();
    let fields = 3 + classes;
    if lines.len() != 1 + 2 * classes {
        return Err(format!("{} lines, not {}", lines.len(), 1 + 2 * classes));
    }
    match lines.iter().find(|l| l.split(',').count() != fields) {
        Some(line) => Err(format!("a line without {fields} fields: {line:?}")),
        None => Ok(()),
    }
}

/// The whole image decodes.
fn decodes_as_png(path: &Path) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .map_err(|e| e.to_string())?;
    let mut pixels = vec![0; reader.output_buffer_size().ok_or("no image size")?];
    reader
        .next_frame(&mut pixels)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `distillery run presets/digits-mlp.ron --quiet --out DIR ARGS...`, stderr captured.
fn spawn_run(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .args([
            "run",
            "presets/digits-mlp.ron",
            "--quiet",
            "--out",
            dir.to_str().unwrap(),
        ])
        .args(args)
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_at_any_moment_leaves_only_complete_files() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--set",
        "device=Cpu",
        "--set",
        "teacher.epochs=120",
        "--set",
        "train.epochs=400",
    ];
    let mut exp = config::load_file(&root().join("presets/digits-mlp.ron")).unwrap();
    exp = config::apply_overrides(
        &exp,
        &args.chunks(2).map(|a| a[1].to_string()).collect::<Vec<_>>(),
    )
    .unwrap();
    let delays = kill_delays();
    println!("killing after {delays:?}");
    let mut seen = std::collections::BTreeSet::new();
    for (i, delay) in delays.iter().enumerate() {
        let dir = tmp.path().join(format!("run{i}"));
        let mut child = spawn_run(&dir, &args);
        std::thread::sleep(*delay);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        for folder in [dir.clone(), dir.join("weights")] {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_str().unwrap().to_string();
                if path.is_dir() || distillery::run::is_temporary(&name) {
                    continue;
                }
                check_file(&path, &exp).unwrap_or_else(|e| {
                    panic!("after {delay:?}: {} is damaged: {e}", path.display())
                });
                seen.insert(name);
            }
        }
    }
    println!("complete files seen: {seen:?}");
    assert!(
        seen.contains("config.ron") && seen.contains("metrics.csv"),
        "{seen:?}"
    );
}

#[test]
fn ctrl_c_stops_within_a_batch_and_writes_what_was_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut child = spawn_run(
        &dir,
        &["--set", "device=Cpu", "--set", "teacher.epochs=5000"],
    );
    // Interrupt once some epochs are on disk.
    let t0 = std::time::Instant::now();
    while !dir.join("epochs.csv").exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let interrupted_at = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    let stopping = interrupted_at.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stopping < Duration::from_secs(10),
        "stopping and writing took {stopping:?}"
    );
    let summary: distillery::train::Summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert!(summary.stopped);
    assert_eq!(
        summary.teacher.status,
        distillery::train::PhaseStatus::Stopped
    );
    assert!(summary.teacher.epochs_completed > 0 && summary.teacher.epochs_completed < 5000);
    assert!(
        summary.teacher.test_accuracy.unwrap() > 0.5,
        "the stopped teacher is measured"
    );
    assert!(
        dir.join("weights/teacher-0.bpk").is_file(),
        "its weights are kept"
    );
    let steps =
        distillery::run::parse_steps(&std::fs::read_to_string(dir.join("metrics.csv")).unwrap())
            .unwrap();
    assert!(!steps.is_empty());
}
