//! Depthwise convolution (`depthwise_conv2d`): each input channel convolved
//! on its own with `multiplier` kernels, output channel `c * multiplier +
//! m`. A direct kernel, not im2col and GEMM (one channel's product is a
//! vector-by-matrix product far from any GEMM's peak).
//!
//! The rows of a small feature map (7 to 28 outputs) are too short for
//! vector registers, so each channel is computed in a *padded-width*
//! layout instead: the zero-padded input is cut into `stride_h x
//! stride_w` phase planes (plane `(a, b)` holds padded rows
//! `r * stride_h + a` and columns `q * stride_w + b`), all
//! `Q = out_w + (kernel_w - 1) * dilation_w / stride_w` columns wide. In
//! that layout every kernel tap
//! reads one phase plane at a fixed offset, so a tap is a single
//! multiply-add over the whole `out_h x Q` output (the columns past
//! `out_w` are computed and dropped), at any stride and dilation. The
//! forward pass keeps a block of outputs in registers across all taps; the
//! input gradient is the same gather over the output gradient laid out
//! with zero borders; the weight gradient one long dot product per tap.
//!
//! Every output is `bias + sum over taps, in tap order`, and every sum has
//! a fixed order (lane partial sums combined pairwise, samples in order
//! within fixed chunks of the batch, chunks in order), so results are the
//! same on every instruction set and for every thread count. Samples run
//! on the worker pool; so do the weight gradient's chunks.

use crate::Float;
use crate::conv::valid_range;
use crate::gemm::Element;
use crate::par;
use crate::scratch::{self, Need, Slot};

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

    /// The largest row and column offset of a tap inside its phase plane.
    const fn max_offsets(&self) -> (usize, usize) {
        (
            (self.kernel_h - 1) * self.dilation_h / self.stride_h,
            (self.kernel_w - 1) * self.dilation_w / self.stride_w,
        )
    }

    /// `Q`, the width of the padded-width layout.
    const fn wide(&self) -> usize {
        self.out_w + self.max_offsets().1
    }

    /// The rows of a phase plane.
    const fn phase_rows(&self) -> usize {
        self.out_h + self.max_offsets().0
    }

    /// The outputs of one channel in the padded-width layout, rounded up
    /// to whole [`BLOCK`]s (the passes compute the few past the last and
    /// drop them, rather than finish with scalar code).
    const fn wide_len(&self) -> usize {
        (self.out_h * self.wide()).next_multiple_of(BLOCK)
    }

    /// The length of one phase plane: its rows in whole blocks (the input
    /// gradient computes them), and the columns the last blocks' taps read
    /// past the rows.
    const fn phase_len(&self) -> usize {
        (self.phase_rows() * self.wide()).next_multiple_of(BLOCK) + self.max_offsets().1 + BLOCK
    }

    /// The length of all phase planes.
    const fn phases_len(&self) -> usize {
        self.stride_h * self.stride_w * self.phase_len()
    }

    /// The length of an output gradient plane in the padded-width layout
    /// with zero borders ([`spread_gradient`]): the largest offsets above,
    /// below and to the left, a row and a block for the last reads.
    const fn bordered_len(&self) -> usize {
        (self.out_h + 2 * self.max_offsets().0 + 1) * self.wide() + BLOCK
    }
}

/// A shape's padded-width layout, computed once per call.
#[derive(Clone, Copy)]
struct Layout {
    s: DepthwiseShape,
    wide: usize,
    phase_rows: usize,
    phase_len: usize,
    wide_len: usize,
    bordered_len: usize,
    /// Where the output gradient proper starts in the bordered layout.
    origin: usize,
    /// [`Layout::phase_range`] for the first phases.
    ranges: [[(usize, usize); PHASE_RANGES]; 2],
}

/// The phases whose row and column ranges a [`Layout`] keeps.
const PHASE_RANGES: usize = 4;

