//! Run-time instruction-set choice: [`KernelKind`], [`selected_kernel`]
//! (overridable per thread with [`with_kernel`], and by `SPECC_GEMM_KERNEL`),
//! which both the GEMM's micro-kernels and the element-wise kernels follow;
//! and the precision of the GEMM's f32 products ([`with_precision`],
//! [`selected_precision`]: f32 or bf16 operands), a scoped mode of the same
//! kind.
//!
//! Generated code and the runtime are compiled for the target's baseline
//! (SSE2 on x86-64), so a default `cargo build --release` would leave AVX2 and
//! AVX-512 unused. `dispatch` runs a closure inlined into an `avx512f`
//! function, an `avx2,fma` function or as is (so its loops are compiled
//! three times), choosing the one [`selected_kernel`] names, the same
//! choice the GEMM makes (so `SPECC_GEMM_KERNEL` and
//! [`with_kernel`] steer both). The bodies are plain loops
//! written so LLVM vectorises them: no data-dependent branches, reductions
//! over fixed-width lane arrays.

use crate::Precision;

/// An instruction set the kernels are compiled for: the GEMM's micro-kernels
/// (one family per scalar type) and every dispatched element-wise loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelKind {
    /// Plain Rust loops, vectorised by LLVM for the target baseline.
    Scalar,
    /// AVX2 with FMA: 6 x 16 (f32) and 6 x 8 (f64) tiles of ymm registers.
    Avx2,
    /// AVX-512F: 8 x 32 (f32) and 8 x 16 (f64) tiles of zmm registers.
    Avx512,
    /// AVX-512F with AVX512-BF16: the AVX-512 kernels, and for bf16
    /// products ([`Precision::Bf16`]) an 8 x 32 tile of `vdpbf16ps`.
    Avx512Bf16,
}

impl KernelKind {
    /// Every kind, slowest first.
    pub const ALL: [KernelKind; 4] = [
        KernelKind::Scalar,
        KernelKind::Avx2,
        KernelKind::Avx512,
        KernelKind::Avx512Bf16,
    ];

