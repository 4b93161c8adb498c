//! A metric history that grows during training and is drawn many times a second.
//!
//! The raw points are kept once; what is drawn is a smoothed, downsampled copy that is
//! rebuilt only when new points arrived or the smoothing changed, and borrowed by the plot —
//! never cloned per frame.

use egui_plot::PlotPoint;

/// At most this many points are drawn per series; long runs are bucketed down to it.
pub const MAX_DRAWN_POINTS: usize = 1500;

#[derive(Debug, Clone, Default)]
pub struct Series {
    raw: Vec<[f64; 2]>,
    drawn: Vec<PlotPoint>,
    /// (raw length, smoothing) the drawn copy was built for.
    drawn_for: Option<(usize, u32)>,
}

impl Series {
    pub fn push(&mut self, x: f64, y: f64) {
        self.raw.push([x, y]);
    }

    /// The points [`Self::drawn`] built last.
    pub fn cached(&self) -> &[PlotPoint] {
        &self.drawn
    }

    /// The points to draw: exponentially smoothed with weight `smoothing` in [0, 1) (as in
    /// TensorBoard), optionally as log10, and downsampled to at most [`MAX_DRAWN_POINTS`].
    pub fn drawn(&mut self, smoothing: f32, log10: bool) -> &[PlotPoint] {
        let key = (self.raw.len(), smoothing.to_bits() ^ u32::from(log10));
        if self.drawn_for != Some(key) {
            let smoothed = smooth(&self.raw, smoothing as f64);
            let mapped: Vec<[f64; 2]> = if log10 {
                smoothed
                    .into_iter()
                    .filter(|p| p[1] > 0.0)
                    .map(|[x, y]| [x, y.log10()])
                    .collect()
            } else {
                smoothed
            };
            self.drawn = downsample(&mapped, MAX_DRAWN_POINTS)
                .into_iter()
                .map(|[x, y]| PlotPoint::new(x, y))
                .collect();
            self.drawn_for = Some(key);
        }
        &self.drawn
    }
}

/// Exponential moving average, debiased so the first points are not pulled toward zero.
/// Non-finite values pass through unsmoothed so a divergence stays visible.
pub fn smooth(points: &[[f64; 2]], weight: f64) -> Vec<[f64; 2]> {
    if weight <= 0.0 {
        return points.to_vec();
    }
    let mut avg = 0.0;
    let mut norm = 0.0;
    points
        .iter()
        .map(|&[x, y]| {
            if !y.is_finite() {
                return [x, y];
            }
            avg = weight * avg + (1.0 - weight) * y;
            norm = weight * norm + (1.0 - weight);
            [x, avg / norm]
        })
        .collect()
}

/// Keep at most `max` points: each bucket contributes its minimum and maximum (in order), so
/// spikes survive downsampling.
pub fn downsample(points: &[[f64; 2]], max: usize) -> Vec<[f64; 2]> {
    if points.len() <= max {
        return points.to_vec();
    }
    let buckets = (max / 2).max(1);
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(buckets * 2);
    for chunk in points.chunks(size) {
        let lo = chunk.iter().min_by(|a, b| a[1].total_cmp(&b[1])).copied();
        let hi = chunk.iter().max_by(|a, b| a[1].total_cmp(&b[1])).copied();
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo[0] <= hi[0] => out.extend([lo, hi]),
            (Some(lo), Some(hi)) => out.extend([hi, lo]),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsampling_bounds_the_count_and_keeps_spikes() {
        let mut pts: Vec<[f64; 2]> = (0..100_000).map(|i| [i as f64, 1.0]).collect();
        pts[54_321][1] = 50.0;
        let d = downsample(&pts, 1000);
        assert!(d.len() <= 1000);
        assert!(d.iter().any(|p| p[1] == 50.0));
        assert!(d.windows(2).all(|w| w[0][0] <= w[1][0]), "x stays ordered");
    }

    #[test]
    fn smoothing_is_debiased_and_drawn_copy_is_cached() {
        let s = smooth(&[[0.0, 2.0], [1.0, 2.0], [2.0, 2.0]], 0.9);
        assert!(s.iter().all(|p| (p[1] - 2.0).abs() < 1e-12));
        let mut series = Series::default();
        series.push(0.0, 10.0);
        series.push(1.0, 100.0);
        let ptr = series.drawn(0.0, true).as_ptr();
        assert_eq!(
            series.drawn(0.0, true).as_ptr(),
            ptr,
            "rebuilt without new data"
        );
        assert_eq!(series.drawn(0.0, true)[1].y, 2.0);
    }
}