impl Layout {
    fn new(s: &DepthwiseShape) -> Layout {
        let (oi, oj) = s.max_offsets();
        Layout {
            s: *s,
            wide: s.wide(),
            phase_rows: s.phase_rows(),
            phase_len: s.phase_len(),
            wide_len: s.wide_len(),
            bordered_len: s.bordered_len(),
            origin: oi * s.wide() + oj,
            ranges: [true, false].map(|rows| core::array::from_fn(|a| phase_range(s, a, rows))),
        }
    }

    /// The rows (`rows`) or columns of phase `a` that hold input values.
    #[inline(always)]
    fn phase_range(&self, a: usize, rows: bool) -> (usize, usize) {
        match self.ranges[usize::from(!rows)].get(a) {
            Some(&range) => range,
            None => phase_range(&self.s, a, rows),
        }
    }

    /// Calls `tap(index, phase, offset)` for each tap `(i, j)` in order,
    /// with the phase plane it reads and its offset there (row `i *
    /// dilation_h / stride_h`, column `j * dilation_w / stride_w`),
    /// counted without divisions.
    #[inline(always)]
    fn for_taps(&self, mut tap: impl FnMut(usize, usize, usize)) {
        let s = &self.s;
        let (mut a, mut row) = (0, 0);
        for i in 0..s.kernel_h {
            let (mut b, mut col) = (0, 0);
            for j in 0..s.kernel_w {
                tap(i * s.kernel_w + j, a * s.stride_w + b, row * self.wide + col);
                b += s.dilation_w;
                while b >= s.stride_w {
                    b -= s.stride_w;
                    col += 1;
                }
            }
            a += s.dilation_h;
            while a >= s.stride_h {
                a -= s.stride_h;
                row += 1;
            }
        }
    }
}

/// The rows (`rows`) or columns of the phase planes of row or column phase
/// `a` that hold input values (padded row `r * stride_h + a` is input row
/// `r * stride_h + a - pad_top`; columns alike).
fn phase_range(s: &DepthwiseShape, a: usize, rows: bool) -> (usize, usize) {
    if rows {
        valid_range(s.phase_rows(), s.stride_h, a, s.pad_top, s.height)
    } else {
        valid_range(s.wide(), s.stride_w, a, s.pad_left, s.width)
    }
}

/// The scratch [`forward`] needs: a bound computed at compile time, for
/// memory lent with [`crate::scratch::lend`].
pub const fn forward_need<F>(s: &DepthwiseShape) -> Need {
    Need {
        task: scratch::lines::<F>(s.phases_len()) + scratch::lines::<F>(s.wide_len()),
        ..Need::NONE
    }
}

/// Taps taken together in a pass over the outputs: their offsets and
/// weights live on the stack.
const TAP_GROUP: usize = 32;

/// The outputs the passes compute together at the least: 16 f32 fill a
/// zmm register.
const BLOCK: usize = 16;

/// `y[b][k] = bias[k] + sum over taps of weight[k][i][j] x[b][k / multiplier][...]`.
pub fn forward<F: Element>(
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
    let l = &Layout::new(s);
    let samples = par::part_len(batch, 1, 1);
    par::for_each_part(y.chunks_mut(samples * out), |part, y| {
        scratch::with_two(Slot::Task, s.phases_len(), s.wide_len(), |phases, wide| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (b, y) in y.chunks_exact_mut(out).enumerate() {
                        let x = &x[(part * samples + b) * inp..][..inp];
                        sample_forward(l, x, weight, bias, phases, wide, y);
                    }
                },
            )
        })
    });
}

#[inline(always)]
fn sample_forward<F: Float>(
    l: &Layout,
    x: &[F],
    weight: &[F],
    bias: Option<&[F]>,
    phases: &mut [F],
    wide: &mut [F],
    y: &mut [F],
) {
    let s = &l.s;
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    for (c, x) in x.chunks_exact(plane).enumerate() {
        split_phases(l, x, phases);
        for m in 0..s.multiplier {
            let k = c * s.multiplier + m;
            let w = &weight[k * taps..][..taps];
            let mut init = Some(bias.map_or(F::ZERO, |b| b[k]));
            for_tap_groups(
                l,
                #[inline(always)]
                |tap, phase, offset| Some((phase * l.phase_len + offset, w[tap])),
                #[inline(always)]
                |offsets, weights| {
                    multiply_add(phases, offsets, weights, init.take(), wide);
                },
            );
            let y = &mut y[k * out_plane..][..out_plane];
            for (row, wide) in y.chunks_exact_mut(s.out_w).zip(wide.chunks(l.wide)) {
                row.copy_from_slice(&wide[..s.out_w]);
            }
        }
    }
}

