//! Colours that mean the same thing in every tab.

use crate::train::Role;
use egui::Color32;

pub fn role_color(role: Role) -> Color32 {
    match role {
        Role::Teacher => Color32::from_rgb(0xF2, 0x9E, 0x2E),
        Role::Baseline => Color32::from_rgb(0x8A, 0x9B, 0xB5),
        Role::Student => Color32::from_rgb(0x2E, 0xC4, 0x8E),
    }
}

/// A distinct colour per class (Tableau 20).
pub fn class_color(class: usize) -> Color32 {
    const PALETTE: [u32; 20] = [
        0x4E79A7, 0xF28E2B, 0xE15759, 0x76B7B2, 0x59A14F, 0xEDC948, 0xB07AA1, 0xFF9DA7, 0x9C755F,
        0xBAB0AC, 0xA0CBE8, 0xFFBE7D, 0xFF9D9A, 0x86BCB6, 0x8CD17D, 0xF1CE63, 0xD4A6C8, 0xFABFD2,
        0xD7B5A6, 0x79706E,
    ];
    let c = PALETTE[class % PALETTE.len()];
    Color32::from_rgb((c >> 16) as u8, (c >> 8) as u8, c as u8)
}

/// A distinct colour per series of a plot that is not one of the roles (a method, a seed).
pub fn series_color(i: usize) -> Color32 {
    const PALETTE: [Color32; 10] = [
        Color32::from_rgb(0x1f, 0x77, 0xb4),
        Color32::from_rgb(0xd6, 0x27, 0x28),
        Color32::from_rgb(0x2c, 0xa0, 0x2c),
        Color32::from_rgb(0x94, 0x67, 0xbd),
        Color32::from_rgb(0xff, 0x7f, 0x0e),
        Color32::from_rgb(0x8c, 0x56, 0x4b),
        Color32::from_rgb(0xe3, 0x77, 0xc2),
        Color32::from_rgb(0x17, 0xbe, 0xcf),
        Color32::from_rgb(0xbc, 0xbd, 0x22),
        Color32::from_rgb(0x7f, 0x7f, 0x7f),
    ];
    PALETTE[i % PALETTE.len()]
}

pub const ERROR: Color32 = Color32::from_rgb(0xE0, 0x4F, 0x4F);
/// Where the window says, each frame, whether it is in presentation mode.
pub const PRESENTING: &str = "presenting";

/// Plot lines are this much thicker in presentation mode, to survive a projector.
const PRESENT_LINE_SCALE: f32 = 2.5;

/// A plot line's width `w`, thickened in presentation mode.
pub fn lw(ctx: &egui::Context, w: f32) -> f32 {
    let presenting: bool = ctx.data(|d| d.get_temp(egui::Id::unique(PRESENTING)).unwrap_or(false));
    if presenting {
        w * PRESENT_LINE_SCALE
    } else {
        w
    }
}

/// The outline around the control a lesson step points at.
pub const HIGHLIGHT: Color32 = Color32::from_rgb(0xFF, 0xB0, 0x00);
