//! The command line: `run`, `check` and `gui`, thin over `config`, `train` and `run`.

mod gradients;
mod jobs;
mod progress;
mod report;
pub use report::{bias_line, ensemble_line};
mod sweep;

use crate::config::{self, ConfigError, Experiment};
use crate::train::{self, Control, RunError};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Exit codes: 0 success, 1 a run that failed part-way (results so far written),
/// 2 bad input (nothing trained), 130 interrupted (results so far written).
pub mod exit {
    pub const OK: i32 = 0;
    pub const RUN_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, Parser)]
#[command(
    name = "distillery",
    version,
    about = "A workbench for knowledge distillation: train a teacher, distil a student, compare.",
    long_about = "Without a command, opens the window with the default experiment."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[cfg_attr(not(feature = "app"), allow(dead_code))]
pub enum Command {
    /// Train teacher, baseline and distilled student headless; write results to a folder.
    Run {
        /// The experiment, a RON preset (see presets/).
        preset: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
        /// Output folder [default: runs/NAME-TIMESTAMP].
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar or notes: only warnings, errors and the final table.
        #[arg(long)]
        quiet: bool,
        /// Repeat over this many seeds (from the preset's) and report mean ± std, the gain
        /// over the baseline and the seeds it won; writes a sweep folder.
        #[arg(long, default_value_t = 1)]
        seeds: usize,
    },
    /// Train many students over a grid of T, α, methods and seeds (each seed's teacher and
    /// baseline once); resumable, shardable, results as mean ± std per setting.
    Sweep {
        #[command(flatten)]
        args: sweep::SweepArgs,
    },
    /// Hinton's high-temperature limit on real logits: the KD gradient (×T²) against logit
    /// matching's, by cosine and norm ratio, from T = 1 to 50, raw and zero-mean.
    Gradients {
        preset: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
        /// Folder for gradients.csv and gradients.png.
        #[arg(long, default_value = "gradients")]
        out: PathBuf,
    },
    /// Time a preset's training phases over several runs (nothing written to disk).
    Bench {
        preset: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
        /// Runs to time, after one warm-up run.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Validate a preset and its data without training.
    Check {
        preset: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Open the window.
    Gui {
        /// Preset to load instead of the last experiment.
        #[arg(long)]
        preset: Option<PathBuf>,
        /// Start training at once.
        #[arg(long)]
        start: bool,
        /// Write a PNG of the window to this path, then exit.
        #[arg(long, requires = "after")]
        screenshot: Option<PathBuf>,
        /// Seconds to wait before the screenshot.
        #[arg(long)]
        after: Option<f64>,
        /// Tab to show: curves, probabilities, temperature, regions, diagnostics, sweep or
        /// runs.
        #[arg(long, value_parser = parse_tab)]
        tab: Option<Tab>,
        /// Print the frame times (p50, p95, max) and the training speed on exit.
        #[arg(long)]
        frame_stats: bool,
        /// Open in presentation mode (F5 toggles it).
        #[arg(long)]
        present: bool,
        /// Open a lesson: a built-in one by name (1-softmax-and-temperature, …) or a lesson
        /// file, at the step it was left at.
        #[arg(long)]
        lesson: Option<String>,
    },
}

/// How a preset is resolved: the file, a data folder, and field overrides.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Inputs {
    /// Folder for a folder-based data source (Mnist, FashionMnist, Idx).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Override a field by its dotted path, e.g. --set train.epochs=2 (repeatable).
    #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
    pub sets: Vec<String>,
}

#[cfg(feature = "app")]
type Tab = crate::app::Tab;
/// Without the window a tab is only a name, accepted so `gui` can say what is missing.
#[cfg(not(feature = "app"))]
type Tab = String;

#[cfg(feature = "app")]
fn parse_tab(name: &str) -> Result<Tab, String> {
    crate::app::Tab::from_name(name).ok_or_else(|| {
        "expected curves, probabilities, temperature, regions, diagnostics or runs".to_string()
    })
}

#[cfg(not(feature = "app"))]
fn parse_tab(name: &str) -> Result<Tab, String> {
    Ok(name.to_string())
}

/// What `distillery` and `distillery gui` do in a build without the window.
#[cfg(not(feature = "app"))]
fn no_window() -> i32 {
    fail(
        "this distillery was built without the window (cargo feature `app`); the command \
         line works: run, check, bench (see distillery --help). Install the window with \
         `cargo install --path .`",
        exit::BAD_INPUT,
    )
}

/// Parse the arguments and run; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        #[cfg(feature = "app")]
        None => crate::app::run_window(crate::app::Launch::default()),
        #[cfg(feature = "app")]
        Some(Command::Gui {
            preset,
            start,
            screenshot,
            after,
            tab,
            frame_stats,
            present,
            lesson,
        }) => crate::app::run_window(crate::app::Launch {
            preset,
            start,
            screenshot: screenshot.map(|p| (p, after.unwrap_or(5.0))),
            tab,
            frame_stats,
            present,
            lesson,
        }),
        #[cfg(not(feature = "app"))]
        None | Some(Command::Gui { .. }) => no_window(),
        Some(Command::Check { preset, inputs }) => check(&preset, &inputs),
        Some(Command::Gradients {
            preset,
            inputs,
            out,
        }) => gradients::gradients(&preset, &inputs, out),
        Some(Command::Bench {
            preset,
            inputs,
            repeat,
        }) => bench(&preset, &inputs, repeat),
        Some(Command::Run {
            preset,
            inputs,
            out,
            quiet,
            seeds,
        }) if seeds > 1 => match resolve(&preset, &inputs) {
            Ok(exp) => {
                let out = out.unwrap_or_else(|| out_dir_for(&exp, "seeds"));
                sweep::run_seeds(exp, seeds, out, quiet)
            }
            Err(e) => fail(e, exit::BAD_INPUT),
        },
        Some(Command::Run {
            preset,
            inputs,
            out,
            quiet,
            ..
        }) => run(&preset, &inputs, out, quiet),
        Some(Command::Sweep { args }) => sweep::sweep(args),
    }
}

