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

/// Run `work` on a worker of a new pool as wide as the current one (the global pool's
/// `RAYON_NUM_THREADS` or the window's limit). Already on a worker, or without threads to
/// spare, it runs here.
pub(super) fn install<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    super::allocator::keep_freed_memory();
    if rayon::current_thread_index().is_some() {
        return work();
    }
    let threads = rayon::current_num_threads();
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("distillery-train-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
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
}
