//! Range checks over a parsed experiment. All problems are collected, not just the first, so
//! `distillery check` and the window can show everything that needs fixing at once.

use super::*;
use std::fmt;

/// One value out of its allowed range: the dotted field path, the value, and what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub field: String,
    pub value: String,
    pub allowed: String,
}

impl Problem {
    fn new(field: impl Into<String>, value: impl fmt::Debug, allowed: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            value: format!("{value:?}"),
            allowed: allowed.into(),
        }
    }

    /// Problems as a paragraph, one per line.
    pub fn list(problems: &[Problem]) -> String {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        format!(
            "the experiment has {} invalid setting{}:\n{}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            lines.join("\n")
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}: {}", self.field, self.value, self.allowed)
    }
}

/// Collects problems under a growing field path.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn check(&mut self, ok: bool, field: &str, value: impl fmt::Debug, allowed: &str) {
        if !ok {
            self.problems.push(Problem::new(field, value, allowed));
        }
    }

    fn range_f64(&mut self, field: &str, v: f64, lo: f64, hi: f64, allowed: &str) {
        self.check(v.is_finite() && v >= lo && v <= hi, field, v, allowed);
    }

    fn range_usize(&mut self, field: &str, v: usize, lo: usize, hi: usize) {
        self.check(
            (lo..=hi).contains(&v),
            field,
            v,
            &format!("must be between {lo} and {hi}"),
        );
    }
}

/// Largest layer width accepted; wider layers are almost surely a typo.
pub const MAX_WIDTH: usize = 16_384;
pub const MAX_LAYERS: usize = 16;
pub const MAX_MEMBERS: usize = 16;
pub const MAX_TEMPERATURE: f64 = 1000.0;

/// Every range problem in `exp`. Problems that need the data itself (a label column that does
/// not exist, say) surface when the data loads.
pub fn validate(exp: &Experiment) -> Vec<Problem> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    check_data(&mut c, &exp.data);
    check_transfer(&mut c, &exp.transfer, known_classes(&exp.data.source));
    check_teacher(&mut c, &exp.teacher, &exp.data.source);
    check_arch(&mut c, "student", &exp.student, &exp.data.source);
    check_distill(&mut c, &exp.distill);
    check_train(&mut c, &exp.train, &exp.data.source);
    c.problems
}

/// The number of classes, where it is known without reading files.
pub fn known_classes(source: &DataSource) -> Option<usize> {
    match source {
        DataSource::Digits | DataSource::Mnist(_) | DataSource::FashionMnist(_) => Some(10),
        DataSource::Synthetic(s) => Some(s.classes),
        DataSource::Idx(_) | DataSource::Csv(_) => None,
    }
}

/// Files and folders a source reads must exist; their contents are checked when they load.
fn check_paths(c: &mut Checker, source: &DataSource) {
    let folder_hint = "does not exist (give the folder with the IDX files, or --data-dir DIR)";
    match source {
        DataSource::Mnist(dir) | DataSource::FashionMnist(dir) => {
            c.check(dir.is_dir(), "data.source", dir, folder_hint);
        }
        DataSource::Csv(csv) => {
            c.check(
                csv.path.is_file(),
                "data.source.path",
                &csv.path,
                "no such file",
            );
        }
        DataSource::Idx(files) => {
            let at =
                |p: &std::path::Path| files.dir.as_ref().map_or(p.to_path_buf(), |d| d.join(p));
            let named = [
                Some(&files.train_images),
                Some(&files.train_labels),
                files.test_images.as_ref(),
                files.test_labels.as_ref(),
            ];
            for path in named.into_iter().flatten() {
                c.check(at(path).is_file(), "data.source", at(path), "no such file");
            }
        }
        DataSource::Digits | DataSource::Synthetic(_) => {}
    }
}