    /// `scalar`, `avx2`, `avx512` or `avx512bf16`, as `SPECC_GEMM_KERNEL`
    /// spells it.
    pub fn name(self) -> &'static str {
        match self {
            KernelKind::Scalar => "scalar",
            KernelKind::Avx2 => "avx2",
            KernelKind::Avx512 => "avx512",
            KernelKind::Avx512Bf16 => "avx512bf16",
        }
    }

    /// Whether this kind runs the AVX-512 kernels (f32 and f64).
    pub fn has_avx512(self) -> bool {
        matches!(self, KernelKind::Avx512 | KernelKind::Avx512Bf16)
    }

    /// Whether this CPU can run the kernel, detected at run time: with the
    /// `std` feature by `is_x86_feature_detected!`, without it (x86-64) by
    /// `cpuid` and `xgetbv` ([`cpuid`]), so that an exported model runs the
    /// vector kernels too.
    pub fn is_supported(self) -> bool {
        match self {
            KernelKind::Scalar => true,
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            KernelKind::Avx2 => std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            KernelKind::Avx512 => {
                std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx2")
                    && std::is_x86_feature_detected!("fma")
            }
            #[cfg(all(target_arch = "x86_64", feature = "std"))]
            KernelKind::Avx512Bf16 => {
                KernelKind::Avx512.is_supported() && std::is_x86_feature_detected!("avx512bf16")
            }
            #[cfg(all(target_arch = "x86_64", not(feature = "std")))]
            KernelKind::Avx2 => cpuid::features().avx2_fma,
            #[cfg(all(target_arch = "x86_64", not(feature = "std")))]
            KernelKind::Avx512 => cpuid::features().avx2_fma && cpuid::features().avx512f,
            #[cfg(all(target_arch = "x86_64", not(feature = "std")))]
            KernelKind::Avx512Bf16 => KernelKind::Avx512.is_supported() && cpuid::features().avx512bf16,
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest kind this CPU supports.
    pub fn best() -> KernelKind {
        KernelKind::ALL
            .into_iter()
            .rev()
            .find(|kind| kind.is_supported())
            .unwrap_or(KernelKind::Scalar)
    }
}

#[cfg(feature = "std")]
std::thread_local! {
    /// A kernel forced on this thread by [`with_kernel`].
    static FORCED: core::cell::Cell<Option<KernelKind>> = const { core::cell::Cell::new(None) };
    /// The precision [`with_precision`] sets on this thread.
    static PRECISION: core::cell::Cell<Precision> = const { core::cell::Cell::new(Precision::F32) };
}

/// Runs `f` with the matrix products of dense and convolution layers in
/// `precision` on this thread (and on the pool's workers for the parallel
/// loops it starts): a scoped mode, as PyTorch's `autocast` is. Generated
/// models enter it in their passes when their precision is
/// [`Precision::Bf16`]; everything else stays f32.
#[cfg(feature = "std")]
pub fn with_precision<R>(precision: Precision, f: impl FnOnce() -> R) -> R {
    crate::par::with_local(&PRECISION, precision, f)
}

/// The precision of the GEMM's products on this thread: what
/// [`with_precision`] set, else f32.
#[cfg(feature = "std")]
#[inline]
pub fn selected_precision() -> Precision {
    PRECISION.with(|p| p.get())
}

/// The precision of the GEMM's products: without the `std` feature, always
/// f32 (a build without threads has no scoped modes).
#[cfg(not(feature = "std"))]
#[inline]
pub fn selected_precision() -> Precision {
    Precision::F32
}

/// Runs `f` with [`selected_kernel`] returning `kind` on this thread (for
/// the GEMM and every dispatched element-wise kernel), so tests can compare
/// each instruction-set path with the portable one.
///
/// Panics if the CPU does not support `kind`.
#[cfg(feature = "std")]
pub fn with_kernel<R>(kind: KernelKind, f: impl FnOnce() -> R) -> R {
    assert!(
        kind.is_supported(),
        "this CPU cannot run the {} kernels",
        kind.name()
    );
    crate::par::with_local(&FORCED, Some(kind), f)
}

/// The instruction set the GEMM and the element-wise kernels use: the one
/// [`with_kernel`] forces on this thread, else the one `SPECC_GEMM_KERNEL`
/// names if the CPU supports it, else the fastest supported (decided on
/// first use). Without the `std` feature: the fastest the build enables.
#[cfg(feature = "std")]
#[inline]
pub fn selected_kernel() -> KernelKind {
    if let Some(kind) = FORCED.with(|forced| forced.get()) {
        return kind;
    }
    static CHOICE: std::sync::OnceLock<KernelKind> = std::sync::OnceLock::new();
    *CHOICE.get_or_init(|| {
        let forced = std::env::var("SPECC_GEMM_KERNEL").ok();
        let forced = KernelKind::ALL
            .into_iter()
            .find(|kind| forced.as_deref() == Some(kind.name()) && kind.is_supported());
        forced.unwrap_or_else(KernelKind::best)
    })
}

/// The instruction set the GEMM and the element-wise kernels use: the
/// fastest this CPU supports (detected once, see [`cpuid::features`]).
#[cfg(not(feature = "std"))]
#[inline]
pub fn selected_kernel() -> KernelKind {
    KernelKind::best()
}

/// CPU features without the standard library, from `cpuid` and the
/// operating system's register-state mask (`xgetbv`): an instruction set is
/// usable only if the CPU has it and the OS saves its registers.
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
pub mod cpuid {
    use core::arch::x86_64::{__cpuid, __cpuid_count};

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Features {
        /// AVX2 and FMA, with the OS saving ymm state.
        pub avx2_fma: bool,
        /// AVX-512F, with the OS saving the opmask and zmm state.
        pub avx512f: bool,
        /// AVX512-BF16 (with AVX-512F's OS support).
        pub avx512bf16: bool,
    }

    /// The features of this CPU and OS, detected once: `cpuid` is slow
    /// (a virtual machine traps it), and the kernels ask on every call.
    pub fn features() -> Features {
        use core::sync::atomic::{AtomicU8, Ordering::Relaxed};
        /// Bit 0: detected; bit 1: AVX2 and FMA; bit 2: AVX-512F; bit 3:
        /// AVX512-BF16.
        static DETECTED: AtomicU8 = AtomicU8::new(0);
        let mut bits = DETECTED.load(Relaxed);
        if bits == 0 {
            let f = detect();
            bits = 1 | u8::from(f.avx2_fma) << 1 | u8::from(f.avx512f) << 2 | u8::from(f.avx512bf16) << 3;
            DETECTED.store(bits, Relaxed);
        }
        Features {
            avx2_fma: bits & 2 != 0,
            avx512f: bits & 4 != 0,
            avx512bf16: bits & 8 != 0,
        }
    }

    fn detect() -> Features {
        // cpuid is an unprivileged instruction every x86-64 CPU has.
        #[allow(unused_unsafe)]
        // SAFETY: cpuid only reads CPU identification registers; leaf 1 and
        // (below, once the maximum leaf says it exists) leaf 7 are defined
        // on every x86-64 CPU.
        let (max_leaf, leaf1) = unsafe { (__cpuid(0).eax, __cpuid(1)) };
        let osxsave = leaf1.ecx & (1 << 27) != 0;
        let (avx, fma) = (leaf1.ecx & (1 << 28) != 0, leaf1.ecx & (1 << 12) != 0);
        if !osxsave || !avx || max_leaf < 7 {
            return Features {
                avx2_fma: false,
                avx512f: false,
                avx512bf16: false,
            };
        }
        #[allow(unused_unsafe)]
        // SAFETY: as above; leaf 7 exists (max_leaf >= 7).
        let leaf7 = unsafe { __cpuid_count(7, 0) };
        // SAFETY: as above; sub-leaf 1 of leaf 7 exists when sub-leaf 0's
        // eax (the highest sub-leaf) is at least 1.
        #[allow(unused_unsafe)]
        let leaf7_1 = (leaf7.eax >= 1).then(|| unsafe { __cpuid_count(7, 1) });
        // SAFETY: OSXSAVE is set, so the OS enabled xgetbv (XCR0 readable).
        let xcr0 = unsafe { xcr0() };
        let ymm = xcr0 & 0b110 == 0b110;
        let zmm = xcr0 & 0b1110_0110 == 0b1110_0110;
        Features {
            avx2_fma: ymm && fma && leaf7.ebx & (1 << 5) != 0,
            avx512f: ymm && zmm && leaf7.ebx & (1 << 16) != 0,
            avx512bf16: ymm && zmm && leaf7_1.is_some_and(|l| l.eax & (1 << 5) != 0),
        }
    }

    /// XCR0, the register state the OS saves.
    ///
    /// # Safety
    /// The CPU must report OSXSAVE (cpuid leaf 1, ecx bit 27).
    #[target_feature(enable = "xsave")]
    unsafe fn xcr0() -> u64 {
        // SAFETY: xgetbv with ECX = 0 reads XCR0, which OSXSAVE makes
        // readable at any privilege level (the caller's contract).
        unsafe { core::arch::x86_64::_xgetbv(0) }
    }
}

/// Defines `fn name<F: Float>(args) { body }` that runs `body` compiled for
/// the best instruction set the CPU has, through [`dispatch`].
macro_rules! multiversion {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident<F: Float>($($arg:ident: $ty:ty),* $(,)?) $body:block
    ) => {
        $(#[$meta])*
        $vis fn $name<F: $crate::Float>($($arg: $ty),*) {
            #[inline(always)]
            fn body<F: $crate::Float>($($arg: $ty),*) $body

            $crate::simd::dispatch(#[inline(always)] || body($($arg),*))
        }
    };
}

pub(crate) use multiversion;

/// Runs `f` inside a function compiled for the instruction set
/// [`crate::simd::selected_kernel`] names, so that `f`'s loops, inlined
/// there, are vectorised for it: the [`multiversion!`] of a closure.
/// Mark the closure (and any closure it calls) `#[inline(always)]`: one
/// LLVM chose not to inline would be compiled for the baseline, as the
/// optimizer updates were until they were marked (a profile showed them as
/// `{{closure}}` symbols of their own).
#[inline(always)]
#[doc(hidden)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx2,fma")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        match crate::simd::selected_kernel() {
            // SAFETY: `selected_kernel` only returns a kind whose
            // `is_supported` holds, i.e. the CPU has avx512f, avx2 and fma.
            crate::simd::KernelKind::Avx512 | crate::simd::KernelKind::Avx512Bf16 => {
                return unsafe { avx512(f) };
            }
            // SAFETY: as above, with avx2 and fma.
            crate::simd::KernelKind::Avx2 => return unsafe { avx2(f) },
            crate::simd::KernelKind::Scalar => {}
        }
    }
    f()
}

