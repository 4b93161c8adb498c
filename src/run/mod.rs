//! A run on disk: the resolved experiment, step and epoch metrics, the summary, and weights.
//!
//! Every file is written to a temporary name in the same folder, synced, then renamed over
//! the final name, so a run killed at any moment leaves each file either absent, as it was,
//! or complete — never truncated.

use crate::config::{Experiment, to_ron_string};
use crate::model::Net;
use crate::train::{EpochMetrics, History, Outcome, StepMetrics};

mod csv;
use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
pub use csv::{
    EPOCHS_HEADER, STEPS_HEADER, epochs_csv, parse_epochs, parse_steps, steps_csv, steps_header,
};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why run files could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {message}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

impl WriteError {
    fn io(path: &Path, e: std::io::Error) -> Self {
        WriteError {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// Create `dir` if needed and prove it is writable, before any training time is spent.
/// Temporary files a killed run left behind are removed.
pub fn prepare_out_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir.join("weights")).map_err(|e| WriteError::io(dir, e))?;
    for folder in [dir.to_path_buf(), dir.join("weights")] {
        remove_stale_temporaries(&folder);
    }
    let probe = dir.join(".distillery-write-test");
    write_atomic(&probe, b"ok")?;
    std::fs::remove_file(&probe).map_err(|e| WriteError::io(&probe, e))
}

/// Whether `name` is one of [`write_atomic`]'s temporary files.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

fn remove_stale_temporaries(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_str().is_some_and(is_temporary) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes a run's files while it trains — the resolved config at once, the metrics after
/// epochs — so a run killed at any moment still leaves complete files of what it measured.
pub struct RunRecorder {
    dir: PathBuf,
    /// The run's method, which names the extra columns of `metrics.csv`.
    loss: crate::config::SoftLoss,
    steps: Vec<StepMetrics>,
    epochs: Vec<EpochMetrics>,
    last_write: std::time::Instant,
}

/// Metrics are rewritten at most this often.
const RECORD_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

impl RunRecorder {
    pub fn start(dir: &Path, experiment: &Experiment) -> Result<Self, WriteError> {
        prepare_out_dir(dir)?;
        write_atomic(
            &dir.join("config.ron"),
            to_ron_string(experiment).as_bytes(),
        )?;
        Ok(Self {
            dir: dir.to_path_buf(),
            loss: experiment.distill.loss,
            steps: Vec::new(),
            epochs: Vec::new(),
            last_write: std::time::Instant::now(),
        })
    }

    /// Take an event; after an epoch, rewrite the metrics if the last write is old enough.
    /// A retry on the CPU starts the run again from nothing, and so do the metrics files.
    pub fn record(&mut self, event: &crate::train::Event) -> Result<(), WriteError> {
        use crate::train::{Event, NoticeKind};
        match event {
            Event::Steps(steps) => self.steps.extend_from_slice(steps),
            Event::Epoch(e) => {
                self.epochs.push(*e);
                if self.last_write.elapsed() >= RECORD_EVERY {
                    self.write_metrics()?;
                }
            }
            Event::Notice(n) if n.kind == NoticeKind::RetryOnCpu => {
                self.steps.clear();
                self.epochs.clear();
                self.write_metrics()?;
            }
            _ => {}
        }
        Ok(())
    }

    fn write_metrics(&mut self) -> Result<(), WriteError> {
        self.last_write = std::time::Instant::now();
        write_atomic(
            &self.dir.join("metrics.csv"),
            steps_csv(&self.steps, self.loss).as_bytes(),
        )?;
        write_atomic(
            &self.dir.join("epochs.csv"),
            epochs_csv(&self.epochs).as_bytes(),
        )
    }
}

/// Write `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        WriteError::io(path, e)
    })
}

/// Everything a finished (or stopped, or failed part-way) run leaves behind. Returns the
/// files written.
pub fn write_run(
    dir: &Path,
    experiment: &Experiment,
    outcome: &Outcome,
) -> Result<Vec<PathBuf>, WriteError> {
    prepare_out_dir(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, bytes: Vec<u8>| -> Result<(), WriteError> {
        let path = dir.join(name);
        write_atomic(&path, &bytes)?;
        written.push(path);
        Ok(())
    };
    put("config.ron", to_ron_string(experiment).into_bytes())?;
    put(
        "metrics.csv",
        steps_csv(&outcome.history.steps, experiment.distill.loss).into_bytes(),
    )?;
    put(
        "epochs.csv",
        epochs_csv(&outcome.history.epochs).into_bytes(),
    )?;
    let summary = serde_json::to_string_pretty(&outcome.summary).expect("the summary serialises");
    put("summary.json", summary.into_bytes())?;
    if let Some(dark) = &outcome.summary.dark_knowledge {
        put(
            "dark_knowledge.csv",
            crate::distill::dark::to_csv(dark).into_bytes(),
        )?;
        put(
            "dark_knowledge.png",
            crate::sweep::heatmap::dark_knowledge_png(dark),
        )?;
    }
    for (m, net) in outcome.teacher.iter().enumerate() {
        for (name, bytes) in weight_files(&format!("teacher-{m}"), net, dir)? {
            put(&name, bytes)?;
        }
    }
    for (role, net) in [
        ("baseline", &outcome.baseline),
        ("student", &outcome.student),
    ] {
        if let Some(net) = net {
            for (name, bytes) in weight_files(role, net, dir)? {
                put(&name, bytes)?;
            }
        }
    }
    Ok(written)
}

/// Save teacher members as `dir/teacher-M.bpk`, the layout `teacher.weights` loads.
pub fn save_teacher_bpk(dir: &Path, members: &[Net]) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError::io(dir, e))?;
    for (m, net) in members.iter().enumerate() {
        let path = dir.join(format!("teacher-{m}.bpk"));
        let bytes = net
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| WriteError {
                path: path.clone(),
                message: e.to_string(),
            })?;
        write_atomic(&path, &bytes)?;
    }
    Ok(())
}

