//! Training runs below the window's priority: it may use every core, and the window still
//! draws on time, because the scheduler lets drawing go first when both want a core.

/// How much lower (a `nice` increment) training threads run than the window.
pub const TRAINING_NICENESS: i32 = 1;

/// Lower the calling thread's scheduling priority by [`TRAINING_NICENESS`]. On Linux the nice
/// value belongs to the thread, and the threads it starts inherit it. Elsewhere, and where
/// the call fails, nothing changes: training only competes with drawing on equal terms.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn setpriority(which: i32, who: u32, prio: i32) -> i32;
            fn getpriority(which: i32, who: u32) -> i32;
        }
        const PRIO_PROCESS: i32 = 0;
        // SAFETY: plain libc calls on the calling thread (`who` = 0), no memory involved.
        unsafe {
            let now = getpriority(PRIO_PROCESS, 0);
            setpriority(PRIO_PROCESS, 0, (now + TRAINING_NICENESS).min(19));
        }
    }
}

/// The calling thread's nice value (Linux; 0 elsewhere), for tests.
pub fn this_thread_niceness() -> i32 {
    #[cfg(target_os = "linux")]
    {
        unsafe extern "C" {
            fn getpriority(which: i32, who: u32) -> i32;
        }
        // SAFETY: as above.
        unsafe { getpriority(0, 0) }
    }
    #[cfg(not(target_os = "linux"))]
    0
}

/// Start `work` on a short-lived thread running at training priority and return what it
/// returns: threads `work` starts (the engine's training thread) inherit the lower priority,
/// while the caller (the window's thread) keeps its own.
pub fn spawn_below<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        lower_this_thread();
        work()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Build the CPU backend's thread pool with a worker per core, each at training priority.
/// Only the first pool built in a process counts (later calls do nothing).
pub fn training_pool_on_every_core() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(cores)
        .start_handler(|_| lower_this_thread())
        .build_global();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawned_work_runs_lower_and_the_caller_keeps_its_priority() {
        let before = this_thread_niceness();
        let inner = spawn_below(|| std::thread::spawn(this_thread_niceness).join().unwrap());
        assert_eq!(this_thread_niceness(), before);
        if cfg!(target_os = "linux") {
            assert_eq!(inner, (before + TRAINING_NICENESS).min(19));
        }
    }
}
