//! After its first call at a given batch size, a training step, augmenting
//! a batch and an inference call allocate nothing on the heap: every workspace buffer, the
//! GEMM packing buffers and the optimizer state are sized once and reused.
//! Below them, repeated GEMM calls of the same shapes allocate nothing on any
//! kernel: the packing buffers are per thread and only grow. Both hold on
//! one thread and on two (the worker pool hands out no boxed jobs).
//!
//! This file is its own test binary with a counting global allocator and its
//! own `main` (`harness = false` in Cargo.toml), so that nothing else, not
//! even libtest reporting a slow test, allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use specc_core::Precision;
use specc_core::gemm::{KernelKind, gemm_with_kernel, matmul_nn, matmul_nt, matmul_tn};
use specc_core::par::with_threads;
use specc_core::simd::with_precision;
use specc_tests::f32::{
    batch_norms::BatchNorms, dense_residual::DenseResidual, digits_mlp::DigitsMlp, logistic::Logistic,
    mlp::Mlp, mnist_cnn::MnistCnn, mnist_cnn_adam::MnistCnnAdam,
    mnist_cnn_nesterov_cosine::MnistCnnNesterovCosine, pools::Pools, regression_mlp::RegressionMlp,
    residual_projection::ResidualProjection, small_res_net::SmallResNet, tf_cnn::TfCnn,
};
use specc_train::{Model, Targets};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap allocations made by `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

/// Every GEMM shape of the example models, through the public wrappers and
/// through each supported kernel, in f32 and f64; and one product past
/// every blocking size (m > MC, k > KC, n > NC).
fn gemm_calls(kinds: &[KernelKind], bufs: &mut GemmBuffers) {
    let GemmBuffers {
        a,
        b,
        c,
        a64,
        b64,
        c64,
    } = bufs;
    // dense forward, input gradient and weight gradient
    matmul_nt(128, 784, 128, a, b, c, false);
    matmul_nn(128, 128, 784, a, b, c, false);
    matmul_tn(128, 128, 1000, a, b, c, true);
    // convolution forward, weight and input gradients
    matmul_nn(32, 9, 676, a, b, c, false);
    matmul_nn(32, 288, 121, a, b, c, false);
    matmul_nt(32, 676, 9, a, b, c, true);
    matmul_tn(9, 32, 676, a, b, c, false);
    matmul_tn(288, 32, 121, a, b, c, false);
    matmul_nn(128, 784, 128, a64, b64, c64, false);
    matmul_nt(32, 676, 9, a64, b64, c64, true);
    for &kind in kinds {
        gemm_with_kernel(kind, 128, 784, 128, 1.0, a, false, b, true, 0.0, c);
        gemm_with_kernel(kind, 32, 676, 9, 1.0, a, false, b, true, 1.0, c);
        gemm_with_kernel(kind, 9, 32, 676, 1.0, a, true, b, false, 0.0, c);
        gemm_with_kernel(kind, 130, 260, 4100, 0.5, a, true, b, true, 1.0, c);
        gemm_with_kernel(kind, 128, 784, 128, 1.0, a64, false, b64, true, 0.0, c64);
        gemm_with_kernel(kind, 32, 676, 9, 1.0, a64, false, b64, true, 1.0, c64);
    }
}

struct GemmBuffers {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    a64: Vec<f64>,
    b64: Vec<f64>,
    c64: Vec<f64>,
}

/// Allocations in repeated GEMM calls after a warm-up that grows this
/// thread's packing buffers to the largest size needed.
fn steady_state_gemm_allocations() -> Vec<String> {
    let len: usize = 260 * 4100;
    let a: Vec<f32> = (0..len).map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5).collect();
    let b = a.iter().rev().copied().collect::<Vec<f32>>();
    let mut bufs = GemmBuffers {
        a64: a.iter().map(|&x| f64::from(x)).collect(),
        b64: b.iter().map(|&x| f64::from(x)).collect(),
        c64: vec![0.0; 130 * 4100],
        a,
        b,
        c: vec![0.0; 130 * 4100],
    };
    let kinds: Vec<KernelKind> = KernelKind::ALL.into_iter().filter(|k| k.is_supported()).collect();
    gemm_calls(&kinds, &mut bufs);
    let count = allocations(|| gemm_calls(&kinds, &mut bufs));
    if count == 0 {
        Vec::new()
    } else {
        vec![format!("GEMM: {count} allocations after warm-up")]
    }
}

/// Augmenting a batch (every change on) allocates nothing after the first.
fn steady_state_augmentation() -> Vec<String> {
    use specc_harness::data::augment::{Augment, Augmenter};
    let augment = Augment {
        flip: true,
        crop: 2,
        translate: 1,
        rotate: 10.0,
    };
    let mut a = Augmenter::new(augment, [3, 12, 12]).expect("augments");
    let mut inputs = vec![0.5f32; 64 * 3 * 144];
    let indices: Vec<usize> = (0..64).collect();
    a.batch(&mut inputs, &indices, 1, 1);
    let count = allocations(|| a.batch(&mut inputs, &indices, 1, 2));
    if count == 0 {
        Vec::new()
    } else {
        vec![format!("augmentation: {count} allocations after the first batch")]
    }
}

/// Inputs in [0, 1) and targets that fit the model's loss.
fn batch_data<M: Model<F = f32>>(batch: usize) -> (Vec<f32>, Vec<u32>, Vec<f32>) {
    let mut rng = specc_train::Rng::new(7);
    let input = (0..batch * M::input_len())
        .map(|_| rng.uniform(0.0, 1.0) as f32)
        .collect();
    let classes = M::output_len() as u64;
    let labels = (0..batch).map(|_| (rng.next_u64() % classes) as u32).collect();
    let values = (0..batch * M::output_len())
        .map(|_| rng.uniform(0.0, 1.0).round() as f32)
        .collect();
    (input, labels, values)
}

/// Allocations in the calls after the first at each batch size, by what was called.
fn steady_state_allocations<M: Model<F = f32>>() -> Vec<String> {
    let mut model = M::new(0);
    let mut found = Vec::new();
    for batch in [1, 32, 128] {
        let (input, labels, values) = batch_data::<M>(batch);
        let targets = match M::TARGETS {
            specc_train::TargetKind::Classes { .. } => Targets::Classes(&labels),
            _ => Targets::Values(&values),
        };
        let mut output = vec![0.0; batch * M::output_len()];
        // The first call at a batch size sizes buffers (which also shows
        // that the counter sees the model's allocations).
        let first = allocations(|| {
            model.train_step(&input, targets, batch);
            model.predict_into(&input, batch, &mut output);
        });
        if first == 0 {
            found.push(format!(
                "{}: the first step at batch {batch} allocated nothing",
                M::NAME
            ));
        }
        let train = allocations(|| {
            for _ in 0..3 {
                model.train_step(&input, targets, batch);
            }
        });
        let predict = allocations(|| {
            for _ in 0..3 {
                model.predict_into(&input, batch, &mut output);
            }
        });
        let eval = allocations(|| {
            model.evaluation_loss(&input, targets, batch);
        });
        for (what, count) in [
            ("train_step", train),
            ("predict_into", predict),
            ("evaluation_loss", eval),
        ] {
            if count > 0 {
                found.push(format!(
                    "{}: {what} at batch {batch}: {count} allocations",
                    M::NAME
                ));
            }
        }
    }
    found
}

fn main() {
    // Not an ignored test (`cargo test -- --ignored` runs only those), and
    // nothing to list for `--list`.
    if std::env::args().any(|a| a == "--ignored" || a == "--list") {
        return;
    }
    let checks = [
        steady_state_gemm_allocations,
        steady_state_augmentation,
        steady_state_allocations::<Logistic>,
        steady_state_allocations::<Mlp>,
        steady_state_allocations::<DigitsMlp>,
        steady_state_allocations::<RegressionMlp>,
        steady_state_allocations::<MnistCnn>,
        steady_state_allocations::<MnistCnnAdam>,
        steady_state_allocations::<MnistCnnNesterovCosine>,
        steady_state_allocations::<TfCnn>,
        steady_state_allocations::<SmallResNet>,
        steady_state_allocations::<BatchNorms>,
        steady_state_allocations::<Pools>,
        steady_state_allocations::<ResidualProjection>,
        steady_state_allocations::<DenseResidual>,
    ];
    // On one thread, then on two: the workers' scratch, like the caller's,
    // is sized by the first call (each call hands a worker the same tasks).
    // In f32 and in bf16 (whose packed panels are u32 pairs in the same
    // scratch).
    let found: Vec<String> = [
        (1, Precision::F32),
        (2, Precision::F32),
        (1, Precision::Bf16),
        (2, Precision::Bf16),
    ]
    .into_iter()
    .flat_map(|(threads, precision)| {
        with_threads(threads, || {
            with_precision(precision, || {
                checks.iter().flat_map(|check| check()).collect::<Vec<_>>()
            })
        })
        .into_iter()
        .map(move |found| format!("{threads} thread(s), {precision}: {found}"))
    })
    .collect();
    if !found.is_empty() {
        eprintln!("heap allocations in steady state:\n{}", found.join("\n"));
        std::process::exit(1);
    }
    println!("allocation: training steps, inference and GEMM allocate nothing after the first call");
}
