//! The scalar types generated code is instantiated with: `f32` for training
//! and inference, `f64` for numeric gradient checks.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

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
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn abs(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;

    /// `c = alpha * op(a) * op(b) + beta * c` over row-major matrices, where
    /// `op` transposes when asked. `a` is `m x k` after `op`, `b` is `k x n`.
    /// Implemented by the project's blocked GEMM ([`crate::gemm::gemm`]).
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: &[Self],
        transpose_a: bool,
        b: &[Self],
        transpose_b: bool,
        beta: Self,
        c: &mut [Self],
    );

    /// Runs `f` on this thread's scratch buffer `slot`, viewed as `len`
    /// values (grown on first need, never shrunk, contents unspecified).
    /// Panics if called again for the same slot from inside `f`.
    #[doc(hidden)]
    fn with_scratch<R>(slot: crate::par::Scratch, len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;
}

macro_rules! impl_float {
    ($t:ty) => {
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
                <$t>::exp(self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
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
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: &[Self],
                transpose_a: bool,
                b: &[Self],
                transpose_b: bool,
                beta: Self,
                c: &mut [Self],
            ) {
                crate::gemm::gemm(m, k, n, alpha, a, transpose_a, b, transpose_b, beta, c);
            }
            fn with_scratch<R>(slot: crate::par::Scratch, len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
                thread_local! {
                    static BUFFERS: [std::cell::RefCell<Vec<$t>>; 2] =
                        const { [std::cell::RefCell::new(Vec::new()), std::cell::RefCell::new(Vec::new())] };
                }
                BUFFERS.with(|buffers| {
                    let mut buffer = buffers[slot as usize].borrow_mut();
                    if buffer.len() < len {
                        buffer.resize(len, 0.0);
                    }
                    f(&mut buffer[..len])
                })
            }
        }
    };
}

impl_float!(f32);
impl_float!(f64);
