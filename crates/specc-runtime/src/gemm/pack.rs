//! Packing of `op(a)` and `op(b)` blocks into the panel layout the
//! micro-kernels read, and the per-thread buffers the panels live in.
//!
//! A block of `len` rows of `op(a)` (or `len` columns of `op(b)`) by `kc`
//! steps of the shared dimension is cut into panels of `w` rows (`w` = MR
//! for `a`, NR for `b`). Panel `q` occupies `kc * w` consecutive elements
//! starting at `q * kc * w`; within it, step `p` holds the `w` values of
//! that step at `p * w .. (p + 1) * w`. A last, partial panel is padded
//! with zeros, so the kernels always compute full tiles and every element
//! they read was written here.

use std::cell::RefCell;

use crate::Float;

/// Number of elements `pack` writes: whole panels of `w` by `kc`.
pub(super) fn packed_len(len: usize, kc: usize, w: usize) -> usize {
    len.div_ceil(w) * w * kc
}

/// Packs the `len x kc` block whose element `(r, p)` is
/// `src[off + r * sw + p * sk]` into `out` in panels of `w` (see the module
/// documentation). Safe code: every index is bounds-checked or sliced.
#[allow(clippy::too_many_arguments)]
pub(super) fn pack<T: Float>(
    out: &mut [T],
    src: &[T],
    off: usize,
    len: usize,
    kc: usize,
    sw: usize,
    sk: usize,
    w: usize,
) {
    let out = &mut out[..packed_len(len, kc, w)];
    for (q, panel) in out.chunks_exact_mut(kc * w).enumerate() {
        let r0 = q * w;
        let ww = w.min(len - r0);
        let base = off + r0 * sw;
        if sw == 1 {
            // The panel's `w` values of one step are contiguous in `src`.
            for (p, dst) in panel.chunks_exact_mut(w).enumerate() {
                let s = base + p * sk;
                dst[..ww].copy_from_slice(&src[s..s + ww]);
                dst[ww..].fill(T::ZERO);
            }
        } else {
            if sk == 1 {
                // Each of the panel's rows is contiguous along `k`.
                for r in 0..ww {
                    let s = base + r * sw;
                    let row = &src[s..s + kc];
                    for (d, &x) in panel[r..].iter_mut().step_by(w).zip(row) {
                        *d = x;
                    }
                }
            } else {
                for r in 0..ww {
                    let s = base + r * sw;
                    for p in 0..kc {
                        panel[p * w + r] = src[s + p * sk];
                    }
                }
            }
            if ww < w {
                for dst in panel.chunks_exact_mut(w) {
                    dst[ww..].fill(T::ZERO);
                }
            }
        }
    }
}

/// 64 bytes, aligned to 64: the unit the packing buffers are made of, so
/// panels start on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u64; 8]);

thread_local! {
    /// This thread's packing buffers. They only grow (when a call needs more
    /// than any call before on this thread), so repeated calls of the same
    /// shapes allocate nothing.
    static BUFFERS: RefCell<Vec<Line>> = const { RefCell::new(Vec::new()) };
}

/// Scalar types the packing buffers may be viewed as. Public but in a
/// private module: it seals [`super::Element`].
///
/// # Safety
/// Implementors must be plain numbers for which every bit pattern is a valid
/// value, with an alignment dividing 64 and a size dividing 64.
pub unsafe trait Plain: Float {}
// SAFETY: f32 and f64 are 4 and 8 bytes, aligned to at most 8, and every bit
// pattern is some float (possibly NaN).
unsafe impl Plain for f32 {}
// SAFETY: as for f32.
unsafe impl Plain for f64 {}

/// Runs `f` with this thread's buffers viewed as two disjoint slices of
/// `a_len` and `b_len` elements, each starting on a 64-byte boundary.
///
/// Panics if called again from inside `f` (the GEMM never does).
pub(super) fn with_buffers<T: Plain, R>(
    a_len: usize,
    b_len: usize,
    f: impl FnOnce(&mut [T], &mut [T]) -> R,
) -> R {
    let per_line = 64 / std::mem::size_of::<T>();
    let a_lines = a_len.div_ceil(per_line);
    let b_lines = b_len.div_ceil(per_line);
    BUFFERS.with(|cell| {
        let mut buf = cell.borrow_mut();
        let need = a_lines + b_lines;
        if buf.len() < need {
            buf.resize(need, Line([0; 8]));
        }
        let (a_part, b_part) = buf.split_at_mut(a_lines);
        // SAFETY: `a_part` and `b_part` are disjoint, initialised (zeroed on
        // growth, then only ever holding float bits) and uniquely borrowed
        // through the `RefCell` guard for the whole call of `f`. A `Line` is
        // 64 bytes aligned to 64, so `a_lines` lines hold
        // `a_lines * per_line >= a_len` values of `T`, whose size and
        // alignment divide 64 and every bit pattern of which is valid
        // (`Plain`). The slices cannot outlive the guard: `f` only borrows them.
        let (a, b) = unsafe {
            (
                std::slice::from_raw_parts_mut(a_part.as_mut_ptr().cast::<T>(), a_len),
                std::slice::from_raw_parts_mut(b_part.as_mut_ptr().cast::<T>(), b_len),
            )
        };
        f(a, b)
    })
}
