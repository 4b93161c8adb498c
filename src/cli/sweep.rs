//! `distillery sweep` and `distillery run --seeds N`: many students, results over seeds.

use super::{Inputs, exit, fail, resolve};
use crate::config::{Experiment, SoftLoss};
use crate::sweep::grid::{Grid, Shard, TeacherChoice};
use crate::sweep::stats::{CellSummary, MeanStd};
use crate::sweep::{Plan, SweepError, SweepProgress, SweepResult};
use crate::train::Control;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

/// `--losses kd,dkd,…`: a method by its short name.
pub fn parse_loss(name: &str) -> Result<SoftLoss, String> {
    SoftLoss::from_short(name).ok_or_else(|| {
        let names: Vec<&str> = SoftLoss::ALL.iter().map(|l| l.short()).collect();
        format!(
            "`{name}` is not a method; expected one of {}",
            names.join(", ")
        )
    })
}

/// `--teachers whole,best-member`: which teacher each student distils.
pub fn parse_teacher(name: &str) -> Result<TeacherChoice, String> {
    TeacherChoice::from_short(name)
        .ok_or_else(|| format!("`{name}` is not a teacher choice; expected whole or best-member"))
}

/// What `distillery sweep` was asked.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The experiment, a RON preset (leave out with --merge).
    #[arg(required_unless_present = "merge")]
    pub preset: Option<PathBuf>,
    #[command(flatten)]
    pub inputs: Inputs,
    /// Temperatures, e.g. 1,2,4,8,16 [default: the preset's].
    #[arg(long, value_delimiter = ',')]
    pub temperatures: Option<Vec<f64>>,
    /// Soft weights α, e.g. 0.1,0.5,0.9 [default: the preset's].
    #[arg(long, value_delimiter = ',')]
    pub alphas: Option<Vec<f64>>,
    /// Methods by short name: kd, sce, mse, dkd, dist, ls, ctkd, nkd, smooth, tf.
    #[arg(long, value_delimiter = ',', value_parser = parse_loss)]
    pub losses: Option<Vec<SoftLoss>>,
    /// Teachers to distil: whole (the teacher as configured), best-member (an ensemble's
    /// member with the highest test accuracy, alone) [default: whole].
    #[arg(long, value_delimiter = ',', value_parser = parse_teacher)]
    pub teachers: Option<Vec<TeacherChoice>>,
    /// Seeds, counting up from the preset's.
    #[arg(long, default_value_t = 1)]
    pub seeds: usize,
    /// Processes training at the same time, each on its own slice of the grid (as
    /// --shard), merged into --out at the end.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run only the I-th of N slices of the grid (for several machines), e.g. 2/4.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Join these shard folders into --out instead of training.
    #[arg(long, num_args = 1.., conflicts_with_all = ["preset", "shard"])]
    pub merge: Vec<PathBuf>,
    /// The sweep's folder; running the same command again resumes it.
    #[arg(long)]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

