//! The GEMM against the triple loop, for every kernel this CPU runs, every
//! transpose, the edge shapes and every thread count.

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
    assert!(KernelKind::ALL.map(KernelKind::name).contains(&kernel_name()));
    // Run with SPECC_GEMM_KERNEL=scalar (or avx2, avx512) to check the override.
    if let Ok(want) = std::env::var("SPECC_GEMM_KERNEL")
        && let Some(kind) = KernelKind::ALL
            .into_iter()
            .find(|k| k.name() == want && k.is_supported())
    {
        assert_eq!(selected_kernel(), kind);
    }
}

#[test]
fn every_kernel_fits_the_bounds_that_size_lent_scratch() {
    fn check<T: Element>() {
        for kind in KernelKind::ALL {
            let s = T::spec(kind);
            let [mr, nr, mc, kc, nc] = MAX_BLOCKS;
            assert!(
                s.mr <= mr && s.nr <= nr && s.mc <= mc && s.kc <= kc && s.nc <= nc,
                "{kind:?}"
            );
        }
    }
    check::<f32>();
    check::<f64>();
    // bf16 panels hold a u32 (a pair) per two steps of k: within the f32 bound.
    let [mr, nr, mc, kc, nc] = MAX_BLOCKS;
    assert!(
        bf16::MR <= mr && bf16::NR <= nr && bf16::MC <= mc && bf16::KC.div_ceil(2) <= kc && bf16::NC <= nc
    );
    // A product's need covers what `blocked` asks for, in both orientations.
    let n = need::<f32>(300, 1000, 5000);
    assert!(n.pack >= crate::scratch::lines::<f32>(128 * 256 + 4096 * 256));
    assert_eq!(need::<f32>(300, 1000, 5000), need::<f32>(5000, 1000, 300));
    assert_eq!((n.task, n.partials), (0, 0));
}

#[test]
fn bf16_rounding_is_to_nearest_even() {
    use bf16::{from_bf16, round_bf16, to_bf16};
    // 1 + 2^-8 is half-way between 1 and 1 + 2^-7: ties go to the even 1.
    assert_eq!(round_bf16(1.0 + 2f32.powi(-8)), 1.0);
    // 1 + 3 * 2^-8 is half-way between 1 + 2^-7 and 1 + 2^-6: to the even one.
    assert_eq!(round_bf16(1.0 + 3.0 * 2f32.powi(-8)), 1.0 + 2f32.powi(-6));
    // Just above half-way rounds up.
    assert_eq!(
        round_bf16(1.0 + 2f32.powi(-8) + 2f32.powi(-20)),
        1.0 + 2f32.powi(-7)
    );
    assert_eq!(round_bf16(-2.5), -2.5);
    assert_eq!(round_bf16(-1e-40).to_bits(), (-0f32).to_bits());
    assert!(round_bf16(f32::NAN).is_nan());
    assert_eq!(round_bf16(f32::INFINITY), f32::INFINITY);
    // The largest f32 rounds up to infinity, as round-to-nearest must.
    assert_eq!(round_bf16(f32::MAX), f32::INFINITY);
    // Against the exhaustive definition on a sweep of bit patterns: the
    // nearest of the two neighbouring bf16 values, ties to the even one.
    for bits in (0..u32::MAX).step_by(65_521) {
        let x = f32::from_bits(bits);
        if !x.is_finite() {
            continue;
        }
        let down = from_bf16((bits >> 16) as u16);
        let up = from_bf16(((bits >> 16) + 1) as u16);
        let got = round_bf16(x);
        // Past the largest bf16, the next value up is 2^128 as far as
        // rounding goes (it rounds to infinity).
        let up_value = |u: f32| {
            if u.is_infinite() {
                2f64.powi(128).copysign(f64::from(u))
            } else {
                f64::from(u)
            }
        };
        let (dd, du) = (
            (f64::from(x) - f64::from(down)).abs(),
            (up_value(up) - f64::from(x)).abs(),
        );
        let want = if x.abs() < f32::MIN_POSITIVE {
            // Subnormals are flushed to a zero of their sign, as the
            // AVX512-BF16 instructions do.
            0f32.copysign(x)
        } else if dd < du || (dd == du && (bits >> 16) & 1 == 0) {
            down
        } else {
            up
        };
        assert_eq!(got.to_bits(), want.to_bits(), "{x:e}");
        assert_eq!(to_bf16(x), (got.to_bits() >> 16) as u16);
    }
}

