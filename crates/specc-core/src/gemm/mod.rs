//! General matrix multiplication: the three products a dense or
//! convolutional layer needs ([`matmul_nn`], [`matmul_nt`], [`matmul_tn`]),
//! named after what they compute, on top of a project-owned blocked GEMM
//! ([`gemm`]). All matrices are row-major and contiguous.
//!
//! The GEMM follows the BLIS/Goto scheme: for each `NC`-wide block of
//! columns and `KC`-deep slice of the shared dimension, a block of `op(b)` is
//! packed into `NR`-wide panels; for each `MC`-tall block of rows, a block
//! of `op(a)` into `MR`-tall panels (`pack`); a register-blocked
//! `MR x NR` micro-kernel (`kernel`) then computes each tile of `c`.
//! Transposes are absorbed by the packing. Packing buffers are per thread
//! and only grow, so after the first call of a given size nothing is
//! allocated.
//!
//! The micro-kernel is chosen once per process from what the CPU supports
//! (AVX-512F, AVX2 with FMA, or portable loops); `SPECC_GEMM_KERNEL=scalar`,
//! `avx2`, `avx512` or `avx512bf16` forces one when the CPU supports it, and
//! [`kernel_name`] reports the choice.
//!
//! In [`Precision::Bf16`] (set with [`crate::simd::with_precision`]) the
//! f32 products round their operands to bfloat16 as they are packed and
//! accumulate in f32 ([`bf16`]): `vdpbf16ps` with AVX512-BF16, portable
//! loops that give the same bits otherwise.

pub mod bf16;
mod kernel;
mod pack;

use crate::scratch::{self, Need, Slot};
use crate::simd::selected_precision;
use crate::{Float, Precision, par};

#[cfg(feature = "std")]
pub use crate::simd::with_kernel;
pub use crate::simd::{KernelKind, selected_kernel};

/// `c (m x n) = a (m x k) * b^T`, where `b` is stored `n x k`
/// (a dense layer's forward pass: inputs times the transposed weight).
pub fn matmul_nt<F: Element>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    gemm(m, k, n, F::ONE, a, false, b, true, beta, c);
}

/// `c (m x n) = a (m x k) * b (k x n)`
/// (a dense layer's input gradient: output gradient times the weight).
pub fn matmul_nn<F: Element>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    gemm(m, k, n, F::ONE, a, false, b, false, beta, c);
}

/// `c (m x n) = a^T * b`, where `a` is stored `k x m` and `b` is `k x n`
/// (a dense layer's weight gradient: output gradient transposed times the input).
pub fn matmul_tn<F: Element>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    gemm(m, k, n, F::ONE, a, true, b, false, beta, c);
}

/// The name of the kernel [`gemm`] uses (see [`selected_kernel`]).
pub fn kernel_name() -> &'static str {
    selected_kernel().name()
}

/// The name of the kernel bf16 products use (see [`bf16`]).
pub fn bf16_kernel_name() -> &'static str {
    bf16::kernel_name(selected_kernel())
}

/// A micro-kernel with its tile and block sizes.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct KernelSpec<T> {
    mr: usize,
    nr: usize,
    mc: usize,
    kc: usize,
    nc: usize,
    func: kernel::KernelFn<T>,
    /// A dot-product path for `a * b^T` with long `k` and a thin result.
    dot: Option<kernel::DotFn<T>>,
    /// The bf16 product ([`Precision::Bf16`]), for f32.
    bf16: Option<Bf16Fn<T>>,
}

/// [`bf16::product`], typed for the scalar type that has one.
type Bf16Fn<T> =
    fn(KernelKind, Path, usize, usize, usize, T, Strided<'_, T>, Strided<'_, T>, T, &mut [T], usize);

/// The scalar types the GEMM is implemented for (`f32`, `f64`); sealed.
pub trait Element: Float + pack::Pack {
    #[doc(hidden)]
    fn spec(kind: KernelKind) -> KernelSpec<Self>;
}

