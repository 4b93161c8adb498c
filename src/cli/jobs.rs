//! `distillery sweep --jobs N`: N processes of this program on one machine, each sweeping its
//! own shard of the grid into `OUT/jobs/K`, merged into `OUT` when all are done. Processes,
//! not threads: burn's random generator is global to a process, and seeds trained side by
//! side in one process would draw each other's numbers.

use crate::config::to_ron_string;
use crate::sweep::folder::{CELLS, read_rows};
use crate::sweep::rows::CellRow;
use crate::sweep::{Plan, SweepError, SweepResult, merge};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Start the `k`-th of `jobs` child sweeps.
fn spawn(
    plan: &Plan,
    preset: &PathBuf,
    k: usize,
    jobs: usize,
    out: &PathBuf,
) -> Result<Child, SweepError> {
    let exe = std::env::current_exe()
        .map_err(|e| SweepError::Write(format!("cannot find this program: {e}")))?;
    let losses: Vec<&str> = plan.grid.losses.iter().map(|l| l.short()).collect();
    let teachers: Vec<&str> = plan.grid.teachers.iter().map(|t| t.short()).collect();
    let threads = (std::thread::available_parallelism().map_or(1, |n| n.get()) / jobs).max(1);
    Command::new(exe)
        .arg("sweep")
        .arg(preset)
        .args(["--temperatures", &list(&plan.grid.temperatures)])
        .args(["--alphas", &list(&plan.grid.alphas)])
        .args(["--losses", &losses.join(",")])
        .args(["--teachers", &teachers.join(",")])
        .args(["--seeds", &plan.grid.seeds.len().to_string()])
        .args(["--shard", &format!("{k}/{jobs}"), "--quiet"])
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| SweepError::Write(format!("cannot start sweep process {k}: {e}")))
}

pub fn run_jobs(plan: &Plan, jobs: usize, quiet: bool) -> Result<SweepResult, SweepError> {
    let dir = plan.out.join("jobs");
    std::fs::create_dir_all(&dir)
        .map_err(|e| SweepError::Write(format!("cannot create {}: {e}", dir.display())))?;
    // The children read the resolved preset: --set and --data-dir are already applied.
    let preset = dir.join("preset.ron");
    crate::run::write_atomic(&preset, to_ron_string(&plan.base).as_bytes())
        .map_err(|e| SweepError::Write(e.to_string()))?;
    let outs: Vec<PathBuf> = (1..=jobs).map(|k| dir.join(k.to_string())).collect();
    let mut children = Vec::new();
    for (k, out) in outs.iter().enumerate() {
        children.push(spawn(plan, &preset, k + 1, jobs, out)?);
    }
    let total = plan.grid.cells().len() as u64;
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template("sweep [{bar:30}] {pos}/{len} cells, ETA {eta} ({msg})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{jobs} processes"));
    let mut codes = vec![None; jobs];
    while codes.iter().any(Option::is_none) {
        for (k, child) in children.iter_mut().enumerate() {
            if codes[k].is_none()
                && let Ok(Some(status)) = child.try_wait()
            {
                codes[k] = Some(status.code().unwrap_or(1));
            }
        }
        let done: usize = outs
            .iter()
            .map(|o| read_rows::<CellRow>(o, CELLS).map_or(0, |r| r.len()))
            .sum();
        bar.set_position(done as u64);
        std::thread::sleep(Duration::from_millis(300));
    }
    bar.finish_and_clear();
    if let Some(k) = codes
        .iter()
        .position(|c| *c == Some(super::exit::BAD_INPUT))
    {
        return Err(SweepError::BadInput(format!(
            "sweep process {} refused its shard (see its message above)",
            k + 1
        )));
    }
    let mut result = merge(&outs, &plan.out)?;
    result.stopped = codes.contains(&Some(super::exit::INTERRUPTED));
    Ok(result)
}
