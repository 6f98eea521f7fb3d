//! The kernels' scratch buffers: im2col matrices, partial sums per chunk of
//! the batch and the GEMM's packed panels.
//!
//! Each [`Slot`] is one growable buffer of 64-byte [`Line`]s, viewed as the
//! scalar type a kernel needs. Buffers only grow (when a call needs more than
//! any call before), so repeated calls of the same shapes allocate nothing.
//! With the `std` feature there is one set per thread (`thread_local!`), so
//! the worker pool's tasks never share one; without it the core is
//! single-threaded and there is one set per process, each slot guarded by an
//! [`Exclusive`] flag.

use alloc::vec::Vec;

/// 64 bytes, aligned to 64: the unit the buffers are made of, so views
/// start on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u64; 8]);

/// A scratch buffer.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Used inside one task (an im2col matrix).
    Task = 0,
    /// Held by the caller of a parallel loop for the whole loop (partial
    /// sums per chunk, reduced afterwards).
    Partials = 1,
    /// The GEMM's packed panels of `op(a)` and `op(b)`.
    Pack = 2,
}

const SLOTS: usize = 3;

/// Scalar types a scratch buffer may be viewed as.
///
/// # Safety
/// Implementors must be plain numbers for which every bit pattern is a valid
/// value, with an alignment dividing 64 and a size dividing 64.
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: f32 is 4 bytes, aligned to 4, and every bit pattern is some float
// (possibly NaN).
unsafe impl Plain for f32 {}
// SAFETY: f64 is 8 bytes, aligned to 8, and every bit pattern is some float.
unsafe impl Plain for f64 {}

/// Runs `f` on buffer `slot`, viewed as `len` values of `T` (contents
/// unspecified: whatever an earlier call left).
///
/// # Panics
/// If `slot` is already in use further up the stack (or, without `std`, on
/// another thread).
#[doc(hidden)]
pub fn with<T: Plain, R>(slot: Slot, len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    with_two(slot, len, 0, |a, _| f(a))
}

/// Runs `f` on two disjoint parts of buffer `slot`, of `a_len` and `b_len`
/// values of `T`.
#[doc(hidden)]
pub fn with_two<T: Plain, R>(
    slot: Slot,
    a_len: usize,
    b_len: usize,
    f: impl FnOnce(&mut [T], &mut [T]) -> R,
) -> R {
    let per_line = 64 / core::mem::size_of::<T>();
    let a_lines = a_len.div_ceil(per_line);
    let b_lines = b_len.div_ceil(per_line);
    storage::with(slot, |buf: &mut Vec<Line>| {
        let need = a_lines + b_lines;
        if buf.len() < need {
            buf.resize(need, Line([0; 8]));
        }
        let (a_part, b_part) = buf.split_at_mut(a_lines);
        // SAFETY: `a_part` and `b_part` are disjoint, initialised (zeroed on
        // growth, then only ever holding the bits of `Plain` values) and
        // uniquely borrowed for the whole call of `f` (`storage::with` hands
        // out one `&mut` at a time). A `Line` is 64 bytes aligned to 64, so
        // `a_lines` lines hold `a_lines * per_line >= a_len` values of `T`,
        // whose size and alignment divide 64 and every bit pattern of which
        // is valid (`Plain`). The slices cannot outlive the borrow: `f` only
        // borrows them.
        let (a, b) = unsafe {
            (
                core::slice::from_raw_parts_mut(a_part.as_mut_ptr().cast::<T>(), a_len),
                core::slice::from_raw_parts_mut(b_part.as_mut_ptr().cast::<T>(), b_len),
            )
        };
        f(a, b)
    })
}

#[cfg(feature = "std")]
mod storage {
    use super::{Line, SLOTS, Slot};
    use alloc::vec::Vec;
    use core::cell::RefCell;

    std::thread_local! {
        static BUFFERS: [RefCell<Vec<Line>>; SLOTS] =
            const { [RefCell::new(Vec::new()), RefCell::new(Vec::new()), RefCell::new(Vec::new())] };
    }

    pub(super) fn with<R>(slot: Slot, f: impl FnOnce(&mut Vec<Line>) -> R) -> R {
        BUFFERS.with(|buffers| {
            let mut buffer = buffers[slot as usize]
                .try_borrow_mut()
                .unwrap_or_else(|_| panic!("scratch buffer {slot:?} used again from inside its own use"));
            f(&mut buffer)
        })
    }
}