impl Element for f32 {
    fn spec(kind: KernelKind) -> KernelSpec<f32> {
        match kind {
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx512 | KernelKind::Avx512Bf16 => KernelSpec {
                mr: kernel::F32_AVX512_MR,
                nr: 32,
                mc: 128,
                kc: 256,
                nc: 4096,
                func: kernel::f32_avx512,
                dot: Some(kernel::f32_dot_nt_avx512),
                bf16: Some(bf16::product),
            },
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx2 => KernelSpec {
                mr: 6,
                nr: 16,
                mc: 120,
                kc: 256,
                nc: 4096,
                func: kernel::f32_avx2,
                dot: None,
                bf16: Some(bf16::product),
            },
            _ => KernelSpec {
                mr: 4,
                nr: 8,
                mc: 128,
                kc: 256,
                nc: 4096,
                func: kernel::scalar::<f32, 4, 8>,
                dot: None,
                bf16: Some(bf16::product),
            },
        }
    }
}

impl Element for f64 {
    fn spec(kind: KernelKind) -> KernelSpec<f64> {
        match kind {
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx512 | KernelKind::Avx512Bf16 => KernelSpec {
                mr: kernel::F64_AVX512_MR,
                nr: 16,
                mc: 128,
                kc: 256,
                nc: 2048,
                func: kernel::f64_avx512,
                dot: None,
                bf16: None,
            },
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx2 => KernelSpec {
                mr: 6,
                nr: 8,
                mc: 120,
                kc: 256,
                nc: 2048,
                func: kernel::f64_avx2,
                dot: None,
                bf16: None,
            },
            _ => KernelSpec {
                mr: 4,
                nr: 4,
                mc: 128,
                kc: 256,
                nc: 2048,
                func: kernel::scalar::<f64, 4, 4>,
                dot: None,
                bf16: None,
            },
        }
    }
}

/// Bounds on every kernel's tile and block sizes (`mr`, `nr`, `mc`, `kc`,
/// `nc`), for [`need`]; a test checks each spec against them.
const MAX_BLOCKS: [usize; 5] = [8, 32, 128, 256, 4096];

/// The scratch a product of `m x k` by `k x n` needs (its packed panels),
/// whichever kernel and orientation runs it: a bound computed at compile
/// time, for memory lent with [`crate::scratch::lend`].
pub const fn need<T>(m: usize, k: usize, n: usize) -> Need {
    const fn min(a: usize, b: usize) -> usize {
        if a < b { a } else { b }
    }
    /// The packed panels of `op(a)` (`rows` deep) and `op(b)` (`cols`).
    const fn panels<T>(rows: usize, depth: usize, cols: usize) -> usize {
        let [mr, nr, mc, kc, nc] = MAX_BLOCKS;
        let depth = min(kc, depth);
        scratch::lines::<T>(min(mc, rows + mr) * depth) + scratch::lines::<T>(min(nc, cols + nr) * depth)
    }
    let (a, b) = (panels::<T>(m, k, n), panels::<T>(n, k, m));
    Need {
        pack: if a > b { a } else { b },
        ..Need::NONE
    }
}

/// `c = alpha * op(a) * op(b) + beta * c` over row-major matrices, where
/// `op` transposes when asked: `op(a)` is `m x k`, `op(b)` is `k x n`, `c` is
/// `m x n`. With `beta == 0`, `c` is overwritten and never read (NaN there
/// does not propagate). Uses [`selected_kernel`], and for f32 in
/// [`Precision::Bf16`] ([`crate::simd::with_precision`]) bf16 operands
/// ([`bf16`]).
#[allow(clippy::too_many_arguments)]
pub fn gemm<T: Element>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    transpose_a: bool,
    b: &[T],
    transpose_b: bool,
    beta: T,
    c: &mut [T],
) {
    gemm_with_kernel(
        selected_kernel(),
        m,
        k,
        n,
        alpha,
        a,
        transpose_a,
        b,
        transpose_b,
        beta,
        c,
    );
}

