//! Memory a run needs, estimated before anything is allocated, so a configuration that cannot
//! fit is refused with numbers instead of failing (or swapping) half-way.

use crate::config::{ArchSpec, Experiment, OptimizerSpec};
use crate::model::{IoShape, arch_size};
use std::fmt;

const F32: u64 = 4;
/// Rows per evaluation forward pass (see `eval::predict`).
const EVAL_ROWS: u64 = 2048;

/// An estimate in bytes, with its largest parts named.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub parts: Vec<(&'static str, u64)>,
}

impl MemoryEstimate {
    pub fn total(&self) -> u64 {
        self.parts.iter().map(|(_, b)| b).sum()
    }
}

/// Bytes as `1.5 GiB`, `300 MiB`, `12 KiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, b)| *b > 0)
            .map(|(name, b)| format!("{name} {}", human(*b)))
            .collect();
        write!(f, "about {} ({})", human(self.total()), parts.join(", "))
    }
}

/// Values per example a model keeps for its backward pass: every layer's output.
fn activations_per_example(spec: &ArchSpec, io: IoShape) -> u64 {
    let dense = |widths: &[usize]| widths.iter().map(|&w| w as u64).sum::<u64>();
    let out = io.classes as u64 + io.inputs as u64;
    match spec {
        ArchSpec::Mlp(m) => 2 * dense(&m.hidden) + out,
        ArchSpec::SoftmaxRegression => out,
        ArchSpec::Cnn(c) => {
            let Some(img) = io.image else { return out };
            let (mut h, mut w) = (img.height as u64, img.width as u64);
            let mut conv = 0;
            for &ch in &c.channels {
                // conv output and activation at full size, pooled output at a quarter.
                conv += 2 * ch as u64 * h * w + ch as u64 * (h / 2) * (w / 2);
                h /= 2;
                w /= 2;
            }
            conv + 2 * dense(&c.hidden) + out
        }
    }
}

/// Parameter copies a model in training keeps: weights, gradients, optimiser state.
fn training_copies(opt: &OptimizerSpec) -> u64 {
    match opt {
        OptimizerSpec::Adam { .. } => 4,
        OptimizerSpec::Sgd { momentum, .. } if *momentum > 0.0 => 3,
        OptimizerSpec::Sgd { .. } => 2,
    }
}

/// The peak memory of `exp` on data of this shape and size.
pub fn estimate(
    exp: &Experiment,
    io: IoShape,
    train_examples: usize,
    test_examples: usize,
) -> MemoryEstimate {
    let copies = training_copies(&exp.train.optimizer);
    let members = &exp.teacher.members;
    let teacher_params: Vec<u64> = members
        .iter()
        .map(|m| arch_size(m, io).parameters as u64)
        .collect();
    let largest_member = teacher_params.iter().copied().max().unwrap_or(0);
    let student = arch_size(&exp.student, io).parameters as u64;
    let rows = (train_examples + test_examples) as u64;
    let batch = exp.train.batch_size as u64;
    let act = largest_over_models(exp, |m| activations_per_example(m, io));
    let teacher_total: u64 = teacher_params.iter().sum();
    MemoryEstimate {
        parts: vec![
            ("data", rows * (io.inputs as u64 * F32 + 8)),
            // One member trains at a time; the others are kept frozen.
            (
                "teacher",
                (teacher_total + largest_member * (copies - 1)) * F32,
            ),
            (
                "teacher logits",
                train_examples as u64 * io.classes as u64 * members.len() as u64 * F32,
            ),
            // The baseline is kept while the student trains.
            ("students", student * (copies + 1) * F32),
            ("activations", (batch * 2 + EVAL_ROWS) * act * F32),
        ],
    }
}

/// The largest value of `measure` over the teacher's members and the student.
fn largest_over_models(exp: &Experiment, measure: impl Fn(&ArchSpec) -> u64) -> u64 {
    exp.teacher
        .members
        .iter()
        .chain([&exp.student])
        .map(measure)
        .max()
        .unwrap_or(0)
}