/// A model in burn's own format (`.bpk`) and as SafeTensors.
fn weight_files(stem: &str, net: &Net, dir: &Path) -> Result<Vec<(String, Vec<u8>)>, WriteError> {
    let fail = |e: String| WriteError {
        path: dir.join("weights").join(stem),
        message: e,
    };
    let bpk = net
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| fail(e.to_string()))?;
    let mut store = SafetensorsStore::from_bytes(None);
    net.save_into(&mut store).map_err(|e| fail(e.to_string()))?;
    let safetensors = store.get_bytes().map_err(|e| fail(e.to_string()))?;
    Ok(vec![
        (format!("weights/{stem}.bpk"), bpk.to_vec()),
        (format!("weights/{stem}.safetensors"), safetensors.to_vec()),
    ])
}

/// A run read back from disk, for the window's run table.
#[derive(Debug, Clone)]
pub struct SavedRun {
    pub dir: PathBuf,
    pub experiment: Experiment,
    pub summary: crate::train::Summary,
    pub history: History,
}

/// Read `config.ron`, `summary.json`, `metrics.csv` and `epochs.csv` from a run folder.
pub fn read_run(dir: &Path) -> Result<SavedRun, String> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let experiment = crate::config::from_ron_str(&read("config.ron")?, "config.ron")
        .map_err(|e| e.to_string())?;
    let summary = serde_json::from_str(&read("summary.json")?)
        .map_err(|e| format!("{}: {e}", dir.join("summary.json").display()))?;
    let history = History {
        steps: parse_steps(&read("metrics.csv")?)?,
        epochs: parse_epochs(&read("epochs.csv")?)?,
        weight_changes: Vec::new(),
    };
    Ok(SavedRun {
        dir: dir.to_path_buf(),
        experiment,
        summary,
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Phase;

    #[test]
    fn atomic_write_replaces_whole_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "second");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temporary files left behind");
    }

    #[test]
    fn unwritable_folder_is_reported_before_training() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let err = prepare_out_dir(&file.join("run")).unwrap_err();
        assert!(err.to_string().contains("not-a-folder"), "{err}");
    }

    #[test]
    fn a_retry_on_the_cpu_starts_the_interim_metrics_again() {
        use crate::train::{Event, Notice, NoticeKind};
        let dir = tempfile::tempdir().unwrap();
        let mut recorder = RunRecorder::start(dir.path(), &Experiment::default()).unwrap();
        let step = |step| StepMetrics {
            phase: Phase::Teacher { member: 0, of: 1 },
            step,
            epoch: 1,
            soft: f32::NAN,
            hard: 2.0,
            total: 2.0,
            temperature: 4.0,
            alpha: 0.9,
            terms: [f32::NAN; 2],
        };
        let epoch = EpochMetrics {
            phase: Phase::Teacher { member: 0, of: 1 },
            epoch: 1,
            step: 2,
            test_accuracy: 0.5,
            test_loss: 1.0,
            train_loss: 2.0,
            agreement: 1.0,
            kl_to_teacher: 0.0,
            seconds: 0.1,
        };
        // The first attempt: two steps and an epoch, written.
        recorder
            .record(&Event::Steps(vec![step(1), step(2)]))
            .unwrap();
        recorder.last_write -= RECORD_EVERY;
        recorder.record(&Event::Epoch(epoch)).unwrap();
        let rows = |name: &str| {
            std::fs::read_to_string(dir.path().join(name))
                .unwrap()
                .lines()
                .count()
                - 1
        };
        assert_eq!((rows("metrics.csv"), rows("epochs.csv")), (2, 1));
        // The GPU fails; the run starts again on the CPU with one step and an epoch.
        let retry = Notice::new(
            NoticeKind::RetryOnCpu,
            "GPU lost; training again on the CPU",
        );
        recorder.record(&Event::Notice(retry)).unwrap();
        assert_eq!((rows("metrics.csv"), rows("epochs.csv")), (0, 0));
        recorder.record(&Event::Steps(vec![step(1)])).unwrap();
        recorder.last_write -= RECORD_EVERY;
        recorder.record(&Event::Epoch(epoch)).unwrap();
        assert_eq!((rows("metrics.csv"), rows("epochs.csv")), (1, 1));
        let steps = parse_steps(&std::fs::read_to_string(dir.path().join("metrics.csv")).unwrap());
        assert_eq!(steps.unwrap()[0].step, 1);
    }
}
