//! The program that `specc train FILE` runs once it has compiled a spec's
//! generated code: `train`, `eval`, `predict` and `gradcheck` for one model,
//! in f32 (`M`) and f64 (`G`, for gradient checks).
//!
//! ```text
//! fn main() -> std::process::ExitCode {
//!     specc_runner::main::<model::f32::Mlp, model::f64::Mlp>()
//! }
//! ```

pub mod bench;
pub mod chart;
mod eval;
pub mod files;
mod gradcheck;
mod inputs;
mod options;
mod predict;
mod progress;
mod report;
mod sources;
mod train;

pub use gradcheck::GRADCHECK_TOLERANCE;
pub use predict::Prediction;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use specc_core::Precision;
use specc_harness::checkpoint::{self, CheckpointError};
use specc_harness::data::DataError;
use specc_harness::fit::{EpochReport, Metrics, TrainError};
use specc_train::gradcheck::TensorCheck;
use specc_train::{Model, TargetKind};

use files::say;
pub use options::DEFAULT_MAX_MEMORY;
use options::{at_least_one, bench_seconds, memory_bytes};
use sources::DataArgs;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// Bad command line (exit code 2); the message is clap's, ready to print.
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Data(#[from] DataError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// Training stopped on a NaN or infinite loss.
    #[error("{error}\n{}", match kept {
        Some(p) => format!("the last good checkpoint is kept at {}", p.display()),
        None => "no checkpoint was written".to_string(),
    })]
    NonFinite {
        error: TrainError,
        kept: Option<PathBuf>,
    },
    #[error("{0}")]
    Train(TrainError),
    /// Some tensor's analytic gradient disagrees with central differences.
    #[error("gradient check failed: {0}")]
    GradCheck(String),
    #[error("{0}")]
    Invalid(String),
}

