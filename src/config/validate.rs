//! Range checks over a parsed experiment. All problems are collected, not just the first, so
//! `distillery check` and the window can show everything that needs fixing at once.

use super::ranges::{self, Range};
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

    /// `v` against a float range; `what` begins the message (`T must be …`), or nothing.
    fn float(&mut self, field: &str, v: f64, range: &Range<f64>, what: &str) {
        self.check(
            range.contains_finite(v),
            field,
            v,
            &sentence(what, &range.allowed()),
        );
    }

    /// `v` against a whole-number range.
    fn whole(&mut self, field: &str, v: usize, range: &Range<usize>) {
        self.check(range.contains(v), field, v, &range.allowed());
    }
}

fn sentence(what: &str, allowed: &str) -> String {
    if what.is_empty() {
        allowed.to_string()
    } else {
        format!("{what} {allowed}")
    }
}

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
    check_labels(&mut c, exp);
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
    c.float(
        "data.test_fraction",
        data.test_fraction,
        &ranges::TEST_FRACTION,
        "",
    );
    if let DataSource::Synthetic(s) = &data.source {
        c.whole("data.source.classes", s.classes, &ranges::SYNTHETIC_CLASSES);
        c.whole("data.source.samples", s.samples, &ranges::SYNTHETIC_SAMPLES);
        c.check(
            s.samples >= 10 * s.classes,
            "data.source.samples",
            s.samples,
            "must be at least 10 per class",
        );
        c.float("data.source.noise", s.noise, &ranges::SYNTHETIC_NOISE, "");
    }
}

