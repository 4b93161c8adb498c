//! Sweeps: resuming skips finished cells, a killed sweep loses only the cells in flight,
//! shards merged equal the single-machine sweep, and a folder of another grid is refused.

use distillery::config::{DeviceChoice, Experiment, SoftLoss, from_ron_str};
use distillery::sweep::grid::{Grid, Shard};
use distillery::sweep::rows::CellRow;
use distillery::sweep::{self, Plan, SweepResult};
use distillery::train::Control;
use std::path::Path;

/// The default experiment, shortened so a cell takes a fraction of a second.
fn quick() -> Experiment {
    let mut exp = from_ron_str(
        include_str!("../../presets/digits-few-labels.ron"),
        "digits-few-labels",
    )
    .unwrap();
    exp.device = DeviceChoice::Cpu;
    exp.teacher.epochs = 5;
    exp.train.epochs = 40;
    exp
}

fn grid(exp: &Experiment) -> Grid {
    Grid::new(
        exp,
        Some(vec![2.0, 8.0]),
        Some(vec![0.9]),
        Some(vec![SoftLoss::Kl, SoftLoss::Dkd]),
        2,
    )
}

fn plan(out: &Path, shard: Option<Shard>) -> Plan {
    let base = quick();
    Plan {
        grid: grid(&base),
        base,
        shard,
        out: out.to_path_buf(),
    }
}

fn sweep_into(out: &Path, shard: Option<Shard>) -> SweepResult {
    sweep::run(&plan(out, shard), &Control::new(), &|_| {}).unwrap()
}

/// The rows without their timings, which no two runs share.
fn untimed(rows: &[CellRow]) -> Vec<CellRow> {
    rows.iter()
        .map(|r| CellRow {
            wall_seconds: 0.0,
            ..r.clone()
        })
        .collect()
}

fn read_rows(dir: &Path) -> Vec<CellRow> {
    sweep::folder::read_rows(dir, sweep::folder::CELLS).unwrap()
}

#[test]
fn shards_merged_equal_the_single_sweep_and_resuming_skips_finished_cells() {
    let _serial = crate::support::training_lock();
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    let full = sweep_into(&whole, None);
    assert_eq!(full.rows.len(), 8, "2 T × 2 methods × 2 seeds");
    assert_eq!(full.missing, 0);
    assert_eq!(full.summaries.len(), 4);
    assert!(full.summaries.iter().all(|s| s.seeds == 2));
    for file in [
        "sweep.json",
        "sweep.csv",
        "cells.csv",
        "seeds.csv",
        "heatmap.png",
    ] {
        assert!(whole.join(file).is_file(), "{file}");
    }
    assert!(whole.join("teachers/seed-11/teacher-0.bpk").is_file());
    assert!(whole.join("teachers/seed-12/teacher-0.bpk").is_file());

    // Two shards, then a merge: the same numbers as the single sweep.
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let one = sweep_into(&a, Some(Shard { index: 1, count: 2 }));
    let two = sweep_into(&b, Some(Shard { index: 2, count: 2 }));
    assert_eq!(one.rows.len() + two.rows.len(), 8);
    let merged_dir = tmp.path().join("merged");
    let merged = sweep::merge(&[a, b], &merged_dir).unwrap();
    assert_eq!(merged.missing, 0);
    assert_eq!(
        untimed(&read_rows(&merged_dir)),
        untimed(&read_rows(&whole))
    );
    assert_eq!(
        std::fs::read_to_string(merged_dir.join("cells.csv")).unwrap(),
        std::fs::read_to_string(whole.join("cells.csv")).unwrap()
    );

    // Running the same sweep again trains nothing.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let again = sweep::run(&plan(&whole, None), &Control::new(), &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .unwrap();
    assert_eq!(calls.into_inner(), 0, "a finished sweep retrained cells");
    assert_eq!(untimed(&again.rows), untimed(&full.rows));

    // A sweep killed part-way (its last rows never written) resumes with only those cells,
    // loading each seed's saved teacher, and ends with the same numbers.
    let rows = read_rows(&whole);
    let kept = distillery::sweep::rows::to_csv(&rows[..5]);
    std::fs::write(whole.join("sweep.csv"), kept).unwrap();
    let done = std::sync::Mutex::new(Vec::new());
    let resumed = sweep::run(&plan(&whole, None), &Control::new(), &|p| {
        done.lock().unwrap().push((p.done, p.todo, p.resumed));
    })
    .unwrap();
    assert_eq!(
        done.into_inner().unwrap(),
        vec![(1, 3, 5), (2, 3, 5), (3, 3, 5)]
    );
    assert_eq!(untimed(&resumed.rows), untimed(&full.rows));
}

