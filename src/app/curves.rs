//! The Curves tab: the soft term, the hard term and the total loss per step, each on a plot
//! of its own, and test accuracy per epoch, all on one linked epoch axis.

use super::session::{LossKind, RunView};
use super::state::ViewSettings;
use super::style::role_color;
use crate::config::{DistillConfig, SoftLoss, Weighting};
use crate::train::{Phase, Role};
use egui::{Color32, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points, Text, VLine};

/// The Curves tab's plots, top to bottom, by id (tests read their bounds through
/// [`egui_plot::PlotMemory::load`]). Each loss term has a plot of its own, so the soft term
/// (×T², tens at the start) never flattens the hard one (0.1 to 2) onto its axis.
pub const SOFT_PLOT: &str = "curves-soft-loss";
pub const HARD_PLOT: &str = "curves-hard-loss";
pub const TOTAL_PLOT: &str = "curves-total-loss";
pub const ACCURACY_PLOT: &str = "curves-accuracy";
/// The method's own terms (DKD's TCKD and NCKD, CTKD's learned T, …), when it has them.
pub const TERMS_PLOT: &str = "curves-method-terms";

/// The colour of a method's second term (the first has the student's).
const TERM_B_COLOR: Color32 = Color32::from_rgb(0x9a, 0x6f, 0xd8);

/// Which plot a step series belongs to.
fn plot_of(key: (Phase, LossKind)) -> &'static str {
    match key {
        (_, LossKind::Soft) => SOFT_PLOT,
        (_, LossKind::TermA | LossKind::TermB) => TERMS_PLOT,
        // The teacher's and the baseline's only loss is their cross-entropy with the labels.
        (phase, LossKind::Total) if phase != Phase::Student => HARD_PLOT,
        (_, LossKind::Hard) => HARD_PLOT,
        (_, LossKind::Total) => TOTAL_PLOT,
    }
}

/// What the soft term is, in words, for the run's settings.
fn soft_title(distill: &DistillConfig) -> String {
    let term = match distill.loss {
        SoftLoss::Kl => "KL(teacher || student) at T",
        SoftLoss::SoftCrossEntropy => "soft cross-entropy at T",
        SoftLoss::LogitMse => "MSE of the zero-mean logits (T plays no part)",
        SoftLoss::Dkd => "DKD: w·(a·TCKD + b·NCKD)",
        SoftLoss::Dist => "DIST: β·inter + γ·intra (1 − Pearson)",
        SoftLoss::Standardised => "KL of the z-scored logits at T",
        SoftLoss::Ctkd => "KL at the learned T",
        SoftLoss::Nkd => "NKD: target term + γ·non-target term",
        SoftLoss::LabelSmoothing => "CE against the smoothed labels (no teacher)",
        SoftLoss::TeacherFree => "KL to the virtual teacher (no teacher)",
    };
    let scale = if distill.scale_by_t_squared && distill.loss.scalable_by_t_squared() {
        ", ×T²"
    } else {
        ""
    };
    format!("Soft term: {term}{scale} (student)")
}

