//! Losses: each returns the mean loss over the batch (in f64) and writes the
//! gradient with respect to the model's output or logits, already divided by
//! the batch size.

use specc_core::Float;
use specc_core::activation::logistic as sigmoid;

/// Softmax cross-entropy on logits (`batch x classes`) against class indices,
/// computed with log-sum-exp: `loss = logsumexp(z) - z[t]`,
/// `dz = softmax(z) - onehot(t)`, divided by the batch.
pub fn cross_entropy<F: Float>(logits: &[F], classes: &[u32], k: usize, grad: &mut [F]) -> f64 {
    let batch = classes.len();
    let scale = F::from_f64(1.0 / batch as f64);
    let mut total = 0.0f64;
    for ((z, g), &t) in logits.chunks_exact(k).zip(grad.chunks_exact_mut(k)).zip(classes) {
        let t = t as usize;
        assert!(t < k, "class index {t} out of range for {k} classes");
        let max = z.iter().copied().fold(z[0], F::max);
        let mut sum = F::ZERO;
        for (gi, &zi) in g.iter_mut().zip(z) {
            let e = (zi - max).exp();
            *gi = e;
            sum += e;
        }
        total += (sum.ln() + max - z[t]).to_f64();
        let inv = F::ONE / sum;
        for gi in g.iter_mut() {
            *gi = *gi * inv * scale;
        }
        g[t] -= scale;
    }
    total / batch as f64
}

/// Sigmoid cross-entropy on logits against 0/1 targets, the mean over all
/// outputs: `max(z, 0) - z t + ln(1 + exp(-|z|))`, `dz = sigmoid(z) - t`.
pub fn binary_cross_entropy<F: Float>(logits: &[F], targets: &[F], grad: &mut [F]) -> f64 {
    let n = logits.len();
    let scale = F::from_f64(1.0 / n as f64);
    let mut total = 0.0f64;
    for ((g, &z), &t) in grad.iter_mut().zip(logits).zip(targets) {
        total += (z.max(F::ZERO) - z * t + (F::ONE + (-z.abs()).exp()).ln()).to_f64();
        *g = (sigmoid(z) - t) * scale;
    }
    total / n as f64
}

/// Mean squared error over all outputs: `(y - t)^2`, `dy = 2 (y - t) / n`.
pub fn mse<F: Float>(output: &[F], targets: &[F], grad: &mut [F]) -> f64 {
    let n = output.len();
    let scale = F::from_f64(2.0 / n as f64);
    let mut total = 0.0f64;
    for ((g, &y), &t) in grad.iter_mut().zip(output).zip(targets) {
        let d = y - t;
        total += (d * d).to_f64();
        *g = d * scale;
    }
    total / n as f64
}

/// Mean absolute error: `|y - t|`, `dy = sign(y - t) / n` (0 at 0).
pub fn mae<F: Float>(output: &[F], targets: &[F], grad: &mut [F]) -> f64 {
    let n = output.len();
    let scale = F::from_f64(1.0 / n as f64);
    let mut total = 0.0f64;
    for ((g, &y), &t) in grad.iter_mut().zip(output).zip(targets) {
        let d = y - t;
        total += d.abs().to_f64();
        *g = if d > F::ZERO {
            scale
        } else if d < F::ZERO {
            -scale
        } else {
            F::ZERO
        };
    }
    total / n as f64
}

/// Huber loss: `0.5 d^2` where `|d| <= delta`, else `delta (|d| - 0.5 delta)`;
/// its gradient is `d` clamped to `[-delta, delta]`, over `n`.
pub fn huber<F: Float>(output: &[F], targets: &[F], delta: F, grad: &mut [F]) -> f64 {
    let n = output.len();
    let scale = F::from_f64(1.0 / n as f64);
    let half = F::from_f64(0.5);
    let mut total = 0.0f64;
    for ((g, &y), &t) in grad.iter_mut().zip(output).zip(targets) {
        let d = y - t;
        let a = d.abs();
        total += if a <= delta {
            half * d * d
        } else {
            delta * (a - half * delta)
        }
        .to_f64();
        *g = d.max(-delta).min(delta) * scale;
    }
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of a loss in f64 against its analytic gradient.
    fn check(loss: impl Fn(&[f64], &mut [f64]) -> f64, at: &[f64]) {
        let mut grad = vec![0.0; at.len()];
        loss(at, &mut grad);
        let mut scratch = vec![0.0; at.len()];
        for i in 0..at.len() {
            let h = 1e-6;
            let mut plus = at.to_vec();
            plus[i] += h;
            let mut minus = at.to_vec();
            minus[i] -= h;
            let numeric = (loss(&plus, &mut scratch) - loss(&minus, &mut scratch)) / (2.0 * h);
            assert!(
                (numeric - grad[i]).abs() < 1e-7,
                "component {i}: numeric {numeric}, analytic {}",
                grad[i]
            );
        }
    }

    const Z: [f64; 6] = [0.3, -1.2, 2.0, 0.05, -0.7, 1.1];

    #[test]
    fn cross_entropy_gradient_and_value() {
        check(|z, g| cross_entropy(z, &[2, 0], 3, g), &Z);
        let mut g = [0.0; 3];
        let loss = cross_entropy(&[0.0, 0.0, 0.0], &[1], 3, &mut g);
        assert!((loss - 3f64.ln()).abs() < 1e-12);
        // Large logits stay finite.
        assert!(cross_entropy(&[1000.0, -1000.0], &[1], 2, &mut [0.0; 2]).is_finite());
    }

    #[test]
    fn binary_cross_entropy_gradient_and_value() {
        let t = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        check(|z, g| binary_cross_entropy(z, &t, g), &Z);
        let loss = binary_cross_entropy(&[0.0], &[1.0], &mut [0.0]);
        assert!((loss - 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn regression_losses() {
        let t = [0.1, 0.2, 0.3, -0.4, 0.5, 2.5];
        check(|y, g| mse(y, &t, g), &Z);
        check(|y, g| mae(y, &t, g), &Z);
        check(|y, g| huber(y, &t, 1.0, g), &Z);
        assert_eq!(mse(&[3.0], &[1.0], &mut [0.0]), 4.0);
        assert_eq!(huber(&[3.0], &[1.0], 1.0, &mut [0.0]), 1.5);
    }
}
