//! The experiment's data as the window shows it: loaded on a worker thread whenever the data
//! settings change (the engine loads its own copy, identically, when a run starts).

use super::style::class_color;
use crate::config::{DataConfig, Experiment};
use crate::data::{self, Dataset, Splits};
use crate::model::IoShape;
use egui::{ColorImage, TextureHandle, TextureOptions};
use egui_plot::{Plot, PlotPoints, Points};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

/// Images shown in the dataset preview grid.
const GRID_COLUMNS: usize = 10;
const GRID_ROWS: usize = 3;

/// A change of the data settings waits this long for the next one before the data reloads,
/// so typing a path or dragging a slider loads once, at the end.
pub const RELOAD_AFTER: Duration = Duration::from_millis(300);

/// The settings a load is for: the data source and split, and the seed.
type DataKey = (DataConfig, u64);

#[derive(Default)]
pub struct DataPreview {
    /// The settings last asked for, and when they last changed.
    wanted: Option<(DataKey, Instant)>,
    /// The settings of the last load started (finished or not, succeeded or not).
    requested: Option<DataKey>,
    /// The settings `data` was loaded for.
    loaded: Option<DataKey>,
    pending: Option<Receiver<Result<Splits, String>>>,
    pub data: Option<Arc<Splits>>,
    pub error: Option<String>,
    grid: Option<TextureHandle>,
    thumbnail: Option<(usize, TextureHandle)>,
    /// Loads started so far: one per change of the data settings, never one per frame.
    pub loads: usize,
}

impl DataPreview {
    /// Note the experiment's data settings; load once they changed and then rested for
    /// [`RELOAD_AFTER`] (the first load starts at once). One load runs at a time: settings
    /// that change during a load are loaded after it.
    pub fn follow(&mut self, exp: &Experiment) {
        let is_wanted = |k: &DataKey| k.0 == exp.data && k.1 == exp.seed;
        if !self.wanted.as_ref().is_some_and(|(k, _)| is_wanted(k)) {
            self.wanted = Some(((exp.data.clone(), exp.seed), Instant::now()));
        }
        if self.pending.is_some() {
            return;
        }
        let Some((key, since)) = &self.wanted else {
            return;
        };
        if self.requested.as_ref() == Some(key)
            || (self.requested.is_some() && since.elapsed() < RELOAD_AFTER)
        {
            return;
        }
        let key = key.clone();
        let (tx, rx) = channel();
        let (cfg, seed) = key.clone();
        std::thread::spawn(move || {
            let _ = tx.send(data::load(&cfg, seed).map_err(|e| e.to_string()));
        });
        self.requested = Some(key);
        self.pending = Some(rx);
        self.loads += 1;
    }

    /// Take a finished load; true if the data changed.
    pub fn poll(&mut self) -> bool {
        let Some(rx) = &self.pending else {
            return false;
        };
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Disconnected) => Err("the data loader stopped unexpectedly".into()),
        };
        self.pending = None;
        self.grid = None;
        self.thumbnail = None;
        match result {
            Ok(splits) => {
                self.data = Some(Arc::new(splits));
                self.loaded = self.requested.clone();
                self.error = None;
            }
            Err(e) => {
                self.data = None;
                self.loaded = None;
                self.error = Some(e);
            }
        }
        true
    }

    /// A load is running, or settings changed and wait to be loaded.
    pub fn is_loading(&self) -> bool {
        self.pending.is_some()
            || self
                .wanted
                .as_ref()
                .is_some_and(|(k, _)| self.requested.as_ref() != Some(k))
    }

    /// Whether the data on screen was loaded for these settings (so a run trained on them
    /// has test indices that match the examples shown).
    pub fn shows(&self, data: &DataConfig, seed: u64) -> bool {
        self.data.is_some()
            && self
                .loaded
                .as_ref()
                .is_some_and(|(d, s)| d == data && *s == seed)
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
