//! The direct scheme for a single input channel at stride 1 (the first
//! layer of an image model): the im2col matrix of such a layer is only
//! `kernel_h * kernel_w` rows deep, and a product that thin keeps a GEMM
//! micro-kernel loading and storing its tile for a handful of FMAs. Here
//! each output row of four filters is accumulated in eight AVX-512
//! registers (two 16-column vectors per filter) over every tap, each input
//! vector loaded once per tap and shared by the four filters.
//!
//! Only `f32` on AVX-512; every other case takes im2col and the GEMM.

use super::Conv2dShape;
use crate::Element;
use crate::simd::selected_kernel;

/// Output columns one pass of the kernel covers (two AVX-512 vectors).
pub(super) const COLUMNS: usize = 32;

/// Filters one pass of the kernel covers.
#[cfg(target_arch = "x86_64")]
const FILTERS: usize = 4;

/// Whether the forward pass of `s` on `F` takes the direct scheme here.
pub(super) fn applies<F: Element>(s: &Conv2dShape) -> bool {
    s.channels == 1
        && s.stride_h == 1
        && s.stride_w == 1
        && core::any::TypeId::of::<F>() == core::any::TypeId::of::<f32>()
        && selected_kernel().has_avx512()
        && crate::simd::selected_precision() == crate::Precision::F32
}

/// The zero-padded input plane the kernel reads: `out_h + kernel_h - 1`
/// rows of [`padded_width`] values.
pub(super) const fn padded_len(s: &Conv2dShape) -> usize {
    (s.out_h + s.kernel_h - 1) * padded_width(s)
}

/// Output columns rounded up to whole [`COLUMNS`] passes, plus the
/// `kernel_w - 1` columns the last pass's taps reach.
const fn padded_width(s: &Conv2dShape) -> usize {
    s.out_w.div_ceil(COLUMNS) * COLUMNS + s.kernel_w - 1
}

/// Writes `x` (one single-channel sample) into `plane` at its padding
/// offsets, zeros around it; rows and columns no output reads are dropped.
pub(super) fn pad<F: Element>(s: &Conv2dShape, x: &[F], plane: &mut [F]) {
    let (pw, rows_out) = (padded_width(s), s.out_h + s.kernel_h - 1);
    let plane = &mut plane[..padded_len(s)];
    plane.fill(F::ZERO);
    let rows = s.height.min(rows_out.saturating_sub(s.pad_top));
    let cols = s.width.min(pw.saturating_sub(s.pad_left));
    for (r, src) in x[..s.height * s.width]
        .chunks_exact(s.width)
        .take(rows)
        .enumerate()
    {
        let at = (r + s.pad_top) * pw + s.pad_left;
        plane[at..at + cols].copy_from_slice(&src[..cols]);
    }
}

/// `y = conv(plane) + bias` for the `y.len() / out_positions` filters whose
/// weight rows and biases start `weight` and `bias`. Each output is an FMA
/// chain over the taps in im2col order, then the bias: what the GEMM path
/// computes. Returns `false`, doing nothing, where [`applies`] does not hold.
// Off x86-64 the kernel never applies, and the views are unused.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables))]
pub(super) fn forward<F: Element>(
    s: &Conv2dShape,
    weight: &[F],
    bias: Option<&[F]>,
    plane: &[F],
    y: &mut [F],
) -> bool {
    if !applies::<F>(s) {
        return false;
    }
    let positions = s.out_positions();
    let filters = y.len() / positions;
    let taps = s.patch_len();
    assert!(
        plane.len() >= padded_len(s) && weight.len() >= filters * taps && y.len() == filters * positions,
        "direct convolution: slices too short"
    );
    assert!(
        bias.is_none_or(|b| b.len() >= filters),
        "direct convolution: bias too short"
    );
    // SAFETY (both): `applies` checked that `F` is `f32` (the same
    // `TypeId`), so these are the slices viewed at their own type.
    let (weight, plane) = unsafe { (as_f32(weight), as_f32(plane)) };
    let bias = bias.map(|b| unsafe { as_f32(b) });
    let y = unsafe { as_f32_mut(y) };
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `applies` checked that the selected kernel is AVX-512, which
    // `selected_kernel` returns only when the CPU has avx512f, avx2 and fma;
    // the slice lengths the kernel relies on are asserted above.
    unsafe {
        forward_avx512(s, weight, bias, plane, y)
    };
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("the AVX-512 kernel is never selected off x86-64");
    #[cfg(target_arch = "x86_64")]
    true
}

/// `v` as `f32`.
///
/// # Safety
/// `F` is `f32`.
unsafe fn as_f32<F: Element>(v: &[F]) -> &[f32] {
    // SAFETY: `F` is `f32` (the caller's contract): same size, alignment
    // and validity, so this is `v` itself.
    unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<f32>(), v.len()) }
}

/// `v` as `f32`, mutably.
///
/// # Safety
/// `F` is `f32`.
unsafe fn as_f32_mut<F: Element>(v: &mut [F]) -> &mut [f32] {
    // SAFETY: as in `as_f32`; the unique borrow moves to the result.
    unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<f32>(), v.len()) }
}

