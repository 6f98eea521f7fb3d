//! `specc export FILE --weights CKPT --out DIR`: a trained model as a
//! standalone `#![no_std]` crate with its weights baked in, and its C ABI.
//!
//! ```text
//! DIR/Cargo.toml          the model crate (and a workspace with c/)
//! DIR/src/lib.rs          predict, predict_batch, workspace_lines
//! DIR/src/weights.bin     the tensors, little-endian f32, 64-byte aligned
//! DIR/c/Cargo.toml        <module>_c: the staticlib with the C ABI
//! DIR/c/src/lib.rs
//! DIR/include/<module>.h  its header
//! DIR/README.md           the summary, the sizes, how to call it
//! ```

use std::path::{Path, PathBuf};

use specc_lang::CheckedModel;

/// Files of the exported crate: each path (relative to its directory) and
/// its bytes.
pub type Files = Vec<(PathBuf, Vec<u8>)>;

/// The values of `model`'s tensors in the checkpoint at `weights`, in the
/// order of `model.parameters()`, with the checks of `specc predict`.
pub fn read(model: &CheckedModel, weights: &Path) -> Result<Vec<Vec<f32>>, String> {
    let tensors = model.parameters();
    let wanted: Vec<(&str, &[usize])> = tensors
        .iter()
        .map(|t| (t.name.as_str(), t.shape.as_slice()))
        .collect();
    specc_harness::checkpoint::read_weights(weights, &model.name, &wanted).map_err(|e| e.to_string())
}

/// The exported crate's files for `model` with the checkpoint's tensors
/// `values` (read from `weights`).
pub fn files(
    model: &CheckedModel,
    spec_name: &str,
    source: &str,
    weights: &Path,
    values: &[Vec<f32>],
) -> Result<(Files, Sizes), String> {
    let exported =
        specc_codegen::export_model(model, spec_name, source, values).map_err(|e| e.to_string())?;
    let m = &model.module_name;
    let core = crate::runner::dependency("specc-core", "default-features = false, ");
    let sizes = Sizes {
        code: exported.source.len(),
        weights: exported.weights.len(),
        workspace: exported.workspace_bytes,
        parameters: model.trainable_params(),
    };
    let cargo = format!(
        "# Exported by specc {version} from `{spec_name}`.\n\
         [package]\n\
         name = \"{m}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         description = \"The trained `{name}` model: inference only, no_std, no heap, weights baked in\"\n\
         publish = false\n\
         \n\
         [dependencies]\n\
         specc-core = {core}\n\
         \n\
         [features]\n\
         # On a host: the core's worker threads (the same bits at every thread\n\
         # count), run-time CPU detection and its own scratch (allocated once).\n\
         std = [\"specc-core/std\"]\n\
         \n\
         # The C ABI crate beside it; the profile (no unwinding into C) is this\n\
         # workspace's.\n\
         [workspace]\n\
         members = [\".\", \"c\"]\n\
         \n\
         [profile.dev]\n\
         panic = \"abort\"\n\
         \n\
         [profile.release]\n\
         panic = \"abort\"\n\
         codegen-units = 1\n",
        version = specc_lang::VERSION,
        name = model.name,
    );
    let c_cargo = format!(
        "[package]\n\
         name = \"{m}_c\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         description = \"The C ABI of the trained `{name}` model (include/{m}.h)\"\n\
         publish = false\n\
         \n\
         [lib]\n\
         crate-type = [\"staticlib\"]\n\
         test = false\n\
         \n\
         [dependencies]\n\
         {m} = {{ path = \"..\" }}\n\
         specc-core = {core}\n",
        name = model.name,
    );
    let readme = readme(model, spec_name, weights, &sizes, &exported.folded);
    let files = vec![
        (PathBuf::from("Cargo.toml"), cargo.into_bytes()),
        (PathBuf::from("src/lib.rs"), exported.source.into_bytes()),
        (PathBuf::from("src/weights.bin"), exported.weights),
        (PathBuf::from("c/Cargo.toml"), c_cargo.into_bytes()),
        (PathBuf::from("c/src/lib.rs"), exported.c_source.into_bytes()),
        (
            PathBuf::from(format!("include/{m}.h")),
            exported.c_header.into_bytes(),
        ),
        (PathBuf::from("README.md"), readme.into_bytes()),
        (PathBuf::from(".gitignore"), b"/target\n".to_vec()),
        (
            PathBuf::from("examples/latency.rs"),
            latency_example(m).into_bytes(),
        ),
    ];
    Ok((files, sizes))
}

/// What `specc export` reports.
pub struct Sizes {
    /// Bytes of generated Rust (`src/lib.rs`).
    pub code: usize,
    /// Bytes of baked weights.
    pub weights: usize,
    /// Bytes of the one-sample workspace.
    pub workspace: usize,
    pub parameters: usize,
}

