//! `specc_runner`, the program behind `specc train`, on compiled example
//! models: training outputs, reproducibility, resuming, checkpoint
//! validation, non-finite losses, data errors, eval, predict and gradcheck.

use std::path::{Path, PathBuf};

use specc_core::Inference;
use specc_harness::fit::EpochReport;
use specc_runner::{Outcome, RunnerError, run};
use specc_tests::f32::cifar_cnn::CifarCnn;
use specc_tests::f32::digits_mlp::DigitsMlp;
use specc_tests::f32::early_stop_tiny::EarlyStopTiny;
use specc_tests::f32::gray_no_resize::GrayNoResize;
use specc_tests::f32::linear_regression::LinearRegression;
use specc_tests::f32::rgb_tiny::RgbTiny;
use specc_tests::f64::cifar_cnn::CifarCnn as CifarCnn64;
use specc_tests::f64::digits_mlp::DigitsMlp as DigitsMlp64;
use specc_tests::f64::early_stop_tiny::EarlyStopTiny as EarlyStopTiny64;
use specc_tests::f64::gray_no_resize::GrayNoResize as GrayNoResize64;
use specc_tests::f64::linear_regression::LinearRegression as LinearRegression64;
use specc_tests::f64::rgb_tiny::RgbTiny as RgbTiny64;
use specc_train::Model;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("specc-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn digits(list: &[&str]) -> Result<Outcome, RunnerError> {
    run::<DigitsMlp, DigitsMlp64>(&args(list))
}

