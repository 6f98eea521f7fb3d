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
pub mod checkpoint;
pub mod files;
mod inputs;
mod options;
mod progress;
mod sources;

/// The checkpoint format's crate, for programs that read or edit checkpoints.
pub use safetensors;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use specc_harness::data::DataError;
use specc_harness::fit::{EpochReport, FitOptions, Metrics, TrainError};
use specc_train::gradcheck::TensorCheck;
use specc_train::{Model, Rng, TargetKind, Targets};

use chart::HistoryRow;
use checkpoint::CheckpointMeta;
use files::{emit, say};
pub use options::DEFAULT_MAX_MEMORY;
use options::{at_least_one, bench_seconds, check_memory, learning_rate, memory_bytes};
use sources::{
    DataArgs, Source, cap, csv_dataset, default_samples, reshape_for, source, synthetic, training_data,
    validate,
};

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
    #[error("checkpoint {}: {message}", path.display())]
    Checkpoint { path: PathBuf, message: String },
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

/// The prediction for one input sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The predicted class (classifiers; for binary outputs, of the first output).
    pub class: Option<usize>,
    /// Its probability.
    pub probability: Option<f64>,
    /// The model's outputs (probabilities for classifiers).
    pub values: Vec<f32>,
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
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train the model, writing checkpoint.safetensors, training.svg and history.csv after each epoch.
    #[command(allow_negative_numbers = true)]
    Train(TrainArgs),
    /// Evaluate saved weights: the MNIST test split, the whole CSV, or synthetic held-out data.
    #[command(allow_negative_numbers = true)]
    Eval {
        #[arg(long, value_name = "CHECKPOINT")]
        weights: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
    },
    /// Predict from CSV rows of features (no targets) or an IDX images file.
    #[command(allow_negative_numbers = true)]
    Predict {
        #[arg(long, value_name = "CHECKPOINT")]
        weights: PathBuf,
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
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

/// Relative error above which `gradcheck` fails.
pub const GRADCHECK_TOLERANCE: f64 = 1e-5;

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
    match cli.command {
        Command::Train(args) => train::<M>(args, limit),
        Command::Eval { weights, data, seed } => eval::<M>(&weights, &data, seed, limit),
        Command::Predict { weights, inputs } => predict::<M>(&weights, &inputs),
        Command::Gradcheck { seed, batch } => gradcheck::<G>(seed.unwrap_or(G::TRAIN.seed), batch),
        Command::Bench { seconds } => {
            bench::run::<M>(seconds)?;
            Ok(Outcome::Benchmarked)
        }
    }
}

fn classifier<M: Model>() -> bool {
    matches!(M::TARGETS, TargetKind::Classes { .. } | TargetKind::Binary)
}

