//! Batch normalisation per channel, over the batch and the positions.
//!
//! A batch is `batch` samples of `channels * positions` values, channel after
//! channel (`positions` is `H * W` for images and 1 for vectors, where the
//! channels are the features). Training normalises with the batch mean and
//! the biased batch variance and moves the running statistics the Keras way,
//! `running = momentum * running + (1 - momentum) * batch_statistic`;
//! inference uses the running statistics. Sums are accumulated in `f64`.

use crate::par;
#[cfg(feature = "backward")]
use crate::scratch::{self, Slot};
use crate::{Element, Float};

/// The dimensions and hyperparameters of a batch normalisation layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormShape {
    pub channels: usize,
    pub positions: usize,
    pub momentum: f64,
    pub eps: f64,
}

impl BatchNormShape {
    /// The values of one channel in one sample, for each of the `batch` samples.
    #[inline]
    #[cfg(feature = "backward")]
    fn planes<'a, F: Float>(&self, batch: usize, v: &'a [F], c: usize) -> impl Iterator<Item = &'a [F]> + 'a {
        let (p, len) = (self.positions, self.channels * self.positions);
        (0..batch).map(move |b| &v[b * len + c * p..b * len + (c + 1) * p])
    }

    fn check(&self, batch: usize, len: usize, what: &str) {
        let need = batch * self.channels * self.positions;
        assert!(len >= need, "batchnorm {what}: {len} values, needs {need}");
    }
}

/// `y = gamma * xhat + beta` with `xhat = (x - mean) / sqrt(var + eps)`, the
/// mean and biased variance taken per channel over the batch and positions.
/// Stores `xhat` (as many values as `x`) and `inv_std = 1 / sqrt(var + eps)`
/// (`[channels]`) for the backward pass, and updates the running statistics.
#[allow(clippy::too_many_arguments)]
#[cfg(feature = "backward")]
pub fn train_forward<F: Element>(
    s: &BatchNormShape,
    batch: usize,
    x: &[F],
    gamma: &[F],
    beta: &[F],
    y: &mut [F],
    xhat: &mut [F],
    inv_std: &mut [F],
    running_mean: &mut [F],
    running_var: &mut [F],
) {
    let (c_n, p) = (s.channels, s.positions);
    s.check(batch, x.len(), "train_forward x");
    s.check(batch, y.len(), "train_forward y");
    s.check(batch, xhat.len(), "train_forward xhat");
    for v in [
        gamma.len(),
        beta.len(),
        inv_std.len(),
        running_mean.len(),
        running_var.len(),
    ] {
        assert!(
            v >= c_n,
            "batchnorm train_forward: per-channel slice has {v} values, needs {c_n}"
        );
    }
    let n = batch * p;
    if n == 0 {
        return;
    }
    let len = c_n * p;
    scratch::with(Slot::Partials, c_n, |mean| {
        // The statistics, channels spread over threads.
        let channels = par::part_len(c_n, 1.max((1 << 14) / n), 1);
        let parts = inv_std[..c_n]
            .chunks_mut(channels)
            .zip(running_mean[..c_n].chunks_mut(channels))
            .zip(running_var[..c_n].chunks_mut(channels))
            .zip(mean.chunks_mut(channels));
        par::for_each_part(parts, |part, (((inv_std, running_mean), running_var), mean)| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (i, c) in (part * channels..).take(inv_std.len()).enumerate() {
                        // Two passes in f64: the mean, then the centred sum of squares.
                        let planes = || s.planes(batch, x, c).map(|p| (p, p));
                        let [sum, _] = channel_sums(planes(), |v, _| [v, 0.0]);
                        let mu = sum / n as f64;
                        let [sq, _] = channel_sums(planes(), |v, _| [(v - mu) * (v - mu), 0.0]);
                        let var = sq / n as f64;
                        let inv = 1.0 / (var + s.eps).sqrt();
                        inv_std[i] = F::from_f64(inv);
                        mean[i] = F::from_f64(mu);
                        running_mean[i] =
                            F::from_f64(s.momentum * running_mean[i].to_f64() + (1.0 - s.momentum) * mu);
                        running_var[i] =
                            F::from_f64(s.momentum * running_var[i].to_f64() + (1.0 - s.momentum) * var);
                    }
                },
            )
        });
        // The normalisation, samples spread over threads.
        let mean = &*mean;
        let inv_std = &*inv_std;
        let samples = par::part_len(batch, 1.max((1 << 14) / len.max(1)), 1);
        let parts = y[..batch * len]
            .chunks_mut(samples * len)
            .zip(xhat[..batch * len].chunks_mut(samples * len));
        par::for_each_part(parts, |part, (y, xhat)| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    let x = &x[part * samples * len..];
                    for (b, (ys, hs)) in y
                        .chunks_exact_mut(len)
                        .zip(xhat.chunks_exact_mut(len))
                        .enumerate()
                    {
                        let xs = &x[b * len..(b + 1) * len];
                        for (c, ((xp, hp), yp)) in xs
                            .chunks_exact(p)
                            .zip(hs.chunks_exact_mut(p))
                            .zip(ys.chunks_exact_mut(p))
                            .enumerate()
                        {
                            let (g, bt, mean, inv) = (gamma[c], beta[c], mean[c], inv_std[c]);
                            for ((&xv, h), yv) in xp.iter().zip(hp).zip(yp) {
                                let nv = (xv - mean) * inv;
                                *h = nv;
                                *yv = g * nv + bt;
                            }
                        }
                    }
                },
            )
        });
    });
}