fn linear(list: &[&str]) -> Result<Outcome, RunnerError> {
    run::<LinearRegression, LinearRegression64>(&args(list))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn train_losses(outcome: &Outcome) -> Vec<(usize, f64, Option<f64>)> {
    match outcome {
        Outcome::Trained { reports, .. } => reports
            .iter()
            .map(|r| (r.epoch, r.train.loss, r.validation.map(|v| v.loss)))
            .collect(),
        other => panic!("expected training, got {other:?}"),
    }
}

fn params(checkpoint: &Path) -> Vec<Vec<f32>> {
    let mut m = DigitsMlp::new(0);
    specc_harness::checkpoint::load(checkpoint, &mut m).unwrap();
    let mut out: Vec<Vec<f32>> = DigitsMlp::TENSORS
        .iter()
        .map(|t| m.tensor(t.name).unwrap().to_vec())
        .collect();
    for slot in DigitsMlp::OPTIMIZER_SLOTS {
        for t in DigitsMlp::TENSORS {
            if let Some(v) = m.optimizer_state(slot, t.name) {
                out.push(v.to_vec());
            }
        }
    }
    out
}

const SMALL: [&str; 6] = ["--samples", "120", "--batch", "16", "--quiet", "--seed"];

fn train_digits(out: &Path, epochs: &str, extra: &[&str]) -> Outcome {
    let mut a = vec!["train", "--out", s(out), "--epochs", epochs];
    a.extend_from_slice(&SMALL);
    a.push("5");
    a.extend_from_slice(extra);
    digits(&a).unwrap()
}

#[test]
fn training_writes_checkpoint_chart_and_history_and_is_reproducible() {
    let dir = temp("train");
    // Thread counts differ between the runs: results do not depend on them
    // (tests/tests/threads.rs checks that kernel by kernel on larger models).
    let a = train_digits(&dir.join("a"), "2", &["--threads", "2"]);
    for f in ["checkpoint.safetensors", "training.svg", "history.csv"] {
        assert!(dir.join("a").join(f).is_file(), "{f} missing");
    }
    assert!(!dir.join("a/.checkpoint.safetensors.tmp").exists());
    let svg = std::fs::read_to_string(dir.join("a/training.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("train loss") && svg.contains("test accuracy"));
    let csv = std::fs::read_to_string(dir.join("a/history.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,train_loss,train_metric,heldout_loss,heldout_metric,lr,samples_per_s"
    );
    assert_eq!(lines.len(), 3);
    assert!(lines[2].starts_with("2,"));

    let b = train_digits(&dir.join("b"), "2", &["--threads", "1"]);
    let (la, lb) = (train_losses(&a), train_losses(&b));
    assert_eq!(la.len(), 2);
    assert_eq!(la, lb, "the same seed gives the same losses");
    assert_eq!(
        params(&dir.join("a/checkpoint.safetensors")),
        params(&dir.join("b/checkpoint.safetensors"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn precision_bf16_trains_reproducibly_and_close_to_f32() {
    let dir = temp("precision");
    let a = train_digits(&dir.join("a"), "2", &["--precision", "bf16", "--threads", "2"]);
    let b = train_digits(&dir.join("b"), "2", &["--precision", "bf16", "--threads", "1"]);
    let f = train_digits(&dir.join("f"), "2", &["--precision", "f32"]);
    assert_eq!(
        train_losses(&a),
        train_losses(&b),
        "bf16 is reproducible across thread counts"
    );
    let checkpoint = |run: &str| params(&dir.join(run).join("checkpoint.safetensors"));
    assert_eq!(checkpoint("a"), checkpoint("b"));
    assert_ne!(
        checkpoint("a"),
        checkpoint("f"),
        "bf16 rounds the products' operands"
    );
    for ((_, bf16, _), (_, f32s, _)) in train_losses(&a).iter().zip(&train_losses(&f)) {
        assert!(
            (bf16 - f32s).abs() <= 0.02 * f32s.abs(),
            "bf16 loss {bf16} vs f32 {f32s}"
        );
    }
    let err = digits(&["train", "--precision", "bf8"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("bf16"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_continues_exactly_where_an_uninterrupted_run_would_be() {
    let dir = temp("resume");
    let full = train_digits(&dir.join("full"), "2", &[]);
    train_digits(&dir.join("part"), "1", &[]);
    let ckpt = dir.join("part/checkpoint.safetensors");
    let resume = [
        "train",
        "--resume",
        s(&ckpt),
        "--epochs",
        "2",
        "--samples",
        "120",
        "--quiet",
    ];
    let resumed = digits(&resume).unwrap();
    let r = train_losses(&resumed);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, 2, "resumed at epoch 2");
    assert_eq!(r[0], train_losses(&full)[1]);
    assert_eq!(params(&ckpt), params(&dir.join("full/checkpoint.safetensors")));
    let csv = std::fs::read_to_string(dir.join("part/history.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "history keeps epoch 1 and adds epoch 2:\n{csv}"
    );
    // Nothing left to do.
    let err = digits(&resume).unwrap_err();
    assert!(err.to_string().contains("--epochs"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rewrites a checkpoint with one tensor changed by `edit` (None drops it).
fn rewrite(
    from: &Path,
    to: &Path,
    name: &str,
    edit: impl Fn(&[usize], &[u8]) -> Option<(Vec<usize>, Vec<u8>)>,
) {
    use specc_harness::safetensors::tensor::{Dtype, TensorView};
    let bytes = std::fs::read(from).unwrap();
    let st = specc_harness::safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = specc_harness::safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (n, v) in st.tensors() {
        if n == name {
            if let Some((shape, data)) = edit(v.shape(), v.data()) {
                owned.push((n, shape, data));
            }
        } else {
            owned.push((n, v.shape().to_vec(), v.data().to_vec()));
        }
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, sh, d)| (n.clone(), TensorView::new(Dtype::F32, sh.clone(), d).unwrap()))
        .collect();
    let out = specc_harness::safetensors::serialize(views, meta.metadata().clone()).unwrap();
    std::fs::write(to, out).unwrap();
}

#[test]
fn bad_checkpoints_are_rejected_with_the_tensor_or_file_named() {
    let dir = temp("badckpt");
    train_digits(&dir, "1", &[]);
    let good = dir.join("checkpoint.safetensors");
    let first = DigitsMlp::TENSORS[0];

    let missing = dir.join("missing.safetensors");
    rewrite(&good, &missing, first.name, |_, _| None);
    let err = digits(&["eval", "--weights", s(&missing), "--samples", "60"]).unwrap_err();
    assert!(
        err.to_string().contains(first.name) && err.to_string().contains("missing"),
        "{err}"
    );

    let shape = dir.join("shape.safetensors");
    rewrite(&good, &shape, first.name, |sh, d| {
        Some((vec![sh.iter().product::<usize>()], d.to_vec()))
    });
    let err = digits(&["eval", "--weights", s(&shape), "--samples", "60"]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(first.name) && msg.contains("shape"), "{msg}");

    let extra = dir.join("extra.safetensors");
    rewrite(&good, &extra, first.name, |sh, d| Some((sh.to_vec(), d.to_vec())));
    // Add an unknown tensor by renaming through a second rewrite.
    {
        use specc_harness::safetensors::tensor::{Dtype, TensorView};
        let bytes = std::fs::read(&extra).unwrap();
        let st = specc_harness::safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let (_, meta) = specc_harness::safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let mut views: Vec<(String, TensorView<'_>)> = st.tensors();
        let one = [0u8; 4];
        views.push((
            "surprise.weight".into(),
            TensorView::new(Dtype::F32, vec![1], &one).unwrap(),
        ));
        std::fs::write(
            &extra,
            specc_harness::safetensors::serialize(views, meta.metadata().clone()).unwrap(),
        )
        .unwrap();
    }
    let err = digits(&["eval", "--weights", s(&extra), "--samples", "60"]).unwrap_err();
    assert!(err.to_string().contains("surprise.weight"), "{err}");

    let truncated = dir.join("truncated.safetensors");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = digits(&["eval", "--weights", s(&truncated), "--samples", "60"]).unwrap_err();
    assert!(err.to_string().contains("truncated.safetensors"), "{err}");

    let err = linear(&["eval", "--weights", s(&good)]).unwrap_err();
    assert!(err.to_string().contains("DigitsMlp"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint() {
    let dir = temp("nan");
    let out = s(&dir);
    linear(&[
        "train",
        "--out",
        out,
        "--epochs",
        "1",
        "--samples",
        "200",
        "--quiet",
    ])
    .unwrap();
    let ckpt = dir.join("checkpoint.safetensors");
    let before = std::fs::read(&ckpt).unwrap();
    let err = linear(&[
        "train",
        "--out",
        out,
        "--epochs",
        "3",
        "--samples",
        "200",
        "--lr",
        "1e30",
        "--quiet",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RunnerError::NonFinite { .. }), "{msg}");
    assert!(msg.contains("epoch 1, step"), "{msg}");
    // The file in --out is an earlier run's: this run wrote none to name.
    assert!(msg.contains("no checkpoint was written"), "{msg}");
    assert_eq!(
        std::fs::read(&ckpt).unwrap(),
        before,
        "the checkpoint is untouched"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn csv_training_eval_predict_and_errors() {
    let dir = temp("csv");
    // y = 2x + 3 with a header row.
    let mut text = String::from("x,y\n");
    for i in 0..50 {
        let x = i as f32 / 25.0 - 1.0;
        text += &format!("{x},{}\n", 2.0 * x + 3.0);
    }
    let data = dir.join("line.csv");
    std::fs::write(&data, &text).unwrap();
    let spec = format!("csv:{}", s(&data));
    let out = dir.join("run");
    linear(&[
        "train",
        "--data",
        &spec,
        "--out",
        s(&out),
        "--epochs",
        "2",
        "--lr",
        "0.1",
        "--quiet",
    ])
    .unwrap();
    let ckpt = out.join("checkpoint.safetensors");
    let loaded = match linear(&["eval", "--weights", s(&ckpt), "--data", &spec]).unwrap() {
        Outcome::Evaluated(m) => m,
        other => panic!("{other:?}"),
    };
    assert!(loaded.loss.is_finite() && loaded.mean_absolute_error.is_some());
    // Streamed from the file, training and evaluation are the same to the bit.
    let streamed = dir.join("streamed");
    for (o, extra) in [(&streamed, "--stream"), (&dir.join("capped"), "--samples=30")] {
        linear(&[
            "train",
            "--data",
            &spec,
            "--out",
            s(o),
            "--epochs",
            "2",
            "--lr",
            "0.1",
            "--quiet",
            extra,
        ])
        .unwrap();
    }
    assert_eq!(
        std::fs::read(streamed.join("checkpoint.safetensors")).unwrap(),
        std::fs::read(&ckpt).unwrap()
    );
    match linear(&["eval", "--weights", s(&ckpt), "--data", &spec, "--stream"]).unwrap() {
        Outcome::Evaluated(m) => assert_eq!(m, loaded),
        other => panic!("{other:?}"),
    }
    let capped = dir.join("capped-streamed");
    linear(&[
        "train",
        "--data",
        &spec,
        "--out",
        s(&capped),
        "--epochs",
        "2",
        "--lr",
        "0.1",
        "--quiet",
        "--stream",
        "--samples",
        "30",
    ])
    .unwrap();
    assert_eq!(
        std::fs::read(capped.join("checkpoint.safetensors")).unwrap(),
        std::fs::read(dir.join("capped/checkpoint.safetensors")).unwrap()
    );
    let inputs = dir.join("x.csv");
    std::fs::write(&inputs, "0.5\n-0.5\n1\n").unwrap();
    match linear(&["predict", "--weights", s(&ckpt), s(&inputs)]).unwrap() {
        Outcome::Predicted(p) => {
            assert_eq!(p.len(), 3);
            assert!(p.iter().all(|p| p.class.is_none() && p.values.len() == 1));
        }
        other => panic!("{other:?}"),
    }
    let wide = dir.join("wide.csv");
    std::fs::write(&wide, "1,2\n").unwrap();
    let err = linear(&["predict", "--weights", s(&ckpt), s(&wide)]).unwrap_err();
    assert!(
        err.to_string().contains("wide.csv:1") && err.to_string().contains("2 values"),
        "{err}"
    );

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "x,y\n1,5\n2,oops\n").unwrap();
    let err = linear(&[
        "train",
        "--data",
        &format!("csv:{}", s(&bad)),
        "--out",
        s(&out),
        "--quiet",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("bad.csv") && msg.contains('3') && msg.contains("oops"),
        "{msg}"
    );

    let huge = dir.join("huge.csv");
    std::fs::write(&huge, "1e30,1e30\n-1e30,-1e30\n2e30,3e30\n").unwrap();
    let huge_out = dir.join("huge");
    let err = linear(&[
        "train",
        "--data",
        &format!("csv:{}", s(&huge)),
        "--out",
        s(&huge_out),
        "--quiet",
    ])
    .unwrap_err();
    assert!(err.to_string().contains("epoch 1, step 1"), "{err}");
    assert!(!huge_out.join("checkpoint.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn classifier_eval_and_predict_from_csv_and_idx() {
    let dir = temp("predict");
    train_digits(&dir, "1", &[]);
    let ckpt = dir.join("checkpoint.safetensors");
    match digits(&["eval", "--weights", s(&ckpt), "--samples", "120"]).unwrap() {
        Outcome::Evaluated(m) => assert!(m.accuracy.is_some()),
        other => panic!("{other:?}"),
    }
    let row: Vec<String> = (0..64).map(|i| format!("{}", (i % 17) as f32 / 16.0)).collect();
    let csv = dir.join("rows.csv");
    std::fs::write(&csv, format!("{}\n{}\n", row.join(","), row.join(","))).unwrap();
    // An IDX file of two 8x8 images.
    let mut idx = vec![0u8, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 8, 0, 0, 0, 8];
    idx.extend((0..128).map(|i| (i * 2) as u8));
    let images = dir.join("images-idx3-ubyte");
    std::fs::write(&images, idx).unwrap();
    match digits(&["predict", "--weights", s(&ckpt), s(&csv), s(&images)]).unwrap() {
        Outcome::Predicted(p) => {
            assert_eq!(p.len(), 4);
            for p in &p {
                assert!(p.class.unwrap() < 10);
                let sum: f32 = p.values.iter().sum();
                assert!((sum - 1.0).abs() < 1e-3 && p.probability.unwrap() > 0.0);
            }
        }
        other => panic!("{other:?}"),
    }
    let err = linear(&["predict", "--weights", s(&ckpt), s(&csv)]).unwrap_err();
    assert!(err.to_string().contains("DigitsMlp"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_and_bad_data_sources() {
    let err = digits(&["train", "--epochs", "many"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = digits(&["fly"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = digits(&["train", "--threads", "0"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("--threads") && err.to_string().contains("1..=64"),
        "{err}"
    );
    let err = digits(&["train", "--data", "parquet:x"]).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let err = digits(&["train", "--data", "mnist:/nonexistent-specc-dir", "--quiet"]).unwrap_err();
    assert!(err.to_string().contains("nonexistent-specc-dir"), "{err}");
    assert!(matches!(digits(&["--help"]).unwrap(), Outcome::Help(_)));
}

#[test]
fn gradcheck_passes_for_the_example_models() {
    use specc_tests::{f32 as a, f64 as b};
    let run_check = |r: Result<Outcome, RunnerError>| match r.unwrap() {
        Outcome::GradChecked(c) => assert!(!c.is_empty()),
        other => panic!("{other:?}"),
    };
    run_check(run::<a::mlp::Mlp, b::mlp::Mlp>(&args(&[
        "gradcheck",
        "--batch",
        "1",
    ])));
    run_check(run::<a::mnist_cnn::MnistCnn, b::mnist_cnn::MnistCnn>(&args(&[
        "gradcheck",
        "--batch",
        "1",
    ])));
    run_check(run::<DigitsMlp, DigitsMlp64>(&args(&[
        "gradcheck",
        "--batch",
        "2",
    ])));
}

#[test]
fn kernels_list_every_dense_and_conv2d_layer_with_its_shapes() {
    use specc_core::LayerKernel;
    use specc_core::conv::Conv2dShape;
    use specc_tests::f32::mnist_cnn::MnistCnn;
    use specc_tests::f32::small_res_net::SmallResNet;

    let conv = Conv2dShape {
        channels: 1,
        height: 28,
        width: 28,
        filters: 32,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        pad_top: 0,
        pad_left: 0,
        out_h: 26,
        out_w: 26,
    };
    assert_eq!(
        MnistCnn::KERNELS,
        [
            // Reads the model's input: no input gradient.
            LayerKernel::Conv2d {
                name: "conv2d_1",
                shape: conv,
                input_gradient: false,
            },
            LayerKernel::Dense {
                name: "dense_1",
                inputs: 32 * 13 * 13,
                units: 128,
                input_gradient: true,
            },
            LayerKernel::Dense {
                name: "dense_2",
                inputs: 128,
                units: 10,
                input_gradient: true,
            },
        ]
    );

    // Layers inside residual blocks (bodies and shortcuts) count too, in the
    // spec's order.
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../specs/small_resnet.spec")).unwrap();
    let file = specc_lang::check_source(&source).unwrap();
    let expected: Vec<&str> = file.models[0]
        .all_layers()
        .into_iter()
        .filter(|l| {
            matches!(
                l.kind,
                specc_lang::LayerKind::Dense(_) | specc_lang::LayerKind::Conv2d(_)
            )
        })
        .map(|l| l.name.as_str())
        .collect();
    let names: Vec<&str> = SmallResNet::KERNELS.iter().map(|k| k.name()).collect();
    assert_eq!(names, expected);
    assert_eq!(names.len(), 7);
    let gradients: Vec<bool> = SmallResNet::KERNELS.iter().map(|k| k.input_gradient()).collect();
    assert_eq!(gradients, [false, true, true, true, true, true, true]);
    let LayerKernel::Conv2d { shape, .. } = SmallResNet::KERNELS[5] else {
        panic!("{:?}", SmallResNet::KERNELS[5])
    };
    // The 1x1 stride-2 shortcut of the second block.
    assert_eq!(
        (
            shape.kernel_h,
            shape.stride_h,
            shape.channels,
            shape.filters,
            shape.out_h
        ),
        (1, 2, 16, 32, 14)
    );
}

#[test]
fn bench_times_each_pass_of_each_layer() {
    use specc_runner::bench::{Pass, layer_kernels};
    use specc_tests::f32::mnist_cnn::MnistCnn;

    let figures = layer_kernels(MnistCnn::KERNELS, 2, std::time::Duration::ZERO);
    let rows: Vec<(&str, Pass, &str)> = figures
        .iter()
        .map(|f| (f.layer, f.pass, f.shape.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("conv2d_1", Pass::Forward, "2 x [32x9x676]"),
            ("conv2d_1", Pass::InputGradient, "-"),
            ("conv2d_1", Pass::WeightGradient, "2 x [32x676x9]"),
            ("dense_1", Pass::Forward, "2x5408x128"),
            ("dense_1", Pass::InputGradient, "2x128x5408"),
            ("dense_1", Pass::WeightGradient, "128x2x5408"),
            ("dense_2", Pass::Forward, "2x128x10"),
            ("dense_2", Pass::InputGradient, "2x10x128"),
            ("dense_2", Pass::WeightGradient, "10x2x128"),
        ]
    );
    for f in &figures {
        if (f.layer, f.pass) == ("conv2d_1", Pass::InputGradient) {
            assert_eq!((f.gflops, f.flops), (None, 0));
        } else {
            assert!(f.gflops.is_some_and(|g| g > 0.0 && g.is_finite()), "{f:?}");
            assert!(f.flops > 0, "{f:?}");
        }
    }
    assert_eq!(figures[0].flops, 2 * 32 * 9 * 676 * 2);
    assert_eq!(figures[3].flops, 2 * 2 * 5408 * 128);
}

#[test]
fn a_diverging_loss_stops_training_like_a_nan_and_names_this_runs_checkpoint() {
    let dir = temp("diverge");
    let out = s(&dir);
    // At lr 1000 the MSE of the linear regression grows by orders of magnitude
    // per step while staying finite for a while: the divergence rule stops it
    // in the first epoch, before any checkpoint.
    let err = linear(&[
        "train",
        "--out",
        out,
        "--epochs",
        "3",
        "--samples",
        "200",
        "--lr",
        "1000",
        "--quiet",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RunnerError::NonFinite { .. }), "{msg}");
    assert!(
        msg.contains("training diverged") && msg.contains("at epoch 1"),
        "{msg}"
    );
    assert!(msg.contains("no checkpoint was written"), "{msg}");
    assert!(!dir.join("checkpoint.safetensors").exists());
    // A run that wrote a checkpoint, then diverges on resume, names that file.
    linear(&[
        "train",
        "--out",
        out,
        "--epochs",
        "1",
        "--samples",
        "200",
        "--quiet",
    ])
    .unwrap();
    let ckpt = dir.join("checkpoint.safetensors");
    let err = linear(&[
        "train",
        "--resume",
        s(&ckpt),
        "--epochs",
        "3",
        "--samples",
        "200",
        "--lr",
        "1000",
        "--quiet",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("the last good checkpoint is kept at {}", ckpt.display())),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checkpoints_are_byte_identical_between_identical_runs() {
    let dir = temp("bytes");
    train_digits(&dir.join("a"), "1", &[]);
    train_digits(&dir.join("b"), "1", &["--threads", "1"]);
    let a = std::fs::read(dir.join("a/checkpoint.safetensors")).unwrap();
    let b = std::fs::read(dir.join("b/checkpoint.safetensors")).unwrap();
    assert!(a == b, "the two checkpoints differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rewrites a checkpoint with one metadata entry set to `value` (None removes it).
fn rewrite_metadata(from: &Path, to: &Path, key: &str, value: Option<&str>) {
    use specc_harness::safetensors::tensor::TensorView;
    let bytes = std::fs::read(from).unwrap();
    let st = specc_harness::safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (_, meta) = specc_harness::safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let mut metadata = meta.metadata().clone().unwrap();
    match value {
        Some(v) => metadata.insert(key.to_string(), v.to_string()),
        None => metadata.remove(key),
    };
    let views: Vec<(String, TensorView<'_>)> = st.tensors();
    std::fs::write(
        to,
        specc_harness::safetensors::serialize(views, Some(metadata)).unwrap(),
    )
    .unwrap();
}

#[test]
fn checkpoint_metadata_is_validated_field_by_field() {
    let dir = temp("meta");
    train_digits(&dir, "1", &[]);
    let good = dir.join("checkpoint.safetensors");
    let edited = dir.join("edited.safetensors");
    for (key, value, why) in [
        ("base_learning_rate", Some("-0.5"), "a positive finite number"),
        ("base_learning_rate", Some("1e-46"), "a positive finite number"),
        ("learning_rate", Some("inf"), "a finite number"),
        ("batch", Some("0"), "at least 1"),
        ("epoch", Some("-1"), "not a whole number"),
        ("steps", Some("many"), "not a whole number"),
        (
            "format",
            Some("specc-checkpoint-99"),
            "this specc reads `specc-checkpoint-1`",
        ),
        ("format", None, "no `format` entry"),
        ("monitored_losses", Some("nan,inf"), "not a finite loss"),
        ("monitored_losses", Some("1,2,3"), "3 losses for 1 epochs"),
        (
            "reference_loss",
            Some("nan"),
            "metadata `reference_loss` is `nan`: it is not a finite loss",
        ),
    ] {
        rewrite_metadata(&good, &edited, key, value);
        let err = digits(&[
            "train",
            "--resume",
            s(&edited),
            "--epochs",
            "2",
            "--samples",
            "120",
            "--quiet",
        ])
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("edited.safetensors"), "{key}={value:?}: {msg}");
        assert!(
            msg.contains(&format!("`{key}`")) && msg.contains(why),
            "{key}={value:?}: {msg}"
        );
        assert!(!msg.contains("--batch"), "{key}={value:?}: {msg}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn evaluation_that_overflows_is_an_error() {
    let dir = temp("overflow");
    train_digits(&dir, "1", &[]);
    let good = dir.join("checkpoint.safetensors");
    let huge = dir.join("huge.safetensors");
    let first = DigitsMlp::TENSORS[0];
    rewrite(&good, &huge, first.name, |sh, d| {
        Some((
            sh.to_vec(),
            d.chunks(4).flat_map(|_| 3e38f32.to_le_bytes()).collect(),
        ))
    });
    let err = digits(&["eval", "--weights", s(&huge), "--samples", "60"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("huge.safetensors") && msg.contains("overflow"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn out_must_be_a_directory_and_other_models_checkpoints_are_not_overwritten() {
    let dir = temp("outdir");
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let err = digits(&[
        "train",
        "--out",
        s(&file),
        "--epochs",
        "1",
        "--samples",
        "60",
        "--quiet",
    ])
    .unwrap_err();
    assert!(err.to_string().contains("is a file, not a directory"), "{err}");
    train_digits(&dir.join("digits"), "1", &[]);
    let before = std::fs::read(dir.join("digits/checkpoint.safetensors")).unwrap();
    let err = linear(&[
        "train",
        "--out",
        s(&dir.join("digits")),
        "--epochs",
        "1",
        "--quiet",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("checkpoint of model `DigitsMlp`") && msg.contains("LinearRegression"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(dir.join("digits/checkpoint.safetensors")).unwrap(),
        before
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn counts_and_rates_on_the_command_line_are_checked() {
    for (argv, needle) in [
        (&["train", "--samples", "0"][..], "at least 1, not `0`"),
        (&["train", "--epochs", "0"][..], "at least 1, not `0`"),
        (&["train", "--epochs", "-1"][..], "at least 1, not `-1`"),
        (&["train", "--batch", "0"][..], "at least 1, not `0`"),
        (&["train", "--lr", "1e-46"][..], "is 0 in f32"),
        (&["train", "--lr", "-1"][..], "must be a positive number"),
        (&["eval", "--weights", "x", "--samples", "0"][..], "at least 1"),
        (&["gradcheck", "--batch", "0"][..], "at least 1"),
        (&["bench", "--seconds", "NaN"][..], "more than 0"),
        (&["bench", "--seconds", "inf"][..], "more than 0"),
        (&["bench", "--seconds", "-1"][..], "more than 0"),
    ] {
        let err = digits(argv).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{argv:?}: {err}");
        assert!(err.to_string().contains(needle), "{argv:?}: {err}");
    }
}

#[test]
fn training_beyond_the_memory_limit_is_refused_before_anything_is_allocated() {
    let err = digits(&["train", "--max-memory", "1000", "--quiet"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("training DigitsMlp at batch 32 needs about") && msg.contains("--max-memory"),
        "{msg}"
    );
    // A trillion synthetic samples would need terabytes: refused, not an abort.
    let err = digits(&["train", "--samples", "1000000000000", "--quiet"]).unwrap_err();
    assert!(
        err.to_string()
            .contains("synthetic samples for DigitsMlp needs about"),
        "{err}"
    );
    let err = digits(&["train", "--batch", "100000000000", "--quiet"]).unwrap_err();
    assert!(
        err.to_string().contains("at batch 100000000000 needs about"),
        "{err}"
    );
    let err = digits(&["eval", "--weights", "x", "--max-memory", "1000"]).unwrap_err();
    assert!(err.to_string().contains("evaluating DigitsMlp"), "{err}");
    let err = digits(&["train", "--max-memory", "lots"]).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
}

fn rgb(list: &[&str]) -> Result<Outcome, RunnerError> {
    run::<RgbTiny, RgbTiny64>(&args(list))
}

/// An 8 x 8 (or `side` x `side`) picture of class `class`: red, green or
/// blue, brighter to the right, with `i` varying the brightness.
fn picture(class: usize, i: usize, side: u32) -> image::RgbImage {
    image::RgbImage::from_fn(side, side, |x, _| {
        let mut p = [20u8; 3];
        p[class] = (120 + 10 * x + 5 * i as u32).min(255) as u8;
        image::Rgb(p)
    })
}

/// `root/<class>/<i>.<ext>` for three classes, `n` pictures each, in PNG,
/// with one JPEG, one BMP and one 12 x 12 file (resized) per class.
fn image_folder(root: &Path, n: usize) {
    for (c, class) in ["blue", "green", "red"].iter().enumerate() {
        // Labels follow the sorted folder names: blue 0, green 1, red 2;
        // the colour channel is 2 - label.
        let dir = root.join(class);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            let (ext, side) = match i {
                0 => ("jpg", 8),
                1 => ("bmp", 8),
                2 => ("png", 12),
                _ => ("png", 8),
            };
            picture(2 - c, i, side)
                .save(dir.join(format!("{i}.{ext}")))
                .unwrap();
        }
    }
}

#[test]
fn image_folders_train_evaluate_per_class_and_predict_with_class_names() {
    let dir = temp("image-folder");
    let data = dir.join("data");
    image_folder(&data.join("train"), 8);
    image_folder(&data.join("test"), 4);
    let spec = format!("images:{}", s(&data));
    let out = dir.join("run");
    let outcome = rgb(&[
        "train",
        "--data",
        &spec,
        "--out",
        s(&out),
        "--epochs",
        "20",
        "--quiet",
    ])
    .unwrap();
    let Outcome::Trained { reports, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    let last = reports.last().unwrap().validation.unwrap();
    assert_eq!(last.accuracy, Some(1.0), "{reports:?}");
    let ckpt = out.join("checkpoint.safetensors");
    let mut m = RgbTiny::new(0);
    let meta = specc_harness::checkpoint::load(&ckpt, &mut m).unwrap();
    assert_eq!(meta.class_names, ["blue", "green", "red"]);

    let eval_out = dir.join("eval");
    match rgb(&[
        "eval",
        "--weights",
        s(&ckpt),
        "--data",
        &spec,
        "--out",
        s(&eval_out),
    ])
    .unwrap()
    {
        Outcome::Evaluated(m) => assert_eq!(m.accuracy, Some(1.0)),
        other => panic!("{other:?}"),
    }
    let matrix = std::fs::read_to_string(eval_out.join("confusion.csv")).unwrap();
    assert_eq!(
        matrix,
        "actual\\predicted,blue,green,red\nblue,4,0,0\ngreen,0,4,0\nred,0,0,4\n"
    );
    let scores = std::fs::read_to_string(eval_out.join("classes.csv")).unwrap();
    assert!(
        scores.contains("\n2,red,4,1.000000,1.000000,1.000000\n"),
        "{scores}"
    );
    let svg = std::fs::read_to_string(eval_out.join("confusion.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains(">green</text>"));

    // Augmented training is the same for every thread count; streamed from
    // the files, a few batches ahead of the steps, it is the same run to the
    // bit on one thread and on two.
    let checkpoint_of = |name: &str, threads: &str, extra: &[&str]| {
        let o = dir.join(name);
        let mut argv = vec![
            "train",
            "--threads",
            threads,
            "--data",
            &spec,
            "--out",
            s(&o),
            "--epochs",
            "2",
            "--quiet",
        ];
        argv.extend_from_slice(extra);
        rgb(&argv).unwrap();
        std::fs::read(o.join("checkpoint.safetensors")).unwrap()
    };
    let one = checkpoint_of("threads-1", "1", &[]);
    assert_eq!(checkpoint_of("threads-2", "2", &[]), one);
    assert_eq!(checkpoint_of("streamed-1", "1", &["--stream"]), one);
    assert_eq!(checkpoint_of("streamed-2", "2", &["--stream"]), one);

    // Without a test/ split, capped to 18 images over the three classes.
    let train_only = format!("images:{}", s(&data.join("train")));
    let runs: Vec<(Vec<u8>, Vec<EpochReport>)> = [&[][..], &["--stream"]]
        .iter()
        .enumerate()
        .map(|(i, stream)| {
            let o = dir.join(format!("split-{i}"));
            let mut argv = vec![
                "train",
                "--data",
                &train_only,
                "--out",
                s(&o),
                "--epochs",
                "2",
                "--quiet",
                "--samples",
                "18",
            ];
            argv.extend_from_slice(stream);
            let outcome = rgb(&argv).unwrap();
            let Outcome::Trained { reports, .. } = outcome else {
                panic!()
            };
            (std::fs::read(o.join("checkpoint.safetensors")).unwrap(), reports)
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0);
    let strip = |r: &[EpochReport]| r.iter().map(|r| (r.train, r.validation)).collect::<Vec<_>>();
    assert_eq!(strip(&runs[0].1), strip(&runs[1].1));

    // Image files straight into predict, the 12 x 12 one resized.
    let files = [data.join("test/red/3.png"), data.join("test/blue/2.png")];
    match rgb(&["predict", "--weights", s(&ckpt), s(&files[0]), s(&files[1])]).unwrap() {
        Outcome::Predicted(p) => {
            assert_eq!(p.iter().map(|p| p.class).collect::<Vec<_>>(), [Some(2), Some(0)]);
        }
        other => panic!("{other:?}"),
    }

    // A corrupt file is named, and nothing trains.
    let bad = data.join("train/green/5.png");
    let png = std::fs::read(&bad).unwrap();
    std::fs::write(&bad, &png[..png.len() - 20]).unwrap();
    let err = rgb(&["train", "--data", &spec, "--out", s(&dir.join("bad")), "--quiet"]).unwrap_err();
    assert!(err.to_string().contains("green/5.png"), "{err}");
    assert!(!dir.join("bad/checkpoint.safetensors").exists());
    // Streamed, it is found when its batch is read: the epoch stops there.
    let err = rgb(&[
        "train",
        "--data",
        &spec,
        "--out",
        s(&dir.join("bad")),
        "--quiet",
        "--stream",
    ])
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("reading the data failed in epoch 1") && msg.contains("green/5.png"),
        "{msg}"
    );
    assert!(!dir.join("bad/checkpoint.safetensors").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_image_of_another_size_is_refused_when_the_spec_says_resize_none() {
    let dir = temp("image-no-resize");
    let data = dir.join("data");
    for (class, side) in [("a", 6), ("b", 6)] {
        std::fs::create_dir_all(data.join(class)).unwrap();
        for i in 0..4 {
            image::GrayImage::from_pixel(side, side, image::Luma([40 * i as u8]))
                .save(data.join(format!("{class}/{i}.png")))
                .unwrap();
        }
    }
    let spec = format!("images:{}", s(&data));
    let gray = |list: &[&str]| run::<GrayNoResize, GrayNoResize64>(&args(list));
    // No test/ folder: the spec's validation split (a quarter) is held out.
    let runs: Vec<_> = ["--samples=100", "--stream"]
        .iter()
        .map(|how| {
            match gray(&[
                "train",
                "--data",
                &spec,
                "--out",
                s(&dir.join(how)),
                "--quiet",
                how,
            ])
            .unwrap()
            {
                Outcome::Trained { reports, .. } => reports,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    assert!(runs[0][0].validation.is_some());
    // Streamed, the split and every metric are the same.
    let strip = |r: &[EpochReport]| r.iter().map(|r| (r.train, r.validation)).collect::<Vec<_>>();
    assert_eq!(strip(&runs[0]), strip(&runs[1]));
    image::GrayImage::new(7, 6).save(data.join("b/9.png")).unwrap();
    let err = gray(&["train", "--data", &spec, "--out", s(&dir.join("run2")), "--quiet"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("b/9.png") && msg.contains("7 x 6 pixels") && msg.contains("resize = none"),
        "{msg}"
    );
    // A model whose input is not an image is told so.
    let err = digits(&["train", "--data", &spec, "--quiet"]).unwrap_err();
    assert!(err.to_string().contains("[1, H, W]"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cifar_files_train_and_bad_records_are_placed() {
    let dir = temp("cifar");
    let data = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&data).unwrap();
    // Records whose class is the brightness of the image.
    let record = |label: u8| {
        let mut r = vec![label];
        r.extend(std::iter::repeat_n(25 * label, 3072));
        r
    };
    for name in (1..=5)
        .map(|i| format!("data_batch_{i}.bin"))
        .chain(["test_batch.bin".into()])
    {
        let bytes: Vec<u8> = (0..10u8).flat_map(record).collect();
        std::fs::write(data.join(name), bytes).unwrap();
    }
    let spec = format!("cifar:{}", s(&dir));
    let cifar = |list: &[&str]| run::<CifarCnn, CifarCnn64>(&args(list));
    let out = dir.join("run");
    match cifar(&[
        "train",
        "--data",
        &spec,
        "--out",
        s(&out),
        "--epochs",
        "1",
        "--batch",
        "10",
        "--quiet",
    ])
    .unwrap()
    {
        Outcome::Trained { reports, .. } => assert!(reports[0].validation.is_some()),
        other => panic!("{other:?}"),
    }
    let mut m = CifarCnn::new(0);
    let meta = specc_harness::checkpoint::load(&out.join("checkpoint.safetensors"), &mut m).unwrap();
    assert_eq!(meta.class_names[0], "airplane");
    // An RGB model of another size is told the shapes.
    let err = rgb(&["train", "--data", &spec, "--quiet"]).unwrap_err();
    assert!(err.to_string().contains("[3, 32, 32]"), "{err}");
    // A truncated batch names the file and the record.
    let short: Vec<u8> = (0..3u8).flat_map(record).take(3 * 3073 - 5).collect();
    std::fs::write(data.join("data_batch_3.bin"), short).unwrap();
    let err = cifar(&["train", "--data", &spec, "--quiet"]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("data_batch_3.bin")
            && msg.contains("record 2 (at byte 6146) has 3068 of its 3073 bytes"),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn early_stopping_keeps_the_best_epoch_and_a_stopped_run_does_not_resume() {
    let stopper = |list: &[&str]| run::<EarlyStopTiny, EarlyStopTiny64>(&args(list));
    let dir = temp("early-stop");
    let out = dir.join("run");
    let reports = match stopper(&["train", "--out", s(&out), "--quiet", "--samples", "400"]).unwrap() {
        Outcome::Trained { reports, .. } => reports,
        other => panic!("{other:?}"),
    };
    let best: Vec<usize> = reports.iter().filter(|r| r.best).map(|r| r.epoch).collect();
    let last_best = *best.last().unwrap();
    assert_eq!(best[0], 1, "the first epoch is the first best");
    // Stopped two epochs (the patience) after the best, well before 60.
    assert_eq!(reports.len(), last_best + 2, "{best:?}");
    assert!(best.len() >= 3 && reports.len() < 60, "{best:?}");
    // Each best epoch improved the validation loss by more than min_delta.
    let val = |e: usize| reports[e - 1].validation.unwrap().loss;
    for w in best.windows(2) {
        assert!(val(w[1]) < val(w[0]) - 0.005, "{best:?}");
    }
    // best.safetensors is the model after the best epoch: a run of exactly
    // that many epochs ends with the same bytes.
    let again = dir.join("again");
    let epochs = last_best.to_string();
    stopper(&[
        "train",
        "--out",
        s(&again),
        "--quiet",
        "--samples",
        "400",
        "--epochs",
        &epochs,
    ])
    .unwrap();
    assert_eq!(
        std::fs::read(out.join("best.safetensors")).unwrap(),
        std::fs::read(again.join("checkpoint.safetensors")).unwrap()
    );
    let mut m = EarlyStopTiny::new(0);
    let meta = specc_harness::checkpoint::load(&out.join("checkpoint.safetensors"), &mut m).unwrap();
    assert_eq!(meta.progress.best.map(|b| b.0), Some(last_best));
    // The stopped run has nothing left to resume.
    let ckpt = out.join("checkpoint.safetensors");
    let err = stopper(&["train", "--resume", s(&ckpt), "--epochs", "60", "--quiet"]).unwrap_err();
    assert!(err.to_string().contains("stopped early"), "{err}");
    // A resumed run that had not stopped goes on to stop where the whole run did.
    let part = dir.join("part");
    stopper(&[
        "train",
        "--out",
        s(&part),
        "--quiet",
        "--samples",
        "400",
        "--epochs",
        "1",
    ])
    .unwrap();
    let resumed = match stopper(&[
        "train",
        "--resume",
        s(&part.join("checkpoint.safetensors")),
        "--epochs",
        "60",
        "--samples",
        "400",
        "--quiet",
    ])
    .unwrap()
    {
        Outcome::Trained { reports, .. } => reports,
        other => panic!("{other:?}"),
    };
    assert_eq!(resumed.last().unwrap().epoch, reports.len());
    assert_eq!(
        std::fs::read(part.join("best.safetensors")).unwrap(),
        std::fs::read(out.join("best.safetensors")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
