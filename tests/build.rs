//! Generates every spec of `specs/` that the code generator supports, in f32
//! (for training tests) and f64 (for gradient checks).

use specc_codegen::Precision;

/// The specs compiled into this crate.
const SPECS: &[&str] = &["linear_regression", "logistic", "mlp"];

fn main() {
    let specs: Vec<String> = SPECS.iter().map(|s| format!("../specs/{s}.spec")).collect();
    for (precision, suffix) in [(Precision::F32, ""), (Precision::F64, "_f64")] {
        let result = specc_build::Config::new()
            .runtime_path("::specc_runtime")
            .precision(precision)
            .file_suffix(suffix)
            .compile(&specs);
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
