//! `specc`: check, build and train neural-network specs.

mod runner;

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "specc", version, about = "A compiler for neural-network specs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        /// The path generated code uses for the runtime crate.
        #[arg(long, default_value = "::specc_runtime")]
        runtime: String,
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
    /// Options for the model program (`--data`, `--epochs`, `--batch`, `--lr`,
    /// `--seed`, `--out`, `--resume`, `--threads`, `--weights`, inputs ...).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => check(&files),
        Command::Build {
            file,
            output,
            f64,
            runtime,
        } => build(&file, output.as_deref(), f64, runtime),
        Command::Train(args) => run_model("train", &args),
        Command::Eval(args) => run_model("eval", &args),
        Command::Predict(args) => run_model("predict", &args),
        Command::Gradcheck(args) => run_model("gradcheck", &args),
        Command::Bench(args) => run_model("bench", &args),
    }
}

impl RunArgs {
    /// specc's own options may stand anywhere, also among the model
    /// program's options that clap collected into `rest`.
    fn own_options_from_rest(&self) -> RunArgs {
        let mut out = RunArgs {
            file: self.file.clone(),
            model: self.model.clone(),
            quiet_build: self.quiet_build,
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
            } else {
                out.rest.push(item.clone());
            }
        }
        out
    }
}

/// Compiles the spec's model program (cached) and runs `subcommand` in it.
fn run_model(subcommand: &str, args: &RunArgs) -> ExitCode {
    let args = &args.own_options_from_rest();
    let Some((source, file)) = checked(&args.file) else {
        return ExitCode::FAILURE;
    };
    let shown = args.file.display().to_string();
    let model = match runner::select(&file, &shown, args.model.as_deref()) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spec_name = args
        .file
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let binary = match runner::build_program(model, &spec_name, &source, args.quiet_build) {
        Ok(binary) => binary,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match std::process::Command::new(&binary)
        .arg(subcommand)
        .args(&args.rest)
        .status()
    {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", binary.display());
            ExitCode::FAILURE
        }
    }
}

/// Reads a spec file; an unreadable file is reported like a diagnostic.
fn read_spec(path: &Path) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            None
        }
    }
}

fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for (i, path) in files.iter().enumerate() {
        let Some(source) = read_spec(path) else {
            failed = true;
            continue;
        };
        let name = path.display().to_string();
        match specc_lang::check_source(&source) {
            Ok(file) => {
                for (j, model) in file.models.iter().enumerate() {
                    if i + j > 0 {
                        println!();
                    }
                    println!("{name}:");
                    print!("{}", specc_lang::summary::summary(model));
                }
            }
            Err(diagnostics) => {
                failed = true;
                eprint!("{}", specc_lang::render(&diagnostics, &name, &source));
                let n = diagnostics.len();
                eprintln!(
                    "error: could not check `{name}` due to {n} previous error{}",
                    if n == 1 { "" } else { "s" }
                );
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks a spec, printing its errors; `None` if it has any.
fn checked(path: &Path) -> Option<(String, specc_lang::CheckedFile)> {
    let source = read_spec(path)?;
    let name = path.display().to_string();
    match specc_lang::check_source(&source) {
        Ok(file) => Some((source, file)),
        Err(diagnostics) => {
            eprint!("{}", specc_lang::render(&diagnostics, &name, &source));
            let n = diagnostics.len();
            eprintln!(
                "error: could not check `{name}` due to {n} previous error{}",
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

fn build(path: &Path, output: Option<&Path>, f64: bool, runtime: String) -> ExitCode {
    let Some((source, file)) = checked(path) else {
        return ExitCode::FAILURE;
    };
    let options = specc_codegen::Options {
        runtime_path: runtime,
        precision: if f64 {
            specc_codegen::Precision::F64
        } else {
            specc_codegen::Precision::F32
        },
    };
    let spec_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let code = match specc_codegen::generate_source(&file, &spec_name, &source, &options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => {
            print!("{code}");
            ExitCode::SUCCESS
        }
        Some(out) => match write_atomically(out, code.as_bytes()) {
            Ok(()) => {
                eprintln!("wrote {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::FAILURE
            }
        },
    }
}

/// Writes to a temporary file beside `path`, then renames it over `path`, so
/// that a reader never sees a half-written file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
