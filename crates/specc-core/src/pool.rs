//! Max, average and global average pooling over row-major NCHW batches.
//!
//! Windows have no padding: output `(oy, ox)` covers rows
//! `oy*stride_h .. oy*stride_h + size_h` and columns likewise, and every
//! window must fit inside the input (rows or columns no window reaches, such
//! as the last row of a 5x5 input pooled 2x2, are ignored and get zero
//! gradient). Windows overlap when the stride is smaller than the size; the
//! backward passes then add every window's contribution.

use crate::simd::multiversion;
use crate::{Float, par};

/// The dimensions of a max or average pooling layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub size_h: usize,
    pub size_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub out_h: usize,
    pub out_w: usize,
}

impl Pool2dShape {
    /// `channels * height * width`: one input sample.
    pub const fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// `channels * out_h * out_w`: one output sample.
    pub const fn output_len(&self) -> usize {
        self.channels * self.out_h * self.out_w
    }
}

/// Panics unless every window lies inside the input and the slices are long enough.
#[inline]
fn check(s: &Pool2dShape, batch: usize, input: usize, output: usize, what: &str) {
    assert!(
        s.out_h == 0 || (s.out_h - 1) * s.stride_h + s.size_h <= s.height,
        "{what}: windows leave the input rows: {s:?}"
    );
    assert!(
        s.out_w == 0 || (s.out_w - 1) * s.stride_w + s.size_w <= s.width,
        "{what}: windows leave the input columns: {s:?}"
    );
    assert!(
        input >= batch * s.input_len(),
        "{what}: input has {input} values, needs {}",
        batch * s.input_len()
    );
    assert!(
        output >= batch * s.output_len(),
        "{what}: output has {output} values, needs {}",
        batch * s.output_len()
    );
}

multiversion! {
    /// [`max_forward`] on one thread.
    fn max_forward_samples<F: Float>(
        s: &Pool2dShape,
        batch: usize,
        x: &[F],
        y: &mut [F],
        argmax: &mut [u32],
        channels: core::ops::Range<usize>,
    ) {
        // `y` and `argmax` hold, per sample, the outputs of `channels` only;
        // `x` whole samples, and the argmax indices count from a sample's start.
        let (inp, out) = (s.input_len(), channels.len() * s.out_h * s.out_w);
        assert!(
            channels.end <= s.channels && x.len() >= batch * inp && y.len() >= batch * out,
            "max_forward: slices too short"
        );
        assert!(argmax.len() >= batch * out, "max_forward: argmax too short");
        assert!(
            s.input_len() <= u32::MAX as usize,
            "max_forward: sample too large for u32 indices"
        );
        let (h, w) = (s.height, s.width);
        let pairs = s.size_h == 2 && s.size_w == 2 && s.stride_h == 2 && s.stride_w == 2;
        for b in 0..batch {
            let xb = &x[b * inp..(b + 1) * inp];
            let yb = &mut y[b * out..(b + 1) * out];
            let ab = &mut argmax[b * out..(b + 1) * out];
            for c in channels.clone() {
                let plane = c * h * w;
                for oy in 0..s.out_h {
                    let o = ((c - channels.start) * s.out_h + oy) * s.out_w;
                    let (yr, ar) = (&mut yb[o..o + s.out_w], &mut ab[o..o + s.out_w]);
                    let first = plane + oy * s.stride_h * w;
                    if pairs {
                        // The common 2x2, stride-2 window without branches:
                        // the first maximum of each row pair, then the
                        // lower row only where strictly greater.
                        let top = &xb[first..first + 2 * s.out_w];
                        let bottom = &xb[first + w..first + w + 2 * s.out_w];
                        for (ox, ((y, a), (t, u))) in yr
                            .iter_mut()
                            .zip(ar.iter_mut())
                            .zip(top.chunks_exact(2).zip(bottom.chunks_exact(2)))
                            .enumerate()
                        {
                            let at = (first + 2 * ox) as u32;
                            let (m0, i0) = if t[1] > t[0] { (t[1], at + 1) } else { (t[0], at) };
                            let (m1, i1) = if u[1] > u[0] { (u[1], at + 1) } else { (u[0], at) };
                            let lower = m1 > m0;
                            *y = if lower { m1 } else { m0 };
                            *a = if lower { i1 + w as u32 } else { i0 };
                        }
                        continue;
                    }
                    for (ox, (y, a)) in yr.iter_mut().zip(ar.iter_mut()).enumerate() {
                        let corner = first + ox * s.stride_w;
                        let mut best = xb[corner];
                        let mut best_at = corner;
                        for i in 0..s.size_h {
                            let row = corner + i * w;
                            for (j, &v) in xb[row..row + s.size_w].iter().enumerate() {
                                let greater = v > best;
                                best = if greater { v } else { best };
                                best_at = if greater { row + j } else { best_at };
                            }
                        }
                        *y = best;
                        *a = best_at as u32;
                    }
                }
            }
        }
    }
}

