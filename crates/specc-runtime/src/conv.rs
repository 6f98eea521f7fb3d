//! Two-dimensional convolution through im2col and GEMM.
//!
//! Layout is row-major NCHW: a batch is `batch` samples of `C * H * W`
//! values one after the other, the weight is `[filters, channels, kh, kw]`,
//! i.e. a `filters x patch_len` matrix. One sample's im2col matrix is
//! `patch_len x out_positions`, so the forward pass of a sample is one
//! product `y = W * col`.
//!
//! Padding is described by `pad_top` and `pad_left` only; the padding at the
//! bottom and right is whatever `out_h` and `out_w` imply (zeros are read for
//! every position outside the input).

use crate::Float;
use crate::gemm::{matmul_nn, matmul_nt, matmul_tn};
use crate::simd::multiversion;

/// The dimensions of a convolution, all known when the code is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub filters: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl Conv2dShape {
    /// `channels * kernel_h * kernel_w`: the rows of the im2col matrix and
    /// the columns of the weight matrix.
    pub const fn patch_len(&self) -> usize {
        self.channels * self.kernel_h * self.kernel_w
    }

    /// `out_h * out_w`: the columns of the im2col matrix.
    pub const fn out_positions(&self) -> usize {
        self.out_h * self.out_w
    }

    /// `patch_len * out_positions`: the scratch one sample's im2col needs.
    pub const fn col_len(&self) -> usize {
        self.patch_len() * self.out_positions()
    }

    /// `channels * height * width`: one input sample.
    pub const fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// `filters * out_h * out_w`: one output sample.
    pub const fn output_len(&self) -> usize {
        self.filters * self.out_positions()
    }
}

/// The output positions `o < out` whose input coordinate
/// `o * stride + offset - pad` lies in `0..in_len`, as a half-open range.
#[inline]
fn valid_range(out: usize, stride: usize, offset: usize, pad: usize, in_len: usize) -> (usize, usize) {
    // o * stride >= pad - offset
    let start = if pad > offset {
        (pad - offset).div_ceil(stride)
    } else {
        0
    };
    // o * stride + offset - pad < in_len  <=>  o * stride < in_len + pad - offset
    let end = if in_len + pad > offset {
        (in_len + pad - offset).div_ceil(stride).min(out)
    } else {
        0
    };
    (start.min(end), end)
}

/// `col[(c*kh + i)*kw + j][oy*out_w + ox] = x[c][oy*sh - pad_top + i][ox*sw - pad_left + j]`,
/// zero where that falls outside the input. `x` is one sample; `col` holds at
/// least `col_len` values (only the first `col_len` are written).
#[inline]
pub fn im2col<F: Float>(s: &Conv2dShape, x: &[F], col: &mut [F]) {
    let (h, w) = (s.height, s.width);
    let (out_h, out_w) = (s.out_h, s.out_w);
    let positions = s.out_positions();
    assert!(
        x.len() >= s.input_len(),
        "im2col: x has {} values, needs {}",
        x.len(),
        s.input_len()
    );
    assert!(
        col.len() >= s.col_len(),
        "im2col: col has {} values, needs {}",
        col.len(),
        s.col_len()
    );
    if positions == 0 {
        return;
    }
    let mut rows = col[..s.col_len()].chunks_exact_mut(positions);
    for c in 0..s.channels {
        let plane = &x[c * h * w..(c + 1) * h * w];
        for i in 0..s.kernel_h {
            let (oy0, oy1) = valid_range(out_h, s.stride_h, i, s.pad_top, h);
            for j in 0..s.kernel_w {
                let row = rows.next().expect("im2col: patch_len rows");
                let (ox0, ox1) = valid_range(out_w, s.stride_w, j, s.pad_left, w);
                row[..oy0 * out_w].fill(F::ZERO);
                row[oy1 * out_w..].fill(F::ZERO);
                for oy in oy0..oy1 {
                    let iy = oy * s.stride_h + i - s.pad_top;
                    let src = &plane[iy * w..(iy + 1) * w];
                    let dst = &mut row[oy * out_w..(oy + 1) * out_w];
                    dst[..ox0].fill(F::ZERO);
                    dst[ox1..].fill(F::ZERO);
                    if s.stride_w == 1 {
                        let ix0 = ox0 + j - s.pad_left;
                        dst[ox0..ox1].copy_from_slice(&src[ix0..ix0 + (ox1 - ox0)]);
                    } else {
                        for (ox, d) in (ox0..ox1).zip(&mut dst[ox0..ox1]) {
                            *d = src[ox * s.stride_w + j - s.pad_left];
                        }
                    }
                }
            }
        }
    }
}

