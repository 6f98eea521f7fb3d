//! `zero_pad2d`, `crop2d` and `upsample2d`, one output value at a time from
//! their definitions.

use specc_lang::{Layer, UpsampleMode};

/// Each output value of every sample, from `value(n, c, oy, ox)`.
fn per_output(layer: &Layer, batch: usize, value: impl Fn(usize, usize, usize, usize) -> f64) -> Vec<f64> {
    let (c, oh, ow) = layer.output.chw().expect("a [C, H, W] output");
    let mut y = Vec::with_capacity(batch * c * oh * ow);
    for n in 0..batch {
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    y.push(value(n, ch, oy, ox));
                }
            }
        }
    }
    y
}

/// `x[n][c][iy][ix]`, for the layer's input.
fn at(layer: &Layer, x: &[f64]) -> impl Fn(usize, usize, usize, usize) -> f64 {
    let (c, h, w) = layer.input.chw().expect("a [C, H, W] input");
    move |n, ch, iy, ix| x[((n * c + ch) * h + iy) * w + ix]
}

/// Zeros outside the input, which sits `[ph, pw]` in from the corner.
pub(crate) fn zero_pad2d(layer: &Layer, padding: [usize; 2], x: &[f64], batch: usize) -> Vec<f64> {
    let (_, h, w) = layer.input.chw().expect("a [C, H, W] input");
    let get = at(layer, x);
    per_output(layer, batch, |n, c, oy, ox| {
        let (iy, ix) = (oy.wrapping_sub(padding[0]), ox.wrapping_sub(padding[1]));
        if iy < h && ix < w { get(n, c, iy, ix) } else { 0.0 }
    })
}

pub(crate) fn crop2d(layer: &Layer, cropping: [usize; 2], x: &[f64], batch: usize) -> Vec<f64> {
    let get = at(layer, x);
    per_output(layer, batch, |n, c, oy, ox| {
        get(n, c, oy + cropping[0], ox + cropping[1])
    })
}

/// Nearest: the pixel `(oy / fh, ox / fw)`. Bilinear (PyTorch's
/// `align_corners = False`): the source coordinate `(o + 1/2) / f - 1/2`,
/// at least 0, between the pixels below and above it (the last pixel
/// repeated past the edge).
pub(crate) fn upsample2d(
    layer: &Layer,
    factor: [usize; 2],
    mode: UpsampleMode,
    x: &[f64],
    batch: usize,
) -> Vec<f64> {
    let (_, h, w) = layer.input.chw().expect("a [C, H, W] input");
    let get = at(layer, x);
    let source = |o: usize, f: usize, len: usize| {
        let s = ((o as f64 + 0.5) / f as f64 - 0.5).max(0.0);
        let lo = (s.floor() as usize).min(len - 1);
        (lo, (lo + 1).min(len - 1), s - lo as f64)
    };
    per_output(layer, batch, |n, c, oy, ox| match mode {
        UpsampleMode::Nearest => get(n, c, oy / factor[0], ox / factor[1]),
        UpsampleMode::Bilinear => {
            let (y0, y1, ly) = source(oy, factor[0], h);
            let (x0, x1, lx) = source(ox, factor[1], w);
            (1.0 - ly) * ((1.0 - lx) * get(n, c, y0, x0) + lx * get(n, c, y0, x1))
                + ly * ((1.0 - lx) * get(n, c, y1, x0) + lx * get(n, c, y1, x1))
        }
    })
}
