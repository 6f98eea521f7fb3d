//! bf16 mixed precision against f32 on the same batch: a gradient check
//! in bf16 would measure bf16's rounding, not the backward pass (that is
//! checked in f64 by `gradients.rs`, and the bf16 kernels against an f64
//! reference of their rounded operands in `specc-core`). What a user needs
//! to know is how far bf16's gradients are from f32's.
//!
//! Bound, for the predictions and every trainable tensor's gradient, in L2
//! norm: `||bf16 - f32|| <= max(RELATIVE_BOUND ||f32||, SENSITIVITY_FACTOR
//! ||f32(round(x)) - f32(x)||)`, with `RELATIVE_BOUND` = 8 x 2^-8 (3.1%) and
//! `SENSITIVITY_FACTOR` = 4. Each product rounds both operands to 8
//! significant bits (a relative error of at most 2^-9 each) and a gradient
//! passes through up to a dozen products, whose errors add roughly in
//! quadrature: a few 2^-8 where the model is smooth (the MLP's gradients
//! move by 1 x 2^-8). But a CNN's gradients at initialisation on random
//! inputs are not smooth: a max-pool window holding two values within 2^-8
//! of each other, or a ReLU input that close to zero, routes the gradient
//! elsewhere when either moves by one rounding. Rounding only the *input*
//! to bf16 and running the f32 model moves TfCnn's first-layer gradients by
//! 21 x 2^-8; its bf16 run, which rounds at every product, moves them by
//! 26 x 2^-8. So the second term of the bound measures that sensitivity on
//! the same batch, with the f32 model, and allows bf16 a few times it (the
//! test prints both; bf16 measures 1.1 to 6 times the input's effect, the
//! high ratios where that effect is below 1 x 2^-8).

use specc_core::Precision;
use specc_core::simd::with_precision;
use specc_tests::f32::{
    mlp::Mlp, mnist_cnn::MnistCnn, pools::Pools, small_res_net::SmallResNet, tf_cnn::TfCnn,
};
use specc_tests::support::trainable_gradients;
use specc_train::{Model, Rng, TargetKind, Targets};

const RELATIVE_BOUND: f64 = 8.0 / 256.0;
const SENSITIVITY_FACTOR: f64 = 4.0;

const BATCH: usize = 16;

/// Predictions, then every trainable tensor's gradient, in `precision`, on
/// the batch or (`round_input`) on the batch rounded to bf16.
fn gradients<M: Model<F = f32>>(precision: Precision, round_input: bool) -> Vec<(String, Vec<f32>)> {
    with_precision(precision, || {
        let mut rng = Rng::new(17);
        let mut input: Vec<f32> = (0..BATCH * M::input_len())
            .map(|_| rng.uniform(0.0, 1.0) as f32)
            .collect();
        if round_input {
            input
                .iter_mut()
                .for_each(|x| *x = specc_core::gemm::bf16::round_bf16(*x));
        }
        let labels: Vec<u32> = (0..BATCH).map(|i| (i % M::output_len()) as u32).collect();
        let values: Vec<f32> = (0..BATCH * M::output_len()).map(|i| (i % 2) as f32).collect();
        let batch = BATCH;
        let targets = match M::TARGETS {
            TargetKind::Classes { .. } => Targets::Classes(&labels),
            _ => Targets::Values(&values),
        };
        let mut model = M::new(0);
        let mut prediction = vec![0.0; batch * M::output_len()];
        model.predict_into(&input, batch, &mut prediction);
        model.loss_and_gradients(&input, targets, batch);
        let mut found = vec![("prediction".to_string(), prediction)];
        found.extend(trainable_gradients(&model));
        found
    })
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt()
}

fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        .sqrt()
}

fn close_to_f32<M: Model<F = f32>>() {
    let f32s = gradients::<M>(Precision::F32, false);
    let bf16s = gradients::<M>(Precision::Bf16, false);
    let rounded_input = gradients::<M>(Precision::F32, true);
    let mut differs = false;
    for (((name, want), (_, got)), (_, nearby)) in f32s.iter().zip(&bf16s).zip(&rounded_input) {
        let (error, own, sensitivity) = (distance(got, want), norm(want), distance(nearby, want));
        let bound = (RELATIVE_BOUND * own).max(SENSITIVITY_FACTOR * sensitivity);
        eprintln!(
            "{}: {name}: bf16 {:.2} x 2^-8, f32 on a bf16-rounded input {:.2} x 2^-8 (of the norm)",
            M::NAME,
            256.0 * error / own,
            256.0 * sensitivity / own
        );
        assert!(
            error <= bound,
            "{}: bf16 {name} is {:.2} x 2^-8 of its norm from f32's, beyond the bound of {:.2} x 2^-8",
            M::NAME,
            256.0 * error / own,
            256.0 * bound / own
        );
        differs |= got != want;
    }
    assert!(differs, "{}: bf16 computed exactly what f32 did", M::NAME);
}

#[test]
fn mlp() {
    close_to_f32::<Mlp>();
}

#[test]
fn mnist_cnn() {
    close_to_f32::<MnistCnn>();
}

#[test]
fn tf_cnn() {
    close_to_f32::<TfCnn>();
}

#[test]
fn small_resnet() {
    close_to_f32::<SmallResNet>();
}

#[test]
fn pools() {
    close_to_f32::<Pools>();
}