#[cfg(feature = "backward")]
fn max_backward_samples<F: Float>(
    s: &Pool2dShape,
    batch: usize,
    dy: &[F],
    argmax: &[u32],
    dx: &mut [F],
    accumulate: bool,
) {
    check(s, batch, dx.len(), dy.len(), "max_backward");
    assert!(
        argmax.len() >= batch * s.output_len(),
        "max_backward: argmax too short"
    );
    let (inp, out) = (s.input_len(), s.output_len());
    for b in 0..batch {
        let dxb = &mut dx[b * inp..(b + 1) * inp];
        if !accumulate {
            dxb.fill(F::ZERO);
        }
        for (&g, &at) in dy[b * out..(b + 1) * out]
            .iter()
            .zip(&argmax[b * out..(b + 1) * out])
        {
            dxb[at as usize] += g;
        }
    }
}

fn avg_forward_samples<F: Float>(s: &Pool2dShape, batch: usize, x: &[F], y: &mut [F]) {
    check(s, batch, x.len(), y.len(), "avg_forward");
    let (h, w) = (s.height, s.width);
    let (inp, out) = (s.input_len(), s.output_len());
    let inv = F::ONE / F::from_f64((s.size_h * s.size_w) as f64);
    for b in 0..batch {
        let xb = &x[b * inp..(b + 1) * inp];
        let mut yb = y[b * out..(b + 1) * out].iter_mut();
        for c in 0..s.channels {
            let plane = c * h * w;
            for oy in 0..s.out_h {
                for ox in 0..s.out_w {
                    let first = plane + oy * s.stride_h * w + ox * s.stride_w;
                    let mut sum = F::ZERO;
                    for i in 0..s.size_h {
                        let row = first + i * w;
                        for &v in &xb[row..row + s.size_w] {
                            sum += v;
                        }
                    }
                    *yb.next().expect("avg_forward: output_len outputs") = sum * inv;
                }
            }
        }
    }
}

#[cfg(feature = "backward")]
fn avg_backward_samples<F: Float>(s: &Pool2dShape, batch: usize, dy: &[F], dx: &mut [F], accumulate: bool) {
    check(s, batch, dx.len(), dy.len(), "avg_backward");
    let (h, w) = (s.height, s.width);
    let (inp, out) = (s.input_len(), s.output_len());
    let inv = F::ONE / F::from_f64((s.size_h * s.size_w) as f64);
    for b in 0..batch {
        let dxb = &mut dx[b * inp..(b + 1) * inp];
        if !accumulate {
            dxb.fill(F::ZERO);
        }
        let mut dyb = dy[b * out..(b + 1) * out].iter();
        for c in 0..s.channels {
            let plane = c * h * w;
            for oy in 0..s.out_h {
                for ox in 0..s.out_w {
                    let g = *dyb.next().expect("avg_backward: output_len gradients") * inv;
                    let first = plane + oy * s.stride_h * w + ox * s.stride_w;
                    for i in 0..s.size_h {
                        let row = first + i * w;
                        for d in &mut dxb[row..row + s.size_w] {
                            *d += g;
                        }
                    }
                }
            }
        }
    }
}

/// The samples of each part when a batch of `batch` samples of
/// `sample_len` values each is spread over threads.
fn samples_per_part(batch: usize, sample_len: usize) -> usize {
    par::part_len(batch, (1 << 14) / sample_len.max(1), 1)
}