/// Calls `group` with the offsets and weights `tap(index, phase, offset)`
/// gives (taps it gives none for left out) for each run of at most
/// [`TAP_GROUP`] taps, in tap order.
#[inline(always)]
fn for_tap_groups<F: Float>(
    l: &Layout,
    tap: impl Fn(usize, usize, usize) -> Option<(usize, F)>,
    mut group: impl FnMut(&[usize], &[F]),
) {
    let (mut offsets, mut weights) = ([0usize; TAP_GROUP], [F::ZERO; TAP_GROUP]);
    let mut n = 0;
    l.for_taps(
        #[inline(always)]
        |index, phase, offset| {
            if let Some(t) = tap(index, phase, offset) {
                (offsets[n], weights[n]) = t;
                n += 1;
                if n == TAP_GROUP {
                    group(&offsets, &weights);
                    n = 0;
                }
            }
        },
    );
    if n > 0 {
        group(&offsets[..n], &weights[..n]);
    }
}

/// `out[p] = init + sum over t of weights[t] * src[offsets[t] + p]`, or
/// `out[p] += ...` without `init`, the taps added in order: blocks of
/// `4 * BLOCK` outputs held in registers across the taps, then of `BLOCK`.
///
/// `out`'s length is a whole number of blocks.
#[inline(always)]
fn multiply_add<F: Float>(src: &[F], offsets: &[usize], weights: &[F], init: Option<F>, out: &mut [F]) {
    debug_assert_eq!(out.len() % BLOCK, 0);
    let done = multiply_add_blocks::<F, { 4 * BLOCK }>(src, offsets, weights, init, out, 0);
    multiply_add_blocks::<F, BLOCK>(src, offsets, weights, init, out, done);
}

/// [`multiply_add`] for the whole blocks of `N` outputs from `start` on;
/// returns where they end.
#[inline(always)]
fn multiply_add_blocks<F: Float, const N: usize>(
    src: &[F],
    offsets: &[usize],
    weights: &[F],
    init: Option<F>,
    out: &mut [F],
    start: usize,
) -> usize {
    let blocks = (out.len() - start) / N;
    for block in 0..blocks {
        let p = start + block * N;
        let out = &mut out[p..p + N];
        let mut acc = [F::ZERO; N];
        match init {
            Some(v) => acc = [v; N],
            None => acc.copy_from_slice(out),
        }
        for (&offset, &w) in offsets.iter().zip(weights) {
            let src = &src[offset + p..][..N];
            for l in 0..N {
                acc[l] += w * src[l];
            }
        }
        out.copy_from_slice(&acc);
    }
    start + blocks * N
}

/// The zero-padded input plane `x` cut into the phase planes.
#[inline(always)]
fn split_phases<F: Float>(l: &Layout, x: &[F], phases: &mut [F]) {
    let s = &l.s;
    phases.fill(F::ZERO);
    for_phase_rows(
        l,
        #[inline(always)]
        |phase, r, iy, (q0, q1), ix0| {
            let dst = &mut phases[phase * l.phase_len + r * l.wide..][q0..q1];
            let first = iy * s.width + ix0;
            let x = &x[first..=first + (dst.len() - 1) * s.stride_w];
            // The common strides as constants, so that LLVM vectorises the
            // strided loads.
            match s.stride_w {
                1 => dst.copy_from_slice(x),
                2 => dst.iter_mut().enumerate().for_each(|(q, d)| *d = x[2 * q]),
                stride => dst.iter_mut().enumerate().for_each(|(q, d)| *d = x[stride * q]),
            }
        },
    );
}

