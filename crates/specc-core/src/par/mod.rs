//! Parallel loops on a small pool of worker threads the runtime owns.
//!
//! The kernels cut their work into tasks (rows of a GEMM, chunks of the
//! batch, ranges of a tensor) and [`for_each`] runs the tasks on
//! [`threads`] threads: the calling thread and `threads() - 1` workers,
//! each taking one contiguous block of task indices. Every task writes its
//! own part of the output and reductions over the batch go through
//! partial sums per chunk of the batch whose boundaries depend only on the
//! batch size, added up in a fixed order, so results are bit-for-bit the
//! same for every thread count (`tests/tests/threads.rs` checks it).
//!
//! The pool allocates nothing per call: a job is a pointer to the caller's
//! closure, published with a generation counter; workers spin briefly, then
//! sleep on a condition variable until the next job. A call made from
//! inside a task, or while another thread is using the pool, runs its tasks
//! on the calling thread in order (same results, no deadlock). A panic in a
//! task is caught, the call waits for the other tasks and then panics on
//! the calling thread. The instruction set the caller uses
//! ([`crate::simd::selected_kernel`], including a [`crate::simd::with_kernel`]
//! override) is the one the workers use for its tasks.
//!
//! The thread count is [`set_threads`], else the `SPECC_THREADS` variable,
//! else the number of CPUs; [`with_threads`] overrides it on one thread.
//!
//! Without the `std` feature there are no threads: the same functions run
//! every task on the calling thread, in order (as matrixmultiply's
//! threading feature does), so the call sites are the same either way.

#[cfg(feature = "std")]
mod threaded;
#[cfg(feature = "std")]
pub(crate) use threaded::with_local;
#[cfg(feature = "std")]
pub use threaded::{for_each, for_each_part, set_threads, threads, threads_from_env, with_threads};

/// The largest thread count [`set_threads`] accepts.
pub const MAX_THREADS: usize = 64;

/// The most parts [`for_each_part`] takes in one call.
pub const MAX_PARTS: usize = 64;

/// The length of each of the parts `len` items are cut into for a
/// parallel loop: at least `min` items a part (so the work pays for the
/// hand-off), a multiple of `align`, and at most [`threads`] parts.
pub fn part_len(len: usize, min: usize, align: usize) -> usize {
    let parts = threads().min(len / min.max(1)).clamp(1, MAX_PARTS);
    len.div_ceil(parts).next_multiple_of(align.max(1)).max(1)
}

#[cfg(not(feature = "std"))]
pub use inline::{for_each, for_each_part, threads};

/// The loops of a build without threads.
#[cfg(not(feature = "std"))]
mod inline {
    use super::MAX_PARTS;

    /// Always 1: a build without `std` runs on one thread.
    pub fn threads() -> usize {
        1
    }

    /// Runs `f(i)` for every `i < tasks`, in order.
    pub fn for_each(tasks: usize, f: impl Fn(usize) + Sync) {
        (0..tasks).for_each(f);
    }

    /// Runs `f(i, part)` for each of `parts` (at most [`MAX_PARTS`]), in order.
    ///
    /// Panics if there are more than [`MAX_PARTS`] parts.
    pub fn for_each_part<P: Send>(parts: impl IntoIterator<Item = P>, f: impl Fn(usize, P) + Sync) {
        for (i, part) in parts.into_iter().enumerate() {
            assert!(i < MAX_PARTS, "par::for_each_part: more than {MAX_PARTS} parts");
            f(i, part);
        }
    }
}
