//! `dense`: `x W^T + b` over the batch.

use crate::*;

pub(crate) fn dense(layer: &Layer, params: &Params, x: &[f64], batch: usize, has_bias: bool) -> Vec<f64> {
    let inputs = layer.input.numel();
    let units = layer.output.numel();
    let w = params.get(&format!("{}.weight", layer.name));
    assert_eq!(w.len(), units * inputs);
    let b = if has_bias {
        Some(params.get(&format!("{}.bias", layer.name)))
    } else {
        None
    };
    let mut y = vec![0.0; batch * units];
    for n in 0..batch {
        let xs = &x[n * inputs..(n + 1) * inputs];
        for j in 0..units {
            let mut acc = match b {
                Some(b) => b[j],
                None => 0.0,
            };
            for i in 0..inputs {
                acc += w[j * inputs + i] * xs[i];
            }
            y[n * units + j] = acc;
        }
    }
    y
}
