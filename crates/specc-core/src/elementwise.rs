//! Element-wise helpers for the glue between layers, and `by_ranges`,
//! which runs every element-wise pass of the runtime.

use crate::{Float, par, simd};

/// Runs `f(inputs, out)` on matching ranges of `out` and of each input
/// (inputs shorter than `out` give shorter ranges, as `zip` would), large
/// slices spread over threads, each range compiled for the CPU's vector
/// unit ([`simd::dispatch`]). Each element depends only on the same
/// position of the inputs, so the result does not depend on the split.
pub(crate) fn by_ranges<F: Float, const N: usize>(
    inputs: [&[F]; N],
    out: &mut [F],
    f: impl Fn([&[F]; N], &mut [F]) + Sync,
) {
    let per = par::part_len(out.len(), 1 << 15, 64);
    if per >= out.len() {
        return simd::dispatch(
            #[inline(always)]
            || f(inputs, out),
        );
    }
    par::for_each_part(out.chunks_mut(per), |part, out| {
        let start = part * per;
        let inputs = inputs.map(|x| &x[start.min(x.len())..(start + out.len()).min(x.len())]);
        simd::dispatch(
            #[inline(always)]
            || f(inputs, out),
        );
    });
}

/// `y = a + b` (a residual block's output).
pub fn add<F: Float>(a: &[F], b: &[F], y: &mut [F]) {
    by_ranges(
        [a, b],
        y,
        #[inline(always)]
        |[a, b], y| {
            for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
                *y = a + b;
            }
        },
    );
}

/// `dst = src`, or `dst += src` when another branch already wrote `dst`.
#[cfg(feature = "backward")]
pub fn write_gradient<F: Float>(src: &[F], dst: &mut [F], accumulate: bool) {
    if !accumulate {
        return copy(src, dst);
    }
    by_ranges(
        [src],
        dst,
        #[inline(always)]
        |[src], dst| {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        },
    );
}

/// `y = x` (an activation layer's copy before it works in place, a
/// gradient passed on unchanged).
pub fn copy<F: Float>(x: &[F], y: &mut [F]) {
    assert_eq!(x.len(), y.len(), "copy: lengths differ");
    by_ranges(
        [x],
        y,
        #[inline(always)]
        |[x], y| y.copy_from_slice(x),
    );
}

#[cfg(all(test, feature = "backward"))]
mod tests {
    use super::*;

    #[test]
    fn add_and_write() {
        let mut y = [0.0; 2];
        add(&[1.0, 2.0], &[10.0, 20.0], &mut y);
        assert_eq!(y, [11.0, 22.0]);
        write_gradient(&[1.0, 1.0], &mut y, true);
        assert_eq!(y, [12.0, 23.0]);
        write_gradient(&[1.0, 1.0], &mut y, false);
        assert_eq!(y, [1.0, 1.0]);
    }
}