impl RunnerError {
    /// The process exit code: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunnerError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// What a successful command did.
#[derive(Debug)]
pub enum Outcome {
    /// `--help` or `--version`: the text, already printed.
    Help(String),
    Trained {
        out_dir: PathBuf,
        checkpoint: PathBuf,
        /// The epochs this run trained (not those before a resume).
        reports: Vec<EpochReport>,
    },
    Evaluated(Metrics),
    Predicted(Vec<Prediction>),
    GradChecked(Vec<TensorCheck>),
    Benchmarked,
}

#[derive(Parser, Debug)]
#[command(
    name = "specc",
    about = "Train, evaluate and check a model compiled by specc",
    version,
    // `--epochs -1` reaches the value's parser, which says why it is wrong.
    allow_negative_numbers = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Threads for training and inference (default: SPECC_THREADS, else
    /// every CPU). Results are identical for every count.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=specc_core::par::MAX_THREADS as u64))]
    threads: Option<u64>,
    /// Refuse to train or evaluate at a batch (or on synthetic data) whose
    /// memory would exceed BYTES (`unlimited` for no limit; default 16 GiB;
    /// `specc` passes its own --max-memory / SPECC_MAX_MEMORY here).
    #[arg(long, global = true, value_name = "BYTES", value_parser = memory_bytes)]
    max_memory: Option<u64>,
    /// The precision of the dense and conv2d products (default: the spec's
    /// `train(precision = ...)`, else f32): `bf16` rounds their operands to
    /// bfloat16 and accumulates in f32 (mixed precision).
    #[arg(long, global = true, value_name = "P", value_parser = precision)]
    precision: Option<Precision>,
}

/// `--precision`: `f32` or `bf16`.
fn precision(text: &str) -> Result<Precision, String> {
    Precision::from_name(text).ok_or_else(|| format!("expected `f32` or `bf16`, not `{text}`"))
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train the model, writing checkpoint.safetensors, training.svg and history.csv after each epoch.
    #[command(allow_negative_numbers = true)]
    Train(train::TrainArgs),
    /// Evaluate saved weights on the test split (MNIST, CIFAR-10, an image folder's test/), a whole
    /// CSV or image folder, or synthetic held-out data; classifiers get per-class scores.
    #[command(allow_negative_numbers = true)]
    Eval {
        #[arg(long, value_name = "CHECKPOINT")]
        weights: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// Write the confusion matrix (confusion.csv, confusion.svg) and the per-class scores
        /// (classes.csv) of a classifier to this directory.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Predict from CSV rows of features (no targets), an IDX images file, or image files (PNG, JPEG,
    /// BMP; printed with their class names when the checkpoint has them).
    #[command(allow_negative_numbers = true)]
    Predict {
        #[arg(long, value_name = "CHECKPOINT")]
        weights: PathBuf,
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Print every output of each sample (as the model computes it,
        /// shortest round-trip f32 text) instead of the class.
        #[arg(long)]
        values: bool,
    },
    /// Compare the f64 model's gradients with central differences on a random batch.
    #[command(allow_negative_numbers = true)]
    Gradcheck {
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        #[arg(long, value_name = "N", default_value_t = 2, value_parser = at_least_one)]
        batch: usize,
    },
    /// Training throughput at batch 1, 32 and 128, batch-1 inference latency,
    /// GFLOP/s against the machine's peak measured in the same run, peak memory,
    /// and GFLOP/s of each dense and conv2d layer's forward, input-gradient and
    /// weight-gradient kernels at batch 128.
    #[command(allow_negative_numbers = true)]
    Bench {
        /// Seconds spent measuring each figure (more than 0, at most 3600).
        #[arg(long, value_name = "S", default_value_t = 2.0, value_parser = bench_seconds)]
        seconds: f64,
    },
}

/// Parses `std::env::args()`, runs the command, prints errors as `error: ...`
/// on stderr; exit code 0 on success, 1 on failure, 2 on a usage error.
pub fn main<M: Model<F = f32>, G: Model<F = f64>>() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run::<M, G>(&args) {
        Ok(_) => ExitCode::SUCCESS,
        Err(RunnerError::Usage(message)) => {
            let _ = write!(std::io::stderr(), "{message}");
            ExitCode::from(2)
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs one command; `args` excludes the program name.
pub fn run<M: Model<F = f32>, G: Model<F = f64>>(args: &[String]) -> Result<Outcome, RunnerError> {
    let argv = std::iter::once("specc".to_string()).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let text = e.render().to_string();
                    say!("{}", text.trim_end());
                    Ok(Outcome::Help(text))
                }
                _ => Err(RunnerError::Usage(e.render().to_string())),
            };
        }
    };
    match cli.threads {
        Some(threads) => specc_core::par::set_threads(threads as usize),
        None => {
            specc_core::par::threads_from_env().map_err(|e| RunnerError::Usage(format!("error: {e}\n")))?;
        }
    }
    let limit = cli.max_memory.unwrap_or(DEFAULT_MAX_MEMORY);
    let precision = cli.precision.unwrap_or(M::TRAIN.precision);
    specc_core::simd::with_precision(precision, || command::<M, G>(cli.command, precision, limit))
}

fn command<M: Model<F = f32>, G: Model<F = f64>>(
    command: Command,
    precision: Precision,
    limit: u64,
) -> Result<Outcome, RunnerError> {
    match command {
        Command::Train(args) => train::run::<M>(args, precision, limit),
        Command::Eval {
            weights,
            data,
            seed,
            out,
        } => eval::run::<M>(&weights, &data, seed, out.as_deref(), limit),
        Command::Predict {
            weights,
            inputs,
            values,
        } => predict::run::<M>(&weights, &inputs, values),
        Command::Gradcheck { seed, batch } => gradcheck::run::<G>(seed.unwrap_or(G::TRAIN.seed), batch),
        Command::Bench { seconds } => {
            bench::run::<M>(seconds, precision)?;
            Ok(Outcome::Benchmarked)
        }
    }
}

/// A model with the weights of the checkpoint `weights`.
/// The model of a checkpoint, with what else it records (class names).
fn load_weights<M: Model<F = f32>>(weights: &Path) -> Result<(M, checkpoint::CheckpointMeta), RunnerError> {
    let mut model = M::new(M::TRAIN.seed);
    let meta = checkpoint::load(weights, &mut model)?;
    Ok((model, meta))
}

fn classifier<M: Model>() -> bool {
    matches!(M::TARGETS, TargetKind::Classes { .. } | TargetKind::Binary)
}
