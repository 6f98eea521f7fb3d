//! Generates, in f32 (for training tests) and f64 (for gradient checks):
//! - the specs of `specs/` listed in `SPECS` (those the code generator supports);
//! - every spec in `tests/specs/` (small models that exercise one layer,
//!   loss or optimizer each).
//!
//! `OUT_DIR/test_specs.rs` and `OUT_DIR/test_specs_f64.rs` include the
//! latter, so adding a test spec needs no other change.

use specc_codegen::Precision;
use std::path::PathBuf;

/// The example specs compiled into this crate.
const SPECS: &[&str] = &["linear_regression", "logistic", "mlp", "digits_mlp"];

fn main() {
    let mut specs: Vec<PathBuf> = SPECS
        .iter()
        .map(|s| PathBuf::from(format!("../specs/{s}.spec")))
        .collect();
    let mut test_specs: Vec<PathBuf> = std::fs::read_dir("specs")
        .expect("tests/specs exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "spec"))
        .collect();
    test_specs.sort();
    println!("cargo:rerun-if-changed=specs");
    specs.extend(test_specs.iter().cloned());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for (precision, suffix) in [(Precision::F32, ""), (Precision::F64, "_f64")] {
        let result = specc_build::Config::new()
            .runtime_path("::specc_runtime")
            .precision(precision)
            .file_suffix(suffix)
            .compile(&specs);
        if let Err(e) = result {
            panic!("{e}");
        }
        let includes: String = test_specs
            .iter()
            .map(|p| {
                let stem = p.file_stem().unwrap_or_default().to_string_lossy();
                format!("include!(concat!(env!(\"OUT_DIR\"), \"/{stem}{suffix}.rs\"));\n")
            })
            .collect();
        std::fs::write(out_dir.join(format!("test_specs{suffix}.rs")), includes).expect("write includes");
    }
}