/// `dx += col2im(dcol)`: the adjoint of [`im2col`], adding every column entry
/// back onto the input value it was read from (entries read from padding
/// are dropped). `dx` is one sample.
#[inline]
pub fn col2im_add<F: Float>(s: &Conv2dShape, dcol: &[F], dx: &mut [F]) {
    let (h, w) = (s.height, s.width);
    let (out_h, out_w) = (s.out_h, s.out_w);
    let positions = s.out_positions();
    assert!(
        dx.len() >= s.input_len(),
        "col2im_add: dx has {} values, needs {}",
        dx.len(),
        s.input_len()
    );
    assert!(
        dcol.len() >= s.col_len(),
        "col2im_add: dcol has {} values, needs {}",
        dcol.len(),
        s.col_len()
    );
    if positions == 0 {
        return;
    }
    let mut rows = dcol[..s.col_len()].chunks_exact(positions);
    for c in 0..s.channels {
        let plane = &mut dx[c * h * w..(c + 1) * h * w];
        for i in 0..s.kernel_h {
            let (oy0, oy1) = valid_range(out_h, s.stride_h, i, s.pad_top, h);
            for j in 0..s.kernel_w {
                let row = rows.next().expect("col2im_add: patch_len rows");
                let (ox0, ox1) = valid_range(out_w, s.stride_w, j, s.pad_left, w);
                for oy in oy0..oy1 {
                    let iy = oy * s.stride_h + i - s.pad_top;
                    let dst = &mut plane[iy * w..(iy + 1) * w];
                    let src = &row[oy * out_w + ox0..oy * out_w + ox1];
                    if s.stride_w == 1 {
                        let ix0 = ox0 + j - s.pad_left;
                        for (d, &g) in dst[ix0..ix0 + src.len()].iter_mut().zip(src) {
                            *d += g;
                        }
                    } else {
                        for (ox, &g) in (ox0..ox1).zip(src) {
                            dst[ox * s.stride_w + j - s.pad_left] += g;
                        }
                    }
                }
            }
        }
    }
}

/// `y[b] = W * im2col(x[b])` for each of the `batch` samples, with `W` the
/// `filters x patch_len` weight. Neither bias nor activation is applied.
/// `col` is scratch of at least `col_len` values.
pub fn forward<F: Float>(s: &Conv2dShape, batch: usize, x: &[F], weight: &[F], y: &mut [F], col: &mut [F]) {
    let (inp, out, col_len) = (s.input_len(), s.output_len(), s.col_len());
    assert!(
        x.len() >= batch * inp,
        "conv forward: x has {} values, needs {}",
        x.len(),
        batch * inp
    );
    assert!(
        y.len() >= batch * out,
        "conv forward: y has {} values, needs {}",
        y.len(),
        batch * out
    );
    assert!(
        col.len() >= col_len,
        "conv forward: col has {} values, needs {col_len}",
        col.len()
    );
    let col = &mut col[..col_len];
    for b in 0..batch {
        im2col(s, &x[b * inp..(b + 1) * inp], col);
        matmul_nn(
            s.filters,
            s.patch_len(),
            s.out_positions(),
            weight,
            col,
            &mut y[b * out..(b + 1) * out],
            false,
        );
    }
}

/// `d_weight = sum_b dy[b] * im2col(x[b])^T` (`filters x patch_len`,
/// overwritten). The im2col of each sample is recomputed into `col`.
pub fn backward_weight<F: Float>(
    s: &Conv2dShape,
    batch: usize,
    x: &[F],
    dy: &[F],
    d_weight: &mut [F],
    col: &mut [F],
) {
    let (inp, out, col_len) = (s.input_len(), s.output_len(), s.col_len());
    assert!(
        x.len() >= batch * inp,
        "conv backward_weight: x has {} values, needs {}",
        x.len(),
        batch * inp
    );
    assert!(
        dy.len() >= batch * out,
        "conv backward_weight: dy has {} values, needs {}",
        dy.len(),
        batch * out
    );
    assert!(
        col.len() >= col_len,
        "conv backward_weight: col has {} values, needs {col_len}",
        col.len()
    );
    let d_weight = &mut d_weight[..s.filters * s.patch_len()];
    if batch == 0 {
        d_weight.fill(F::ZERO);
        return;
    }
    let col = &mut col[..col_len];
    for b in 0..batch {
        im2col(s, &x[b * inp..(b + 1) * inp], col);
        matmul_nt(
            s.filters,
            s.out_positions(),
            s.patch_len(),
            &dy[b * out..(b + 1) * out],
            col,
            d_weight,
            b > 0,
        );
    }
}