/// [`gemm`] with the given kernel, for tests and benchmarks.
///
/// Panics if the CPU does not support `kind`, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn gemm_with_kernel<T: Element>(
    kind: KernelKind,
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    transpose_a: bool,
    b: &[T],
    transpose_b: bool,
    beta: T,
    c: &mut [T],
) {
    assert!(
        a.len() >= m * k,
        "gemm: a has {} elements, needs {}",
        a.len(),
        m * k
    );
    assert!(
        b.len() >= k * n,
        "gemm: b has {} elements, needs {}",
        b.len(),
        k * n
    );
    assert!(
        c.len() >= m * n,
        "gemm: c has {} elements, needs {}",
        c.len(),
        m * n
    );
    assert!(
        kind.is_supported(),
        "gemm: this CPU cannot run the {} kernel",
        kind.name()
    );
    if m == 0 || n == 0 {
        return;
    }
    let c = &mut c[..m * n];
    if k == 0 || alpha == T::ZERO {
        for x in c.iter_mut() {
            *x = if beta == T::ZERO { T::ZERO } else { beta * *x };
        }
        return;
    }
    let spec = T::spec(kind);
    let bf16 = match selected_precision() {
        Precision::Bf16 => spec.bf16,
        Precision::F32 => None,
    };
    // Strides (row, column) of op(a), op(b) and c in their slices.
    let (rsa, csa) = if transpose_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if transpose_b { (1, k) } else { (n, 1) };
    // When n is small and m is not, computing c^T = op(b)^T op(a)^T wastes
    // less of the MR x NR tiles on padding (e.g. m = 32, n = 9).
    let padded = |rows: usize, cols: usize| rows.next_multiple_of(spec.mr) * cols.next_multiple_of(spec.nr);
    let path = if (spec.dot.is_some() || bf16.is_some())
        && !transpose_a
        && transpose_b
        && k >= DOT_MIN_K
        && m.min(n) < DOT_MAX_THIN
    {
        Path::Dot
    } else if 4 * padded(n, m) < 3 * padded(m, n) {
        Path::Transposed
    } else {
        Path::Blocked
    };
    let a = Strided {
        data: a,
        rs: rsa,
        cs: csa,
    };
    let b = Strided {
        data: b,
        rs: rsb,
        cs: csb,
    };
    // Large products are cut into blocks of rows of c (or of columns, for a
    // single row) computed on different threads. The path was chosen for
    // the whole product, and each element of c is computed by the same
    // operations in the same order whatever the cut, so the result does not
    // depend on the thread count.
    let align = if path == Path::Transposed {
        spec.nr
    } else {
        spec.mr
    };
    if m * k * n >= PARALLEL_MIN_MACS && m >= 2 * align && par::threads() > 1 {
        let rows = par::part_len(m, align, align);
        par::for_each_part(c.chunks_mut(rows * n), |part, c| {
            let (i0, rows) = (part * rows, c.len() / n);
            product(
                &spec,
                bf16,
                kind,
                path,
                rows,
                k,
                n,
                alpha,
                a.skip_rows(i0),
                b,
                beta,
                c,
                n,
            );
        });
    } else if m * k * n >= PARALLEL_MIN_MACS && m == 1 && n >= 2 * COLUMN_ALIGN && par::threads() > 1 {
        let cols = par::part_len(n, COLUMN_ALIGN, COLUMN_ALIGN);
        par::for_each_part(c.chunks_mut(cols), |part, c| {
            let j0 = part * cols;
            product(
                &spec,
                bf16,
                kind,
                path,
                1,
                k,
                c.len(),
                alpha,
                a,
                b.skip_columns(j0),
                beta,
                c,
                n,
            );
        });
    } else {
        product(&spec, bf16, kind, path, m, k, n, alpha, a, b, beta, c, n);
    }
}

/// Products with at least this many multiply-adds run on several threads.
const PARALLEL_MIN_MACS: usize = 1 << 16;

/// Column blocks of a one-row product are multiples of this.
const COLUMN_ALIGN: usize = 32;

/// How a product is computed; chosen once for the whole product.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// Dot products of rows of `a` and rows of `b` (`a * b^T`, thin result).
    Dot,
    /// The blocked GEMM on `c`.
    Blocked,
    /// The blocked GEMM on `c^T = op(b)^T op(a)^T`.
    Transposed,
}

/// A matrix in a slice: element `(i, j)` at `i * rs + j * cs`.
#[derive(Clone, Copy)]
struct Strided<'a, T> {
    data: &'a [T],
    rs: usize,
    cs: usize,
}