/// Calls `row(phase, r, iy, (q0, q1), ix0)` for each phase plane row `r`
/// that holds input row `iy`, with the columns `q0..q1` that hold input
/// columns, the first of them `ix0` (column `q` of plane `(a, b)` holds
/// padded column `q * stride_w + b`, input column `q * stride_w + b -
/// pad_left`).
#[inline(always)]
fn for_phase_rows(l: &Layout, mut row: impl FnMut(usize, usize, usize, (usize, usize), usize)) {
    let s = &l.s;
    for a in 0..s.stride_h {
        let (r0, r1) = l.phase_range(a, true);
        for b in 0..s.stride_w {
            let (q0, q1) = l.phase_range(b, false);
            if q0 == q1 {
                continue;
            }
            let ix0 = q0 * s.stride_w + b - s.pad_left;
            for r in r0..r1 {
                row(
                    a * s.stride_w + b,
                    r,
                    r * s.stride_h + a - s.pad_top,
                    (q0, q1),
                    ix0,
                );
            }
        }
    }
}

/// An output gradient plane in the padded-width layout with zero borders:
/// `bordered[origin + oy * Q + ox] = dy[oy][ox]`, zero everywhere else
/// (the columns past `out_w` included).
#[cfg(feature = "backward")]
#[inline(always)]
fn spread_gradient<F: Float>(l: &Layout, dy: &[F], bordered: &mut [F]) {
    let s = &l.s;
    bordered.fill(F::ZERO);
    for (row, dy) in bordered[l.origin..]
        .chunks_mut(l.wide)
        .zip(dy.chunks_exact(s.out_w))
    {
        row[..s.out_w].copy_from_slice(dy);
    }
}

/// The weight and bias gradients from `dy` (overwritten). The batch is cut
/// into at most [`crate::conv::REDUCTION_CHUNKS`] chunks whose bounds
/// depend only on `batch`; chunks run in parallel, each summing into
/// partials of its own, added in chunk order.
#[cfg(feature = "backward")]
pub fn backward_weights<F: Element>(
    s: &DepthwiseShape,
    batch: usize,
    x: &[F],
    dy: &[F],
    d_weight: &mut [F],
    d_bias: Option<&mut [F]>,
) {
    assert_eq!(x.len(), batch * s.input_len(), "depthwise backward: x length");
    assert_eq!(dy.len(), batch * s.output_len(), "depthwise backward: dy length");
    let kernels = s.channels * s.multiplier;
    let weight_len = kernels * s.taps();
    assert_eq!(d_weight.len(), weight_len, "depthwise backward: d_weight length");
    if let Some(db) = &d_bias {
        assert_eq!(db.len(), kernels, "depthwise backward: d_bias length");
    }
    if batch == 0 || s.output_len() == 0 {
        d_weight.fill(F::ZERO);
        if let Some(db) = d_bias {
            db.fill(F::ZERO);
        }
        return;
    }
    let (inp, out) = (s.input_len(), s.output_len());
    let l = &Layout::new(s);
    let per_chunk = batch.div_ceil(batch.min(crate::conv::REDUCTION_CHUNKS));
    let chunks = batch.div_ceil(per_chunk);
    let partial_len = weight_len + kernels;
    scratch::with(Slot::Partials, chunks * partial_len, |partials: &mut [F]| {
        par::for_each_part(partials.chunks_mut(partial_len), |chunk, sums| {
            let first = chunk * per_chunk;
            let samples = per_chunk.min(batch - first);
            sums.fill(F::ZERO);
            scratch::with_two(Slot::Task, s.phases_len(), l.bordered_len, |phases, bordered| {
                crate::simd::dispatch(
                    #[inline(always)]
                    || {
                        for b in first..first + samples {
                            let (x, dy) = (&x[b * inp..][..inp], &dy[b * out..][..out]);
                            sample_weight_gradient(l, x, dy, phases, bordered, sums);
                        }
                    },
                )
            })
        });
        crate::conv::reduce_partials(partials, partial_len, 0, d_weight);
        if let Some(db) = d_bias {
            crate::conv::reduce_partials(partials, partial_len, weight_len, db);
        }
    });
}

