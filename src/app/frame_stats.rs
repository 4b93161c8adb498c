//! Frame times, for `distillery gui --frame-stats`: how long each frame took to build and
//! draw (eframe's measure, waiting for the display excluded), summarised on exit, over all
//! frames and over the frames drawn while a run trained.

/// Frames kept; a long session keeps its first this many.
const MAX_FRAMES: usize = 1_000_000;

#[derive(Debug, Clone, Default)]
pub struct FrameStats {
    all: Vec<f32>,
    training: Vec<f32>,
}

impl FrameStats {
    /// Note one frame's time; `training` when a run was training during it.
    pub fn record(&mut self, seconds: f32, training: bool) {
        if !seconds.is_finite() || self.all.len() >= MAX_FRAMES {
            return;
        }
        self.all.push(seconds);
        if training {
            self.training.push(seconds);
        }
    }

    pub fn frames(&self) -> usize {
        self.all.len()
    }

    /// The frame time at quantile `q` in [0, 1] (nearest rank), in seconds, over all frames
    /// or over those drawn while training.
    pub fn quantile(&self, q: f64, training_only: bool) -> Option<f32> {
        quantile(
            if training_only {
                &self.training
            } else {
                &self.all
            },
            q,
        )
    }

    /// Two lines: the frame count and the p50, p95 and largest frame time in milliseconds,
    /// over all frames and while training.
    pub fn report(&self) -> String {
        format!(
            "frame time, all frames: {}\nframe time while training: {}",
            summary(&self.all),
            summary(&self.training)
        )
    }
}

fn quantile(seconds: &[f32], q: f64) -> Option<f32> {
    if seconds.is_empty() {
        return None;
    }
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f32::total_cmp);
    let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).max(1);
    Some(sorted[rank - 1])
}

fn summary(seconds: &[f32]) -> String {
    let ms = |q: f64| quantile(seconds, q).map_or(f32::NAN, |s| s * 1000.0);
    format!(
        "{} frames, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        seconds.len(),
        ms(0.5),
        ms(0.95),
        ms(1.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let mut s = FrameStats::default();
        assert_eq!(s.quantile(0.5, false), None);
        for i in 1..=100 {
            s.record(i as f32 / 1000.0, i > 50);
        }
        assert_eq!(s.quantile(0.5, false), Some(0.050));
        assert_eq!(s.quantile(0.95, false), Some(0.095));
        assert_eq!(s.quantile(1.0, false), Some(0.100));
        assert_eq!(s.quantile(0.0, true), Some(0.051));
        let report = s.report();
        assert!(
            report.contains("100 frames, p50 50.0 ms, p95 95.0 ms"),
            "{report}"
        );
        assert!(report.contains("while training: 50 frames"), "{report}");
    }
}