pub fn sweep(args: SweepArgs) -> i32 {
    if !args.merge.is_empty() {
        return match crate::sweep::merge(&args.merge, &args.out) {
            Ok(result) => finish(&result, &args.out, None),
            Err(e) => fail_sweep(&e),
        };
    }
    let Some(preset) = &args.preset else {
        return fail(
            "sweep needs a preset (or --merge DIR... to join shard folders)",
            exit::BAD_INPUT,
        );
    };
    let base = match resolve(preset, &args.inputs) {
        Ok(e) => e,
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    let grid = Grid::new(
        &base,
        args.temperatures,
        args.alphas,
        args.losses,
        args.seeds,
    )
    .with_teachers(args.teachers);
    let plan = Plan {
        base,
        grid,
        shard: args.shard,
        out: args.out.clone(),
    };
    if args.jobs > 1 {
        if args.shard.is_some() {
            return fail(
                "--jobs and --shard do not combine: --jobs N already runs N shards on this machine",
                exit::BAD_INPUT,
            );
        }
        return match super::jobs::run_jobs(&plan, args.jobs, args.quiet) {
            Ok(result) => finish(&result, &args.out, None),
            Err(e) => fail_sweep(&e),
        };
    }
    if let crate::config::Weighting::Fixed { soft, hard } = plan.base.distill.weighting {
        println!("terms weighted {soft} (soft) and {hard} (hard): the α column is not used");
    }
    match run_plan(&plan, args.quiet) {
        Ok(result) => finish(&result, &args.out, None),
        Err(e) => fail_sweep(&e),
    }
}

/// `distillery run --seeds N`: one setting over N seeds, every model as mean ± std.
pub fn run_seeds(base: Experiment, seeds: usize, out: PathBuf, quiet: bool) -> i32 {
    let grid = Grid::new(&base, None, None, None, seeds);
    let plan = Plan {
        base,
        grid,
        shard: None,
        out: out.clone(),
    };
    match run_plan(&plan, quiet) {
        Ok(result) => finish(&result, &out, Some(&plan.grid)),
        Err(e) => fail_sweep(&e),
    }
}

pub(super) fn fail_sweep(e: &SweepError) -> i32 {
    let code = if e.is_bad_input() {
        exit::BAD_INPUT
    } else {
        exit::RUN_FAILED
    };
    fail(e, code)
}

fn run_plan(plan: &Plan, quiet: bool) -> Result<SweepResult, SweepError> {
    let control = Control::new();
    let ctrlc_control = control.clone();
    let _ = ctrlc::set_handler(move || {
        eprintln!("\nstopping after the cells in flight; finished cells are kept");
        ctrlc_control.stop();
    });
    let cells = plan.grid.shard_cells(plan.shard).len();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} cells, ETA {eta} {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix("sweep");
    let progress = |p: &SweepProgress| {
        bar.set_length(p.todo as u64);
        bar.set_position(p.done as u64);
        if let Some(r) = &p.last {
            bar.set_message(format!(
                "(last: {} T={} α={} seed {}: {:.2}%)",
                r.loss,
                r.temperature,
                r.alpha,
                r.seed,
                100.0 * r.student_accuracy
            ));
        }
    };
    if !quiet {
        eprintln!(
            "{} cells ({} settings × {} seeds{}) into {}",
            cells,
            plan.grid.settings().len(),
            plan.grid.seeds.len(),
            plan.shard.map_or(String::new(), |s| format!(", shard {s}")),
            plan.out.display()
        );
    }
    let result = crate::sweep::run(plan, &control, &progress);
    bar.finish_and_clear();
    result
}

fn finish(result: &SweepResult, out: &Path, seeds_of: Option<&Grid>) -> i32 {
    match seeds_of {
        Some(grid) => println!("{}", seeds_report(grid, result)),
        None => println!("{}", crate::sweep::stats::table(&result.summaries)),
    }
    for line in crate::sweep::stats::whole_against_best_member(&result.rows) {
        println!("{line}");
    }
    println!(
        "results: {} (sweep.csv, cells.csv, seeds.csv, heatmap.png)",
        out.display()
    );
    if result.stopped {
        eprintln!(
            "stopped: {} cells not run; run the same command again to resume",
            result.missing
        );
        return exit::INTERRUPTED;
    }
    if result.missing > 0 {
        eprintln!(
            "{} cells have no result (a phase diverged or failed); run the same command again \
             to retry them",
            result.missing
        );
        return exit::RUN_FAILED;
    }
    exit::OK
}

fn count(
    rows: &[crate::sweep::rows::CellRow],
    f: impl Fn(&crate::sweep::rows::CellRow) -> Option<usize>,
) -> Option<MeanStd> {
    MeanStd::of(rows.iter().filter_map(f).map(|n| n as f64))
}

fn bias_stats(rows: &[crate::sweep::rows::CellRow]) -> Option<MeanStd> {
    MeanStd::of(rows.iter().filter_map(|r| r.bias).map(f64::from))
}

/// The report of `run --seeds N`: each model's accuracy over the seeds, best and last epoch
/// apart, and the gain with its wins.
fn seeds_report(grid: &Grid, result: &SweepResult) -> String {
    let rows = &result.rows;
    let of = |f: &dyn Fn(&crate::sweep::rows::CellRow) -> Option<f32>| {
        MeanStd::of(rows.iter().filter_map(f).map(f64::from))
    };
    let pct = |m: Option<MeanStd>| m.map_or("–".into(), |m| m.percent());
    let seeds: Vec<String> = grid.seeds.iter().map(|s| s.to_string()).collect();
    let summary: Option<&CellSummary> = result.summaries.first();
    let wins = summary.map_or(0, |s| s.wins);
    let mut lines = vec![
        format!(
            "over {} seeds ({}), test accuracy %, mean ± std:",
            rows.len(),
            seeds.join(", ")
        ),
        format!(
            "  teacher              {}",
            pct(of(&|r| r.teacher_accuracy))
        ),
        format!(
            "  baseline   last epoch {:>15}   best epoch {:>15}",
            pct(of(&|r| r.baseline_accuracy)),
            pct(of(&|r| r.baseline_best_accuracy))
        ),
        format!(
            "  student    last epoch {:>15}   best epoch {:>15}",
            pct(of(&|r| Some(r.student_accuracy))),
            pct(of(&|r| Some(r.student_best_accuracy)))
        ),
    ];
    if let Some(gain) = of(&|r| r.gain) {
        lines.push(format!(
            "  gain (last epoch)    {} points; the student won on {wins} of {} seeds",
            gain.points(),
            rows.len()
        ));
    }
    let ece = |m: Option<MeanStd>| m.map_or("–".into(), |m| m.decimal());
    lines.push(format!(
        "  ECE (15 bins, T = 1) student {}, baseline {}",
        ece(of(&|r| r.ece)),
        ece(of(&|r| r.baseline_ece))
    ));
    if let Some(before) = count(rows, |r| r.test_errors) {
        let after = count(rows, |r| r.corrected_test_errors);
        let num = |m: Option<MeanStd>| m.map_or("–".into(), |m| m.count());
        lines.push(format!(
            "  omitted classes: student test errors {} ({} on the omitted); with the bias \
             chosen on the validation split ({}) {} ({})",
            before.count(),
            num(count(rows, |r| r.omitted_errors)),
            num(bias_stats(rows)),
            num(after),
            num(count(rows, |r| r.corrected_omitted_errors)),
        ));
    }
    lines.join("\n")
}
