//! `train`: trains the model one epoch at a time, writing a checkpoint, the
//! history and its chart after each.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use specc_harness::fit::{FitOptions, TrainError, Trainer, TrainerState};
use specc_train::Model;

use crate::chart::{self, HistoryRow};
use crate::files::say;
use crate::options::{at_least_one, check_memory, learning_rate};
use crate::report::{epoch_line, history_row};
use crate::sources::{DataArgs, training_data};
use crate::{Outcome, RunnerError, classifier, progress};
use specc_core::Precision;
use specc_harness::checkpoint::{self, CheckpointError, CheckpointMeta};

/// `train`'s options.
#[derive(clap::Args, Debug)]
pub(crate) struct TrainArgs {
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

pub(crate) fn run<M: Model<F = f32>>(
    args: TrainArgs,
    precision: Precision,
    limit: u64,
) -> Result<Outcome, RunnerError> {
    let mut options = FitOptions {
        precision,
        ..FitOptions::for_model::<M>()
    };
    let mut model_seed = options.seed;
    // Resuming: the checkpoint's seed, batch and base rate unless overridden.
    let mut resumed: Option<(M, CheckpointMeta)> = None;
    if let Some(path) = &args.resume {
        let mut model = M::new(args.seed.unwrap_or(options.seed));
        let meta = checkpoint::load(path, &mut model)?;
        options.seed = meta.seed;
        options.batch = meta.batch;
        options.learning_rate = meta.base_learning_rate;
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
    let start_epoch = resumed.as_ref().map_or(0, |(_, meta)| meta.progress.epoch);
    if let Some((_, meta)) = &resumed
        && meta.progress.stopped_early(options.early_stop.as_ref())
    {
        let (best, _) = meta.progress.best.unwrap_or_default();
        return Err(RunnerError::Invalid(format!(
            "the checkpoint's run stopped early after epoch {start_epoch} (its best epoch was {best}); \
             there is nothing to resume: train afresh, or with more patience"
        )));
    }
    if start_epoch >= options.epochs {
        return Err(RunnerError::Invalid(format!(
            "the checkpoint already has {start_epoch} epochs and training is set to {}; pass a larger --epochs to go on",
            options.epochs
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
    if precision == Precision::Bf16 {
        say!(
            "precision: bf16 products (kernel: {}), f32 accumulation, weights and optimizer",
            specc_core::gemm::bf16_kernel_name()
        );
    }
    let checkpoint_path = out_dir.join("checkpoint.safetensors");
    if let Some(other) = checkpoint::model_of(&checkpoint_path).filter(|m| m != M::NAME) {
        return Err(RunnerError::Invalid(format!(
            "{} holds a checkpoint of model `{other}`, which training `{}` would overwrite; choose another --out or remove it",
            checkpoint_path.display(),
            M::NAME
        )));
    }
    let best_path = out_dir.join("best.safetensors");
    let svg_path = out_dir.join("training.svg");
    let csv_path = out_dir.join("history.csv");

    let (mut model, state) = match resumed {
        Some((model, meta)) => {
            say!(
                "resuming from {} at epoch {} ({} steps)",
                args.resume.as_deref().unwrap_or(Path::new("")).display(),
                meta.progress.epoch + 1,
                meta.steps
            );
            (model, meta.progress)
        }
        None => (M::new(model_seed), TrainerState::default()),
    };
    let mut history: Vec<HistoryRow> = if start_epoch > 0 {
        std::fs::read_to_string(&csv_path)
            .map(|t| chart::parse_csv(&t))
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.epoch <= start_epoch)
            .collect()
    } else {
        Vec::new()
    };

    // One epoch at a time, so that the model is checkpointed between epochs.
    let mut trainer = Trainer::new(options.clone(), &*data.train, data.heldout.as_deref(), state)
        .map_err(RunnerError::Train)?;
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let mut observer = progress::Progress::new(show_bar, options.epochs);
    let mut reports = Vec::new();
    // The checkpoint to name if training fails: this run's own, or the one
    // it resumed from when that is the file this run writes.
    let mut wrote_checkpoint = args
        .resume
        .as_deref()
        .is_some_and(|r| checkpoint::same_file(r, &checkpoint_path));
    while !trainer.is_done() {
        let report = match trainer.run_epoch(&mut model, &mut observer) {
            Ok(report) => report,
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
        observer.clear();
        let epoch = report.epoch;
        let watched = report.validation.map_or(report.train.loss, |v| v.loss);
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
            steps: model.steps(),
            learning_rate: model.learning_rate(),
            base_learning_rate: options.learning_rate,
            seed: options.seed,
            batch: options.batch,
            progress: trainer.state().clone(),
            class_names: data.train.class_names().to_vec(),
        };
        checkpoint::save(&checkpoint_path, &model, &meta).map_err(|e| match e {
            CheckpointError::Invalid { path, message } => CheckpointError::Invalid {
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
        if report.best {
            checkpoint::save(&best_path, &model, &meta)?;
        }
        history.retain(|r| r.epoch < epoch);
        history.push(history_row(&report));
        write_atomically(&csv_path, chart::to_csv(&history).as_bytes())?;
        let svg = chart::svg(
            M::NAME,
            &history,
            classifier::<M>(),
            data.heldout_name,
            options.epochs,
        );
        write_atomically(&svg_path, svg.as_bytes())?;
        reports.push(report);
    }
    observer.clear();
    if let (Some(stop), Some((epoch, value))) = (options.early_stop, trainer.state().best) {
        if trainer.stopped_early() {
            say!(
                "early stop: {} has not improved for {} epochs",
                stop.monitor,
                stop.patience
            );
        }
        say!(
            "best: epoch {epoch} ({} {}) in {}",
            stop.monitor,
            format!("{value:.4}"),
            best_path.display()
        );
    }
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

/// Writes `bytes` to `path` atomically ([`specc_harness::files::write_atomically`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunnerError> {
    specc_harness::files::write_atomically(path, bytes).map_err(|source| RunnerError::Io {
        path: path.to_path_buf(),
        source,
    })
}