/// `y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta`.
#[allow(clippy::too_many_arguments)]
pub fn infer_forward<F: Element>(
    s: &BatchNormShape,
    batch: usize,
    x: &[F],
    gamma: &[F],
    beta: &[F],
    running_mean: &[F],
    running_var: &[F],
    y: &mut [F],
) {
    let (c_n, p) = (s.channels, s.positions);
    s.check(batch, x.len(), "infer_forward x");
    s.check(batch, y.len(), "infer_forward y");
    for v in [gamma.len(), beta.len(), running_mean.len(), running_var.len()] {
        assert!(
            v >= c_n,
            "batchnorm infer_forward: per-channel slice has {v} values, needs {c_n}"
        );
    }
    if p == 0 {
        return;
    }
    let len = c_n * p;
    let samples = par::part_len(batch, 1.max((1 << 14) / len), 1);
    par::for_each_part(y[..batch * len].chunks_mut(samples * len), |part, y| {
        let x = &x[part * samples * len..];
        for (b, ys) in y.chunks_exact_mut(len).enumerate() {
            let xs = &x[b * len..(b + 1) * len];
            for (c, (xp, yp)) in xs.chunks_exact(p).zip(ys.chunks_exact_mut(p)).enumerate() {
                // y = x * scale + shift, folded in f64.
                let scale = gamma[c].to_f64() / Float::sqrt(running_var[c].to_f64() + s.eps);
                let shift = beta[c].to_f64() - running_mean[c].to_f64() * scale;
                let (scale, shift) = (F::from_f64(scale), F::from_f64(shift));
                for (&xv, yv) in xp.iter().zip(yp.iter_mut()) {
                    *yv = xv * scale + shift;
                }
            }
        }
    });
}

