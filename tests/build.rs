//! Generates, in f32 (for training tests) and f64 (for gradient checks),
//! every example spec of `specs/` and every spec in `tests/specs/` (small
//! models that exercise one layer, loss or optimizer each).
//!
//! `OUT_DIR/all.rs` and `OUT_DIR/all_f64.rs` include them all, and
//! `OUT_DIR/model_list.rs` defines `for_each_model!`, which hands the list of
//! every model to a test's macro (the gradient checks and the comparisons
//! with the reference are generated from it), so a new spec needs no other
//! change.

use specc_codegen::Precision;
use std::path::{Path, PathBuf};

fn main() {
    let specs_in = |dir| specc_build::specs_in(dir).unwrap_or_else(|e| panic!("{e}"));
    let mut specs = specs_in("../specs");
    specs.extend(specs_in("specs"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (precision, suffix) in [(Precision::F32, ""), (Precision::F64, "_f64")] {
        let result = specc_build::Config::new()
            .runtime(specc_build::RuntimePaths::direct())
            .precision(precision)
            .file_suffix(suffix)
            .compile(&specs);
        if let Err(e) = result {
            panic!("{e}");
        }
        let includes: String = specs
            .iter()
            .map(|p| {
                let stem = Path::new(p).file_stem().unwrap_or_default().to_string_lossy();
                format!("include!(concat!(env!(\"OUT_DIR\"), \"/{stem}{suffix}.rs\"));\n")
            })
            .collect();
        std::fs::write(out_dir.join(format!("all{suffix}.rs")), includes).expect("write includes");
    }
    std::fs::write(out_dir.join("model_list.rs"), model_list(&specs)).expect("write model_list.rs");
}

/// Forward FLOPs per sample from which a model counts as large: its
/// gradient check samples components instead of checking them all.
const LARGE_FLOPS: u64 = 1_000_000;

/// `for_each_model!(callback)`: `callback! { test => module::Type, large =
/// bool, dropout = bool, distinct = bool; ... }` over every model of `specs`,
/// the test named after the model's module, with `spec_` before it for the
/// example specs. `distinct` is false for a model whose network (layers and
/// loss) an earlier model already has, such as the optimizer variants of
/// `mnist_cnn`: its gradients are that model's, so checking them again would
/// only cost time.
fn model_list(specs: &[PathBuf]) -> String {
    let mut rows = String::new();
    let mut networks = std::collections::HashSet::new();
    for path in specs {
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = specc_lang::check_source(&source).unwrap_or_else(|_| panic!("{} checks", path.display()));
        let example = path.starts_with("../specs");
        for model in &file.models {
            let module = &model.module_name;
            let test = if example {
                format!("spec_{module}")
            } else {
                module.clone()
            };
            let large = model.forward_flops() > LARGE_FLOPS;
            let dropout = model
                .all_layers()
                .iter()
                .any(|l| matches!(l.kind, specc_lang::LayerKind::Dropout { .. }));
            let distinct = networks.insert(network(model));
            rows.push_str(&format!(
                "            {test} => {module}::{}, large = {large}, dropout = {dropout}, distinct = {distinct};\n",
                model.name
            ));
        }
    }
    format!(
        "/// Calls `$callback! {{ test => module::Type, large = bool, dropout = bool, distinct = bool; ... }}`\n\
         /// with every model of `specs/` and `tests/specs/`.\n\
         #[macro_export]\n\
         macro_rules! for_each_model {{\n    ($callback:ident) => {{\n        $callback! {{\n{rows}        }}\n    }};\n}}\n"
    )
}

/// What decides a model's gradients: its input, each layer's kind and
/// shapes (a residual block through the layers `all_layers` lists) and its
/// loss, without names or source positions.
fn network(model: &specc_lang::CheckedModel) -> String {
    let layers: Vec<String> = model
        .all_layers()
        .iter()
        .map(|l| match &l.kind {
            specc_lang::LayerKind::Residual { shortcut, .. } => {
                format!(
                    "residual(shortcut = {}) {} -> {}",
                    shortcut.is_some(),
                    l.input,
                    l.output
                )
            }
            kind => format!("{kind:?} {} -> {}", l.input, l.output),
        })
        .collect();
    format!("{} | {} | {:?}", model.input, layers.join(" | "), model.loss.kind)
}
