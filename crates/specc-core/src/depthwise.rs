//! Depthwise convolution (`depthwise_conv2d`): each input channel convolved
//! on its own with `multiplier` kernels, output channel `c * multiplier +
//! m`. A direct kernel, not im2col and GEMM (one channel's product is a
//! vector-by-matrix product far from any GEMM's peak): for each kernel tap,
//! one multiply-add over a whole output row, contiguous at stride 1, which
//! the compiler vectorises for the instruction set [`crate::simd::dispatch`]
//! selects. Samples run on the worker pool in the forward and input-gradient
//! passes; the weight gradient sums over the batch in sample order, so every
//! result is the same for every thread count.

use crate::Float;
use crate::conv::valid_range;
use crate::par;

/// The dimensions of a depthwise convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthwiseShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub multiplier: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl DepthwiseShape {
    pub const fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub const fn output_len(&self) -> usize {
        self.channels * self.multiplier * self.out_h * self.out_w
    }

    const fn taps(&self) -> usize {
        self.kernel_h * self.kernel_w
    }

    /// For tap `(i, j)`: the output rows and columns that read inside the
    /// input, and the input offset of output `(0, 0)` (which may be
    /// "negative": only valid positions are read).
    #[inline]
    fn tap(&self, i: usize, j: usize) -> ((usize, usize), (usize, usize)) {
        let rows = valid_range(
            self.out_h,
            self.stride_h,
            i * self.dilation_h,
            self.pad_top,
            self.height,
        );
        let cols = valid_range(
            self.out_w,
            self.stride_w,
            j * self.dilation_w,
            self.pad_left,
            self.width,
        );
        (rows, cols)
    }

    /// The input index read by output `(oy, ox)` at tap `(i, j)`, for valid positions.
    #[inline]
    fn source(&self, oy: usize, ox: usize, i: usize, j: usize) -> usize {
        let iy = oy * self.stride_h + i * self.dilation_h - self.pad_top;
        let ix = ox * self.stride_w + j * self.dilation_w - self.pad_left;
        iy * self.width + ix
    }
}

/// `y[b][k] = bias[k] + sum over taps of weight[k][i][j] x[b][k / multiplier][...]`.
pub fn forward<F: Float>(
    s: &DepthwiseShape,
    batch: usize,
    x: &[F],
    weight: &[F],
    bias: Option<&[F]>,
    y: &mut [F],
) {
    assert_eq!(x.len(), batch * s.input_len(), "depthwise forward: x length");
    assert_eq!(y.len(), batch * s.output_len(), "depthwise forward: y length");
    assert_eq!(
        weight.len(),
        s.channels * s.multiplier * s.taps(),
        "depthwise forward: weight length"
    );
    let (inp, out) = (s.input_len(), s.output_len());
    if batch == 0 || out == 0 {
        return;
    }
    let samples = par::part_len(batch, 1, 1);
    par::for_each_part(y.chunks_mut(samples * out), |part, y| {
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for (b, y) in y.chunks_exact_mut(out).enumerate() {
                    let x = &x[(part * samples + b) * inp..][..inp];
                    sample_forward(s, x, weight, bias, y);
                }
            },
        )
    });
}

#[inline(always)]
fn sample_forward<F: Float>(s: &DepthwiseShape, x: &[F], weight: &[F], bias: Option<&[F]>, y: &mut [F]) {
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    for (k, y) in y.chunks_exact_mut(out_plane).enumerate() {
        let x = &x[k / s.multiplier * plane..][..plane];
        y.fill(bias.map_or(F::ZERO, |b| b[k]));
        let w = &weight[k * taps..][..taps];
        for i in 0..s.kernel_h {
            for j in 0..s.kernel_w {
                let wt = w[i * s.kernel_w + j];
                let ((oy0, oy1), (ox0, ox1)) = s.tap(i, j);
                for oy in oy0..oy1 {
                    let row = &mut y[oy * s.out_w..][ox0..ox1];
                    if s.stride_w == 1 {
                        let start = s.source(oy, ox0, i, j);
                        for (o, &v) in row.iter_mut().zip(&x[start..start + (ox1 - ox0)]) {
                            *o += wt * v;
                        }
                    } else {
                        for (o, ox) in row.iter_mut().zip(ox0..ox1) {
                            *o += wt * x[s.source(oy, ox, i, j)];
                        }
                    }
                }
            }
        }
    }
}

