//! Generates, in f32 (for training tests) and f64 (for gradient checks),
//! every example spec of `specs/` and every spec in `tests/specs/` (small
//! models that exercise one layer, loss or optimizer each).
//!
//! `OUT_DIR/all.rs` and `OUT_DIR/all_f64.rs` include them all, so a new spec
//! needs no other change.

use specc_codegen::Precision;
use std::path::{Path, PathBuf};

fn specs_in(dir: &str) -> Vec<PathBuf> {
    println!("cargo:rerun-if-changed={dir}");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "spec"))
        .collect();
    specs.sort();
    specs
}

fn main() {
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
}
