//! Subnormal f32 numbers taken as zero while training on the CPU.
//!
//! On real MNIST many first-layer weights see a non-zero input only now and then, so their
//! Adam moments decay through the subnormal range (below 1.2·10⁻³⁸), and tiny gradients
//! square into it. x86 handles a subnormal operand or result through a microcode assist, far
//! slower than normal arithmetic: with the 30-30 student, Adam's one pass over 25k
//! parameters took 22% of the run (`perf`), against 3% with subnormals flushed. The training
//! threads therefore run with DAZ and FTZ set, as TensorFlow's CPU threads do by default. A
//! value that small changes nothing a run measures: the Adam step it would make is below
//! 10⁻³³ of the learning rate.

/// Set DAZ (subnormal inputs read as zero) and FTZ (subnormal results written as zero) for
/// the calling thread. A no-op off x86-64.
pub fn flush_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    // `_mm_getcsr`/`_mm_setcsr` are deprecated in favour of inline assembly, but do the same.
    #[allow(deprecated)]
    // SAFETY: reading MXCSR and setting its two subnormal-mode bits changes only how this
    // thread's SSE/AVX arithmetic rounds numbers below f32's normal range.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        const DAZ: u32 = 1 << 6;
        const FTZ: u32 = 1 << 15;
        _mm_setcsr(_mm_getcsr() | DAZ | FTZ);
    }
}

/// Whether the calling thread flushes subnormals (always false off x86-64).
pub fn flushing_on_this_thread() -> bool {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // SAFETY: reading MXCSR has no effect.
    unsafe {
        std::arch::x86_64::_mm_getcsr() & (1 << 6 | 1 << 15) == (1 << 6 | 1 << 15)
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}