/// The weight and bias gradients from `dy` (overwritten): sums over the
/// batch in sample order.
#[cfg(feature = "backward")]
pub fn backward_weights<F: Float>(
    s: &DepthwiseShape,
    batch: usize,
    x: &[F],
    dy: &[F],
    d_weight: &mut [F],
    mut d_bias: Option<&mut [F]>,
) {
    assert_eq!(x.len(), batch * s.input_len(), "depthwise backward: x length");
    assert_eq!(dy.len(), batch * s.output_len(), "depthwise backward: dy length");
    assert_eq!(
        d_weight.len(),
        s.channels * s.multiplier * s.taps(),
        "depthwise backward: d_weight length"
    );
    let (inp, out) = (s.input_len(), s.output_len());
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    d_weight.fill(F::ZERO);
    if let Some(db) = d_bias.as_mut() {
        db.fill(F::ZERO);
    }
    crate::simd::dispatch(
        #[inline(always)]
        || {
            for b in 0..batch {
                let (x, dy) = (&x[b * inp..][..inp], &dy[b * out..][..out]);
                for (k, dy) in dy.chunks_exact(out_plane).enumerate() {
                    let x = &x[k / s.multiplier * plane..][..plane];
                    if let Some(db) = d_bias.as_mut() {
                        db[k] += dot_sum(dy, None);
                    }
                    for i in 0..s.kernel_h {
                        for j in 0..s.kernel_w {
                            let ((oy0, oy1), (ox0, ox1)) = s.tap(i, j);
                            let mut sum = F::ZERO;
                            for oy in oy0..oy1 {
                                let dy = &dy[oy * s.out_w..][ox0..ox1];
                                if s.stride_w == 1 {
                                    let start = s.source(oy, ox0, i, j);
                                    sum += dot_sum(dy, Some(&x[start..start + (ox1 - ox0)]));
                                } else {
                                    for (&d, ox) in dy.iter().zip(ox0..ox1) {
                                        sum += d * x[s.source(oy, ox, i, j)];
                                    }
                                }
                            }
                            d_weight[k * taps + i * s.kernel_w + j] += sum;
                        }
                    }
                }
            }
        },
    )
}

