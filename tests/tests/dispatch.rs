//! Every instruction-set path this CPU supports (AVX-512, AVX2+FMA, the
//! portable loops) computes the same model: predictions, losses and
//! gradients of whole models under each path against the portable one.
//!
//! Tolerance: the paths differ only in summation order (GEMM tiles, FMA
//! contraction, lane-split reductions), a relative error of a few f32 ulps
//! per term; over the sums of up to 5,408 terms here that stays far below
//! 1e-3 relative to the largest magnitude in a tensor, while a wrong
//! kernel (a missed edge tile, a dropped lane) changes values by O(1).
//! One thing legitimately breaks that bound: a ReLU input within rounding of
//! zero, which one path turns on and another off. Each model's batch is one
//! without such a kink.

use specc_core::Precision;
use specc_core::simd::{KernelKind, with_kernel, with_precision};
use specc_tests::f32::{
    mlp::Mlp, mnist_cnn::MnistCnn, pools::Pools, small_res_net::SmallResNet, tf_cnn::TfCnn,
};
use specc_tests::support::trainable_gradients;
use specc_train::{Model, Rng, TargetKind, Targets};

const TOLERANCE: f32 = 1e-3;

/// The smallest magnitude the tolerance is relative to. A conv bias that
/// feeds a batchnorm has a gradient of exactly zero in exact arithmetic, so
/// what the paths compute for it is rounding noise (about 1e-7); the
/// gradients of these models are otherwise 1e-2 to 1.
const SCALE_FLOOR: f32 = 1e-3;

/// An input seed whose batch has no ReLU input within rounding of zero in
/// SmallResNet (see the test).
const SMALL_RESNET_SEED: u64 = 4;

/// Predictions, loss and every gradient of a fresh model on one batch,
/// with the products in `precision`.
fn outputs_in<M: Model<F = f32>>(
    kind: KernelKind,
    precision: Precision,
    seed: u64,
) -> Vec<(String, Vec<f32>)> {
    with_kernel(kind, || {
        with_precision(precision, || {
            let batch = 8;
            let mut rng = Rng::new(seed);
            let input: Vec<f32> = (0..batch * M::input_len())
                .map(|_| rng.uniform(0.0, 1.0) as f32)
                .collect();
            let labels: Vec<u32> = (0..batch).map(|i| (i % M::output_len()) as u32).collect();
            let mut model = M::new(0);
            let mut prediction = vec![0.0; batch * M::output_len()];
            model.predict_into(&input, batch, &mut prediction);
            let values: Vec<f32> = (0..batch * M::output_len()).map(|i| (i % 2) as f32).collect();
            let targets = match M::TARGETS {
                TargetKind::Classes { .. } => Targets::Classes(&labels),
                _ => Targets::Values(&values),
            };
            let loss = model.loss_and_gradients(&input, targets, batch) as f32;
            let mut found = vec![
                ("prediction".to_string(), prediction),
                ("loss".to_string(), vec![loss]),
            ];
            found.extend(trainable_gradients(&model));
            found
        })
    })
}

fn paths_agree<M: Model<F = f32>>(seed: u64) {
    paths_agree_in::<M>(Precision::F32, seed, TOLERANCE);
}

/// Every supported instruction set's outputs in `precision` against the
/// portable path's, within `tolerance` of each output's largest magnitude.
fn paths_agree_in<M: Model<F = f32>>(precision: Precision, seed: u64, tolerance: f32) {
    let baseline = outputs_in::<M>(KernelKind::Scalar, precision, seed);
    for kind in KernelKind::ALL
        .into_iter()
        .filter(|k| k.is_supported() && *k != KernelKind::Scalar)
    {
        for ((name, expected), (_, got)) in baseline.iter().zip(outputs_in::<M>(kind, precision, seed)) {
            let scale = expected.iter().fold(SCALE_FLOOR, |m, v| m.max(v.abs()));
            let worst = expected
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                worst <= tolerance * scale,
                "{}: {name} in {precision} under {} differs from the portable path by {worst} (largest magnitude {scale})",
                M::NAME,
                kind.name()
            );
        }
    }
}

#[test]
fn every_supported_instruction_set_computes_the_same_models() {
    let supported: Vec<&str> = KernelKind::ALL
        .into_iter()
        .filter(|k| k.is_supported())
        .map(|k| k.name())
        .collect();
    eprintln!(
        "comparing the instruction-set paths of this CPU: {}",
        supported.join(", ")
    );
    paths_agree::<Mlp>(3);
    paths_agree::<MnistCnn>(3);
    paths_agree::<TfCnn>(3);
    paths_agree::<Pools>(3);
    // Not seed 3 for SmallResNet: that batch puts a ReLU input within f32
    // rounding of zero, so the paths' last-bit differences (4e-7 relative in
    // every GEMM) flip one unit on or off and its gradients legitimately
    // differ by 3%. The f64 model shows the same kink: a 1e-7 relative
    // change of that input moves its batchnorm_4.beta gradient by 3%.
    paths_agree::<SmallResNet>(SMALL_RESNET_SEED);
}

/// In bf16, every instruction set's kernels (`vdpbf16ps` where the CPU
/// has it) compute the same products as the portable loops: the operands
/// are rounded the same way, the products of two bf16 values are exact in
/// f32 and the pairs are added in the same order. The element-wise kernels
/// around them differ by the f32 paths' last bits (the f32 comparison
/// above), which the bf16 rounding of the next product can amplify to one
/// bf16 unit (2^-8) now and then: hence the bf16 tolerance here.
#[test]
fn every_supported_bf16_path_computes_the_same_models() {
    let tolerance = 4.0 * 2f32.powi(-8);
    paths_agree_in::<Mlp>(Precision::Bf16, 3, tolerance);
    paths_agree_in::<MnistCnn>(Precision::Bf16, 3, tolerance);
    paths_agree_in::<TfCnn>(Precision::Bf16, 3, tolerance);
    paths_agree_in::<Pools>(Precision::Bf16, 3, tolerance);
    paths_agree_in::<SmallResNet>(Precision::Bf16, SMALL_RESNET_SEED, tolerance);
}
