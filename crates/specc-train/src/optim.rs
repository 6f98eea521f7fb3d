//! Optimizer updates: one fused pass over a tensor's value, gradient and
//! state, with weight decay and clipping folded into the gradient read.
//! Large tensors are cut into ranges updated on different threads (each
//! element's update is independent of the others, so the result does not
//! depend on the thread count), each compiled for the CPU's vector unit.

use specc_core::{Float, par, simd};

/// The optimizer state slices (up to three) that go with a tensor.
type State<'a, F> = [Option<&'a mut [F]>; 3];

/// Runs `update(w, g, state)` on matching ranges of the tensor, its
/// gradient and its state, spread over threads.
fn by_ranges<F: Float>(
    w: &mut [F],
    g: &[F],
    state: State<'_, F>,
    update: impl Fn(&mut [F], &[F], State<'_, F>) + Sync,
) {
    let len = w.len();
    assert!(
        g.len() >= len,
        "optimizer: the gradient has {} values, needs {len}",
        g.len()
    );
    let per = par::part_len(len, 1 << 14, 64);
    let mut state = state.map(|s| {
        s.map(|s| {
            assert!(
                s.len() >= len,
                "optimizer: a state has {} values, needs {len}",
                s.len()
            );
            s[..len].chunks_mut(per)
        })
    });
    let parts = w.chunks_mut(per).zip(g.chunks(per)).map(|(w, g)| {
        let state = [0, 1, 2].map(|i| state[i].as_mut().map(|s| s.next().expect("as many ranges as w")));
        (w, g, state)
    });
    par::for_each_part(parts, |_, (w, g, state)| {
        simd::dispatch(
            #[inline(always)]
            || update(w, g, state),
        )
    });
}

/// The state slice an optimizer passed to [`by_ranges`].
fn given<F>(s: Option<&mut [F]>) -> &mut [F] {
    s.expect("the optimizer passed this state")
}

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
    by_ranges(
        w,
        g,
        [None, None, None],
        #[inline(always)]
        |w, g, _| {
            for (w, &g) in w.iter_mut().zip(g) {
                let g = t.apply(g, *w);
                *w -= lr * g;
            }
        },
    );
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
    by_ranges(
        w,
        g,
        [Some(velocity), None, None],
        #[inline(always)]
        |w, g, [velocity, _, _]| {
            for ((w, &g), v) in w.iter_mut().zip(g).zip(given(velocity)) {
                let g = t.apply(g, *w);
                *v = momentum * *v - lr * g;
                if nesterov {
                    *w += momentum * *v - lr * g;
                } else {
                    *w += *v;
                }
            }
        },
    );
}

/// Adagrad (Keras 2 / `ResourceApplyAdagradV2`, as docs/language.md):
/// `a += g^2`; `w -= lr g / (sqrt(a) + eps)`.
///
/// `accumulator` starts at the optimizer's `initial_accumulator` (0.1 by
/// default), not at zero; the generated `new()` fills it.
pub fn adagrad<F: Float>(w: &mut [F], g: &[F], accumulator: &mut [F], lr: F, eps: F, t: GradTransform<F>) {
    by_ranges(
        w,
        g,
        [Some(accumulator), None, None],
        #[inline(always)]
        |w, g, [accumulator, _, _]| {
            for ((w, &g), a) in w.iter_mut().zip(g).zip(given(accumulator)) {
                let g = t.apply(g, *w);
                *a += g * g;
                *w -= lr * g / (a.sqrt() + eps);
            }
        },
    );
}

