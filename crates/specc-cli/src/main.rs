//! `specc`: check, build and train neural-network specs.

mod export;
mod measure;
mod runner;

use clap::{Args, Parser, Subcommand};
use specc_lang::Limits;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "specc", version, about = "A compiler for neural-network specs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Refuse models whose training memory at their batch size exceeds SIZE
    /// (`16GiB` by default, `unlimited` for none; also SPECC_MAX_MEMORY).
    #[arg(long, global = true, value_name = "SIZE", value_parser = specc_lang::limits::parse_size)]
    max_memory: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs and print a Keras-style summary of each model, or the errors.
    Check {
        /// Spec files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Generate the Rust module for a spec.
    Build {
        /// The spec file.
        file: PathBuf,
        /// Where to write the module (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Generate `f64` code (for numeric gradient checks) instead of `f32`.
        #[arg(long)]
        f64: bool,
        /// Generate the inference pass only: code that needs `specc-core`
        /// alone (no backward pass, optimizer or initialisers).
        #[arg(long)]
        inference_only: bool,
        /// The path generated code uses for the inference core crate.
        #[arg(long, value_name = "PATH", default_value = "::specc_core")]
        core_path: String,
        /// The path generated code uses for the training layer crate.
        #[arg(long, value_name = "PATH", default_value = "::specc_train")]
        train_path: String,
    },
    /// Export a trained model: as a standalone `#![no_std]` crate with its
    /// weights baked in and a C ABI (`--out DIR`), as an ONNX model
    /// (`--onnx FILE`), or both.
    #[command(group(clap::ArgGroup::new("to").required(true).multiple(true).args(["out", "onnx"])))]
    Export {
        /// The spec file.
        file: PathBuf,
        /// The checkpoint whose weights to export.
        #[arg(long, value_name = "CHECKPOINT")]
        weights: PathBuf,
        /// The directory to write the crate to (created if needed).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The ONNX file to write (opset 13, weights as initializers).
        #[arg(long, value_name = "FILE")]
        onnx: Option<PathBuf>,
        /// Build the crate for Cortex-M4F and WebAssembly (where installed)
        /// and add what each build holds to its README.
        #[arg(long, requires = "out")]
        measure: bool,
        /// The model to export when the file defines several.
        #[arg(long)]
        model: Option<String>,
    },
    /// Train a model: compiles the spec into a cached release build, then
    /// trains it (`specc train FILE --help` lists the training options).
    Train(RunArgs),
    /// Evaluate a checkpoint: `specc eval FILE --weights W [--data ...]`.
    Eval(RunArgs),
    /// Predict with a checkpoint: `specc predict FILE --weights W INPUT...`.
    Predict(RunArgs),
    /// Check the generated backward pass against numeric gradients (in f64)
    /// and print the worst relative error per parameter tensor.
    Gradcheck(RunArgs),
    /// Benchmark a model: training throughput, inference latency, GFLOP/s
    /// against the machine's peak, peak memory, and the GFLOP/s of each dense
    /// and conv2d layer's kernels.
    Bench(RunArgs),
}

#[derive(Args)]
struct RunArgs {
    /// The spec file.
    file: PathBuf,
    /// The model to use when the file defines several.
    #[arg(long)]
    model: Option<String>,
    /// Say nothing about compiling.
    #[arg(long)]
    quiet_build: bool,
    /// `--max-memory` given after the file, where clap leaves it in `rest`.
    #[arg(skip)]
    max_memory: Option<String>,
    /// Options for the model program (`--data`, `--epochs`, `--batch`, `--lr`,
    /// `--seed`, `--out`, `--resume`, `--threads`, `--weights`, inputs ...).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let limits = match specc_lang::Limits::from_env() {
        Ok(mut limits) => {
            if let Some(max) = cli.max_memory {
                limits.max_memory = max;
            }
            limits
        }
        Err(e) => {
            error(format_args!("{e}"));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Check { files } => check(&files, &limits),
        Command::Build {
            file,
            output,
            f64,
            inference_only,
            core_path,
            train_path,
        } => build(
            &file,
            output.as_deref(),
            specc_codegen::Options {
                runtime: specc_codegen::RuntimePaths {
                    core: core_path,
                    train: train_path,
                },
                precision: if f64 {
                    specc_codegen::Precision::F64
                } else {
                    specc_codegen::Precision::F32
                },
                passes: if inference_only {
                    specc_codegen::Passes::Inference
                } else {
                    specc_codegen::Passes::Training
                },
            },
            &limits,
        ),
        Command::Export {
            file,
            weights,
            out,
            onnx,
            measure,
            model,
        } => export(
            &file,
            model.as_deref(),
            &weights,
            out.as_deref(),
            onnx.as_deref(),
            measure,
            &limits,
        ),
        Command::Train(args) => run_model("train", &args, &limits),
        Command::Eval(args) => run_model("eval", &args, &limits),
        Command::Predict(args) => run_model("predict", &args, &limits),
        Command::Gradcheck(args) => run_model("gradcheck", &args, &limits),
        Command::Bench(args) => run_model("bench", &args, &limits),
    };
    result.unwrap_or_else(|e| {
        error(format_args!("cannot write standard output: {e}"));
        ExitCode::FAILURE
    })
}

