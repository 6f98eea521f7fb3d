//! Every spec of `specs/`, compiled by `specc_build` in `build.rs`: prints
//! each model's name, parameter count and its prediction for an all-zero
//! input.

use specc::prelude::*;

// One `pub mod` per spec, e.g. `mnist_cnn::MnistCnn`.
include!(concat!(env!("OUT_DIR"), "/models.rs"));

fn describe<M: Model<F = f32>>() {
    // Every tensor, running statistics included, as Keras counts "Total params".
    let parameters: usize = M::TENSORS.iter().map(|t| t.len()).sum();
    let input = vec![0.0; M::INPUT_SHAPE.iter().product()];
    let mut output = vec![0.0; M::OUTPUT_SHAPE.iter().product()];
    M::new(1).predict_into(&input, 1, &mut output);
    let shown: Vec<String> = output.iter().take(4).map(|y| format!("{y:.4}")).collect();
    let more = if output.len() > 4 { ", ..." } else { "" };
    println!(
        "{:<18} {parameters:>9} parameters   f(0) = [{}{more}]",
        M::NAME,
        shown.join(", ")
    );
}

fn main() {
    describe::<digits_mlp::DigitsMlp>();
    describe::<linear_regression::LinearRegression>();
    describe::<logistic::Logistic>();
    describe::<mlp::Mlp>();
    describe::<mnist_cnn::MnistCnn>();
    describe::<regression_mlp::RegressionMlp>();
    describe::<small_res_net::SmallResNet>();
    describe::<tf_cnn::TfCnn>();
}
