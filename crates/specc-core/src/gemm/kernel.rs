//! Micro-kernels: `c (rows x cols) = alpha * a_panel * b_panel + beta * c`
//! for one MR x NR tile, from panels laid out by [`super::pack`].
//!
//! Every kernel has the signature [`KernelFn`] and this contract, which the
//! driver in `mod.rs` upholds and every `unsafe` block below relies on:
//!
//! * `kc >= 1`; `a` is valid for reads of `kc * MR` elements (one packed
//!   panel, padding included); `ldb >= NR` and, for every step `p < kc`,
//!   `b` is valid for reads of the `NR` elements `b[p * ldb..][..NR]` (a
//!   packed panel has `ldb == NR`; a full panel of a row-major `op(b)` may
//!   be read in place with `ldb` its row stride);
//! * `rows <= MR`, `cols <= NR`, and `c.add(i * rsc + j * csc)` is valid for
//!   reads and writes for every `i < rows`, `j < cols`, and aliases neither
//!   panel;
//! * for the SIMD kernels, the CPU supports the kernel's target features
//!   (checked with `is_x86_feature_detected!` before a kernel is selected).
//!
//! The AVX-512 kernels update edge tiles of a row-contiguous `c` with
//! masked loads and stores; the others go through a tile on the stack.
//!
//! `beta == 0` overwrites `c` without reading it, so NaN or infinity there
//! does not leak into the result.

use crate::Float;

/// A micro-kernel; see the module documentation for its safety contract.
pub(super) type KernelFn<T> = unsafe fn(
    kc: usize,
    alpha: T,
    a: *const T,
    b: *const T,
    ldb: usize,
    beta: T,
    c: *mut T,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
);

/// The portable kernel: plain loops over a fixed MR x NR accumulator that
/// LLVM unrolls and vectorises for whatever the target baseline offers.
///
/// # Safety
/// The module's kernel contract.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub(super) unsafe fn scalar<T: Float, const MR: usize, const NR: usize>(
    kc: usize,
    alpha: T,
    a: *const T,
    b: *const T,
    ldb: usize,
    beta: T,
    c: *mut T,
    rsc: usize,
    csc: usize,
    rows: usize,
    cols: usize,
) {
    // SAFETY: the contract makes `a` valid for `kc * MR` reads and `b` for
    // `(kc - 1) * ldb + NR` (kc >= 1); neither is written while these
    // shared slices live.
    let (a, b) = unsafe {
        (
            core::slice::from_raw_parts(a, kc * MR),
            core::slice::from_raw_parts(b, (kc - 1) * ldb + NR),
        )
    };
    let mut acc = [[T::ZERO; NR]; MR];
    for (p, ap) in a.chunks_exact(MR).enumerate() {
        let bp = &b[p * ldb..][..NR];
        for i in 0..MR {
            for j in 0..NR {
                acc[i][j] += ap[i] * bp[j];
            }
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            // SAFETY: i < rows and j < cols, so this element of `c` is valid
            // for reads and writes by the contract.
            unsafe {
                let d = c.add(i * rsc + j * csc);
                let x = alpha * acc[i][j];
                *d = if beta == T::ZERO { x } else { x + beta * *d };
            }
        }
    }
}

