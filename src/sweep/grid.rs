//! A sweep's grid: temperatures × weights α × methods × teachers (the whole ensemble, or its
//! best member) × seeds, its cells in one fixed order,
//! and the slice of them one machine of several runs (`--shard I/N`, also what `--jobs N`
//! gives each of its processes).

use crate::config::{Experiment, SoftLoss};
pub use crate::train::sweep::TeacherChoice;
use serde::{Deserialize, Serialize};

/// What a sweep varies. Each list holds at least one value (the preset's own by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub temperatures: Vec<f64>,
    pub alphas: Vec<f64>,
    pub losses: Vec<SoftLoss>,
    /// Folders made before this axis existed distilled the whole teacher only.
    #[serde(default = "whole_teacher")]
    pub teachers: Vec<TeacherChoice>,
    pub seeds: Vec<u64>,
}

fn whole_teacher() -> Vec<TeacherChoice> {
    vec![TeacherChoice::Whole]
}

/// One run of a sweep: a student distilled with these settings on this seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub seed: u64,
    pub loss: SoftLoss,
    pub teacher: TeacherChoice,
    pub temperature: f64,
    pub alpha: f64,
}

/// The settings a cell shares with the same cell on other seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    pub loss: SoftLoss,
    pub teacher: TeacherChoice,
    pub temperature: f64,
    pub alpha: f64,
}

impl Cell {
    pub fn setting(&self) -> Setting {
        Setting {
            loss: self.loss,
            teacher: self.teacher,
            temperature: self.temperature,
            alpha: self.alpha,
        }
    }

    /// Equality by value, bit for bit (the grid's floats come from one parse).
    pub fn same(&self, other: &Cell) -> bool {
        self.seed == other.seed && self.setting().same(&other.setting())
    }
}

impl Setting {
    pub fn same(&self, other: &Setting) -> bool {
        self.loss == other.loss
            && self.teacher == other.teacher
            && self.temperature.to_bits() == other.temperature.to_bits()
            && self.alpha.to_bits() == other.alpha.to_bits()
    }
}

impl Grid {
    /// The grid a command line asks for; every list left out is the preset's own value, and
    /// `seeds` seeds count up from the preset's seed.
    pub fn new(
        base: &Experiment,
        temperatures: Option<Vec<f64>>,
        alphas: Option<Vec<f64>>,
        losses: Option<Vec<SoftLoss>>,
        seeds: usize,
    ) -> Self {
        Grid {
            temperatures: temperatures.unwrap_or_else(|| vec![base.distill.temperature]),
            alphas: alphas.unwrap_or_else(|| vec![base.distill.alpha]),
            losses: losses.unwrap_or_else(|| vec![base.distill.loss]),
            teachers: whole_teacher(),
            seeds: (0..seeds.max(1) as u64)
                .map(|i| base.seed.wrapping_add(i))
                .collect(),
        }
    }

    /// The same grid, distilling each of `teachers` (the whole ensemble, its best member).
    pub fn with_teachers(self, teachers: Option<Vec<TeacherChoice>>) -> Self {
        Grid {
            teachers: teachers.unwrap_or_else(whole_teacher),
            ..self
        }
    }

    /// The settings, methods outermost, then teachers, then T, then α.
    pub fn settings(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        for &loss in &self.losses {
            for &teacher in &self.teachers {
                for &temperature in &self.temperatures {
                    for &alpha in &self.alphas {
                        out.push(Setting {
                            loss,
                            teacher,
                            temperature,
                            alpha,
                        });
                    }
                }
            }
        }
        out
    }

    /// Every cell, seeds outermost (a seed's cells share its teacher and baseline).
    pub fn cells(&self) -> Vec<Cell> {
        let settings = self.settings();
        self.seeds
            .iter()
            .flat_map(|&seed| {
                settings.iter().map(move |s| Cell {
                    seed,
                    loss: s.loss,
                    teacher: s.teacher,
                    temperature: s.temperature,
                    alpha: s.alpha,
                })
            })
            .collect()
    }

