//! A sweep's folder: `sweep.json` says which preset and grid made it, so re-running the same
//! command resumes (finished cells are skipped) and a different one is refused; `sweep.csv`
//! and `seeds.csv` grow as cells finish, each rewritten atomically, so a killed sweep loses
//! at most the cells in flight; teachers are saved per seed so a resumed seed loads its
//! teacher instead of training it again.

use super::grid::{Grid, Shard};
use super::rows::{CellRow, SeedRow, from_csv};
use crate::config::{Experiment, from_ron_str, to_ron_string};
use crate::run::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "sweep.json";
pub const CELLS: &str = "sweep.csv";
pub const SEEDS: &str = "seeds.csv";
pub const SUMMARY: &str = "cells.csv";
pub const HEATMAP: &str = "heatmap.png";

/// What made a sweep folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The resolved preset, as RON (its own seed is the first of the grid's).
    pub preset: String,
    pub grid: Grid,
    pub shard: Option<Shard>,
}

impl Manifest {
    pub fn new(base: &Experiment, grid: &Grid, shard: Option<Shard>) -> Self {
        Manifest {
            preset: to_ron_string(base),
            grid: grid.clone(),
            shard,
        }
    }

    /// Why a folder made by `there` cannot take this sweep, if it cannot.
    pub fn conflict(&self, there: &Manifest, merging: bool) -> Option<String> {
        let mut why = Vec::new();
        if self.preset != there.preset {
            why.push(preset_difference(&self.preset, &there.preset));
        }
        if let Some(d) = self.grid.difference(&there.grid) {
            why.push(format!("the grid differs: {d}"));
        }
        if !merging && self.shard != there.shard {
            let name =
                |s: Option<Shard>| s.map_or("the whole grid".into(), |s| format!("shard {s}"));
            why.push(format!(
                "it holds {}, this is {}",
                name(there.shard),
                name(self.shard)
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// Which sections of two presets differ, by name.
fn preset_difference(here: &str, there: &str) -> String {
    let parse = |t: &str| {
        from_ron_str(t, "sweep.json")
            .ok()
            .and_then(|e| serde_json::to_value(e).ok())
    };
    let sections = match (parse(here), parse(there)) {
        (Some(serde_json::Value::Object(a)), Some(serde_json::Value::Object(b))) => a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>()
            .join(", "),
        _ => "its text".into(),
    };
    format!("it was made by a different preset (it differs in {sections})")
}

/// A sweep folder and what it holds so far.
pub struct Folder {
    pub dir: PathBuf,
    pub rows: Vec<CellRow>,
    pub seeds: Vec<SeedRow>,
}

impl Folder {
    /// Open `dir` for `manifest`: a new folder gets the manifest; an existing one must have
    /// been made by the same preset and grid, and its finished cells are read back.
    pub fn open(dir: &Path, manifest: &Manifest) -> Result<Folder, String> {
        let path = dir.join(MANIFEST);
        if path.is_file() {
            let there = read_manifest(dir)?;
            if let Some(why) = manifest.conflict(&there, false) {
                return Err(format!(
                    "{} holds another sweep, so it cannot be resumed with this one: {why}. \
                     Use another --out folder, or re-run the command that made it",
                    dir.display()
                ));
            }
        } else {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let text = serde_json::to_string_pretty(manifest).expect("manifests serialise");
            write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string())?;
        }
        Ok(Folder {
            dir: dir.to_path_buf(),
            rows: read_rows(dir, CELLS)?,
            seeds: read_rows(dir, SEEDS)?,
        })
    }

    /// Where seed `seed`'s teacher weights live.
    pub fn teacher_dir(&self, seed: u64) -> PathBuf {
        self.dir.join("teachers").join(format!("seed-{seed}"))
    }
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a sweep manifest: {e}", path.display()))
}

/// A folder's rows of `file`, none if it does not exist yet.
pub fn read_rows<T: for<'de> Deserialize<'de>>(dir: &Path, file: &str) -> Result<Vec<T>, String> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => from_csv(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}