/// `d_gamma = sum dy * xhat` and `d_beta = sum dy` per channel (overwritten).
/// When `dx` is given, `dx = gamma * inv_std / N * (N dy - sum(dy) - xhat sum(dy xhat))`
/// with `N = batch * positions`, overwriting it or, with `accumulate`, adding to it.
#[allow(clippy::too_many_arguments)]
#[cfg(feature = "backward")]
pub fn backward<F: Element>(
    s: &BatchNormShape,
    batch: usize,
    dy: &[F],
    xhat: &[F],
    inv_std: &[F],
    gamma: &[F],
    d_gamma: &mut [F],
    d_beta: &mut [F],
    dx: Option<&mut [F]>,
    accumulate: bool,
) {
    let (c_n, p) = (s.channels, s.positions);
    s.check(batch, dy.len(), "backward dy");
    s.check(batch, xhat.len(), "backward xhat");
    for v in [inv_std.len(), gamma.len(), d_gamma.len(), d_beta.len()] {
        assert!(
            v >= c_n,
            "batchnorm backward: per-channel slice has {v} values, needs {c_n}"
        );
    }
    let n = batch * p;
    let len = c_n * p;
    if let Some(dx) = dx.as_deref() {
        s.check(batch, dx.len(), "backward dx");
    }
    // Per channel, dx = a dy - b - k xhat: (a, b, k) in `coefficients`.
    scratch::with(Slot::Partials, 3 * c_n, |coefficients| {
        // The sums, channels spread over threads.
        let channels = par::part_len(c_n, 1.max((1 << 14) / n.max(1)), 1);
        let parts = d_gamma[..c_n]
            .chunks_mut(channels)
            .zip(d_beta[..c_n].chunks_mut(channels))
            .zip(coefficients.chunks_mut(3 * channels));
        par::for_each_part(parts, |part, ((d_gamma, d_beta), coefficients)| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (i, c) in (part * channels..).take(d_gamma.len()).enumerate() {
                        let planes = s.planes(batch, dy, c).zip(s.planes(batch, xhat, c));
                        let [sum_dy, sum_dy_xhat] = channel_sums(planes, |d, h| [d, d * h]);
                        d_gamma[i] = F::from_f64(sum_dy_xhat);
                        d_beta[i] = F::from_f64(sum_dy);
                        let scale = gamma[c].to_f64() * inv_std[c].to_f64();
                        let n = n.max(1) as f64;
                        coefficients[3 * i] = F::from_f64(scale);
                        coefficients[3 * i + 1] = F::from_f64(scale * sum_dy / n);
                        coefficients[3 * i + 2] = F::from_f64(scale * sum_dy_xhat / n);
                    }
                },
            )
        });
        let Some(dx) = dx else { return };
        // The input gradient, samples spread over threads.
        let coefficients = &*coefficients;
        let samples = par::part_len(batch, 1.max((1 << 14) / len.max(1)), 1);
        par::for_each_part(
            dx[..batch * len].chunks_mut((samples * len).max(1)),
            |part, dx| {
                crate::simd::dispatch(
                    #[inline(always)]
                    || {
                        let first = part * samples * len;
                        for (b, out) in dx.chunks_exact_mut(len).enumerate() {
                            let range = first + b * len..first + (b + 1) * len;
                            let (dys, hs) = (&dy[range.clone()], &xhat[range]);
                            for (c, ((out, dp), hp)) in out
                                .chunks_exact_mut(p)
                                .zip(dys.chunks_exact(p))
                                .zip(hs.chunks_exact(p))
                                .enumerate()
                            {
                                let [a, b_off, k] = [0, 1, 2].map(|j| coefficients[3 * c + j]);
                                for ((o, &d), &h) in out.iter_mut().zip(dp).zip(hp) {
                                    let g = a * d - b_off - k * h;
                                    if accumulate {
                                        *o += g;
                                    } else {
                                        *o = g;
                                    }
                                }
                            }
                        }
                    },
                )
            },
        );
    });
}

/// Lanes of [`channel_sums`]: eight `f64` fill a zmm register.
#[cfg(feature = "backward")]
const SUM_LANES: usize = 8;

