//! Element-wise activations, in place, and their backward passes written in
//! terms of the activation's output `y` (so the forward input need not be kept).

use crate::Float;
use crate::elementwise::by_ranges;
use crate::simd::multiversion;

pub fn relu<F: Float>(v: &mut [F]) {
    by_ranges(
        [],
        v,
        #[inline(always)]
        |[], v| {
            for x in v {
                *x = if *x > F::ZERO { *x } else { F::ZERO };
            }
        },
    );
}

/// `dy *= (y > 0)`
#[cfg(feature = "backward")]
pub fn relu_backward<F: Float>(y: &[F], dy: &mut [F]) {
    by_ranges(
        [y],
        dy,
        #[inline(always)]
        |[y], dy| {
            for (d, &y) in dy.iter_mut().zip(y) {
                *d = if y > F::ZERO { *d } else { F::ZERO };
            }
        },
    );
}

pub fn leaky_relu<F: Float>(v: &mut [F], alpha: F) {
    by_ranges(
        [],
        v,
        #[inline(always)]
        |[], v| {
            for x in v {
                *x = if *x < F::ZERO { *x * alpha } else { *x };
            }
        },
    );
}

/// `dy *= 1 if y > 0 else alpha` (for `alpha >= 0`, `y > 0` exactly when the input was).
#[cfg(feature = "backward")]
pub fn leaky_relu_backward<F: Float>(y: &[F], dy: &mut [F], alpha: F) {
    by_ranges(
        [y],
        dy,
        #[inline(always)]
        |[y], dy| {
            for (d, &y) in dy.iter_mut().zip(y) {
                *d = if y <= F::ZERO { *d * alpha } else { *d };
            }
        },
    );
}

/// `x` if `x > 0`, else `alpha (exp(x) - 1)`.
pub fn elu<F: Float>(v: &mut [F], alpha: F) {
    by_ranges(
        [],
        v,
        #[inline(always)]
        |[], v| {
            for x in v {
                *x = if *x > F::ZERO {
                    *x
                } else {
                    alpha * ((*x).exp() - F::ONE)
                };
            }
        },
    );
}

/// `dy *= 1 if y > 0 else y + alpha` (for `alpha >= 0`, `y > 0` exactly
/// when the input was, and `alpha exp(x) = y + alpha` below).
#[cfg(feature = "backward")]
pub fn elu_backward<F: Float>(y: &[F], dy: &mut [F], alpha: F) {
    by_ranges(
        [y],
        dy,
        #[inline(always)]
        |[y], dy| {
            for (d, &y) in dy.iter_mut().zip(y) {
                *d = if y > F::ZERO { *d } else { *d * (y + alpha) };
            }
        },
    );
}

pub fn sigmoid<F: Float>(v: &mut [F]) {
    by_ranges(
        [],
        v,
        #[inline(always)]
        |[], v| {
            for x in v {
                *x = logistic(*x);
            }
        },
    );
}

/// `dy *= y (1 - y)`
#[cfg(feature = "backward")]
pub fn sigmoid_backward<F: Float>(y: &[F], dy: &mut [F]) {
    by_ranges(
        [y],
        dy,
        #[inline(always)]
        |[y], dy| {
            for (d, &y) in dy.iter_mut().zip(y) {
                *d *= y * (F::ONE - y);
            }
        },
    );
}

pub fn tanh<F: Float>(v: &mut [F]) {
    by_ranges(
        [],
        v,
        #[inline(always)]
        |[], v| {
            for x in v {
                *x = x.tanh();
            }
        },
    );
}

/// `dy *= 1 - y^2`
#[cfg(feature = "backward")]
pub fn tanh_backward<F: Float>(y: &[F], dy: &mut [F]) {
    by_ranges(
        [y],
        dy,
        #[inline(always)]
        |[y], dy| {
            for (d, &y) in dy.iter_mut().zip(y) {
                *d *= F::ONE - y * y;
            }
        },
    );
}

/// Softmax of each row of `k` values, stabilised by subtracting the row's maximum.
pub fn softmax<F: Float>(v: &mut [F], k: usize) {
    for row in v.chunks_exact_mut(k) {
        let max = row.iter().copied().fold(row[0], F::max);
        let mut sum = F::ZERO;
        for x in row.iter_mut() {
            *x = (*x - max).exp();
            sum += *x;
        }
        let inv = F::ONE / sum;
        for x in row.iter_mut() {
            *x *= inv;
        }
    }
}

