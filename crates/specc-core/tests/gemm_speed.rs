//! GFLOP/s of the project's GEMM (each kernel this CPU supports) against
//! `matrixmultiply`, on the shapes of the example models (f32, one thread).
//!
//! `SPECC_BENCH=1 cargo test --release -p specc-core --test gemm_speed -- --ignored --nocapture`
//!
//! Benchmarks, not tests: they print and assert nothing, so without
//! `SPECC_BENCH` they return at once (`.ci/run` runs every ignored test).

use std::hint::black_box;
use std::time::{Duration, Instant};

use specc_core::gemm::{KernelKind, gemm_with_kernel};

/// Best GFLOP/s of `f` over repeated timed batches of about 20 ms each.
fn gflops(flops: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut reps = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        if t.elapsed() > Duration::from_millis(20) {
            break;
        }
        reps *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        best = best.min(t.elapsed().as_secs_f64() / reps as f64);
    }
    flops / best / 1e9
}

/// (what, m, k, n, transpose a, transpose b): the example models' products.
const SHAPES: [(&str, usize, usize, usize, bool, bool); 11] = [
    ("dense fwd", 128, 784, 128, false, true),
    ("dense fwd", 128, 5408, 128, false, true),
    ("dense dW", 128, 128, 5408, true, false),
    ("dense dX", 128, 128, 5408, false, false),
    ("conv fwd", 32, 9, 676, false, false),
    ("conv fwd", 32, 288, 121, false, false),
    ("conv dW", 32, 676, 9, false, true),
    ("conv dW", 32, 121, 288, false, true),
    ("conv dX", 9, 32, 676, true, false),
    ("conv dX", 288, 32, 121, true, false),
    ("square", 1024, 1024, 1024, false, false),
];

#[test]
#[ignore = "benchmark; run in release with SPECC_BENCH=1 and --ignored --nocapture"]
fn gemm_speed_against_matrixmultiply() {
    if std::env::var_os("SPECC_BENCH").is_none() {
        return;
    }
    let shapes = SHAPES;
    let kinds: Vec<KernelKind> = KernelKind::ALL
        .into_iter()
        .rev()
        .filter(|k| k.is_supported())
        .collect();
    print!("{:<10} {:>5} {:>5} {:>5} {:>3}", "shape", "m", "k", "n", "op");
    for kind in &kinds {
        print!(" {:>8}", kind.name());
    }
    println!(" {:>8}   (GFLOP/s, f32, 1 thread)", "mm");
    for (what, m, k, n, ta, tb) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
        let mut c = vec![0.0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let op = format!("{}{}", if ta { "t" } else { "n" }, if tb { "t" } else { "n" });
        print!("{what:<10} {m:>5} {k:>5} {n:>5} {op:>3}");
        for &kind in &kinds {
            let g = gflops(flops, || {
                gemm_with_kernel(
                    kind,
                    m,
                    k,
                    n,
                    1.0,
                    black_box(&a),
                    ta,
                    black_box(&b),
                    tb,
                    0.0,
                    black_box(&mut c),
                )
            });
            print!(" {g:>8.1}");
        }
        let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
        let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
        let g = gflops(flops, || {
            // SAFETY: `a` holds m*k, `b` k*n and `c` m*n elements, and the
            // strides address exactly those (row-major, possibly transposed).
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    black_box(a.as_ptr()),
                    rsa,
                    csa,
                    black_box(b.as_ptr()),
                    rsb,
                    csb,
                    0.0,
                    black_box(c.as_mut_ptr()),
                    n as isize,
                    1,
                )
            }
        });
        println!(" {g:>8.1}");
    }
}

#[test]
#[ignore = "benchmark; run in release with SPECC_BENCH=1 and --ignored --nocapture"]
fn bf16_gemm_speed_against_f32() {
    if std::env::var_os("SPECC_BENCH").is_none() {
        return;
    }
    use specc_core::Precision;
    use specc_core::simd::{selected_kernel, with_precision};
    let kind = selected_kernel();
    println!(
        "{:<10} {:>5} {:>5} {:>5} {:>3} {:>8} {:>8} {:>8}   (GFLOP/s, 1 thread, {})",
        "shape",
        "m",
        "k",
        "n",
        "op",
        "f32",
        "bf16",
        "portable",
        kind.name()
    );
    for (what, m, k, n, ta, tb) in SHAPES {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
        let mut c = vec![0.0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let op = format!("{}{}", if ta { "t" } else { "n" }, if tb { "t" } else { "n" });
        let mut run = |kind: KernelKind, precision: Precision| {
            specc_core::par::with_threads(1, || {
                with_precision(precision, || {
                    gflops(flops, || {
                        gemm_with_kernel(
                            kind,
                            m,
                            k,
                            n,
                            1.0,
                            black_box(&a),
                            ta,
                            black_box(&b),
                            tb,
                            0.0,
                            black_box(&mut c),
                        )
                    })
                })
            })
        };
        let (f32s, bf16, portable) = (
            run(kind, Precision::F32),
            run(kind, Precision::Bf16),
            run(KernelKind::Scalar, Precision::Bf16),
        );
        println!("{what:<10} {m:>5} {k:>5} {n:>5} {op:>3} {f32s:>8.1} {bf16:>8.1} {portable:>8.1}");
    }
}
