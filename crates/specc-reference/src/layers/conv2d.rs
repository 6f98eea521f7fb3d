//! `conv2d`: the direct definition, one output at a time, zeros outside the input.

use crate::*;

pub(crate) fn conv2d(
    layer: &Layer,
    c: &specc_lang::Conv2d,
    params: &Params,
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    let (cin, h, w) = layer.input.chw().expect("conv2d input is [C, H, W]");
    let (f_out, oh, ow) = layer.output.chw().expect("conv2d output is [F, H, W]");
    let [kh, kw] = c.kernel;
    let [sh, sw] = c.stride;
    let [top, _bottom, left, _right] = c.padding;
    let weight = params.get(&format!("{}.weight", layer.name));
    assert_eq!(weight.len(), f_out * cin * kh * kw);
    let bias = if c.bias {
        Some(params.get(&format!("{}.bias", layer.name)))
    } else {
        None
    };
    let in_numel = cin * h * w;
    let out_numel = f_out * oh * ow;
    let mut y = vec![0.0; batch * out_numel];
    for n in 0..batch {
        let xs = &x[n * in_numel..(n + 1) * in_numel];
        for f in 0..f_out {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = match bias {
                        Some(b) => b[f],
                        None => 0.0,
                    };
                    for ch in 0..cin {
                        for i in 0..kh {
                            for j in 0..kw {
                                // Input coordinates, possibly in the padding.
                                let iy = (oy * sh + i) as isize - top as isize;
                                let ix = (ox * sw + j) as isize - left as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                let wv = weight[((f * cin + ch) * kh + i) * kw + j];
                                acc += wv * xs[(ch * h + iy) * w + ix];
                            }
                        }
                    }
                    y[n * out_numel + (f * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    y
}
