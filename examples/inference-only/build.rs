//! Compiles every spec of the workspace's `specs/` for inference only into
//! `OUT_DIR`, and writes `OUT_DIR/models.rs`, which includes them all.

use std::path::PathBuf;

fn main() {
    let specs = specc_build::specs_in("../../specs").unwrap_or_else(|e| panic!("{e}"));
    let written = specc_build::Config::new()
        .runtime(specc_build::RuntimePaths::direct())
        .inference_only()
        .compile(&specs)
        .unwrap_or_else(|e| panic!("{e}"));
    let includes: String = written
        .iter()
        .map(|path| format!("include!({:?});\n", path.display().to_string()))
        .collect();
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set for build scripts"));
    std::fs::write(out_dir.join("models.rs"), includes).expect("write models.rs");
}
