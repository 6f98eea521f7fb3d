//! Group normalisation (`groupnorm(groups)`) and layer normalisation
//! (`layernorm`, one group): each sample's channels in `groups` groups, each
//! group normalised by its own mean and (biased) variance, then scaled and
//! shifted per channel, `y = gamma[c] (x - mean) / sqrt(var + eps) +
//! beta[c]`. The statistics are a sample's own, so training and inference
//! compute the same thing; sums run in a fixed order.

use crate::Float;

/// The dimensions of a group normalisation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupNormShape {
    pub channels: usize,
    /// Values per channel: `H * W` for images, 1 for vectors.
    pub plane: usize,
    /// Divides `channels`.
    pub groups: usize,
    pub eps: f64,
}

impl GroupNormShape {
    /// Values in one sample.
    pub const fn len(&self) -> usize {
        self.channels * self.plane
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values in one group of one sample.
    const fn group_len(&self) -> usize {
        self.channels / self.groups * self.plane
    }
}

/// `y` from `x`; with `stats`, also each value's normalised `xhat` and each
/// group's `1 / sqrt(var + eps)` (`batch * groups` of them), which the
/// backward pass reads.
pub fn forward<F: Float>(
    s: &GroupNormShape,
    batch: usize,
    x: &[F],
    gamma: &[F],
    beta: &[F],
    y: &mut [F],
    mut stats: Option<(&mut [F], &mut [F])>,
) {
    assert_eq!(x.len(), batch * s.len(), "groupnorm: x length");
    assert_eq!(y.len(), batch * s.len(), "groupnorm: y length");
    assert!(
        gamma.len() == s.channels && beta.len() == s.channels,
        "groupnorm: parameters"
    );
    let (m, per_group) = (s.group_len(), s.channels / s.groups);
    let (inv_m, eps) = (F::from_f64(1.0 / m as f64), F::from_f64(s.eps));
    for (g, (x, y)) in x.chunks_exact(m).zip(y.chunks_exact_mut(m)).enumerate() {
        let mean = x.iter().fold(F::ZERO, |a, &v| a + v) * inv_m;
        let var = x.iter().fold(F::ZERO, |a, &v| a + (v - mean) * (v - mean)) * inv_m;
        let inv_std = F::ONE / (var + eps).sqrt();
        let first_channel = (g % s.groups) * per_group;
        for (c, (x, y)) in x
            .chunks_exact(s.plane)
            .zip(y.chunks_exact_mut(s.plane))
            .enumerate()
        {
            let (scale, shift) = (gamma[first_channel + c], beta[first_channel + c]);
            for (o, &v) in y.iter_mut().zip(x) {
                *o = scale * ((v - mean) * inv_std) + shift;
            }
        }
        if let Some((xhat, inv)) = stats.as_mut() {
            for (h, &v) in xhat[g * m..(g + 1) * m].iter_mut().zip(x) {
                *h = (v - mean) * inv_std;
            }
            inv[g] = inv_std;
        }
    }
}

/// From the output gradient `dy`: `d_gamma` and `d_beta` (overwritten) and,
/// when asked, the input gradient (written, or added with `accumulate`):
/// per group, `dx = inv_std / m (m dxhat - sum(dxhat) - xhat sum(dxhat xhat))`
/// with `dxhat = gamma[c] dy`.
#[cfg(feature = "backward")]
#[allow(clippy::too_many_arguments)]
pub fn backward<F: Float>(
    s: &GroupNormShape,
    batch: usize,
    dy: &[F],
    xhat: &[F],
    inv_std: &[F],
    gamma: &[F],
    d_gamma: &mut [F],
    d_beta: &mut [F],
    mut dx: Option<&mut [F]>,
    accumulate: bool,
) {
    assert_eq!(dy.len(), batch * s.len(), "groupnorm backward: dy length");
    assert_eq!(xhat.len(), batch * s.len(), "groupnorm backward: xhat length");
    assert_eq!(
        inv_std.len(),
        batch * s.groups,
        "groupnorm backward: inv_std length"
    );
    let (m, per_group) = (s.group_len(), s.channels / s.groups);
    d_gamma.fill(F::ZERO);
    d_beta.fill(F::ZERO);
    let inv_m = F::from_f64(1.0 / m as f64);
    let m_f = F::from_f64(m as f64);
    for (g, (dy, xhat)) in dy.chunks_exact(m).zip(xhat.chunks_exact(m)).enumerate() {
        let first_channel = (g % s.groups) * per_group;
        let (mut sum, mut sum_xhat) = (F::ZERO, F::ZERO);
        for (c, (dy, xhat)) in dy
            .chunks_exact(s.plane)
            .zip(xhat.chunks_exact(s.plane))
            .enumerate()
        {
            let ch = first_channel + c;
            for (&d, &h) in dy.iter().zip(xhat) {
                d_gamma[ch] += d * h;
                d_beta[ch] += d;
                let dh = d * gamma[ch];
                sum += dh;
                sum_xhat += dh * h;
            }
        }
        let Some(dx) = dx.as_mut() else { continue };
        let scale = inv_std[g] * inv_m;
        let dx = &mut dx[g * m..(g + 1) * m];
        for (c, ((dy, xhat), dx)) in dy
            .chunks_exact(s.plane)
            .zip(xhat.chunks_exact(s.plane))
            .zip(dx.chunks_exact_mut(s.plane))
            .enumerate()
        {
            let gamma = gamma[first_channel + c];
            for ((&d, &h), o) in dy.iter().zip(xhat).zip(dx) {
                let v = scale * (m_f * d * gamma - sum - h * sum_xhat);
                if accumulate {
                    *o += v;
                } else {
                    *o = v;
                }
            }
        }
    }
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    const S: GroupNormShape = GroupNormShape {
        channels: 4,
        plane: 3,
        groups: 2,
        eps: 1e-5,
    };

    fn inputs() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let x = (0..2 * S.len())
            .map(|i| ((i * 7 % 9) as f64 - 4.0) / 3.0)
            .collect();
        (x, vec![1.5, -0.5, 0.8, 2.0], vec![0.1, 0.2, -0.3, 0.0])
    }

