//! Keep freed training buffers in the process instead of handing them back to the kernel.
//!
//! A step allocates and frees the same large buffers every time (a 1200×1200 weight
//! gradient is 5.8 MB, and flex zero-fills each new one). With glibc's defaults such buffers
//! are mapped fresh from the kernel or trimmed back to it, so every step pays for page faults
//! on megabytes of new pages: in one minute the 1200×1200 weight-gradient product ran at
//! 25–43 GFLOP/s with glibc's defaults against 97–114 with freed memory kept (`cargo bench
//! --bench ops` against its `--glibc-defaults`; in other minutes both ran near 90). The
//! cost: the process keeps its peak heap until it exits.

/// Raise glibc's thresholds, once per process: buffers up to 32 MB (its largest allowed
/// mapping threshold) come from the heap, and the heap is trimmed only above 1 GB free.
pub fn keep_freed_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only changes the allocator's tuning parameters; it is thread-safe.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    });
}