/// `error: ...` on standard error; a closed standard error is not worth a panic.
fn error(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "error: {message}");
}

/// Standard output, where `check` and `build` write their results: a closed
/// pipe or a full disk is an error (exit 1), not a panic.
fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

impl RunArgs {
    /// specc's own options may stand anywhere, also among the model
    /// program's options that clap collected into `rest`.
    fn own_options_from_rest(&self) -> RunArgs {
        let mut out = RunArgs {
            file: self.file.clone(),
            model: self.model.clone(),
            quiet_build: self.quiet_build,
            max_memory: None,
            rest: Vec::new(),
        };
        let mut items = self.rest.iter();
        while let Some(item) = items.next() {
            if item == "--quiet-build" {
                out.quiet_build = true;
            } else if item == "--model" {
                out.model = items.next().cloned();
            } else if let Some(name) = item.strip_prefix("--model=") {
                out.model = Some(name.to_string());
            } else if item == "--max-memory" || item.starts_with("--max-memory=") {
                // specc's own limit, parsed by `main` and handed on in bytes.
                let value = match item.strip_prefix("--max-memory=") {
                    Some(v) => Some(v.to_string()),
                    None => items.next().cloned(),
                };
                out.max_memory = Some(value.unwrap_or_default());
            } else {
                out.rest.push(item.clone());
            }
        }
        out
    }
}

