//! The allowed range of every numeric setting, in one place: `validate` checks against these
//! and the window's widgets are built from them, so the two cannot drift apart.
//!
//! Each range also names a narrower *slider* span, where values usually lie. A value outside
//! it but inside the allowed range is valid: the window keeps it exactly and shows it in the
//! number box beside the slider; the slider merely stops at its end.

use std::fmt::Display;

/// The values a numeric setting may take, and the span its slider covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
    /// `min` itself is not allowed (T must be greater than 0).
    pub min_open: bool,
    /// `max` itself is not allowed (dropout must be less than 0.95).
    pub max_open: bool,
    /// Where the slider starts; at or above `min`.
    pub slider_min: T,
    /// Where the slider ends; at or below `max`.
    pub slider_max: T,
    /// The slider is logarithmic.
    pub log: bool,
}

impl<T: Copy + PartialOrd + Display> Range<T> {
    /// A closed range `[min, max]` whose slider covers all of it, linearly.
    pub const fn closed(min: T, max: T) -> Self {
        Self {
            min,
            max,
            min_open: false,
            max_open: false,
            slider_min: min,
            slider_max: max,
            log: false,
        }
    }

    /// The same range with the slider covering only `[lo, hi]`.
    pub const fn slider(self, lo: T, hi: T) -> Self {
        Self {
            slider_min: lo,
            slider_max: hi,
            ..self
        }
    }

    /// The same range with a logarithmic slider.
    pub const fn log(self) -> Self {
        Self { log: true, ..self }
    }

    /// The same range without `min` itself.
    pub const fn above_min(self) -> Self {
        Self {
            min_open: true,
            ..self
        }
    }

    /// The same range without `max` itself.
    pub const fn below_max(self) -> Self {
        Self {
            max_open: true,
            ..self
        }
    }

    /// Whether `v` is allowed. NaN never is.
    pub fn contains(&self, v: T) -> bool {
        let above = if self.min_open {
            v > self.min
        } else {
            v >= self.min
        };
        let below = if self.max_open {
            v < self.max
        } else {
            v <= self.max
        };
        above && below
    }

    /// What is allowed, as the end of a sentence: `must be between 0 and 1`.
    pub fn allowed(&self) -> String {
        let (lo, hi) = (&self.min, &self.max);
        match (self.min_open, self.max_open) {
            (false, false) => format!("must be between {lo} and {hi}"),
            (true, false) => format!("must be greater than {lo} and at most {hi}"),
            (false, true) => format!("must be at least {lo} and less than {hi}"),
            (true, true) => format!("must be greater than {lo} and less than {hi}"),
        }
    }
}

impl Range<f64> {
    /// A float range whose ends are finite.
    pub fn contains_finite(&self, v: f64) -> bool {
        v.is_finite() && self.contains(v)
    }
}

// ---- data ----

/// `data.test_fraction`: share held out for testing.
pub const TEST_FRACTION: Range<f64> = Range::closed(0.01, 0.9).slider(0.05, 0.5);
/// `data.source.classes` of synthetic data.
pub const SYNTHETIC_CLASSES: Range<usize> = Range::closed(2, 20).slider(2, 10);
/// `data.source.samples` of synthetic data (and at least 10 per class).
pub const SYNTHETIC_SAMPLES: Range<usize> = Range::closed(20, 1_000_000).slider(100, 10_000).log();
/// `data.source.noise` of synthetic data, in data units.
pub const SYNTHETIC_NOISE: Range<f64> = Range::closed(0.0, 10.0).slider(0.0, 0.5);

// ---- transfer set ----

/// `transfer.fraction`: share of the transfer set kept.
pub const TRANSFER_FRACTION: Range<f64> =
    Range::closed(0.0, 1.0).above_min().slider(0.01, 1.0).log();
/// `transfer.source: HeldOut(share)`: share of the training set held out from the teacher.
pub const HELD_OUT: Range<f64> = Range::closed(0.0, 1.0)
    .above_min()
    .below_max()
    .slider(0.05, 0.9);

