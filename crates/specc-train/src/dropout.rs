//! Inverted dropout: in training each value is kept with probability
//! `1 - rate` and scaled by `1 / (1 - rate)`, so inference is the identity.

use crate::Rng;
use specc_core::Float;

/// Draws a mask (`0` or `1 / (1 - rate)` per value) and writes `y = x * mask`.
pub fn forward<F: Float>(x: &[F], y: &mut [F], mask: &mut [F], rate: f64, rng: &mut Rng) {
    let keep = F::from_f64(1.0 / (1.0 - rate));
    for ((y, m), &x) in y.iter_mut().zip(mask.iter_mut()).zip(x) {
        *m = if rng.next_f64() >= rate { keep } else { F::ZERO };
        *y = x * *m;
    }
}

/// `dx = dy * mask` (or `dx += dy * mask` when `accumulate`).
pub fn backward<F: Float>(dy: &[F], mask: &[F], dx: &mut [F], accumulate: bool) {
    for ((dx, &dy), &m) in dx.iter_mut().zip(dy).zip(mask) {
        if accumulate {
            *dx += dy * m;
        } else {
            *dx = dy * m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_about_one_minus_rate_and_preserves_the_mean() {
        let n = 100_000;
        let x = vec![1.0f64; n];
        let (mut y, mut mask) = (vec![0.0; n], vec![0.0; n]);
        forward(&x, &mut y, &mut mask, 0.25, &mut Rng::new(4));
        let kept = mask.iter().filter(|&&m| m > 0.0).count() as f64 / n as f64;
        assert!((kept - 0.75).abs() < 0.01, "{kept}");
        let mean = y.iter().sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
        let mut dx = vec![0.0; n];
        backward(&x, &mask, &mut dx, false);
        assert_eq!(dx, y);
        backward(&x, &mask, &mut dx, true);
        assert!(dx.iter().zip(&y).all(|(a, b)| *a == 2.0 * b));
    }
}