/// Adds one sample's weight gradients to `sums[..weights]` and its bias
/// gradients to `sums[weights..]`.
#[cfg(feature = "backward")]
#[inline(always)]
fn sample_weight_gradient<F: Float>(
    l: &Layout,
    x: &[F],
    dy: &[F],
    phases: &mut [F],
    bordered: &mut [F],
    sums: &mut [F],
) {
    let s = &l.s;
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    let (d_weight, d_bias) = sums.split_at_mut(s.channels * s.multiplier * taps);
    for (c, x) in x.chunks_exact(plane).enumerate() {
        split_phases(l, x, phases);
        for m in 0..s.multiplier {
            let k = c * s.multiplier + m;
            let dy = &dy[k * out_plane..][..out_plane];
            d_bias[k] += crate::simd::sum(dy);
            spread_gradient(l, dy, bordered);
            let g = &bordered[l.origin..][..l.wide_len];
            let d_weight = &mut d_weight[k * taps..][..taps];
            l.for_taps(
                #[inline(always)]
                |tap, phase, offset| {
                    let x = &phases[phase * l.phase_len + offset..][..l.wide_len];
                    d_weight[tap] += crate::simd::dot(g, x);
                },
            );
        }
    }
}

/// The input gradient from `dy` (written, or added with `accumulate`),
/// samples on the worker pool.
#[cfg(feature = "backward")]
pub fn backward_input<F: Element>(
    s: &DepthwiseShape,
    batch: usize,
    dy: &[F],
    weight: &[F],
    dx: &mut [F],
    accumulate: bool,
) {
    assert_eq!(dy.len(), batch * s.output_len(), "depthwise backward: dy length");
    assert_eq!(dx.len(), batch * s.input_len(), "depthwise backward: dx length");
    assert_eq!(
        weight.len(),
        s.channels * s.multiplier * s.taps(),
        "depthwise backward: weight length"
    );
    let (inp, out) = (s.input_len(), s.output_len());
    if batch == 0 || inp == 0 {
        return;
    }
    let l = &Layout::new(s);
    let samples = par::part_len(batch, 1, 1);
    par::for_each_part(dx.chunks_mut(samples * inp), |part, dx| {
        scratch::with_two(Slot::Task, s.phases_len(), l.bordered_len, |phases, bordered| {
            crate::simd::dispatch(
                #[inline(always)]
                || {
                    for (b, dx) in dx.chunks_exact_mut(inp).enumerate() {
                        let dy = &dy[(part * samples + b) * out..][..out];
                        sample_input_gradient(l, dy, weight, phases, bordered, dx, accumulate);
                    }
                },
            )
        })
    });
}

/// One sample's input gradient: per channel, the gradients of its phase
/// planes (each a gather of the bordered output gradients through the taps
/// that read that plane), then scattered back to the input positions.
#[cfg(feature = "backward")]
#[inline(always)]
fn sample_input_gradient<F: Float>(
    l: &Layout,
    dy: &[F],
    weight: &[F],
    phases: &mut [F],
    bordered: &mut [F],
    dx: &mut [F],
    accumulate: bool,
) {
    let s = &l.s;
    let (plane, out_plane, taps) = (s.height * s.width, s.out_h * s.out_w, s.taps());
    let phase_outputs = (l.phase_rows * l.wide).next_multiple_of(BLOCK);
    let origin = l.origin;
    for (c, dx) in dx.chunks_exact_mut(plane).enumerate() {
        phases.fill(F::ZERO);
        for m in 0..s.multiplier {
            let k = c * s.multiplier + m;
            spread_gradient(l, &dy[k * out_plane..][..out_plane], bordered);
            let w = &weight[k * taps..][..taps];
            for phase in 0..s.stride_h * s.stride_w {
                // Phase element p gathers, for each tap t reading this plane
                // at offset o_t, the output gradient at p - o_t.
                let grad = &mut phases[phase * l.phase_len..][..phase_outputs];
                for_tap_groups(
                    l,
                    #[inline(always)]
                    |tap, tap_phase, offset| (tap_phase == phase).then_some((origin - offset, w[tap])),
                    #[inline(always)]
                    |offsets, weights| multiply_add(bordered, offsets, weights, None, grad),
                );
            }
        }
        gather_phases(l, phases, dx, accumulate);
    }
}

