//! Small widgets shared by the panels.

use crate::config::Problem;
use egui::{Response, Ui};

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

/// A row of widths (hidden layers, conv channels): edit, remove, add.
pub fn widths_ui(ui: &mut Ui, widths: &mut Vec<usize>, what: &str, max: usize) -> bool {
    let mut changed = false;
    let mut remove = None;
    ui.horizontal_wrapped(|ui| {
        for (i, w) in widths.iter_mut().enumerate() {
            changed |= ui
                .add(egui::DragValue::new(w).range(1..=max).speed(1.0))
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
        if ui.small_button(format!("+ {what}")).clicked() {
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