/// The maximum over each window. `argmax[o]` is the index, within the
/// sample's input (`c*H*W + y*W + x`), of the value chosen: the first
/// maximum in row-major window order when several are equal.
pub fn max_forward<F: Float>(s: &Pool2dShape, batch: usize, x: &[F], y: &mut [F], argmax: &mut [u32]) {
    check(s, batch, x.len(), y.len(), "max_forward");
    assert!(
        argmax.len() >= batch * s.output_len(),
        "max_forward: argmax too short"
    );
    let (inp, out) = (s.input_len(), s.output_len().max(1));
    let per = samples_per_part(batch, inp);
    if per >= batch {
        // The batch is one part (one small sample, or one thread): as in
        // a convolution, the threads share each sample's channels instead.
        let plane = (s.out_h * s.out_w).max(1);
        let channels = par::part_len(s.channels, (1 << 12) / (s.height * s.width).max(1), 1);
        for (b, (y, argmax)) in y[..batch * out]
            .chunks_mut(out)
            .zip(argmax.chunks_mut(out))
            .enumerate()
        {
            let x = &x[b * inp..(b + 1) * inp];
            let parts = y
                .chunks_mut(channels * plane)
                .zip(argmax.chunks_mut(channels * plane));
            par::for_each_part(parts, |part, (y, argmax)| {
                let first = part * channels;
                max_forward_samples(s, 1, x, y, argmax, first..first + y.len() / plane);
            });
        }
        return;
    }
    let parts = y[..batch * out]
        .chunks_mut(per * out)
        .zip(argmax.chunks_mut(per * out));
    par::for_each_part(parts, |part, (y, argmax)| {
        max_forward_samples(s, y.len() / out, &x[part * per * inp..], y, argmax, 0..s.channels);
    });
}

/// `dx[b][argmax[b][o]] += dy[b][o]`, after zeroing `dx` unless `accumulate`.
#[cfg(feature = "backward")]
pub fn max_backward<F: Float>(
    s: &Pool2dShape,
    batch: usize,
    dy: &[F],
    argmax: &[u32],
    dx: &mut [F],
    accumulate: bool,
) {
    check(s, batch, dx.len(), dy.len(), "max_backward");
    let (inp, out) = (s.input_len().max(1), s.output_len());
    let per = samples_per_part(batch, inp);
    par::for_each_part(dx[..batch * inp].chunks_mut(per * inp), |part, dx| {
        let from = part * per * out;
        max_backward_samples(s, dx.len() / inp, &dy[from..], &argmax[from..], dx, accumulate);
    });
}

/// The mean over each window (the sum divided by `size_h * size_w`).
pub fn avg_forward<F: Float>(s: &Pool2dShape, batch: usize, x: &[F], y: &mut [F]) {
    check(s, batch, x.len(), y.len(), "avg_forward");
    let (inp, out) = (s.input_len(), s.output_len().max(1));
    let per = samples_per_part(batch, inp);
    par::for_each_part(y[..batch * out].chunks_mut(per * out), |part, y| {
        avg_forward_samples(s, y.len() / out, &x[part * per * inp..], y);
    });
}

/// Spreads each `dy / (size_h * size_w)` over its window, adding where
/// windows overlap; `dx` is zeroed first unless `accumulate`.
#[cfg(feature = "backward")]
pub fn avg_backward<F: Float>(s: &Pool2dShape, batch: usize, dy: &[F], dx: &mut [F], accumulate: bool) {
    check(s, batch, dx.len(), dy.len(), "avg_backward");
    let (inp, out) = (s.input_len().max(1), s.output_len());
    let per = samples_per_part(batch, inp);
    par::for_each_part(dx[..batch * inp].chunks_mut(per * inp), |part, dx| {
        avg_backward_samples(s, dx.len() / inp, &dy[part * per * out..], dx, accumulate);
    });
}

/// `y[b][c] = mean over p of x[b][c][p]`: `[C, positions]` to `[C]` per sample.
#[inline]
pub fn global_avg_forward<F: Float>(channels: usize, positions: usize, batch: usize, x: &[F], y: &mut [F]) {
    let n = batch * channels;
    assert!(
        x.len() >= n * positions,
        "global_avg_forward: x has {} values, needs {}",
        x.len(),
        n * positions
    );
    assert!(
        y.len() >= n,
        "global_avg_forward: y has {} values, needs {n}",
        y.len()
    );
    if positions == 0 {
        y[..n].fill(F::ZERO);
        return;
    }
    let inv = F::ONE / F::from_f64(positions as f64);
    for (v, plane) in y[..n].iter_mut().zip(x.chunks_exact(positions)) {
        *v = plane.iter().fold(F::ZERO, |acc, &t| acc + t) * inv;
    }
}

