//! `batchnorm`: batch statistics in training, running statistics at inference.

use crate::*;

/// Batchnorm over channel `c = shape[0]`; every other dimension of the sample
/// (`inner` values per channel) and the batch share the channel's statistics.
pub(crate) fn batchnorm(
    layer: &Layer,
    bn: &specc_lang::BatchNorm,
    ctx: &Ctx<'_>,
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    let numel = layer.input.numel();
    let channels = layer.input.dims()[0];
    let inner = numel / channels;
    let param = |role: &str| ctx.params.get(&format!("{}.{role}", layer.name));
    let (gamma, beta) = (param("gamma"), param("beta"));
    let (mean, var): (Vec<f64>, Vec<f64>) = match ctx.mode {
        Mode::Inference => (param("running_mean").to_vec(), param("running_var").to_vec()),
        Mode::Training => {
            let count = (batch * inner) as f64;
            let mut means = vec![0.0; channels];
            let mut vars = vec![0.0; channels];
            for ch in 0..channels {
                let mut sum = 0.0;
                for n in 0..batch {
                    for k in 0..inner {
                        sum += x[n * numel + ch * inner + k];
                    }
                }
                let m = sum / count;
                let mut sq = 0.0;
                for n in 0..batch {
                    for k in 0..inner {
                        let d = x[n * numel + ch * inner + k] - m;
                        sq += d * d;
                    }
                }
                means[ch] = m;
                vars[ch] = sq / count; // biased
            }
            (means, vars)
        }
    };
    let mut y = vec![0.0; x.len()];
    for n in 0..batch {
        for ch in 0..channels {
            let inv_std = 1.0 / (var[ch] + bn.eps).sqrt();
            for k in 0..inner {
                let i = n * numel + ch * inner + k;
                y[i] = (x[i] - mean[ch]) * inv_std * gamma[ch] + beta[ch];
            }
        }
    }
    y
}