/// Load, redirect and override a preset; every step's errors become one message.
pub fn resolve(preset: &Path, inputs: &Inputs) -> Result<Experiment, ConfigError> {
    let mut exp = config::load_file(preset)?;
    if let Some(dir) = &inputs.data_dir {
        match exp.data.source.folder_mut() {
            Some(folder) => *folder = dir.clone(),
            None => {
                return Err(ConfigError::Override {
                    assignment: format!("--data-dir {}", dir.display()),
                    message: format!(
                        "the preset's data source ({}) does not read from a folder",
                        exp.data.source.label()
                    ),
                });
            }
        }
    }
    exp = config::apply_overrides(&exp, &inputs.sets)?;
    let problems = config::validate(&exp);
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(exp)
}

/// Bad input exits with 2, a device that failed before training with 1.
fn start_failure_code(e: &RunError) -> i32 {
    if e.is_bad_input() {
        exit::BAD_INPUT
    } else {
        exit::RUN_FAILED
    }
}

fn fail(message: impl std::fmt::Display, code: i32) -> i32 {
    eprintln!("error: {message}");
    code
}

fn check(preset: &Path, inputs: &Inputs) -> i32 {
    let exp = match resolve(preset, inputs) {
        Ok(e) => e,
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    match report::describe_experiment(&exp) {
        Ok(text) => {
            println!("{text}");
            println!("ok: {} is valid", preset.display());
            exit::OK
        }
        Err(e) => fail(e, exit::BAD_INPUT),
    }
}

/// `runs/NAME-KIND-TIMESTAMP`, for folders other than a single run's (`compare`, `seeds`).
pub(crate) fn out_dir_for(exp: &Experiment, kind: &str) -> PathBuf {
    let dir = default_out_dir(exp);
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("run");
    let (stem, stamp) = name.rsplit_once('-').unwrap_or((name, "0"));
    dir.with_file_name(format!("{stem}-{kind}-{stamp}"))
}

fn default_out_dir(exp: &Experiment) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let safe: String = exp
        .name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    PathBuf::from("runs").join(format!("{safe}-{stamp}"))
}