#[test]
fn a_folder_of_another_sweep_is_refused_with_what_differs() {
    let _serial = crate::support::training_lock();
    let tmp = tempfile::tempdir().unwrap();
    let mut small = plan(tmp.path(), None);
    small.grid.temperatures = vec![2.0];
    small.grid.losses = vec![SoftLoss::Kl];
    small.grid.seeds = vec![11];
    sweep::run(&small, &Control::new(), &|_| {}).unwrap();
    let err = sweep::run(&plan(tmp.path(), None), &Control::new(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds another sweep"), "{err}");
    assert!(
        err.contains("temperatures [2.0] there, [2.0, 8.0] here"),
        "{err}"
    );
    let mut other = small;
    other.base.train.epochs = 41;
    let err = sweep::run(&other, &Control::new(), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("different preset (it differs in train)"),
        "{err}"
    );
}

#[test]
fn the_command_line_sweeps_methods_and_repeats_runs_over_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let preset = tmp.path().join("quick.ron");
    std::fs::write(&preset, distillery::config::to_ron_string(&quick())).unwrap();
    let out = tmp.path().join("cmp");
    let o = std::process::Command::new(crate::support::bin())
        .args([
            "sweep",
            preset.to_str().unwrap(),
            "--losses",
            "kd,dkd,smooth",
        ])
        .args(["--seeds", "2", "--quiet", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for method in ["kd ", "dkd ", "smooth "] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(method) && l.contains("/2")),
            "{stdout}"
        );
    }
    // Two processes, each its own shard, merged: the same numbers.
    let parallel = tmp.path().join("parallel");
    let o = std::process::Command::new(crate::support::bin())
        .args([
            "sweep",
            preset.to_str().unwrap(),
            "--losses",
            "kd,dkd,smooth",
        ])
        .args([
            "--seeds",
            "2",
            "--jobs",
            "2",
            "--quiet",
            "--out",
            parallel.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(untimed(&read_rows(&parallel)), untimed(&read_rows(&out)));
    let bad = std::process::Command::new(crate::support::bin())
        .args(["sweep", preset.to_str().unwrap(), "--losses", "kd,hinton"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`hinton` is not a method"));
    // A grid value out of range is refused before anything trains, naming the value.
    let bad_t = std::process::Command::new(crate::support::bin())
        .args(["sweep", preset.to_str().unwrap(), "--temperatures", "2,0"])
        .args(["--out", tmp.path().join("bad-t").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad_t.stderr);
    assert_eq!(bad_t.status.code(), Some(2), "{err}");
    assert!(
        err.contains("distill.temperature = 0.0") && err.contains("from the grid: kd T=0"),
        "{err}"
    );
    assert!(!tmp.path().join("bad-t").join("sweep.csv").exists());
    let seeds_out = tmp.path().join("seeds");
    let o = std::process::Command::new(crate::support::bin())
        .args(["run", preset.to_str().unwrap(), "--seeds", "3", "--quiet"])
        .args(["--out", seeds_out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("over 3 seeds (11, 12, 13)"), "{stdout}");
    assert!(
        stdout.contains("last epoch") && stdout.contains("best epoch"),
        "{stdout}"
    );
    assert!(stdout.contains("the student won on"), "{stdout}");
}

/// `--teachers whole,best-member` on an ensemble: on each seed one teacher and baseline, one
/// student of the whole ensemble and one of its best member alone. The best member is the
/// member a single run reports as most accurate, the whole ensemble's student is the single
/// run's student, and the paired comparison pairs the same seeds.
#[test]
fn an_ensemble_is_distilled_beside_its_best_member_on_the_same_seeds() {
    use distillery::sweep::grid::TeacherChoice;
    let _serial = crate::support::training_lock();
    let tmp = tempfile::tempdir().unwrap();
    let mut base = from_ron_str(include_str!("../../presets/ensemble.ron"), "ensemble").unwrap();
    base.device = DeviceChoice::Cpu;
    base.teacher.epochs = 5;
    base.train.epochs = 10;
    let grid = Grid::new(&base, None, None, None, 2)
        .with_teachers(Some(vec![TeacherChoice::Whole, TeacherChoice::BestMember]));
    let plan = Plan {
        base: base.clone(),
        grid,
        shard: None,
        out: tmp.path().join("sweep"),
    };
    let result = sweep::run(&plan, &Control::new(), &|_| {}).unwrap();
    assert_eq!(result.rows.len(), 4, "2 teachers × 2 seeds");
    for seed in [21, 22] {
        let (single, _) = crate::support::run(&Experiment {
            seed,
            ..base.clone()
        });
        let members = single.summary.ensemble.clone().unwrap().members;
        let best = members.iter().copied().fold(f32::MIN, f32::max);
        let row = |t: TeacherChoice| {
            result
                .rows
                .iter()
                .find(|r| r.seed == seed && r.teacher == t)
                .unwrap()
        };
        assert_eq!(row(TeacherChoice::BestMember).teacher_accuracy, Some(best));
        assert_eq!(
            row(TeacherChoice::Whole).teacher_accuracy,
            single.summary.teacher.test_accuracy
        );
        assert_eq!(
            Some(row(TeacherChoice::Whole).student_accuracy),
            single.summary.student.as_ref().unwrap().test_accuracy
        );
        assert_eq!(
            row(TeacherChoice::Whole).baseline_accuracy,
            row(TeacherChoice::BestMember).baseline_accuracy
        );
    }
    let lines = sweep::stats::whole_against_best_member(&result.rows);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("won on") && lines[0].ends_with("of 2 seeds"),
        "{lines:?}"
    );
    let cells = std::fs::read_to_string(tmp.path().join("sweep/cells.csv")).unwrap();
    assert!(
        cells.contains(",best-member,") && cells.contains(",whole,"),
        "{cells}"
    );

    // A one-member teacher has no best member to compare with: refused, naming the axis.
    let mut one = base.clone();
    one.teacher.members.truncate(1);
    let plan = Plan {
        grid: Grid::new(&one, None, None, None, 1)
            .with_teachers(Some(vec![TeacherChoice::BestMember])),
        base: one,
        shard: None,
        out: tmp.path().join("one"),
    };
    let err = sweep::run(&plan, &Control::new(), &|_| {}).unwrap_err();
    assert!(err.is_bad_input() && err.to_string().contains("best-member needs an ensemble"));
}
