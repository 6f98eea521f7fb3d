//! `maxpool2d`, `avgpool2d`, `global_avgpool` and `global_maxpool`: each
//! window in turn.

use crate::*;

pub(crate) fn pool2d(layer: &Layer, p: &specc_lang::Pool2d, x: &[f64], batch: usize, max: bool) -> Vec<f64> {
    let (c, h, w) = layer.input.chw().expect("pool input is [C, H, W]");
    let (c_out, oh, ow) = layer.output.chw().expect("pool output is [C, H, W]");
    assert_eq!(c, c_out);
    let [ph, pw] = p.size;
    let [sh, sw] = p.stride;
    let in_numel = c * h * w;
    let out_numel = c * oh * ow;
    let mut y = vec![0.0; batch * out_numel];
    for n in 0..batch {
        let xs = &x[n * in_numel..(n + 1) * in_numel];
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best = f64::NEG_INFINITY;
                    let mut sum = 0.0;
                    for i in 0..ph {
                        for j in 0..pw {
                            let iy = oy * sh + i;
                            let ix = ox * sw + j;
                            assert!(iy < h && ix < w, "pool window outside the input");
                            let v = xs[(ch * h + iy) * w + ix];
                            if v > best {
                                best = v;
                            }
                            sum += v;
                        }
                    }
                    y[n * out_numel + (ch * oh + oy) * ow + ox] =
                        if max { best } else { sum / (ph * pw) as f64 };
                }
            }
        }
    }
    y
}

/// The largest value of each channel of each sample.
pub(crate) fn global_maxpool(layer: &Layer, x: &[f64], batch: usize) -> Vec<f64> {
    let (c, h, w) = layer.input.chw().expect("global_maxpool input is [C, H, W]");
    x[..batch * c * h * w]
        .chunks_exact(h * w)
        .map(|plane| plane.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect()
}

pub(crate) fn global_avgpool(layer: &Layer, x: &[f64], batch: usize) -> Vec<f64> {
    let (c, h, w) = layer.input.chw().expect("global_avgpool input is [C, H, W]");
    let in_numel = c * h * w;
    let mut y = vec![0.0; batch * c];
    for n in 0..batch {
        for ch in 0..c {
            let mut sum = 0.0;
            for iy in 0..h {
                for ix in 0..w {
                    sum += x[n * in_numel + (ch * h + iy) * w + ix];
                }
            }
            y[n * c + ch] = sum / (h * w) as f64;
        }
    }
    y
}
