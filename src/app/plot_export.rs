//! One plot as a PNG at twice the screen's resolution, for slides. A screenshot can only be as
//! sharp as the window, so the tab is drawn again off screen: a second egui context lays it
//! out at the same size in points with twice the pixels per point, egui tessellates it, and a
//! small software rasteriser fills the triangles (texture times vertex colour, premultiplied
//! alpha, as egui's own renderers do). The plot's rectangle is then cut out.

use egui::{Color32, ColorImage, Pos2, Rect, TextureId, Vec2};
use std::collections::HashMap;

/// Where a plot's right-click menu leaves the plot's rectangle for the window to pick up.
pub const REQUEST: &str = "plot-export-request";

/// Room kept left of and below a plot's data area for its axes.
const AXIS_ROOM: Vec2 = Vec2::new(48.0, 36.0);

/// The resolution of an exported plot, against the screen's.
pub const SCALE: f32 = 2.0;

/// A right-click menu on a plot offering to save it.
pub fn menu(response: &egui::Response) {
    response.context_menu(|ui| {
        if ui.button("Save this plot as PNG (2×)…").clicked() {
            // The response covers the data area; the axes' ticks and labels lie left of it
            // and below.
            let r = response.rect;
            let rect = Rect::from_min_max(
                Pos2::new(r.min.x - AXIS_ROOM.x, r.min.y),
                Pos2::new(r.max.x + 4.0, r.max.y + AXIS_ROOM.y),
            );
            ui.ctx()
                .data_mut(|d| d.insert_temp(egui::Id::unique(REQUEST), Some(rect)));
            ui.close();
        }
    });
}

/// The request made this frame, if any (taken).
pub fn take_request(ctx: &egui::Context) -> Option<Rect> {
    ctx.data_mut(|d| {
        let id = egui::Id::unique(REQUEST);
        let r: Option<Option<Rect>> = d.get_temp(id);
        d.insert_temp::<Option<Rect>>(id, None);
        r.flatten()
    })
}

/// Draw `draw` off screen on an area of `size` points at `ppp` pixels per point, in `main`'s
/// style, and return the pixels.
pub fn render(
    main: &egui::Context,
    size: Vec2,
    ppp: f32,
    mut draw: impl FnMut(&mut egui::Ui),
) -> ColorImage {
    let ctx = egui::Context::default();
    ctx.set_global_style(main.global_style());
    // The window's memory (panel widths, plot bounds the user zoomed to, sliders' temporary
    // values) makes the copy lay the tab out exactly as it is on screen.
    let memory = main.memory(|m| m.clone());
    ctx.memory_mut(|m| *m = memory);
    let mut textures: HashMap<TextureId, ColorImage> = HashMap::new();
    let mut output = None;
    // Plots settle their bounds and layouts their sizes over a few passes.
    for _ in 0..3 {
        let mut input = egui::RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            ..Default::default()
        };
        input
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(ppp);
        let out = ctx.run_ui(input, |ui| draw(ui));
        for (id, deltas) in &out.textures_delta.set {
            for delta in deltas {
                let egui::ImageData::Color(image) = &delta.image;
                match delta.pos {
                    None => {
                        textures.insert(*id, (**image).clone());
                    }
                    Some([x, y]) => {
                        if let Some(t) = textures.get_mut(id) {
                            patch(t, image, x, y);
                        }
                    }
                }
            }
        }
        output = Some(out);
    }
    let out = output.expect("three passes ran");
    let primitives = ctx.tessellate(out.shapes, out.pixels_per_point);
    let w = (size.x * ppp).round() as usize;
    let h = (size.y * ppp).round() as usize;
    let background = main.global_style().visuals.panel_fill;
    let mut image = ColorImage::filled([w, h], background);
    for p in primitives {
        if let egui::epaint::Primitive::Mesh(mesh) = &p.primitive {
            let clip = Rect::from_min_max(p.clip_rect.min * ppp, p.clip_rect.max * ppp);
            fill_mesh(&mut image, mesh, textures.get(&mesh.texture_id), clip, ppp);
        }
    }
    image
}

fn patch(target: &mut ColorImage, image: &ColorImage, x: usize, y: usize) {
    let [tw, th] = target.size;
    for row in 0..image.size[1] {
        for col in 0..image.size[0] {
            if x + col < tw && y + row < th {
                target.pixels[(y + row) * tw + x + col] = image.pixels[row * image.size[0] + col];
            }
        }
    }
}

/// Premultiplied colour as four floats in 0–1.
fn rgba(c: Color32) -> [f32; 4] {
    [c.r(), c.g(), c.b(), c.a()].map(|v| v as f32 / 255.0)
}

