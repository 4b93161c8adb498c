//! Small widgets shared by the panels.

use crate::config::Problem;
use crate::config::ranges::Range;
use egui::emath::Numeric;
use egui::{DragValue, Response, Slider, Ui};

/// The current validation problems, looked up by field path.
#[derive(Debug, Default, Clone)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Problems of `field` and of anything under it (`student` covers `student.hidden`).
    pub fn under(&self, field: &str) -> Vec<&Problem> {
        self.0
            .iter()
            .filter(|p| {
                p.field == field
                    || p.field
                        .strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Outline `response` in red with the problems as its tooltip, if `field` has any.
    pub fn mark(&self, response: Response, field: &str) -> Response {
        let found = self.under(field);
        if found.is_empty() {
            return response;
        }
        response.ctx.layer_painter(response.layer_id).rect_stroke(
            response.rect.expand(2.0),
            3.0,
            egui::Stroke::new(1.5, super::style::ERROR),
            egui::StrokeKind::Outside,
        );
        let text: Vec<String> = found.iter().map(|p| p.to_string()).collect();
        response.on_hover_text(text.join("\n"))
    }
}

/// A number with a slider over its range's slider span, a box beside it for any allowed
/// value, and `text` after both (it names the slider and the box to screen readers).
///
/// Drawing never writes `value`: a value outside the slider's span (or outside the allowed
/// range altogether, which validation reports) stays exactly as loaded and the box shows it.
/// The slider moves a copy held inside its span and writes back only when the user moves it;
/// the box accepts anything in the allowed range, typed or dragged.
pub fn ranged<N: Numeric>(ui: &mut Ui, value: &mut N, range: &Range<N>, text: &str) -> Response {
    let inner = ui.horizontal(|ui| {
        let before = value.to_f64();
        let (lo, hi) = (range.slider_min.to_f64(), range.slider_max.to_f64());
        let start = if before.is_nan() {
            lo
        } else {
            before.clamp(lo, hi)
        };
        let mut handle = N::from_f64(start);
        let slider = ui.add(
            Slider::new(&mut handle, range.slider_min..=range.slider_max)
                .logarithmic(range.log)
                .show_value(false),
        );
        if slider.changed() && handle.to_f64() != start {
            *value = handle;
        }
        let number = ui.add(
            DragValue::new(value)
                .range(range.min..=range.max)
                .clamp_existing_to_range(false)
                .speed(drag_speed(ui, range, before)),
        );
        let label = ui.label(text);
        slider.labelled_by(label.id) | number.labelled_by(label.id)
    });
    crate::app::lesson_steps::highlight(ui, &inner.response, text);
    inner.inner | inner.response
}

/// Values per point of drag: what a point along the slider's rail is worth at `value`, so the
/// box and the slider move at the same rate (and the box shows as many decimals as the slider
/// always did).
fn drag_speed<N: Numeric>(ui: &Ui, range: &Range<N>, value: f64) -> f64 {
    let (lo, hi) = (range.slider_min.to_f64(), range.slider_max.to_f64());
    let rail = f64::from(ui.spacing().slider_width.max(1.0));
    if range.log {
        let at = if value.is_finite() { value.abs() } else { lo };
        at.max(lo) * (hi / lo).ln() / rail
    } else {
        (hi - lo) / rail
    }
}

/// A row of widths (hidden layers, conv channels): edit, remove, add. Each width may be
/// anything in `width` (never clamped on drawing); the row holds up to `count.max` entries.
pub fn widths_ui(
    ui: &mut Ui,
    widths: &mut Vec<usize>,
    what: &str,
    width: &Range<usize>,
    count: &Range<usize>,
) -> bool {
    let mut changed = false;
    let mut remove = None;
    ui.horizontal_wrapped(|ui| {
        for (i, w) in widths.iter_mut().enumerate() {
            changed |= ui
                .add(
                    DragValue::new(w)
                        .range(width.min..=width.max)
                        .clamp_existing_to_range(false)
                        .speed(1.0),
                )
                .on_hover_text(format!("{what} {}", i + 1))
                .changed();
            if ui
                .small_button("x")
                .on_hover_text(format!("remove {what} {}", i + 1))
                .clicked()
            {
                remove = Some(i);
            }
        }
        let room = widths.len() < count.max;
        if ui
            .add_enabled(room, egui::Button::new(format!("+ {what}")).small())
            .clicked()
        {
            let last = widths.last().copied().unwrap_or(32);
            widths.push(last);
            changed = true;
        }
    });
    if let Some(i) = remove {
        widths.remove(i);
        changed = true;
    }
    changed
}

/// `12345` as `12.3k`, for parameter and MAC counts.
pub fn compact(n: usize) -> String {
    match n {
        n if n >= 10_000_000 => format!("{:.0}M", n as f64 / 1e6),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0}k", n as f64 / 1e3),
        n if n >= 1_000 => format!("{:.1}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

/// Seconds as `1m 05s` or `12.3s`.
pub fn duration(seconds: f64) -> String {
    if seconds >= 60.0 {
        format!(
            "{}m {:02}s",
            (seconds / 60.0) as u64,
            (seconds % 60.0) as u64
        )
    } else {
        format!("{seconds:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_counts() {
        assert_eq!(compact(999), "999");
        assert_eq!(compact(1210), "1.2k");
        assert_eq!(compact(85_002), "85k");
        assert_eq!(compact(2_395_210), "2.4M");
    }

    #[test]
    fn problems_match_by_prefix() {
        let p = Problems(vec![Problem {
            field: "student.hidden".into(),
            value: "0".into(),
            allowed: "x".into(),
        }]);
        assert_eq!(p.under("student").len(), 1);
        assert_eq!(p.under("student.hidden").len(), 1);
        assert!(p.under("stud").is_empty());
        assert!(p.under("teacher").is_empty());
    }
}
