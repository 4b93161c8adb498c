//! The Curves tab: losses per step and test accuracy per epoch, on linked epoch axes.

use super::session::{LossKind, RunView};
use super::state::ViewSettings;
use super::style::role_color;
use crate::train::{Phase, Role};
use egui::{Color32, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Points, Text, VLine};

pub fn curves_ui(ui: &mut Ui, view: Option<&mut RunView>, settings: &mut ViewSettings) {
    ui.horizontal(|ui| {
        ui.add(egui::Slider::new(&mut settings.smoothing, 0.0..=0.99).text("Smoothing"));
        ui.checkbox(&mut settings.log_scale, "Log-scale losses");
    });
    let Some(view) = view else {
        ui.centered_and_justified(|ui| {
            ui.label(
                "Press Start to train: losses and accuracies appear here as they are measured.",
            );
        });
        return;
    };
    let link = ui.scope_id().with("epoch-axis");
    let height = (ui.available_height() - 30.0) / 2.0;
    let (smoothing, log10) = (settings.smoothing, settings.log_scale);
    ui.label("Loss per step (x: epochs of each phase)");
    let changes = view.weight_changes.clone();
    let test_losses: Vec<(Role, Vec<[f64; 2]>)> = Role::ALL
        .iter()
        .map(|&role| {
            let pts = view
                .epochs
                .iter()
                .filter(|e| e.phase.role() == role && !is_later_member(e.phase))
                .map(|e| [e.epoch as f64, value(e.test_loss as f64, log10)])
                .collect();
            (role, pts)
        })
        .collect();
    for series in view.losses.values_mut() {
        series.drawn(smoothing, log10);
    }
    let view: &RunView = view;
    let mut keys: Vec<(Phase, LossKind)> = view.losses.keys().copied().collect();
    keys.sort_by_key(|(phase, kind)| (phase_order(*phase), *kind as u8));
    Plot::new("loss-plot")
        .height(height.max(120.0))
        .legend(Legend::default())
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .x_axis_label("epoch")
        .y_axis_label(if log10 { "loss (log₁₀)" } else { "loss" })
        .label_formatter(move |hover| {
            hover_label(hover, |x, y| format!("epoch {x:.2}\n{}", shown(y, log10)))
        })
        .show(ui, |plot| {
            for key in keys {
                plot.line(loss_line(key, view.losses[&key].cached()));
            }
            for (role, pts) in test_losses {
                if !pts.is_empty() {
                    plot.points(
                        Points::new(format!("{} test loss", role.name()), PlotPoints::new(pts))
                            .color(role_color(role))
                            .radius(3.0),
                    );
                }
            }
            for (x, t, a) in &changes {
                plot.vline(
                    VLine::new(format!("T = {t:.2}, α = {a:.2}"), *x).color(Color32::LIGHT_RED),
                );
                let top = plot.plot_bounds().max()[1];
                plot.text(Text::new(
                    "change",
                    egui_plot::PlotPoint::new(*x, top),
                    format!("T={t:.1} α={a:.2}"),
                ));
            }
        });
    ui.label("Test accuracy per epoch");
    Plot::new("accuracy-plot")
        .height(height.max(120.0))
        .legend(Legend::default())
        .link_axis(link, [true, false])
        .link_cursor(link, [true, false])
        .x_axis_label("epoch")
        .y_axis_label("test accuracy")
        .label_formatter(|hover| {
            hover_label(hover, |x, y| format!("epoch {x:.0}\naccuracy {y:.4}"))
        })
        .show(ui, |plot| {
            for role in Role::ALL {
                let pts = view.accuracy_points(role);
                if pts.is_empty() {
                    continue;
                }
                let line = Line::new(format!("{} accuracy", role.name()), PlotPoints::new(pts))
                    .color(role_color(role))
                    .width(2.0);
                plot.line(line);
            }
        });
}

fn is_later_member(phase: Phase) -> bool {
    matches!(phase, Phase::Teacher { member, .. } if member > 0)
}

fn phase_order(p: Phase) -> usize {
    match p {
        Phase::Teacher { member, .. } => member,
        Phase::Baseline => 100,
        Phase::Student => 200,
    }
}

fn value(v: f64, log10: bool) -> f64 {
    if log10 { v.max(1e-12).log10() } else { v }
}

fn shown(y: f64, log10: bool) -> String {
    if log10 {
        format!("{:.4}", 10f64.powf(y))
    } else {
        format!("{y:.4}")
    }
}

fn loss_line(key: (Phase, LossKind), points: &[egui_plot::PlotPoint]) -> Line<'_> {
    let (phase, kind) = key;
    let base = role_color(phase.role());
    let (name, color, style) = match kind {
        LossKind::Total if phase == Phase::Student => ("total loss", base, LineStyle::Solid),
        LossKind::Total => ("loss", base, LineStyle::Solid),
        LossKind::Soft => (
            "soft loss",
            Color32::from_rgb(0x3A, 0x8F, 0xE0),
            LineStyle::Solid,
        ),
        LossKind::Hard => (
            "hard loss",
            Color32::from_rgb(0xB0, 0x6A, 0xE8),
            LineStyle::dashed_dense(),
        ),
    };
    Line::new(
        format!("{} {name}", phase.name()),
        PlotPoints::Borrowed(points),
    )
    .color(color)
    .style(style)
    .width(1.5)
}

/// The hover read-out: the series' name and its values near the pointer.
pub fn hover_label(
    hover: &egui_plot::HoverPosition<'_>,
    values: impl Fn(f64, f64) -> String,
) -> Option<String> {
    match hover {
        egui_plot::HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => Some(format!("{plot_name}\n{}", values(position.x, position.y))),
        egui_plot::HoverPosition::Elsewhere { .. } => None,
    }
}
