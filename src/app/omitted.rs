//! The Diagnostics tab's omitted-class section (Hinton, Vinyals & Dean 2015, §3): when the
//! transfer set leaves classes out, each model's accuracy per class, and a bias slider per
//! omitted class that adds a constant to that class's logit of the student and re-evaluates
//! the test set live. The bias the run chose on its validation split is one click away; the
//! sliders are a view, never a setting of the experiment.

use super::session::LiveRun;
use super::style::role_color;
use crate::config::ranges::{BIAS_STEP, OMITTED_BIAS};
use crate::train::Role;
use crate::train::bias::{BiasCorrection, errors, per_class_accuracy as per_class};
use egui::{RichText, Ui};

/// The paper's figures, beside ours (their biases were chosen on the test set).
const PAPER: &str = "Hinton et al. (2015), §3, MNIST: without 3s the distilled net made 206 \
                     test errors, 133 of them on the 1010 3s; +3.5 on the 3s' bias gave 109 and \
                     14. With only 7s and 8s: 47.3% error, 13.2% after lowering 7 and 8 by 7.6.";

pub fn omitted_ui(ui: &mut Ui, run: &LiveRun, names: &[String], test_labels: Option<&[u32]>) {
    let omitted = run.experiment.transfer.omitted();
    if omitted.is_empty() {
        return;
    }
    let name = |c: usize| names.get(c).cloned().unwrap_or_else(|| c.to_string());
    let listed: Vec<String> = omitted.iter().map(|&c| name(c)).collect();
    ui.label(
        RichText::new(format!(
            "Omitted from the transfer set: {} (Hinton et al. 2015, §3)",
            listed.join(", ")
        ))
        .strong(),
    );
    let Some(labels) = test_labels else {
        return;
    };
    let chosen = run
        .view
        .summary
        .as_ref()
        .and_then(|s| s.student.as_ref()?.bias_correction.clone());
    let biases = bias_sliders(ui, &omitted, &name, chosen.as_ref());
    per_class_table(ui, run, labels, names, &omitted, &biases);
    if let Some(student) = run.view.logits.get(&Role::Student) {
        let e = errors(
            &student.mean_logits(),
            labels,
            student.classes,
            &omitted,
            &biases,
        );
        let on: usize = e.on.iter().sum();
        let of = labels
            .iter()
            .filter(|&&l| omitted.contains(&(l as usize)))
            .count();
        ui.colored_label(
            role_color(Role::Student),
            format!(
                "student at these biases: {} test errors, {on} of {of} on the omitted classes",
                e.total
            ),
        );
    }
    let summary = run.view.summary.as_ref();
    for (role, report) in [
        ("baseline", summary.and_then(|s| s.baseline.as_ref())),
        ("student", summary.and_then(|s| s.student.as_ref())),
    ] {
        if let Some(c) = report.and_then(|r| r.bias_correction.as_ref()) {
            ui.label(crate::cli::bias_line(role, c));
        }
    }
    if summary.is_some() && chosen.is_none() {
        ui.label(
            "No bias was chosen: the run held out no validation split \
             (transfer.validation_fraction is 0).",
        );
    }
    ui.label(RichText::new(PAPER).weak());
    ui.separator();
}

/// A slider per omitted class, kept in egui's memory for this run's classes, with buttons
/// for the validation split's choice and for no bias at all.
fn bias_sliders(
    ui: &mut Ui,
    omitted: &[usize],
    name: &dyn Fn(usize) -> String,
    chosen: Option<&BiasCorrection>,
) -> Vec<f32> {
    let id = egui::Id::unique(("omitted-biases", omitted));
    let mut biases: Vec<f32> = ui
        .data_mut(|d| d.get_temp(id))
        .unwrap_or_else(|| vec![0.0; omitted.len()]);
    ui.horizontal_wrapped(|ui| {
        for (k, &c) in omitted.iter().enumerate() {
            let label = format!("bias on {}", name(c));
            let r = ui.add(
                egui::Slider::new(
                    &mut biases[k],
                    OMITTED_BIAS.min as f32..=OMITTED_BIAS.max as f32,
                )
                .step_by(BIAS_STEP)
                .text(&label),
            );
            crate::app::lesson_steps::highlight(ui, &r, &label);
        }
    });
    ui.horizontal(|ui| {
        if let Some(c) = chosen
            && ui.button("Validation's choice").clicked()
        {
            biases = c.biases.clone();
        }
        if ui.button("No bias").clicked() {
            biases = vec![0.0; omitted.len()];
        }
    });
    ui.data_mut(|d| d.insert_temp(id, biases.clone()));
    biases
}

/// Test accuracy per class of every model so far, and of the student with the biases; the
/// omitted classes' rows in bold.
fn per_class_table(
    ui: &mut Ui,
    run: &LiveRun,
    labels: &[u32],
    names: &[String],
    omitted: &[usize],
    biases: &[f32],
) {
    let roles = [Role::Teacher, Role::Baseline, Role::Student];
    let columns: Vec<(String, Vec<f32>)> = roles
        .iter()
        .filter_map(|r| {
            let l = run.view.logits.get(r)?;
            Some((
                r.name().to_string(),
                per_class(&l.mean_logits(), labels, l.classes, &[], &[]),
            ))
        })
        .chain(run.view.logits.get(&Role::Student).map(|l| {
            let accuracy = per_class(&l.mean_logits(), labels, l.classes, omitted, biases);
            ("student + bias".to_string(), accuracy)
        }))
        .collect();
    if columns.is_empty() {
        return;
    }
    egui::Grid::new("omitted-per-class")
        .striped(true)
        .show(ui, |ui| {
            ui.label("class");
            for (title, _) in &columns {
                ui.label(title);
            }
            ui.end_row();
            for c in 0..columns[0].1.len() {
                let strong = omitted.contains(&c);
                let text = |s: String| {
                    let t = RichText::new(s).monospace();
                    if strong { t.strong() } else { t }
                };
                ui.label(text(names.get(c).cloned().unwrap_or_else(|| c.to_string())));
                for (_, accuracy) in &columns {
                    ui.label(text(format!("{:.1}%", 100.0 * accuracy[c])));
                }
                ui.end_row();
            }
        });
}
