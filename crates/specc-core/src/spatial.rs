//! Layers that move pixels without weights: zero padding and cropping (one
//! is the other's gradient) and upsampling, nearest or bilinear. Layout is
//! NCHW, `batch` samples of `channels` planes one after the other.

use crate::Float;

/// A plane of `height x width` inside one of `(height + 2 pad_h) x (width +
/// 2 pad_w)`, for every channel: zero_pad2d's input and output, crop2d's
/// output and input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Border {
    pub channels: usize,
    /// The inner plane.
    pub height: usize,
    pub width: usize,
    /// Rows above and below, columns left and right.
    pub pad_h: usize,
    pub pad_w: usize,
}

impl Border {
    /// The outer plane's width.
    const fn outer_width(&self) -> usize {
        self.width + 2 * self.pad_w
    }

    /// Values in one sample of the inner planes.
    pub const fn inner_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Values in one sample of the outer planes.
    pub const fn outer_len(&self) -> usize {
        self.channels * (self.height + 2 * self.pad_h) * self.outer_width()
    }

    /// For each sample, channel and inner row: the inner row's range in
    /// `inner` and in `outer`.
    fn rows(&self, batch: usize) -> impl Iterator<Item = (core::ops::Range<usize>, core::ops::Range<usize>)> {
        let (h, w, ow) = (self.height, self.width, self.outer_width());
        let outer_plane = (h + 2 * self.pad_h) * ow;
        (0..batch * self.channels).flat_map(move |plane| {
            (0..h).map(move |row| {
                let inner = (plane * h + row) * w;
                let outer = plane * outer_plane + (row + self.pad_h) * ow + self.pad_w;
                (inner..inner + w, outer..outer + w)
            })
        })
    }
}

/// `outer` = `inner` with zeros around it (or, with `accumulate`, `inner`
/// added to the middle of `outer`, the border left as it is).
pub fn embed<F: Float>(s: &Border, batch: usize, inner: &[F], outer: &mut [F], accumulate: bool) {
    assert_eq!(inner.len(), batch * s.inner_len(), "embed: inner length");
    assert_eq!(outer.len(), batch * s.outer_len(), "embed: outer length");
    if !accumulate {
        outer.fill(F::ZERO);
    }
    for (i, o) in s.rows(batch) {
        for (d, &v) in outer[o].iter_mut().zip(&inner[i]) {
            if accumulate {
                *d += v;
            } else {
                *d = v;
            }
        }
    }
}

/// `inner` = the middle of `outer` (or, with `accumulate`, the middle added to `inner`).
pub fn extract<F: Float>(s: &Border, batch: usize, outer: &[F], inner: &mut [F], accumulate: bool) {
    assert_eq!(inner.len(), batch * s.inner_len(), "extract: inner length");
    assert_eq!(outer.len(), batch * s.outer_len(), "extract: outer length");
    for (i, o) in s.rows(batch) {
        for (d, &v) in inner[i].iter_mut().zip(&outer[o]) {
            if accumulate {
                *d += v;
            } else {
                *d = v;
            }
        }
    }
}

/// An upsampling: each `height x width` plane becomes `factor_h * height x
/// factor_w * width`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upsample {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub factor_h: usize,
    pub factor_w: usize,
}

impl Upsample {
    pub const fn input_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub const fn output_len(&self) -> usize {
        self.input_len() * self.factor_h * self.factor_w
    }
}

/// Nearest: `y[c][i][j] = x[c][i / factor_h][j / factor_w]`.
pub fn upsample_nearest<F: Float>(s: &Upsample, batch: usize, x: &[F], y: &mut [F]) {
    assert_eq!(x.len(), batch * s.input_len(), "upsample: x length");
    assert_eq!(y.len(), batch * s.output_len(), "upsample: y length");
    let (w, ow) = (s.width, s.width * s.factor_w);
    for (x, y) in x
        .chunks_exact(s.height * w)
        .zip(y.chunks_exact_mut(s.height * s.factor_h * ow))
    {
        for (row, out_rows) in x.chunks_exact(w).zip(y.chunks_exact_mut(s.factor_h * ow)) {
            let (first, rest) = out_rows.split_at_mut(ow);
            for (o, &v) in first.chunks_exact_mut(s.factor_w).zip(row) {
                o.fill(v);
            }
            for r in rest.chunks_exact_mut(ow) {
                r.copy_from_slice(first);
            }
        }
    }
}

