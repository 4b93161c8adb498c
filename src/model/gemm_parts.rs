//! One GEMM split once over the pool: as many parts as the pool has threads, each part a
//! single-threaded call to the `gemm` crate (flex's own GEMM), along the rows or the columns
//! of the result.
//!
//! flex calls gemm with `Rayon(0)`, which forks and joins for every block of a product; on
//! a shared 2-vCPU host every join waits for the slower CPU. One split per product joins
//! once. gemm's inner blocking depends only on the inner dimension, so a split product has
//! the bits of one call, whatever the number of threads (a test checks it).

use rayon::prelude::*;

/// Below this many multiply-adds a product runs on one thread, as flex decides (192³).
const PARALLEL_WORK: usize = 192 * 192 * 192;
/// A part's rows or columns start at a multiple of this (a whole AVX-512 register of f32).
const ALIGN: usize = 16;

/// A matrix in memory: element `(r, c)` at `ptr + r·row + c·col`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Strided {
    ptr: *mut f32,
    row: isize,
    col: isize,
}

// SAFETY: the parts of a product write disjoint elements of `dst` and only read the others.
unsafe impl Send for Strided {}
unsafe impl Sync for Strided {}

impl Strided {
    /// Rows of `width` contiguous elements.
    pub(super) fn row_major(ptr: *mut f32, width: usize) -> Self {
        Self {
            ptr,
            row: width as isize,
            col: 1,
        }
    }

    /// Columns of `height` contiguous elements (a row-major matrix, transposed).
    pub(super) fn col_major(ptr: *mut f32, height: usize) -> Self {
        Self {
            ptr,
            row: 1,
            col: height as isize,
        }
    }

    /// The view from row `r` and column `c` on.
    fn at(self, r: usize, c: usize) -> Self {
        // SAFETY: callers stay inside the matrix.
        let ptr = unsafe {
            self.ptr
                .offset(r as isize * self.row + c as isize * self.col)
        };
        Self { ptr, ..self }
    }
}

/// Which dimension of the result a product's parts divide.
#[derive(Debug, Clone, Copy)]
pub(super) enum Split {
    Rows,
    Cols,
}

/// `dst (+)= lhs·rhs` for `[rows, inner]·[inner, cols]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Product {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) inner: usize,
    pub(super) dst: Strided,
    pub(super) lhs: Strided,
    pub(super) rhs: Strided,
    /// Add to `dst` (which holds the bias) instead of overwriting it unread.
    pub(super) accumulate: bool,
    /// Then `max(0, ·)` on the part just written, while it is in this core's cache (a
    /// row-major `dst` only).
    pub(super) relu: bool,
}

impl Product {
    /// Split along `split` into one part per thread of the pool (one part for a small
    /// product), each part a single-threaded gemm call.
    pub(super) fn run(self, split: Split) {
        let length = match split {
            Split::Rows => self.rows,
            Split::Cols => self.cols,
        };
        let parts = self.parts(length);
        if parts <= 1 {
            return self.gemm();
        }
        let step = length.div_ceil(parts).next_multiple_of(ALIGN);
        (0..length.div_ceil(step)).into_par_iter().for_each(|i| {
            self.part(split, i * step, step.min(length - i * step))
                .gemm()
        });
    }

    fn parts(&self, length: usize) -> usize {
        if self.rows * self.cols * self.inner < PARALLEL_WORK {
            return 1;
        }
        rayon::current_num_threads().min(length / ALIGN).max(1)
    }

    /// The rows (or columns) `start..start + len` of the result.
    fn part(self, split: Split, start: usize, len: usize) -> Self {
        match split {
            Split::Rows => Self {
                rows: len,
                dst: self.dst.at(start, 0),
                lhs: self.lhs.at(start, 0),
                ..self
            },
            Split::Cols => Self {
                cols: len,
                dst: self.dst.at(0, start),
                rhs: self.rhs.at(0, start),
                ..self
            },
        }
    }

    fn gemm(self) {
        let Self { dst, lhs, rhs, .. } = self;
        // SAFETY: every view covers its `[rows, inner]`, `[inner, cols]` or `[rows, cols]`
        // elements (the callers size the buffers), and parts write disjoint elements.
        unsafe {
            gemm::gemm(
                self.rows,
                self.cols,
                self.inner,
                dst.ptr,
                dst.col,
                dst.row,
                self.accumulate,
                lhs.ptr,
                lhs.col,
                lhs.row,
                rhs.ptr,
                rhs.col,
                rhs.row,
                if self.accumulate { 1.0 } else { 0.0 },
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        if self.relu {
            assert_eq!(dst.col, 1, "a ReLU over a row-major result");
            for r in 0..self.rows {
                // SAFETY: row `r` of this part, `cols` contiguous elements it alone writes.
                relu(unsafe { std::slice::from_raw_parts_mut(dst.at(r, 0).ptr, self.cols) });
            }
        }
    }
}

/// How a new result is stored.
#[derive(Debug, Clone, Copy)]
pub(super) enum Order {
    RowMajor,
    ColMajor,
}

/// `lhs·rhs` for `[rows, inner]·[inner, cols]` (`[rows, cols, inner]`), into a new buffer
/// stored in `order` that the product overwrites: nothing zeroes it first.
pub(super) fn new_product(
    [rows, cols, inner]: [usize; 3],
    lhs: Strided,
    rhs: Strided,
    order: Order,
    split: Split,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows * cols);
    let dst = match order {
        Order::RowMajor => Strided::row_major(out.as_mut_ptr(), cols),
        Order::ColMajor => Strided::col_major(out.as_mut_ptr(), rows),
    };
    Product {
        rows,
        cols,
        inner,
        dst,
        lhs,
        rhs,
        accumulate: false,
        relu: false,
    }
    .run(split);
    // SAFETY: the product wrote every element (`accumulate: false` reads none).
    unsafe { out.set_len(rows * cols) };
    out
}

/// burn's ReLU: 0 where `v ≤ 0`, the value elsewhere, NaN included. An unconditional store
/// of a select, so that it compiles to vector blends.
fn relu(values: &mut [f32]) {
    for v in values {
        *v = if *v <= 0.0 { 0.0 } else { *v };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::*;
    use burn::tensor::Distribution;

    /// A product split over rows or columns gives the bits of one unsplit call: gemm's blocking
    /// of the inner dimension does not depend on the others, so results do not depend on the
    /// number of threads.
    #[test]
    fn a_split_product_gives_the_bits_of_one_call() {
        let device = Device::flex();
        let random =
            |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let a = random([128, 800]).into_data().try_to_vec::<f32>().unwrap();
        let b = random([800, 800]).into_data().try_to_vec::<f32>().unwrap();
        for split in [Split::Rows, Split::Cols] {
            let mut whole = vec![0.0f32; 128 * 800];
            let mut parts = vec![0.0f32; 128 * 800];
            for (dst, threads) in [(&mut whole, 1), (&mut parts, 3)] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    Product {
                        rows: 128,
                        cols: 800,
                        inner: 800,
                        dst: Strided::row_major(dst.as_mut_ptr(), 800),
                        lhs: Strided::row_major(a.as_ptr().cast_mut(), 800),
                        rhs: Strided::row_major(b.as_ptr().cast_mut(), 800),
                        accumulate: false,
                        relu: false,
                    }
                    .run(split)
                });
            }
            let differing = whole
                .iter()
                .zip(&parts)
                .filter(|(x, y)| x.to_bits() != y.to_bits())
                .count();
            assert_eq!(differing, 0, "{split:?}");
        }
    }
}