impl<'a, T> Strided<'a, T> {
    /// The matrix without its first `i` rows.
    fn skip_rows(self, i: usize) -> Self {
        Strided {
            data: &self.data[i * self.rs..],
            ..self
        }
    }

    /// The transposed matrix.
    fn transposed(self) -> Self {
        Strided {
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// The matrix without its first `j` columns.
    fn skip_columns(self, j: usize) -> Self {
        Strided {
            data: &self.data[j * self.cs..],
            ..self
        }
    }
}

/// `c = alpha * a * b + beta * c` on one thread along `path`, for
/// `m, k, n >= 1` and `alpha != 0`, `a` being `m x k`, `b` `k x n` and `c`
/// `m x n` with row stride `ldc`; in bf16 when `bf16` is given.
#[allow(clippy::too_many_arguments)]
fn product<T: Element>(
    spec: &KernelSpec<T>,
    bf16: Option<Bf16Fn<T>>,
    kind: KernelKind,
    path: Path,
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: Strided<'_, T>,
    b: Strided<'_, T>,
    beta: T,
    c: &mut [T],
    ldc: usize,
) {
    if let Some(bf16) = bf16 {
        return bf16(kind, path, m, k, n, alpha, a, b, beta, c, ldc);
    }
    match (path, spec.dot) {
        (Path::Dot, Some(dot)) => {
            // `a` is m x k and `b` is n x k (as b^T), both contiguous along k.
            assert!(a.cs == 1 && b.rs == 1);
            assert!((m - 1) * a.rs + k <= a.data.len() && (n - 1) * b.cs + k <= b.data.len());
            assert!((m - 1) * ldc + n <= c.len());
            // SAFETY (the `DotFn` contract): k >= 1; every a[i * lda + p]
            // and b[j * ldb + p] (i < m, j < n, p < k) is in its slice and
            // every c[i * ldc + j] in `c`, by the assertions above; `c` is a
            // unique borrow, so it overlaps neither. `spec` came from
            // `T::spec(kind)` with `kind.is_supported()` checked in
            // `gemm_with_kernel`, and only the AVX-512 spec has a `dot`.
            unsafe {
                dot(
                    m,
                    k,
                    n,
                    alpha,
                    a.data.as_ptr(),
                    a.rs,
                    b.data.as_ptr(),
                    b.cs,
                    beta,
                    c.as_mut_ptr(),
                    ldc,
                )
            };
        }
        (Path::Transposed, _) => blocked(
            spec, n, k, m, alpha, b.data, b.cs, b.rs, a.data, a.cs, a.rs, beta, c, 1, ldc,
        ),
        _ => blocked(
            spec, m, k, n, alpha, a.data, a.rs, a.cs, b.data, b.rs, b.cs, beta, c, ldc, 1,
        ),
    }
}

/// `a * b^T` goes through the dot-product path from this depth on, when
/// `m` or `n` is below [`DOT_MAX_THIN`].
const DOT_MIN_K: usize = 128;
/// See [`DOT_MIN_K`].
const DOT_MAX_THIN: usize = 33;

/// Up to this depth, full panels of a row-major `op(b)` are read in place
/// rather than packed: for thin products packing costs as much as it saves.
const DIRECT_B_MAX_K: usize = 64;

/// Nor for products of at most this many rows (a convolution with few
/// filters), where each packed panel would serve only a few tiles.
const DIRECT_B_MAX_M: usize = 32;

/// The blocked product for `m, k, n >= 1`, `alpha != 0`, with element
/// `(i, j)` of each matrix at `i * rs + j * cs` in its slice.
#[allow(clippy::too_many_arguments)]
fn blocked<T: Element>(
    spec: &KernelSpec<T>,
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: &[T],
    rsa: usize,
    csa: usize,
    b: &[T],
    rsb: usize,
    csb: usize,
    beta: T,
    c: &mut [T],
    rsc: usize,
    csc: usize,
) {
    // The kernels write c through raw pointers; this bound makes every
    // element (i < m, j < n) they are given an element of `c`.
    assert!((m - 1) * rsc + (n - 1) * csc < c.len());
    assert!((m - 1) * rsa + (k - 1) * csa < a.len() && (k - 1) * rsb + (n - 1) * csb < b.len());
    let (mr, nr) = (spec.mr, spec.nr);
    let direct_b = csb == 1 && (k <= DIRECT_B_MAX_K || m <= DIRECT_B_MAX_M);
    let a_len = spec.mc.min(m.next_multiple_of(mr)) * spec.kc.min(k);
    let b_len = spec.nc.min(n.next_multiple_of(nr)) * spec.kc.min(k);
    scratch::with_two(Slot::Pack, a_len, b_len, |a_pack: &mut [T], b_pack: &mut [T]| {
        for jc in (0..n).step_by(spec.nc) {
            let nc = spec.nc.min(n - jc);
            for pc in (0..k).step_by(spec.kc) {
                let kc = spec.kc.min(k - pc);
                let beta = if pc == 0 { beta } else { T::ONE };
                // Thin slices of a row-major op(b) are read in place: full
                // panels need no packing, only a partial last one does.
                let direct = direct_b;
                let full_panels = if direct { nc / nr } else { 0 };
                if full_panels * nr < nc {
                    let from = full_panels * nr;
                    pack::pack(
                        b_pack,
                        b,
                        pc * rsb + (jc + from) * csb,
                        nc - from,
                        kc,
                        csb,
                        rsb,
                        nr,
                    );
                }
                for ic in (0..m).step_by(spec.mc) {
                    let mc = spec.mc.min(m - ic);
                    pack::pack(a_pack, a, ic * rsa + pc * csa, mc, kc, rsa, csa, mr);
                    for jr in 0..nc.div_ceil(nr) {
                        let cols = nr.min(nc - jr * nr);
                        let (b_panel, ldb) = if jr < full_panels {
                            // SAFETY: the offset is the index of element
                            // (pc, jc + jr * nr) of op(b), in bounds by the
                            // assertion above.
                            (unsafe { b.as_ptr().add(pc * rsb + (jc + jr * nr) * csb) }, rsb)
                        } else {
                            // SAFETY: panel `jr - full_panels` of those
                            // `pack` wrote, in bounds as argued below.
                            (unsafe { b_pack.as_ptr().add((jr - full_panels) * kc * nr) }, nr)
                        };
                        for ir in 0..mc.div_ceil(mr) {
                            let rows = mr.min(mc - ir * mr);
                            // SAFETY (the kernel contract in `kernel`):
                            // `pack` filled `packed_len(mc, kc, mr)` =
                            // ceil(mc / mr) * mr * kc elements of `a_pack`
                            // (it panics if the slice were shorter), so panel
                            // `ir < ceil(mc / mr)` spans
                            // `ir * kc * mr .. (ir + 1) * kc * mr`, in bounds;
                            // likewise the packed panels of `b_pack` (read
                            // with ldb = nr). A panel read in place (jr <
                            // full_panels, csb == 1, ldb = rsb) covers
                            // elements (pc + p, jc + jr * nr + q) of op(b) for
                            // p < kc, q < nr, with row < k and column
                            // <= jc + nc - 1 < n, so in `b` by the assertion
                            // above. kc >= 1 since k >= 1. The tile's rows
                            // are `ic + ir * mr + i < m` for `i < rows` and its
                            // columns `jc + jr * nr + j < n` for `j < cols`, so
                            // by the assertion above every element the kernel
                            // touches lies in `c`, which is a unique borrow
                            // and thus aliases neither packing buffer. `spec`
                            // came from `T::spec(kind)` with `kind` checked by
                            // `is_supported` in `gemm_with_kernel`, so the CPU
                            // has the kernel's target features.
                            unsafe {
                                (spec.func)(
                                    kc,
                                    alpha,
                                    a_pack.as_ptr().add(ir * kc * mr),
                                    b_panel,
                                    ldb,
                                    beta,
                                    c.as_mut_ptr().add((ic + ir * mr) * rsc + (jc + jr * nr) * csc),
                                    rsc,
                                    csc,
                                    rows,
                                    cols,
                                );
                            }
                        }
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests;