fn check_data(c: &mut Checker, data: &DataConfig) {
    check_paths(c, &data.source);
    c.range_f64(
        "data.test_fraction",
        data.test_fraction,
        0.01,
        0.9,
        "must be between 0.01 and 0.9",
    );
    if let DataSource::Synthetic(s) = &data.source {
        c.range_usize("data.source.classes", s.classes, 2, 20);
        c.range_usize("data.source.samples", s.samples, 20, 1_000_000);
        c.check(
            s.samples >= 10 * s.classes,
            "data.source.samples",
            s.samples,
            "must be at least 10 per class",
        );
        c.range_f64(
            "data.source.noise",
            s.noise,
            0.0,
            10.0,
            "must be between 0 and 10",
        );
    }
}

fn check_transfer(c: &mut Checker, t: &TransferConfig, classes: Option<usize>) {
    c.check(
        t.fraction.is_finite() && t.fraction > 0.0 && t.fraction <= 1.0,
        "transfer.fraction",
        t.fraction,
        "must be in (0, 1]",
    );
    if let TransferSource::HeldOut(f) = t.source {
        c.check(
            f.is_finite() && f > 0.0 && f < 1.0,
            "transfer.source.HeldOut",
            f,
            "the held-out share must be in (0, 1)",
        );
    }
    if let Some(k) = classes {
        for &class in &t.omit_classes {
            c.check(
                class < k,
                "transfer.omit_classes",
                class,
                &format!("classes are numbered 0 to {}", k - 1),
            );
        }
        let mut omitted = t.omit_classes.clone();
        omitted.sort_unstable();
        omitted.dedup();
        c.check(
            omitted.len() < k,
            "transfer.omit_classes",
            &t.omit_classes,
            "omits every class: the transfer set would be empty",
        );
    }
}

fn check_teacher(c: &mut Checker, t: &TeacherConfig, source: &DataSource) {
    c.check(
        !t.members.is_empty() && t.members.len() <= MAX_MEMBERS,
        "teacher.members",
        t.members.len(),
        &format!("an ensemble needs between 1 and {MAX_MEMBERS} members"),
    );
    for (i, member) in t.members.iter().enumerate() {
        check_arch(c, &format!("teacher.members[{i}]"), member, source);
    }
    if t.weights.is_none() {
        c.range_usize("teacher.epochs", t.epochs, 1, 10_000);
    }
    if let Some(dir) = &t.weights {
        c.check(
            dir.is_dir(),
            "teacher.weights",
            dir,
            "must be an existing folder of saved teacher weights (a run's weights/ folder)",
        );
    }
}

fn check_arch(c: &mut Checker, field: &str, arch: &ArchSpec, source: &DataSource) {
    match arch {
        ArchSpec::Mlp(m) => {
            check_widths(c, &format!("{field}.hidden"), &m.hidden);
            check_dropout(c, &format!("{field}.dropout"), m.dropout);
        }
        ArchSpec::SoftmaxRegression => {}
        ArchSpec::Cnn(cnn) => {
            c.check(
                source.is_image(),
                field,
                "Cnn",
                "a CNN needs image data (Digits, Mnist, FashionMnist or Idx); use Mlp for this source",
            );
            c.check(
                (1..=4).contains(&cnn.channels.len()),
                &format!("{field}.channels"),
                &cnn.channels,
                "needs between 1 and 4 conv stages",
            );
            for &ch in &cnn.channels {
                c.range_usize(&format!("{field}.channels"), ch, 1, 512);
            }
            c.check(
                matches!(cnn.kernel_size, 1 | 3 | 5 | 7),
                &format!("{field}.kernel_size"),
                cnn.kernel_size,
                "must be 1, 3, 5 or 7",
            );
            check_widths(c, &format!("{field}.hidden"), &cnn.hidden);
            check_dropout(c, &format!("{field}.dropout"), cnn.dropout);
        }
    }
}

fn check_widths(c: &mut Checker, field: &str, widths: &[usize]) {
    c.check(
        widths.len() <= MAX_LAYERS,
        field,
        widths.len(),
        &format!("at most {MAX_LAYERS} hidden layers"),
    );
    for &w in widths {
        c.range_usize(field, w, 1, MAX_WIDTH);
    }
}

