//! The Temperature tab: the teacher's distribution for one example (its members combined by
//! the run's own rule) at several temperatures side by side, and its entropy against T.
//! Works before any training on a hand-edited logit vector, for teaching the softmax alone.

use super::bars::{names_for, with_class_axis};
use super::state::ViewSettings;
use super::style::{class_color, role_color};
use crate::config::Combine;
use crate::distill::host;
use crate::train::Role;
use egui::{RichText, Ui};
use egui_plot::{Bar, BarChart, HLine, Line, Plot, PlotPoints, VLine};

/// Temperatures on the entropy curve: log-spaced from 0.25 to 100.
fn curve_temperatures() -> impl Iterator<Item = f32> {
    (0..=200).map(|i| 0.25 * 400f32.powf(i as f32 / 200.0))
}

/// The trained teacher's view of one test example: each member's logits and how the run
/// combined them, so the targets shown are those the student was taught with.
pub struct TeacherSample {
    pub members: Vec<Vec<f32>>,
    pub combine: Combine,
    /// The run's T, marked on the curve.
    pub run_temperature: f32,
}

pub struct TemperatureTab<'a> {
    pub settings: &'a mut ViewSettings,
    /// The trained teacher's logits for the selected test example, if there is a teacher.
    pub teacher: Option<TeacherSample>,
    pub class_names: Vec<String>,
    /// The experiment editor's T: what hand-typed logits are compared at.
    pub experiment_temperature: f32,
}

impl TemperatureTab<'_> {
    pub fn ui(self, ui: &mut Ui) {
        let s = self.settings;
        let have_teacher = self.teacher.is_some();
        ui.horizontal(|ui| {
            ui.radio_value(
                &mut s.use_hand_logits,
                false,
                "Teacher's logits for the chosen test example",
            )
            .on_disabled_hover_text("train a teacher first");
            ui.radio_value(&mut s.use_hand_logits, true, "Logits typed by hand");
        });
        let (members, combine, marked_t, which) = match (self.teacher, s.use_hand_logits) {
            (Some(teacher), false) => {
                if teacher.members.len() > 1 {
                    ui.label(format!(
                        "An ensemble of {} teachers, combined as the run did: {}",
                        teacher.members.len(),
                        super::session::combine_name(teacher.combine)
                    ));
                }
                (
                    teacher.members,
                    teacher.combine,
                    teacher.run_temperature,
                    "the run's T",
                )
            }
            _ => {
                if !have_teacher && !s.use_hand_logits {
                    ui.label(
                        RichText::new("No teacher yet: showing the hand-typed logits.").italics(),
                    );
                }
                hand_logits_ui(ui, &mut s.hand_logits);
                (
                    vec![s.hand_logits.clone()],
                    Combine::MeanLogits,
                    self.experiment_temperature,
                    "the experiment's T",
                )
            }
        };
        let rows: Vec<&[f32]> = members.iter().map(Vec::as_slice).collect();
        let dist = |t: f32| host::ensemble_softmax(&rows, combine, t);
        let classes = rows.first().map_or(0, |r| r.len());
        let names = names_for(&self.class_names, classes);
        let at_marked = dist(marked_t);
        ui.label(
            RichText::new(format!(
                "At {which} = {marked_t:.2}: H = {:.3} nats, {:.2} effective classes (of {classes})",
                host::entropy(&at_marked),
                host::effective_classes(&at_marked),
            ))
            .strong(),
        );
        temperatures_ui(ui, &mut s.temperatures);
        let height = (ui.available_height() * 0.45).max(140.0);
        ui.columns(s.temperatures.len().max(1), |cols| {
            for (col, &t) in cols.iter_mut().zip(&s.temperatures) {
                softmax_bars(col, &dist(t), t, height, &names);
            }
        });
        entropy_curve(ui, &dist, classes, &s.temperatures, marked_t, which);
    }
}

