//! Optimizer updates: one fused pass over a tensor's value, gradient and
//! state, with weight decay and clipping folded into the gradient read.

use crate::Float;

/// What happens to a gradient component before the optimizer sees it:
/// `g' = clamp((g + decay * w) * scale, -clip, clip)`.
///
/// `decay` is the L2 `weight_decay` (zero for biases and batchnorm), `scale`
/// the global-norm clipping factor (one without `clip norm`), `clip` the
/// `clip value` bound (infinite without it).
#[derive(Clone, Copy, Debug)]
pub struct GradTransform<F> {
    pub decay: F,
    pub scale: F,
    pub clip: F,
}

impl<F: Float> GradTransform<F> {
    pub fn identity() -> Self {
        GradTransform {
            decay: F::ZERO,
            scale: F::ONE,
            clip: F::from_f64(f64::INFINITY),
        }
    }

    #[inline(always)]
    pub fn apply(&self, g: F, w: F) -> F {
        ((g + self.decay * w) * self.scale).max(-self.clip).min(self.clip)
    }
}

/// The sum of squares of `g + decay * w`, for global-norm clipping.
pub fn decayed_sum_of_squares<F: Float>(w: &[F], g: &[F], decay: F) -> f64 {
    w.iter()
        .zip(g)
        .map(|(&w, &g)| {
            let x = (g + decay * w).to_f64();
            x * x
        })
        .sum()
}

/// The factor `min(1, max_norm / norm)` that global-norm clipping scales by.
pub fn clip_norm_scale(sum_of_squares: f64, max_norm: f64) -> f64 {
    let norm = sum_of_squares.sqrt();
    if norm > max_norm { max_norm / norm } else { 1.0 }
}

/// Plain SGD: `w -= lr g`.
pub fn sgd<F: Float>(w: &mut [F], g: &[F], lr: F, t: GradTransform<F>) {
    for (w, &g) in w.iter_mut().zip(g) {
        let g = t.apply(g, *w);
        *w -= lr * g;
    }
}

/// SGD with momentum (Keras): `v = momentum v - lr g`; `w += v`, or with
/// Nesterov `w += momentum v - lr g`.
pub fn sgd_momentum<F: Float>(
    w: &mut [F],
    g: &[F],
    velocity: &mut [F],
    lr: F,
    momentum: F,
    nesterov: bool,
    t: GradTransform<F>,
) {
    for ((w, &g), v) in w.iter_mut().zip(g).zip(velocity) {
        let g = t.apply(g, *w);
        *v = momentum * *v - lr * g;
        if nesterov {
            *w += momentum * *v - lr * g;
        } else {
            *w += *v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_momentum_follows_the_keras_rule_step_by_step() {
        let (lr, m) = (0.1, 0.9);
        for nesterov in [false, true] {
            let mut w = vec![1.0f64, -2.0];
            let mut v = vec![0.0f64; 2];
            let (mut ew, mut ev) = (w.clone(), v.clone());
            for step in 0..5 {
                let g: Vec<f64> = w.iter().map(|x| 2.0 * x + step as f64 * 0.1).collect();
                sgd_momentum(&mut w, &g, &mut v, lr, m, nesterov, GradTransform::identity());
                for i in 0..2 {
                    ev[i] = m * ev[i] - lr * g[i];
                    ew[i] += if nesterov { m * ev[i] - lr * g[i] } else { ev[i] };
                    assert!((w[i] - ew[i]).abs() <= 1e-12 * ew[i].abs().max(1.0));
                }
            }
        }
    }

    #[test]
    fn transform_decays_scales_and_clips() {
        let t = GradTransform {
            decay: 0.5,
            scale: 2.0,
            clip: 3.0,
        };
        assert_eq!(t.apply(1.0, 2.0), 3.0); // (1 + 1) * 2 = 4, clipped to 3
        assert_eq!(t.apply(0.25, 0.5), 1.0);
        assert_eq!(t.apply(-5.0, 0.0), -3.0);
        assert_eq!(clip_norm_scale(25.0, 1.0), 0.2);
        assert_eq!(clip_norm_scale(0.25, 1.0), 1.0);
    }
}
