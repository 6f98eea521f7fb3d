//! Compiles every spec of the workspace's `specs/` for inference only into
//! `OUT_DIR`, and writes `OUT_DIR/models.rs`, which includes them all.

use std::path::PathBuf;

fn main() {
    let dir = "../../specs";
    println!("cargo:rerun-if-changed={dir}");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "spec"))
        .collect();
    specs.sort();
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
