//! The Decision regions tab: for two-dimensional data, each model's predicted class over the
//! plane (shaded by confidence), with the test points on top; refreshed every epoch, and every
//! epoch kept, so a class can scrub back or replay the student's boundary bending toward the
//! teacher's.

use super::preview::{DataPreview, class_points};
use super::session::RunView;
use super::style::{class_color, role_color};
use crate::train::{RegionGrid, Role};
use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions, Ui};
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};
use std::collections::HashMap;

/// Textures built from region grids, rebuilt only when the grids shown change; and which
/// epoch is shown.
#[derive(Default)]
pub struct RegionTextures {
    /// `(frame shown, regions version)` the textures were built for.
    built: Option<(Option<usize>, u64)>,
    textures: HashMap<Role, TextureHandle>,
    /// The frame on screen; `None` follows the latest.
    pub shown: Option<usize>,
    /// While replaying: when the frame on screen appeared.
    playing: Option<std::time::Instant>,
}

impl RegionTextures {
    /// No textures yet, showing the same epoch (for drawing the tab in another context).
    pub fn same_view(&self) -> Self {
        RegionTextures {
            shown: self.shown,
            ..Default::default()
        }
    }
}

/// How long each epoch stays on screen during a replay.
const REPLAY_FRAME: std::time::Duration = std::time::Duration::from_millis(250);

/// The grid as an image: each cell the predicted class's colour, faded toward the background
/// where the model is unsure. Image rows run top-down, the grid's bottom-up.
pub fn region_image(grid: &RegionGrid, background: Color32) -> ColorImage {
    let r = grid.resolution;
    let k = grid.classes;
    let mut img = ColorImage::filled([r, r], background);
    for iy in 0..r {
        for ix in 0..r {
            let p = &grid.probs[(iy * r + ix) * k..(iy * r + ix + 1) * k];
            let class = crate::distill::host::argmax(p);
            // Confidence 1/k (chance) maps to the background, 1 to the full class colour.
            let confidence = ((p[class] - 1.0 / k as f32) / (1.0 - 1.0 / k as f32)).clamp(0.0, 1.0);
            img[(ix, r - 1 - iy)] = blend(background, class_color(class), 0.15 + 0.45 * confidence);
        }
    }
    img
}

fn blend(a: Color32, b: Color32, t: f32) -> Color32 {
    let mix = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t) as u8;
    Color32::from_rgb(mix(a.r(), b.r()), mix(a.g(), b.g()), mix(a.b(), b.b()))
}