/// See [`forward`].
///
/// # Safety
/// The CPU has AVX-512F, AVX2 and FMA; `plane` holds [`padded_len`]
/// values, `weight` `filters * patch_len`, `bias` (if any) `filters`, and
/// `y` exactly `filters * out_positions`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn forward_avx512(
    s: &Conv2dShape,
    weight: &[f32],
    bias: Option<&[f32]>,
    plane: &[f32],
    y: &mut [f32],
) {
    use core::arch::x86_64::*;
    let (kh, kw, taps) = (s.kernel_h, s.kernel_w, s.patch_len());
    let (out_w, pw, positions) = (s.out_w, padded_width(s), s.out_positions());
    let filters = y.len() / positions;
    for f0 in (0..filters).step_by(FILTERS) {
        let count = FILTERS.min(filters - f0);
        // A last, partial block repeats its last filter; those sums are dropped.
        let rows: [&[f32]; FILTERS] = core::array::from_fn(|f| {
            let f = (f0 + f).min(filters - 1);
            &weight[f * taps..(f + 1) * taps]
        });
        for oy in 0..s.out_h {
            for c0 in (0..out_w).step_by(COLUMNS) {
                let mut acc = [[_mm512_setzero_ps(); 2]; FILTERS];
                for i in 0..kh {
                    let row = &plane[(oy + i) * pw + c0..];
                    for j in 0..kw {
                        // In bounds: (oy + i) < out_h + kh - 1 rows, and
                        // c0 + j + 32 <= padded_width by its construction.
                        let x = &row[j..j + COLUMNS];
                        // SAFETY: `x` holds 32 values; unaligned loads.
                        let (x0, x1) =
                            unsafe { (_mm512_loadu_ps(x.as_ptr()), _mm512_loadu_ps(x.as_ptr().add(16))) };
                        let tap = i * kw + j;
                        for (a, w) in acc.iter_mut().zip(&rows) {
                            let w = _mm512_set1_ps(w[tap]);
                            a[0] = _mm512_fmadd_ps(w, x0, a[0]);
                            a[1] = _mm512_fmadd_ps(w, x1, a[1]);
                        }
                    }
                }
                for (f, a) in acc.iter().enumerate().take(count) {
                    let b = _mm512_set1_ps(bias.map_or(0.0, |b| b[f0 + f]));
                    for (v, &a) in a.iter().enumerate() {
                        let col = c0 + 16 * v;
                        if col >= out_w {
                            break;
                        }
                        let width = 16.min(out_w - col);
                        let at = (f0 + f) * positions + s.out_w * oy + col;
                        let out = &mut y[at..at + width];
                        // SAFETY: `out` holds `width` values; the mask
                        // writes exactly its first `width` lanes.
                        unsafe {
                            _mm512_mask_storeu_ps(
                                out.as_mut_ptr(),
                                ((1u32 << width) - 1) as __mmask16,
                                _mm512_add_ps(a, b),
                            )
                        };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Conv2dShape, forward as conv_forward};
    use crate::simd::{KernelKind, with_kernel};

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    /// `bias[f] + sum over taps` by the definition, in f64.
    fn reference(s: &Conv2dShape, batch: usize, x: &[f64], w: &[f64], bias: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; batch * s.output_len()];
        for b in 0..batch {
            for f in 0..s.filters {
                for oy in 0..s.out_h {
                    for ox in 0..s.out_w {
                        let mut acc = bias[f];
                        for i in 0..s.kernel_h {
                            for j in 0..s.kernel_w {
                                let (iy, ix) = (
                                    (oy + i) as isize - s.pad_top as isize,
                                    (ox + j) as isize - s.pad_left as isize,
                                );
                                if iy >= 0 && ix >= 0 && (iy as usize) < s.height && (ix as usize) < s.width {
                                    acc += w[(f * s.kernel_h + i) * s.kernel_w + j]
                                        * x[b * s.input_len() + iy as usize * s.width + ix as usize];
                                }
                            }
                        }
                        y[b * s.output_len() + (f * s.out_h + oy) * s.out_w + ox] = acc;
                    }
                }
            }
        }
        y
    }

    #[test]
    fn the_direct_scheme_matches_the_definition_and_the_gemm_path() {
        // Filter counts with a partial block of 4, widths on both sides of
        // the 16- and 32-column vectors, every kind of padding.
        let mut checked = 0;
        for (filters, height, width, kernel, pad) in [
            (7, 13, 20, 3, 1),
            (32, 28, 28, 3, 0),
            (9, 6, 37, 5, 2),
            (1, 4, 4, 2, 0),
            (5, 9, 16, 1, 0),
        ] {
            for (pad_top, pad_left, extra) in [(pad, pad, 0), (0, pad, 1), (pad, 0, 1)] {
                let s = Conv2dShape {
                    channels: 1,
                    height,
                    width,
                    filters,
                    kernel_h: kernel,
                    kernel_w: kernel,
                    stride_h: 1,
                    stride_w: 1,
                    pad_top,
                    pad_left,
                    out_h: height + pad_top + extra - kernel + 1,
                    out_w: width + pad_left + pad - kernel + 1,
                };
                for batch in [1, 3] {
                    let x = data(batch * s.input_len(), 140 + checked);
                    let w = data(filters * s.patch_len(), 141 + checked);
                    let bias = data(filters, 142 + checked);
                    let f32s = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<f32>>();
                    let (x32, w32, b32) = (f32s(&x), f32s(&w), f32s(&bias));
                    let run = |kind: KernelKind| {
                        let mut y = vec![f32::NAN; batch * s.output_len()];
                        with_kernel(kind, || {
                            assert_eq!(super::applies::<f32>(&s), kind.has_avx512());
                            conv_forward(&s, batch, &x32, &w32, Some(&b32), &mut y, |_| {});
                        });
                        y
                    };
                    let expected = reference(&s, batch, &x, &w, &bias);
                    for kind in KernelKind::ALL.into_iter().filter(|k| k.is_supported()) {
                        for (k, (got, want)) in run(kind).iter().zip(&expected).enumerate() {
                            assert!(
                                (f64::from(*got) - want).abs() < 1e-5,
                                "{} [{k}]: {got} vs {want} for {s:?}",
                                kind.name()
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
}
