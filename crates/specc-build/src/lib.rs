//! Compiles `.spec` files into Rust modules from a build script, in the
//! style of prost-build.
//!
//! ```no_run
//! // In build.rs's `main`:
//! specc_build::compile(&["specs/mnist_cnn.spec"]).unwrap();
//! ```
//!
//! ```ignore
//! // src/lib.rs: the file is named after the spec.
//! include!(concat!(env!("OUT_DIR"), "/mnist_cnn.rs"));
//! use mnist_cnn::MnistCnn;
//! ```
//!
//! Each spec is checked with the same checker as `specc check`, and a bad
//! spec fails the build with the same rendered diagnostic.

use specc_codegen::{Options, Precision};
pub use specc_codegen::{Passes, RuntimePaths};
use std::path::{Path, PathBuf};

/// Why a spec could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// The spec file is not UTF-8; `message` gives the line, column and byte.
    #[error("{}:{message}", path.display())]
    Encoding { path: PathBuf, message: String },
    /// `SPECC_MAX_MEMORY` is set to something that is not a size.
    #[error("{0}")]
    Limits(String),
    /// The spec has errors; `rendered` is what `specc check` prints.
    #[error("{rendered}")]
    Spec { path: PathBuf, rendered: String },
    /// The code generator cannot lower a model of the spec.
    #[error("{}: {error}", path.display())]
    Codegen {
        path: PathBuf,
        #[source]
        error: specc_codegen::CodegenError,
    },
    /// The output could not be written.
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// No output directory: not run from a build script and none configured.
    #[error("OUT_DIR is not set: call from a build script or set `Config::out_dir`")]
    NoOutDir,
}

/// A builder over [`compile`].
#[derive(Clone, Debug)]
pub struct Config {
    out_dir: Option<PathBuf>,
    options: Options,
    suffix: String,
    max_memory: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            out_dir: None,
            options: Options {
                runtime: RuntimePaths::facade(),
                ..Options::default()
            },
            suffix: String::new(),
            max_memory: None,
        }
    }
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where to write the modules (default: `OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// The paths generated code uses for the runtime crates (default
    /// [`RuntimePaths::facade`], through the `specc` facade;
    /// [`RuntimePaths::direct`] for crates that depend on `specc-core` and
    /// `specc-train` directly).
    pub fn runtime(&mut self, paths: RuntimePaths) -> &mut Self {
        self.options.runtime = paths;
        self
    }

    /// Generate inference-only models ([`Passes::Inference`]): code that
    /// names only the inference core, for programs that never train.
    pub fn inference_only(&mut self) -> &mut Self {
        self.options.passes = Passes::Inference;
        self
    }

    /// Generate `f64` models (for gradient checks) instead of `f32`.
    pub fn precision(&mut self, precision: Precision) -> &mut Self {
        self.options.precision = precision;
        self
    }

    /// Refuse models whose training memory exceeds `bytes` (default 16 GiB,
    /// or `SPECC_MAX_MEMORY`; see `specc_lang::limits`).
    pub fn max_memory(&mut self, bytes: u64) -> &mut Self {
        self.max_memory = Some(bytes);
        self
    }

    /// Appended to each output file's stem: `mlp{suffix}.rs`.
    pub fn file_suffix(&mut self, suffix: impl Into<String>) -> &mut Self {
        self.suffix = suffix.into();
        self
    }

    /// Compiles each spec to `OUT_DIR/<stem><suffix>.rs`, printing
    /// `cargo:rerun-if-changed` for each. Returns the written paths.
    pub fn compile(&self, specs: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, Error> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(Error::NoOutDir)?,
        };
        let mut limits = specc_lang::Limits::from_env().map_err(Error::Limits)?;
        if let Some(max) = self.max_memory {
            limits.max_memory = max;
        }
        println!(
            "cargo:rerun-if-env-changed={}",
            specc_lang::limits::MAX_MEMORY_ENV
        );
        let mut written = Vec::new();
        for spec in specs {
            let path = spec.as_ref();
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(path).map_err(|error| Error::Read {
                path: path.to_path_buf(),
                error,
            })?;
            let source = specc_lang::decode_source(&bytes).map_err(|message| Error::Encoding {
                path: path.to_path_buf(),
                message,
            })?;
            let display = path.display().to_string();
            let file = specc_lang::check_source_with(source, &limits).map_err(|diagnostics| Error::Spec {
                path: path.to_path_buf(),
                rendered: specc_lang::render(&diagnostics, &display, source),
            })?;
            let spec_name = path
                .file_name()
                .map_or(display.clone(), |n| n.to_string_lossy().into_owned());
            let code = specc_codegen::generate_source(&file, &spec_name, source, &self.options).map_err(
                |error| Error::Codegen {
                    path: path.to_path_buf(),
                    error,
                },
            )?;
            let stem = path
                .file_stem()
                .map_or("spec".into(), |s| s.to_string_lossy().into_owned());
            let out = out_dir.join(format!("{stem}{}.rs", self.suffix));
            write_if_changed(&out, &code).map_err(|error| Error::Write {
                path: out.clone(),
                error,
            })?;
            written.push(out);
        }
        Ok(written)
    }
}

/// Compiles specs into `OUT_DIR` with the default configuration.
pub fn compile(specs: &[impl AsRef<Path>]) -> Result<Vec<PathBuf>, Error> {
    Config::new().compile(specs)
}

/// Writes through a temporary file and a rename, and leaves an identical
/// file untouched so that cargo does not rebuild for nothing.
fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let tmp = path.with_extension(format!("rs.{}.tmp", std::process::id()));
    // A failed write (a full disk) or rename leaves no temporary file behind.
    std::fs::write(&tmp, contents)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// The `.spec` files directly in `dir`, sorted by name, for passing to
/// [`compile`]; prints `cargo:rerun-if-changed` for the directory, so that a
/// spec added to it reruns the build script.
pub fn specs_in(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
    let dir = dir.as_ref();
    println!("cargo:rerun-if-changed={}", dir.display());
    let read = |error| Error::Read {
        path: dir.to_path_buf(),
        error,
    };
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_some_and(|e| e == "spec") {
            specs.push(path);
        }
    }
    specs.sort();
    Ok(specs)
}
