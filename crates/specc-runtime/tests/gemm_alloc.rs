//! Repeated GEMM calls of the same shapes allocate nothing: the packing
//! buffers are per thread and only grow.
//!
//! This file is its own test binary with a counting global allocator; it
//! holds a single test so no other test allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use specc_runtime::gemm::{KernelKind, gemm_with_kernel, matmul_nn, matmul_nt, matmul_tn};

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

fn data(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.5).collect()
}

/// Every shape of the example models, through the public wrappers and
/// through each supported kernel, in f32 and f64.
fn run_all(kinds: &[KernelKind], bufs: &mut Bufs) {
    let Bufs {
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
        // past every blocking size: m > MC, k > KC, n > NC
        gemm_with_kernel(kind, 130, 260, 4100, 0.5, a, true, b, true, 1.0, c);
        gemm_with_kernel(kind, 128, 784, 128, 1.0, a64, false, b64, true, 0.0, c64);
        gemm_with_kernel(kind, 32, 676, 9, 1.0, a64, false, b64, true, 1.0, c64);
    }
}

struct Bufs {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    a64: Vec<f64>,
    b64: Vec<f64>,
    c64: Vec<f64>,
}

#[test]
fn repeated_gemm_calls_do_not_allocate() {
    let len = 260 * 4100;
    let a = data(len);
    let b = data(len);
    let mut bufs = Bufs {
        a64: a.iter().map(|&x| f64::from(x)).collect(),
        b64: b.iter().map(|&x| f64::from(x)).collect(),
        c64: vec![0.0; 130 * 4100],
        a,
        b,
        c: vec![0.0; 130 * 4100],
    };
    let kinds: Vec<KernelKind> = KernelKind::ALL.into_iter().filter(|k| k.is_supported()).collect();
    // Warm-up: grows this thread's packing buffers to the largest size needed
    // and initialises the kernel choice.
    run_all(&kinds, &mut bufs);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    run_all(&kinds, &mut bufs);
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "GEMM calls allocated {} times after warm-up",
        after - before
    );
}