pub fn regions_ui(
    ui: &mut Ui,
    view: Option<&RunView>,
    preview: &DataPreview,
    cache: &mut RegionTextures,
) {
    let Some(splits) = preview.data.as_ref() else {
        ui.label("The data is loading…");
        return;
    };
    let test = &splits.test;
    if test.num_features != 2 || test.image.is_some() {
        ui.label("Decision regions are drawn for two-dimensional data: pick a Synthetic 2-D dataset (spirals, moons, blobs, circles) in the Dataset section.");
        return;
    }
    let Some(view) = view.filter(|v| !v.regions.is_empty()) else {
        ui.label("Press Start: each model's regions appear after its first epoch.");
        return;
    };
    scrub_ui(ui, view, cache);
    let regions = cache
        .shown
        .and_then(|i| view.region_frames.get(i))
        .map_or(&view.regions, |f| &f.regions);
    if cache.built != Some((cache.shown, view.regions_version)) {
        let background = ui.visuals().extreme_bg_color;
        cache.textures = regions
            .iter()
            .map(|(role, grid)| {
                let tex = ui.ctx().load_texture(
                    format!("regions-{}", role.name()),
                    region_image(grid, background),
                    TextureOptions::LINEAR,
                );
                (*role, tex)
            })
            .collect();
        cache.built = Some((cache.shown, view.regions_version));
    }
    let link = ui.scope_id().with("regions-link");
    // The maps fill the height the tab has, less the line of text under them.
    let max_side = (ui.available_height() - 40.0).max(120.0);
    ui.columns(3, |cols| {
        for (col, role) in cols.iter_mut().zip(Role::ALL) {
            col.label(RichText::new(role.name()).strong().color(role_color(role)));
            let (Some(grid), Some(tex)) = (regions.get(&role), cache.textures.get(&role)) else {
                col.label("not trained yet");
                continue;
            };
            let [x0, x1, y0, y1] = grid.bounds.map(|v| v as f64);
            let side = col.available_width().min(max_side);
            super::plot_export::menu(
                &Plot::new(("regions", role.name()))
                    .data_aspect(1.0)
                    .width(side)
                    .height(side)
                    .link_axis(link, [true, true])
                    .show_axes(false)
                    .show(col, |plot| {
                        plot.image(PlotImage::new(
                            "regions",
                            tex.id(),
                            PlotPoint::new((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                            [(x1 - x0) as f32, (y1 - y0) as f32],
                        ));
                        for class in 0..test.num_classes {
                            let pts = class_points(test, class);
                            // A dark rim keeps each point visible on the region of its own colour.
                            plot.points(
                                Points::new("", PlotPoints::new(pts.clone()))
                                    .color(Color32::BLACK)
                                    .radius(3.5),
                            );
                            plot.points(
                                Points::new(test.class_names[class].clone(), PlotPoints::new(pts))
                                    .color(class_color(class))
                                    .radius(2.5),
                            );
                        }
                    })
                    .response,
            );
        }
    });
    ui.label("Each cell shows the class a model predicts there, paler where it is less sure; the points are the test set, coloured by their true class.");
    accuracy_below(ui, view, cache);
}

/// Each model's test accuracy per epoch under the maps, the epoch shown marked: what the
/// boundaries' changes did to the score.
fn accuracy_below(ui: &mut Ui, view: &RunView, cache: &RegionTextures) {
    let height = ui.available_height() - 8.0;
    if height < 120.0 {
        return;
    }
    let shown = cache
        .shown
        .and_then(|i| view.region_frames.get(i))
        .or(view.region_frames.last());
    super::plot_export::menu(
        &Plot::new("regions-accuracy")
            .height(height)
            .legend(egui_plot::Legend::default())
            .x_axis_label("epoch of each phase")
            .y_axis_label("test accuracy")
            .show(ui, |plot| {
                for role in Role::ALL {
                    let pts = view.accuracy_points(role);
                    if !pts.is_empty() {
                        plot.line(
                            egui_plot::Line::new(role.name(), PlotPoints::new(pts))
                                .color(role_color(role))
                                .width(super::style::lw(plot.ctx(), 2.0)),
                        );
                    }
                }
                if let Some(f) = shown {
                    plot.vline(
                        egui_plot::VLine::new(f.label.clone(), f.epoch as f64).color(Color32::GRAY),
                    );
                }
            })
            .response,
    );
}

/// The epoch slider, Replay and Latest.
fn scrub_ui(ui: &mut Ui, view: &RunView, cache: &mut RegionTextures) {
    let frames = &view.region_frames;
    if frames.is_empty() {
        return;
    }
    let last = frames.len() - 1;
    if let Some(started) = cache.playing {
        if started.elapsed() >= REPLAY_FRAME {
            let next = cache.shown.map_or(0, |i| i + 1);
            if next > last {
                cache.playing = None;
                cache.shown = None;
            } else {
                cache.shown = Some(next);
                cache.playing = Some(std::time::Instant::now());
            }
        }
        ui.ctx().request_repaint_after(REPLAY_FRAME);
    }
    ui.horizontal(|ui| {
        let mut i = cache.shown.unwrap_or(last);
        let label = frames[i.min(last)].label.clone();
        let r = ui.add(
            egui::Slider::new(&mut i, 0..=last)
                .show_value(false)
                .text(format!("shown: {label}")),
        );
        if r.changed() {
            cache.playing = None;
            cache.shown = (i < last).then_some(i);
        }
        if cache.playing.is_some() {
            if ui.button("Pause replay").clicked() {
                cache.playing = None;
            }
        } else if ui
            .button("Replay")
            .on_hover_text("every epoch of every model in turn, from the first")
            .clicked()
        {
            cache.shown = Some(0);
            cache.playing = Some(std::time::Instant::now());
        }
        if ui
            .add_enabled(cache.shown.is_some(), egui::Button::new("Latest"))
            .clicked()
        {
            cache.playing = None;
            cache.shown = None;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_cells_take_their_class_colour_and_rows_flip() {
        // 2×2 grid, 2 classes: bottom row class 0 (certain), top row class 1 (unsure).
        let grid = RegionGrid {
            role: Role::Teacher,
            resolution: 2,
            bounds: [0.0, 1.0, 0.0, 1.0],
            probs: vec![1.0, 0.0, 1.0, 0.0, 0.4, 0.6, 0.4, 0.6],
            classes: 2,
        };
        let img = region_image(&grid, Color32::BLACK);
        let bottom = img[(0, 1)];
        let top = img[(0, 0)];
        assert_eq!(bottom, blend(Color32::BLACK, class_color(0), 0.6));
        assert_eq!(
            top,
            blend(Color32::BLACK, class_color(1), 0.15 + 0.45 * 0.2)
        );
    }
}
