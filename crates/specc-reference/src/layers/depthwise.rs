//! `depthwise_conv2d`: each output from its definition, one tap at a time.

use crate::Params;
use specc_lang::{DepthwiseConv2d, Layer};

pub(crate) fn depthwise_conv2d(
    layer: &Layer,
    d: &DepthwiseConv2d,
    params: &Params,
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    let (c, h, w) = layer.input.chw().expect("a [C, H, W] input");
    let (k_out, oh, ow) = layer.output.chw().expect("a [C, H, W] output");
    let weight = params.get(&format!("{}.weight", layer.name));
    let bias = d.bias.then(|| params.get(&format!("{}.bias", layer.name)));
    let [kh, kw] = d.kernel;
    let (top, left) = (d.padding[0] as isize, d.padding[2] as isize);
    let mut y = Vec::with_capacity(batch * k_out * oh * ow);
    for n in 0..batch {
        for k in 0..k_out {
            let ch = k / d.multiplier;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = bias.map_or(0.0, |b| b[k]);
                    for i in 0..kh {
                        for j in 0..kw {
                            let iy = (oy * d.stride[0] + i * d.dilation[0]) as isize - top;
                            let ix = (ox * d.stride[1] + j * d.dilation[1]) as isize - left;
                            if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                let (iy, ix) = (iy as usize, ix as usize);
                                sum += weight[(k * kh + i) * kw + j] * x[((n * c + ch) * h + iy) * w + ix];
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
    }
    y
}