/// `dx[b][c][p] = dy[b][c] / positions` (`+=` when `accumulate`).
#[inline]
#[cfg(feature = "backward")]
pub fn global_avg_backward<F: Float>(
    channels: usize,
    positions: usize,
    batch: usize,
    dy: &[F],
    dx: &mut [F],
    accumulate: bool,
) {
    let n = batch * channels;
    assert!(
        dx.len() >= n * positions,
        "global_avg_backward: dx has {} values, needs {}",
        dx.len(),
        n * positions
    );
    assert!(
        dy.len() >= n,
        "global_avg_backward: dy has {} values, needs {n}",
        dy.len()
    );
    if positions == 0 {
        return;
    }
    let inv = F::ONE / F::from_f64(positions as f64);
    for (&g, plane) in dy[..n].iter().zip(dx.chunks_exact_mut(positions)) {
        let g = g * inv;
        if accumulate {
            for d in plane {
                *d += g;
            }
        } else {
            plane.fill(g);
        }
    }
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    fn shape(
        channels: usize,
        height: usize,
        width: usize,
        size: (usize, usize),
        stride: (usize, usize),
    ) -> Pool2dShape {
        Pool2dShape {
            channels,
            height,
            width,
            size_h: size.0,
            size_w: size.1,
            stride_h: stride.0,
            stride_w: stride.1,
            out_h: (height - size.0) / stride.0 + 1,
            out_w: (width - size.1) / stride.1 + 1,
        }
    }

    fn grid() -> Vec<Pool2dShape> {
        let mut v = Vec::new();
        for &(c, h, w) in &[(1, 5, 5), (2, 6, 7), (3, 4, 4)] {
            for size in [(2, 2), (3, 3), (2, 3)] {
                for stride in [(1, 1), (2, 2), (size.0, size.1), (1, 2)] {
                    v.push(shape(c, h, w, size, stride));
                }
            }
        }
        v
    }

    /// Every input value of window (c, oy, ox), with its index in the sample.
    fn window(s: &Pool2dShape, x: &[f64], c: usize, oy: usize, ox: usize) -> Vec<(usize, f64)> {
        let mut v = Vec::new();
        for i in 0..s.size_h {
            for j in 0..s.size_w {
                let k = (c * s.height + oy * s.stride_h + i) * s.width + ox * s.stride_w + j;
                v.push((k, x[k]));
            }
        }
        v
    }

    fn naive(s: &Pool2dShape, batch: usize, x: &[f64], max: bool) -> (Vec<f64>, Vec<u32>) {
        let mut y = Vec::new();
        let mut arg = Vec::new();
        for b in 0..batch {
            let xb = &x[b * s.input_len()..(b + 1) * s.input_len()];
            for c in 0..s.channels {
                for oy in 0..s.out_h {
                    for ox in 0..s.out_w {
                        let win = window(s, xb, c, oy, ox);
                        if max {
                            let mut best = win[0];
                            for &(k, v) in &win[1..] {
                                if v > best.1 {
                                    best = (k, v);
                                }
                            }
                            y.push(best.1);
                            arg.push(best.0 as u32);
                        } else {
                            y.push(win.iter().map(|p| p.1).sum::<f64>() / win.len() as f64);
                        }
                    }
                }
            }
        }
        (y, arg)
    }

    /// Central differences of `sum(w * f(x))`.
    fn numeric(x: &[f64], w: &[f64], mut f: impl FnMut(&[f64]) -> Vec<f64>) -> Vec<f64> {
        let h = 1e-6;
        let mut loss = |x: &[f64]| f(x).iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
        (0..x.len())
            .map(|i| {
                let mut p = x.to_vec();
                p[i] += h;
                let mut m = x.to_vec();
                m[i] -= h;
                (loss(&p) - loss(&m)) / (2.0 * h)
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() < tol, "{what} [{k}]: {x} vs {y}");
        }
    }

    #[test]
    fn odd_inputs_drop_what_no_window_reaches() {
        let s = shape(1, 5, 5, (2, 2), (2, 2));
        assert_eq!((s.out_h, s.out_w), (2, 2));
        let x: Vec<f64> = (0..25).map(f64::from).collect();
        let mut y = vec![0.0; 4];
        let mut arg = vec![0; 4];
        max_forward(&s, 1, &x, &mut y, &mut arg);
        assert_eq!(y, [6.0, 8.0, 16.0, 18.0]);
        assert_eq!(arg, [6, 8, 16, 18]);
        let mut dx = vec![1.0; 25];
        max_backward(&s, 1, &[1.0; 4], &arg, &mut dx, false);
        assert_eq!(dx.iter().sum::<f64>(), 4.0);
        assert!((0..5).all(|k| dx[4 * 5 + k] == 0.0 && dx[k * 5 + 4] == 0.0));
    }

    #[test]
    fn max_ties_take_the_first_in_the_window() {
        let s = shape(2, 3, 3, (2, 2), (1, 1));
        let x = [
            1.0, 5.0, 5.0, //
            5.0, 5.0, 0.0, //
            2.0, 2.0, 2.0, //
            -1.0, -1.0, -1.0, //
            -1.0, -1.0, -1.0, //
            -1.0, -1.0, -1.0,
        ];
        let mut y = vec![0.0; 8];
        let mut arg = vec![0; 8];
        max_forward(&s, 1, &x, &mut y, &mut arg);
        assert_eq!(y, [5.0, 5.0, 5.0, 5.0, -1.0, -1.0, -1.0, -1.0]);
        assert_eq!(arg, [1, 1, 3, 4, 9, 10, 12, 13]);
    }

    #[test]
    fn forwards_match_the_naive_loops() {
        for (n, s) in grid().iter().enumerate() {
            for batch in [1, 3] {
                let x = data(batch * s.input_len(), n as u64);
                let (ny, narg) = naive(s, batch, &x, true);
                let mut y = vec![f64::NAN; batch * s.output_len()];
                let mut arg = vec![u32::MAX; y.len()];
                max_forward(s, batch, &x, &mut y, &mut arg);
                assert_eq!(y, ny, "{s:?}");
                assert_eq!(arg, narg, "{s:?}");
                let (ny, _) = naive(s, batch, &x, false);
                avg_forward(s, batch, &x, &mut y);
                close(&y, &ny, 1e-14, "avg");
            }
        }
    }

    #[test]
    fn backwards_match_numeric_gradients() {
        for (n, s) in grid().iter().enumerate() {
            for batch in [1, 3] {
                let x = data(batch * s.input_len(), 100 + n as u64);
                let w = data(batch * s.output_len(), 200 + n as u64);
                let mut y = vec![0.0; w.len()];
                let mut arg = vec![0u32; w.len()];

                let num = numeric(&x, &w, |x| {
                    let mut y = vec![0.0; w.len()];
                    max_forward(s, batch, x, &mut y, &mut vec![0; w.len()]);
                    y
                });
                max_forward(s, batch, &x, &mut y, &mut arg);
                let mut dx = vec![f64::NAN; x.len()];
                max_backward(s, batch, &w, &arg, &mut dx, false);
                close(&dx, &num, 1e-7, "max");
                let before = data(x.len(), 300 + n as u64);
                let mut acc = before.clone();
                max_backward(s, batch, &w, &arg, &mut acc, true);
                let expected: Vec<f64> = before.iter().zip(&num).map(|(a, b)| a + b).collect();
                close(&acc, &expected, 1e-7, "max accumulated");

                let num = numeric(&x, &w, |x| {
                    let mut y = vec![0.0; w.len()];
                    avg_forward(s, batch, x, &mut y);
                    y
                });
                let mut dx = vec![f64::NAN; x.len()];
                avg_backward(s, batch, &w, &mut dx, false);
                close(&dx, &num, 1e-7, "avg");
                let mut acc = before.clone();
                avg_backward(s, batch, &w, &mut acc, true);
                let expected: Vec<f64> = before.iter().zip(&num).map(|(a, b)| a + b).collect();
                close(&acc, &expected, 1e-7, "avg accumulated");
            }
        }
    }

    #[test]
    fn global_average_and_its_gradient() {
        for &(channels, positions) in &[(1, 1), (3, 4), (4, 25)] {
            for batch in [1, 3] {
                let x = data(batch * channels * positions, 7);
                let mut y = vec![f64::NAN; batch * channels];
                global_avg_forward(channels, positions, batch, &x, &mut y);
                for b in 0..batch {
                    for c in 0..channels {
                        let mut sum = 0.0;
                        for p in 0..positions {
                            sum += x[(b * channels + c) * positions + p];
                        }
                        assert!((y[b * channels + c] - sum / positions as f64).abs() < 1e-14);
                    }
                }
                let w = data(y.len(), 8);
                let num = numeric(&x, &w, |x| {
                    let mut y = vec![0.0; w.len()];
                    global_avg_forward(channels, positions, batch, x, &mut y);
                    y
                });
                let mut dx = vec![f64::NAN; x.len()];
                global_avg_backward(channels, positions, batch, &w, &mut dx, false);
                close(&dx, &num, 1e-7, "global");
                let before = data(x.len(), 9);
                let mut acc = before.clone();
                global_avg_backward(channels, positions, batch, &w, &mut acc, true);
                let expected: Vec<f64> = before.iter().zip(&num).map(|(a, b)| a + b).collect();
                close(&acc, &expected, 1e-7, "global accumulated");
            }
        }
    }
}
