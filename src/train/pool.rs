//! Each phase trains on a worker of a thread pool of its own.
//!
//! flex's GEMM (the `gemm` crate) forks and joins through rayon several times per product.
//! Started from a thread outside any pool, every fork-join is injected into the pool and the
//! caller sleeps until it is done; started on a worker, the caller takes its share of the
//! work and the other workers steal the rest, without a wake-up per fork. On the 2-core
//! machine a 1024² f32 product went from 112–116 to 159–161 GFLOP/s in a quiet minute
//! (`cargo bench --bench ops`, against its `--outside`); in busier minutes the difference
//! drowns in the machine's noise. A pool per phase, not the global one, keeps two trainings in one process
//! (tests, say) from running inside each other's joins, which would interleave their
//! dropout streams.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Spin this long after the last job a keeper took before it starts napping.
const SPIN: Duration = Duration::from_millis(5);
/// A napping keeper's nap: the longest a first job can wait for it after an idle spell.
const NAP: Duration = Duration::from_millis(1);

/// Run `work` on a worker of a new pool as wide as the current one (the global pool's
/// `RAYON_NUM_THREADS` or the window's limit). Already on a worker, or without threads to
/// spare, it runs here. While it runs, the pool's other workers are kept warm. Every thread
/// that trains flushes subnormals (see [`super::subnormal`]).
pub(super) fn install<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    super::allocator::keep_freed_memory();
    if rayon::current_thread_index().is_some() {
        super::subnormal::flush_on_this_thread();
        return work();
    }
    let threads = rayon::current_num_threads();
    let Ok(pool) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("distillery-train-{i}"))
        .start_handler(|_| super::subnormal::flush_on_this_thread())
        .build()
    else {
        super::subnormal::flush_on_this_thread();
        return work();
    };
    if threads < 2 {
        return pool.install(work);
    }
    let stop = AtomicBool::new(false);
    pool.install(|| {
        let main = rayon::current_thread_index();
        rayon::scope(|s| {
            s.spawn_broadcast(|_, _| keep_warm(main, &stop));
            // Set on the way out, a panic's included, so the keepers let the scope end.
            let _stop = StopOnDrop(&stop);
            work()
        })
    })
}

/// Keep a worker taking jobs the moment they are forked, as OpenMP's threads do, instead of
/// sleeping between gemm's fork-joins: on a shared host a sleeping virtual CPU can take long
/// to wake (`cargo bench --bench ops -- --spin`: the teacher's step 5,172–5,760 → 6,020–
/// 6,816 samples/s in five interleaved rounds, the 800-800 student's 6,520–11,093 →
/// 11,002–12,436). After [`SPIN`] without a job (a paused run, say) it naps instead.
/// The copy that lands on the phase's own thread returns at once.
fn keep_warm(main: Option<usize>, stop: &AtomicBool) {
    if rayon::current_thread_index() == main {
        return;
    }
    let mut last_job = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => last_job = Instant::now(),
            _ if last_job.elapsed() < SPIN => std::hint::spin_loop(),
            _ => std::thread::sleep(NAP),
        }
    }
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn work_runs_on_a_worker_as_wide_as_the_global_pool() {
        let width = rayon::current_num_threads();
        let (on_worker, inner_width) = super::install(|| {
            (
                rayon::current_thread_index().is_some(),
                rayon::current_num_threads(),
            )
        });
        assert!(on_worker);
        assert_eq!(inner_width, width);
        // Nested: no second pool.
        let nested = super::install(|| super::install(rayon::current_thread_index));
        assert!(nested.is_some());
    }

    #[test]
    fn every_thread_of_the_work_takes_subnormals_as_zero() {
        use rayon::prelude::*;
        let subnormal = std::hint::black_box(1e-39f32);
        assert!(subnormal > 0.0, "outside the pool it is a number");
        let (flushed, all_flush) = super::install(|| {
            let all = (0..4096)
                .into_par_iter()
                .all(|_| crate::train::subnormal::flushing_on_this_thread());
            (
                std::hint::black_box(subnormal) * std::hint::black_box(1.0f32),
                all,
            )
        });
        if cfg!(target_arch = "x86_64") {
            assert_eq!(flushed, 0.0);
            assert!(all_flush);
        }
    }

    #[test]
    fn a_panic_in_the_work_still_ends_the_keepers_and_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| super::install(|| panic!("device fault")));
        assert!(caught.is_err());
        // The pool's work still runs, with every worker free again.
        let sum: u64 = super::install(|| {
            use rayon::prelude::*;
            (0..10_000u64).into_par_iter().sum()
        });
        assert_eq!(sum, 49_995_000);
    }
}
