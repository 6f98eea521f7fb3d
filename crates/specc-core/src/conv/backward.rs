//! The backward pass of a convolution: the weight, bias and input
//! gradients, sample by sample through im2col and GEMM, and col2im, the
//! adjoint of im2col. Compiled with the `backward` feature only.

use super::{Conv2dShape, check_len, im2col, valid_range};
use crate::Element;
use crate::gemm::{matmul_nt, matmul_tn};
use crate::par;
use crate::scratch::{self, Slot};
use crate::simd::multiversion;

/// `dx += col2im(dcol)`: the adjoint of [`im2col`], adding every column entry
/// back onto the input value it was read from (entries read from padding
/// are dropped). `dx` is one sample.
#[inline]
pub fn col2im_add<F: Element>(s: &Conv2dShape, dcol: &[F], dx: &mut [F]) {
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

/// The gradients [`backward`] computes; each is optional.
pub struct Gradients<'a, F> {
    /// `sum_b dy[b] * im2col(x[b])^T` (`filters x patch_len`, overwritten).
    pub d_weight: Option<&'a mut [F]>,
    /// `sum over samples and positions of dy[b][f][p]` (overwritten).
    pub d_bias: Option<&'a mut [F]>,
    /// `col2im(W^T * dy[b])` for each sample.
    pub dx: Option<InputGradient<'a, F>>,
}

/// The input gradient [`backward`] computes when asked: the weight it needs
/// and where the gradient goes.
pub struct InputGradient<'a, F> {
    /// The layer's weight, `filters x patch_len`.
    pub weight: &'a [F],
    pub dx: &'a mut [F],
    /// Whether the gradient is added to what `dx` holds rather than
    /// overwriting it.
    pub accumulate: bool,
}