/// RMSprop (Keras `RMSprop`): `s = rho s + (1 - rho) g^2`; centred:
/// `m = rho m + (1 - rho) g`, `d = s - m^2`, else `d = s`;
/// `inc = lr g / sqrt(d + eps)`; with momentum `v = momentum v + inc`,
/// `w -= v`, else `w -= inc`.
///
/// `mean` (the centred first moment) is `Some` exactly when `centered`,
/// `velocity` exactly when `momentum > 0`. Each combination is its own
/// loop, so every one stays a straight pass over zipped slices.
#[allow(clippy::too_many_arguments)]
pub fn rmsprop<F: Float>(
    w: &mut [F],
    g: &[F],
    square: &mut [F],
    mean: Option<&mut [F]>,
    velocity: Option<&mut [F]>,
    lr: F,
    rho: F,
    momentum: F,
    eps: F,
    t: GradTransform<F>,
) {
    let one_minus_rho = F::ONE - rho;
    by_ranges(
        w,
        g,
        [Some(square), mean, velocity],
        #[inline(always)]
        |w, g, [square, mean, velocity]| {
            let ws = w.iter_mut().zip(g).zip(given(square));
            match (mean, velocity) {
                (None, None) => {
                    for ((w, &g), s) in ws {
                        let g = t.apply(g, *w);
                        *s = rho * *s + one_minus_rho * g * g;
                        *w -= lr * g / (*s + eps).sqrt();
                    }
                }
                (Some(mean), None) => {
                    for (((w, &g), s), m) in ws.zip(mean) {
                        let g = t.apply(g, *w);
                        *s = rho * *s + one_minus_rho * g * g;
                        *m = rho * *m + one_minus_rho * g;
                        *w -= lr * g / (*s - *m * *m + eps).sqrt();
                    }
                }
                (None, Some(velocity)) => {
                    for (((w, &g), s), v) in ws.zip(velocity) {
                        let g = t.apply(g, *w);
                        *s = rho * *s + one_minus_rho * g * g;
                        *v = momentum * *v + lr * g / (*s + eps).sqrt();
                        *w -= *v;
                    }
                }
                (Some(mean), Some(velocity)) => {
                    for ((((w, &g), s), m), v) in ws.zip(mean).zip(velocity) {
                        let g = t.apply(g, *w);
                        *s = rho * *s + one_minus_rho * g * g;
                        *m = rho * *m + one_minus_rho * g;
                        *v = momentum * *v + lr * g / (*s - *m * *m + eps).sqrt();
                        *w -= *v;
                    }
                }
            }
        },
    );
}

/// Adadelta (Keras `Adadelta`, Zeiler 2012 with a learning rate):
/// `a = rho a + (1 - rho) g^2`; `u = sqrt(d + eps) / sqrt(a + eps) g`;
/// `d = rho d + (1 - rho) u^2`; `w -= lr u`.
///
/// `grad_acc` is `a` (squared gradients), `update_acc` is `d` (squared
/// updates); both start at zero.
#[allow(clippy::too_many_arguments)]
pub fn adadelta<F: Float>(
    w: &mut [F],
    g: &[F],
    grad_acc: &mut [F],
    update_acc: &mut [F],
    lr: F,
    rho: F,
    eps: F,
    t: GradTransform<F>,
) {
    let one_minus_rho = F::ONE - rho;
    by_ranges(
        w,
        g,
        [Some(grad_acc), Some(update_acc), None],
        #[inline(always)]
        |w, g, [a, d, _]| {
            for (((w, &g), a), d) in w.iter_mut().zip(g).zip(given(a)).zip(given(d)) {
                let g = t.apply(g, *w);
                *a = rho * *a + one_minus_rho * g * g;
                let u = (*d + eps).sqrt() / (*a + eps).sqrt() * g;
                *d = rho * *d + one_minus_rho * u * u;
                *w -= lr * u;
            }
        },
    );
}

/// `lr sqrt(1 - beta2^t) / (1 - beta1^t)`, Adam's bias-corrected step size
/// at step `t` (from 1), computed in f64.
fn adam_step_size<F: Float>(lr: F, beta1: F, beta2: F, step: u64) -> F {
    let t = i32::try_from(step).unwrap_or(i32::MAX);
    let correction = (1.0 - beta2.to_f64().powi(t)).sqrt() / (1.0 - beta1.to_f64().powi(t));
    F::from_f64(lr.to_f64() * correction)
}

/// Adam (Keras `Adam`, Kingma and Ba 2014 in its "efficient" form):
/// `m = beta1 m + (1 - beta1) g`; `v = beta2 v + (1 - beta2) g^2`;
/// `w -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps)`.
/// With AMSGrad (`vhat` is `Some`), `vhat = max(vhat, v)` replaces `v` in the
/// denominator. `step` is `t`, counting from 1.
#[allow(clippy::too_many_arguments)]
pub fn adam<F: Float>(
    w: &mut [F],
    g: &[F],
    m: &mut [F],
    v: &mut [F],
    vhat: Option<&mut [F]>,
    lr: F,
    beta1: F,
    beta2: F,
    eps: F,
    step: u64,
    t: GradTransform<F>,
) {
    adam_inner(w, g, m, v, vhat, lr, beta1, beta2, eps, F::ZERO, step, t);
}

