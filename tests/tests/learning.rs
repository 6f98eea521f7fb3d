//! The generated models learn: linear regression recovers its line, logistic
//! regression separates a separable set. (The MNIST accuracy tests, which need
//! `../shared/data`, are in `mnist.rs`.)

use specc_core::Inference;
use specc_tests::f32::{linear_regression::LinearRegression, logistic::Logistic};
use specc_tests::support::{OwnedTargets, train};
use specc_train::{Model, Rng};

#[test]
fn linear_regression_recovers_slope_and_intercept() {
    // y = 2x + 3 + N(0, 0.1^2), 100 points, full-batch gradient descent as the spec says.
    let mut rng = Rng::new(42);
    let xs: Vec<f32> = (0..100).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let ys: Vec<f32> = xs
        .iter()
        .map(|&x| 2.0 * x + 3.0 + 0.1 * rng.normal() as f32)
        .collect();
    let mut model = LinearRegression::new(0);
    let train_defaults = LinearRegression::TRAIN;
    assert_eq!((train_defaults.epochs, train_defaults.batch), (1000, 100));
    let losses = train(
        &mut model,
        &xs,
        &OwnedTargets::Values(ys),
        train_defaults.epochs,
        train_defaults.batch,
        0,
    );
    let w = model.tensor("dense_1.weight").expect("weight")[0];
    let b = model.tensor("dense_1.bias").expect("bias")[0];
    assert!((w - 2.0).abs() < 0.05, "w = {w}");
    assert!((b - 3.0).abs() < 0.05, "b = {b}");
    assert!(
        losses.last().expect("epochs") < &0.02,
        "final loss {:?}",
        losses.last()
    );
}

#[test]
fn logistic_regression_separates_a_separable_set() {
    // Labels from a random hyperplane through the origin in 20 dimensions.
    let mut rng = Rng::new(7);
    let normal: Vec<f64> = (0..20).map(|_| rng.normal()).collect();
    let n = 1000;
    let mut xs = Vec::with_capacity(n * 20);
    let mut ys = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..20).map(|_| rng.normal()).collect();
        let side = x.iter().zip(&normal).map(|(a, b)| a * b).sum::<f64>();
        xs.extend(x.iter().map(|&v| v as f32));
        ys.push(if side > 0.0 { 1.0f32 } else { 0.0 });
    }
    let (train_x, test_x) = xs.split_at(800 * 20);
    let (train_y, test_y) = ys.split_at(800);
    let mut model = Logistic::new(0);
    train(
        &mut model,
        train_x,
        &OwnedTargets::Values(train_y.to_vec()),
        20,
        32,
        1,
    );
    // One sigmoid output: predict class 1 when p > 0.5.
    let mut p = vec![0.0f32; 200];
    model.predict_into(test_x, 200, &mut p);
    let correct = p
        .iter()
        .zip(test_y)
        .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
        .count();
    let acc = correct as f64 / 200.0;
    assert!(acc >= 0.95, "test accuracy {acc}");
}
