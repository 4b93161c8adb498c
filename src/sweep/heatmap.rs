//! The sweep's heatmap as a PNG: mean gain over the baseline per (T, α), one grid per method,
//! each cell's mean and standard deviation (points) written in it, the method's short name at
//! the top left. Drawn pixel by pixel with a tiny
//! built-in font, so the command line needs no font or plotting library.

use super::grid::{Grid, TeacherChoice};
use super::stats::CellSummary;
use crate::config::SoftLoss;

const CELL_W: usize = 96;
const CELL_H: usize = 44;
const LEFT: usize = 78;
const TOP: usize = 30;
const GAP: usize = 24;

/// 3 × 5 glyphs, one row per byte, the top three bits of each used (MSB left).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b011, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b010, 0b010, 0b010],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        '-' => [0b000, 0b000, 0b111, 0b000, 0b000],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        '=' => [0b000, 0b111, 0b000, 0b111, 0b000],
        '±' => [0b010, 0b111, 0b010, 0b000, 0b111],
        'T' => [0b111, 0b010, 0b010, 0b010, 0b010],
        'a' => [0b000, 0b011, 0b101, 0b101, 0b011],
        'c' => [0b000, 0b011, 0b100, 0b100, 0b011],
        'r' => [0b000, 0b101, 0b110, 0b100, 0b100],
        'z' => [0b000, 0b111, 0b010, 0b100, 0b111],
        'w' => [0b000, 0b101, 0b101, 0b111, 0b111],
        'u' => [0b000, 0b101, 0b101, 0b101, 0b011],
        'b' => [0b100, 0b110, 0b101, 0b101, 0b110],
        'p' => [0b000, 0b110, 0b101, 0b110, 0b100],
        'g' => [0b000, 0b011, 0b101, 0b011, 0b110],
        'v' => [0b000, 0b101, 0b101, 0b101, 0b010],
        'x' => [0b000, 0b101, 0b010, 0b010, 0b101],
        'y' => [0b000, 0b101, 0b101, 0b011, 0b110],
        'd' => [0b001, 0b011, 0b101, 0b101, 0b011],
        'e' => [0b010, 0b101, 0b111, 0b100, 0b011],
        'f' => [0b011, 0b100, 0b110, 0b100, 0b100],
        'h' => [0b100, 0b100, 0b111, 0b101, 0b101],
        'i' => [0b010, 0b000, 0b010, 0b010, 0b010],
        'k' => [0b100, 0b101, 0b110, 0b101, 0b101],
        'l' => [0b110, 0b010, 0b010, 0b010, 0b111],
        'm' => [0b000, 0b111, 0b111, 0b101, 0b101],
        'n' => [0b000, 0b110, 0b101, 0b101, 0b101],
        'o' => [0b000, 0b010, 0b101, 0b101, 0b010],
        's' => [0b000, 0b011, 0b110, 0b011, 0b110],
        't' => [0b010, 0b111, 0b010, 0b010, 0b011],
        ' ' => [0; 5],
        _ => return None,
    })
}

/// An RGB image drawn pixel by pixel (also the gradients plot's).
pub(crate) struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            rgb: vec![255; width * height * 3],
        }
    }

    pub(crate) fn fill(&mut self, x0: usize, y0: usize, w: usize, h: usize, c: [u8; 3]) {
        for y in y0..(y0 + h).min(self.height) {
            for x in x0..(x0 + w).min(self.width) {
                let i = (y * self.width + x) * 3;
                self.rgb[i..i + 3].copy_from_slice(&c);
            }
        }
    }

    /// Text at `(x, y)`, each font pixel `scale` pixels square; unknown characters skipped.
    pub(crate) fn text(&mut self, x: usize, y: usize, s: &str, scale: usize) {
        let mut cx = x;
        for c in s.chars() {
            if let Some(rows) = glyph(c) {
                for (r, bits) in rows.iter().enumerate() {
                    for col in 0..3 {
                        if bits & (0b100 >> col) != 0 {
                            self.fill(cx + col * scale, y + r * scale, scale, scale, [0, 0, 0]);
                        }
                    }
                }
            }
            cx += 4 * scale;
        }
    }

    fn text_width(s: &str, scale: usize) -> usize {
        s.chars().count() * 4 * scale
    }
}

/// Green for a gain, red for a loss, white for none; full colour at `max` points.
fn colour(gain: f64, max: f64) -> [u8; 3] {
    let t = (gain.abs() / max.max(1e-9)).min(1.0);
    let fade = |full: f64| (255.0 - t * (255.0 - full)) as u8;
    if gain >= 0.0 {
        [fade(90.0), fade(190.0), fade(110.0)]
    } else {
        [fade(225.0), fade(90.0), fade(80.0)]
    }
}