fn run(preset: &Path, inputs: &Inputs, out: Option<PathBuf>, quiet: bool) -> i32 {
    let exp = match resolve(preset, inputs) {
        Ok(e) => e,
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    let out = out.unwrap_or_else(|| default_out_dir(&exp));
    let recorder = match crate::run::RunRecorder::start(&out, &exp) {
        Ok(r) => std::sync::Mutex::new(r),
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    let write_failed = std::sync::atomic::AtomicBool::new(false);
    let control = Control::new();
    let ctrlc_control = control.clone();
    // A second Ctrl+C while results are being written would lose them; the first one only stops.
    let _ = ctrlc::set_handler(move || {
        eprintln!("\nstopping after the current batch; results so far will be written");
        ctrlc_control.stop();
    });
    let progress = progress::Progress::new(quiet);
    let sink = |e: train::Event| {
        let recorded = recorder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(&e);
        // Report a failing write once; the final write says it again if it still fails.
        if let Err(err) = recorded
            && !write_failed.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            eprintln!("warning: {err}; training goes on");
        }
        progress.on_event(&e);
    };
    let outcome = match train::run_blocking(&exp, &control, &sink) {
        Ok(o) => o,
        Err(e) => return fail(&e, start_failure_code(&e)),
    };
    progress.finish();
    let written = crate::run::write_run(&out, &exp, &outcome);
    println!("{}", report::summary_table(&outcome.summary));
    match written {
        Ok(_) => println!("results: {}", out.display()),
        Err(e) => {
            return fail(
                format!("{e} (the numbers above are all that is left)"),
                exit::RUN_FAILED,
            );
        }
    }
    if let Some(err) = &outcome.summary.error {
        return fail(
            format!("{err}; what was measured is in {}", out.display()),
            exit::RUN_FAILED,
        );
    }
    if outcome.summary.stopped {
        eprintln!(
            "stopped before the end; results so far are in {}",
            out.display()
        );
        return exit::INTERRUPTED;
    }
    exit::OK
}

/// Run a preset `repeat` times after a warm-up and print each phase's training throughput
/// (examples per second over its training steps) and the wall time: minimum, median, maximum.
fn bench(preset: &Path, inputs: &Inputs, repeat: usize) -> i32 {
    let exp = match resolve(preset, inputs) {
        Ok(e) => e,
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    let mut rows: Vec<[f64; 4]> = Vec::new();
    for i in 0..=repeat.max(1) {
        let outcome = match train::run_blocking(&exp, &Control::new(), &|_| {}) {
            Ok(o) => o,
            Err(e) => return fail(&e, start_failure_code(&e)),
        };
        let s = &outcome.summary;
        if let Some(err) = &s.error {
            return fail(&err.message, exit::RUN_FAILED);
        }
        let rate = |r: Option<&train::ModelReport>| {
            r.and_then(|r| r.samples_per_second).unwrap_or(f64::NAN)
        };
        // The first run warms caches and the allocator; it is not counted.
        if i > 0 {
            rows.push([
                rate(Some(&s.teacher)),
                rate(s.baseline.as_ref()),
                rate(s.student.as_ref()),
                s.wall_seconds,
            ]);
        }
        if i == 0 {
            println!(
                "{}: {} on {}",
                exp.name,
                s.data.description,
                s.device.describe()
            );
        }
    }
    println!(
        "{} runs after a warm-up          min        median           max",
        rows.len()
    );
    let names = [
        "teacher examples/s",
        "baseline examples/s",
        "student examples/s",
        "wall seconds",
    ];
    for (j, name) in names.iter().enumerate() {
        let mut v: Vec<f64> = rows
            .iter()
            .map(|r| r[j])
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        let median = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        println!(
            "{name:<22} {:>13.2} {:>13.2} {:>13.2}",
            v[0],
            median,
            v[v.len() - 1]
        );
    }
    exit::OK
}