/// The gradient of [`upsample_nearest`]: each input pixel's block of `dy`
/// summed into `dx` (or added to it, with `accumulate`).
#[cfg(feature = "backward")]
pub fn upsample_nearest_backward<F: Float>(
    s: &Upsample,
    batch: usize,
    dy: &[F],
    dx: &mut [F],
    accumulate: bool,
) {
    assert_eq!(dx.len(), batch * s.input_len(), "upsample backward: dx length");
    assert_eq!(dy.len(), batch * s.output_len(), "upsample backward: dy length");
    if !accumulate {
        dx.fill(F::ZERO);
    }
    let (w, ow) = (s.width, s.width * s.factor_w);
    for (dx, dy) in dx
        .chunks_exact_mut(s.height * w)
        .zip(dy.chunks_exact(s.height * s.factor_h * ow))
    {
        for (row, out_rows) in dx.chunks_exact_mut(w).zip(dy.chunks_exact(s.factor_h * ow)) {
            for r in out_rows.chunks_exact(ow) {
                for (d, block) in row.iter_mut().zip(r.chunks_exact(s.factor_w)) {
                    *d += block.iter().fold(F::ZERO, |a, &v| a + v);
                }
            }
        }
    }
}

/// Where output coordinate `o` of an axis upsampled `factor` times from
/// `len` reads, bilinearly with half-pixel centres (PyTorch's
/// `align_corners = False`, ONNX's `half_pixel`): the two source indices
/// and the weight of the second.
#[inline]
fn source<F: Float>(o: usize, factor: usize, len: usize) -> (usize, usize, F) {
    let src = ((o as f64 + 0.5) / factor as f64 - 0.5).max(0.0);
    let i0 = (src as usize).min(len - 1);
    let i1 = (i0 + 1).min(len - 1);
    (i0, i1, F::from_f64(src - i0 as f64))
}

/// Bilinear upsampling with half-pixel centres, edges clamped.
pub fn upsample_bilinear<F: Float>(s: &Upsample, batch: usize, x: &[F], y: &mut [F]) {
    assert_eq!(x.len(), batch * s.input_len(), "upsample: x length");
    assert_eq!(y.len(), batch * s.output_len(), "upsample: y length");
    let (h, w) = (s.height, s.width);
    let (oh, ow) = (h * s.factor_h, w * s.factor_w);
    for (x, y) in x.chunks_exact(h * w).zip(y.chunks_exact_mut(oh * ow)) {
        for oy in 0..oh {
            let (y0, y1, ly) = source::<F>(oy, s.factor_h, h);
            for ox in 0..ow {
                let (x0, x1, lx) = source::<F>(ox, s.factor_w, w);
                let top = x[y0 * w + x0] * (F::ONE - lx) + x[y0 * w + x1] * lx;
                let bottom = x[y1 * w + x0] * (F::ONE - lx) + x[y1 * w + x1] * lx;
                y[oy * ow + ox] = top * (F::ONE - ly) + bottom * ly;
            }
        }
    }
}

