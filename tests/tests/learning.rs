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

/// `fit` is `Trainer::run_epoch` to the end, and a trainer rebuilt from the
/// state of one stopped half-way (as `specc train --resume` does, with a
/// plateau schedule, whose state comes from the monitored losses) ends with
/// the same parameters, bit for bit.
#[test]
fn a_trainer_resumed_from_its_state_ends_where_fit_does() {
    use specc_harness::data::synthetic;
    use specc_harness::fit::{FitOptions, Quiet, Trainer, TrainerState, fit};
    use specc_tests::f32::digits_mlp::DigitsMlp;
    use specc_train::{Schedule, ScheduleKind, ScheduleUnit};

    let data = synthetic::for_model(
        DigitsMlp::INPUT_SHAPE,
        DigitsMlp::TARGETS,
        DigitsMlp::output_len(),
        96,
        3,
    )
    .expect("synthetic digits fit the model");
    let (train, validation) = data.split_validation(0.25, 5).expect("splits");
    let mut options = FitOptions::for_model::<DigitsMlp>();
    options.epochs = 4;
    options.batch = 16;
    options.schedule = Some(Schedule {
        kind: ScheduleKind::Plateau {
            patience: 1,
            factor: 0.5,
            min_lr: 1e-4,
            min_delta: 0.0,
        },
        unit: ScheduleUnit::Epoch,
    });
    let mut whole = DigitsMlp::new(1);
    let reports = fit(&mut whole, &train, Some(&validation), &options, &mut Quiet).expect("trains");
    assert_eq!(reports.len(), 4);

    let mut halves = DigitsMlp::new(1);
    let mut first = Trainer::new(
        options.clone(),
        &train,
        Some(&validation),
        TrainerState::default(),
    )
    .unwrap();
    for _ in 0..2 {
        first.run_epoch(&mut halves, &mut Quiet).expect("trains");
    }
    let state = first.state().clone();
    assert_eq!((state.epoch, state.monitored_losses.len()), (2, 2));
    let mut second = Trainer::new(options, &train, Some(&validation), state).unwrap();
    while !second.is_done() {
        second.run_epoch(&mut halves, &mut Quiet).expect("trains");
    }
    assert_eq!(second.state().epoch, 4);
    assert_eq!(halves.learning_rate(), whole.learning_rate());
    for t in DigitsMlp::TENSORS {
        assert_eq!(halves.tensor(t.name), whole.tensor(t.name), "{}", t.name);
    }
}
