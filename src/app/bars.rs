//! Bar charts over classes: every bar has its class's name under it (digits, Fashion-MNIST
//! names, a CSV file's label values), shortened with "…" where the plot is too narrow.

use egui::{FontId, TextStyle, Ui};
use egui_plot::{AxisHints, GridMark, Plot};

/// The plot's y axis and margins, taken from the width before the classes share the rest.
const Y_AXIS_WIDTH: f32 = 48.0;
/// Room left between neighbouring names, in points.
const GAP: f32 = 3.0;

/// `name`, or its longest start that fits `fits` with "…" after it (at least its first
/// character).
pub fn fit_label(name: &str, fits: impl Fn(&str) -> bool) -> String {
    if fits(name) {
        return name.to_string();
    }
    let chars: Vec<char> = name.chars().collect();
    (1..chars.len())
        .rev()
        .map(|n| chars[..n].iter().collect::<String>() + "…")
        .find(|s| fits(s))
        .unwrap_or_else(|| chars.first().map(|c| c.to_string()).unwrap_or_default())
}

/// The tick-label text under bar `value`: its class's label, or nothing between bars.
pub fn class_tick(labels: &[String], value: f64) -> String {
    let i = value.round();
    if (value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

/// Give `plot` a class axis: a tick under each of the bars at 0, 1, …, each with its class
/// name (shortened to the room a bar has in `ui`), fixed x bounds around them, and no
/// vertical grid lines through the bars.
pub fn with_class_axis<'a>(plot: Plot<'a>, names: &[String], ui: &Ui) -> Plot<'a> {
    let n = names.len();
    let room = (ui.available_width() - Y_AXIS_WIDTH).max(0.0) / n.max(1) as f32 - GAP;
    let width = |font: &FontId, text: &str| {
        ui.fonts_mut(|f| text.chars().map(|c| f.glyph_width(font, c)).sum::<f32>())
    };
    // Small multiples (the Temperature tab's five charts) have little room per bar: there the
    // names are set in the small text style before any is shortened.
    let body = TextStyle::Body.resolve(ui.style());
    let small = TextStyle::Small.resolve(ui.style());
    let font = if names.iter().all(|name| width(&body, name) <= room) {
        body
    } else {
        small
    };
    let labels: Vec<String> = names
        .iter()
        .map(|name| fit_label(name, |s| width(&font, s) <= room))
        .collect();
    plot.include_x(-0.5)
        .include_x(n as f64 - 0.5)
        .show_grid([false, true])
        .x_grid_spacer(move |_| {
            (0..n)
                .map(|i| GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .custom_x_axes(vec![
            AxisHints::new_x()
                // Every tick gets its label; ones too wide were shortened, not dropped.
                .label_spacing(0.0..=1.0)
                .tick_label_font(font)
                .formatter(move |mark, _| class_tick(&labels, mark.value)),
        ])
}

/// Class names for `classes` bars: `names` where they exist, else the class index.
pub fn names_for(names: &[String], classes: usize) -> Vec<String> {
    (0..classes)
        .map(|i| names.get(i).cloned().unwrap_or_else(|| i.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bar_gets_its_name_shortened_to_fit() {
        // One point per character.
        let fits = |room: usize| move |s: &str| s.chars().count() <= room;
        assert_eq!(fit_label("T-shirt/top", fits(20)), "T-shirt/top");
        assert_eq!(fit_label("Trouser", fits(4)), "Tro…");
        assert_eq!(fit_label("Pullover", fits(1)), "P");
        let labels: Vec<String> = ["0", "1", "2"].map(String::from).to_vec();
        assert_eq!(class_tick(&labels, 1.0), "1");
        assert_eq!(class_tick(&labels, 0.5), "", "nothing between bars");
        assert_eq!(class_tick(&labels, 3.0), "", "nothing past the last class");
        assert_eq!(names_for(&labels, 4)[3], "3");
    }
}