/// Writes `files` under `dir`, each atomically.
pub fn write(dir: &Path, files: &Files) -> Result<(), String> {
    for (path, bytes) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        specc_harness::files::write_atomically(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn readme(
    model: &CheckedModel,
    spec_name: &str,
    weights: &Path,
    sizes: &Sizes,
    folded: &[(String, String)],
) -> String {
    let m = &model.module_name;
    let upper = m.to_uppercase();
    let folded = if folded.is_empty() {
        String::new()
    } else {
        format!(
            " Batchnorm is folded into the layer before it where that is exact (no activation \
             between): {}; its outputs differ from `specc predict`'s by rounding only.",
            specc_codegen::describe_folds(folded)
        )
    };
    let name = &model.name;
    let summary = specc_lang::summary::summary(model);
    let weight_file = weights.file_name().map_or_else(
        || weights.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!(
        "# `{m}`: the trained `{name}` model\n\
         \n\
         Exported by specc {version} from `{spec_name}` with the weights of `{weight_file}`. \
         Inference only: `#![no_std]`, no heap allocation, no backward pass, the weights baked \
         in (`src/weights.bin`, checked against the spec's shapes when exported). It depends \
         on `specc-core` alone, without its default features: the same kernels `specc \
         predict` runs.{folded}\n\
         \n\
         ```text\n{summary}```\n\
         \n\
         | | bytes |\n\
         |---|---|\n\
         | weights (`src/weights.bin`) | {weights} |\n\
         | generated code (`src/lib.rs`) | {code} |\n\
         | workspace for one sample (`{m}::WORKSPACE_BYTES`) | {workspace} |\n\
         \n\
         ## From Rust\n\
         \n\
         ```rust\n\
         let mut workspace = {m}::Workspace::new(); // or a `static`\n\
         let input = [0.0f32; {m}::INPUT_LEN]; // one sample, {input}\n\
         let mut output = [0.0f32; {m}::OUTPUT_LEN]; // {output}\n\
         {m}::predict(&input, &mut output, &mut workspace);\n\
         ```\n\
         \n\
         For a batch, `{m}::predict_batch(&inputs, &mut outputs, &mut lines)` with \
         `lines` at least `{m}::workspace_lines(batch)` `specc_core::scratch::Line`s \
         (64 bytes each), from a `static`, the stack or a `Vec`.\n\
         \n\
         ## From C\n\
         \n\
         ```sh\n\
         cargo build --release -p {m}_c     # target/release/lib{m}_c.a\n\
         gcc main.c -Iinclude target/release/lib{m}_c.a -o main\n\
         ```\n\
         \n\
         ```c\n\
         #include \"{m}.h\"\n\
         float input[{upper}_INPUT_LEN], output[{upper}_OUTPUT_LEN];\n\
         if ({m}_predict(input, output) != {upper}_OK) {{ /* see {m}.h */ }}\n\
         ```\n\
         \n\
         `{m}_predict_batch` takes a caller's workspace of `{m}_workspace_bytes(batch)` bytes \
         aligned to 64 (`aligned_alloc(64, size)`).\n\
         \n\
         ## Without an operating system\n\
         \n\
         The crate builds for any target Rust supports without `std`, e.g. \
         `cargo build --release --target thumbv7em-none-eabihf` (Cortex-M4F) or \
         `--target wasm32-unknown-unknown`.\n\
         \n\
         ## Latency\n\
         \n\
         `cargo run --release --example latency` prints the median batch-1 latency of \
         `predict` on this machine, on one thread; with `--features std` the core's \
         worker threads share each call (the outputs are the same bits).\n",
        version = specc_lang::VERSION,
        weights = sizes.weights,
        code = sizes.code,
        workspace = sizes.workspace,
        input = model.input,
        output = model.output,
    )
}

/// `examples/latency.rs`: the median batch-1 latency of `predict`, on the
/// host (the example links std; the library does not).
fn latency_example(m: &str) -> String {
    format!(
        "//! The median batch-1 latency of `{m}::predict`:\n\
         //! `cargo run --release --example latency`.\n\
         \n\
         use std::hint::black_box;\n\
         use std::time::{{Duration, Instant}};\n\
         \n\
         fn main() {{\n    \
             let mut workspace = Box::new({m}::Workspace::new());\n    \
             let input: [f32; {m}::INPUT_LEN] = std::array::from_fn(|i| (i * 7919 % 256) as f32 / 255.0);\n    \
             let mut output = [0.0f32; {m}::OUTPUT_LEN];\n    \
             for _ in 0..200 {{\n        \
                 {m}::predict(black_box(&input), &mut output, &mut workspace);\n    \
             }}\n    \
             let mut times = Vec::new();\n    \
             let start = Instant::now();\n    \
             while times.len() < 20_000 && (times.len() < 50 || start.elapsed() < Duration::from_secs(2)) {{\n        \
                 let t = Instant::now();\n        \
                 {m}::predict(black_box(&input), &mut output, &mut workspace);\n        \
                 times.push(t.elapsed());\n        \
                 black_box(&output);\n    \
             }}\n    \
             times.sort();\n    \
             let median = times[times.len() / 2].as_secs_f64() * 1e6;\n    \
             let mode = if cfg!(feature = \"std\") {{ \"std, all cores\" }} else {{ \"no_std, one thread\" }};\n    \
             println!(\"{{}} exported ({{mode}}), batch 1: {{median:.1}} us (median of {{}} calls)\", {m}::NAME, times.len());\n\
         }}\n"
    )
}