    #[test]
    fn each_group_is_normalised_then_scaled_per_channel() {
        let (x, _, _) = inputs();
        let mut y = vec![0.0; x.len()];
        forward(&S, 2, &x, &[1.0; 4], &[0.0; 4], &mut y, None);
        for group in y.chunks(6) {
            let mean = group.iter().sum::<f64>() / 6.0;
            let var = group.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 6.0;
            assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
        }
    }

    #[test]
    fn backward_matches_numeric_gradients() {
        let (x, gamma, beta) = inputs();
        let w: Vec<f64> = (0..x.len()).map(|i| 0.2 + 0.05 * i as f64).collect();
        let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| {
            let mut y = vec![0.0; x.len()];
            forward(&S, 2, x, gamma, beta, &mut y, None);
            y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        };
        let (mut y, mut xhat, mut inv) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; 4]);
        forward(&S, 2, &x, &gamma, &beta, &mut y, Some((&mut xhat, &mut inv)));
        let (mut dg, mut db, mut dx) = (vec![9.0; 4], vec![9.0; 4], vec![0.0; x.len()]);
        backward(
            &S,
            2,
            &w,
            &xhat,
            &inv,
            &gamma,
            &mut dg,
            &mut db,
            Some(&mut dx),
            false,
        );
        let h = 1e-6;
        let numeric = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
        for i in 0..x.len() {
            let d = numeric(&|e| {
                let mut p = x.clone();
                p[i] += e;
                loss(&p, &gamma, &beta)
            });
            assert!((d - dx[i]).abs() < 1e-6, "dx[{i}]: {d} vs {}", dx[i]);
        }
        for c in 0..4 {
            let d = numeric(&|e| {
                let mut p = gamma.clone();
                p[c] += e;
                loss(&x, &p, &beta)
            });
            assert!((d - dg[c]).abs() < 1e-6, "d_gamma[{c}]: {d} vs {}", dg[c]);
            let d = numeric(&|e| {
                let mut p = beta.clone();
                p[c] += e;
                loss(&x, &gamma, &p)
            });
            assert!((d - db[c]).abs() < 1e-6, "d_beta[{c}]: {d} vs {}", db[c]);
        }
    }
}