/// Fill every triangle of `mesh`, clipped, sampling `texture` (nearest texel; the fonts
/// are rasterised at the off-screen resolution, so texels and pixels coincide).
fn fill_mesh(
    image: &mut ColorImage,
    mesh: &egui::Mesh,
    texture: Option<&ColorImage>,
    clip: Rect,
    ppp: f32,
) {
    let [w, h] = image.size;
    for tri in mesh.indices.chunks_exact(3) {
        let v = [0, 1, 2].map(|k| mesh.vertices[tri[k] as usize]);
        let p = v.map(|v| v.pos.to_vec2() * ppp);
        let area = (p[1] - p[0]).x * (p[2] - p[0]).y - (p[1] - p[0]).y * (p[2] - p[0]).x;
        if area.abs() < 1e-9 {
            continue;
        }
        let (min_x, max_x) = clamped_span(p.map(|q| q.x), clip.min.x, clip.max.x, w);
        let (min_y, max_y) = clamped_span(p.map(|q| q.y), clip.min.y, clip.max.y, h);
        let colors = v.map(|v| rgba(v.color));
        for y in (min_y.floor() as usize)..(max_y.ceil() as usize).min(h) {
            for x in (min_x.floor() as usize)..(max_x.ceil() as usize).min(w) {
                let c = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
                let edge = |a: Vec2, b: Vec2| (b - a).x * (c - a).y - (b - a).y * (c - a).x;
                let l0 = edge(p[1], p[2]) / area;
                let l1 = edge(p[2], p[0]) / area;
                let l2 = 1.0 - l0 - l1;
                if l0 < -1e-4 || l1 < -1e-4 || l2 < -1e-4 {
                    continue;
                }
                let mut src = [0.0f32; 4];
                for (k, s) in src.iter_mut().enumerate() {
                    *s = l0 * colors[0][k] + l1 * colors[1][k] + l2 * colors[2][k];
                }
                if let Some(t) = texture {
                    let u = l0 * v[0].uv.x + l1 * v[1].uv.x + l2 * v[2].uv.x;
                    let s = l0 * v[0].uv.y + l1 * v[1].uv.y + l2 * v[2].uv.y;
                    let tx = ((u * t.size[0] as f32) as usize).min(t.size[0] - 1);
                    let ty = ((s * t.size[1] as f32) as usize).min(t.size[1] - 1);
                    let texel = rgba(t.pixels[ty * t.size[0] + tx]);
                    for k in 0..4 {
                        src[k] *= texel[k];
                    }
                }
                let dst = &mut image.pixels[y * w + x];
                let d = rgba(*dst);
                let out: [u8; 4] = [0, 1, 2, 3].map(|k| {
                    ((src[k] + d[k] * (1.0 - src[3])).clamp(0.0, 1.0) * 255.0).round() as u8
                });
                *dst = Color32::from_rgba_premultiplied(out[0], out[1], out[2], out[3]);
            }
        }
    }
}

/// The part of `image` (drawn at `ppp` over an area whose top left is `origin`) under `rect`.
/// A triangle's extent along one axis, cut to the clip range and to the image's `size`.
fn clamped_span(coords: [f32; 3], clip_min: f32, clip_max: f32, size: usize) -> (f32, f32) {
    let lo = coords.into_iter().fold(f32::MAX, f32::min);
    let hi = coords.into_iter().fold(f32::MIN, f32::max);
    (lo.max(clip_min).max(0.0), hi.min(clip_max).min(size as f32))
}

pub fn crop(image: &ColorImage, origin: Pos2, rect: Rect, ppp: f32) -> ColorImage {
    let size = Vec2::new(image.size[0] as f32, image.size[1] as f32) / ppp;
    let local = rect
        .translate(-origin.to_vec2())
        .intersect(Rect::from_min_size(Pos2::ZERO, size));
    let region = Rect::from_min_max(local.min * ppp, local.max * ppp);
    image.region(&region, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_rectangle_is_drawn_at_twice_the_resolution() {
        let main = egui::Context::default();
        let image = render(&main, Vec2::new(40.0, 30.0), 2.0, |ui| {
            let rect = Rect::from_min_size(Pos2::new(10.0, 5.0), Vec2::new(10.0, 10.0));
            ui.painter().rect_filled(rect, 0.0, Color32::RED);
        });
        assert_eq!(image.size, [80, 60]);
        // Inside the square (20..40 × 10..30 pixels) red; outside the background.
        assert_eq!(image.pixels[20 * 80 + 30], Color32::RED);
        assert_ne!(image.pixels[45 * 80 + 60], Color32::RED);
        let red = image.pixels.iter().filter(|&&c| c == Color32::RED).count();
        assert!((380..=420).contains(&red), "about 20 × 20 pixels: {red}");
    }

    #[test]
    fn text_reaches_the_image() {
        let main = egui::Context::default();
        let image = render(&main, Vec2::new(120.0, 30.0), 2.0, |ui| {
            ui.label(
                egui::RichText::new("Test accuracy")
                    .color(Color32::WHITE)
                    .size(20.0),
            );
        });
        let background = main.global_style().visuals.panel_fill;
        let inked = image.pixels.iter().filter(|&&c| c != background).count();
        assert!(inked > 200, "the glyphs are drawn: {inked} pixels");
    }
}
