//! Run-time instruction-set dispatch for the element-wise kernels.
//!
//! Generated code and the runtime are compiled for the target's baseline
//! (SSE2 on x86-64), so a default `cargo build --release` would leave AVX2 and
//! AVX-512 unused. [`dispatch`] runs a closure inlined into an `avx512f`
//! function, an `avx2,fma` function or as is (so its loops are compiled
//! three times), choosing the one [`crate::gemm::selected_kernel`] names, the same
//! choice the GEMM makes (so `SPECC_GEMM_KERNEL` and
//! [`crate::gemm::with_kernel`] steer both). The bodies are plain loops
//! written so LLVM vectorises them: no data-dependent branches, reductions
//! over fixed-width lane arrays.

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
/// [`crate::gemm::selected_kernel`] names, so that `f`'s loops, inlined
/// there, are vectorised for it: the [`multiversion!`] of a closure.
/// Mark the closure (and any closure it calls) `#[inline(always)]`: one
/// LLVM chose not to inline would be compiled for the baseline, as the
/// optimizer updates were until they were marked (a profile showed them as
/// `{{closure}}` symbols of their own).
#[inline(always)]
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
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
        match crate::gemm::selected_kernel() {
            // SAFETY: `selected_kernel` only returns a kind whose
            // `is_supported` holds, i.e. the CPU has avx512f, avx2 and fma.
            crate::gemm::KernelKind::Avx512 => return unsafe { avx512(f) },
            // SAFETY: as above, with avx2 and fma.
            crate::gemm::KernelKind::Avx2 => return unsafe { avx2(f) },
            crate::gemm::KernelKind::Scalar => {}
        }
    }
    f()
}

/// Lanes of the partial sums in reductions: 16 `f32` or 8 `f64` fill a
/// zmm register, and independent lanes let LLVM vectorise the sum.
pub(crate) const LANES: usize = 16;

/// `sum(v)` over [`LANES`] independent partial sums, combined pairwise.
#[inline(always)]
pub(crate) fn sum<F: crate::Float>(v: &[F]) -> F {
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
