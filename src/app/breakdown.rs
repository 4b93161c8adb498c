//! Under the Probabilities tab's bars: the chosen test example taken apart the way the run's
//! method sees it (DKD's target and non-target parts, logit standardisation's raw and
//! z-scored logits, DIST's correlation terms, KD's per-class shares of the KL).

use super::bars::with_class_axis;
use super::session::LiveRun;
use super::style::role_color;
use crate::distill::breakdown::{Breakdown, Chart, Example, breakdown};
use crate::train::Role;
use egui::{CollapsingHeader, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Plot};

/// The section, when the run has a teacher and a distilled student with logits.
pub fn breakdown_ui(ui: &mut Ui, run: &LiveRun, sample: usize, label: usize, names: &[String]) {
    let (Some(t), Some(s)) = (
        run.view.logits.get(&Role::Teacher),
        run.view.logits.get(&Role::Student),
    ) else {
        return;
    };
    let k = s.classes;
    let (all_t, all_s) = (t.mean_logits(), s.mean_logits());
    let (Some(zt), Some(zs)) = (
        all_t.get(sample * k..(sample + 1) * k),
        all_s.get(sample * k..(sample + 1) * k),
    ) else {
        return;
    };
    let d = &run.experiment.distill;
    let temperature = run.view.learned_temperature.unwrap_or(run.temperature());
    let ex = Example {
        teacher: zt,
        student: zs,
        label,
        names,
        all_teacher: &all_t,
        all_student: &all_s,
    };
    let b = breakdown(d, &ex, temperature);
    CollapsingHeader::new(format!("How {} sees this example", d.loss.name()))
        .id_salt("method-breakdown")
        .default_open(false)
        .show(ui, |ui| show(ui, &b));
}

fn show(ui: &mut Ui, b: &Breakdown) {
    for line in &b.lines {
        ui.label(line);
    }
    for (i, chart) in b.charts.iter().enumerate() {
        ui.label(RichText::new(&chart.title).strong());
        chart_ui(ui, i, chart);
    }
}

fn chart_ui(ui: &mut Ui, i: usize, chart: &Chart) {
    let width = 0.8 / chart.series.len().max(1) as f64;
    let plot = Plot::new(("breakdown-chart", i))
        .height(130.0)
        .legend(Legend::default())
        .allow_scroll(false)
        .allow_drag(false)
        .include_y(0.0);
    with_class_axis(plot, &chart.bars, ui).show(ui, |plot| {
        for (j, (model, values)) in chart.series.iter().enumerate() {
            let role = if *model == "teacher" {
                Role::Teacher
            } else {
                Role::Student
            };
            let offset = (j as f64 - (chart.series.len() as f64 - 1.0) / 2.0) * width;
            let bars = values
                .iter()
                .enumerate()
                .map(|(c, &v)| {
                    Bar::new(c as f64 + offset, v as f64)
                        .width(width * 0.95)
                        .fill(role_color(role).gamma_multiply(0.75))
                        .name(chart.bars.get(c).map_or("?", String::as_str))
                })
                .collect();
            plot.bar_chart(BarChart::new(*model, bars).color(role_color(role)));
        }
    });
}
