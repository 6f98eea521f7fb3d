//! `specc export` for every spec in `specs/`: the exported crate and its C
//! ABI build, a C program compiled with gcc against the staticlib and the
//! header prints, for random inputs, what the runtime predicts (the code
//! `specc predict` runs) with the kernels the export runs, bit for bit,
//! and refuses misuse with its error codes; and the ONNX export, run in
//! onnxruntime, gives the runtime's outputs within 1e-5.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use specc_core::simd::{KernelKind, with_kernel};
use specc_harness::checkpoint::Checkpoint;
use specc_tests::f32 as m;
use specc_tests::support::random_batch;
use specc_train::Model;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
}

/// The outputs a program printed under `label`, one row per sample.
fn rows(text: &str, label: &str) -> Vec<Vec<f32>> {
    text.lines()
        .filter_map(|l| l.strip_prefix(label))
        .map(|l| {
            let (_, values) = l.split_once(": ").expect("`label i: values`");
            values.split(' ').map(|v| v.parse().expect("a float")).collect()
        })
        .collect()
}

/// A temporary directory holding `weights.safetensors`, a checkpoint of a
/// model of type `M` with the random weights of `seed`, and the model.
fn saved<M: Model<F = f32>>(what: &str, seed: u64) -> (PathBuf, M) {
    let dir = std::env::temp_dir().join(format!("specc-{what}-{}-{}", M::MODULE, std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let model = M::new(seed);
    model.save(dir.join("weights.safetensors")).expect("save");
    (dir, model)
}

/// `specs/<spec>`, or `spec` from the workspace when it has a `/`.
fn spec_path(spec: &str) -> PathBuf {
    match spec.contains('/') {
        true => workspace().join(spec),
        false => workspace().join("specs").join(spec),
    }
}

/// The exported crates' one target directory: specc-core builds once.
fn exported_target() -> PathBuf {
    workspace().join("target").join("exported")
}

/// `specc export specs/<spec> --weights <dir>/weights.safetensors <args>`
/// (`spec` a path from the workspace when it has a `/`: a test spec), with
/// the builds `--measure` makes in [`exported_target`].
fn export(spec: &str, dir: &Path, args: &[&OsStr]) -> String {
    let path = spec_path(spec);
    run(cargo()
        .args(["build", "--quiet", "--release", "-p", "specc-cli"])
        .current_dir(workspace()));
    run(Command::new(workspace().join("target/release/specc"))
        .arg("export")
        .arg(path)
        .arg("--weights")
        .arg(dir.join("weights.safetensors"))
        .args(args)
        .env("CARGO_TARGET_DIR", exported_target())
        .current_dir(workspace()))
}

/// Exports a model of type `M` (from `specs/<spec>`) with random weights,
/// builds its C ABI and compares the C program's outputs with the runtime's.
fn exported_matches_runtime<M: Model<F = f32>>(spec: &str) {
    let (dir, mut model) = saved::<M>("export", 3);
    let out = dir.join("exported");
    let printed = export(
        spec,
        &dir,
        &[
            "--model".as_ref(),
            M::NAME.as_ref(),
            "--out".as_ref(),
            out.as_ref(),
            "--measure".as_ref(),
        ],
    );
    assert!(
        printed.contains("bytes of weights") && printed.contains("bytes of code"),
        "{printed}"
    );
    // The workspace `specc export` reports is what the crate computes.
    let reported = printed
        .split(" bytes of workspace for one sample")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .expect("the workspace size");
    for file in ["src/lib.rs", "src/weights.bin", "README.md", "c/src/lib.rs"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    let target = exported_target();
    let c_crate = format!("{}_c", M::MODULE);
    run(cargo()
        .args(["build", "--quiet", "--release", "-p", &c_crate])
        .current_dir(&out)
        .env("CARGO_TARGET_DIR", &target));
    // `--measure` built the C ABI for a Cortex-M4F and as a WebAssembly
    // module where the targets are installed (.ci/run installs both), and
    // says so in the crate's README.
    let readme = std::fs::read_to_string(out.join("README.md")).expect("README");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for bare in ["thumbv7em-none-eabihf", "wasm32-unknown-unknown"] {
        if installed.lines().any(|l| l.trim() == bare) {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{bare}` |")))
                .expect("a build row");
            let code: u64 = row
                .split('|')
                .nth(2)
                .and_then(|c| c.trim().parse().ok())
                .expect("code bytes");
            assert!(code > 0, "{row}");
            assert!(
                printed.contains(&format!("{bare}: {code} bytes of code")),
                "{printed}"
            );
        } else {
            assert!(
                readme.contains(&format!("Not measured: {bare} is not installed")),
                "{readme}"
            );
            eprintln!(
                "note: target {bare} not installed; {} not built for it",
                M::MODULE
            );
        }
    }
    let wasm = installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown");
    let program = dir.join("main");
    run(Command::new("gcc")
        .arg(workspace().join("tests/c/exported.c"))
        .arg(format!("-DMODEL={}", M::MODULE))
        .arg(format!("-DUPPER={}", M::MODULE.to_uppercase()))
        .arg("-I")
        .arg(out.join("include"))
        .arg(target.join("release").join(format!("lib{c_crate}.a")))
        .arg("-o")
        .arg(&program));

    let batch = 5;
    let (input, _) = random_batch::<M>(batch, 17);
    let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("inputs.bin"), bytes).expect("inputs");
    let mut printed = run(Command::new(&program)
        .arg(dir.join("inputs.bin"))
        .arg(batch.to_string()));
    // The native build detects the CPU's instruction set as the runtime
    // does; WebAssembly runs the portable kernels.
    let computed = printed
        .lines()
        .find_map(|l| l.strip_prefix("workspace bytes for one sample: "))
        .expect("the C program's workspace size");
    assert_eq!(
        reported,
        computed,
        "{}: reported and compiled workspace sizes",
        M::NAME
    );
    let mut labels = vec![("single ", KernelKind::best()), ("batch ", KernelKind::best())];
    if wasm {
        let module = target
            .join("wasm32-unknown-unknown/release")
            .join(format!("{c_crate}.wasm"));
        printed += &run(Command::new("node")
            .arg(workspace().join("tests/wasm/run.mjs"))
            .arg(&module)
            .arg(M::MODULE)
            .arg(dir.join("inputs.bin"))
            .arg(batch.to_string())
            .arg(M::output_len().to_string()));
        labels.extend([("wasm ", KernelKind::Scalar), ("wasm-batch ", KernelKind::Scalar)]);
    }

    // Without `std` the core runs on one thread; the runtime's sums do not
    // depend on its thread count.
    // With batchnorm folded into the layer before it, the arithmetic
    // differs by rounding: within 1e-6 relative to the sample's largest
    // output, or 1e-6 absolute below 1 (an output near zero is a sum that
    // cancels, whose relative error says nothing about the fold).
    let source = std::fs::read_to_string(spec_path(spec)).expect("spec");
    let checked = specc_lang::check_source(&source).expect("checks");
    let checked = checked
        .models
        .iter()
        .find(|m| m.name == M::NAME)
        .expect("the model");
    let folded = !specc_codegen::foldable(checked).is_empty();
    for (label, kernel) in labels {
        let mut expected = vec![0.0f32; batch * M::output_len()];
        with_kernel(kernel, || model.predict_into(&input, batch, &mut expected));
        let got = rows(&printed, label);
        assert_eq!(got.len(), batch, "{printed}");
        for (i, (row, want)) in got.iter().zip(expected.chunks(M::output_len())).enumerate() {
            let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            for (j, (&g, &w)) in row.iter().zip(want).enumerate() {
                if folded {
                    assert!(
                        (g - w).abs() <= 1e-6 * scale,
                        "{}: {label}sample {i} output {j}: exported {g:e}, runtime {w:e} (folded)",
                        M::NAME
                    );
                    continue;
                }
                // The same kernels in the same order: the same bits.
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "{}: {label}sample {i} output {j}: exported {g:e}, runtime {w:e} ({} kernels)",
                    M::NAME,
                    kernel.name()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Exports a model of type `M` (from `specs/<spec>`) with random weights
/// as ONNX, runs it in onnxruntime (the Python at `SPECC_ONNX_PYTHON`, with
/// `onnx` and `onnxruntime`, which .ci/run installs) and compares its
/// outputs with the runtime's within 1e-5.
fn onnx_matches_runtime<M: Model<F = f32>>(spec: &str) {
    let python = std::env::var_os("SPECC_ONNX_PYTHON").expect(
        "SPECC_ONNX_PYTHON names a Python with onnx and onnxruntime \
         (.ci/run makes one: python3 -m venv DIR && DIR/bin/pip install onnx onnxruntime numpy)",
    );
    let (dir, mut model) = saved::<M>("onnx", 5);
    let file = dir.join("model.onnx");
    let printed = export(
        spec,
        &dir,
        &[
            "--model".as_ref(),
            M::NAME.as_ref(),
            "--onnx".as_ref(),
            file.as_ref(),
        ],
    );
    assert!(printed.contains("ONNX opset 13"), "{printed}");

    let batch = 3;
    let (input, _) = random_batch::<M>(batch, 23);
    let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("inputs.bin"), bytes).expect("inputs");
    let printed = run(Command::new(python)
        .arg(workspace().join("tests/onnx/run.py"))
        .arg(&file)
        .arg(dir.join("inputs.bin"))
        .arg(batch.to_string())
        .args(M::INPUT_SHAPE.iter().map(|d| d.to_string())));
    // Nodes are named after the spec's layers.
    let nodes = printed
        .lines()
        .find_map(|l| l.strip_prefix("nodes: "))
        .expect("nodes");
    for t in M::TENSORS {
        let layer = t.name.split('.').next().expect("layer.role");
        assert!(
            nodes.split(' ').any(|n| n == layer),
            "{}: no node {layer} in {nodes}",
            M::NAME
        );
    }

    let mut expected = vec![0.0f32; batch * M::output_len()];
    model.predict_into(&input, batch, &mut expected);
    let got = rows(&printed, "onnx ");
    assert_eq!(got.len(), batch, "{printed}");
    for (i, (row, want)) in got.iter().zip(expected.chunks(M::output_len())).enumerate() {
        let scale = want.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (j, (&g, &w)) in row.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * scale.max(g.abs()).max(w.abs()),
                "{}: sample {i} output {j}: onnxruntime {g:e}, specc {w:e}",
                M::NAME
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

macro_rules! exported {
    ($($test:ident, $onnx:ident: $spec:literal => $ty:ty;)*) => {$(
        #[test]
        #[ignore = "builds the exported crate and a C program in release mode; run by .ci/run"]
        fn $test() {
            exported_matches_runtime::<$ty>($spec);
        }

        #[test]
        #[ignore = "runs onnxruntime from SPECC_ONNX_PYTHON; run by .ci/run"]
        fn $onnx() {
            onnx_matches_runtime::<$ty>($spec);
        }
    )*

    /// The specs the tests above export.
    const EXPORTED_SPECS: &[&str] = &[$($spec),*];
    };
}

#[test]
fn every_spec_in_specs_is_exported_by_these_tests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
    let mut specs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".spec"))
        .collect();
    specs.sort();
    let mut listed: Vec<String> = EXPORTED_SPECS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(specs, listed, "add each spec of specs/ to `exported!`");
}

exported! {
    exported_cifar_cnn, onnx_cifar_cnn: "cifar_cnn.spec" => m::cifar_cnn::CifarCnn;
    exported_digits_mlp, onnx_digits_mlp: "digits_mlp.spec" => m::digits_mlp::DigitsMlp;
    exported_linear_regression, onnx_linear_regression: "linear_regression.spec" => m::linear_regression::LinearRegression;
    exported_logistic, onnx_logistic: "logistic.spec" => m::logistic::Logistic;
    exported_mlp, onnx_mlp: "mlp.spec" => m::mlp::Mlp;
    exported_mnist_cnn, onnx_mnist_cnn: "mnist_cnn.spec" => m::mnist_cnn::MnistCnn;
    exported_mnist_fast, onnx_mnist_fast: "mnist_fast.spec" => m::mnist_fast::MnistFast;
    exported_regression_mlp, onnx_regression_mlp: "regression_mlp.spec" => m::regression_mlp::RegressionMlp;
    exported_small_resnet, onnx_small_resnet: "small_resnet.spec" => m::small_res_net::SmallResNet;
    exported_tf_cnn, onnx_tf_cnn: "tf_cnn.spec" => m::tf_cnn::TfCnn;
}

// The test specs that put every activation and layer kind through ONNX.
macro_rules! onnx_only {
    ($($onnx:ident: $spec:literal => $ty:ty;)*) => {$(
        #[test]
        #[ignore = "runs onnxruntime from SPECC_ONNX_PYTHON; run by .ci/run"]
        fn $onnx() {
            onnx_matches_runtime::<$ty>($spec);
        }
    )*};
}

onnx_only! {
    onnx_dense_chain: "tests/specs/layers.spec" => m::dense_chain::DenseChain;
    onnx_standalone_activations: "tests/specs/layers.spec" => m::standalone_activations::StandaloneActivations;
    onnx_conv_clipped: "tests/specs/conv_layers.spec" => m::conv_clipped::ConvClipped;
    onnx_conv_global_max: "tests/specs/conv_layers.spec" => m::conv_global_max::ConvGlobalMax;
    onnx_spatial: "tests/specs/conv_layers.spec" => m::spatial::Spatial;
    onnx_norms: "tests/specs/conv_layers.spec" => m::norms::Norms;
    onnx_depthwise: "tests/specs/conv_layers.spec" => m::depthwise::Depthwise;
}

/// The no_std crate and its C ABI compute the new activations, and those that
/// run in a step of their own, as the runtime does.
#[test]
#[ignore = "builds the exported crate and a C program in release mode; run by .ci/run"]
fn exported_conv_clipped() {
    exported_matches_runtime::<m::conv_clipped::ConvClipped>("tests/specs/conv_layers.spec");
}

/// And group and layer normalisation, spatial layers and depthwise
/// convolutions: their inference forms.
#[test]
#[ignore = "builds the exported crate and a C program in release mode; run by .ci/run"]
fn exported_edge_layers() {
    exported_matches_runtime::<m::norms::Norms>("tests/specs/conv_layers.spec");
    exported_matches_runtime::<m::spatial::Spatial>("tests/specs/conv_layers.spec");
    exported_matches_runtime::<m::depthwise::Depthwise>("tests/specs/conv_layers.spec");
}