/// The heatmap of `summaries` over `grid` as PNG bytes.
pub fn heatmap_png(grid: &Grid, summaries: &[CellSummary]) -> Vec<u8> {
    let (cols, rows) = (grid.temperatures.len(), grid.alphas.len());
    let block_h = TOP + rows * CELL_H + GAP;
    // Room on the left for a block title naming the teacher too.
    let left = if grid.teachers.len() > 1 { 124 } else { LEFT };
    let width = left + cols * CELL_W + 8;
    let blocks: Vec<(SoftLoss, TeacherChoice)> = grid
        .losses
        .iter()
        .flat_map(|&l| grid.teachers.iter().map(move |&t| (l, t)))
        .collect();
    let height = blocks.len() * block_h;
    let mut canvas = Canvas::new(width, height);
    let max = summaries
        .iter()
        .filter_map(|s| s.gain.map(|g| (100.0 * g.mean).abs()))
        .fold(1.0f64, f64::max);
    for (k, &block) in blocks.iter().enumerate() {
        let y0 = k * block_h;
        draw_method(&mut canvas, grid, summaries, block, (left, y0), max);
    }
    encode(&canvas)
}

fn draw_method(
    canvas: &mut Canvas,
    grid: &Grid,
    summaries: &[CellSummary],
    (loss, teacher): (SoftLoss, TeacherChoice),
    (left, y0): (usize, usize),
    max: f64,
) {
    match teacher {
        TeacherChoice::Whole => canvas.text(4, y0 + 8, loss.short(), 3),
        TeacherChoice::BestMember => canvas.text(
            4,
            y0 + 10,
            &format!("{} {}", loss.short(), teacher.short()),
            2,
        ),
    }
    for (j, t) in grid.temperatures.iter().enumerate() {
        let label = format!("T={t}");
        let x = left + j * CELL_W + (CELL_W - Canvas::text_width(&label, 2)) / 2;
        canvas.text(x, y0 + 10, &label, 2);
    }
    for (i, a) in grid.alphas.iter().enumerate() {
        let y = y0 + TOP + i * CELL_H;
        canvas.text(4, y + CELL_H / 2 - 5, &format!("a={a}"), 2);
        for (j, t) in grid.temperatures.iter().enumerate() {
            let x = left + j * CELL_W;
            let found = summaries.iter().find(|s| {
                s.loss == loss.short()
                    && s.distilled_from == teacher
                    && s.temperature.to_bits() == t.to_bits()
                    && s.alpha.to_bits() == a.to_bits()
            });
            let gain = found.and_then(|s| s.gain);
            let fill = gain.map_or([235, 235, 235], |g| colour(100.0 * g.mean, max));
            canvas.fill(x + 1, y + 1, CELL_W - 2, CELL_H - 2, fill);
            if let Some(g) = gain {
                let mean = format!("{:+.1}", 100.0 * g.mean);
                canvas.text(
                    x + (CELL_W - Canvas::text_width(&mean, 3)) / 2,
                    y + 5,
                    &mean,
                    3,
                );
                if let Some(s) = g.std {
                    let std = format!("±{:.1}", 100.0 * s);
                    let w = Canvas::text_width(&std, 2);
                    canvas.text(x + (CELL_W - w) / 2, y + 27, &std, 2);
                }
            }
        }
    }
}

pub(crate) fn encode(canvas: &Canvas) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, canvas.width as u32, canvas.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("PNG header into memory");
        w.write_image_data(&canvas.rgb)
            .expect("PNG data into memory");
    }
    out
}

/// The side of one matrix cell in the dark-knowledge picture, in pixels.
const DK_CELL: usize = 22;

/// The dark-knowledge matrices as PNG bytes: teacher, student, and student − teacher side by
/// side, rows the true class, columns the class; the diagonal (the true class's own mass)
/// greyed so the structure off it shows, each matrix scaled to its largest off-diagonal value.
pub fn dark_knowledge_png(d: &crate::distill::dark::DarkKnowledge) -> Vec<u8> {
    use crate::distill::dark::{difference, off_diagonal_max};
    let k = d.teacher.len();
    let mut panels: Vec<(&str, Vec<Vec<f32>>)> = vec![("teacher", plain(&d.teacher))];
    if let Some(s) = &d.student {
        let s = plain(s);
        let diff = difference(&s, &plain(&d.teacher));
        panels.push(("student", s));
        panels.push(("student-teacher", diff));
    }
    let side = k * DK_CELL;
    let mut c = Canvas::new(panels.len() * (side + 30) + 30, side + 40);
    for (i, (name, m)) in panels.iter().enumerate() {
        let x0 = 20 + i * (side + 30);
        c.text(x0, 4, name, 2);
        let max = off_diagonal_max(m);
        for (r, row) in m.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let colour = if r == j || !v.is_finite() {
                    [200, 200, 200]
                } else {
                    colour(v as f64, max as f64)
                };
                c.fill(
                    x0 + j * DK_CELL,
                    24 + r * DK_CELL,
                    DK_CELL - 1,
                    DK_CELL - 1,
                    colour,
                );
            }
        }
    }
    encode(&c)
}

fn plain(m: &[Vec<Option<f32>>]) -> Vec<Vec<f32>> {
    m.iter()
        .map(|r| r.iter().map(|v| v.unwrap_or(f32::NAN)).collect())
        .collect()
}
