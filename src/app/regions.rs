//! The Decision regions tab: for two-dimensional data, each model's predicted class over the
//! plane (shaded by confidence), with the test points on top; refreshed every epoch.

use super::preview::{DataPreview, class_points};
use super::session::RunView;
use super::style::{class_color, role_color};
use crate::train::{RegionGrid, Role};
use egui::{Color32, ColorImage, RichText, TextureHandle, TextureOptions, Ui};
use egui_plot::{Plot, PlotImage, PlotPoint, PlotPoints, Points};
use std::collections::HashMap;

/// Textures built from region grids, rebuilt only when new grids arrive.
#[derive(Default)]
pub struct RegionTextures {
    version: u64,
    textures: HashMap<Role, TextureHandle>,
}

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
    if cache.version != view.regions_version {
        let background = ui.visuals().extreme_bg_color;
        cache.textures = view
            .regions
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
        cache.version = view.regions_version;
    }
    let link = ui.scope_id().with("regions-link");
    ui.columns(3, |cols| {
        for (col, role) in cols.iter_mut().zip(Role::ALL) {
            col.label(RichText::new(role.name()).strong().color(role_color(role)));
            let (Some(grid), Some(tex)) = (view.regions.get(&role), cache.textures.get(&role))
            else {
                col.label("not trained yet");
                continue;
            };
            let [x0, x1, y0, y1] = grid.bounds.map(|v| v as f64);
            let side = col.available_width();
            Plot::new(("regions", role.name()))
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
                });
        }
    });
    ui.label("Each cell shows the class a model predicts there, paler where it is less sure; the points are the test set, coloured by their true class.");
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
