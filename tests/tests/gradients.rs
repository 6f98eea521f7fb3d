//! Numeric gradient checks of the generated backward passes: every layer
//! kind, activation and loss (the models of `tests/specs/`) and every
//! example spec the code generator supports, on random inputs with several
//! seeds, in f64.
//!
//! Tolerance: 1e-6 relative error (1e-5 for the example CNNs, see `LARGE`). With h = 1e-5 in f64, a correct backward
//! pass agrees with central differences to about 1e-8 (truncation O(h^2),
//! rounding ~1e-16 / h); a wrong term, index or transpose gives errors of
//! order one. A kink of relu or a max lying within h of an input would be
//! the only legitimate miss, and random inputs make that improbable.

use specc_tests::f64 as models;
use specc_tests::support::random_batch;
use specc_train::{Model, gradcheck};

/// How hard to look: small models get three seeds, every component and
/// h = 1e-5; the example CNNs (tens of thousands of relu units and max-pool
/// windows) one seed, a sample of components and h = 1e-6, so that no
/// perturbation carries a unit across its kink, with a 1e-5 tolerance for the
/// larger rounding error of the smaller step.
struct Effort {
    seeds: &'static [u64],
    batch: usize,
    h: f64,
    components: usize,
    tolerance: f64,
}

const SMALL: Effort = Effort {
    seeds: &[1, 2, 3],
    batch: 3,
    h: 1e-5,
    components: 200,
    tolerance: 1e-6,
};

const LARGE: Effort = Effort {
    seeds: &[2],
    batch: 2,
    h: 1e-6,
    components: 24,
    tolerance: 1e-5,
};

fn check<M: Model<F = f64>>(effort: Effort) {
    for &seed in effort.seeds {
        let mut model = M::new(seed);
        let batch = effort.batch;
        let (input, targets) = random_batch::<M>(batch, seed * 7919);
        let results = gradcheck::check(
            &mut model,
            &input,
            targets.as_targets(),
            batch,
            effort.h,
            effort.components,
        );
        assert_eq!(
            results.len(),
            M::TENSORS.iter().filter(|t| t.role.trainable()).count(),
            "{}: every trainable tensor is checked",
            M::NAME
        );
        for r in results {
            assert!(
                r.max_relative_error < effort.tolerance,
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
    ($($test:ident => $model:ty $(, $effort:ident)?;)*) => {
        $(
            #[test]
            fn $test() {
                check::<$model>(effort!($($effort)?));
            }
        )*
    };
}

macro_rules! effort {
    () => {
        SMALL
    };
    ($e:ident) => {
        $e
    };
}

gradient_tests! {
    dense_chain_every_activation => models::dense_chain::DenseChain;
    standalone_activations_and_dropout => models::standalone_activations::StandaloneActivations;
    mse => models::mse_loss::MseLoss;
    mae => models::mae_loss::MaeLoss;
    huber => models::huber_loss::HuberLoss;
    cross_entropy_fused_activation => models::softmax_cross_entropy::SoftmaxCrossEntropy;
    cross_entropy_fused_layer => models::layer_softmax_cross_entropy::LayerSoftmaxCrossEntropy;
    cross_entropy_on_logits => models::logit_cross_entropy::LogitCrossEntropy;
    binary_cross_entropy_fused => models::sigmoid_binary_cross_entropy::SigmoidBinaryCrossEntropy;
    binary_cross_entropy_on_logits => models::logit_binary_cross_entropy::LogitBinaryCrossEntropy;
    sigmoid_with_mse => models::sigmoid_mse::SigmoidMse;
    spec_linear_regression => models::linear_regression::LinearRegression;
    spec_logistic => models::logistic::Logistic;
    spec_mlp => models::mlp::Mlp;
    conv_valid => models::conv_valid::ConvValid;
    conv_same_padding_stride_2 => models::conv_same_stride2::ConvSameStride2;
    conv_kernels_1x1_and_5x5 => models::conv_kernels::ConvKernels;
    max_and_avg_pools => models::pools::Pools;
    pool_first => models::avg_pool_first::AvgPoolFirst;
    batchnorm_training_mode => models::batch_norms::BatchNorms;
    residual_identity_shortcut => models::residual_identity::ResidualIdentity;
    residual_projection_and_nested => models::residual_projection::ResidualProjection;
    residual_on_vectors_with_dropout => models::dense_residual::DenseResidual;
    spec_digits_mlp => models::digits_mlp::DigitsMlp;
    spec_regression_mlp => models::regression_mlp::RegressionMlp;
    spec_mnist_cnn => models::mnist_cnn::MnistCnn, LARGE;
    spec_tf_cnn => models::tf_cnn::TfCnn, LARGE;
    spec_small_resnet => models::small_res_net::SmallResNet, LARGE;
}