/// `transfer.validation_fraction`: share of the training set held out from every phase to
/// choose an omitted class's bias correction on.
pub const VALIDATION_FRACTION: Range<f64> = Range::closed(0.0, 0.5).slider(0.0, 0.3);
/// The bias added to an omitted class's logit: the window's slider and the validation
/// search both cover this range, in steps of [`BIAS_STEP`].
pub const OMITTED_BIAS: Range<f64> = Range::closed(-10.0, 20.0);
/// The validation search's step for [`OMITTED_BIAS`].
pub const BIAS_STEP: f64 = 0.1;

// ---- models ----

/// Members of an ensemble teacher.
pub const MEMBERS: Range<usize> = Range::closed(1, 16);
/// Hidden layers of an MLP or of a CNN's dense head.
pub const LAYERS: Range<usize> = Range::closed(0, 16);
/// Width of one hidden layer; wider layers are almost surely a typo.
pub const WIDTH: Range<usize> = Range::closed(1, 16_384);
/// Conv stages of a CNN.
pub const CNN_STAGES: Range<usize> = Range::closed(1, 4);
/// Output channels of one conv stage.
pub const CHANNELS: Range<usize> = Range::closed(1, 512);
/// Square kernel sizes a CNN accepts.
pub const KERNEL_SIZES: [usize; 4] = [1, 3, 5, 7];
/// Dropout after each hidden activation.
pub const DROPOUT: Range<f64> = Range::closed(0.0, 0.95).below_max().slider(0.0, 0.8);
/// `teacher.epochs`.
pub const TEACHER_EPOCHS: Range<usize> = Range::closed(1, 10_000).slider(1, 200);

// ---- distillation ----

/// `distill.temperature`.
pub const TEMPERATURE: Range<f64> = Range::closed(0.0, 1000.0)
    .above_min()
    .slider(0.5, 50.0)
    .log();
/// `distill.alpha`: weight of the soft term.
pub const ALPHA: Range<f64> = Range::closed(0.0, 1.0);

// ---- the methods' hyper-parameters ----

/// A weight on one term of a loss: DKD's a and b, DIST's β and γ, NKD's γ, fixed weights.
pub const TERM_WEIGHT: Range<f64> = Range::closed(0.0, 100.0).slider(0.0, 10.0);
/// Epochs of DKD's warm-up or of CTKD's reversal ramp (0: none).
pub const RAMP_EPOCHS: Range<usize> = Range::closed(0, 10_000).slider(0, 100);
/// CTKD's lowest temperature.
pub const CTKD_T_START: Range<f64> = Range::closed(0.0, 100.0)
    .above_min()
    .slider(0.1, 10.0)
    .log();
/// CTKD's temperature range above its start.
pub const CTKD_T_RANGE: Range<f64> = Range::closed(0.0, 1000.0).slider(0.0, 50.0);
/// CTKD's starting θ (T starts at `t_start + t_range·σ(θ)`).
pub const CTKD_THETA: Range<f64> = Range::closed(-20.0, 20.0).slider(-5.0, 5.0);
/// CTKD's learning rate for θ.
pub const CTKD_LR: Range<f64> = Range::closed(0.0, 10.0).above_min().slider(1e-4, 1.0).log();
/// The virtual teacher's probability on the true class.
pub const CORRECT_PROB: Range<f64> = Range::closed(0.0, 1.0).above_min().slider(0.5, 1.0);
/// Tf-KD's multiplier on its KL term.
pub const MULTIPLIER: Range<f64> = Range::closed(0.0, 1000.0).slider(0.0, 100.0);

// ---- training ----

/// `train.epochs` of the baseline and the student.
pub const STUDENT_EPOCHS: Range<usize> = Range::closed(1, 10_000).slider(1, 500).log();
/// `train.batch_size`.
pub const BATCH_SIZE: Range<usize> = Range::closed(1, 65_536).slider(1, 1024).log();
/// `train.optimizer.lr`, Adam's and SGD's.
pub const LEARNING_RATE: Range<f64> = Range::closed(0.0, 10.0).above_min().slider(1e-5, 1.0).log();
/// `train.optimizer.momentum` of SGD.
pub const MOMENTUM: Range<f64> = Range::closed(0.0, 0.999).slider(0.0, 0.99);
/// `train.weight_decay`.
pub const WEIGHT_DECAY: Range<f64> = Range::closed(0.0, 0.1).slider(0.0, 0.01);
/// `train.log_every`: steps between loss read-backs (not drawn in the window).
pub const LOG_EVERY: Range<usize> = Range::closed(1, 10_000);
/// `train.jitter_pixels` (image data only).
pub const JITTER_PIXELS: Range<usize> = Range::closed(0, 4);

