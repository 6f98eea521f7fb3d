//! Every instruction-set path this CPU supports (AVX-512, AVX2+FMA, the
//! portable loops) computes the same model: predictions, losses and
//! gradients of whole models under each path against the portable one.
//!
//! Tolerance: the paths differ only in summation order (GEMM tiles, FMA
//! contraction, lane-split reductions), a relative error of a few f32 ulps
//! per term; over the sums of up to 5,408 terms here that stays far below
//! 1e-3 relative to the largest magnitude in a tensor, while a wrong
//! kernel (a missed edge tile, a dropped lane) changes values by O(1).

use specc_runtime::gemm::{KernelKind, with_kernel};
use specc_runtime::{Model, Rng, TargetKind, Targets};
use specc_tests::f32::{mlp::Mlp, mnist_cnn::MnistCnn, pools::Pools, tf_cnn::TfCnn};

const TOLERANCE: f32 = 1e-3;

/// Predictions, loss and every gradient of a fresh model on one batch.
fn outputs<M: Model<F = f32>>(kind: KernelKind) -> Vec<(String, Vec<f32>)> {
    with_kernel(kind, || {
        let batch = 8;
        let mut rng = Rng::new(3);
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
        for tensor in M::TENSORS.iter().filter(|t| t.role.trainable()) {
            let gradient = model
                .gradient(tensor.name)
                .expect("a trainable tensor has a gradient");
            found.push((format!("gradient of {}", tensor.name), gradient.to_vec()));
        }
        found
    })
}

fn paths_agree<M: Model<F = f32>>() {
    let baseline = outputs::<M>(KernelKind::Scalar);
    for kind in KernelKind::ALL
        .into_iter()
        .filter(|k| k.is_supported() && *k != KernelKind::Scalar)
    {
        for ((name, expected), (_, got)) in baseline.iter().zip(outputs::<M>(kind)) {
            let scale = expected.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            let worst = expected
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                worst <= TOLERANCE * scale,
                "{}: {name} under {} differs from the portable path by {worst} (largest magnitude {scale})",
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
    paths_agree::<Mlp>();
    paths_agree::<MnistCnn>();
    paths_agree::<TfCnn>();
    paths_agree::<Pools>();
    // Not SmallResNet, yet: this test found that, on it (batch 8), the
    // gradients of batchnorm_4.beta, the shortcut conv2d_4 and every layer
    // before the second block differ from the f64 model by about 3% of their
    // largest value under the portable f32 kernels, while AVX2 and AVX-512
    // agree with f64 to 1e-6 and the f64 model gives the same gradients on
    // every path. batchnorm_4.gamma and conv2d_5 are right, which points at
    // an error constant per channel in the gradient entering the second
    // block; every conv and GEMM shape of the model agrees across paths when
    // run alone. Tracked in the speed issue's notes.
}