/// `dz = y * (dy - sum(dy * y))` per row.
#[cfg(feature = "backward")]
pub fn softmax_backward<F: Float>(y: &[F], dy: &mut [F], k: usize) {
    for (y, d) in y.chunks_exact(k).zip(dy.chunks_exact_mut(k)) {
        let dot = y.iter().zip(d.iter()).fold(F::ZERO, |acc, (&a, &b)| acc + a * b);
        for (d, &y) in d.iter_mut().zip(y) {
            *d = y * (*d - dot);
        }
    }
}

multiversion! {
    /// Adds `bias` (length `n`) to every row of `v`.
    pub fn add_bias_rows<F: Float>(v: &mut [F], bias: &[F]) {
        for row in v.chunks_exact_mut(bias.len()) {
            for (x, &b) in row.iter_mut().zip(bias) {
                *x += b;
            }
        }
    }
}

multiversion! {
    /// `db = sum over rows of dy`.
    #[cfg(feature = "backward")]
    pub fn bias_gradient_rows<F: Float>(dy: &[F], db: &mut [F]) {
        db.fill(F::ZERO);
        for row in dy.chunks_exact(db.len()) {
            for (g, &d) in db.iter_mut().zip(row) {
                *g += d;
            }
        }
    }
}

/// The logistic function, stable for large |z|.
#[inline(always)]
pub fn logistic<F: Float>(z: F) -> F {
    if z >= F::ZERO {
        F::ONE / (F::ONE + (-z).exp())
    } else {
        let e = z.exp();
        e / (F::ONE + e)
    }
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    /// Each backward pass against central differences of its forward pass, in f64.
    fn check(forward: impl Fn(&mut [f64]), backward: impl Fn(&[f64], &mut [f64]), x: &[f64]) {
        let mut y = x.to_vec();
        forward(&mut y);
        // The gradient of sum(w * y) for fixed weights w.
        let w: Vec<f64> = (0..x.len()).map(|i| 0.3 + 0.1 * i as f64).collect();
        let mut dx = w.clone();
        backward(&y, &mut dx);
        let f = |x: &[f64]| {
            let mut y = x.to_vec();
            forward(&mut y);
            y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        };
        for i in 0..x.len() {
            let h = 1e-6;
            let mut p = x.to_vec();
            p[i] += h;
            let mut m = x.to_vec();
            m[i] -= h;
            let numeric = (f(&p) - f(&m)) / (2.0 * h);
            assert!(
                (numeric - dx[i]).abs() < 1e-7,
                "component {i}: {numeric} vs {}",
                dx[i]
            );
        }
    }

    const X: [f64; 6] = [0.5, -1.5, 2.0, -0.1, 0.9, -3.0];

    #[test]
    fn backward_passes_match_numeric_gradients() {
        check(relu, relu_backward, &X);
        check(|v| leaky_relu(v, 0.1), |y, d| leaky_relu_backward(y, d, 0.1), &X);
        check(|v| elu(v, 0.7), |y, d| elu_backward(y, d, 0.7), &X);
        check(sigmoid, sigmoid_backward, &X);
        check(tanh, tanh_backward, &X);
        check(|v| softmax(v, 3), |y, d| softmax_backward(y, d, 3), &X);
    }

    #[test]
    fn elu_follows_its_formula() {
        let mut v = X;
        elu(&mut v, 0.7);
        for (y, x) in v.iter().zip(X) {
            let want = if x > 0.0 { x } else { 0.7 * x.exp_m1() };
            assert!((y - want).abs() < 1e-15, "elu({x}) = {y}, expected {want}");
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_even_for_large_inputs() {
        let mut v = [1000.0f32, 999.0, -1000.0, 1.0, 2.0, 3.0];
        softmax(&mut v, 3);
        for row in v.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn bias_rows() {
        let mut v = [1.0, 2.0, 3.0, 4.0];
        add_bias_rows(&mut v, &[10.0, 20.0]);
        assert_eq!(v, [11.0, 22.0, 13.0, 24.0]);
        let mut db = [0.0; 2];
        bias_gradient_rows(&v, &mut db);
        assert_eq!(db, [24.0, 46.0]);
    }
}
