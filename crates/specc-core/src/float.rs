//! The scalar types generated code is instantiated with: `f32` for training
//! and inference, `f64` for numeric gradient checks.
//!
//! Arithmetic only: what the kernels add on top (GEMM micro-kernels,
//! scratch views) is [`crate::gemm::Element`]. The transcendental
//! functions are the `libm` crate's (musl's algorithms) with and without
//! `std`, not the platform's: glibc, macOS and Windows differ in the last
//! bit, and a model must compute the same bits on every machine, and in a
//! no_std export as in the runtime (the square root excepted: IEEE 754 rounds
//! it correctly, so the hardware instruction gives libm's bits).

use core::fmt::Debug;
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// The operations generated code needs from its scalar type.
pub trait Float:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
{
    const ZERO: Self;
    const ONE: Self;
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    /// `exp(x) - 1`, accurate near 0.
    fn exp_m1(self) -> Self;
    /// `ln(1 + x)`, accurate near 0.
    fn ln_1p(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    /// The error function.
    fn erf(self) -> Self;
    fn abs(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
}

macro_rules! impl_float {
    ($t:ty, $exp:ident, $ln:ident, $expm1:ident, $log1p:ident, $sqrt:ident, $tanh:ident, $erf:ident) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp(self) -> Self {
                libm::$exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                libm::$ln(self)
            }
            #[inline(always)]
            fn exp_m1(self) -> Self {
                libm::$expm1(self)
            }
            #[inline(always)]
            fn ln_1p(self) -> Self {
                libm::$log1p(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                // IEEE 754 square roots are correctly rounded, so the
                // hardware instruction (which LLVM vectorises, as in the
                // optimizers' loops) and libm's give the same bits.
                #[cfg(feature = "std")]
                return <$t>::sqrt(self);
                #[cfg(not(feature = "std"))]
                return libm::$sqrt(self);
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                libm::$tanh(self)
            }
            #[inline(always)]
            fn erf(self) -> Self {
                libm::$erf(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                <$t>::max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                <$t>::min(self, other)
            }
        }
    };
}

impl_float!(f32, expf, logf, expm1f, log1pf, sqrtf, tanhf, erff);
impl_float!(f64, exp, log, expm1, log1p, sqrt, tanh, erf);
