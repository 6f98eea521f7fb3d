//! Weight initialisers, as Keras defines them. Biases and batchnorm `beta`
//! start at zero; batchnorm `gamma` and the running variance at one.

use crate::Rng;
use specc_core::Float;

pub use specc_types::Init;

/// Normal with the given std, redrawn when beyond two standard deviations
/// (Keras' `TruncatedNormal`, which its `he_normal` and `glorot_normal` use;
/// Keras scales the std by 1 / 0.87962566 to keep the variance).
fn truncated_normal(rng: &mut Rng, std: f64) -> f64 {
    loop {
        let x = rng.normal();
        if x.abs() <= 2.0 {
            return x * std / 0.879_625_661_034_239_8;
        }
    }
}

/// Fills `values` according to `init`.
pub fn fill<F: Float>(values: &mut [F], init: Init, fan_in: usize, fan_out: usize, rng: &mut Rng) {
    let fan_in = fan_in.max(1) as f64;
    let fan_avg = (fan_in + fan_out.max(1) as f64) / 2.0;
    for v in values.iter_mut() {
        let x = match init {
            Init::HeNormal => truncated_normal(rng, (2.0 / fan_in).sqrt()),
            Init::HeUniform => {
                let limit = (6.0 / fan_in).sqrt();
                rng.uniform(-limit, limit)
            }
            Init::XavierNormal => truncated_normal(rng, (1.0 / fan_avg).sqrt()),
            Init::XavierUniform => {
                let limit = (3.0 / fan_avg).sqrt();
                rng.uniform(-limit, limit)
            }
            Init::Zeros => 0.0,
            Init::Normal { std } => rng.normal() * std,
            Init::Uniform { limit } => rng.uniform(-limit, limit),
        };
        *v = F::from_f64(x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(values: &[f64]) -> f64 {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / values.len() as f64
    }

    #[test]
    fn initialisers_have_the_keras_variance() {
        let (fan_in, fan_out) = (300, 100);
        let cases = [
            (Init::HeNormal, 2.0 / 300.0),
            (Init::HeUniform, 2.0 / 300.0),
            (Init::XavierNormal, 2.0 / 400.0),
            (Init::XavierUniform, 2.0 / 400.0),
            (Init::Normal { std: 0.1 }, 0.01),
            (Init::Uniform { limit: 0.3 }, 0.09 / 3.0),
        ];
        for (init, expected) in cases {
            let mut v = vec![0.0f64; 100_000];
            fill(&mut v, init, fan_in, fan_out, &mut Rng::new(5));
            let var = variance(&v);
            assert!(
                (var / expected - 1.0).abs() < 0.03,
                "{init:?}: {var} vs {expected}"
            );
        }
        let mut z = vec![1.0f32; 10];
        fill(&mut z, Init::Zeros, 1, 1, &mut Rng::new(0));
        assert!(z.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn truncated_normal_stays_within_two_std() {
        let mut v = vec![0.0f64; 10_000];
        fill(&mut v, Init::HeNormal, 8, 8, &mut Rng::new(2));
        let std = (2.0f64 / 8.0).sqrt() / 0.879_625_661_034_239_8;
        assert!(v.iter().all(|x| x.abs() <= 2.0 * std + 1e-12));
    }
}