/// Defines an x86 SIMD kernel with `MR` rows of `NV` vectors of `LANES`
/// lanes: per step of `k`, `NV` loads of the `b` panel, `MR` broadcasts of
/// the `a` panel and `MR * NV` fused multiply-adds into accumulators that
/// stay in registers. Full tiles of a row-contiguous `c` are updated with
/// vector loads and stores; edge tiles go through a stack tile.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_kernel {
    ($name:ident, $t:ty, $feat:literal, $mr:expr, $nv:expr, $lanes:expr, $vt:ty,
     $zero:ident, $load:ident, $store:ident, $set1:ident, $fmadd:ident, $mul:ident
     $(, masked: $mt:ty, $mload:ident, $mstore:ident)?) => {
        /// # Safety
        /// The module's kernel contract, including CPU support for the
        /// features this function is compiled with.
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
        pub(super) unsafe fn $name(
            kc: usize,
            alpha: $t,
            a: *const $t,
            b: *const $t,
            ldb: usize,
            beta: $t,
            c: *mut $t,
            rsc: usize,
            csc: usize,
            rows: usize,
            cols: usize,
        ) {
            use core::arch::x86_64::*;
            const MR: usize = $mr;
            const NV: usize = $nv;
            const LANES: usize = $lanes;
            const NR: usize = NV * LANES;
            let mut acc: [[$vt; NV]; MR] = [[$zero(); NV]; MR];
            let mut ap = a;
            let mut bp = b;
            for _ in 0..kc {
                // SAFETY: at step p (< kc), `ap = a + p * MR` and
                // `bp = b + p * ldb`; the reads below touch `ap[0..MR]`,
                // inside the packed panel of `kc * MR` elements, and
                // `bp[0..NR]`, valid by the contract. Unaligned loads need no
                // alignment. `ap` ends at most one past its panel; `bp`
                // steps with `wrapping_add`, which is never out of bounds.
                unsafe {
                    let mut bv: [$vt; NV] = [$zero(); NV];
                    for v in 0..NV {
                        bv[v] = $load(bp.add(v * LANES));
                    }
                    for i in 0..MR {
                        let ai = $set1(*ap.add(i));
                        for v in 0..NV {
                            acc[i][v] = $fmadd(ai, bv[v], acc[i][v]);
                        }
                    }
                    ap = ap.add(MR);
                    bp = bp.wrapping_add(ldb);
                }
            }
            let alpha_v = $set1(alpha);
            if rows == MR && cols == NR && csc == 1 {
                let beta_v = $set1(beta);
                for i in 0..MR {
                    for v in 0..NV {
                        // SAFETY: a full tile with csc == 1: elements
                        // `c[i * rsc + v * LANES ..][..LANES]` have column
                        // indices below NR = cols, so they are valid (contract).
                        unsafe {
                            let d = c.add(i * rsc + v * LANES);
                            let x = $mul(acc[i][v], alpha_v);
                            let out = if beta == 0.0 {
                                x
                            } else {
                                $fmadd(beta_v, $load(d), x)
                            };
                            $store(d, out);
                        }
                    }
                }
            }
            $(
            else if csc == 1 {
                // An edge tile of a row-contiguous `c`: masked loads and
                // stores touch only the `cols` valid lanes of each row.
                let beta_v = $set1(beta);
                for i in 0..rows {
                    for v in 0..NV {
                        let valid = cols.saturating_sub(v * LANES).min(LANES);
                        if valid == 0 {
                            break;
                        }
                        let mask = ((1u32 << valid) - 1) as $mt;
                        // SAFETY: lanes `l < valid` address columns
                        // `v * LANES + l < cols` of row `i < rows`, valid
                        // elements of `c` (contract); masked-off lanes are
                        // neither read nor written (and cannot fault).
                        unsafe {
                            let d = c.add(i * rsc + v * LANES);
                            let x = $mul(acc[i][v], alpha_v);
                            let out = if beta == 0.0 { x } else { $fmadd(beta_v, $mload($zero(), mask, d), x) };
                            $mstore(d, mask, out);
                        }
                    }
                }
            }
            )?
            else {
                let mut tile = [0.0 as $t; MR * NR];
                for i in 0..MR {
                    for v in 0..NV {
                        // SAFETY: `i * NR + v * LANES + LANES <= MR * NR`, the
                        // length of the local `tile`.
                        unsafe {
                            $store(
                                tile.as_mut_ptr().add(i * NR + v * LANES),
                                $mul(acc[i][v], alpha_v),
                            )
                        };
                    }
                }
                for i in 0..rows {
                    for j in 0..cols {
                        // SAFETY: i < rows, j < cols: valid element of `c`
                        // (contract).
                        unsafe {
                            let d = c.add(i * rsc + j * csc);
                            let x = tile[i * NR + j];
                            *d = if beta == 0.0 { x } else { x + beta * *d };
                        }
                    }
                }
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_kernel!(
    f32_avx512,
    f32,
    "avx512f,avx2,fma",
    F32_AVX512_MR,
    2,
    16,
    __m512,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_mul_ps,
    masked: __mmask16,
    _mm512_mask_loadu_ps,
    _mm512_mask_storeu_ps
);
#[cfg(target_arch = "x86_64")]
simd_kernel!(
    f32_avx2,
    f32,
    "avx2,fma",
    6,
    2,
    8,
    __m256,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_mul_ps
);
#[cfg(target_arch = "x86_64")]
simd_kernel!(
    f64_avx512,
    f64,
    "avx512f,avx2,fma",
    F64_AVX512_MR,
    2,
    8,
    __m512d,
    _mm512_setzero_pd,
    _mm512_loadu_pd,
    _mm512_storeu_pd,
    _mm512_set1_pd,
    _mm512_fmadd_pd,
    _mm512_mul_pd,
    masked: __mmask8,
    _mm512_mask_loadu_pd,
    _mm512_mask_storeu_pd
);
#[cfg(target_arch = "x86_64")]
simd_kernel!(
    f64_avx2,
    f64,
    "avx2,fma",
    6,
    2,
    4,
    __m256d,
    _mm256_setzero_pd,
    _mm256_loadu_pd,
    _mm256_storeu_pd,
    _mm256_set1_pd,
    _mm256_fmadd_pd,
    _mm256_mul_pd
);

/// Rows of the AVX-512 f32 tile (its width is 32).
#[cfg(target_arch = "x86_64")]
pub(super) const F32_AVX512_MR: usize = 8;
/// Rows of the AVX-512 f64 tile (its width is 16).
#[cfg(target_arch = "x86_64")]
pub(super) const F64_AVX512_MR: usize = 8;

/// `c = alpha * a * b^T + beta * c` by dot products, for `a` (`m x k`, row
/// stride `lda`) and `b` (`n x k`, row stride `ldb`) both contiguous along
/// `k`: no packing, which pays when `k` is long and `m` or `n` small (a
/// convolution's weight gradient, `32 x 676 x 9`).
///
/// # Safety
/// `k >= 1`; `a[i * lda + p]` and `b[j * ldb + p]` are readable for `i < m`,
/// `j < n`, `p < k`; `c[i * ldc + j]` is readable and writable for `i < m`,
/// `j < n` and overlaps neither; the CPU supports AVX-512F, AVX2 and FMA.
pub(super) type DotFn<T> = unsafe fn(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    lda: usize,
    b: *const T,
    ldb: usize,
    beta: T,
    c: *mut T,
    ldc: usize,
);

/// The AVX-512 [`DotFn`] for f32: blocks of 4 rows of `a` by 3 rows of `b`
/// (12 accumulators of 16 lanes), the last rows of `a` one at a time
/// against 8 rows of `b` (a matrix-vector product: batch-1 inference);
/// a masked tail along `k`. Each element of `c` is one 16-lane chain of
/// FMAs over `k` in order, then a horizontal sum, whatever the blocking.
///
/// # Safety
/// See [`DotFn`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn f32_dot_nt_avx512(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    let full = m / 4 * 4;
    // SAFETY: the contract, for rows 0..full and full..m of `a` and `c`.
    unsafe {
        f32_dot_rows::<4, 3>(0, full, k, n, alpha, a, lda, b, ldb, beta, c, ldc);
        f32_dot_rows::<1, 8>(full, m, k, n, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}

/// Rows `rows_from..rows_to` of [`f32_dot_nt_avx512`] in blocks of `RA`
/// rows of `a` by `RB` rows of `b`.
///
/// # Safety
/// See [`DotFn`] (for rows up to `rows_to <= m`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
unsafe fn f32_dot_rows<const RA: usize, const RB: usize>(
    rows_from: usize,
    rows_to: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: *const f32,
    lda: usize,
    b: *const f32,
    ldb: usize,
    beta: f32,
    c: *mut f32,
    ldc: usize,
) {
    use core::arch::x86_64::*;
    let k16 = k / 16 * 16;
    let tail = ((1u32 << (k - k16)) - 1) as __mmask16;
    for i0 in (rows_from..rows_to).step_by(RA) {
        let mi = RA.min(rows_to - i0);
        // Rows past the end repeat the last valid row: reads stay in bounds
        // and their sums are discarded.
        let ar: [*const f32; RA] = core::array::from_fn(|r| a.wrapping_add((i0 + r.min(mi - 1)) * lda));
        for j0 in (0..n).step_by(RB) {
            let nj = RB.min(n - j0);
            let br: [*const f32; RB] = core::array::from_fn(|s| b.wrapping_add((j0 + s.min(nj - 1)) * ldb));
            let mut acc = [[_mm512_setzero_ps(); RB]; RA];
            let mut p = 0;
            while p < k16 {
                // SAFETY: rows i0 + min(r, mi - 1) < m and j0 + min(s, nj - 1)
                // < n, columns p..p + 16 <= k16 <= k: readable (contract).
                unsafe {
                    let av: [__m512; RA] = core::array::from_fn(|r| _mm512_loadu_ps(ar[r].add(p)));
                    for s in 0..RB {
                        let bv = _mm512_loadu_ps(br[s].add(p));
                        for r in 0..RA {
                            acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
                        }
                    }
                }
                p += 16;
            }
            if k16 < k {
                // SAFETY: as above for the `k - k16` lanes the mask keeps;
                // masked-off lanes are not read and cannot fault.
                unsafe {
                    let av: [__m512; RA] =
                        core::array::from_fn(|r| _mm512_maskz_loadu_ps(tail, ar[r].add(k16)));
                    for s in 0..RB {
                        let bv = _mm512_maskz_loadu_ps(tail, br[s].add(k16));
                        for r in 0..RA {
                            acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
                        }
                    }
                }
            }
            for r in 0..mi {
                for s in 0..nj {
                    let x = alpha * _mm512_reduce_add_ps(acc[r][s]);
                    // SAFETY: i0 + r < m, j0 + s < n: a valid element of `c`.
                    unsafe {
                        let d = c.add((i0 + r) * ldc + j0 + s);
                        *d = if beta == 0.0 { x } else { x + beta * *d };
                    }
                }
            }
        }
    }
}