/// `sum(a * b)` (`sum(a)` without `b`) in eight interleaved partial sums
/// added in a fixed order: a reduction the compiler can vectorise, with the
/// same result on every machine.
#[cfg(feature = "backward")]
#[inline(always)]
fn dot_sum<F: Float>(a: &[F], b: Option<&[F]>) -> F {
    let mut acc = [F::ZERO; 8];
    let head = a.len() / 8 * 8;
    match b {
        Some(b) => {
            for (a, b) in a[..head].chunks_exact(8).zip(b[..head].chunks_exact(8)) {
                for l in 0..8 {
                    acc[l] += a[l] * b[l];
                }
            }
        }
        None => {
            for a in a[..head].chunks_exact(8) {
                for l in 0..8 {
                    acc[l] += a[l];
                }
            }
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (l, &v) in a[head..].iter().enumerate() {
        sum += b.map_or(v, |b| v * b[head + l]);
    }
    sum
}

/// The input gradient from `dy` (written, or added with `accumulate`),
/// samples on the worker pool.
#[cfg(feature = "backward")]
pub fn backward_input<F: Float>(
    s: &DepthwiseShape,
    batch: usize,
    dy: &[F],
    weight: &[F],
    dx: &mut [F],
    accumulate: bool,
) {
    assert_eq!(dy.len(), batch * s.output_len(), "depthwise backward: dy length");
    assert_eq!(dx.len(), batch * s.input_len(), "depthwise backward: dx length");
    let (inp, out) = (s.input_len(), s.output_len());
    if batch == 0 || inp == 0 {
        return;
    }
    let samples = par::part_len(batch, 1, 1);
    par::for_each_part(dx.chunks_mut(samples * inp), |part, dx| {
        crate::simd::dispatch(
            #[inline(always)]
            || input_gradient_part(s, &dy[part * samples * out..], weight, dx, accumulate),
        )
    });
}

/// [`backward_input`] for the samples of `dx`, whose output gradients start `dy`.
#[cfg(feature = "backward")]
#[inline(always)]
fn input_gradient_part<F: Float>(s: &DepthwiseShape, dy: &[F], weight: &[F], dx: &mut [F], accumulate: bool) {
    let (inp, out) = (s.input_len(), s.output_len());
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    {
        for (b, dx) in dx.chunks_exact_mut(inp).enumerate() {
            let dy = &dy[b * out..][..out];
            if !accumulate {
                dx.fill(F::ZERO);
            }
            for (k, dy) in dy.chunks_exact(out_plane).enumerate() {
                let dx = &mut dx[k / s.multiplier * plane..][..plane];
                let w = &weight[k * taps..][..taps];
                for i in 0..s.kernel_h {
                    for j in 0..s.kernel_w {
                        let wt = w[i * s.kernel_w + j];
                        let ((oy0, oy1), (ox0, ox1)) = s.tap(i, j);
                        for oy in oy0..oy1 {
                            let dy = &dy[oy * s.out_w..][ox0..ox1];
                            if s.stride_w == 1 {
                                let start = s.source(oy, ox0, i, j);
                                for (d, &g) in dx[start..start + (ox1 - ox0)].iter_mut().zip(dy) {
                                    *d += wt * g;
                                }
                            } else {
                                for (&g, ox) in dy.iter().zip(ox0..ox1) {
                                    dx[s.source(oy, ox, i, j)] += wt * g;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    /// Stride 2, dilation 2 across, padding, a multiplier of 2.
    const S: DepthwiseShape = DepthwiseShape {
        channels: 2,
        height: 5,
        width: 6,
        multiplier: 2,
        kernel_h: 3,
        kernel_w: 2,
        stride_h: 2,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 2,
        pad_top: 1,
        pad_left: 1,
        out_h: 3,
        out_w: 5,
    };

    fn values(n: usize, k: usize) -> Vec<f64> {
        (0..n).map(|i| ((i * k % 17) as f64 - 8.0) / 7.0).collect()
    }

    /// Each output from its definition, one tap at a time.
    fn direct(s: &DepthwiseShape, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
        let mut y = Vec::new();
        for k in 0..s.channels * s.multiplier {
            for oy in 0..s.out_h {
                for ox in 0..s.out_w {
                    let mut sum = b[k];
                    for i in 0..s.kernel_h {
                        for j in 0..s.kernel_w {
                            let iy = (oy * s.stride_h + i * s.dilation_h) as isize - s.pad_top as isize;
                            let ix = (ox * s.stride_w + j * s.dilation_w) as isize - s.pad_left as isize;
                            if (0..s.height as isize).contains(&iy) && (0..s.width as isize).contains(&ix) {
                                let c = k / s.multiplier;
                                sum += w[(k * s.kernel_h + i) * s.kernel_w + j]
                                    * x[(c * s.height + iy as usize) * s.width + ix as usize];
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        y
    }

    #[test]
    fn forward_follows_the_definition_and_backward_the_numeric_gradients() {
        let (x, w, b) = (values(S.input_len(), 5), values(4 * 6, 3), values(4, 7));
        let mut y = vec![0.0; S.output_len()];
        forward(&S, 1, &x, &w, Some(&b), &mut y);
        let want = direct(&S, &x, &w, &b);
        for (a, e) in y.iter().zip(&want) {
            assert!((a - e).abs() < 1e-12, "{a} vs {e}");
        }
        // sum(g * y) for fixed g: its gradients against central differences.
        let g = values(S.output_len(), 11);
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            direct(&S, x, w, b)
                .iter()
                .zip(&g)
                .map(|(a, c)| a * c)
                .sum::<f64>()
        };
        let (mut dw, mut db, mut dx) = (vec![0.0; w.len()], vec![0.0; 4], vec![0.0; x.len()]);
        backward_weights(&S, 1, &x, &g, &mut dw, Some(&mut db));
        backward_input(&S, 1, &g, &w, &mut dx, false);
        let h = 1e-6;
        let check = |analytic: &[f64], values: &[f64], f: &dyn Fn(&[f64]) -> f64| {
            for i in 0..values.len() {
                let (mut p, mut m) = (values.to_vec(), values.to_vec());
                p[i] += h;
                m[i] -= h;
                let numeric = (f(&p) - f(&m)) / (2.0 * h);
                assert!(
                    (numeric - analytic[i]).abs() < 1e-7,
                    "{i}: {numeric} vs {}",
                    analytic[i]
                );
            }
        };
        check(&dx, &x, &|x| loss(x, &w, &b));
        check(&dw, &w, &|w| loss(&x, w, &b));
        check(&db, &b, &|b| loss(&x, &w, b));
    }
}
