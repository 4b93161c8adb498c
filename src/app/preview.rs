//! The experiment's data as the window shows it: loaded on a worker thread whenever the data
//! settings change (the engine loads its own copy, identically, when a run starts).

use super::style::class_color;
use crate::config::{DataConfig, Experiment};
use crate::data::{self, Dataset, Splits};
use crate::model::IoShape;
use egui::{ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Plot, PlotPoints, Points};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

/// Images shown in the dataset preview grid.
const GRID_COLUMNS: usize = 10;
const GRID_ROWS: usize = 3;

#[derive(Default)]
pub struct DataPreview {
    key: Option<(DataConfig, u64)>,
    pending: Option<Receiver<Result<Splits, String>>>,
    pub data: Option<Arc<Splits>>,
    pub error: Option<String>,
    grid: Option<TextureHandle>,
    thumbnail: Option<(usize, TextureHandle)>,
}

impl DataPreview {
    /// Start loading if the experiment's data settings changed since the last load.
    pub fn follow(&mut self, exp: &Experiment) {
        let key = (exp.data.clone(), exp.seed);
        if self.key.as_ref() == Some(&key) {
            return;
        }
        self.key = Some(key);
        let (tx, rx) = channel();
        let (cfg, seed) = (exp.data.clone(), exp.seed);
        std::thread::spawn(move || {
            let _ = tx.send(data::load(&cfg, seed).map_err(|e| e.to_string()));
        });
        self.pending = Some(rx);
    }

    /// Take a finished load; true if the data changed.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.pending else {
            return false;
        };
        let Ok(result) = rx.try_recv() else {
            return false;
        };
        self.pending = None;
        self.grid = None;
        self.thumbnail = None;
        match result {
            Ok(splits) => {
                self.data = Some(Arc::new(splits));
                self.error = None;
            }
            Err(e) => {
                self.data = None;
                self.error = Some(e);
            }
        }
        true
    }

    pub fn is_loading(&self) -> bool {
        self.pending.is_some()
    }

    pub fn io(&self) -> Option<IoShape> {
        let d = &self.data.as_ref()?.train;
        Some(IoShape {
            inputs: d.num_features,
            classes: d.num_classes,
            image: d.image,
        })
    }

    pub fn preview_ui(&mut self, ui: &mut egui::Ui) {
        if self.is_loading() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("loading data…");
            });
        }
        if let Some(err) = &self.error {
            ui.colored_label(super::style::ERROR, err);
            return;
        }
        let Some(splits) = self.data.clone() else {
            return;
        };
        let d = &splits.train;
        ui.label(format!(
            "{} train · {} test · {} features · {} classes",
            d.len(),
            splits.test.len(),
            d.num_features,
            d.num_classes
        ));
        if d.image.is_some() {
            let grid = self.grid.get_or_insert_with(|| {
                ui.ctx()
                    .load_texture("data-grid", image_grid(d), TextureOptions::NEAREST)
            });
            let width = ui.available_width().min(320.0);
            let aspect = grid.size_vec2().y / grid.size_vec2().x;
            ui.image((grid.id(), egui::vec2(width, width * aspect)));
        } else if d.num_features == 2 {
            scatter_ui(ui, d, "data-scatter", 160.0);
        }
    }

    /// A test image as a texture, cached for the example last asked for.
    pub fn test_image(&mut self, ctx: &egui::Context, index: usize) -> Option<TextureHandle> {
        let splits = self.data.clone()?;
        let test = &splits.test;
        let shape = test.image?;
        if index >= test.len() {
            return None;
        }
        if self.thumbnail.as_ref().map(|(i, _)| *i) != Some(index) {
            let image = gray_image(test.row(index), shape.width, shape.height);
            let tex = ctx.load_texture("test-example", image, TextureOptions::NEAREST);
            self.thumbnail = Some((index, tex));
        }
        self.thumbnail.as_ref().map(|(_, t)| t.clone())
    }
}

/// Pixels in [0, 1] as a grey image (first channel).
pub fn gray_image(pixels: &[f32], width: usize, height: usize) -> ColorImage {
    let bytes: Vec<u8> = pixels[..width * height]
        .iter()
        .map(|&p| (p.clamp(0.0, 1.0) * 255.0) as u8)
        .collect();
    ColorImage::from_gray([width, height], &bytes)
}

/// The first training images in a grid, one pixel gap between them.
fn image_grid(d: &Dataset) -> ColorImage {
    let shape = d.image.expect("image data");
    let (w, h) = (shape.width, shape.height);
    let count = (GRID_COLUMNS * GRID_ROWS).min(d.len());
    let cols = GRID_COLUMNS.min(count.max(1));
    let rows = count.div_ceil(cols).max(1);
    let (gw, gh) = (cols * (w + 1) - 1, rows * (h + 1) - 1);
    let mut img = ColorImage::filled([gw, gh], egui::Color32::from_gray(40));
    for i in 0..count {
        let (ox, oy) = ((i % cols) * (w + 1), (i / cols) * (h + 1));
        let px = d.row(i);
        for y in 0..h {
            for x in 0..w {
                let v = (px[y * w + x].clamp(0.0, 1.0) * 255.0) as u8;
                img[(ox + x, oy + y)] = egui::Color32::from_gray(v);
            }
        }
    }
    img
}

/// The points of one class of two-dimensional data.
pub fn class_points(d: &Dataset, class: usize) -> Vec<[f64; 2]> {
    d.features
        .chunks_exact(2)
        .zip(&d.labels)
        .filter(|(_, l)| **l as usize == class)
        .map(|(p, _)| [p[0] as f64, p[1] as f64])
        .collect()
}

/// Two-dimensional data as a scatter coloured by class.
pub fn scatter_ui(ui: &mut egui::Ui, d: &Dataset, id: &str, height: f32) {
    Plot::new(id)
        .height(height)
        .data_aspect(1.0)
        .show_axes(false)
        .allow_scroll(false)
        .show(ui, |plot| {
            for class in 0..d.num_classes {
                plot.points(
                    Points::new(
                        d.class_names[class].clone(),
                        PlotPoints::new(class_points(d, class)),
                    )
                    .radius(1.5)
                    .color(class_color(class)),
                );
            }
        });
}
