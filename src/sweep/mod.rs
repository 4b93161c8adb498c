//! Sweeps: many students over a grid of T, α, methods and seeds, each seed's teacher and
//! baseline trained once and shared by its cells, results over seeds as mean ± std. Headless
//! (`distillery sweep`, `distillery run --seeds N`) and resumable: a folder remembers what
//! made it and what is done. `--shard I/N` splits a grid over machines; [`merge`] joins the
//! shard folders again.

pub mod folder;
pub mod grid;
pub mod heatmap;
pub mod rows;
pub mod stats;

use crate::config::{Experiment, Problem, validate};
use crate::train::sweep::{SeedListener, Variant, train_seed};
use crate::train::{Control, Event, PhaseStatus, RunError};
use folder::{CELLS, Folder, HEATMAP, Manifest, SEEDS, SUMMARY, read_manifest, read_rows};
use grid::{Cell, Grid, Shard, cell_experiment};
use rows::{CellRow, SeedRow, to_csv};
use stats::{CellSummary, summarise};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a sweep could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The grid, the folder or the preset is wrong: nothing trained (exit code 2).
    #[error("{0}")]
    BadInput(String),
    /// Results could not be written.
    #[error("{0}")]
    Write(String),
    /// The engine refused or failed a seed.
    #[error("{0}")]
    Run(RunError),
}

impl SweepError {
    pub fn is_bad_input(&self) -> bool {
        match self {
            SweepError::BadInput(_) => true,
            SweepError::Write(_) => false,
            SweepError::Run(e) => e.is_bad_input(),
        }
    }
}

/// What to sweep and where.
pub struct Plan {
    pub base: Experiment,
    pub grid: Grid,
    pub shard: Option<Shard>,
    pub out: PathBuf,
}

/// Where a sweep stands, after each finished cell.
#[derive(Debug, Clone)]
pub struct SweepProgress {
    /// Cells finished in this invocation, and all this invocation has to do.
    pub done: usize,
    pub todo: usize,
    /// Cells already finished before it started (resumed).
    pub resumed: usize,
    pub last: Option<CellRow>,
    /// The finished cell's test accuracy per epoch, `[epoch, accuracy]`.
    pub student_curve: Vec<[f64; 2]>,
    /// Its seed's baseline per epoch, when this invocation trained it (else empty).
    pub baseline_curve: Vec<[f64; 2]>,
}

/// A finished cell, as `run_seed` reports it.
struct CellUpdate {
    row: CellRow,
    student_curve: Vec<[f64; 2]>,
    baseline_curve: Vec<[f64; 2]>,
}

fn curve(epochs: &[crate::train::EpochMetrics]) -> Vec<[f64; 2]> {
    epochs
        .iter()
        .map(|e| [e.epoch as f64, e.test_accuracy as f64])
        .collect()
}

/// What a sweep ended with.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub rows: Vec<CellRow>,
    pub summaries: Vec<CellSummary>,
    /// Cells of this shard (or grid) with no row: stopped, or a seed that failed.
    pub missing: usize,
    pub stopped: bool,
}