fn check_transfer(c: &mut Checker, t: &TransferConfig, classes: Option<usize>) {
    c.float(
        "transfer.fraction",
        t.fraction,
        &ranges::TRANSFER_FRACTION,
        "",
    );
    c.float(
        "transfer.validation_fraction",
        t.validation_fraction,
        &ranges::VALIDATION_FRACTION,
        "",
    );
    if let TransferSource::HeldOut(f) = t.source {
        c.float(
            "transfer.source.HeldOut",
            f,
            &ranges::HELD_OUT,
            "the held-out share",
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
        let omitted = t.omitted();
        c.check(
            omitted.len() < k,
            "transfer.omit_classes",
            &t.omit_classes,
            "omits every class: the transfer set would be empty",
        );
    }
}

fn check_teacher(c: &mut Checker, t: &TeacherConfig, source: &DataSource) {
    let members = ranges::MEMBERS;
    c.check(
        members.contains(t.members.len()),
        "teacher.members",
        t.members.len(),
        &format!(
            "an ensemble needs between {} and {} members",
            members.min, members.max
        ),
    );
    for (i, member) in t.members.iter().enumerate() {
        check_arch(c, &format!("teacher.members[{i}]"), member, source);
    }
    if t.weights.is_none() {
        c.whole("teacher.epochs", t.epochs, &ranges::TEACHER_EPOCHS);
    }
    if let Some(dir) = &t.weights {
        c.check(
            dir.is_dir() || (dir.is_file() && t.members.len() == 1),
            "teacher.weights",
            dir,
            "must be an existing folder of saved teacher weights (a run's weights/ folder), \
             or for a one-member teacher one .bpk file (a run's weights/student.bpk)",
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
            let stages = ranges::CNN_STAGES;
            c.check(
                stages.contains(cnn.channels.len()),
                &format!("{field}.channels"),
                &cnn.channels,
                &format!(
                    "needs between {} and {} conv stages",
                    stages.min, stages.max
                ),
            );
            for &ch in &cnn.channels {
                c.whole(&format!("{field}.channels"), ch, &ranges::CHANNELS);
            }
            let [k1, k3, k5, k7] = ranges::KERNEL_SIZES;
            c.check(
                ranges::KERNEL_SIZES.contains(&cnn.kernel_size),
                &format!("{field}.kernel_size"),
                cnn.kernel_size,
                &format!("must be {k1}, {k3}, {k5} or {k7}"),
            );
            check_widths(c, &format!("{field}.hidden"), &cnn.hidden);
            check_dropout(c, &format!("{field}.dropout"), cnn.dropout);
        }
    }
}

fn check_widths(c: &mut Checker, field: &str, widths: &[usize]) {
    let layers = ranges::LAYERS;
    c.check(
        layers.contains(widths.len()),
        field,
        widths.len(),
        &format!("at most {} hidden layers", layers.max),
    );
    for &w in widths {
        c.whole(field, w, &ranges::WIDTH);
    }
}

fn check_dropout(c: &mut Checker, field: &str, p: f64) {
    c.float(field, p, &ranges::DROPOUT, "dropout");
}

fn check_distill(c: &mut Checker, d: &DistillConfig) {
    c.float(
        "distill.temperature",
        d.temperature,
        &ranges::TEMPERATURE,
        "T",
    );
    c.float("distill.alpha", d.alpha, &ranges::ALPHA, "alpha");
    check_weighting(c, &d.weighting);
    check_methods(c, d);
}

fn check_weighting(c: &mut Checker, w: &Weighting) {
    let Weighting::Fixed { soft, hard } = *w else {
        return;
    };
    c.float(
        "distill.weighting.soft",
        soft,
        &ranges::TERM_WEIGHT,
        "a weight",
    );
    c.float(
        "distill.weighting.hard",
        hard,
        &ranges::TERM_WEIGHT,
        "a weight",
    );
    c.check(
        soft > 0.0 || hard > 0.0,
        "distill.weighting",
        w,
        "trains nothing: at least one weight must be above 0",
    );
}

/// Every method's hyper-parameters, whichever method is chosen: a preset switched to another
/// method later must not carry a bad value along unnoticed.
fn check_methods(c: &mut Checker, d: &DistillConfig) {
    let w = &ranges::TERM_WEIGHT;
    c.float(
        "distill.dkd.target_weight",
        d.dkd.target_weight,
        w,
        "a weight",
    );
    c.float(
        "distill.dkd.non_target_weight",
        d.dkd.non_target_weight,
        w,
        "a weight",
    );
    c.whole(
        "distill.dkd.warmup_epochs",
        d.dkd.warmup_epochs,
        &ranges::RAMP_EPOCHS,
    );
    c.float(
        "distill.dist.inter_weight",
        d.dist.inter_weight,
        w,
        "a weight",
    );
    c.float(
        "distill.dist.intra_weight",
        d.dist.intra_weight,
        w,
        "a weight",
    );
    c.float("distill.nkd.gamma", d.nkd.gamma, w, "γ");
    let ct = &d.ctkd;
    c.float(
        "distill.ctkd.t_start",
        ct.t_start,
        &ranges::CTKD_T_START,
        "the lowest T",
    );
    c.float(
        "distill.ctkd.t_range",
        ct.t_range,
        &ranges::CTKD_T_RANGE,
        "the range of T",
    );
    c.float("distill.ctkd.theta", ct.theta, &ranges::CTKD_THETA, "θ");
    c.whole(
        "distill.ctkd.ramp_epochs",
        ct.ramp_epochs,
        &ranges::RAMP_EPOCHS,
    );
    c.float(
        "distill.ctkd.lr",
        ct.lr,
        &ranges::CTKD_LR,
        "the learning rate",
    );
    let vt = &d.virtual_teacher;
    c.float(
        "distill.virtual_teacher.correct_prob",
        vt.correct_prob,
        &ranges::CORRECT_PROB,
        "the probability",
    );
    c.float(
        "distill.virtual_teacher.multiplier",
        vt.multiplier,
        &ranges::MULTIPLIER,
        "the multiplier",
    );
}

/// A method that needs true labels inside its loss and has no teacher to stand in for them.
fn check_labels(c: &mut Checker, exp: &Experiment) {
    let loss = exp.distill.loss;
    c.check(
        exp.transfer.labeled || loss.uses_teacher() || !loss.needs_labels(),
        "distill.loss",
        loss,
        &format!(
            "needs the true labels ({} builds its targets from them, and there is no \
             teacher to stand in), but the transfer set is unlabeled (transfer.labeled = false)",
            loss.name()
        ),
    );
}

fn check_train(c: &mut Checker, t: &TrainConfig, source: &DataSource) {
    c.whole("train.epochs", t.epochs, &ranges::STUDENT_EPOCHS);
    c.whole("train.batch_size", t.batch_size, &ranges::BATCH_SIZE);
    c.float(
        "train.optimizer.lr",
        t.optimizer.learning_rate(),
        &ranges::LEARNING_RATE,
        "the learning rate",
    );
    if let OptimizerSpec::Sgd { momentum, .. } = t.optimizer {
        c.float(
            "train.optimizer.momentum",
            momentum,
            &ranges::MOMENTUM,
            "momentum",
        );
    }
    c.float(
        "train.weight_decay",
        t.weight_decay,
        &ranges::WEIGHT_DECAY,
        "",
    );
    c.whole("train.log_every", t.log_every, &ranges::LOG_EVERY);
    c.whole(
        "train.jitter_pixels",
        t.jitter_pixels,
        &ranges::JITTER_PIXELS,
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

    /// Allowed values at each end of `r`, and the nearest values beyond them.
    fn float_edges(r: &Range<f64>) -> (Vec<f64>, Vec<f64>) {
        let inside = vec![
            if r.min_open { r.min.next_up() } else { r.min },
            if r.max_open { r.max.next_down() } else { r.max },
        ];
        let outside = vec![
            if r.min_open { r.min } else { r.min.next_down() },
            if r.max_open { r.max } else { r.max.next_up() },
            f64::NAN,
        ];
        (inside, outside)
    }

    fn whole_edges(r: &Range<usize>) -> (Vec<usize>, Vec<usize>) {
        let mut outside = vec![r.max + 1];
        if r.min > 0 {
            outside.push(r.min - 1);
        }
        (vec![r.min, r.max], outside)
    }

    /// `set` puts a value into a valid experiment at `field`; validate must accept exactly
    /// the range's values and name the range's limits when it refuses one.
    fn limits_are<T: Copy + fmt::Debug>(
        field: &str,
        allowed: &str,
        (inside, outside): (Vec<T>, Vec<T>),
        set: impl Fn(&mut Experiment, T),
    ) {
        let mut exp = Experiment::default();
        if field.starts_with("data.source") {
            exp.data.source = DataSource::Synthetic(SyntheticSpec {
                classes: 2,
                ..SyntheticSpec::default()
            });
        }
        for v in inside {
            let mut e = exp.clone();
            set(&mut e, v);
            assert_eq!(validate(&e), vec![], "{field} = {v:?} is allowed");
        }
        for v in outside {
            let mut e = exp.clone();
            set(&mut e, v);
            let problems = validate(&e);
            assert!(
                problems
                    .iter()
                    .any(|p| p.field == field && p.allowed.ends_with(allowed)),
                "{field} = {v:?} is refused with {allowed:?}: {problems:?}"
            );
        }
    }

    /// A field's path, its range, and how to set it.
    type Field<T> = (&'static str, Range<T>, fn(&mut Experiment, T));

    #[test]
    fn validation_limits_are_the_shared_ranges() {
        use ranges::*;
        let floats: [Field<f64>; 24] = [
            ("data.test_fraction", TEST_FRACTION, |e, v| {
                e.data.test_fraction = v
            }),
            ("data.source.noise", SYNTHETIC_NOISE, |e, v| {
                if let DataSource::Synthetic(s) = &mut e.data.source {
                    s.noise = v;
                }
            }),
            ("transfer.fraction", TRANSFER_FRACTION, |e, v| {
                e.transfer.fraction = v
            }),
            (
                "transfer.validation_fraction",
                VALIDATION_FRACTION,
                |e, v| e.transfer.validation_fraction = v,
            ),
            ("transfer.source.HeldOut", HELD_OUT, |e, v| {
                e.transfer.source = TransferSource::HeldOut(v)
            }),
            ("teacher.members[0].dropout", DROPOUT, |e, v| {
                e.teacher.members[0] = ArchSpec::Mlp(MlpSpec {
                    dropout: v,
                    ..MlpSpec::default()
                })
            }),
            ("student.dropout", DROPOUT, |e, v| {
                e.student = ArchSpec::Cnn(CnnSpec {
                    dropout: v,
                    ..CnnSpec::default()
                })
            }),
            ("distill.temperature", TEMPERATURE, |e, v| {
                e.distill.temperature = v
            }),
            ("distill.alpha", ALPHA, |e, v| e.distill.alpha = v),
            ("train.optimizer.lr", LEARNING_RATE, |e, v| {
                e.train.optimizer = OptimizerSpec::Adam { lr: v }
            }),
            ("train.optimizer.lr", LEARNING_RATE, |e, v| {
                e.train.optimizer = OptimizerSpec::Sgd {
                    lr: v,
                    momentum: 0.9,
                }
            }),
            ("train.optimizer.momentum", MOMENTUM, |e, v| {
                e.train.optimizer = OptimizerSpec::Sgd {
                    lr: 0.1,
                    momentum: v,
                }
            }),
            ("train.weight_decay", WEIGHT_DECAY, |e, v| {
                e.train.weight_decay = v
            }),
            ("distill.dkd.target_weight", TERM_WEIGHT, |e, v| {
                e.distill.dkd.target_weight = v
            }),
            ("distill.dkd.non_target_weight", TERM_WEIGHT, |e, v| {
                e.distill.dkd.non_target_weight = v
            }),
            ("distill.dist.inter_weight", TERM_WEIGHT, |e, v| {
                e.distill.dist.inter_weight = v
            }),
            ("distill.dist.intra_weight", TERM_WEIGHT, |e, v| {
                e.distill.dist.intra_weight = v
            }),
            ("distill.nkd.gamma", TERM_WEIGHT, |e, v| {
                e.distill.nkd.gamma = v
            }),
            ("distill.ctkd.t_start", CTKD_T_START, |e, v| {
                e.distill.ctkd.t_start = v
            }),
            ("distill.ctkd.t_range", CTKD_T_RANGE, |e, v| {
                e.distill.ctkd.t_range = v
            }),
            ("distill.ctkd.theta", CTKD_THETA, |e, v| {
                e.distill.ctkd.theta = v
            }),
            ("distill.ctkd.lr", CTKD_LR, |e, v| e.distill.ctkd.lr = v),
            (
                "distill.virtual_teacher.correct_prob",
                CORRECT_PROB,
                |e, v| e.distill.virtual_teacher.correct_prob = v,
            ),
            ("distill.virtual_teacher.multiplier", MULTIPLIER, |e, v| {
                e.distill.virtual_teacher.multiplier = v
            }),
        ];
        for (field, range, set) in floats {
            limits_are(field, &range.allowed(), float_edges(&range), set);
        }
        let wholes: [Field<usize>; 13] = [
            ("distill.dkd.warmup_epochs", RAMP_EPOCHS, |e, v| {
                e.distill.dkd.warmup_epochs = v
            }),
            ("distill.ctkd.ramp_epochs", RAMP_EPOCHS, |e, v| {
                e.distill.ctkd.ramp_epochs = v
            }),
            ("data.source.classes", SYNTHETIC_CLASSES, |e, v| {
                if let DataSource::Synthetic(s) = &mut e.data.source {
                    s.classes = v;
                    s.samples = s.samples.max(10 * v);
                }
            }),
            ("data.source.samples", SYNTHETIC_SAMPLES, |e, v| {
                if let DataSource::Synthetic(s) = &mut e.data.source {
                    s.samples = v;
                }
            }),
            ("teacher.epochs", TEACHER_EPOCHS, |e, v| {
                e.teacher.epochs = v
            }),
            ("train.epochs", STUDENT_EPOCHS, |e, v| e.train.epochs = v),
            ("train.batch_size", BATCH_SIZE, |e, v| {
                e.train.batch_size = v
            }),
            ("train.log_every", LOG_EVERY, |e, v| e.train.log_every = v),
            ("train.jitter_pixels", JITTER_PIXELS, |e, v| {
                e.train.jitter_pixels = v
            }),
            ("student.hidden", WIDTH, |e, v| {
                e.student = ArchSpec::Mlp(MlpSpec {
                    hidden: vec![v],
                    ..MlpSpec::default()
                })
            }),
            ("teacher.members[0].hidden", WIDTH, |e, v| {
                e.teacher.members[0] = ArchSpec::Mlp(MlpSpec {
                    hidden: vec![v],
                    ..MlpSpec::default()
                })
            }),
            ("student.channels", CHANNELS, |e, v| {
                e.student = ArchSpec::Cnn(CnnSpec {
                    channels: vec![v],
                    ..CnnSpec::default()
                })
            }),
            ("student.hidden", WIDTH, |e, v| {
                e.student = ArchSpec::Cnn(CnnSpec {
                    hidden: vec![v],
                    ..CnnSpec::default()
                })
            }),
        ];
        for (field, range, set) in wholes {
            limits_are(field, &range.allowed(), whole_edges(&range), set);
        }
        // Counts: members, hidden layers, conv stages.
        let (_, outside) = whole_edges(&MEMBERS);
        let mlp = || ArchSpec::Mlp(MlpSpec::default());
        limits_are(
            "teacher.members",
            &format!("between {} and {} members", MEMBERS.min, MEMBERS.max),
            (vec![MEMBERS.min, MEMBERS.max], outside),
            |e, n| e.teacher.members = vec![mlp(); n],
        );
        limits_are(
            "student.hidden",
            &format!("at most {} hidden layers", LAYERS.max),
            (vec![LAYERS.min, LAYERS.max], vec![LAYERS.max + 1]),
            |e, n| {
                e.student = ArchSpec::Mlp(MlpSpec {
                    hidden: vec![8; n],
                    ..MlpSpec::default()
                })
            },
        );
        let (inside, outside) = whole_edges(&CNN_STAGES);
        limits_are(
            "student.channels",
            &format!(
                "between {} and {} conv stages",
                CNN_STAGES.min, CNN_STAGES.max
            ),
            (inside, outside),
            |e, n| {
                e.student = ArchSpec::Cnn(CnnSpec {
                    channels: vec![4; n],
                    ..CnnSpec::default()
                })
            },
        );
        limits_are(
            "student.kernel_size",
            "must be 1, 3, 5 or 7",
            (KERNEL_SIZES.to_vec(), vec![0, 2, 9]),
            |e, k| {
                e.student = ArchSpec::Cnn(CnnSpec {
                    kernel_size: k,
                    ..CnnSpec::default()
                })
            },
        );
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
