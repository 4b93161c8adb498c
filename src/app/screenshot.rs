//! Screenshots: the whole window for `distillery gui --screenshot`, or the plot area for
//! "Export plot as PNG".

use super::workbench::Workbench;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub(super) type SharedImage = Arc<Mutex<Option<Arc<egui::ColorImage>>>>;

/// A window screenshot on its way: where it goes and which part of the window.
pub(super) struct PendingShot {
    pub(super) path: PathBuf,
    pub(super) crop: Option<egui::Rect>,
    pub(super) image: SharedImage,
    pub(super) then_close: bool,
}

impl Workbench {
    pub(super) fn screenshot_logic(&mut self, ctx: &egui::Context) {
        if let Some((path, after)) = self.launch.screenshot.clone()
            && self.pending_shot.is_none()
            && !self.screenshot_requested
            && self.launched_at.elapsed().as_secs_f64() >= after
        {
            self.pending_shot = Some(PendingShot {
                path,
                crop: None,
                image: SharedImage::default(),
                then_close: true,
            });
        }
        let Some(shot) = &self.pending_shot else {
            return;
        };
        if !self.screenshot_requested {
            let slot = shot.image.clone();
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(image);
                repaint.request_repaint();
            });
            self.screenshot_requested = true;
            return;
        }
        let image = shot.image.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(image) = image else { return };
        let shot = self.pending_shot.take().expect("checked above");
        let image = match shot.crop {
            Some(rect) => image.region(&rect, Some(ctx.pixels_per_point())),
            None => (*image).clone(),
        };
        match save_png(&shot.path, &image) {
            Ok(()) => {
                eprintln!("wrote {}", shot.path.display());
                if !shot.then_close {
                    self.info(format!("wrote {}", shot.path.display()));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                self.exit_code.store(1, std::sync::atomic::Ordering::SeqCst);
                self.error(e);
            }
        }
        if shot.then_close {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        } else {
            self.screenshot_requested = false;
        }
    }
}

/// Write an image as an 8-bit RGBA PNG.
pub fn save_png(path: &Path, image: &egui::ColorImage) -> Result<(), String> {
    let [w, h] = image.size;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w as u32, h as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(image.as_raw())
            .map_err(|e| e.to_string())?;
    }
    crate::run::write_atomic(path, &bytes).map_err(|e| e.to_string())
}
