//! `groupnorm` and `layernorm`: each group of each sample by its mean and
//! biased variance, then `gamma[c]` and `beta[c]`.

use crate::Params;
use specc_lang::{GroupNorm, Layer};

pub(crate) fn groupnorm(
    layer: &Layer,
    norm: &GroupNorm,
    params: &Params,
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    let dims = layer.input.dims();
    let (channels, plane) = (dims[0], dims[1..].iter().product::<usize>());
    let per_group = channels / norm.groups;
    let gamma = params.get(&format!("{}.gamma", layer.name));
    let beta = params.get(&format!("{}.beta", layer.name));
    let mut y = vec![0.0; x.len()];
    for n in 0..batch {
        for g in 0..norm.groups {
            let start = (n * channels + g * per_group) * plane;
            let values = &x[start..start + per_group * plane];
            let m = values.len() as f64;
            let mean = values.iter().sum::<f64>() / m;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
            for (i, v) in values.iter().enumerate() {
                let c = g * per_group + i / plane;
                y[start + i] = gamma[c] * (v - mean) / (var + norm.eps).sqrt() + beta[c];
            }
        }
    }
    y
}
