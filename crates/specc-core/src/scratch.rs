//! The kernels' scratch buffers: im2col matrices, partial sums per chunk of
//! the batch and the GEMM's packed panels; and the 64-byte [`Line`]s that
//! a caller-owned workspace is made of.
//!
//! Each [`Slot`] is one buffer of [`Line`]s, viewed as the scalar type a
//! kernel needs. With the `alloc` feature buffers grow on demand (when a
//! call needs more than any call before), so repeated calls of the same
//! shapes allocate nothing; with `std` there is one set per thread
//! (`thread_local!`), so the worker pool's tasks never share one, and
//! without it one set per process, each slot guarded by an `Exclusive`
//! flag ([`crate::sync::Exclusive`]). Without `alloc` nothing is allocated: the caller lends the memory
//! for a call with [`lend`], sized by the [`Need`] the kernels' `*_need`
//! functions compute at compile time.

#[cfg(not(feature = "std"))]
use crate::sync::Exclusive;

/// 64 bytes, aligned to 64: the unit scratch buffers and workspaces are
/// made of, so that every view starts on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub struct Line([u64; 8]);

impl Line {
    /// A line of zero bytes (a static workspace starts as these).
    pub const ZERO: Line = Line([0; 8]);
}

impl core::fmt::Debug for Line {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Line")
    }
}

/// The lines that hold `len` values of `T`.
pub const fn lines<T>(len: usize) -> usize {
    len.div_ceil(64 / core::mem::size_of::<T>())
}

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

/// The lines of scratch a set of kernel calls needs in each [`Slot`]: what
/// [`lend`] must be given. Kernels that use scratch have a `const fn`
/// giving theirs (e.g. [`crate::conv::forward_need`]); a model's is the
/// [`max`](Need::max) over its calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Need {
    pub task: usize,
    pub partials: usize,
    pub pack: usize,
}

impl Need {
    /// No scratch.
    pub const NONE: Need = Need {
        task: 0,
        partials: 0,
        pack: 0,
    };

    /// Enough for the calls of both (which never run at once).
    pub const fn max(self, other: Need) -> Need {
        const fn max(a: usize, b: usize) -> usize {
            if a > b { a } else { b }
        }
        Need {
            task: max(self.task, other.task),
            partials: max(self.partials, other.partials),
            pack: max(self.pack, other.pack),
        }
    }

    /// The lines of all slots together.
    pub const fn lines(self) -> usize {
        self.task + self.partials + self.pack
    }
}

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
// SAFETY: u32 is 4 bytes, aligned to 4, and every bit pattern is a number.
unsafe impl Plain for u32 {}

/// `lines` viewed as its first `len` values of `T`.
///
/// # Panics
/// If `lines` holds fewer than `len` values of `T`.
fn view<T: Plain>(lines: &mut [Line], len: usize) -> &mut [T] {
    assert!(
        lines.len() >= self::lines::<T>(len),
        "scratch: {len} values need {} lines, the buffer has {}",
        self::lines::<T>(len),
        lines.len()
    );
    // SAFETY: `lines` is initialised memory (a `Line` is plain bytes, and
    // only the bits of `Plain` values are ever written through views) that
    // is uniquely borrowed for the returned lifetime; it starts on a
    // 64-byte boundary and holds at least `len` values of `T` (checked
    // above), whose size and alignment divide 64 and every bit pattern of
    // which is valid (`Plain`).
    unsafe { core::slice::from_raw_parts_mut(lines.as_mut_ptr().cast::<T>(), len) }
}

/// Typed buffers cut one after another from a caller's [`Line`]s: a
/// generated model's workspace without an allocator.
pub struct Carve<'a> {
    rest: &'a mut [Line],
}

impl<'a> Carve<'a> {
    pub fn new(lines: &'a mut [Line]) -> Self {
        Carve { rest: lines }
    }

    /// The next `len` values, as `T`, starting on a fresh line.
    ///
    /// # Panics
    /// If fewer lines are left than `len` values need.
    pub fn take<T: Plain>(&mut self, len: usize) -> &'a mut [T] {
        let rest = core::mem::take(&mut self.rest);
        let n = lines::<T>(len).min(rest.len());
        let (head, tail) = rest.split_at_mut(n);
        self.rest = tail;
        view(head, len)
    }

    /// The lines not taken.
    pub fn rest(self) -> &'a mut [Line] {
        self.rest
    }
}

/// Runs `f` on buffer `slot`, viewed as `len` values of `T` (contents
/// unspecified: whatever an earlier call left).
///
/// # Panics
/// If `slot` is already in use further up the stack (or, without `std`, on
/// another thread); without `alloc`, if the memory lent is too small.
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
    let a_lines = lines::<T>(a_len);
    let need = a_lines + lines::<T>(b_len);
    storage::with(slot, need, |buf: &mut [Line]| {
        let (a_part, b_part) = buf.split_at_mut(a_lines);
        f(view(a_part, a_len), view(b_part, b_len))
    })
}

