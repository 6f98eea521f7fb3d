//! Numeric gradient checks: a model's backward pass against central
//! differences of its own forward pass.
//!
//! Run on the `f64` instantiation of a generated model: with `h = 1e-5` the
//! truncation error of a central difference is O(h^2) ~ 1e-10 and the
//! rounding error ~ 1e-16 / h ~ 1e-11, so a correct backward pass agrees to
//! about 1e-8 relative error, while any real mistake (a missing term, a wrong
//! index, a transposed matrix) shows up as an error of order one. f32 noise
//! would hide small mistakes, which is why the check runs in f64.

use crate::{Model, Targets};

/// The worst disagreement found in one tensor.
#[derive(Clone, Debug)]
pub struct TensorCheck {
    pub name: &'static str,
    /// Components compared (all of them for small tensors, a sample otherwise).
    pub checked: usize,
    /// `|analytic - numeric| / max(|analytic| + |numeric|, FLOOR)` at the worst component.
    pub max_relative_error: f64,
    pub worst_index: usize,
    pub analytic: f64,
    pub numeric: f64,
}

/// The smallest denominator of the relative error. Central differences carry
/// an absolute rounding error of about 1e-16 times the loss's magnitude over
/// h, up to ~1e-10 here, so a component whose gradient is below 1e-3 is judged
/// by its absolute error instead (a relative error of 1e-6 then means 1e-9
/// absolute). A gradient that should be zero (a conv bias before batchnorm)
/// otherwise fails on rounding noise alone.
pub const FLOOR: f64 = 1e-3;

/// Compares the gradients of every trainable tensor with central differences
/// of the training loss, at every component of tensors up to `max_components`
/// long and at a deterministic sample of that many otherwise. Dropout masks
/// are held fixed by reseeding before every evaluation.
///
/// On large models a smaller `h` (1e-6) keeps the perturbation from carrying
/// a relu input or a max-pool winner across its kink, which central
/// differences cannot see through.
pub fn check<M: Model<F = f64>>(
    model: &mut M,
    input: &[f64],
    targets: Targets<'_, f64>,
    batch: usize,
    h: f64,
    max_components: usize,
) -> Vec<TensorCheck> {
    const DROPOUT_SEED: u64 = 0x5eed;
    model.reseed_dropout(DROPOUT_SEED);
    model.loss_and_gradients(input, targets, batch);
    let mut results = Vec::new();
    for info in M::TENSORS.iter().filter(|t| t.role.trainable()) {
        let analytic: Vec<f64> = model
            .gradient(info.name)
            .expect("every trainable tensor has a gradient")
            .to_vec();
        let len = analytic.len();
        let indices: Vec<usize> = if len <= max_components {
            (0..len).collect()
        } else {
            let mut rng = crate::Rng::derive(len as u64, info.name);
            (0..max_components).map(|_| rng.below(len)).collect()
        };
        let mut worst = TensorCheck {
            name: info.name,
            checked: indices.len(),
            max_relative_error: 0.0,
            worst_index: 0,
            analytic: 0.0,
            numeric: 0.0,
        };
        for &i in &indices {
            let original = model.tensor(info.name).expect("tensor exists")[i];
            let mut loss_at = |value: f64| {
                model.tensor_mut(info.name).expect("tensor exists")[i] = value;
                model.reseed_dropout(DROPOUT_SEED);
                model.training_loss(input, targets, batch)
            };
            let plus = loss_at(original + h);
            let minus = loss_at(original - h);
            loss_at(original);
            let numeric = (plus - minus) / (2.0 * h);
            let error = (analytic[i] - numeric).abs() / (analytic[i].abs() + numeric.abs()).max(FLOOR);
            if error > worst.max_relative_error {
                worst = TensorCheck {
                    max_relative_error: error,
                    worst_index: i,
                    analytic: analytic[i],
                    numeric,
                    ..worst
                };
            }
        }
        results.push(worst);
    }
    results
}