    /// The cells of one shard: the I-th of N contiguous blocks of the seed-major order, so a
    /// seed's cells mostly stay together and its teacher trains in one or two shards only.
    pub fn shard_cells(&self, shard: Option<Shard>) -> Vec<Cell> {
        let cells = self.cells();
        match shard {
            None => cells,
            Some(s) => {
                let n = cells.len();
                let (from, to) = ((s.index - 1) * n / s.count, s.index * n / s.count);
                cells[from..to].to_vec()
            }
        }
    }

    /// Where this grid differs from `other`, in words; `None` if it does not.
    pub fn difference(&self, other: &Grid) -> Option<String> {
        let mut diffs = Vec::new();
        if self.temperatures != other.temperatures {
            diffs.push(format!(
                "temperatures {:?} there, {:?} here",
                other.temperatures, self.temperatures
            ));
        }
        if self.alphas != other.alphas {
            diffs.push(format!(
                "alphas {:?} there, {:?} here",
                other.alphas, self.alphas
            ));
        }
        if self.losses != other.losses {
            let names = |l: &[SoftLoss]| l.iter().map(|l| l.short()).collect::<Vec<_>>().join(",");
            diffs.push(format!(
                "losses {} there, {} here",
                names(&other.losses),
                names(&self.losses)
            ));
        }
        if self.teachers != other.teachers {
            let names =
                |t: &[TeacherChoice]| t.iter().map(|t| t.short()).collect::<Vec<_>>().join(",");
            diffs.push(format!(
                "teachers {} there, {} here",
                names(&other.teachers),
                names(&self.teachers)
            ));
        }
        if self.seeds != other.seeds {
            diffs.push(format!(
                "seeds {:?} there, {:?} here",
                other.seeds, self.seeds
            ));
        }
        (!diffs.is_empty()).then(|| diffs.join("; "))
    }
}

/// The experiment a cell trains: the preset with the cell's method, T, α and seed.
pub fn cell_experiment(base: &Experiment, cell: &Cell) -> Experiment {
    let mut exp = base.clone();
    exp.seed = cell.seed;
    exp.distill.loss = cell.loss;
    exp.distill.temperature = cell.temperature;
    exp.distill.alpha = cell.alpha;
    exp
}

/// `--shard I/N`: the I-th (from 1) of N slices of a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: expected I/N with 1 ≤ I ≤ N, e.g. 2/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid::new(
            &Experiment::default(),
            Some(vec![1.0, 4.0]),
            Some(vec![0.5, 0.9]),
            Some(vec![SoftLoss::Kl, SoftLoss::Dkd]),
            3,
        )
    }

    #[test]
    fn cells_cover_the_grid_once_seed_by_seed() {
        let g = grid();
        let cells = g.cells();
        assert_eq!(cells.len(), 2 * 2 * 2 * 3);
        assert_eq!(g.seeds, vec![42, 43, 44]);
        assert!(cells[..8].iter().all(|c| c.seed == 42));
        for (i, a) in cells.iter().enumerate() {
            assert!(!cells[i + 1..].iter().any(|b| a.same(b)), "{a:?} twice");
        }
    }

    #[test]
    fn shards_partition_the_cells() {
        let g = grid();
        let all = g.cells();
        let mut seen = Vec::new();
        for index in 1..=5 {
            seen.extend(g.shard_cells(Some(Shard { index, count: 5 })));
        }
        assert_eq!(seen.len(), all.len());
        assert!(
            all.iter()
                .all(|c| seen.iter().filter(|s| s.same(c)).count() == 1)
        );
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "2", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_different_grid_says_what_differs() {
        let a = grid();
        let mut b = grid();
        b.temperatures.push(8.0);
        let why = b.difference(&a).unwrap();
        assert!(
            why.contains("temperatures [1.0, 4.0] there, [1.0, 4.0, 8.0] here"),
            "{why}"
        );
        assert_eq!(a.difference(&grid()), None);
    }
}
