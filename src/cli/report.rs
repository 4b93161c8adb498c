//! Text the CLI prints: the results table and `check`'s description of an experiment.

use crate::config::Experiment;
use crate::data;
use crate::model::{IoShape, arch_size};
use crate::train::{ModelReport, PhaseStatus, Summary};

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn row(role: &str, r: &ModelReport) -> String {
    let acc = r
        .test_accuracy
        .map_or_else(|| "-".to_string(), |a| format!("{a:.4}"));
    let agree = r
        .agreement_with_teacher
        .filter(|_| role != "teacher")
        .map_or_else(|| "-".to_string(), |a| format!("{a:.4}"));
    let status = match r.status {
        PhaseStatus::Completed => String::new(),
        other => format!("  ({other:?})").to_lowercase(),
    };
    format!(
        "{role:<9} {:<28} {:>11} {:>11} {acc:>9} {agree:>9} {:>8.1}s{status}",
        r.architecture,
        thousands(r.parameters),
        thousands(r.macs),
        r.wall_seconds
    )
}

/// The final table: one row per model, then compression, gain and device.
pub fn summary_table(s: &Summary) -> String {
    let mut lines = vec![format!(
        "{:<9} {:<28} {:>11} {:>11} {:>9} {:>9} {:>9}",
        "model", "architecture", "parameters", "MACs", "test acc", "agrees", "time"
    )];
    lines.push(row("teacher", &s.teacher));
    if let Some(b) = &s.baseline {
        lines.push(row("baseline", b));
    }
    if let Some(st) = &s.student {
        lines.push(row("student", st));
    }
    let mut tail = format!("compression {:.1}×", s.compression_ratio);
    if let Some(gain) = s.distillation_gain() {
        tail.push_str(&format!(
            "; distillation {} {:.2} points over the baseline",
            if gain >= 0.0 { "gains" } else { "loses" },
            gain.abs() * 100.0
        ));
    }
    if let Some(sps) = s.student.as_ref().and_then(|r| r.samples_per_second) {
        tail.push_str(&format!("; student trains at {sps:.0} samples/s"));
    }
    lines.push(tail);
    if let Some(e) = &s.ensemble {
        lines.push(ensemble_line(e));
    }
    for (role, report) in [("baseline", &s.baseline), ("student", &s.student)] {
        if let Some(c) = report.as_ref().and_then(|r| r.bias_correction.as_ref()) {
            lines.push(bias_line(role, c));
        }
    }
    lines.push(format!(
        "device {}; {:.1}s in all",
        s.device.describe(),
        s.wall_seconds
    ));
    lines.join("\n")
}

/// What `check` prints: the data as loaded and each model's size.
pub fn describe_experiment(exp: &Experiment) -> Result<String, String> {
    let splits = data::load(&exp.data, exp.seed).map_err(|e| e.to_string())?;
    let transfer =
        data::select_transfer(&splits.train, &exp.transfer, exp.seed).map_err(|e| e.to_string())?;
    let io = IoShape {
        inputs: splits.train.num_features,
        classes: splits.train.num_classes,
        image: splits.train.image,
    };
    let memory = crate::train::memory::estimate(exp, io, splits.train.len(), splits.test.len());
    crate::train::memory::check_fits(&memory, crate::train::memory::available_bytes(), "CPU")?;
    // The same check a run makes before training: architectures and saved teacher weights.
    crate::train::setup::check_models(exp, io, &burn::tensor::Device::flex())
        .map_err(|e| e.to_string())?;
    let teacher = exp
        .teacher
        .members
        .iter()
        .map(|m| arch_size(m, io))
        .fold(crate::model::ModelSize::default(), |a, b| a + b);
    let student = arch_size(&exp.student, io);
    let formula = crate::distill::formula_lines(exp);
    Ok(format!(
        "experiment {} (seed {})\ndata: {} ({} train, {} test, {} features, {} classes); transfer set {} examples{}\n\
         teacher: {} member(s), {} parameters, {} MACs per example\n\
         student: {}, {} parameters, {} MACs per example (compression {:.1}×)\n\
         distillation ({}): {}\n{}{}\n\
         memory: {memory}",
        exp.name,
        exp.seed,
        splits.description,
        splits.train.len(),
        splits.test.len(),
        splits.train.num_features,
        splits.train.num_classes,
        transfer.transfer.len(),
        if transfer.labeled { "" } else { " (unlabeled)" },
        exp.teacher.members.len(),
        thousands(teacher.parameters),
        thousands(teacher.macs),
        exp.student.short_name(),
        thousands(student.parameters),
        thousands(student.macs),
        teacher.parameters as f64 / student.parameters.max(1) as f64,
        exp.distill.loss.name(),
        formula.0,
        formula.1,
        formula
            .2
            .iter()
            .map(|n| format!("\n  ({n})"))
            .collect::<String>(),
    ))
}

/// `teacher members 94.43%, 95.26%, 93.59%; ensemble: mean of probabilities 96.10%, mean of
/// logits 96.38%`.
pub fn ensemble_line(e: &crate::train::EnsembleReport) -> String {
    let members: Vec<String> = e
        .members
        .iter()
        .map(|a| format!("{:.2}%", 100.0 * a))
        .collect();
    format!(
        "teacher members {}; ensemble: mean of probabilities {:.2}%, mean of logits {:.2}%",
        members.join(", "),
        100.0 * e.mean_probabilities,
        100.0 * e.mean_logits
    )
}

/// `student: 206 test errors, 133 of 1010 on 3; +3.5 on 3 (chosen on 6000 validation
/// examples): 109 errors, 14 on 3`.
pub fn bias_line(role: &str, c: &crate::train::bias::BiasCorrection) -> String {
    let on = |errors: &[usize]| {
        let total: usize = c.omitted_test_examples.iter().sum();
        match c.classes.as_slice() {
            [one] => format!("{} of {total} on {one}", errors[0]),
            _ => format!(
                "{} of {total} on the omitted classes",
                errors.iter().sum::<usize>()
            ),
        }
    };
    let biases: Vec<String> = c
        .classes
        .iter()
        .zip(&c.biases)
        .map(|(k, b)| format!("{b:+.1} on {k}"))
        .collect();
    format!(
        "{role}: {} test errors, {}; {} (chosen on {} validation examples): {} errors, {}",
        c.test_errors_before,
        on(&c.omitted_errors_before),
        biases.join(", "),
        c.validation_examples,
        c.test_errors_after,
        on(&c.omitted_errors_after),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(2_395_210), "2,395,210");
    }
}