pub fn curves_ui(
    ui: &mut Ui,
    view: Option<&mut RunView>,
    distill: Option<&DistillConfig>,
    settings: &mut ViewSettings,
) {
    ui.horizontal(|ui| {
        ui.add(egui::Slider::new(&mut settings.smoothing, 0.0..=0.99).text("Smoothing"));
        ui.checkbox(&mut settings.log_scale, "Log-scale losses");
    });
    let (Some(view), Some(distill)) = (view, distill) else {
        ui.centered_and_justified(|ui| {
            ui.label(
                "Press Start to train: losses and accuracies appear here as they are measured.",
            );
        });
        return;
    };
    let link = ui.scope_id().with("epoch-axis");
    let term_names = distill.loss.term_names();
    // Four plots (five with the method's terms) and their titles share the height; x is in
    // epochs of each phase.
    let plots = if term_names.is_some() { 5.0 } else { 4.0 };
    let height = ((ui.available_height() - plots * 24.0) / plots).max(90.0);
    let (smoothing, log10) = (settings.smoothing, settings.log_scale);
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
    let loss_plot = |ui: &mut Ui, id: &'static str, title: String, y_label: &str| {
        ui.label(title);
        let y_label = if log10 {
            format!("{y_label} (log₁₀)")
        } else {
            y_label.to_string()
        };
        let keys = &keys;
        let (test_losses, changes) = (&test_losses, &changes);
        super::plot_export::menu(
            &Plot::new(id)
                .id(egui::Id::unique(id))
                .height(height)
                .legend(Legend::default())
                .link_axis(link, [true, false])
                .link_cursor(link, [true, false])
                .y_axis_label(y_label)
                .label_formatter(move |hover| {
                    hover_label(hover, |x, y| format!("epoch {x:.2}\n{}", shown(y, log10)))
                })
                .show(ui, |plot| {
                    for &key in keys.iter().filter(|&&k| plot_of(k) == id) {
                        let width = super::style::lw(plot.ctx(), 1.5);
                        plot.line(loss_line(
                            key,
                            view.losses[&key].cached(),
                            term_names,
                            width,
                        ));
                    }
                    if id == HARD_PLOT {
                        for (role, pts) in test_losses {
                            if !pts.is_empty() {
                                plot.points(
                                    Points::new(
                                        format!("{} test loss", role.name()),
                                        PlotPoints::new(pts.clone()),
                                    )
                                    .color(role_color(*role))
                                    .radius(3.0),
                                );
                            }
                        }
                    }
                    for (x, t, a) in changes {
                        plot.vline(
                            VLine::new(format!("T = {t:.2}, α = {a:.2}"), *x)
                                .color(Color32::LIGHT_RED),
                        );
                        if id == SOFT_PLOT {
                            let top = plot.plot_bounds().max()[1];
                            plot.text(Text::new(
                                "change",
                                egui_plot::PlotPoint::new(*x, top),
                                format!("T={t:.1} α={a:.2}"),
                            ));
                        }
                    }
                })
                .response,
        );
    };
    loss_plot(ui, SOFT_PLOT, soft_title(distill), "soft loss");
    loss_plot(
        ui,
        HARD_PLOT,
        "Hard term: cross-entropy with the labels (the teacher's and the baseline's whole \
         loss); dots: test loss per epoch"
            .into(),
        "hard loss",
    );
    loss_plot(ui, TOTAL_PLOT, total_title(distill), "total loss");
    if let Some([a, b]) = term_names {
        let title = if distill.loss == SoftLoss::Ctkd {
            "The learned temperature T and the gradient reversal λ (CTKD), per step".to_string()
        } else {
            format!("The method's terms, logged apart: {a} and {b} (before their weights)")
        };
        loss_plot(ui, TERMS_PLOT, title, "term");
    }
    ui.label("Test accuracy per epoch");
    super::plot_export::menu(
        &Plot::new(ACCURACY_PLOT)
            .id(egui::Id::unique(ACCURACY_PLOT))
            .height(height)
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
                        .width(super::style::lw(plot.ctx(), 2.0));
                    plot.line(line);
                }
            })
            .response,
    );
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

/// How the student's total is made, with the run's weights.
fn total_title(distill: &DistillConfig) -> String {
    match distill.weighting {
        Weighting::Alpha => format!(
            "Student's total: α · soft + (1 − α) · hard, α = {}",
            distill.alpha
        ),
        Weighting::Fixed { soft, hard } => {
            format!("Student's total: {soft} · soft + {hard} · hard")
        }
    }
}

fn loss_line<'a>(
    key: (Phase, LossKind),
    points: &'a [egui_plot::PlotPoint],
    term_names: Option<[&str; 2]>,
    width: f32,
) -> Line<'a> {
    let (phase, kind) = key;
    let base = role_color(phase.role());
    // Each term has its own plot: the model's colour throughout, the names tell them apart.
    let name = match kind {
        LossKind::Total if phase == Phase::Student => "total loss",
        LossKind::Total => "loss (cross-entropy)",
        LossKind::Soft => "soft loss",
        LossKind::Hard => "hard loss",
        LossKind::TermA => term_names.map_or("term 1", |n| n[0]),
        LossKind::TermB => term_names.map_or("term 2", |n| n[1]),
    };
    // A method's two terms share a plot: the second is dashed and in a colour of its own, so
    // the plot and its legend tell them apart.
    let (color, style) = if kind == LossKind::TermB {
        (TERM_B_COLOR, egui_plot::LineStyle::dashed_dense())
    } else {
        (base, egui_plot::LineStyle::Solid)
    };
    Line::new(
        format!("{} {name}", phase.name()),
        PlotPoints::Borrowed(points),
    )
    .color(color)
    .style(style)
    .width(width)
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