#[cfg(test)]
mod tests {
    use super::*;

    fn sane<T: Copy + PartialOrd + Display + std::fmt::Debug>(name: &str, r: Range<T>) {
        assert!(r.min < r.max, "{name}: {r:?}");
        assert!(
            r.min <= r.slider_min && r.slider_min < r.slider_max && r.slider_max <= r.max,
            "{name}: the slider lies inside the allowed range: {r:?}"
        );
    }

    #[test]
    fn sliders_lie_inside_the_allowed_ranges() {
        for (name, r) in [
            ("TEST_FRACTION", TEST_FRACTION),
            ("SYNTHETIC_NOISE", SYNTHETIC_NOISE),
            ("TRANSFER_FRACTION", TRANSFER_FRACTION),
            ("VALIDATION_FRACTION", VALIDATION_FRACTION),
            ("OMITTED_BIAS", OMITTED_BIAS),
            ("HELD_OUT", HELD_OUT),
            ("DROPOUT", DROPOUT),
            ("TEMPERATURE", TEMPERATURE),
            ("ALPHA", ALPHA),
            ("LEARNING_RATE", LEARNING_RATE),
            ("MOMENTUM", MOMENTUM),
            ("WEIGHT_DECAY", WEIGHT_DECAY),
            ("TERM_WEIGHT", TERM_WEIGHT),
            ("CTKD_T_START", CTKD_T_START),
            ("CTKD_T_RANGE", CTKD_T_RANGE),
            ("CTKD_THETA", CTKD_THETA),
            ("CTKD_LR", CTKD_LR),
            ("CORRECT_PROB", CORRECT_PROB),
            ("MULTIPLIER", MULTIPLIER),
        ] {
            sane(name, r);
            // A log slider cannot start at 0.
            assert!(!r.log || r.slider_min > 0.0, "{name}");
        }
        for (name, r) in [
            ("SYNTHETIC_CLASSES", SYNTHETIC_CLASSES),
            ("SYNTHETIC_SAMPLES", SYNTHETIC_SAMPLES),
            ("MEMBERS", MEMBERS),
            ("LAYERS", LAYERS),
            ("WIDTH", WIDTH),
            ("CNN_STAGES", CNN_STAGES),
            ("CHANNELS", CHANNELS),
            ("TEACHER_EPOCHS", TEACHER_EPOCHS),
            ("STUDENT_EPOCHS", STUDENT_EPOCHS),
            ("BATCH_SIZE", BATCH_SIZE),
            ("LOG_EVERY", LOG_EVERY),
            ("JITTER_PIXELS", JITTER_PIXELS),
            ("RAMP_EPOCHS", RAMP_EPOCHS),
        ] {
            sane(name, r);
            assert!(!r.log || r.slider_min > 0, "{name}");
        }
    }

    #[test]
    fn open_ends_are_excluded_and_described() {
        assert!(!TEMPERATURE.contains(0.0));
        assert!(TEMPERATURE.contains(1000.0));
        assert!(!TEMPERATURE.contains_finite(f64::NAN));
        assert!(!DROPOUT.contains(0.95));
        assert!(DROPOUT.contains(0.0));
        assert_eq!(
            TEMPERATURE.allowed(),
            "must be greater than 0 and at most 1000"
        );
        assert_eq!(DROPOUT.allowed(), "must be at least 0 and less than 0.95");
        assert_eq!(HELD_OUT.allowed(), "must be greater than 0 and less than 1");
        assert_eq!(BATCH_SIZE.allowed(), "must be between 1 and 65536");
    }
}