/// Lanes of the partial sums in reductions: 16 `f32` or 8 `f64` fill a
/// zmm register, and independent lanes let LLVM vectorise the sum.
#[doc(hidden)]
pub const LANES: usize = 16;

/// `sum(v)` over [`LANES`] independent partial sums, combined pairwise.
#[inline(always)]
#[doc(hidden)]
pub fn sum<F: crate::Float>(v: &[F]) -> F {
    let mut lanes = [F::ZERO; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (acc, &x) in lanes.iter_mut().zip(chunk) {
            *acc += x;
        }
    }
    for (acc, &x) in lanes.iter_mut().zip(chunks.remainder()) {
        *acc += x;
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        let (low, high) = lanes.split_at_mut(width);
        for (l, &h) in low.iter_mut().zip(&high[..width]) {
            *l += h;
        }
    }
    lanes[0]
}

/// `sum(a[i] * b[i])` over `2 * LANES` independent partial sums (two
/// vector registers' worth, so that the adds of one do not wait on the
/// other), combined pairwise: the same order on every instruction set.
#[inline(always)]
#[doc(hidden)]
pub fn dot<F: crate::Float>(a: &[F], b: &[F]) -> F {
    assert_eq!(a.len(), b.len(), "dot: lengths");
    let mut lanes = [F::ZERO; 2 * LANES];
    let (mut ac, mut bc) = (a.chunks_exact(2 * LANES), b.chunks_exact(2 * LANES));
    for (a, b) in (&mut ac).zip(&mut bc) {
        for l in 0..2 * LANES {
            lanes[l] += a[l] * b[l];
        }
    }
    for (acc, (&a, &b)) in lanes.iter_mut().zip(ac.remainder().iter().zip(bc.remainder())) {
        *acc += a * b;
    }
    let mut width = 2 * LANES;
    while width > 1 {
        width /= 2;
        let (low, high) = lanes.split_at_mut(width);
        for (l, &h) in low.iter_mut().zip(&high[..width]) {
            *l += h;
        }
    }
    lanes[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_sum_matches_the_plain_sum() {
        for len in [0, 1, 15, 16, 17, 100, 677] {
            let v: Vec<f64> = (0..len).map(|i| (i as f64 * 0.37).sin()).collect();
            let plain: f64 = v.iter().sum();
            assert!((sum(&v) - plain).abs() < 1e-12, "len {len}");
        }
    }
}
