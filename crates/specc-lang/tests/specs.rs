//! Every example spec in `specs/` checks, and its summary is snapshotted.

use specc_lang::{CheckedModel, LayerKind, Shape};
use std::fs;
use std::path::PathBuf;

const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs");

fn spec_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(SPECS)
        .expect("the specs directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    files.sort();
    files
}

fn model(file: &str, name: &str) -> CheckedModel {
    let path = format!("{SPECS}/{file}");
    let source = fs::read_to_string(&path).unwrap();
    let checked = specc_lang::check_source(&source)
        .unwrap_or_else(|d| panic!("{path} fails:\n{}", specc_lang::render(&d, &path, &source)));
    checked
        .models
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no model {name} in {path}"))
}

#[test]
fn every_example_checks_and_summarises() {
    let files = spec_files();
    assert!(files.len() >= 8, "expected the example specs, found {files:?}");
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let shown = format!("specs/{name}.spec");
        let source = fs::read_to_string(&path).unwrap();
        let checked = match specc_lang::check_source(&source) {
            Ok(c) => c,
            Err(d) => panic!("{shown} fails:\n{}", specc_lang::render(&d, &shown, &source)),
        };
        assert!(!checked.models.is_empty(), "{shown}: no models");
        let text: String = checked
            .models
            .iter()
            .map(specc_lang::summary::summary)
            .collect::<Vec<_>>()
            .join("\n");
        insta::with_settings!({ snapshot_suffix => name.clone(), description => shown.clone(), omit_expression => true }, {
            insta::assert_snapshot!("summary", text);
        });
    }
}

#[test]
fn mnist_cnn_parameter_counts() {
    let m = model("mnist_cnn.spec", "MnistCnn");
    assert_eq!(m.total_params(), 693_962);
    let counts: Vec<(&str, usize)> = m
        .layers
        .iter()
        .filter(|l| l.params.total() > 0)
        .map(|l| (l.kind_name(), l.params.total()))
        .collect();
    assert_eq!(counts, [("conv2d", 320), ("dense", 692_352), ("dense", 1_290)]);
    assert_eq!(m.input, Shape(vec![1, 28, 28]));
    assert_eq!(m.output, Shape(vec![10]));
    assert_eq!(m.non_trainable_params(), 0);
}

#[test]
fn tf_cnn_parameter_count() {
    let m = model("tf_cnn.spec", "TfCnn");
    assert_eq!(m.total_params(), 225_034);
    assert_eq!(m.output, Shape(vec![10]));
}

#[test]
fn small_resnet_shapes() {
    let m = model("small_resnet.spec", "SmallResNet");
    assert_eq!(m.output, Shape(vec![10]));
    let residuals: Vec<_> = m
        .layers
        .iter()
        .filter(|l| matches!(l.kind, LayerKind::Residual { .. }))
        .collect();
    assert_eq!(residuals.len(), 2);
    let second = m
        .layers
        .iter()
        .find(|l| l.name == "residual_2")
        .expect("a layer named residual_2");
    assert_eq!(second.input, Shape(vec![16, 28, 28]));
    assert_eq!(second.output, Shape(vec![32, 14, 14]));
    let first = m
        .layers
        .iter()
        .find(|l| l.name == "residual_1")
        .expect("a layer named residual_1");
    assert_eq!(first.output, Shape(vec![16, 28, 28]));
    let pool = m
        .layers
        .iter()
        .find(|l| l.kind_name() == "global_avgpool")
        .unwrap();
    assert_eq!(pool.output, Shape(vec![32]));
    assert!(m.schedule.is_some() && m.clip.is_some());
    assert!(m.weight_decay > 0.0);
}

/// Every optimizer, schedule and clip line of the design document checks.
#[test]
fn design_document_settings_check() {
    let optimizers = [
        "sgd(lr = 0.01, momentum = 0.9, nesterov = true)",
        "adagrad(lr = 0.01, eps = 1e-7)",
        "rmsprop(lr = 0.001, rho = 0.9, eps = 1e-7)",
        "adadelta(lr = 1.0, rho = 0.95, eps = 1e-7)",
        "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-7)",
        "adamw(lr = 0.001, weight_decay = 0.01)",
        "adamax(lr = 0.002)",
    ];
    let settings = [
        "schedule step(every = 5, gamma = 0.5);",
        "schedule multistep(at = [30, 60], gamma = 0.1);",
        "schedule exponential(gamma = 0.95);",
        "schedule inverse_time(k = 0.01, power = 1.0);",
        "schedule polynomial(total = 100, power = 1.0);",
        "schedule cosine(total = 100, min_lr = 0.0);",
        "schedule sigmoid(gamma = 0.1, center = 50);",
        "schedule warmup(steps = 500, then = cosine(total = 10000));",
        "schedule plateau(patience = 3, factor = 0.5, min_lr = 1e-6);",
        "clip norm(5.0);",
        "clip value(0.5);",
        "weight_decay 1e-4;",
        "train(epochs = 10, batch = 32, seed = 0, shuffle = true, validation = 0.0);",
    ];
    let mut sources: Vec<String> = optimizers
        .iter()
        .map(|o| format!("model M {{ input [4]; dense(2); loss mse; optimizer {o}; }}"))
        .collect();
    sources.extend(
        settings
            .iter()
            .map(|s| format!("model M {{ input [4]; dense(2); loss mse; optimizer sgd(lr = 0.1); {s} }}")),
    );
    for source in sources {
        if let Err(d) = specc_lang::check_source(&source) {
            panic!("{}", specc_lang::render(&d, "design.spec", &source));
        }
    }
}
