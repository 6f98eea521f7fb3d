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

use crate::Float;
use crate::scratch::Plain;

/// Number of elements `pack` writes: whole panels of `w` by `kc`.
pub(super) fn packed_len(len: usize, kc: usize, w: usize) -> usize {
    len.div_ceil(w) * w * kc
}

/// Packs the `len x kc` block whose element `(r, p)` is
/// `src[off + r * sw + p * sk]` into `out` in panels of `w` (see the module
/// documentation). Safe code: every index is bounds-checked or sliced.
#[allow(clippy::too_many_arguments)]
pub(super) fn pack<T: Pack>(
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
        if sw == 1 && ww == w && matches!(w, 4 | 8 | 16 | 32) {
            // Fixed-length copies, which compile to a few vector moves
            // instead of a call to `memcpy` per step.
            match w {
                4 => copy_steps::<T, 4>(panel, src, base, sk),
                8 => copy_steps::<T, 8>(panel, src, base, sk),
                16 => copy_steps::<T, 16>(panel, src, base, sk),
                _ => copy_steps::<T, 32>(panel, src, base, sk),
            }
        } else if sw == 1 {
            // The panel's `w` values of one step are contiguous in `src`.
            for (p, dst) in panel.chunks_exact_mut(w).enumerate() {
                let s = base + p * sk;
                dst[..ww].copy_from_slice(&src[s..s + ww]);
                dst[ww..].fill(T::ZERO);
            }
        } else {
            if sk == 1 && ww == w && T::pack_transposed(panel, src, base, sw, kc, w) {
                // A full panel transposed with SIMD shuffles.
            } else if sk == 1 {
                // Each of the panel's rows is contiguous along `k`.
                if ww < w {
                    panel.fill(T::ZERO);
                }
                for r in 0..ww {
                    let s = base + r * sw;
                    let row = &src[s..s + kc];
                    for (d, &x) in panel[r..].iter_mut().step_by(w).zip(row) {
                        *d = x;
                    }
                }
            } else {
                if ww < w {
                    panel.fill(T::ZERO);
                }
                for r in 0..ww {
                    let s = base + r * sw;
                    for p in 0..kc {
                        panel[p * w + r] = src[s + p * sk];
                    }
                }
            }
        }
    }
}

/// `panel[p * W..][..W] = src[base + p * sk..][..W]` for every step `p`.
fn copy_steps<T: Float, const W: usize>(panel: &mut [T], src: &[T], base: usize, sk: usize) {
    for (p, dst) in panel.chunks_exact_mut(W).enumerate() {
        let s = base + p * sk;
        let from: &[T; W] = src[s..s + W].try_into().expect("W elements");
        let to: &mut [T; W] = dst.try_into().expect("W elements");
        *to = *from;
    }
}

/// Scalar types with their own way of packing panels. Public but in a
/// private module: it seals [`super::Element`].
pub trait Pack: Float + Plain {
    /// Packs the full panel of `w` rows `src[base + r * sw..][..kc]` (each
    /// contiguous along `k`) into `panel` (`kc * w` elements, step-major),
    /// if this type has a fast way to; returns whether it did.
    fn pack_transposed(
        _panel: &mut [Self],
        _src: &[Self],
        _base: usize,
        _sw: usize,
        _kc: usize,
        _w: usize,
    ) -> bool {
        false
    }
}

impl Pack for f32 {
    // The fast path is x86-64 only; elsewhere the arguments go unused.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
    fn pack_transposed(panel: &mut [f32], src: &[f32], base: usize, sw: usize, kc: usize, w: usize) -> bool {
        #[cfg(target_arch = "x86_64")]
        if w.is_multiple_of(8) && kc >= 8 && crate::simd::KernelKind::Avx2.is_supported() {
            assert!(panel.len() == kc * w && base + (w - 1) * sw + kc <= src.len());
            let full = kc / 8 * 8;
            // SAFETY: AVX2 was detected just above. The reads are
            // `src[base + (rb + r) * sw + p0 + q]` for rb + r < w and
            // p0 + q < full <= kc, so the index is below
            // `base + (w - 1) * sw + kc <= src.len()` (asserted). The writes
            // are `panel[(p0 + q) * w + rb + r]`, below
            // `(full - 1) * w + w <= kc * w = panel.len()`. `panel` is a
            // unique borrow, so it does not overlap `src`.
            unsafe { transpose_panel_avx2(src.as_ptr().add(base), sw, panel.as_mut_ptr(), w, full) };
            for r in 0..w {
                for p in full..kc {
                    panel[p * w + r] = src[base + r * sw + p];
                }
            }
            return true;
        }
        false
    }
}

impl Pack for f64 {}

/// For every `rb < w` and `p0 < full`, both multiples of 8, transposes the
/// 8 x 8 block of rows `rb..rb + 8`, steps `p0..p0 + 8` of `src` (row `r`
/// at `src[r * sw..]`) into `dst[p0 * w + rb..]` (step `p` at `dst[p * w..]`).
///
/// # Safety
/// The CPU supports AVX2; `src[r * sw + p]` is readable for `r < w`,
/// `p < full`, `dst[p * w + r]` writable for the same, and they do not overlap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn transpose_panel_avx2(src: *const f32, sw: usize, dst: *mut f32, w: usize, full: usize) {
    for rb in (0..w).step_by(8) {
        for p0 in (0..full).step_by(8) {
            // SAFETY: the block's reads and writes are among those the
            // caller vouches for (rb + 8 <= w, p0 + 8 <= full).
            unsafe { transpose8x8_avx2(src.add(rb * sw + p0), sw, dst.add(p0 * w + rb), w) };
        }
    }
}

/// Writes the transpose of the 8 x 8 block of `f32` whose row `r` is
/// `src[r * sw..][..8]` to `dst`, row `q` at `dst[q * dw..][..8]`.
///
/// # Safety
/// The CPU supports AVX2; those 64 reads and 64 writes are in bounds and the
/// two blocks do not overlap.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn transpose8x8_avx2(src: *const f32, sw: usize, dst: *mut f32, dw: usize) {
    use core::arch::x86_64::*;
    // SAFETY: the reads and writes are exactly those the caller vouches for;
    // unaligned loads and stores need no alignment.
    unsafe {
        let r: [__m256; 8] = core::array::from_fn(|i| _mm256_loadu_ps(src.add(i * sw)));
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        _mm256_storeu_ps(dst, _mm256_permute2f128_ps::<0x20>(u0, u4));
        _mm256_storeu_ps(dst.add(dw), _mm256_permute2f128_ps::<0x20>(u1, u5));
        _mm256_storeu_ps(dst.add(2 * dw), _mm256_permute2f128_ps::<0x20>(u2, u6));
        _mm256_storeu_ps(dst.add(3 * dw), _mm256_permute2f128_ps::<0x20>(u3, u7));
        _mm256_storeu_ps(dst.add(4 * dw), _mm256_permute2f128_ps::<0x31>(u0, u4));
        _mm256_storeu_ps(dst.add(5 * dw), _mm256_permute2f128_ps::<0x31>(u1, u5));
        _mm256_storeu_ps(dst.add(6 * dw), _mm256_permute2f128_ps::<0x31>(u2, u6));
        _mm256_storeu_ps(dst.add(7 * dw), _mm256_permute2f128_ps::<0x31>(u3, u7));
    }
}