fn check_dropout(c: &mut Checker, field: &str, p: f64) {
    c.check(
        p.is_finite() && (0.0..0.95).contains(&p),
        field,
        p,
        "dropout must be in [0, 0.95)",
    );
}

fn check_distill(c: &mut Checker, d: &DistillConfig) {
    c.check(
        d.temperature.is_finite() && d.temperature > 0.0 && d.temperature <= MAX_TEMPERATURE,
        "distill.temperature",
        d.temperature,
        &format!("T must be greater than 0 and at most {MAX_TEMPERATURE}"),
    );
    c.range_f64(
        "distill.alpha",
        d.alpha,
        0.0,
        1.0,
        "alpha must be between 0 and 1",
    );
}

fn check_train(c: &mut Checker, t: &TrainConfig, source: &DataSource) {
    c.range_usize("train.epochs", t.epochs, 1, 10_000);
    c.range_usize("train.batch_size", t.batch_size, 1, 65_536);
    let lr = t.optimizer.learning_rate();
    c.check(
        lr.is_finite() && lr > 0.0 && lr <= 10.0,
        "train.optimizer.lr",
        lr,
        "the learning rate must be greater than 0 and at most 10",
    );
    if let OptimizerSpec::Sgd { momentum, .. } = t.optimizer {
        c.range_f64(
            "train.optimizer.momentum",
            momentum,
            0.0,
            0.999,
            "momentum must be in [0, 0.999]",
        );
    }
    c.range_f64(
        "train.weight_decay",
        t.weight_decay,
        0.0,
        0.1,
        "must be between 0 and 0.1",
    );
    c.range_usize("train.log_every", t.log_every, 1, 10_000);
    c.check(
        t.jitter_pixels <= 4,
        "train.jitter_pixels",
        t.jitter_pixels,
        "must be between 0 and 4",
    );
    c.check(
        t.jitter_pixels == 0 || source.is_image(),
        "train.jitter_pixels",
        t.jitter_pixels,
        "pixel jitter needs image data; set it to 0 for this source",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(exp: &Experiment) -> Vec<String> {
        validate(exp).into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert!(validate(&Experiment::default()).is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut exp = Experiment::default();
        exp.distill.temperature = 0.0;
        exp.distill.alpha = 1.5;
        exp.train.batch_size = 0;
        exp.train.epochs = 0;
        exp.transfer.fraction = 0.0;
        exp.teacher.members.clear();
        let f = fields(&exp);
        for want in [
            "distill.temperature",
            "distill.alpha",
            "train.batch_size",
            "train.epochs",
            "transfer.fraction",
            "teacher.members",
        ] {
            assert!(f.iter().any(|x| x == want), "{want} missing from {f:?}");
        }
    }

    #[test]
    fn negative_temperature_names_the_allowed_range() {
        let mut exp = Experiment::default();
        exp.distill.temperature = -1.0;
        let p = &validate(&exp)[0];
        assert_eq!(
            p.to_string(),
            "distill.temperature = -1.0: T must be greater than 0 and at most 1000"
        );
    }

    #[test]
    fn cnn_on_points_and_omitting_every_class_are_refused() {
        let mut exp = Experiment::default();
        exp.data.source = DataSource::Synthetic(SyntheticSpec::default());
        exp.student = ArchSpec::Cnn(CnnSpec::default());
        exp.transfer.omit_classes = vec![0, 1, 2];
        let f = fields(&exp);
        assert!(f.contains(&"student".to_string()), "{f:?}");
        assert!(f.contains(&"transfer.omit_classes".to_string()), "{f:?}");
    }

    #[test]
    fn absurd_widths_are_refused() {
        let exp = Experiment {
            student: ArchSpec::Mlp(MlpSpec {
                hidden: vec![0, 10_000_000],
                ..MlpSpec::default()
            }),
            ..Experiment::default()
        };
        assert_eq!(fields(&exp), vec!["student.hidden", "student.hidden"]);
    }
}
