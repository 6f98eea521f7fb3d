//! Numeric gradient checks of the generated backward passes: every layer
//! kind, activation and loss (the models of `tests/specs/`) and every
//! example spec the code generator supports, on random inputs with several
//! seeds, in f64.
//!
//! Tolerance: 1e-6 relative error. With h = 1e-5 in f64, a correct backward
//! pass agrees with central differences to about 1e-8 (truncation O(h^2),
//! rounding ~1e-16 / h); a wrong term, index or transpose gives errors of
//! order one. A kink of relu or a max lying within h of an input would be
//! the only legitimate miss, and random inputs make that improbable.

use specc_runtime::{Model, gradcheck};
use specc_tests::f64 as models;
use specc_tests::support::random_batch;

const TOLERANCE: f64 = 1e-6;

fn check<M: Model<F = f64>>() {
    for seed in [1u64, 2, 3] {
        let mut model = M::new(seed);
        let batch = 3;
        let (input, targets) = random_batch::<M>(batch, seed * 7919);
        let results = gradcheck::check(&mut model, &input, targets.as_targets(), batch, 1e-5);
        assert_eq!(
            results.len(),
            M::TENSORS.iter().filter(|t| t.role.trainable()).count(),
            "{}: every trainable tensor is checked",
            M::NAME
        );
        for r in results {
            assert!(
                r.max_relative_error < TOLERANCE,
                "{} seed {seed}: {} component {}: analytic {} vs numeric {} (relative error {:.2e})",
                M::NAME,
                r.name,
                r.worst_index,
                r.analytic,
                r.numeric,
                r.max_relative_error
            );
            assert!(r.checked > 0);
        }
    }
}

macro_rules! gradient_tests {
    ($($test:ident => $model:ty,)*) => {
        $(
            #[test]
            fn $test() {
                check::<$model>();
            }
        )*
    };
}

gradient_tests! {
    dense_chain_every_activation => models::dense_chain::DenseChain,
    standalone_activations_and_dropout => models::standalone_activations::StandaloneActivations,
    mse => models::mse_loss::MseLoss,
    mae => models::mae_loss::MaeLoss,
    huber => models::huber_loss::HuberLoss,
    cross_entropy_fused_activation => models::softmax_cross_entropy::SoftmaxCrossEntropy,
    cross_entropy_fused_layer => models::layer_softmax_cross_entropy::LayerSoftmaxCrossEntropy,
    cross_entropy_on_logits => models::logit_cross_entropy::LogitCrossEntropy,
    binary_cross_entropy_fused => models::sigmoid_binary_cross_entropy::SigmoidBinaryCrossEntropy,
    binary_cross_entropy_on_logits => models::logit_binary_cross_entropy::LogitBinaryCrossEntropy,
    sigmoid_with_mse => models::sigmoid_mse::SigmoidMse,
    spec_linear_regression => models::linear_regression::LinearRegression,
    spec_logistic => models::logistic::Logistic,
    spec_mlp => models::mlp::Mlp,
}