/// `dx[b] = col2im(W^T * dy[b])` for each sample; overwrites `dx` unless
/// `accumulate`, in which case the gradient is added to what is there.
/// `dcol` is scratch of at least `col_len` values.
#[allow(clippy::too_many_arguments)]
pub fn backward_input<F: Float>(
    s: &Conv2dShape,
    batch: usize,
    dy: &[F],
    weight: &[F],
    dx: &mut [F],
    accumulate: bool,
    dcol: &mut [F],
) {
    let (inp, out, col_len) = (s.input_len(), s.output_len(), s.col_len());
    assert!(
        dx.len() >= batch * inp,
        "conv backward_input: dx has {} values, needs {}",
        dx.len(),
        batch * inp
    );
    assert!(
        dy.len() >= batch * out,
        "conv backward_input: dy has {} values, needs {}",
        dy.len(),
        batch * out
    );
    assert!(
        dcol.len() >= col_len,
        "conv backward_input: dcol has {} values, needs {col_len}",
        dcol.len()
    );
    let dcol = &mut dcol[..col_len];
    for b in 0..batch {
        // dcol (patch_len x positions) = W^T * dy[b], W stored filters x patch_len.
        matmul_tn(
            s.patch_len(),
            s.filters,
            s.out_positions(),
            weight,
            &dy[b * out..(b + 1) * out],
            dcol,
            false,
        );
        let dxb = &mut dx[b * inp..(b + 1) * inp];
        if !accumulate {
            dxb.fill(F::ZERO);
        }
        col2im_add(s, dcol, dxb);
    }
}

multiversion! {
    /// `y[b][f][p] += bias[f]` over all samples in `y`, each `bias.len() * positions` values.
    pub fn add_bias<F: Float>(y: &mut [F], bias: &[F], positions: usize) {
        if positions == 0 || bias.is_empty() {
            return;
        }
        for sample in y.chunks_exact_mut(bias.len() * positions) {
            for (plane, &b) in sample.chunks_exact_mut(positions).zip(bias) {
                for v in plane {
                    *v += b;
                }
            }
        }
    }
}