/// `sum over (a, b) of f(a, b)` (two sums at once) in `f64` over the pairs
/// of planes, in [`SUM_LANES`] partial sums per sum (element `i` of a
/// plane goes to lane `i % SUM_LANES`) combined pairwise: a loop LLVM
/// vectorises, with the same result on every instruction set. A sequential
/// `f64` sum waits on each add's latency, which made the statistics most of
/// a batch normalisation's time.
#[cfg(feature = "backward")]
#[inline(always)]
fn channel_sums<'a, F: Float + 'a>(
    planes: impl Iterator<Item = (&'a [F], &'a [F])>,
    f: impl Fn(f64, f64) -> [f64; 2],
) -> [f64; 2] {
    let mut lanes = [[0.0f64; SUM_LANES]; 2];
    for (a, b) in planes {
        let (mut ac, mut bc) = (a.chunks_exact(SUM_LANES), b.chunks_exact(SUM_LANES));
        for (a, b) in (&mut ac).zip(&mut bc) {
            for l in 0..SUM_LANES {
                let [u, v] = f(a[l].to_f64(), b[l].to_f64());
                lanes[0][l] += u;
                lanes[1][l] += v;
            }
        }
        for (l, (a, b)) in ac.remainder().iter().zip(bc.remainder()).enumerate() {
            let [u, v] = f(a.to_f64(), b.to_f64());
            lanes[0][l] += u;
            lanes[1][l] += v;
        }
    }
    lanes.map(|mut lanes| {
        let mut width = SUM_LANES;
        while width > 1 {
            width /= 2;
            for l in 0..width {
                lanes[l] += lanes[l + width];
            }
        }
        lanes[0]
    })
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < tol, "{what} [{k}]: {x} vs {y}");
        }
    }

    const CASES: [(usize, usize, usize); 6] =
        [(3, 1, 2), (3, 1, 4), (2, 6, 2), (2, 6, 4), (1, 6, 4), (4, 1, 3)];

    fn shape(channels: usize, positions: usize) -> BatchNormShape {
        BatchNormShape {
            channels,
            positions,
            momentum: 0.9,
            eps: 1e-3,
        }
    }

    /// Values of channel c (all samples, all positions).
    fn channel(s: &BatchNormShape, batch: usize, v: &[f64], c: usize) -> Vec<f64> {
        let mut out = Vec::new();
        for b in 0..batch {
            for p in 0..s.positions {
                out.push(v[(b * s.channels + c) * s.positions + p]);
            }
        }
        out
    }

    /// Runs train_forward with fresh running statistics and returns
    /// (y, xhat, inv_std, running_mean, running_var).
    #[allow(clippy::type_complexity)]
    fn train(
        s: &BatchNormShape,
        batch: usize,
        x: &[f64],
        gamma: &[f64],
        beta: &[f64],
        rm: &[f64],
        rv: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut y = vec![f64::NAN; x.len()];
        let mut xhat = vec![f64::NAN; x.len()];
        let mut inv = vec![f64::NAN; s.channels];
        let (mut rm, mut rv) = (rm.to_vec(), rv.to_vec());
        train_forward(
            s, batch, x, gamma, beta, &mut y, &mut xhat, &mut inv, &mut rm, &mut rv,
        );
        (y, xhat, inv, rm, rv)
    }

    #[test]
    fn training_normalises_each_channel_and_moves_the_running_statistics() {
        for (n, &(channels, positions, batch)) in CASES.iter().enumerate() {
            let s = shape(channels, positions);
            let x: Vec<f64> = data(batch * channels * positions, n as u64)
                .iter()
                .map(|v| 3.0 * v + 1.5)
                .collect();
            let ones = vec![1.0; channels];
            let zeros = vec![0.0; channels];
            let rm0 = data(channels, 50 + n as u64);
            let rv0: Vec<f64> = data(channels, 60 + n as u64).iter().map(|v| v + 2.0).collect();
            let (y, xhat, inv, rm, rv) = train(&s, batch, &x, &ones, &zeros, &rm0, &rv0);
            close(&y, &xhat, 1e-15, "y = xhat for gamma 1, beta 0");
            for c in 0..channels {
                let xs = channel(&s, batch, &x, c);
                let ys = channel(&s, batch, &y, c);
                let count = xs.len() as f64;
                let mean = xs.iter().sum::<f64>() / count;
                let var = xs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count;
                let ymean = ys.iter().sum::<f64>() / count;
                let yvar = ys.iter().map(|v| (v - ymean) * (v - ymean)).sum::<f64>() / count;
                assert!(ymean.abs() < 1e-12, "mean {ymean}");
                // var(xhat) = var / (var + eps): 1 up to eps
                assert!((yvar - var / (var + s.eps)).abs() < 1e-12, "var {yvar}");
                // hence within eps / var of 1
                assert!((yvar - 1.0).abs() <= s.eps / var + 1e-12, "var {yvar}");
                assert!((inv[c] - 1.0 / (var + s.eps).sqrt()).abs() < 1e-12);
                assert!((rm[c] - (0.9 * rm0[c] + 0.1 * mean)).abs() < 1e-12);
                assert!(
                    (rv[c] - (0.9 * rv0[c] + 0.1 * var)).abs() < 1e-12,
                    "biased variance"
                );
            }
            // gamma and beta scale and shift xhat
            let gamma = data(channels, 70 + n as u64);
            let beta = data(channels, 80 + n as u64);
            let (y2, xhat2, ..) = train(&s, batch, &x, &gamma, &beta, &rm0, &rv0);
            close(&xhat2, &xhat, 1e-15, "xhat independent of gamma, beta");
            for c in 0..channels {
                let expected: Vec<f64> = channel(&s, batch, &xhat, c)
                    .iter()
                    .map(|h| gamma[c] * h + beta[c])
                    .collect();
                close(&channel(&s, batch, &y2, c), &expected, 1e-14, "gamma xhat + beta");
            }
        }
    }

    #[test]
    fn inference_uses_the_running_statistics() {
        for (n, &(channels, positions, batch)) in CASES.iter().enumerate() {
            let s = shape(channels, positions);
            let x = data(batch * channels * positions, 90 + n as u64);
            let gamma = data(channels, 91 + n as u64);
            let beta = data(channels, 92 + n as u64);
            let rm = data(channels, 93 + n as u64);
            let rv: Vec<f64> = data(channels, 94 + n as u64).iter().map(|v| v + 1.5).collect();
            let mut y = vec![f64::NAN; x.len()];
            infer_forward(&s, batch, &x, &gamma, &beta, &rm, &rv, &mut y);
            for b in 0..batch {
                for c in 0..channels {
                    for p in 0..positions {
                        let k = (b * channels + c) * positions + p;
                        let expected = gamma[c] * (x[k] - rm[c]) / (rv[c] + s.eps).sqrt() + beta[c];
                        assert!((y[k] - expected).abs() < 1e-14, "{} vs {expected}", y[k]);
                    }
                }
            }
        }
    }

    /// Central differences of `sum(w * y)` against `backward`, for x, gamma and beta.
    #[test]
    fn backward_matches_numeric_gradients() {
        let h = 1e-6;
        for (n, &(channels, positions, batch)) in CASES.iter().enumerate() {
            let s = shape(channels, positions);
            let x = data(batch * channels * positions, 100 + n as u64);
            let gamma: Vec<f64> = data(channels, 101 + n as u64).iter().map(|v| v + 1.2).collect();
            let beta = data(channels, 102 + n as u64);
            let w = data(x.len(), 103 + n as u64);
            let rm = vec![0.0; channels];
            let rv = vec![1.0; channels];
            let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| {
                let (y, ..) = train(&s, batch, x, gamma, beta, &rm, &rv);
                y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
            };
            let diff = |v: &[f64], i: usize, f: &dyn Fn(&[f64]) -> f64| {
                let mut p = v.to_vec();
                p[i] += h;
                let mut m = v.to_vec();
                m[i] -= h;
                (f(&p) - f(&m)) / (2.0 * h)
            };
            let num_dx: Vec<f64> = (0..x.len())
                .map(|i| diff(&x, i, &|v| loss(v, &gamma, &beta)))
                .collect();
            let num_dg: Vec<f64> = (0..channels)
                .map(|i| diff(&gamma, i, &|v| loss(&x, v, &beta)))
                .collect();
            let num_db: Vec<f64> = (0..channels)
                .map(|i| diff(&beta, i, &|v| loss(&x, &gamma, v)))
                .collect();

            let (_, xhat, inv, ..) = train(&s, batch, &x, &gamma, &beta, &rm, &rv);
            let mut dg = vec![f64::NAN; channels];
            let mut db = vec![f64::NAN; channels];
            let mut dx = vec![f64::NAN; x.len()];
            backward(
                &s,
                batch,
                &w,
                &xhat,
                &inv,
                &gamma,
                &mut dg,
                &mut db,
                Some(&mut dx),
                false,
            );
            close(&dx, &num_dx, 1e-7, "dx");
            close(&dg, &num_dg, 1e-7, "d_gamma");
            close(&db, &num_db, 1e-7, "d_beta");

            // accumulate adds to what is there; without dx only the parameters.
            let before = data(x.len(), 104 + n as u64);
            let mut acc = before.clone();
            backward(
                &s,
                batch,
                &w,
                &xhat,
                &inv,
                &gamma,
                &mut dg,
                &mut db,
                Some(&mut acc),
                true,
            );
            let expected: Vec<f64> = before.iter().zip(&num_dx).map(|(a, b)| a + b).collect();
            close(&acc, &expected, 1e-7, "dx accumulated");
            let mut dg2 = vec![f64::NAN; channels];
            let mut db2 = vec![f64::NAN; channels];
            backward(
                &s, batch, &w, &xhat, &inv, &gamma, &mut dg2, &mut db2, None, false,
            );
            close(&dg2, &num_dg, 1e-7, "d_gamma without dx");
            close(&db2, &num_db, 1e-7, "d_beta without dx");
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let s = shape(2, 6);
        let batch = 4;
        let x = data(batch * 12, 200);
        let gamma = data(2, 201);
        let beta = data(2, 202);
        let (y, ..) = train(&s, batch, &x, &gamma, &beta, &[0.0; 2], &[1.0; 2]);
        let f = |v: &[f64]| v.iter().map(|&t| t as f32).collect::<Vec<f32>>();
        let mut y32 = vec![0.0f32; x.len()];
        let mut xhat32 = vec![0.0f32; x.len()];
        let mut inv32 = vec![0.0f32; 2];
        let (mut rm, mut rv) = (vec![0.0f32; 2], vec![1.0f32; 2]);
        train_forward(
            &s,
            batch,
            &f(&x),
            &f(&gamma),
            &f(&beta),
            &mut y32,
            &mut xhat32,
            &mut inv32,
            &mut rm,
            &mut rv,
        );
        for (a, b) in y32.iter().zip(&y) {
            assert!((f64::from(*a) - b).abs() < 1e-5);
        }
    }
}
