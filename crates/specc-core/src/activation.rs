//! Element-wise activations, in place, and their backward passes written in
//! terms of the activation's output `y` (so the forward input need not be
//! kept), except for those whose output does not determine their input
//! (silu, gelu, hard_swish), whose backward passes take the input `x`.

use crate::Float;
use crate::elementwise::by_ranges;
use crate::simd::multiversion;

/// Defines an element-wise activation in place, `fn name(v, args...)` from
/// `|x| y`, and its backward pass, `fn name_backward(kept, dy, args...)`
/// from `|d| d * f'`, where `kept` is the output `y` or, for activations
/// whose output does not determine their input, the input `x`: the one
/// place that writes the loops (split over the ranges `by_ranges` gives the
/// instruction set).
macro_rules! elementwise {
    (
        $(#[$fdoc:meta])* fn $name:ident($($arg:ident),*) |$x:ident| $forward:expr;
        $(#[$bdoc:meta])* fn $back:ident($kept:ident) |$d:ident| $backward:expr;
    ) => {
        $(#[$fdoc])*
        pub fn $name<F: Float>(v: &mut [F] $(, $arg: F)*) {
            by_ranges(
                [],
                v,
                #[inline(always)]
                |[], v| {
                    for value in v {
                        let $x = *value;
                        *value = $forward;
                    }
                },
            );
        }

        $(#[$bdoc])*
        #[cfg(feature = "backward")]
        pub fn $back<F: Float>($kept: &[F], dy: &mut [F] $(, $arg: F)*) {
            by_ranges(
                [$kept],
                dy,
                #[inline(always)]
                |[$kept], dy| {
                    for (grad, &$kept) in dy.iter_mut().zip($kept) {
                        let $d = *grad;
                        *grad = $backward;
                    }
                },
            );
        }
    };
}

elementwise! {
    /// `max(x, 0)`.
    fn relu() |x| if x > F::ZERO { x } else { F::ZERO };
    /// `dy *= (y > 0)`
    fn relu_backward(y) |d| if y > F::ZERO { d } else { F::ZERO };
}

elementwise! {
    /// `x` if `x >= 0`, else `alpha x`.
    fn leaky_relu(alpha) |x| if x < F::ZERO { x * alpha } else { x };
    /// `dy *= 1 if y > 0 else alpha` (for `alpha >= 0`, `y > 0` exactly when the input was).
    fn leaky_relu_backward(y) |d| if y <= F::ZERO { d * alpha } else { d };
}

elementwise! {
    /// `x` if `x > 0`, else `alpha (exp(x) - 1)`.
    fn elu(alpha) |x| if x > F::ZERO { x } else { alpha * (x.exp() - F::ONE) };
    /// `dy *= 1 if y > 0 else y + alpha` (for `alpha >= 0`, `y > 0` exactly
    /// when the input was, and `alpha exp(x) = y + alpha` below).
    fn elu_backward(y) |d| if y > F::ZERO { d } else { d * (y + alpha) };
}

elementwise! {
    /// `1 / (1 + exp(-x))`.
    fn sigmoid() |x| logistic(x);
    /// `dy *= y (1 - y)`
    fn sigmoid_backward(y) |d| d * (y * (F::ONE - y));
}

elementwise! {
    fn tanh() |x| x.tanh();
    /// `dy *= 1 - y^2`
    fn tanh_backward(y) |d| d * (F::ONE - y * y);
}

elementwise! {
    /// `min(max(x, 0), 6)` (MobileNet's clipped ReLU).
    fn relu6() |x| if x > F::ZERO { x.min(F::from_f64(6.0)) } else { F::ZERO };
    /// `dy *= (0 < y < 6)`
    fn relu6_backward(y) |d| if y > F::ZERO && y < F::from_f64(6.0) { d } else { F::ZERO };
}

elementwise! {
    /// `min(max(x / 6 + 1/2, 0), 1)` (PyTorch's `hardsigmoid`, ONNX's
    /// `HardSigmoid` with alpha 1/6 and beta 1/2).
    fn hard_sigmoid() |x| hard_gate(x);
    /// `dy *= 1/6 if 0 < y < 1 else 0`
    fn hard_sigmoid_backward(y) |d| if y > F::ZERO && y < F::ONE { d * F::from_f64(1.0 / 6.0) } else { F::ZERO };
}

elementwise! {
    /// `ln(1 + exp(x))`, as `max(x, 0) + ln(1 + exp(-|x|))` so that it neither
    /// overflows nor loses small values.
    fn softplus() |x| x.max(F::ZERO) + (-x.abs()).exp().ln_1p();
    /// `dy *= sigmoid(x) = 1 - exp(-y)` (softplus is increasing, so `y` gives `x`).
    fn softplus_backward(y) |d| d * -(-y).exp_m1();
}

elementwise! {
    /// `x sigmoid(x)` (swish).
    fn silu() |x| x * logistic(x);
    /// `dy *= s (1 + x (1 - s))` with `s = sigmoid(x)`, from the input `x`.
    fn silu_backward(x) |d| {
        let s = logistic(x);
        d * (s * (F::ONE + x * (F::ONE - s)))
    };
}

elementwise! {
    /// `x min(max(x / 6 + 1/2, 0), 1)` (MobileNetV3's hard swish).
    fn hard_swish() |x| x * hard_gate(x);
    /// `dy *= 0 below -3, 1 above 3, (2x + 3) / 6 between`, from the input `x`.
    fn hard_swish_backward(x) |d| {
        let three = F::from_f64(3.0);
        d * if x <= -three {
            F::ZERO
        } else if x >= three {
            F::ONE
        } else {
            (F::from_f64(2.0) * x + three) * F::from_f64(1.0 / 6.0)
        }
    };
}

elementwise! {
    /// `x Phi(x) = x (1 + erf(x / sqrt 2)) / 2` (the exact GELU, PyTorch's default).
    fn gelu() |x| x * normal_cdf(x);
    /// `dy *= Phi(x) + x phi(x)`, from the input `x`.
    fn gelu_backward(x) |d| {
        // phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        let pdf = F::from_f64(0.398_942_280_401_432_7) * (F::from_f64(-0.5) * x * x).exp();
        d * (normal_cdf(x) + x * pdf)
    };
}

/// `sqrt(2 / pi)` and the cubic's coefficient of the tanh approximation.
const GELU_K: f64 = 0.797_884_560_802_865_4;
const GELU_C: f64 = 0.044_715;

elementwise! {
    /// `x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2` (GELU's tanh
    /// approximation, PyTorch's `approximate = "tanh"`).
    fn gelu_tanh() |x| {
        let u = F::from_f64(GELU_K) * (x + F::from_f64(GELU_C) * x * x * x);
        x * (F::from_f64(0.5) * (F::ONE + u.tanh()))
    };
    /// `dy *= (1 + t) / 2 + x (1 - t^2) k (1 + 3 c x^2) / 2` with `t = tanh(k (x +
    /// c x^3))`, from the input `x`.
    fn gelu_tanh_backward(x) |d| {
        let (half, k, c) = (F::from_f64(0.5), F::from_f64(GELU_K), F::from_f64(GELU_C));
        let t = (k * (x + c * x * x * x)).tanh();
        d * (half * (F::ONE + t) + half * x * (F::ONE - t * t) * k * (F::ONE + F::from_f64(3.0) * c * x * x))
    };
}

/// `min(max(x / 6 + 1/2, 0), 1)`: hard_sigmoid, hard_swish's gate.
#[inline(always)]
fn hard_gate<F: Float>(x: F) -> F {
    let t = x * F::from_f64(1.0 / 6.0) + F::from_f64(0.5);
    if t > F::ZERO { t.min(F::ONE) } else { F::ZERO }
}

/// `Phi(x) = (1 + erf(x / sqrt 2)) / 2`, the normal distribution's CDF.
#[inline(always)]
fn normal_cdf<F: Float>(x: F) -> F {
    F::from_f64(0.5) * (F::ONE + (x * F::from_f64(core::f64::consts::FRAC_1_SQRT_2)).erf())
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
        // Away from the kinks at -3, 0, 3 and 6.
        let clipped = [0.5, -1.5, 2.0, -0.1, 5.5, 7.0, -4.0, 2.9];
        check(relu6, relu6_backward, &clipped);
        check(hard_sigmoid, hard_sigmoid_backward, &clipped);
        check(
            softplus,
            softplus_backward,
            &[0.5, -1.5, 2.0, -0.1, 20.0, -20.0, -3.0],
        );
        // Backward from the input: `check` hands over the output, so wrap.
        let from_input = |forward: fn(&mut [f64]), backward: fn(&[f64], &mut [f64]), x: &[f64]| {
            let xs = x.to_vec();
            check(forward, |_, d| backward(&xs, d), x);
        };
        from_input(silu, silu_backward, &clipped);
        from_input(hard_swish, hard_swish_backward, &clipped);
        from_input(gelu, gelu_backward, &clipped);
        from_input(gelu_tanh, gelu_tanh_backward, &clipped);
    }

    #[test]
    fn gelu_and_swish_follow_their_formulas() {
        let x: [f64; 7] = [-5.0, -2.0, -0.5, 0.0, 0.7, 2.5, 9.0];
        let (mut s, mut h, mut g, mut t) = (x, x, x, x);
        silu(&mut s);
        hard_swish(&mut h);
        gelu(&mut g);
        gelu_tanh(&mut t);
        for (i, x) in x.into_iter().enumerate() {
            assert!((s[i] - x / (1.0 + (-x).exp())).abs() < 1e-15, "silu({x})");
            assert!(
                (h[i] - x * (x + 3.0).clamp(0.0, 6.0) / 6.0).abs() < 1e-15,
                "hard_swish({x})"
            );
            // The tanh form is within 1e-3 of the exact one everywhere.
            assert!(
                (g[i] - t[i]).abs() < 1e-3,
                "gelu({x}) {} vs tanh form {}",
                g[i],
                t[i]
            );
        }
        // Phi(1) = 0.841344746068543 (tables).
        let mut one = [1.0f64];
        gelu(&mut one);
        assert!((one[0] - 0.841_344_746_068_543).abs() < 1e-14, "{}", one[0]);
    }

    #[test]
    fn clipped_and_smooth_activations_follow_their_formulas() {
        let x: [f64; 11] = [-40.0, -4.0, -1.0, 0.0, 1e-9, 2.0, 5.0, 6.5, 40.0, 800.0, -800.0];
        let (mut r, mut h, mut s) = (x, x, x);
        relu6(&mut r);
        hard_sigmoid(&mut h);
        softplus(&mut s);
        for (i, x) in x.into_iter().enumerate() {
            assert_eq!(r[i], x.clamp(0.0, 6.0), "relu6({x})");
            assert!(
                (h[i] - (x / 6.0 + 0.5).clamp(0.0, 1.0)).abs() < 1e-16,
                "hard_sigmoid({x})"
            );
            // ln(1 + e^x), from its series where e^x is tiny, directly elsewhere.
            let want = if x < -30.0 {
                x.exp()
            } else if x > 30.0 {
                x
            } else {
                x.exp().ln_1p()
            };
            assert!(
                (s[i] - want).abs() <= 1e-15 * want.abs().max(1e-300),
                "softplus({x}) = {}, expected {want}",
                s[i]
            );
        }
        let mut tiny = [-100.0f32];
        softplus(&mut tiny);
        assert!(tiny[0] > 0.0, "softplus keeps e^-100 in f32: {}", tiny[0]);
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