/// The largest single tensor a run creates: the training data, a teacher's cached logits, a
/// weight matrix, or a batch of activations; a GPU must bind each in one buffer.
pub fn largest_tensor(
    exp: &Experiment,
    io: IoShape,
    train_examples: usize,
    test_examples: usize,
) -> u64 {
    let rows = train_examples.max(test_examples) as u64;
    let widest = largest_over_models(exp, |m| activations_per_example(m, io));
    let weights = largest_over_models(exp, |m| largest_matrix(m, io));
    let batch_rows = (exp.train.batch_size as u64).max(EVAL_ROWS);
    [
        rows * io.inputs as u64 * F32,
        train_examples as u64 * io.classes as u64 * F32,
        weights * F32,
        batch_rows * widest * F32,
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// Elements of the largest weight matrix of an architecture.
fn largest_matrix(spec: &ArchSpec, io: IoShape) -> u64 {
    let dense = |first: u64, widths: &[usize]| {
        std::iter::once(first)
            .chain(widths.iter().map(|&w| w as u64))
            .chain(std::iter::once(io.classes as u64))
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[0] * w[1])
            .max()
            .unwrap_or(0)
    };
    match spec {
        ArchSpec::Mlp(m) => dense(io.inputs as u64, &m.hidden),
        ArchSpec::SoftmaxRegression => io.inputs as u64 * io.classes as u64,
        ArchSpec::Cnn(c) => {
            let Some(img) = io.image else { return 0 };
            let stages = c.channels.len();
            let side = |s: usize| (0..stages).fold(s, |v, _| v / 2) as u64;
            let flat =
                c.channels.last().copied().unwrap_or(1) as u64 * side(img.height) * side(img.width);
            dense(flat, &c.hidden)
        }
    }
}

/// Why a GPU cannot hold a tensor of `largest` bytes, if it cannot.
pub fn gpu_buffer_problem(largest: u64, max_buffer: Option<u64>) -> Option<String> {
    let max = max_buffer?;
    (largest > max).then(|| {
        format!(
            "its largest tensor would take {}, more than the {} the GPU binds in one buffer",
            human(largest),
            human(max)
        )
    })
}

/// Memory the operating system can give now (Linux `MemAvailable`), if known.
pub fn available_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Refuse an estimate that does not fit in `available` bytes, leaving a tenth as headroom.
pub fn check_fits(
    estimate: &MemoryEstimate,
    available: Option<u64>,
    where_: &str,
) -> Result<(), String> {
    let Some(available) = available else {
        return Ok(());
    };
    if estimate.total() <= available / 10 * 9 {
        return Ok(());
    }
    Err(format!(
        "this experiment needs {estimate}, but only {} of {where_} memory is free. \
         Use narrower or fewer layers, fewer ensemble members, a smaller batch, or less data",
        human(available)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MlpSpec;

    fn io() -> IoShape {
        IoShape {
            inputs: 784,
            classes: 10,
            image: None,
        }
    }

    #[test]
    fn hinton_mnist_fits_and_the_numbers_add_up() {
        let exp = Experiment {
            teacher: crate::config::TeacherConfig {
                members: vec![ArchSpec::Mlp(MlpSpec {
                    hidden: vec![1200, 1200],
                    ..MlpSpec::default()
                })],
                ..Default::default()
            },
            ..Experiment::default()
        };
        let e = estimate(&exp, io(), 60_000, 10_000);
        // Data: 70,000 × (784 × 4 + 8) bytes.
        assert_eq!(e.parts[0].1, 70_000 * (784 * 4 + 8));
        // Teacher: 2,395,210 parameters × 4 copies (Adam) × 4 bytes.
        assert_eq!(e.parts[1].1, 2_395_210 * 4 * 4);
        assert!(e.total() < 1 << 30, "{e}");
        assert!(check_fits(&e, Some(24 << 30), "CPU").is_ok());
    }

    #[test]
    fn an_absurd_model_is_refused_with_the_estimate() {
        let exp = Experiment {
            student: ArchSpec::Mlp(MlpSpec {
                hidden: vec![16_384; 16],
                ..MlpSpec::default()
            }),
            ..Experiment::default()
        };
        let e = estimate(&exp, io(), 60_000, 10_000);
        let err = check_fits(&e, Some(24 << 30), "CPU").unwrap_err();
        assert!(err.contains("GiB") && err.contains("students"), "{err}");
        assert_eq!(human(1536), "1.5 KiB");
    }

    #[test]
    fn mnist_training_data_is_the_largest_tensor() {
        let exp = Experiment::default();
        let largest = largest_tensor(&exp, io(), 60_000, 10_000);
        assert_eq!(largest, 60_000 * 784 * 4);
        // A GPU binding 128 MiB at once cannot hold MNIST's 179 MiB of training pixels.
        let problem = gpu_buffer_problem(largest, Some(128 << 20)).unwrap();
        assert!(
            problem.contains("179.4 MiB") && problem.contains("128.0 MiB"),
            "{problem}"
        );
        assert_eq!(gpu_buffer_problem(largest, Some(2 << 30)), None);
        assert_eq!(gpu_buffer_problem(largest, None), None);
    }
}
