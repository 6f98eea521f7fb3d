//! The three products a dense or convolutional layer needs, named after
//! what they compute. All matrices are row-major and contiguous.

use crate::Float;

/// `c (m x n) = a (m x k) * b^T`, where `b` is stored `n x k`
/// (a dense layer's forward pass: inputs times the transposed weight).
pub fn matmul_nt<F: Float>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    F::gemm(m, k, n, F::ONE, a, false, b, true, beta, c);
}

/// `c (m x n) = a (m x k) * b (k x n)`
/// (a dense layer's input gradient: output gradient times the weight).
pub fn matmul_nn<F: Float>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    F::gemm(m, k, n, F::ONE, a, false, b, false, beta, c);
}

/// `c (m x n) = a^T * b`, where `a` is stored `k x m` and `b` is `k x n`
/// (a dense layer's weight gradient: output gradient transposed times the input).
pub fn matmul_tn<F: Float>(m: usize, k: usize, n: usize, a: &[F], b: &[F], c: &mut [F], accumulate: bool) {
    let beta = if accumulate { F::ONE } else { F::ZERO };
    F::gemm(m, k, n, F::ONE, a, true, b, false, beta, c);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious triple loop, the reference for the GEMM wrappers.
    fn naive(
        m: usize,
        k: usize,
        n: usize,
        a: impl Fn(usize, usize) -> f64,
        b: impl Fn(usize, usize) -> f64,
    ) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a(i, p) * b(p, j)).sum();
            }
        }
        c
    }

    fn data(len: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    }

    #[test]
    fn products_match_the_triple_loop_for_odd_shapes() {
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 1, 10), (2, 130, 3)] {
            let a = data(m * k, 1);
            let b = data(k * n, 2);
            let mut c = vec![0.0; m * n];

            // nn: a m x k, b k x n
            matmul_nn(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[i * k + p], |p, j| b[p * n + j]));

            // nt: b stored n x k
            matmul_nt(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[i * k + p], |p, j| b[j * k + p]));

            // tn: a stored k x m
            matmul_tn(m, k, n, &a, &b, &mut c, false);
            close(&c, &naive(m, k, n, |i, p| a[p * m + i], |p, j| b[p * n + j]));

            // accumulate adds to what is there
            let before = c.clone();
            matmul_tn(m, k, n, &a, &b, &mut c, true);
            let doubled: Vec<f64> = before.iter().map(|x| 2.0 * x).collect();
            close(&c, &doubled);
        }
    }

    #[test]
    fn f32_products_agree_with_f64() {
        let (m, k, n) = (31, 47, 19);
        let a = data(m * k, 3);
        let b = data(k * n, 4);
        let mut c64 = vec![0.0f64; m * n];
        matmul_nn(m, k, n, &a, &b, &mut c64, false);
        let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
        let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
        let mut c32 = vec![0.0f32; m * n];
        matmul_nn(m, k, n, &a32, &b32, &mut c32, false);
        for (x, y) in c32.iter().zip(&c64) {
            assert!((f64::from(*x) - y).abs() < 1e-4);
        }
    }

    #[test]
    #[should_panic(expected = "gemm: a has")]
    fn short_slices_are_refused() {
        let mut c = vec![0.0f32; 4];
        matmul_nn(2, 2, 2, &[1.0f32; 3], &[1.0; 4], &mut c, false);
    }
}
