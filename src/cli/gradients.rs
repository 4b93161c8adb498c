//! `distillery gradients PRESET.ron`: Hinton's high-temperature limit on real logits. The
//! preset's teacher is trained (or loaded) and its student trained for one epoch; on the
//! first test examples, the gradient of T²·KL and the logit-matching gradient are compared
//! from T = 1 to 50, with the logits as they are and zero-meaned. Writes `gradients.csv` and
//! `gradients.png`.

use super::{Inputs, exit, fail, resolve, start_failure_code};
use crate::distill::gradients::{GradientPoint, to_csv};
use crate::sweep::heatmap::{Canvas, encode};
use crate::train::{self, Control, Role};
use std::path::{Path, PathBuf};

pub fn gradients(preset: &Path, inputs: &Inputs, out: PathBuf) -> i32 {
    let mut exp = match resolve(preset, inputs) {
        Ok(e) => e,
        Err(e) => return fail(e, exit::BAD_INPUT),
    };
    exp.train.epochs = 1;
    exp.train.baseline = false;
    let outcome = match train::run_blocking(&exp, &Control::new(), &|_| {}) {
        Ok(o) => o,
        Err(e) => return fail(&e, start_failure_code(&e)),
    };
    let logits = |role: Role| outcome.logits.iter().find(|l| l.role == role).cloned();
    let (Some(teacher), Some(student)) = (logits(Role::Teacher), logits(Role::Student)) else {
        return fail(
            "the run ended before its student had logits",
            exit::RUN_FAILED,
        );
    };
    let points = train::gradient_comparison(&teacher, &student);
    let n = (student.members[0].len() / student.classes).min(train::GRADIENT_BATCH);
    if let Err(e) = std::fs::create_dir_all(&out) {
        return fail(
            format!("cannot create {}: {e}", out.display()),
            exit::BAD_INPUT,
        );
    }
    let files = [
        ("gradients.csv", to_csv(&points).into_bytes()),
        ("gradients.png", plot(&points)),
    ];
    for (name, bytes) in files {
        if let Err(e) = crate::run::write_atomic(&out.join(name), &bytes) {
            return fail(e, exit::RUN_FAILED);
        }
    }
    println!(
        "{} test examples, the teacher against the student after one epoch:",
        n
    );
    println!("      T   cosine (zero-mean)   norm ratio (zero-mean)   cosine (raw logits)");
    let raw: Vec<&GradientPoint> = points.iter().filter(|p| !p.zero_mean).collect();
    for (z, r) in points.iter().filter(|p| p.zero_mean).zip(raw).step_by(4) {
        println!(
            "{:>7.2}   {:>18.4}   {:>22.4}   {:>19.4}",
            z.temperature, z.cosine, z.norm_ratio, r.cosine
        );
    }
    println!("results: {} (gradients.csv, gradients.png)", out.display());
    exit::OK
}

const W: usize = 520;
const H: usize = 300;
const LEFT: usize = 50;
const TOP: usize = 20;
const PW: usize = 440;
const PH: usize = 230;

/// Cosine (zero-mean in blue, raw in orange) and the zero-mean norm ratio (green, on the
/// same axis from 0 to 1.5) against log T.
fn plot(points: &[GradientPoint]) -> Vec<u8> {
    let mut c = Canvas::new(W, H);
    c.fill(LEFT, TOP + PH, PW, 1, [0, 0, 0]);
    c.fill(LEFT, TOP, 1, PH, [0, 0, 0]);
    for (y, label) in [(0.0, "0"), (1.0, "1")] {
        let py = TOP + PH - (y / 1.5 * PH as f32) as usize;
        c.fill(LEFT, py, PW, 1, [200, 200, 200]);
        c.text(LEFT - 14, py - 5, label, 2);
    }
    c.text(LEFT, TOP + PH + 8, "T=1", 2);
    c.text(LEFT + PW - 36, TOP + PH + 8, "T=50", 2);
    let x = |t: f32| LEFT + (t.ln() / 50f32.ln() * (PW - 4) as f32) as usize;
    let y = |v: f32| TOP + PH - ((v.clamp(0.0, 1.5) / 1.5) * (PH - 2) as f32) as usize - 1;
    for p in points {
        let (cos, colour) = if p.zero_mean {
            (p.cosine, [31, 119, 180])
        } else {
            (p.cosine, [255, 127, 14])
        };
        c.fill(x(p.temperature), y(cos), 4, 4, colour);
        if p.zero_mean {
            c.fill(x(p.temperature), y(p.norm_ratio), 4, 4, [44, 160, 44]);
        }
    }
    c.text(LEFT + 10, 4, "cos zero-mean", 2);
    c.fill(LEFT, 6, 6, 6, [31, 119, 180]);
    c.text(LEFT + 190, 4, "cos raw", 2);
    c.fill(LEFT + 180, 6, 6, 6, [255, 127, 14]);
    c.text(LEFT + 320, 4, "ratio", 2);
    c.fill(LEFT + 310, 6, 6, 6, [44, 160, 44]);
    encode(&c)
}