/// The backward pass of a convolution: first, if `y` (the layer's output)
/// is given, `activation(y[b], dy[b])` turns each sample's output gradient
/// into the pre-activation gradient in place; then the [`Gradients`] asked
/// for, sample by sample while its gradient is in cache.
///
/// The batch is cut into at most [`REDUCTION_CHUNKS`] chunks whose bounds
/// depend only on `batch`; chunks run in parallel, each summing its weight
/// and bias gradients into a partial of its own, and the partials are added
/// in chunk order: the result is the same for every thread count.
pub fn backward<F: Element>(
    s: &Conv2dShape,
    batch: usize,
    x: &[F],
    y: Option<&[F]>,
    activation: impl Fn(&[F], &mut [F]) + Sync,
    dy: &mut [F],
    grads: Gradients<'_, F>,
) {
    let (inp, out, positions) = (s.input_len(), s.output_len(), s.out_positions());
    let (filters, patch) = (s.filters, s.patch_len());
    let weight_len = filters * patch;
    check_len("conv backward: x", x, batch * inp);
    check_len("conv backward: dy", dy, batch * out);
    if let Some(y) = y {
        check_len("conv backward: y", y, batch * out);
    }
    let Gradients { d_weight, d_bias, dx } = grads;
    if let Some(d_weight) = &d_weight {
        check_len("conv backward: d_weight", d_weight, weight_len);
    }
    if let Some(d_bias) = &d_bias {
        check_len("conv backward: d_bias", d_bias, filters);
    }
    let weight: &[F] = dx.as_ref().map_or(&[], |g| g.weight);
    if let Some(g) = &dx {
        check_len("conv backward: dx", g.dx, batch * inp);
        check_len("conv backward: weight", g.weight, weight_len);
    }
    if batch == 0 || out == 0 {
        // No sample (or no output): every sum is empty.
        if let Some(d_weight) = d_weight {
            d_weight[..weight_len].fill(F::ZERO);
        }
        if let Some(d_bias) = d_bias {
            d_bias[..filters].fill(F::ZERO);
        }
        if let Some(g) = dx.filter(|g| !g.accumulate) {
            g.dx[..batch * inp].fill(F::ZERO);
        }
        return;
    }
    let per_chunk = batch.div_ceil(batch.min(REDUCTION_CHUNKS));
    let chunks = batch.div_ceil(per_chunk);
    let (want_weight, want_bias) = (d_weight.is_some(), d_bias.is_some());
    let partial_len = weight_len + filters;
    let partials_len = if want_weight || want_bias {
        chunks * partial_len
    } else {
        0
    };
    let accumulate_dx = dx.as_ref().is_some_and(|g| g.accumulate);
    scratch::with(Slot::Partials, partials_len, |partials| {
        let mut xs = x[..batch * inp].chunks(per_chunk * inp);
        let mut dys = dy[..batch * out].chunks_mut(per_chunk * out);
        let mut ys = y.map(|y| y[..batch * out].chunks(per_chunk * out));
        let mut dxs = dx.map(|g| g.dx[..batch * inp].chunks_mut(per_chunk * inp));
        let mut sums = partials.chunks_mut(partial_len);
        let parts = (0..chunks).map(|_| {
            (
                xs.next().expect("one chunk of x per chunk"),
                dys.next().expect("one chunk of dy per chunk"),
                ys.as_mut().map(|ys| ys.next().expect("one chunk of y per chunk")),
                dxs.as_mut()
                    .map(|dxs| dxs.next().expect("one chunk of dx per chunk")),
                sums.next(),
            )
        });
        par::for_each_part(parts, |_, (x, dy, y, mut dx, sums)| {
            let (mut dw, mut db) = match sums {
                Some(sums) => {
                    let (dw, db) = sums.split_at_mut(weight_len);
                    (want_weight.then_some(dw), want_bias.then_some(db))
                }
                None => (None, None),
            };
            scratch::with(Slot::Task, s.col_len(), |col| {
                for (b, dy) in dy.chunks_exact_mut(out).enumerate() {
                    let x = &x[b * inp..(b + 1) * inp];
                    if let Some(y) = y {
                        activation(&y[b * out..(b + 1) * out], dy);
                    }
                    if let Some(db) = db.as_deref_mut() {
                        plane_sums(dy, db, positions, b > 0);
                    }
                    if let Some(dw) = dw.as_deref_mut() {
                        im2col(s, x, col);
                        matmul_nt(filters, positions, patch, dy, col, dw, b > 0);
                    }
                    if let Some(dx) = dx.as_deref_mut() {
                        // dcol (patch_len x positions) = W^T * dy[b], in the im2col scratch.
                        matmul_tn(patch, filters, positions, weight, dy, col, false);
                        let dx = &mut dx[b * inp..(b + 1) * inp];
                        if !accumulate_dx {
                            dx.fill(F::ZERO);
                        }
                        col2im_add(s, col, dx);
                    }
                }
            });
        });
        if let Some(d_weight) = d_weight {
            reduce_partials(partials, partial_len, 0, &mut d_weight[..weight_len]);
        }
        if let Some(d_bias) = d_bias {
            reduce_partials(partials, partial_len, weight_len, &mut d_bias[..filters]);
        }
    });
}

/// The most chunks [`backward`] cuts a batch into (each with its own
/// partial sums of the weight and bias gradients).
pub const REDUCTION_CHUNKS: usize = 16;

/// `out[i] = sum over chunks c, in order, of partials[c * stride + offset + i]`,
/// in parallel over `i`.
pub(crate) fn reduce_partials<F: crate::Float>(partials: &[F], stride: usize, offset: usize, out: &mut [F]) {
    let per_part = par::part_len(out.len(), 1 << 12, 16);
    par::for_each_part(out.chunks_mut(per_part), |part, out| {
        let start = offset + part * per_part;
        for (c, sums) in partials.chunks_exact(stride).enumerate() {
            let sums = &sums[start..start + out.len()];
            crate::elementwise::write_gradient(sums, out, c > 0);
        }
    });
}

multiversion! {
    /// `sums[f] (+)= sum over p of dy[f][p]` for one sample (`=` unless
    /// `accumulate`).
        fn plane_sums<F: Float>(dy: &[F], sums: &mut [F], positions: usize, accumulate: bool) {
        for (plane, g) in dy.chunks_exact(positions).zip(sums.iter_mut()) {
            let sum = crate::simd::sum(plane);
            *g = if accumulate { *g + sum } else { sum };
        }
    }
}
