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
}

/// Strides of a row-major matrix of `rows x cols`, as `op` would see it.
fn strides(rows: usize, cols: usize, transpose: bool) -> (isize, isize) {
    // Stored row-major: when transposed, op(a) is rows x cols but memory is cols x rows.
    if transpose {
        (1, rows as isize)
    } else {
        (cols as isize, 1)
    }
}

/// Checks the slice lengths the unsafe GEMM call relies on.
fn check_lengths(m: usize, k: usize, n: usize, a: usize, b: usize, c: usize) {
    assert!(a >= m * k, "gemm: a has {a} elements, needs {}", m * k);
    assert!(b >= k * n, "gemm: b has {b} elements, needs {}", k * n);
    assert!(c >= m * n, "gemm: c has {c} elements, needs {}", m * n);
}

macro_rules! impl_float {
    ($t:ty, $gemm:path) => {
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
                check_lengths(m, k, n, a.len(), b.len(), c.len());
                let (rsa, csa) = strides(m, k, transpose_a);
                let (rsb, csb) = strides(k, n, transpose_b);
                // SAFETY: `check_lengths` proved that `a` holds m*k, `b` k*n and
                // `c` m*n elements. With the strides above, every index
                // matrixmultiply forms is `i*rs + j*cs` with i < rows and
                // j < cols, which is at most rows*cols - 1 for both the plain
                // (rs = cols, cs = 1) and the transposed (rs = 1, cs = rows)
                // layout, so all reads and writes stay in bounds. `c` is a
                // unique borrow, so it aliases neither `a` nor `b`.
                unsafe {
                    $gemm(
                        m,
                        k,
                        n,
                        alpha,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        rsb,
                        csb,
                        beta,
                        c.as_mut_ptr(),
                        n as isize,
                        1,
                    );
                }
            }
        }
    };
}

impl_float!(f32, matrixmultiply::sgemm);
impl_float!(f64, matrixmultiply::dgemm);