#[cfg(not(feature = "std"))]
mod storage {
    use super::{Exclusive, Line, SLOTS, Slot};
    use alloc::vec::Vec;

    static BUFFERS: [Exclusive<Vec<Line>>; SLOTS] = [
        Exclusive::new(Vec::new()),
        Exclusive::new(Vec::new()),
        Exclusive::new(Vec::new()),
    ];

    pub(super) fn with<R>(slot: Slot, f: impl FnOnce(&mut Vec<Line>) -> R) -> R {
        BUFFERS[slot as usize].with(f)
    }
}

/// A value in a `static` that one caller at a time may use mutably: the
/// per-process scratch buffers of a core built without `std` (no threads,
/// no thread-locals). A second use while one is under way, from the same
/// stack or another thread, panics instead of aliasing.
#[cfg_attr(feature = "std", allow(dead_code))]
struct Exclusive<T> {
    busy: core::sync::atomic::AtomicBool,
    value: core::cell::UnsafeCell<T>,
}

// SAFETY: `with` gives out `&mut T` only while it holds `busy`, which it
// takes with a compare-exchange (so one caller at a time across threads)
// and releases when the borrow ends, so no two threads ever reach `T` at
// once; `T: Send` because the value may be used by a thread other than
// the one that used it before.
unsafe impl<T: Send> Sync for Exclusive<T> {}

#[cfg_attr(feature = "std", allow(dead_code))]
impl<T> Exclusive<T> {
    const fn new(value: T) -> Self {
        Exclusive {
            busy: core::sync::atomic::AtomicBool::new(false),
            value: core::cell::UnsafeCell::new(value),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
        if self.busy.compare_exchange(false, true, Acquire, Relaxed).is_err() {
            panic!(
                "a scratch buffer was used from two places at once: specc-core without \
                 its `std` feature runs on one thread"
            );
        }
        struct Done<'a>(&'a core::sync::atomic::AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Release);
            }
        }
        let _done = Done(&self.busy);
        // SAFETY: `busy` was false and is now ours (the compare-exchange
        // above), so no other `&mut T` exists until `_done` releases it,
        // after `f` returns or unwinds; `f` cannot keep the borrow.
        f(unsafe { &mut *self.value.get() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_keeps_its_contents_and_grows_on_demand() {
        with::<f32, _>(Slot::Task, 100, |v| v.fill(3.0));
        with::<f32, _>(Slot::Task, 100, |v| assert!(v.iter().all(|&x| x == 3.0)));
        with::<f64, _>(Slot::Task, 10_000, |v| {
            assert_eq!(v.len(), 10_000);
            assert_eq!(v.as_ptr() as usize % 64, 0);
        });
    }

    #[test]
    fn two_parts_are_disjoint_and_other_slots_nest() {
        with_two::<f32, _>(Slot::Pack, 17, 5, |a, b| {
            a.fill(1.0);
            b.fill(2.0);
            with::<f32, _>(Slot::Partials, 3, |c| c.fill(4.0));
            assert!(a.iter().all(|&x| x == 1.0) && b.iter().all(|&x| x == 2.0));
        });
    }

    #[test]
    #[should_panic(expected = "used again")]
    fn a_slot_used_inside_its_own_use_panics() {
        with::<f32, _>(Slot::Task, 4, |_| with::<f32, _>(Slot::Task, 4, |_| ()));
    }

    #[test]
    fn exclusive_gives_one_borrow_at_a_time_and_is_released_after_a_panic() {
        static CELL: Exclusive<Vec<u32>> = Exclusive::new(Vec::new());
        CELL.with(|v| v.push(1));
        let nested = std::panic::catch_unwind(|| CELL.with(|_| CELL.with(|v| v.push(2))));
        assert!(nested.is_err());
        // The panic released the flag: the value is usable again and the
        // inner borrow never ran.
        CELL.with(|v| assert_eq!(v, &[1]));
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..20 {
                        // Contention panics rather than aliasing.
                        let _ = std::panic::catch_unwind(|| CELL.with(|v| v.push(3)));
                    }
                });
            }
        });
        CELL.with(|v| assert!(v.len() > 1 && v.iter().skip(1).all(|&x| x == 3)));
    }
}
