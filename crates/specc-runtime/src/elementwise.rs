//! Element-wise helpers for the glue between layers.

use crate::simd::multiversion;

multiversion! {
    /// `y = a + b` (a residual block's output).
    pub fn add<F: Float>(a: &[F], b: &[F], y: &mut [F]) {
        for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
            *y = a + b;
        }
    }
}

multiversion! {
    /// `dst = src`, or `dst += src` when another branch already wrote `dst`.
    pub fn write_gradient<F: Float>(src: &[F], dst: &mut [F], accumulate: bool) {
        if accumulate {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d += s;
            }
        } else {
            dst.copy_from_slice(src);
        }
    }
}

#[cfg(test)]
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