/// Compiles the spec's model program (cached) and runs `subcommand` in it.
/// `gradcheck` covers every model of a file unless `--model` picks one; the
/// other commands need `--model` when the file defines several.
fn run_model(subcommand: &str, args: &RunArgs, limits: &Limits) -> std::io::Result<ExitCode> {
    let args = &args.own_options_from_rest();
    let mut limits = *limits;
    if let Some(text) = &args.max_memory {
        match specc_lang::limits::parse_size(text) {
            Ok(bytes) => limits.max_memory = bytes,
            Err(e) => {
                error(format_args!("--max-memory {text}: {e}"));
                return Ok(ExitCode::from(2));
            }
        }
    }
    let limits = &limits;
    let Some((source, file)) = checked(&args.file, limits) else {
        return Ok(ExitCode::FAILURE);
    };
    let shown = args.file.display().to_string();
    let models: Vec<&specc_lang::CheckedModel> = if subcommand == "gradcheck" && args.model.is_none() {
        file.models.iter().collect()
    } else {
        match runner::select(&file, &shown, args.model.as_deref()) {
            Ok(model) => vec![model],
            Err(e) => {
                error(format_args!("{e}"));
                return Ok(ExitCode::FAILURE);
            }
        }
    };
    let spec_name = args
        .file
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    for model in models {
        let binary = match runner::build_program(model, &spec_name, &source, args.quiet_build) {
            Ok(binary) => binary,
            Err(e) => {
                error(format_args!("{e}"));
                return Ok(ExitCode::FAILURE);
            }
        };
        let mut program_args = args.rest.clone();
        program_args.extend(["--max-memory".to_string(), memory_argument(limits.max_memory)]);
        let code = runner::run_program(&binary, subcommand, &program_args);
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The model program's `--max-memory`: bytes, or `unlimited`.
fn memory_argument(bytes: u64) -> String {
    if bytes == u64::MAX {
        "unlimited".to_string()
    } else {
        bytes.to_string()
    }
}

/// Reads a spec file; an unreadable or non-UTF-8 file is reported with its path.
fn read_spec(path: &Path) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => match specc_lang::decode_source(&bytes) {
            Ok(text) => Some(text.to_string()),
            Err(e) => {
                error(format_args!("{}:{e}", path.display()));
                None
            }
        },
        Err(e) => {
            error(format_args!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

fn check(files: &[PathBuf], limits: &Limits) -> std::io::Result<ExitCode> {
    let mut failed = false;
    let mut first = true;
    for path in files {
        let Some((_, file)) = checked(path, limits) else {
            failed = true;
            continue;
        };
        let name = path.display().to_string();
        for model in &file.models {
            let gap = if first { "" } else { "\n" };
            first = false;
            print(&format!("{gap}{name}:\n{}", specc_lang::summary::summary(model)))?;
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads and checks a spec, printing its errors; `None` if it has any.
fn checked(path: &Path, limits: &Limits) -> Option<(String, specc_lang::CheckedFile)> {
    let source = read_spec(path)?;
    let name = path.display().to_string();
    match specc_lang::check_source_with(&source, limits) {
        Ok(file) => Some((source, file)),
        Err(diagnostics) => {
            let n = diagnostics.len();
            let _ = writeln!(
                std::io::stderr(),
                "{}error: could not check `{name}` due to {n} previous error{}",
                specc_lang::render(&diagnostics, &name, &source),
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

fn export(
    path: &Path,
    model: Option<&str>,
    weights: &Path,
    out: Option<&Path>,
    onnx: Option<&Path>,
    measure: bool,
    limits: &Limits,
) -> std::io::Result<ExitCode> {
    let Some((source, file)) = checked(path, limits) else {
        return Ok(ExitCode::FAILURE);
    };
    let shown = path.display().to_string();
    let spec_name = path
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let mut report = String::new();
    let result = runner::select(&file, &shown, model)
        .map_err(|e| e.to_string())
        .and_then(|model| {
            let values = export::read(model, weights)?;
            if let Some(out) = out {
                let (mut files, sizes) = export::files(model, &spec_name, &source, weights, &values)?;
                export::write(out, &files)?;
                report += &format!(
                    "exported `{}` to {}: {} parameters, {} bytes of weights (src/weights.bin), \
                     {} bytes of code (src/lib.rs), {} bytes of workspace for one sample, \
                     C header include/{}.h\n",
                    model.name,
                    out.display(),
                    sizes.parameters,
                    sizes.weights,
                    sizes.code,
                    sizes.workspace,
                    model.module_name
                );
                if measure {
                    let (builds, notes) = measure::builds(out, &model.module_name)?;
                    for b in &builds {
                        report += &format!(
                            "{}: {} bytes of code, {} of read-only data{}\n",
                            b.target,
                            b.code,
                            b.data,
                            b.ram.map_or_else(String::new, |r| format!(", {r} of static RAM"))
                        );
                    }
                    for n in &notes {
                        report += &format!("not measured: {n}\n");
                    }
                    let readme = files
                        .iter_mut()
                        .find(|(p, _)| p.as_os_str() == "README.md")
                        .ok_or("the crate has a README")?;
                    readme
                        .1
                        .extend_from_slice(measure::table(&builds, &notes).as_bytes());
                    export::write(out, &files)?;
                }
            }
            if let Some(onnx) = onnx {
                let bytes = specc_onnx::export(model, &spec_name, &values).map_err(|e| e.to_string())?;
                specc_harness::files::write_atomically(onnx, &bytes)
                    .map_err(|e| format!("cannot write {}: {e}", onnx.display()))?;
                report += &format!(
                    "exported `{}` to {}: ONNX opset {}, {} bytes\n",
                    model.name,
                    onnx.display(),
                    specc_onnx::OPSET,
                    bytes.len()
                );
            }
            Ok(())
        });
    match result {
        Ok(()) => {
            print(&report)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            error(format_args!("{e}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

fn build(
    path: &Path,
    output: Option<&Path>,
    options: specc_codegen::Options,
    limits: &Limits,
) -> std::io::Result<ExitCode> {
    let Some((source, file)) = checked(path, limits) else {
        return Ok(ExitCode::FAILURE);
    };
    let spec_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let code = match specc_codegen::generate_source(&file, &spec_name, &source, &options) {
        Ok(code) => code,
        Err(e) => {
            error(format_args!("{e}"));
            return Ok(ExitCode::FAILURE);
        }
    };
    match output {
        None => print(&code).map(|()| ExitCode::SUCCESS),
        Some(out) => match specc_harness::files::write_atomically(out, code.as_bytes()) {
            Ok(()) => {
                let _ = writeln!(std::io::stderr(), "wrote {}", out.display());
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                error(format_args!("cannot write {}: {e}", out.display()));
                Ok(ExitCode::FAILURE)
            }
        },
    }
}
