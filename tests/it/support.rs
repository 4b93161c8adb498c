//! Shared helpers for the integration tests.

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real MNIST folder: `$DISTILLERY_MNIST_DIR`, else `../shared/datasets/mnist` beside the
/// checkout. Tests that need it fail loudly when it is missing rather than passing silently.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("DISTILLERY_MNIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/datasets/mnist"));
    assert!(
        dir.join("train-images-idx3-ubyte.gz").is_file(),
        "real MNIST not found at {} (set DISTILLERY_MNIST_DIR)",
        dir.display()
    );
    dir
}

/// The `distillery` binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_distillery"))
}

/// burn's random generator is global to the process: tests that compare trained numbers take
/// this lock, so another test's draws cannot interleave with theirs.
pub fn training_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Train `exp` on this thread, keeping every event it sent.
pub fn run(
    exp: &distillery::config::Experiment,
) -> (distillery::train::Outcome, Vec<distillery::train::Event>) {
    use distillery::train::{self, Control};
    let events = std::sync::Mutex::new(Vec::new());
    let outcome =
        train::run_blocking(exp, &Control::new(), &|e| events.lock().unwrap().push(e)).unwrap();
    (outcome, events.into_inner().unwrap())
}
