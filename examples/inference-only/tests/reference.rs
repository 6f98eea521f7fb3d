//! The inference-only modules against the f64 reference evaluator: the same
//! random parameters give the same predictions, for every spec in `specs/`.

use specc_core::Inference;
use specc_example_inference_only as models;
use specc_lang::CheckedModel;
use specc_reference::{Mode, Params, SplitMix64};

fn checked(spec: &str) -> CheckedModel {
    let path = format!("{}/../../specs/{spec}.spec", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut file = specc_lang::check_source(&source).unwrap_or_else(|_| panic!("{path} checks"));
    file.models.remove(0)
}

/// Loads the reference's random parameters into `model`, predicts a batch of
/// three random inputs with both and compares them.
fn agrees<M: Inference<F = f32>>(mut model: M, spec: &str) {
    let checked = checked(spec);
    let params = Params::random(&checked, 11);
    for t in M::TENSORS {
        let values = params.get(t.name);
        let slot = model.tensor_mut(t.name).expect("every tensor is addressable");
        assert_eq!(slot.len(), values.len(), "{spec}: {}", t.name);
        for (s, v) in slot.iter_mut().zip(values) {
            *s = *v as f32;
        }
    }
    let batch = 3;
    let mut rng = SplitMix64::new(5);
    let input: Vec<f64> = (0..batch * M::input_len()).map(|_| rng.next_f64()).collect();
    let want = specc_reference::forward(&checked, &params, &input, batch, Mode::Inference);
    let input: Vec<f32> = input.iter().map(|&x| x as f32).collect();
    let mut got = vec![0.0f32; batch * M::output_len()];
    model
        .try_predict_into(&input, batch, &mut got)
        .expect("shapes fit");
    let scale = want.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= 1e-4 * scale,
            "{spec}: output {i} is {g}, the reference says {w}"
        );
    }
}

#[test]
fn every_inference_only_model_matches_the_reference() {
    agrees(models::digits_mlp::DigitsMlp::new(), "digits_mlp");
    agrees(
        models::linear_regression::LinearRegression::new(),
        "linear_regression",
    );
    agrees(models::logistic::Logistic::new(), "logistic");
    agrees(models::mlp::Mlp::new(), "mlp");
    agrees(models::mnist_cnn::MnistCnn::new(), "mnist_cnn");
    agrees(models::regression_mlp::RegressionMlp::new(), "regression_mlp");
    agrees(models::small_res_net::SmallResNet::new(), "small_resnet");
    agrees(models::tf_cnn::TfCnn::new(), "tf_cnn");
}

#[test]
fn caller_mistakes_are_errors() {
    let mut model = models::mlp::Mlp::new();
    let mut out = [0.0f32; 10];
    let e = model.try_predict_into(&[0.0; 783], 1, &mut out).unwrap_err();
    assert!(e.to_string().contains("input holds 783 values"), "{e}");
}