/// `dx[iy][ix] (+)= ` the phase plane element of padded position
/// `(iy + pad_top, ix + pad_left)`, zero for positions no output reads:
/// [`split_phases`] transposed.
#[cfg(feature = "backward")]
#[inline(always)]
fn gather_phases<F: Float>(l: &Layout, phases: &[F], dx: &mut [F], accumulate: bool) {
    let s = &l.s;
    if !accumulate {
        dx.fill(F::ZERO);
    }
    for_phase_rows(
        l,
        #[inline(always)]
        |phase, r, iy, (q0, q1), ix0| {
            let src = &phases[phase * l.phase_len + r * l.wide..][q0..q1];
            let first = iy * s.width + ix0;
            let dx = &mut dx[first..=first + (src.len() - 1) * s.stride_w];
            for (q, &g) in src.iter().enumerate() {
                dx[q * s.stride_w] += g;
            }
        },
    );
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

    /// Shapes that take every path: stride 1 to 3, dilation, padding on
    /// some sides only, a multiplier, a kernel of more taps than
    /// [`TAP_GROUP`], outputs past an input's last rows, a one-column map.
    fn shapes() -> Vec<DepthwiseShape> {
        let shape =
            |c, (h, w), m, (kh, kw), (sh, sw), (dh, dw), (pt, pl, pb, pr): (usize, usize, usize, usize)| {
                DepthwiseShape {
                    channels: c,
                    height: h,
                    width: w,
                    multiplier: m,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride_h: sh,
                    stride_w: sw,
                    dilation_h: dh,
                    dilation_w: dw,
                    pad_top: pt,
                    pad_left: pl,
                    out_h: (h + pt + pb - (kh - 1) * dh - 1) / sh + 1,
                    out_w: (w + pl + pr - (kw - 1) * dw - 1) / sw + 1,
                }
            };
        vec![
            S,
            shape(3, (7, 7), 1, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
            shape(2, (14, 13), 1, (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
            shape(2, (9, 11), 3, (3, 3), (3, 2), (2, 1), (2, 0, 1, 2)),
            shape(1, (10, 9), 2, (7, 6), (1, 2), (1, 1), (3, 2, 3, 3)),
            shape(2, (8, 1), 1, (3, 1), (2, 1), (2, 1), (2, 0, 2, 0)),
            // Stride 2 with the last input row and column read by no output.
            shape(1, (6, 6), 1, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0)),
            shape(1, (7, 7), 1, (2, 2), (2, 2), (1, 1), (0, 0, 0, 0)),
        ]
    }

    /// The input gradient of `sum(g * y)` from its definition: each tap's
    /// weight times the output gradient it reaches.
    fn direct_input_gradient(s: &DepthwiseShape, g: &[f64], w: &[f64]) -> Vec<f64> {
        let mut dx = vec![0.0; s.input_len()];
        let (oh, ow) = (s.out_h, s.out_w);
        for k in 0..s.channels * s.multiplier {
            for oy in 0..oh {
                for ox in 0..ow {
                    for i in 0..s.kernel_h {
                        for j in 0..s.kernel_w {
                            let iy = (oy * s.stride_h + i * s.dilation_h) as isize - s.pad_top as isize;
                            let ix = (ox * s.stride_w + j * s.dilation_w) as isize - s.pad_left as isize;
                            if (0..s.height as isize).contains(&iy) && (0..s.width as isize).contains(&ix) {
                                let c = k / s.multiplier;
                                dx[(c * s.height + iy as usize) * s.width + ix as usize] +=
                                    w[(k * s.kernel_h + i) * s.kernel_w + j] * g[(k * oh + oy) * ow + ox];
                            }
                        }
                    }
                }
            }
        }
        dx
    }

    /// The weight gradient of `sum(g * y)` from its definition.
    fn direct_weight_gradient(s: &DepthwiseShape, x: &[f64], g: &[f64]) -> Vec<f64> {
        let taps = s.kernel_h * s.kernel_w;
        let mut dw = vec![0.0; s.channels * s.multiplier * taps];
        for (t, d) in dw.iter_mut().enumerate() {
            let mut w = vec![0.0; dw_len(s)];
            w[t] = 1.0;
            *d = direct(s, x, &w, &vec![0.0; s.channels * s.multiplier])
                .iter()
                .zip(g)
                .map(|(a, b)| a * b)
                .sum();
        }
        dw
    }

    fn dw_len(s: &DepthwiseShape) -> usize {
        s.channels * s.multiplier * s.kernel_h * s.kernel_w
    }

    #[test]
    fn every_pass_follows_its_definition_on_every_shape() {
        for s in shapes() {
            let kernels = s.channels * s.multiplier;
            let (x, w, b) = (
                values(s.input_len(), 5),
                values(dw_len(&s), 3),
                values(kernels, 7),
            );
            let g = values(s.output_len(), 11);
            let mut y = vec![0.0; s.output_len()];
            forward(&s, 1, &x, &w, Some(&b), &mut y);
            let close = |got: &[f64], want: &[f64], what: &str| {
                assert_eq!(got.len(), want.len());
                for (i, (a, e)) in got.iter().zip(want).enumerate() {
                    assert!((a - e).abs() < 1e-12, "{s:?} {what}[{i}]: {a} vs {e}");
                }
            };
            close(&y, &direct(&s, &x, &w, &b), "y");
            let mut dx = vec![0.5; s.input_len()];
            backward_input(&s, 1, &g, &w, &mut dx, false);
            close(&dx, &direct_input_gradient(&s, &g, &w), "dx");
            let mut dx_added = vec![0.5; s.input_len()];
            backward_input(&s, 1, &g, &w, &mut dx_added, true);
            let shifted: Vec<f64> = dx.iter().map(|v| v + 0.5).collect();
            close(&dx_added, &shifted, "dx accumulated");
            let (mut dw, mut db) = (vec![9.0; dw_len(&s)], vec![9.0; kernels]);
            backward_weights(&s, 1, &x, &g, &mut dw, Some(&mut db));
            close(&dw, &direct_weight_gradient(&s, &x, &g), "dw");
            let sums: Vec<f64> = g.chunks(s.out_h * s.out_w).map(|p| p.iter().sum()).collect();
            close(&db, &sums, "db");
        }
    }

    /// f32 results bit for bit the same for every instruction set and
    /// thread count, at a batch that does not divide into the chunks.
    #[cfg(feature = "std")]
    #[test]
    fn results_are_the_same_for_every_kernel_and_thread_count() {
        let batch = 37;
        for s in shapes() {
            let f32s = |n: usize, k: usize| -> Vec<f32> { values(n, k).iter().map(|&v| v as f32).collect() };
            let (x, w, b) = (
                f32s(batch * s.input_len(), 5),
                f32s(dw_len(&s), 3),
                f32s(s.channels * s.multiplier, 7),
            );
            let g = f32s(batch * s.output_len(), 13);
            let run = || {
                let mut y = vec![0.0f32; batch * s.output_len()];
                forward(&s, batch, &x, &w, Some(&b), &mut y);
                let mut dx = vec![0.0f32; batch * s.input_len()];
                backward_input(&s, batch, &g, &w, &mut dx, false);
                let (mut dw, mut db) = (vec![0.0f32; w.len()], vec![0.0f32; b.len()]);
                backward_weights(&s, batch, &x, &g, &mut dw, Some(&mut db));
                (y, dx, dw, db)
            };
            let want = crate::par::with_threads(1, || {
                crate::simd::with_kernel(crate::simd::KernelKind::Scalar, run)
            });
            for kind in crate::simd::KernelKind::ALL
                .into_iter()
                .filter(|k| k.is_supported())
            {
                for threads in [1, 2, 3] {
                    let got = crate::par::with_threads(threads, || crate::simd::with_kernel(kind, run));
                    assert!(got == want, "{s:?}: {kind:?} on {threads} threads");
                }
            }
        }
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
