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
//! `avx2` or `avx512` forces one when the CPU supports it, and
//! [`kernel_name`] reports the choice.

mod kernel;
mod pack;

use crate::scratch::{self, Slot};
use crate::{Float, par};

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
}

/// The scalar types the GEMM is implemented for (`f32`, `f64`); sealed.
pub trait Element: Float + pack::Pack {
    #[doc(hidden)]
    fn spec(kind: KernelKind) -> KernelSpec<Self>;
}

impl Element for f32 {
    fn spec(kind: KernelKind) -> KernelSpec<f32> {
        match kind {
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx512 => KernelSpec {
                mr: kernel::F32_AVX512_MR,
                nr: 32,
                mc: 128,
                kc: 256,
                nc: 4096,
                func: kernel::f32_avx512,
                dot: Some(kernel::f32_dot_nt_avx512),
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
            },
            _ => KernelSpec {
                mr: 4,
                nr: 8,
                mc: 128,
                kc: 256,
                nc: 4096,
                func: kernel::scalar::<f32, 4, 8>,
                dot: None,
            },
        }
    }
}

impl Element for f64 {
    fn spec(kind: KernelKind) -> KernelSpec<f64> {
        match kind {
            #[cfg(target_arch = "x86_64")]
            KernelKind::Avx512 => KernelSpec {
                mr: kernel::F64_AVX512_MR,
                nr: 16,
                mc: 128,
                kc: 256,
                nc: 2048,
                func: kernel::f64_avx512,
                dot: None,
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
            },
            _ => KernelSpec {
                mr: 4,
                nr: 4,
                mc: 128,
                kc: 256,
                nc: 2048,
                func: kernel::scalar::<f64, 4, 4>,
                dot: None,
            },
        }
    }
}