/// `train`'s options.
#[derive(clap::Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    epochs: Option<usize>,
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    batch: Option<usize>,
    /// Base learning rate (the schedule, if any, starts from it).
    #[arg(long, value_name = "X", value_parser = learning_rate)]
    lr: Option<f64>,
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Output directory (default runs/<model name in snake case>, or the checkpoint's directory when resuming).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue from a checkpoint, at the epoch after the one it recorded.
    #[arg(long, value_name = "CHECKPOINT")]
    resume: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `5780.3` as `5,780`.
fn thousands(x: f64) -> String {
    let n = x.round().max(0.0) as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn metric_text(m: &Metrics, prefix: &str) -> String {
    let mut s = format!("{prefix}loss {:.4}", m.loss);
    if let Some(a) = m.accuracy {
        s += &format!("  {prefix}accuracy {:.2}%", 100.0 * a);
    }
    if let Some(e) = m.mean_absolute_error {
        s += &format!("  {prefix}mean abs error {e:.4}");
    }
    s
}

fn epoch_line(r: &EpochReport, epochs: usize, heldout_name: &str) -> String {
    let mut s = format!("epoch {}/{epochs}  {}", r.epoch, metric_text(&r.train, ""));
    if let Some(v) = &r.validation {
        s += &format!("  {}", metric_text(v, &format!("{heldout_name} ")));
    }
    s += &format!(
        "  {} samples/s  lr {}  {:.1}s",
        thousands(r.samples_per_second),
        r.learning_rate,
        r.seconds
    );
    s
}

fn history_row(r: &EpochReport) -> HistoryRow {
    let metric = |m: &Metrics| m.accuracy.or(m.mean_absolute_error);
    HistoryRow {
        epoch: r.epoch,
        train_loss: r.train.loss,
        train_metric: metric(&r.train),
        heldout_loss: r.validation.map(|v| v.loss),
        heldout_metric: r.validation.as_ref().and_then(metric),
        lr: r.learning_rate,
        samples_per_s: r.samples_per_second,
    }
}

fn train<M: Model<F = f32>>(args: TrainArgs, limit: u64) -> Result<Outcome, RunnerError> {
    let mut options = FitOptions::for_model::<M>();
    let mut model_seed = options.seed;
    // Resuming: the checkpoint's seed, batch and base rate unless overridden.
    let mut resumed: Option<(M, CheckpointMeta)> = None;
    if let Some(path) = &args.resume {
        let mut model = M::new(args.seed.unwrap_or(options.seed));
        let meta = checkpoint::load(path, &mut model)?;
        options.seed = meta.seed;
        options.batch = meta.batch;
        options.learning_rate = meta.base_learning_rate;
        options.start_epoch = meta.epoch;
        resumed = Some((model, meta));
    }
    if let Some(e) = args.epochs {
        options.epochs = e;
    }
    if let Some(b) = args.batch {
        options.batch = b;
    }
    if let Some(lr) = args.lr {
        options.learning_rate = lr;
    }
    if let Some(s) = args.seed {
        options.seed = s;
        model_seed = s;
    } else if resumed.is_none() {
        model_seed = options.seed;
    }
    if options.start_epoch >= options.epochs {
        return Err(RunnerError::Invalid(format!(
            "the checkpoint already has {} epochs and training is set to {}; pass a larger --epochs to go on",
            options.start_epoch, options.epochs
        )));
    }

    check_memory(
        &format!("training {} at batch {}", M::NAME, options.batch),
        M::TRAINING_MEMORY.at(options.batch),
        limit,
    )?;
    let data = training_data::<M>(&args.data, options.seed, limit)?;
    let out_dir = match (&args.out, &args.resume) {
        (Some(out), _) => out.clone(),
        (None, Some(ckpt)) => ckpt
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        (None, None) => Path::new("runs").join(M::MODULE),
    };
    if out_dir.exists() && !out_dir.is_dir() {
        return Err(RunnerError::Invalid(format!(
            "--out {} is a file, not a directory: training writes checkpoint.safetensors, history.csv and training.svg into it",
            out_dir.display()
        )));
    }
    std::fs::create_dir_all(&out_dir).map_err(|source| RunnerError::Io {
        path: out_dir.clone(),
        source,
    })?;
    say!("output: {}", out_dir.display());
    let checkpoint_path = out_dir.join("checkpoint.safetensors");
    if let Some(other) = checkpoint::model_of(&checkpoint_path).filter(|m| m != M::NAME) {
        return Err(RunnerError::Invalid(format!(
            "{} holds a checkpoint of model `{other}`, which training `{}` would overwrite; choose another --out or remove it",
            checkpoint_path.display(),
            M::NAME
        )));
    }
    let svg_path = out_dir.join("training.svg");
    let csv_path = out_dir.join("history.csv");

    let (mut model, mut monitored) = match resumed {
        Some((model, meta)) => {
            say!(
                "resuming from {} at epoch {} ({} steps)",
                args.resume.as_deref().unwrap_or(Path::new("")).display(),
                meta.epoch + 1,
                meta.steps
            );
            (model, meta.monitored_losses)
        }
        None => (M::new(model_seed), Vec::new()),
    };
    let mut history: Vec<HistoryRow> = if options.start_epoch > 0 {
        std::fs::read_to_string(&csv_path)
            .map(|t| chart::parse_csv(&t))
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.epoch <= options.start_epoch)
            .collect()
    } else {
        Vec::new()
    };

    // One `fit` call per epoch, so that the model can be checkpointed between
    // epochs; a plateau schedule's state is kept here, exactly as `fit` would.
    let schedule = options.schedule.clone();
    let mut plateau = schedule
        .as_ref()
        .and_then(|s| specc_train::schedule::Plateau::from_schedule(s, options.learning_rate));
    if let Some(p) = plateau.as_mut() {
        for &loss in &monitored {
            p.end_epoch(loss);
        }
    }
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let mut observer = progress::Progress::new(show_bar, options.epochs);
    let mut reports = Vec::new();
    // The checkpoint to name if training fails: this run's own, or the one
    // it resumed from when that is the file this run writes.
    let mut wrote_checkpoint = args
        .resume
        .as_deref()
        .is_some_and(|r| checkpoint::same_file(r, &checkpoint_path));
    for epoch in options.start_epoch + 1..=options.epochs {
        let mut epoch_options = options.clone();
        epoch_options.start_epoch = epoch - 1;
        epoch_options.epochs = epoch;
        if let Some(p) = &plateau {
            epoch_options.schedule = None;
            epoch_options.learning_rate = p.rate();
        }
        let result = specc_harness::fit::fit(
            &mut model,
            &data.train,
            data.heldout.as_ref(),
            &epoch_options,
            &mut observer,
        );
        let report = match result {
            Ok(mut r) if !r.is_empty() => r.remove(0),
            Ok(_) => break,
            Err(error @ (TrainError::NonFiniteLoss { .. } | TrainError::Diverged { .. })) => {
                observer.clear();
                return Err(RunnerError::NonFinite {
                    error,
                    kept: wrote_checkpoint.then(|| checkpoint_path.clone()),
                });
            }
            Err(e) => {
                observer.clear();
                return Err(RunnerError::Train(e));
            }
        };
        options.reference_loss = Some(report.reference_loss);
        let watched = report.validation.map_or(report.train.loss, |v| v.loss);
        monitored.push(watched);
        if let Some(p) = plateau.as_mut() {
            p.end_epoch(watched);
        }
        say!("{}", epoch_line(&report, options.epochs, data.heldout_name));
        let non_finite =
            !report.train.loss.is_finite() || report.validation.is_some_and(|v| !v.loss.is_finite());
        if non_finite {
            return Err(RunnerError::NonFinite {
                error: TrainError::NonFiniteLoss {
                    epoch,
                    step: 0,
                    loss: watched,
                },
                kept: wrote_checkpoint.then(|| checkpoint_path.clone()),
            });
        }
        let meta = CheckpointMeta {
            model: M::NAME.to_string(),
            epoch,
            steps: model.steps(),
            learning_rate: model.learning_rate(),
            base_learning_rate: options.learning_rate,
            seed: options.seed,
            batch: options.batch,
            monitored_losses: monitored.clone(),
        };
        checkpoint::save(&checkpoint_path, &model, &meta).map_err(|e| match e {
            RunnerError::Checkpoint { path, message } => RunnerError::Checkpoint {
                path,
                message: format!(
                    "{message}{}",
                    if wrote_checkpoint {
                        format!(
                            "; the last good checkpoint is kept at {}",
                            checkpoint_path.display()
                        )
                    } else {
                        String::new()
                    }
                ),
            },
            e => e,
        })?;
        wrote_checkpoint = true;
        history.retain(|r| r.epoch < epoch);
        history.push(history_row(&report));
        checkpoint::write_atomically(&csv_path, chart::to_csv(&history).as_bytes())?;
        let svg = chart::svg(
            M::NAME,
            &history,
            classifier::<M>(),
            data.heldout_name,
            options.epochs,
        );
        checkpoint::write_atomically(&svg_path, svg.as_bytes())?;
        reports.push(report);
    }
    observer.clear();
    say!(
        "checkpoint: {}  chart: {}  history: {}",
        checkpoint_path.display(),
        svg_path.display(),
        csv_path.display()
    );
    Ok(Outcome::Trained {
        out_dir,
        checkpoint: checkpoint_path,
        reports,
    })
}

fn load_weights<M: Model<F = f32>>(weights: &Path) -> Result<M, RunnerError> {
    let mut model = M::new(M::TRAIN.seed);
    checkpoint::load(weights, &mut model)?;
    Ok(model)
}

fn eval<M: Model<F = f32>>(
    weights: &Path,
    args: &DataArgs,
    seed: Option<u64>,
    limit: u64,
) -> Result<Outcome, RunnerError> {
    let batch = M::TRAIN.batch.max(1);
    check_memory(
        &format!("evaluating {} at batch {batch}", M::NAME),
        M::TRAINING_MEMORY.at(batch),
        limit,
    )?;
    let mut model = load_weights::<M>(weights)?;
    let (data, what) = match source(args)? {
        Source::Mnist(dir) => {
            use specc_harness::data::idx::{Split, load_mnist};
            let d = reshape_for::<M>(load_mnist(&dir, Split::Test)?);
            (
                cap(d, args.samples),
                format!("MNIST test split in {}", dir.display()),
            )
        }
        Source::Csv(file) => (
            cap(csv_dataset::<M>(&file)?, args.samples),
            file.display().to_string(),
        ),
        Source::Synthetic => {
            let n = args.samples.unwrap_or_else(default_samples::<M>);
            let seed = seed.unwrap_or(M::TRAIN.seed);
            (
                synthetic::<M>(n, seed, limit)?.1,
                "synthetic held-out data (pass --data mnist:DIR or --data csv:FILE for real data)"
                    .to_string(),
            )
        }
    };
    validate::<M>(&data, "evaluation")?;
    let metrics = specc_harness::fit::evaluate(&mut model, &data, batch);
    if !metrics.loss.is_finite() {
        return Err(RunnerError::Invalid(format!(
            "evaluating {} on {what} gave a loss of {}: the weights make the model's outputs overflow on this data",
            weights.display(),
            metrics.loss
        )));
    }
    emit!("{} samples of {what}", data.len)?;
    emit!("{}", metric_text(&metrics, ""))?;
    Ok(Outcome::Evaluated(metrics))
}

fn predict<M: Model<F = f32>>(weights: &Path, inputs: &[PathBuf]) -> Result<Outcome, RunnerError> {
    let mut model = load_weights::<M>(weights)?;
    let mut predictions = Vec::new();
    let out_len = M::output_len();
    for path in inputs {
        let samples = inputs::read::<M>(path)?;
        let n = samples.len() / M::input_len().max(1);
        let batch = M::TRAIN.batch.clamp(1, 256);
        let mut output = vec![0.0f32; batch * out_len];
        let mut index = 0;
        for chunk in samples.chunks(batch * M::input_len()) {
            let b = chunk.len() / M::input_len();
            model.predict_into(chunk, b, &mut output[..b * out_len]);
            for row in output[..b * out_len].chunks_exact(out_len) {
                let p = prediction::<M>(row);
                emit!("{} #{index}: {}", path.display(), prediction_text(&p))?;
                predictions.push(p);
                index += 1;
            }
        }
        debug_assert_eq!(index, n);
    }
    Ok(Outcome::Predicted(predictions))
}

fn prediction<M: Model>(row: &[f32]) -> Prediction {
    match M::TARGETS {
        TargetKind::Classes { .. } => {
            // Probabilities when the spec ends in softmax; otherwise softmax here.
            let sum: f32 = row.iter().sum();
            let probs: Vec<f32> = if row.iter().all(|&p| (0.0..=1.0).contains(&p)) && (sum - 1.0).abs() < 1e-3
            {
                row.to_vec()
            } else {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f32> = row.iter().map(|&z| (z - max).exp()).collect();
                let s: f32 = e.iter().sum();
                e.iter().map(|x| x / s).collect()
            };
            let best = (0..probs.len()).fold(0, |b, j| if probs[j] > probs[b] { j } else { b });
            Prediction {
                class: Some(best),
                probability: probs.get(best).map(|&p| f64::from(p)),
                values: probs,
            }
        }
        TargetKind::Binary => {
            let probs: Vec<f32> = if row.iter().all(|&p| (0.0..=1.0).contains(&p)) {
                row.to_vec()
            } else {
                row.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect()
            };
            let p = probs.first().copied().unwrap_or(0.0);
            let class = usize::from(p > 0.5);
            Prediction {
                class: Some(class),
                probability: Some(f64::from(if class == 1 { p } else { 1.0 - p })),
                values: probs,
            }
        }
        TargetKind::Values => Prediction {
            class: None,
            probability: None,
            values: row.to_vec(),
        },
    }
}

fn prediction_text(p: &Prediction) -> String {
    match (p.class, p.probability) {
        (Some(c), Some(prob)) => {
            format!("class {c} ({:.2}%)", 100.0 * prob)
        }
        _ => {
            let v: Vec<String> = p.values.iter().map(|x| format!("{x}")).collect();
            v.join(", ")
        }
    }
}

fn gradcheck<G: Model<F = f64>>(seed: u64, batch: usize) -> Result<Outcome, RunnerError> {
    if batch == 0 {
        return Err(RunnerError::Invalid("--batch must be at least 1".into()));
    }
    let mut rng = Rng::new(seed);
    let input: Vec<f64> = (0..batch * G::input_len())
        .map(|_| rng.uniform(-1.0, 1.0))
        .collect();
    let classes: Vec<u32>;
    let values: Vec<f64>;
    let targets = match G::TARGETS {
        TargetKind::Classes { classes: k } => {
            classes = (0..batch).map(|_| rng.below(k) as u32).collect();
            Targets::Classes(&classes)
        }
        TargetKind::Binary => {
            values = (0..batch * G::output_len())
                .map(|_| rng.below(2) as f64)
                .collect();
            Targets::Values(&values)
        }
        TargetKind::Values => {
            values = (0..batch * G::output_len())
                .map(|_| rng.uniform(-1.0, 1.0))
                .collect();
            Targets::Values(&values)
        }
    };
    let mut model = G::new(seed);
    let results = specc_train::gradcheck::check(&mut model, &input, targets, batch, 1e-6, 24);
    emit!("gradient check of {} (f64, batch {batch}, h = 1e-6)", G::NAME)?;
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in &results {
        let verdict = if r.max_relative_error <= GRADCHECK_TOLERANCE {
            "ok"
        } else {
            "FAILED"
        };
        emit!(
            "{:width$}  {:>3} components  worst relative error {:.2e}  {verdict}",
            r.name,
            r.checked,
            r.max_relative_error
        )?;
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.max_relative_error.is_nan() || r.max_relative_error > GRADCHECK_TOLERANCE)
        .map(|r| {
            format!(
                "`{}` index {}: analytic {:.6e}, numeric {:.6e}, relative error {:.2e}",
                r.name, r.worst_index, r.analytic, r.numeric, r.max_relative_error
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(Outcome::GradChecked(results))
    } else {
        Err(RunnerError::GradCheck(format!(
            "above {GRADCHECK_TOLERANCE:e}: {}",
            failed.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(5780.3), "5,780");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
