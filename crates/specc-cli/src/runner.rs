//! `specc train`, `eval`, `predict` and `gradcheck`: compile a spec's
//! generated code into a cached release build of a small program around
//! `specc-runner`, then run it with the user's arguments.
//!
//! The cache holds one crate per spec text and compiler version
//! (`<cache>/models/<module>-<hash>/`) and one shared target directory, so
//! the runtime and its dependencies compile once and a spec compiles once.

use specc_codegen::{Options, Precision};
use specc_lang::{CheckedFile, CheckedModel};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Why a model program could not be built.
#[derive(Debug)]
pub enum RunnerError {
    NoModel {
        file: String,
        wanted: Option<String>,
        available: Vec<String>,
    },
    Codegen(specc_codegen::CodegenError),
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Cargo {
        status: String,
    },
}

impl std::fmt::Display for RunnerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunnerError::NoModel {
                file,
                wanted: Some(w),
                available,
            } => {
                write!(
                    f,
                    "{file} has no model `{w}`; it defines {}",
                    available.join(", ")
                )
            }
            RunnerError::NoModel {
                file,
                wanted: None,
                available,
            } => write!(
                f,
                "{file} defines {} models ({}); choose one with --model NAME",
                available.len(),
                available.join(", ")
            ),
            RunnerError::Codegen(e) => write!(f, "{e}"),
            RunnerError::Io { path, error } => write!(f, "cannot write {}: {error}", path.display()),
            RunnerError::Cargo { status } => write!(f, "compiling the model program failed ({status})"),
        }
    }
}

/// The directory holding compiled models: `$SPECC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/specc`, else `~/.cache/specc`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPECC_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("specc");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache").join("specc"),
        None => std::env::temp_dir().join("specc-cache"),
    }
}

/// Picks the model of a file: the one named, or the only one.
pub fn select<'f>(
    file: &'f CheckedFile,
    path: &str,
    wanted: Option<&str>,
) -> Result<&'f CheckedModel, RunnerError> {
    let available: Vec<String> = file.models.iter().map(|m| m.name.clone()).collect();
    match wanted {
        Some(name) => file.models.iter().find(|m| m.name == name),
        None if file.models.len() == 1 => file.models.first(),
        None => None,
    }
    .ok_or_else(|| RunnerError::NoModel {
        file: path.to_string(),
        wanted: wanted.map(str::to_string),
        available,
    })
}

/// How the generated program depends on the runner: by path when specc runs
/// from a checkout of its workspace, else by version from crates.io.
fn runner_dependency() -> String {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let runner = workspace.join("crates").join("specc-runner");
    let runtime = workspace.join("crates").join("specc-runtime");
    if runner.join("Cargo.toml").is_file() && runtime.join("Cargo.toml").is_file() {
        let path = |p: &Path| {
            p.canonicalize()
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
                .replace('\\', "/")
        };
        format!(
            "specc-runner = {{ path = \"{}\" }}\nspecc-runtime = {{ path = \"{}\" }}\n",
            path(&runner),
            path(&runtime)
        )
    } else {
        let version = specc_lang::VERSION;
        format!("specc-runner = \"={version}\"\nspecc-runtime = \"={version}\"\n")
    }
}

/// Writes `contents` unless the file already holds exactly that (keeps
/// cargo's fingerprints, so a cached model is not rebuilt).
fn write_if_changed(path: &Path, contents: &str) -> Result<(), RunnerError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let io = |error| RunnerError::Io {
        path: path.to_path_buf(),
        error,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Generates the program for `model` in the cache and builds it in release
/// mode; returns the path of the binary.
pub fn build_program(
    model: &CheckedModel,
    spec_name: &str,
    source: &str,
    quiet: bool,
) -> Result<PathBuf, RunnerError> {
    let cache = cache_dir();
    let dependency = runner_dependency();
    let key = specc_lang::source_hash(&format!("{source}\n{}\n{dependency}", specc_lang::VERSION));
    let package = format!(
        "specc-model-{}-{:08x}",
        model.module_name.replace('_', "-"),
        key as u32
    );
    let dir = cache.join("models").join(&package);
    let single = CheckedFile {
        models: vec![model.clone()],
    };
    for (precision, file) in [(Precision::F32, "model_f32.rs"), (Precision::F64, "model_f64.rs")] {
        let options = Options {
            runtime_path: "::specc_runtime".into(),
            precision,
        };
        let code = specc_codegen::generate_source(&single, spec_name, source, &options)
            .map_err(RunnerError::Codegen)?;
        write_if_changed(&dir.join("src").join(file), &code)?;
    }
    let manifest = format!(
        "# Generated by specc {version} for `{spec_name}`.\n[package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependency}\n[workspace]\n",
        version = specc_lang::VERSION
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
    let (module, name) = (&model.module_name, &model.name);
    let main = format!(
        "//! `{name}` from `{spec_name}`: train, evaluate, predict and check gradients.\n\n\
         // The program uses only part of each model's API.\n\
         #[allow(dead_code)]\nmod f32 {{\n    include!(\"model_f32.rs\");\n}}\n\n\
         #[allow(dead_code)]\nmod f64 {{\n    include!(\"model_f64.rs\");\n}}\n\n\
         fn main() -> std::process::ExitCode {{\n    specc_runner::main::<f32::{module}::{name}, f64::{module}::{name}>()\n}}\n"
    );
    write_if_changed(&dir.join("src").join("main.rs"), &main)?;

    let target = cache.join("target");
    let binary = target
        .join("release")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX));
    let first_build = !binary.exists();
    if !quiet {
        if first_build {
            eprintln!(
                "compiling `{name}` (the first model compiles specc's runtime too: about a minute; later runs reuse it)\n  cache: {}",
                dir.display()
            );
        } else {
            eprintln!("using the compiled `{name}` in {}", dir.display());
        }
    }
    let started = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .map_err(|error| RunnerError::Io {
            path: PathBuf::from("cargo"),
            error,
        })?;
    if !status.success() {
        return Err(RunnerError::Cargo {
            status: status.to_string(),
        });
    }
    if first_build && !quiet {
        eprintln!("compiled in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(binary)
}
