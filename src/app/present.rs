//! Presentation mode, for the lecture hall: the editor hidden so the plots fill the window,
//! the UI scaled up (Ctrl + and Ctrl − change it at any time, and it is remembered), thick
//! plot lines, and a high-contrast light theme that survives a washed-out projector.

use super::state::ViewSettings;

/// The zoom presentation mode starts at the first time.
pub const PRESENT_ZOOM: f32 = 1.5;

/// Black on white with strong strokes: what a projector washes out least.
pub fn high_contrast() -> egui::Visuals {
    use egui::{Color32, Stroke};
    let mut v = egui::Visuals::light();
    v.override_text_color = Some(Color32::BLACK);
    v.panel_fill = Color32::WHITE;
    v.window_fill = Color32::WHITE;
    v.extreme_bg_color = Color32::WHITE;
    v.faint_bg_color = Color32::from_gray(235);
    v.selection.bg_fill = Color32::from_rgb(0, 70, 200);
    v.selection.stroke = Stroke::new(2.0, Color32::WHITE);
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
    ] {
        w.fg_stroke = Stroke::new(2.0, Color32::BLACK);
        w.bg_stroke = Stroke::new(1.5, Color32::BLACK);
    }
    v.widgets.inactive.weak_bg_fill = Color32::from_gray(225);
    v.widgets.inactive.bg_fill = Color32::from_gray(225);
    v
}

/// The theme and zoom for this frame. Entering presentation mode restores its own zoom and
/// leaving it restores the ordinary one; Ctrl + / − adjust whichever is on.
pub fn apply(ctx: &egui::Context, view: &mut ViewSettings, was_presenting: &mut bool) {
    if view.present != *was_presenting {
        ctx.set_zoom_factor(if view.present {
            view.present_zoom
        } else {
            view.zoom
        });
        *was_presenting = view.present;
    } else if view.present {
        view.present_zoom = ctx.zoom_factor();
    } else {
        view.zoom = ctx.zoom_factor();
    }
    if view.present {
        let v = high_contrast();
        if ctx.global_style().visuals != v {
            ctx.set_visuals(v);
        }
    } else {
        ctx.set_theme(if view.dark_mode {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
    }
    ctx.data_mut(|d| d.insert_temp(egui::Id::unique(super::style::PRESENTING), view.present));
}