/// Runs `f` with `memory` as the kernels' scratch, split into the slots'
/// parts as `need` says. Without the `alloc` feature the kernels have no
/// other scratch: one called outside `lend`, or needing more than `need`,
/// panics. With `alloc` they use their own buffers and `memory` is unused,
/// so that code written for either builds with both.
///
/// # Panics
/// If `memory` is shorter than `need.lines()`, or (without `alloc`) if
/// called again inside `f`.
pub fn lend<R>(memory: &mut [Line], need: Need, f: impl FnOnce() -> R) -> R {
    assert!(
        memory.len() >= need.lines(),
        "scratch: {} lines lent, {} needed",
        memory.len(),
        need.lines()
    );
    storage::lend(memory, need, f)
}

#[cfg(feature = "std")]
mod storage {
    use super::{Line, Need, SLOTS, Slot};
    use alloc::vec::Vec;
    use core::cell::RefCell;

    std::thread_local! {
        static BUFFERS: [RefCell<Vec<Line>>; SLOTS] =
            const { [RefCell::new(Vec::new()), RefCell::new(Vec::new()), RefCell::new(Vec::new())] };
    }

    pub(super) fn with<R>(slot: Slot, lines: usize, f: impl FnOnce(&mut [Line]) -> R) -> R {
        BUFFERS.with(|buffers| {
            let mut buffer = buffers[slot as usize]
                .try_borrow_mut()
                .unwrap_or_else(|_| panic!("scratch buffer {slot:?} used again from inside its own use"));
            if buffer.len() < lines {
                buffer.resize(lines, Line::ZERO);
            }
            f(&mut buffer[..lines])
        })
    }

    pub(super) fn lend<R>(_: &mut [Line], _: Need, f: impl FnOnce() -> R) -> R {
        f()
    }
}

#[cfg(all(feature = "alloc", not(feature = "std")))]
mod storage {
    use super::{Exclusive, Line, Need, SLOTS, Slot};
    use alloc::vec::Vec;

    static BUFFERS: [Exclusive<Vec<Line>>; SLOTS] = [
        Exclusive::new(Vec::new()),
        Exclusive::new(Vec::new()),
        Exclusive::new(Vec::new()),
    ];

    pub(super) fn with<R>(slot: Slot, lines: usize, f: impl FnOnce(&mut [Line]) -> R) -> R {
        BUFFERS[slot as usize].with(|buffer| {
            if buffer.len() < lines {
                buffer.resize(lines, Line::ZERO);
            }
            f(&mut buffer[..lines])
        })
    }

    pub(super) fn lend<R>(_: &mut [Line], _: Need, f: impl FnOnce() -> R) -> R {
        f()
    }
}

#[cfg(not(feature = "alloc"))]
mod storage {
    use super::{Exclusive, Line, Need, SLOTS, Slot};

    /// Memory lent by `lend` for one slot: where it starts and its lines.
    #[derive(Clone, Copy)]
    struct Region(*mut Line, usize);

    // SAFETY: a `Region` is an address and a length; the memory it names
    // is only reached through `with`, under the slot's `Exclusive` flag.
    unsafe impl Send for Region {}

    const NONE: Region = Region(core::ptr::null_mut(), 0);
    static REGIONS: [Exclusive<Region>; SLOTS] =
        [Exclusive::new(NONE), Exclusive::new(NONE), Exclusive::new(NONE)];
    /// Held while memory is lent, so that lending cannot nest.
    static LENDING: Exclusive<()> = Exclusive::new(());

    pub(super) fn with<R>(slot: Slot, lines: usize, f: impl FnOnce(&mut [Line]) -> R) -> R {
        REGIONS[slot as usize].with(|region| {
            let Region(start, len) = *region;
            assert!(
                !start.is_null(),
                "specc-core without `alloc` has no scratch of its own: call the kernels inside \
                 scratch::lend"
            );
            assert!(
                lines <= len,
                "scratch {slot:?}: {lines} lines needed, {len} lent (a `Need` too small for this call)"
            );
            // SAFETY: `lend` set this region to `len` lines of the memory it
            // holds a unique borrow of for as long as the region is set (it
            // clears every region before it returns or unwinds), and the
            // regions of the three slots are disjoint. The slot's flag, held
            // for this whole call, lets one `&mut` to the region exist at a
            // time; `f` cannot keep it.
            f(unsafe { core::slice::from_raw_parts_mut(start, lines) })
        })
    }

    pub(super) fn lend<R>(memory: &mut [Line], need: Need, f: impl FnOnce() -> R) -> R {
        LENDING.with(|()| {
            let (task, rest) = memory.split_at_mut(need.task);
            let (partials, rest) = rest.split_at_mut(need.partials);
            let pack = &mut rest[..need.pack];
            for (slot, part) in [task, partials, pack].into_iter().enumerate() {
                REGIONS[slot].with(|region| *region = Region(part.as_mut_ptr(), part.len()));
            }
            struct Clear;
            impl Drop for Clear {
                fn drop(&mut self) {
                    for region in &REGIONS {
                        region.wait_with(|r| *r = NONE);
                    }
                }
            }
            let _clear = Clear;
            f()
        })
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
}