/// Every cell's experiment must be valid before anything trains; a problem names the grid
/// value that caused it.
fn check_cells(plan: &Plan) -> Result<(), SweepError> {
    let mut problems: Vec<String> = Vec::new();
    for cell in plan.grid.cells() {
        for p in validate(&cell_experiment(&plan.base, &cell)) {
            let line = format!(
                "  - {p} (from the grid: {} T={} α={})",
                cell.loss.short(),
                cell.temperature,
                cell.alpha
            );
            if !problems.contains(&line) {
                problems.push(line);
            }
        }
    }
    if plan
        .grid
        .teachers
        .contains(&grid::TeacherChoice::BestMember)
        && plan.base.teacher.members.len() < 2
    {
        problems.push(format!(
            "  - teachers: best-member needs an ensemble teacher; teacher.members has {} \
             (its best member is the teacher itself)",
            plan.base.teacher.members.len()
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(SweepError::BadInput(format!(
        "the sweep has {} invalid setting{}:\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        problems.join("\n")
    )))
}

/// The shared state of a running sweep: the folder's rows, written after every cell.
struct State {
    folder: Folder,
    done: usize,
    write_error: Option<String>,
}

/// Run (or resume) a sweep; `progress` hears of every finished cell.
pub fn run(
    plan: &Plan,
    control: &Control,
    progress: &(dyn Fn(&SweepProgress) + Sync),
) -> Result<SweepResult, SweepError> {
    check_cells(plan)?;
    let problems: Vec<Problem> = validate(&plan.base);
    if !problems.is_empty() {
        return Err(SweepError::BadInput(Problem::list(&problems)));
    }
    let manifest = Manifest::new(&plan.base, &plan.grid, plan.shard);
    let folder = Folder::open(&plan.out, &manifest).map_err(SweepError::BadInput)?;
    let mine = plan.grid.shard_cells(plan.shard);
    let todo: Vec<Cell> = mine
        .iter()
        .filter(|c| !has_row(&folder.rows, c))
        .copied()
        .collect();
    let resumed = mine.len() - todo.len();
    let state = Mutex::new(State {
        folder,
        done: 0,
        write_error: None,
    });
    let seeds: Vec<u64> = plan
        .grid
        .seeds
        .iter()
        .copied()
        .filter(|s| todo.iter().any(|c| c.seed == *s))
        .collect();
    let report = |update: CellUpdate, st: &State| {
        progress(&SweepProgress {
            done: st.done,
            todo: todo.len(),
            resumed,
            last: Some(update.row),
            student_curve: update.student_curve,
            baseline_curve: update.baseline_curve,
        })
    };
    // One seed after another on this thread: burn's random generator is global to the
    // process, so seeds trained side by side would draw each other's numbers (`--jobs` runs
    // separate processes instead).
    let mut first_error = None;
    for seed in seeds {
        if control.is_stopped() {
            break;
        }
        let cells: Vec<Cell> = todo.iter().filter(|c| c.seed == seed).copied().collect();
        if let Err(e) = run_seed(plan, seed, &cells, &state, control, &report) {
            first_error = Some(e);
            break;
        }
    }
    let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = first_error {
        return Err(e);
    }
    if let Some(e) = state.write_error {
        return Err(SweepError::Write(e));
    }
    let rows = state.folder.rows;
    let missing = mine.iter().filter(|c| !has_row(&rows, c)).count();
    Ok(SweepResult {
        summaries: summarise(&plan.grid, &rows),
        rows,
        missing,
        stopped: control.is_stopped(),
    })
}

/// One seed: its teacher (saved, or loaded from an earlier attempt), its baseline (unless an
/// earlier attempt measured it) and its remaining cells.
fn run_seed(
    plan: &Plan,
    seed: u64,
    cells: &[Cell],
    state: &Mutex<State>,
    control: &Control,
    report: &(dyn Fn(CellUpdate, &State) + Sync),
) -> Result<(), SweepError> {
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let (teacher_dir, known) = {
        let st = lock();
        let known = st.folder.seeds.iter().find(|s| s.seed == seed).cloned();
        (st.folder.teacher_dir(seed), known)
    };
    let mut base = Experiment {
        seed,
        ..plan.base.clone()
    };
    let members = base.teacher.members.len();
    let saved = (0..members).all(|m| teacher_dir.join(format!("teacher-{m}.bpk")).is_file());
    let load_saved = base.teacher.weights.is_none() && saved;
    if load_saved {
        base.teacher.weights = Some(teacher_dir.clone());
    }
    let variants: Vec<Variant> = cells
        .iter()
        .map(|c| Variant {
            experiment: cell_experiment(&base, c),
            teacher: c.teacher,
        })
        .collect();
    let train_baseline = base.train.baseline && known.is_none();
    let seed_row = Mutex::new(known);
    let baseline_curve = Mutex::new(Vec::new());
    let mut on_teacher = |nets: &[crate::model::Net]| {
        if !load_saved
            && base.teacher.weights.is_none()
            && let Err(e) = crate::run::save_teacher_bpk(&teacher_dir, nets)
        {
            lock().write_error.get_or_insert(e.to_string());
        }
    };
    let mut on_seed = |run: &crate::train::sweep::SeedRun| {
        *baseline_curve.lock().unwrap_or_else(|e| e.into_inner()) = curve(&run.baseline_epochs);
        let mut row = seed_row.lock().unwrap_or_else(|e| e.into_inner());
        if row.is_none() {
            let new = SeedRow::from_run(seed, run);
            let mut st = lock();
            st.folder.seeds.push(new.clone());
            st.folder.seeds.sort_by_key(|s| s.seed);
            let text = to_csv(&st.folder.seeds);
            write_file(&mut st, SEEDS, text.as_bytes());
            *row = Some(new);
        }
    };
    let mut on_student = |i: usize, run: crate::train::sweep::StudentRun| {
        if run.report.status != PhaseStatus::Completed {
            return;
        }
        let seed_row = seed_row.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(seed_row) = seed_row else { return };
        let Some(row) = CellRow::new(&cells[i], &run, &seed_row) else {
            return;
        };
        let update = CellUpdate {
            row: row.clone(),
            student_curve: curve(&run.epochs),
            baseline_curve: baseline_curve
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        };
        let mut st = lock();
        st.folder.rows.push(row);
        st.done += 1;
        write_results(&mut st, &plan.grid);
        report(update, &st);
    };
    let sink = |_: Event| {};
    let listener = SeedListener {
        sink: &sink,
        on_teacher: &mut on_teacher,
        on_seed: &mut on_seed,
        on_student: &mut on_student,
    };
    train_seed(&base, &variants, train_baseline, control, listener).map_err(SweepError::Run)?;
    Ok(())
}

fn write_file(st: &mut State, name: &str, bytes: &[u8]) {
    if let Err(e) = write_atomic_in(&st.folder.dir, name, bytes) {
        st.write_error.get_or_insert(e);
    }
}

fn write_atomic_in(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    crate::run::write_atomic(&dir.join(name), bytes).map_err(|e| e.to_string())
}

/// Rewrite `sweep.csv` (rows in the grid's order), `cells.csv` and the heatmap.
fn write_results(st: &mut State, grid: &Grid) {
    sort_rows(&mut st.folder.rows, grid);
    let rows = to_csv(&st.folder.rows);
    write_file(st, CELLS, rows.as_bytes());
    let summaries = summarise(grid, &st.folder.rows);
    write_file(st, SUMMARY, stats::cells_csv(&summaries).as_bytes());
    write_file(st, HEATMAP, &heatmap::heatmap_png(grid, &summaries));
}

/// Whether `rows` hold a result for `cell`.
fn has_row(rows: &[CellRow], cell: &Cell) -> bool {
    rows.iter().any(|r| r.cell().is_some_and(|d| d.same(cell)))
}

/// Rows in the order of the grid's cells, so the same results always write the same file.
fn sort_rows(rows: &mut [CellRow], grid: &Grid) {
    let cells = grid.cells();
    let index = |r: &CellRow| {
        r.cell()
            .and_then(|c| cells.iter().position(|d| d.same(&c)))
            .unwrap_or(usize::MAX)
    };
    rows.sort_by_key(index);
}

/// Join shard folders made by one sweep into `out`: the same preset and grid in every one,
/// rows and seeds united (a cell in two shards is kept once). Returns the merged results.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepResult, SweepError> {
    let Some(first) = dirs.first() else {
        return Err(SweepError::BadInput(
            "--merge needs at least one folder".into(),
        ));
    };
    let manifest = read_manifest(first).map_err(SweepError::BadInput)?;
    let mut rows: Vec<CellRow> = Vec::new();
    let mut seeds: Vec<SeedRow> = Vec::new();
    for dir in dirs {
        let there = read_manifest(dir).map_err(SweepError::BadInput)?;
        if let Some(why) = manifest.conflict(&there, true) {
            return Err(SweepError::BadInput(format!(
                "{} is not a shard of the same sweep as {}: {why}",
                dir.display(),
                first.display()
            )));
        }
        for r in read_rows::<CellRow>(dir, CELLS).map_err(SweepError::BadInput)? {
            let dup = r.cell().is_some_and(|c| has_row(&rows, &c));
            if !dup {
                rows.push(r);
            }
        }
        for s in read_rows::<SeedRow>(dir, SEEDS).map_err(SweepError::BadInput)? {
            if !seeds.iter().any(|o| o.seed == s.seed) {
                seeds.push(s);
            }
        }
    }
    seeds.sort_by_key(|s| s.seed);
    let merged = Manifest {
        shard: None,
        ..manifest
    };
    let mut st = State {
        folder: Folder::open(out, &merged).map_err(SweepError::BadInput)?,
        done: 0,
        write_error: None,
    };
    st.folder.rows = rows;
    st.folder.seeds = seeds;
    let seeds_csv = to_csv(&st.folder.seeds);
    write_file(&mut st, SEEDS, seeds_csv.as_bytes());
    write_results(&mut st, &merged.grid);
    if let Some(e) = st.write_error {
        return Err(SweepError::Write(e));
    }
    let rows = st.folder.rows;
    let missing = merged
        .grid
        .cells()
        .iter()
        .filter(|c| !has_row(&rows, c))
        .count();
    Ok(SweepResult {
        summaries: summarise(&merged.grid, &rows),
        rows,
        missing,
        stopped: false,
    })
}