/// AdamW (Keras `AdamW`, Loshchilov and Hutter 2017): the decoupled decay
/// `w -= lr weight_decay w` (on the weight before this step), then the Adam
/// update of [`adam`] with the same gradient.
#[allow(clippy::too_many_arguments)]
pub fn adamw<F: Float>(
    w: &mut [F],
    g: &[F],
    m: &mut [F],
    v: &mut [F],
    vhat: Option<&mut [F]>,
    lr: F,
    beta1: F,
    beta2: F,
    eps: F,
    weight_decay: F,
    step: u64,
    t: GradTransform<F>,
) {
    adam_inner(w, g, m, v, vhat, lr, beta1, beta2, eps, weight_decay, step, t);
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn adam_inner<F: Float>(
    w: &mut [F],
    g: &[F],
    m: &mut [F],
    v: &mut [F],
    vhat: Option<&mut [F]>,
    lr: F,
    beta1: F,
    beta2: F,
    eps: F,
    weight_decay: F,
    step: u64,
    t: GradTransform<F>,
) {
    let alpha = adam_step_size(lr, beta1, beta2, step);
    let decay = lr * weight_decay;
    let (one_minus_b1, one_minus_b2) = (F::ONE - beta1, F::ONE - beta2);
    by_ranges(
        w,
        g,
        [Some(m), Some(v), vhat],
        #[inline(always)]
        |w, g, [m, v, vhat]| {
            let ws = w.iter_mut().zip(g).zip(given(m)).zip(given(v));
            match vhat {
                None => {
                    for (((w, &g), m), v) in ws {
                        let g = t.apply(g, *w);
                        *w -= decay * *w;
                        *m = beta1 * *m + one_minus_b1 * g;
                        *v = beta2 * *v + one_minus_b2 * g * g;
                        *w -= alpha * *m / (v.sqrt() + eps);
                    }
                }
                Some(vhat) => {
                    for ((((w, &g), m), v), vh) in ws.zip(vhat) {
                        let g = t.apply(g, *w);
                        *w -= decay * *w;
                        *m = beta1 * *m + one_minus_b1 * g;
                        *v = beta2 * *v + one_minus_b2 * g * g;
                        *vh = vh.max(*v);
                        *w -= alpha * *m / (vh.sqrt() + eps);
                    }
                }
            }
        },
    );
}

/// Adamax (Keras `Adamax`, Kingma and Ba 2014, section 7.1):
/// `m = beta1 m + (1 - beta1) g`; `u = max(beta2 u, |g|)`;
/// `w -= lr / (1 - beta1^t) m / (u + eps)`. `step` is `t`, counting from 1.
#[allow(clippy::too_many_arguments)]
pub fn adamax<F: Float>(
    w: &mut [F],
    g: &[F],
    m: &mut [F],
    u: &mut [F],
    lr: F,
    beta1: F,
    beta2: F,
    eps: F,
    step: u64,
    t: GradTransform<F>,
) {
    let steps = i32::try_from(step).unwrap_or(i32::MAX);
    let alpha = F::from_f64(lr.to_f64() / (1.0 - beta1.to_f64().powi(steps)));
    let one_minus_b1 = F::ONE - beta1;
    by_ranges(
        w,
        g,
        [Some(m), Some(u), None],
        #[inline(always)]
        |w, g, [m, u, _]| {
            for (((w, &g), m), u) in w.iter_mut().zip(g).zip(given(m)).zip(given(u)) {
                let g = t.apply(g, *w);
                *m = beta1 * *m + one_minus_b1 * g;
                *u = (beta2 * *u).max(g.abs());
                *w -= alpha * *m / (*u + eps);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The gradient transforms every kernel is checked under: none, and L2
    /// decay with scaling and clipping (which this problem's gradients hit).
    fn transforms() -> [GradTransform<f64>; 2] {
        [
            GradTransform::identity(),
            GradTransform {
                decay: 0.05,
                scale: 0.8,
                clip: 1.5,
            },
        ]
    }

    /// For each transform, `make()` gives a fresh kernel `(w, g, t, step)`
    /// and a fresh rule `(i, w_i, g_i, step)` with their own state. Runs the
    /// kernel for five steps on `w = [1, -2, 0.5]` with the gradient
    /// `g = 2 w + c` (`c` changing every step), and after every step compares
    /// each component to the rule applied to its own f64 copy of `w`, which
    /// receives the gradient after the transform, computed here by hand.
    /// Steps count from 1. The tests use `eps = 1e-3` rather than the
    /// default 1e-7 so that where `eps` enters (`sqrt(a) + eps` against
    /// `sqrt(a + eps)`) changes the result by more than the tolerance.
    fn check<K, R>(name: &str, make: impl Fn() -> (K, R))
    where
        K: FnMut(&mut [f64], &[f64], GradTransform<f64>, u64),
        R: FnMut(usize, &mut f64, f64, u64),
    {
        for t in transforms() {
            let (mut kernel, mut rule) = make();
            let mut w = vec![1.0f64, -2.0, 0.5];
            let mut expected = w.clone();
            for step in 1..=5u64 {
                let c = [0.1 * step as f64, -0.3, 0.05 * (step as f64 - 3.0)];
                let g: Vec<f64> = (0..3).map(|i| 2.0 * w[i] + c[i]).collect();
                kernel(&mut w, &g, t, step);
                for i in 0..3 {
                    let transformed = ((g[i] + t.decay * expected[i]) * t.scale).clamp(-t.clip, t.clip);
                    rule(i, &mut expected[i], transformed, step);
                    let (got, want) = (w[i], expected[i]);
                    assert!(
                        (got - want).abs() <= 1e-6 * want.abs() + 1e-12,
                        "{name} ({t:?}): step {step}, w[{i}] = {got}, expected {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn sgd_follows_its_rule() {
        let lr = 0.1;
        check("sgd", || {
            (
                move |w: &mut [f64], g: &[f64], t, _| sgd(w, g, lr, t),
                move |_, w: &mut f64, g: f64, _| *w -= lr * g,
            )
        });
    }

    #[test]
    fn sgd_momentum_follows_its_rule() {
        let (lr, momentum) = (0.1, 0.9);
        for nesterov in [false, true] {
            check("sgd momentum", || {
                let mut velocity = vec![0.0; 3];
                let mut v = [0.0; 3];
                (
                    move |w: &mut [f64], g: &[f64], t, _| {
                        sgd_momentum(w, g, &mut velocity, lr, momentum, nesterov, t)
                    },
                    move |i: usize, w: &mut f64, g: f64, _| {
                        v[i] = momentum * v[i] - lr * g;
                        if nesterov {
                            *w += momentum * v[i] - lr * g;
                        } else {
                            *w += v[i];
                        }
                    },
                )
            });
        }
    }

    #[test]
    fn adagrad_follows_its_rule() {
        let (lr, initial, eps) = (0.1, 0.1, 1e-3);
        check("adagrad", || {
            let mut accumulator = vec![initial; 3];
            let mut a = [initial; 3];
            (
                move |w: &mut [f64], g: &[f64], t, _| adagrad(w, g, &mut accumulator, lr, eps, t),
                move |i: usize, w: &mut f64, g: f64, _| {
                    a[i] += g * g;
                    *w -= lr * g / (a[i].sqrt() + eps);
                },
            )
        });
    }

    #[test]
    fn rmsprop_follows_its_rule_in_every_variant() {
        let (lr, rho, eps) = (0.01, 0.9, 1e-3);
        for centered in [false, true] {
            for momentum in [0.0, 0.8] {
                let name = format!("rmsprop centered = {centered}, momentum = {momentum}");
                check(&name, || {
                    let mut square = vec![0.0; 3];
                    let mut mean = [0.0; 3];
                    let mut velocity = [0.0; 3];
                    let (mut s, mut m, mut v) = ([0.0; 3], [0.0; 3], [0.0; 3]);
                    (
                        move |w: &mut [f64], g: &[f64], t, _| {
                            let mean = centered.then_some(&mut mean[..]);
                            let velocity = (momentum > 0.0).then_some(&mut velocity[..]);
                            rmsprop(w, g, &mut square, mean, velocity, lr, rho, momentum, eps, t)
                        },
                        move |i: usize, w: &mut f64, g: f64, _| {
                            s[i] = rho * s[i] + (1.0 - rho) * g * g;
                            let d = if centered {
                                m[i] = rho * m[i] + (1.0 - rho) * g;
                                s[i] - m[i] * m[i]
                            } else {
                                s[i]
                            };
                            let inc = lr * g / (d + eps).sqrt();
                            if momentum > 0.0 {
                                v[i] = momentum * v[i] + inc;
                                *w -= v[i];
                            } else {
                                *w -= inc;
                            }
                        },
                    )
                });
            }
        }
    }

    #[test]
    fn adadelta_follows_its_rule() {
        let (lr, rho, eps) = (1.0, 0.95, 1e-3);
        check("adadelta", || {
            let (mut grad_acc, mut update_acc) = (vec![0.0; 3], vec![0.0; 3]);
            let (mut a, mut d) = ([0.0; 3], [0.0; 3]);
            (
                move |w: &mut [f64], g: &[f64], t, _| {
                    adadelta(w, g, &mut grad_acc, &mut update_acc, lr, rho, eps, t)
                },
                move |i: usize, w: &mut f64, g: f64, _| {
                    a[i] = rho * a[i] + (1.0 - rho) * g * g;
                    let u = (d[i] + eps).sqrt() / (a[i] + eps).sqrt() * g;
                    d[i] = rho * d[i] + (1.0 - rho) * u * u;
                    *w -= lr * u;
                },
            )
        });
    }

    /// The rule of Adam (AMSGrad when asked), with AdamW's decoupled decay
    /// first when `weight_decay` is non-zero.
    fn adam_rule(
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
    ) -> impl FnMut(usize, &mut f64, f64, u64) {
        let (mut m, mut v, mut vhat) = ([0.0; 3], [0.0; 3], [0.0f64; 3]);
        move |i, w, g, step| {
            let t = step as i32;
            *w -= lr * weight_decay * *w;
            m[i] = beta1 * m[i] + (1.0 - beta1) * g;
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
            vhat[i] = vhat[i].max(v[i]);
            let denominator = if amsgrad { vhat[i] } else { v[i] };
            *w -=
                lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t)) * m[i] / (denominator.sqrt() + eps);
        }
    }

    #[test]
    fn adam_follows_its_rule_with_and_without_amsgrad() {
        let (lr, beta1, beta2, eps) = (0.1, 0.9, 0.999, 1e-3);
        for amsgrad in [false, true] {
            check(&format!("adam amsgrad = {amsgrad}"), || {
                let (mut m, mut v, mut vhat) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
                (
                    move |w: &mut [f64], g: &[f64], t, step| {
                        let vhat = amsgrad.then_some(&mut vhat[..]);
                        adam(w, g, &mut m, &mut v, vhat, lr, beta1, beta2, eps, step, t)
                    },
                    adam_rule(lr, beta1, beta2, eps, 0.0, amsgrad),
                )
            });
        }
    }

    #[test]
    fn adamw_decays_then_follows_adam() {
        let (lr, beta1, beta2, eps, wd) = (0.1, 0.8, 0.99, 1e-3, 0.05);
        for amsgrad in [false, true] {
            check(&format!("adamw amsgrad = {amsgrad}"), || {
                let (mut m, mut v, mut vhat) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
                (
                    move |w: &mut [f64], g: &[f64], t, step| {
                        let vhat = amsgrad.then_some(&mut vhat[..]);
                        adamw(w, g, &mut m, &mut v, vhat, lr, beta1, beta2, eps, wd, step, t)
                    },
                    adam_rule(lr, beta1, beta2, eps, wd, amsgrad),
                )
            });
        }
    }

    #[test]
    fn adamax_follows_its_rule() {
        let (lr, beta1, beta2, eps) = (0.1, 0.9, 0.999, 1e-3);
        check("adamax", || {
            let (mut m, mut u) = (vec![0.0; 3], vec![0.0; 3]);
            let (mut em, mut eu) = ([0.0; 3], [0.0f64; 3]);
            (
                move |w: &mut [f64], g: &[f64], t, step| {
                    adamax(w, g, &mut m, &mut u, lr, beta1, beta2, eps, step, t)
                },
                move |i: usize, w: &mut f64, g: f64, step: u64| {
                    em[i] = beta1 * em[i] + (1.0 - beta1) * g;
                    eu[i] = (beta2 * eu[i]).max(g.abs());
                    *w -= lr / (1.0 - beta1.powi(step as i32)) * em[i] / (eu[i] + eps);
                },
            )
        });
    }

    #[test]
    fn adam_in_f32_tracks_f64() {
        let mut w32 = vec![1.0f32, -2.0, 0.5];
        let mut w64 = vec![1.0f64, -2.0, 0.5];
        let (mut m32, mut v32) = (vec![0.0f32; 3], vec![0.0f32; 3]);
        let (mut m64, mut v64) = (vec![0.0f64; 3], vec![0.0f64; 3]);
        for step in 1..=5 {
            let g32: Vec<f32> = w32.iter().map(|w| 2.0 * w + 0.1).collect();
            let g64: Vec<f64> = w64.iter().map(|w| 2.0 * w + 0.1).collect();
            let t32 = GradTransform::identity();
            adam(
                &mut w32, &g32, &mut m32, &mut v32, None, 0.1, 0.9, 0.999, 1e-7, step, t32,
            );
            let t64 = GradTransform::identity();
            adam(
                &mut w64, &g64, &mut m64, &mut v64, None, 0.1, 0.9, 0.999, 1e-7, step, t64,
            );
        }
        for (a, b) in w32.iter().zip(&w64) {
            assert!((f64::from(*a) - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

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