/// The bf16 product of `kind` against the f64 triple loop on the same
/// bf16-rounded operands: exact up to f32 accumulation order, so the error
/// is at most about `k` roundings of the running sum.
fn check_bf16(kind: KernelKind, (m, k, n): (usize, usize, usize), ta: bool, tb: bool, beta: f32) -> Vec<f32> {
    let a: Vec<f32> = data(m * k, 11).iter().map(|&x| x as f32).collect();
    let b: Vec<f32> = data(k * n, 12).iter().map(|&x| x as f32).collect();
    let c0: Vec<f32> = data(m * n, 13).iter().map(|&x| x as f32).collect();
    let mut c = c0.clone();
    crate::simd::with_precision(Precision::Bf16, || {
        gemm_with_kernel(kind, m, k, n, 0.5, &a, ta, &b, tb, beta, &mut c)
    });
    let r = |x: f32| f64::from(bf16::round_bf16(x));
    let at = |i: usize, p: usize| r(if ta { a[p * m + i] } else { a[i * k + p] });
    let bt = |p: usize, j: usize| r(if tb { b[j * k + p] } else { b[p * n + j] });
    let exact = naive(m, k, n, at, bt);
    for i in 0..m {
        for j in 0..n {
            let scale: f64 = (0..k).map(|p| (at(i, p) * bt(p, j)).abs()).sum::<f64>() * 0.5
                + f64::from((beta * c0[i * n + j]).abs());
            let want = 0.5 * exact[i * n + j] + f64::from(beta) * f64::from(c0[i * n + j]);
            let got = f64::from(c[i * n + j]);
            assert!(
                (got - want).abs() <= scale * (k as f64 + 2.0) * f64::from(f32::EPSILON) + 1e-30,
                "{} {m}x{k}x{n} ta={ta} tb={tb} ({i}, {j}): {got} vs {want}",
                bf16::kernel_name(kind)
            );
        }
    }
    c
}

#[test]
fn bf16_products_match_an_f64_reference_of_the_rounded_operands() {
    // Odd depths (a padded pair), edge tiles, several k blocks (600 > KC),
    // both orientations (m small or n small) and the thread split.
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (17, 9, 33),
        (8, 32, 32),
        (33, 600, 5),
        (5, 31, 70),
        (130, 150, 40),
    ];
    for kind in kernels() {
        for &shape in &shapes {
            for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
                for beta in [0.0, 1.0] {
                    check_bf16(kind, shape, ta, tb, beta);
                }
            }
        }
    }
}

#[test]
fn bf16_kernels_agree_with_the_portable_one_and_every_thread_count() {
    // Products exact in f32, the same pairs in the same order: every
    // kernel computes the same bits as the portable loops (operands here are
    // normal numbers, so vdpbf16ps's flushing of subnormals does not show).
    for &(m, k, n) in &[(64, 300, 9), (200, 70, 90), (9, 300, 64), (1, 600, 300)] {
        let a: Vec<f32> = data(m * k, 21).iter().map(|&x| x as f32).collect();
        let b: Vec<f32> = data(k * n, 22).iter().map(|&x| x as f32).collect();
        let run = |kind: KernelKind, threads: usize| {
            let mut c = vec![0.25f32; m * n];
            crate::par::with_threads(threads, || {
                crate::simd::with_precision(Precision::Bf16, || {
                    gemm_with_kernel(kind, m, k, n, 1.0, &a, false, &b, true, 1.0, &mut c)
                })
            });
            c
        };
        let portable = run(KernelKind::Scalar, 1);
        for kind in kernels() {
            for threads in [1, 2, 3] {
                assert!(
                    run(kind, threads) == portable,
                    "{} {m}x{k}x{n} on {threads} threads differs from the portable kernel",
                    kind.name()
                );
            }
        }
    }
}

#[test]
fn bf16_is_a_scoped_mode_that_reaches_the_workers() {
    let (m, k, n) = (256, 256, 256);
    let a: Vec<f32> = data(m * k, 31).iter().map(|&x| x as f32).collect();
    let b: Vec<f32> = data(k * n, 32).iter().map(|&x| x as f32).collect();
    let run = |precision: Precision| {
        let mut c = vec![0f32; m * n];
        crate::par::with_threads(2, || {
            crate::simd::with_precision(precision, || matmul_nn(m, k, n, &a, &b, &mut c, false))
        });
        c
    };
    let (f32s, bf16s) = (run(Precision::F32), run(Precision::Bf16));
    assert!(f32s != bf16s, "bf16 must change the product");
    assert_eq!(
        crate::simd::selected_precision(),
        Precision::F32,
        "the mode ends with its scope"
    );
    // The rows the worker computed are bf16 too: each agrees with the
    // single-thread bf16 product.
    let mut one = vec![0f32; m * n];
    crate::par::with_threads(1, || {
        crate::simd::with_precision(Precision::Bf16, || matmul_nn(m, k, n, &a, &b, &mut one, false))
    });
    assert!(one == bf16s);
}