/// `c = alpha * op(a) * op(b) + beta * c` over row-major matrices, where
/// `op` transposes when asked: `op(a)` is `m x k`, `op(b)` is `k x n`, `c` is
/// `m x n`. With `beta == 0`, `c` is overwritten and never read (NaN there
/// does not propagate). Uses [`selected_kernel`].
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
    // Strides (row, column) of op(a), op(b) and c in their slices.
    let (rsa, csa) = if transpose_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if transpose_b { (1, k) } else { (n, 1) };
    // When n is small and m is not, computing c^T = op(b)^T op(a)^T wastes
    // less of the MR x NR tiles on padding (e.g. m = 32, n = 9).
    let padded = |rows: usize, cols: usize| rows.next_multiple_of(spec.mr) * cols.next_multiple_of(spec.nr);
    let path =
        if spec.dot.is_some() && !transpose_a && transpose_b && k >= DOT_MIN_K && m.min(n) < DOT_MAX_THIN {
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
            product(&spec, path, rows, k, n, alpha, a.skip_rows(i0), b, beta, c, n);
        });
    } else if m * k * n >= PARALLEL_MIN_MACS && m == 1 && n >= 2 * COLUMN_ALIGN && par::threads() > 1 {
        let cols = par::part_len(n, COLUMN_ALIGN, COLUMN_ALIGN);
        par::for_each_part(c.chunks_mut(cols), |part, c| {
            let j0 = part * cols;
            product(
                &spec,
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
        product(&spec, path, m, k, n, alpha, a, b, beta, c, n);
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
/// `m x n` with row stride `ldc`.
#[allow(clippy::too_many_arguments)]
fn product<T: Element>(
    spec: &KernelSpec<T>,
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
mod tests {
    use super::*;

    /// The obvious triple loop, the reference for the GEMM wrappers.
    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        c
    }

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn products_match_the_triple_loop_for_odd_shapes() {
        // Also: a dot-product product with 16 < m < 33 (31 x 300 x 40 as a
        // * b^T) and in-place panels of b past DIRECT_B_MAX_K (20 x 200 x 100).
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 5, 7),
            (17, 9, 33),
            (64, 1, 10),
            (2, 130, 3),
            (31, 300, 40),
            (20, 200, 100),
        ] {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let mut c = vec![0.0; m * n];

            // nn: a m x k, b k x n
            matmul_nn(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]));

            // nt: b stored n x k
            matmul_nt(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[i * k + p], |p, j| b[j * k + p]));

            // tn: a stored k x m
            matmul_tn(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[p * m + i], |p, j| b[p * n + j]));

            // accumulate adds to what is there
            let before = c.clone();
            matmul_tn(m, k, n, &a, &b, &mut c, true);
            let doubled: Vec<f64> = before.iter().map(|x| 2.0 * x).collect();
            close(&c, &doubled);
        }
    }

    #[test]
    fn parallel_products_are_identical_for_every_thread_count() {
        // Shapes above the parallel threshold for each path: rows split
        // (blocked, transposed, dot) and the one-row column split.
        let shapes = [
            (200, 70, 90),
            (64, 300, 9),
            (9, 300, 64),
            (130, 150, 33),
            (1, 600, 300),
            (1, 200, 700),
        ];
        for kind in KernelKind::ALL.into_iter().filter(|k| k.is_supported()) {
            for &(m, k, n) in &shapes {
                for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                    let a: Vec<f32> = data(m * k, 5).iter().map(|&x| x as f32).collect();
                    let b: Vec<f32> = data(k * n, 6).iter().map(|&x| x as f32).collect();
                    let run = |threads: usize| {
                        let mut c = vec![0.5f32; m * n];
                        crate::par::with_threads(threads, || {
                            gemm_with_kernel(kind, m, k, n, 1.0, &a, ta, &b, tb, 0.5, &mut c)
                        });
                        c
                    };
                    let one = run(1);
                    for threads in [2, 3] {
                        assert!(
                            run(threads) == one,
                            "{} {m}x{k}x{n} ta={ta} tb={tb}: {threads} threads differ from one",
                            kind.name()
                        );
                    }
                    let expected = naive(
                        m,
                        k,
                        n,
                        |i, p| f64::from(if ta { a[p * m + i] } else { a[i * k + p] }),
                        |p, j| f64::from(if tb { b[j * k + p] } else { b[p * n + j] }),
                    );
                    for (x, y) in one.iter().zip(&expected) {
                        assert!(
                            (f64::from(*x) - (y + 0.25)).abs() < 1e-3,
                            "{} {m}x{k}x{n}",
                            kind.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn f32_products_agree_with_f64() {
        let (m, k, n) = (31, 47, 19);
        let a = data(m * k, 3);
        let b = data(k * n, 4);
        let mut c64 = vec![0.0f64; m * n];
        matmul_nn(m, k, n, &a, &b, &mut c64, false);
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
        let mut c32 = vec![0.0f32; m * n];
        matmul_nn(m, k, n, &a32, &b32, &mut c32, false);
        for (x, y) in c32.iter().zip(&c64) {
            assert!((f64::from(*x) - y).abs() < 1e-4);
        }
    }

    #[test]
    #[should_panic(expected = "gemm: a has")]
    fn short_slices_are_refused() {
        let mut c = vec![0.0f32; 4];
        matmul_nn(2, 2, 2, &[1.0f32; 3], &[1.0; 4], &mut c, false);
    }

    /// The kernels this CPU can run.
    fn kernels() -> Vec<KernelKind> {
        KernelKind::ALL.into_iter().filter(|k| k.is_supported()).collect()
    }

    /// Checks `gemm_with_kernel` against the triple loop in f64 for one
    /// shape, transpose pair and alpha/beta, with `c` starting at `c0`.
    /// Tolerance: `tol * sqrt(k)` relative to the magnitude of the terms,
    /// `|alpha| * sum |a_ip b_pj| + |beta c_ij|`.
    #[allow(clippy::too_many_arguments)]
    fn check<T: Element>(
        kind: KernelKind,
        (m, k, n): (usize, usize, usize),
        ta: bool,
        tb: bool,
        alpha: f64,
        beta: f64,
        nan_c: bool,
        tol: f64,
    ) {
        let a = data(m * k, (m * 31 + k * 7 + n) as u64);
        let b = data(k * n, (n * 13 + k) as u64 + 99);
        let c0 = if nan_c {
            vec![f64::NAN; m * n]
        } else {
            data(m * n, 5)
        };
        let at = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
        let bt = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
        let cast = |v: &[f64]| v.iter().map(|&x| T::from_f64(x)).collect::<Vec<T>>();
        let (a_t, b_t) = (cast(&a), cast(&b));
        let mut c = cast(&c0);
        gemm_with_kernel(
            kind,
            m,
            k,
            n,
            T::from_f64(alpha),
            &a_t,
            ta,
            &b_t,
            tb,
            T::from_f64(beta),
            &mut c,
        );
        for i in 0..m {
            for j in 0..n {
                let (mut sum, mut mag) = (0.0, 0.0);
                for p in 0..k {
                    let x = T::from_f64(at(i, p)).to_f64() * T::from_f64(bt(p, j)).to_f64();
                    sum += x;
                    mag += x.abs();
                }
                let old = if beta == 0.0 {
                    0.0
                } else {
                    T::from_f64(c0[i * n + j]).to_f64()
                };
                let want = alpha * sum + beta * old;
                let scale = alpha.abs() * mag + (beta * old).abs();
                let got = c[i * n + j].to_f64();
                assert!(
                    (got - want).abs() <= tol * (k.max(1) as f64).sqrt() * scale.max(1e-30),
                    "{} {}x{}x{} ta={ta} tb={tb} alpha={alpha} beta={beta}: c[{i}][{j}] = {got}, want {want}",
                    kind.name(),
                    m,
                    k,
                    n
                );
            }
        }
    }

    /// Small and awkward shapes, then sizes past each blocking parameter.
    const SHAPES: &[(usize, usize, usize)] = &[
        (1, 1, 1),
        (1, 7, 1),
        (2, 3, 1),
        (1, 3, 5),
        (3, 5, 7),
        (7, 1, 9),
        (17, 9, 33),
        (64, 1, 10),
        (2, 130, 3),
        (33, 31, 65),
        (129, 17, 67), // m > MC
        (13, 600, 37), // k > KC (two full slices and a partial one)
        (5, 7, 4200),  // n > NC
        (9, 32, 50),   // thin m
        (40, 20, 9),   // thin n
        (40, 20, 3),   // thinner n: computed transposed
    ];

    fn all_cases<T: Element>(tol: f64) {
        for kind in kernels() {
            for &shape in SHAPES {
                for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                    check::<T>(kind, shape, ta, tb, 1.0, 0.0, true, tol);
                    check::<T>(kind, shape, ta, tb, 1.0, 1.0, false, tol);
                    check::<T>(kind, shape, ta, tb, -0.75, 0.5, false, tol);
                    check::<T>(kind, shape, ta, tb, 2.5, 0.0, false, tol);
                }
            }
        }
    }

    #[test]
    fn every_kernel_matches_the_triple_loop_in_f32() {
        all_cases::<f32>(1e-5);
    }

    #[test]
    fn every_kernel_matches_the_triple_loop_in_f64() {
        all_cases::<f64>(1e-14);
    }

    /// The shapes of the dense and convolutional layers of the example
    /// models, with the transposes they are called with.
    #[test]
    fn every_kernel_matches_the_triple_loop_on_layer_shapes() {
        let cases = [
            ((128, 784, 128), false, true),
            ((128, 128, 784), true, false),
            ((128, 128, 784), false, false),
            ((32, 9, 676), false, false),
            ((32, 288, 121), false, false),
            ((32, 676, 9), false, true),
            ((9, 32, 676), true, false),
            ((288, 32, 121), true, false),
        ];
        for kind in kernels() {
            for &(shape, ta, tb) in &cases {
                check::<f32>(kind, shape, ta, tb, 1.0, 0.0, true, 1e-5);
                check::<f32>(kind, shape, ta, tb, 1.0, 1.0, false, 1e-5);
                check::<f64>(kind, shape, ta, tb, 1.0, 1.0, false, 1e-14);
            }
        }
    }

    #[test]
    fn degenerate_sizes_only_scale_c() {
        for kind in kernels() {
            let mut c = vec![f32::NAN; 6];
            gemm_with_kernel(kind, 2, 0, 3, 1.0, &[], false, &[], false, 0.0, &mut c);
            assert_eq!(c, vec![0.0; 6]);
            let mut c = vec![2.0f64; 6];
            gemm_with_kernel(kind, 2, 0, 3, 1.0, &[], false, &[], false, 0.5, &mut c);
            assert_eq!(c, vec![1.0; 6]);
            let mut c: Vec<f64> = vec![];
            gemm_with_kernel(kind, 0, 4, 3, 1.0, &[], false, &[0.0; 12], false, 0.0, &mut c);
        }
    }

    #[test]
    fn the_selected_kernel_is_supported_and_named() {
        assert!(selected_kernel().is_supported());
        assert!(["scalar", "avx2", "avx512"].contains(&kernel_name()));
        // Run with SPECC_GEMM_KERNEL=scalar (or avx2, avx512) to check the override.
        if let Ok(want) = std::env::var("SPECC_GEMM_KERNEL")
            && let Some(kind) = KernelKind::ALL
                .into_iter()
                .find(|k| k.name() == want && k.is_supported())
        {
            assert_eq!(selected_kernel(), kind);
        }
    }
}