fn hand_logits_ui(ui: &mut Ui, logits: &mut Vec<f32>) {
    ui.horizontal_wrapped(|ui| {
        ui.label("z =");
        for (i, z) in logits.iter_mut().enumerate() {
            ui.add(
                egui::DragValue::new(z)
                    .speed(0.05)
                    .range(-30.0..=30.0)
                    .prefix(format!("{i}: ")),
            )
            .on_hover_text(format!("logit of class {i}"));
        }
        if logits.len() > 2
            && ui
                .small_button("−")
                .on_hover_text("one class fewer")
                .clicked()
        {
            logits.pop();
        }
        if logits.len() < 20
            && ui
                .small_button("+")
                .on_hover_text("one class more")
                .clicked()
        {
            logits.push(0.0);
        }
    });
}

fn temperatures_ui(ui: &mut Ui, temperatures: &mut Vec<f32>) {
    ui.horizontal(|ui| {
        let r = ui.label("Temperatures:");
        crate::app::lesson_steps::highlight(ui, &r, "Temperatures:");
        for t in temperatures.iter_mut() {
            ui.add(
                egui::DragValue::new(t)
                    .speed(0.1)
                    .range(0.1..=100.0)
                    .prefix("T = "),
            )
            .on_hover_text("a temperature to show");
        }
        if temperatures.len() > 1
            && ui
                .small_button("−")
                .on_hover_text("one temperature fewer")
                .clicked()
        {
            temperatures.pop();
        }
        if temperatures.len() < 8
            && ui
                .small_button("+")
                .on_hover_text("one temperature more")
                .clicked()
        {
            let next = temperatures.last().copied().unwrap_or(1.0) * 2.0;
            temperatures.push(next.min(100.0));
        }
    });
}

fn softmax_bars(ui: &mut Ui, p: &[f32], t: f32, height: f32, names: &[String]) {
    ui.label(
        RichText::new(format!(
            "T = {t}: H = {:.2} nats, {:.1} effective classes",
            host::entropy(p),
            host::effective_classes(p)
        ))
        .small(),
    );
    let bars = p
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            Bar::new(i as f64, v as f64)
                .width(0.8)
                .fill(class_color(i))
                .name(&names[i])
        })
        .collect();
    let plot = Plot::new(("softmax-at", t.to_bits()))
        .height(height)
        .include_y(0.0)
        .include_y(1.0)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false);
    super::plot_export::menu(
        &with_class_axis(plot, names, ui)
            .show(ui, |plot| {
                plot.bar_chart(BarChart::new(format!("T = {t}"), bars));
            })
            .response,
    );
}

fn entropy_curve(
    ui: &mut Ui,
    dist: &dyn Fn(f32) -> Vec<f32>,
    classes: usize,
    marked: &[f32],
    marked_t: f32,
    which: &str,
) {
    let max_entropy = (classes as f64).ln();
    let pts: PlotPoints = curve_temperatures()
        .map(|t| [t.log10() as f64, host::entropy(&dist(t)) as f64])
        .collect();
    ui.label("Entropy of softmax(z / T) against T (log axis); the dashed line is ln N, a uniform distribution");
    super::plot_export::menu(
        &Plot::new("entropy-curve")
            .x_axis_label("temperature T")
            .y_axis_label("entropy (nats)")
            .x_axis_formatter(|mark, _| {
                format!("{:.3}", 10f64.powf(mark.value))
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            })
            .label_formatter(|hover| {
                super::curves::hover_label(hover, |x, y| {
                    format!(
                        "T = {:.2}\nH = {y:.3} nats ({:.2} classes)",
                        10f64.powf(x),
                        y.exp()
                    )
                })
            })
            .include_y(0.0)
            .show(ui, |plot| {
                plot.line(
                    Line::new("entropy", pts)
                        .color(role_color(Role::Teacher))
                        .width(super::style::lw(plot.ctx(), 2.0)),
                );
                plot.hline(
                    HLine::new("ln N", max_entropy).style(egui_plot::LineStyle::dashed_loose()),
                );
                for &t in marked {
                    plot.vline(
                        VLine::new(format!("T = {t}"), (t as f64).log10())
                            .color(egui::Color32::GRAY),
                    );
                }
                plot.vline(
                    VLine::new(which, (marked_t as f64).log10())
                        .color(role_color(Role::Student))
                        .width(super::style::lw(plot.ctx(), 2.0)),
                );
            })
            .response,
    );
}