multiversion! {
    /// `d_bias[f] = sum over samples and positions of dy[b][f][p]` (overwrites).
    pub fn bias_gradient<F: Float>(dy: &[F], d_bias: &mut [F], positions: usize) {
        d_bias.fill(F::ZERO);
        if positions == 0 || d_bias.is_empty() {
            return;
        }
        for sample in dy.chunks_exact(d_bias.len() * positions) {
            for (plane, g) in sample.chunks_exact(positions).zip(d_bias.iter_mut()) {
                *g += crate::simd::sum(plane);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    /// The input value the convolution reads at (c, y, x) relative to the padded origin.
    fn at(s: &Conv2dShape, x: &[f64], c: usize, iy: isize, ix: isize) -> f64 {
        if iy < 0 || ix < 0 || iy >= s.height as isize || ix >= s.width as isize {
            0.0
        } else {
            x[(c * s.height + iy as usize) * s.width + ix as usize]
        }
    }

    /// Direct convolution, the reference for `forward`.
    fn naive_forward(s: &Conv2dShape, batch: usize, x: &[f64], weight: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; batch * s.output_len()];
        for b in 0..batch {
            let xb = &x[b * s.input_len()..(b + 1) * s.input_len()];
            for f in 0..s.filters {
                for oy in 0..s.out_h {
                    for ox in 0..s.out_w {
                        let mut acc = 0.0;
                        for c in 0..s.channels {
                            for i in 0..s.kernel_h {
                                for j in 0..s.kernel_w {
                                    let iy = (oy * s.stride_h + i) as isize - s.pad_top as isize;
                                    let ix = (ox * s.stride_w + j) as isize - s.pad_left as isize;
                                    let wv = weight[((f * s.channels + c) * s.kernel_h + i) * s.kernel_w + j];
                                    acc += wv * at(s, xb, c, iy, ix);
                                }
                            }
                        }
                        y[b * s.output_len() + (f * s.out_h + oy) * s.out_w + ox] = acc;
                    }
                }
            }
        }
        y
    }

    /// Output size for a given total padding along one axis.
    fn out_len(n: usize, k: usize, stride: usize, pad_total: usize) -> usize {
        (n + pad_total - k) / stride + 1
    }

    /// The grid: kernels, strides, paddings, channels, filters, odd sizes.
    fn shapes() -> Vec<Conv2dShape> {
        let mut v = Vec::new();
        let kernels = [(1, 1), (3, 3), (5, 5), (2, 3)];
        let strides = [(1, 1), (2, 2), (2, 1)];
        // (channels, filters, height, width)
        let dims: [(usize, usize, usize, usize); 4] =
            [(1, 1, 5, 7), (2, 4, 6, 5), (3, 1, 7, 7), (1, 4, 4, 4)];
        for (di, &(channels, filters, height, width)) in dims.iter().enumerate() {
            for (ki, &(kh, kw)) in kernels.iter().enumerate() {
                for &(sh, sw) in &strides {
                    // valid, explicit 1, TensorFlow "same" (extra at the bottom/right)
                    for padding in 0..3 {
                        // Keep the grid small: not every combination of dims and kernels.
                        if (di + ki + padding) % 2 == 1 && padding != 2 {
                            continue;
                        }
                        let (pt, pb, pl, pr, oh, ow) = match padding {
                            0 => (0, 0, 0, 0, 0, 0),
                            1 => (1, 1, 1, 1, 0, 0),
                            _ => {
                                let oh = height.div_ceil(sh);
                                let ow = width.div_ceil(sw);
                                let th = ((oh - 1) * sh + kh).saturating_sub(height);
                                let tw = ((ow - 1) * sw + kw).saturating_sub(width);
                                (th / 2, th - th / 2, tw / 2, tw - tw / 2, oh, ow)
                            }
                        };
                        if height + pt + pb < kh || width + pl + pr < kw {
                            continue;
                        }
                        let out_h = if padding == 2 {
                            oh
                        } else {
                            out_len(height, kh, sh, pt + pb)
                        };
                        let out_w = if padding == 2 {
                            ow
                        } else {
                            out_len(width, kw, sw, pl + pr)
                        };
                        v.push(Conv2dShape {
                            channels,
                            height,
                            width,
                            filters,
                            kernel_h: kh,
                            kernel_w: kw,
                            stride_h: sh,
                            stride_w: sw,
                            pad_top: pt,
                            pad_left: pl,
                            out_h,
                            out_w,
                        });
                    }
                }
            }
        }
        v
    }

    /// The case from the brief: 4x4, 3x3 kernel, stride 2, out 2x2, pad_top 0, pad_bottom 1.
    const SAME_ASYMMETRIC: Conv2dShape = Conv2dShape {
        channels: 2,
        height: 4,
        width: 4,
        filters: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 2,
        pad_top: 0,
        pad_left: 0,
        out_h: 2,
        out_w: 2,
    };

    fn close(a: &[f64], b: &[f64], tol: f64, what: &str, s: &Conv2dShape) {
        assert_eq!(a.len(), b.len());
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < tol, "{what} [{k}]: {x} vs {y} for {s:?}");
        }
    }

    #[test]
    fn the_grid_covers_the_required_cases() {
        let g = shapes();
        assert!(
            g.contains(&SAME_ASYMMETRIC) || g.iter().any(|s| s.height == 4 && s.pad_top == 0 && s.out_h == 2)
        );
        for k in [(1, 1), (3, 3), (5, 5), (2, 3)] {
            for st in [(1, 1), (2, 2), (2, 1)] {
                assert!(
                    g.iter()
                        .any(|s| (s.kernel_h, s.kernel_w) == k && (s.stride_h, s.stride_w) == st)
                );
            }
        }
        assert!(g.iter().any(|s| s.pad_top == 1));
        // bottom padding implied by out_h alone
        assert!(
            g.iter()
                .any(|s| s.pad_top == 0 && (s.out_h - 1) * s.stride_h + s.kernel_h > s.height)
        );
        assert!(g.len() > 40, "{}", g.len());
    }

    #[test]
    fn forward_matches_direct_convolution() {
        let mut grid = shapes();
        grid.push(SAME_ASYMMETRIC);
        for (n, s) in grid.iter().enumerate() {
            for batch in [1, 3] {
                let x = data(batch * s.input_len(), 10 + n as u64);
                let w = data(s.filters * s.patch_len(), 20 + n as u64);
                // Scratch larger than needed, as when layers share one buffer.
                let mut col = vec![f64::NAN; s.col_len() + 5];
                let mut y = vec![f64::NAN; batch * s.output_len()];
                forward(s, batch, &x, &w, &mut y, &mut col);
                close(&y, &naive_forward(s, batch, &x, &w), 1e-12, "forward", s);
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), g> == <x, col2im(g)> for random x and g.
        for (n, s) in shapes().iter().enumerate() {
            let x = data(s.input_len(), 30 + n as u64);
            let g = data(s.col_len(), 40 + n as u64);
            let mut col = vec![0.0; s.col_len()];
            im2col(s, &x, &mut col);
            let lhs: f64 = col.iter().zip(&g).map(|(a, b)| a * b).sum();
            let mut dx = vec![0.0; s.input_len()];
            col2im_add(s, &g, &mut dx);
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs} for {s:?}");
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn bias_matches_the_loop_and_its_gradient_is_the_sum() {
        let (batch, filters, positions) = (3, 4, 6);
        let y0 = data(batch * filters * positions, 50);
        let bias = data(filters, 51);
        let mut y = y0.clone();
        add_bias(&mut y, &bias, positions);
        for b in 0..batch {
            for f in 0..filters {
                for p in 0..positions {
                    let k = (b * filters + f) * positions + p;
                    assert!((y[k] - (y0[k] + bias[f])).abs() < 1e-15);
                }
            }
        }
        let mut d_bias = vec![f64::NAN; filters];
        bias_gradient(&y0, &mut d_bias, positions);
        for f in 0..filters {
            let expected: f64 = (0..batch)
                .flat_map(|b| (0..positions).map(move |p| (b * filters + f) * positions + p))
                .map(|k| y0[k])
                .sum();
            assert!((d_bias[f] - expected).abs() < 1e-12);
        }
    }

    /// Backward passes against central differences of `sum(w * forward(x, weight))`.
    #[test]
    fn backward_passes_match_numeric_gradients() {
        let h = 1e-6;
        let mut grid = shapes();
        grid.push(SAME_ASYMMETRIC);
        for (n, s) in grid.iter().enumerate() {
            // Batch 3 on a subset, to keep the run short.
            let batches: &[usize] = if n % 3 == 0 { &[1, 3] } else { &[1] };
            for &batch in batches {
                let x = data(batch * s.input_len(), 60 + n as u64);
                let weight = data(s.filters * s.patch_len(), 70 + n as u64);
                let outw = data(batch * s.output_len(), 80 + n as u64);
                let mut col = vec![0.0; s.col_len()];
                let mut y = vec![0.0; batch * s.output_len()];
                let mut loss = |x: &[f64], weight: &[f64]| {
                    forward(s, batch, x, weight, &mut y, &mut col);
                    y.iter().zip(&outw).map(|(a, b)| a * b).sum::<f64>()
                };

                let mut numeric_dx = vec![0.0; x.len()];
                for i in 0..x.len() {
                    let mut p = x.clone();
                    p[i] += h;
                    let mut m = x.clone();
                    m[i] -= h;
                    numeric_dx[i] = (loss(&p, &weight) - loss(&m, &weight)) / (2.0 * h);
                }
                let mut numeric_dw = vec![0.0; weight.len()];
                for i in 0..weight.len() {
                    let mut p = weight.clone();
                    p[i] += h;
                    let mut m = weight.clone();
                    m[i] -= h;
                    numeric_dw[i] = (loss(&x, &p) - loss(&x, &m)) / (2.0 * h);
                }

                let mut scratch = vec![f64::NAN; s.col_len() + 3];
                let mut dw = vec![f64::NAN; weight.len()];
                backward_weight(s, batch, &x, &outw, &mut dw, &mut scratch);
                close(&dw, &numeric_dw, 1e-7, "d_weight", s);

                let mut dx = vec![f64::NAN; x.len()];
                backward_input(s, batch, &outw, &weight, &mut dx, false, &mut scratch);
                close(&dx, &numeric_dx, 1e-7, "dx", s);

                // accumulate adds to what is there
                let before = data(x.len(), 90 + n as u64);
                let mut dx = before.clone();
                backward_input(s, batch, &outw, &weight, &mut dx, true, &mut scratch);
                let expected: Vec<f64> = before.iter().zip(&numeric_dx).map(|(a, b)| a + b).collect();
                close(&dx, &expected, 1e-7, "dx accumulated", s);
            }
        }
    }

    #[test]
    fn f32_forward_agrees_with_f64() {
        let s = SAME_ASYMMETRIC;
        let batch = 3;
        let x = data(batch * s.input_len(), 100);
        let w = data(s.filters * s.patch_len(), 101);
        let mut y = vec![0.0; batch * s.output_len()];
        let mut col = vec![0.0; s.col_len()];
        forward(&s, batch, &x, &w, &mut y, &mut col);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let mut y32 = vec![0.0f32; y.len()];
        let mut col32 = vec![0.0f32; s.col_len()];
        forward(&s, batch, &x32, &w32, &mut y32, &mut col32);
        for (a, b) in y32.iter().zip(&y) {
            assert!((f64::from(*a) - b).abs() < 1e-5);
        }
    }
}
