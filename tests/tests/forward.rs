//! The generated forward passes against the plain f64 reference evaluator,
//! and the f32 instantiation against the f64 one.

use specc_core::Inference;
use specc_reference::{Mode, Targets as RefTargets};
use specc_tests::support::{OwnedTargets, random_batch, to_reference};
use specc_tests::{f32 as m32, f64 as m64};
use specc_train::{Model, Targets};

/// The checked model named `name`, from `specs/` or `tests/specs/`.
fn checked_model(name: &str) -> specc_lang::CheckedModel {
    let root = env!("CARGO_MANIFEST_DIR");
    for dir in [format!("{root}/../specs"), format!("{root}/specs")] {
        for entry in std::fs::read_dir(&dir).expect("spec directory") {
            let source = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            let file = specc_lang::check_source(&source).expect("specs check");
            if let Some(m) = file.models.into_iter().find(|m| m.name == name) {
                return m;
            }
        }
    }
    panic!("no spec defines {name}")
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

/// Predictions and training loss of the generated f64 model equal the reference's.
fn matches_reference<M: Model<F = f64>>(checked: &specc_lang::CheckedModel, has_dropout: bool) {
    for seed in [1u64, 5] {
        let mut model = M::new(seed);
        let batch = 4;
        let (input, targets) = random_batch::<M>(batch, seed + 11);
        let params = to_reference(&model);

        let mut out = vec![0.0; batch * M::output_len()];
        model.predict_into(&input, batch, &mut out);
        let expected = specc_reference::forward(checked, &params, &input, batch, Mode::Inference);
        assert_eq!(out.len(), expected.len());
        for (i, (a, b)) in out.iter().zip(&expected).enumerate() {
            assert!(
                relative(*a, *b) < 1e-12,
                "{} output {i}: {a} vs reference {b}",
                M::NAME
            );
        }

        if !has_dropout {
            let loss = model.training_loss(&input, targets.as_targets(), batch);
            let ref_targets = match &targets {
                OwnedTargets::Classes(c) => {
                    let c: Vec<usize> = c.iter().map(|&c| c as usize).collect();
                    specc_reference::loss(
                        checked,
                        &params,
                        &input,
                        batch,
                        RefTargets::Classes(&c),
                        Mode::Training,
                    )
                }
                OwnedTargets::Values(v) => specc_reference::loss(
                    checked,
                    &params,
                    &input,
                    batch,
                    RefTargets::Values(v),
                    Mode::Training,
                ),
            };
            assert!(
                relative(loss, ref_targets) < 1e-12,
                "{} loss {loss} vs reference {ref_targets}",
                M::NAME
            );
        }
    }
}

macro_rules! reference_tests {
    ($($test:ident => $module:ident :: $model:ident, large = $large:literal, dropout = $dropout:literal, distinct = $distinct:literal;)*) => {
        $(
            #[test]
            fn $test() {
                let model = checked_model(<m64::$module::$model as Inference>::NAME);
                matches_reference::<m64::$module::$model>(&model, $dropout);
            }
        )*
    };
}

specc_tests::for_each_model!(reference_tests);

/// The f32 model starts from the same values as the f64 one (rounded) and
/// predicts the same up to f32 precision.
fn f32_agrees_with_f64<A: Model<F = f32>, B: Model<F = f64>>() {
    let (mut a, mut b) = (A::new(3), B::new(3));
    for t in A::TENSORS {
        let (x, y) = (
            a.tensor(t.name).expect("tensor"),
            b.tensor(t.name).expect("tensor"),
        );
        assert!(
            x.iter().zip(y).all(|(x, y)| *x == *y as f32),
            "{}: {} differs",
            A::NAME,
            t.name
        );
    }
    let batch = 5;
    let (input, _) = random_batch::<B>(batch, 9);
    let input32: Vec<f32> = input.iter().map(|&v| v as f32).collect();
    let mut out_a = vec![0.0f32; batch * A::output_len()];
    let mut out_b = vec![0.0f64; batch * B::output_len()];
    a.predict_into(&input32, batch, &mut out_a);
    b.predict_into(&input, batch, &mut out_b);
    for (x, y) in out_a.iter().zip(&out_b) {
        assert!(
            (f64::from(*x) - y).abs() < 1e-4 * y.abs().max(1.0),
            "{}: {x} vs {y}",
            A::NAME
        );
    }
}

#[test]
fn f32_models_agree_with_f64() {
    f32_agrees_with_f64::<m32::mlp::Mlp, m64::mlp::Mlp>();
    f32_agrees_with_f64::<m32::dense_chain::DenseChain, m64::dense_chain::DenseChain>();
    f32_agrees_with_f64::<m32::logistic::Logistic, m64::logistic::Logistic>();
    f32_agrees_with_f64::<m32::mnist_cnn::MnistCnn, m64::mnist_cnn::MnistCnn>();
    f32_agrees_with_f64::<m32::small_res_net::SmallResNet, m64::small_res_net::SmallResNet>();
}

#[test]
fn predict_through_ndarray() {
    let mut model = m32::mlp::Mlp::new(1);
    let input = specc_core::ndarray::ArrayD::<f32>::from_elem(vec![2, 784], 0.5);
    let out = model.predict(input.view());
    assert_eq!(out.shape(), &[2, 10]);
    for row in out.outer_iter() {
        assert!((row.sum() - 1.0).abs() < 1e-5, "softmax rows sum to one");
    }
    let _: Targets<'_, f32> = Targets::Classes(&[]);
}

/// The deepest nesting the parser takes (64 levels: the model's brace, 62
/// residual blocks and the innermost layer's parenthesis) goes through every
/// recursive stage: the checker, the f64 reference evaluator and code
/// generation, on a test thread's 2 MiB stack.
#[test]
fn the_deepest_spec_the_parser_takes_is_checked_evaluated_and_lowered() {
    let depth = specc_lang::parser::MAX_NESTING - 2;
    let source = format!(
        "model Deep {{ input [3]; {}dense(3); {} loss mse; optimizer sgd(lr = 0.1); }}",
        "residual { ".repeat(depth),
        "} ".repeat(depth)
    );
    let file = specc_lang::check_source(&source).unwrap_or_else(|d| panic!("{}", d[0].message));
    let model = &file.models[0];
    assert_eq!(model.all_layers().len(), depth + 1);
    let params = specc_reference::Params::random(model, 1);
    let out = specc_reference::forward(
        model,
        &params,
        &[0.1, -0.2, 0.3],
        1,
        specc_reference::Mode::Inference,
    );
    assert!(out.iter().all(|x| x.is_finite()) && out.len() == 3);
    let code =
        specc_codegen::generate_source(&file, "deep.spec", &source, &specc_codegen::Options::default())
            .expect("generates");
    assert!(code.contains("fn dense_1_forward"));
    // One level more is refused.
    let deeper = format!(
        "model Deep {{ input [3]; {}dense(3); {} }}",
        "residual { ".repeat(depth + 1),
        "} ".repeat(depth + 1)
    );
    assert!(specc_lang::check_source(&deeper).is_err());
}