/// The gradient of [`upsample_bilinear`]: each output's gradient shared
/// among its four sources by their weights.
#[cfg(feature = "backward")]
pub fn upsample_bilinear_backward<F: Float>(
    s: &Upsample,
    batch: usize,
    dy: &[F],
    dx: &mut [F],
    accumulate: bool,
) {
    assert_eq!(dx.len(), batch * s.input_len(), "upsample backward: dx length");
    assert_eq!(dy.len(), batch * s.output_len(), "upsample backward: dy length");
    if !accumulate {
        dx.fill(F::ZERO);
    }
    let (h, w) = (s.height, s.width);
    let (oh, ow) = (h * s.factor_h, w * s.factor_w);
    for (dx, dy) in dx.chunks_exact_mut(h * w).zip(dy.chunks_exact(oh * ow)) {
        for oy in 0..oh {
            let (y0, y1, ly) = source::<F>(oy, s.factor_h, h);
            for ox in 0..ow {
                let (x0, x1, lx) = source::<F>(ox, s.factor_w, w);
                let g = dy[oy * ow + ox];
                let (top, bottom) = (g * (F::ONE - ly), g * ly);
                dx[y0 * w + x0] += top * (F::ONE - lx);
                dx[y0 * w + x1] += top * lx;
                dx[y1 * w + x0] += bottom * (F::ONE - lx);
                dx[y1 * w + x1] += bottom * lx;
            }
        }
    }
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    #[test]
    fn embed_and_extract_are_each_others_inverse_and_adjoint() {
        let s = Border {
            channels: 2,
            height: 2,
            width: 3,
            pad_h: 1,
            pad_w: 2,
        };
        let inner: Vec<f64> = (0..2 * s.inner_len()).map(|i| i as f64 + 1.0).collect();
        let mut outer = vec![9.0; 2 * s.outer_len()];
        embed(&s, 2, &inner, &mut outer, false);
        // The first outer plane: a zero row, then [0 0 1 2 3 0 0], ...
        assert_eq!(&outer[..7], &[0.0; 7]);
        assert_eq!(&outer[7..14], &[0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
        assert_eq!(outer.iter().sum::<f64>(), inner.iter().sum::<f64>());
        let mut back = vec![0.0; inner.len()];
        extract(&s, 2, &outer, &mut back, false);
        assert_eq!(back, inner);
        extract(&s, 2, &outer, &mut back, true);
        assert_eq!(back, inner.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    }

    /// `<up(x), g> = <x, up^T(g)>` for random x and g: the backward pass is
    /// the forward pass's adjoint.
    fn adjoint(
        s: Upsample,
        forward: fn(&Upsample, usize, &[f64], &mut [f64]),
        backward: fn(&Upsample, usize, &[f64], &mut [f64], bool),
    ) {
        let x: Vec<f64> = (0..s.input_len())
            .map(|i| ((i * 37 % 11) as f64 - 5.0) / 3.0)
            .collect();
        let g: Vec<f64> = (0..s.output_len())
            .map(|i| ((i * 53 % 13) as f64 - 6.0) / 4.0)
            .collect();
        let mut y = vec![0.0; s.output_len()];
        forward(&s, 1, &x, &mut y);
        let mut dx = vec![0.0; s.input_len()];
        backward(&s, 1, &g, &mut dx, false);
        let lhs: f64 = y.iter().zip(&g).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn upsampling_repeats_or_interpolates_and_its_gradient_is_the_adjoint() {
        let s = Upsample {
            channels: 2,
            height: 2,
            width: 3,
            factor_h: 2,
            factor_w: 3,
        };
        let x: Vec<f64> = (0..s.input_len()).map(|i| i as f64).collect();
        let mut y = vec![0.0; s.output_len()];
        upsample_nearest(&s, 1, &x, &mut y);
        assert_eq!(&y[..9], &[0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
        assert_eq!(&y[9..18], &y[..9]);
        upsample_bilinear(&s, 1, &x, &mut y);
        // Row 0 reads row 0 only (clamped); column 1 is the centre of pixel 0.
        assert_eq!(y[0], 0.0);
        assert_eq!(y[1], 0.0);
        assert!((y[2] - 1.0 / 3.0).abs() < 1e-15, "{}", y[2]);
        adjoint(s, upsample_nearest, upsample_nearest_backward);
        adjoint(s, upsample_bilinear, upsample_bilinear_backward);
    }
}
