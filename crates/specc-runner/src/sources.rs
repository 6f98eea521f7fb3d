//! Where training, evaluation and prediction data come from: `--data
//! mnist:DIR`, `--data csv:FILE`, or synthetic data made for the model.

use std::path::{Path, PathBuf};

use specc_harness::data::Dataset;
use specc_train::{Model, TargetKind};

use crate::RunnerError;
use crate::files::say;
use crate::options::{at_least_one, check_memory};

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DataArgs {
    /// `mnist:DIR` (IDX files) or `csv:FILE` (features then target columns); synthetic data when absent.
    #[arg(long, value_name = "mnist:DIR|csv:FILE")]
    pub(crate) data: Option<String>,
    /// Number of synthetic samples, or a cap on the training samples of real data.
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub(crate) samples: Option<usize>,
}

/// Training data and the held-out set reported each epoch.
pub(crate) struct Data {
    pub(crate) train: Dataset,
    pub(crate) heldout: Option<Dataset>,
    /// `test` or `val`.
    pub(crate) heldout_name: &'static str,
}

pub(crate) enum Source {
    Mnist(PathBuf),
    Csv(PathBuf),
    Synthetic,
}

pub(crate) fn source(data: &DataArgs) -> Result<Source, RunnerError> {
    match data.data.as_deref() {
        None => Ok(Source::Synthetic),
        Some(d) => {
            if let Some(dir) = d.strip_prefix("mnist:") {
                Ok(Source::Mnist(PathBuf::from(dir)))
            } else if let Some(file) = d.strip_prefix("csv:") {
                Ok(Source::Csv(PathBuf::from(file)))
            } else {
                Err(RunnerError::Usage(format!(
                    "error: --data takes `mnist:DIR` or `csv:FILE`, not `{d}`\n"
                )))
            }
        }
    }
}

/// Gives the samples the model's input shape when they have as many values.
pub(crate) fn reshape_for<M: Model>(mut d: Dataset) -> Dataset {
    if d.sample_len() == M::input_len() {
        d.sample_shape = M::INPUT_SHAPE.to_vec();
    }
    d
}

pub(crate) fn cap(d: Dataset, n: Option<usize>) -> Dataset {
    match n {
        Some(n) if n < d.len => {
            let idx: Vec<usize> = (0..n).collect();
            d.subset(&idx)
        }
        _ => d,
    }
}

pub(crate) fn csv_dataset<M: Model>(file: &Path) -> Result<Dataset, RunnerError> {
    let columns = match M::TARGETS {
        TargetKind::Classes { .. } => 1,
        _ => M::output_len(),
    };
    let d = specc_harness::data::csv::read(
        file,
        columns,
        specc_harness::data::csv::CsvTargets::for_kind(M::TARGETS),
    )?;
    Ok(reshape_for::<M>(d))
}

pub(crate) fn default_samples<M: Model>() -> usize {
    let image = M::input_len() == 784 && matches!(M::TARGETS, TargetKind::Classes { .. });
    if image { 12_000 } else { 2_000 }
}

/// `n` synthetic training samples and `n / 6` held-out ones, drawn together
/// with one seed and split (a second seed would, for blobs, place the class
/// centres elsewhere and make the held-out set a different problem).
pub(crate) fn synthetic<M: Model>(
    n: usize,
    seed: u64,
    limit: u64,
) -> Result<(Dataset, Dataset), RunnerError> {
    let n = n.max(1);
    let h = (n / 6).max(1);
    // Inputs and targets in f32, made whole and then split (so twice over).
    let per_sample = (M::input_len() as u64 + M::output_len() as u64) * 4 * 2;
    let bytes = (n as u64)
        .checked_add(h as u64)
        .and_then(|s| s.checked_mul(per_sample));
    check_memory(
        &format!("{} synthetic samples for {}", n + h, M::NAME),
        bytes,
        limit,
    )?;
    let all =
        specc_harness::data::synthetic::for_model(M::INPUT_SHAPE, M::TARGETS, M::output_len(), n + h, seed)?;
    let train: Vec<usize> = (0..n).collect();
    let heldout: Vec<usize> = (n..n + h).collect();
    Ok((all.subset(&train), all.subset(&heldout)))
}

pub(crate) fn validate<M: Model>(d: &Dataset, what: &str) -> Result<(), RunnerError> {
    d.validate_for(M::INPUT_SHAPE, M::TARGETS, M::output_len())
        .map_err(|e| RunnerError::Invalid(format!("the {what} data does not fit model {}: {e}", M::NAME)))
}

pub(crate) fn training_data<M: Model>(args: &DataArgs, seed: u64, limit: u64) -> Result<Data, RunnerError> {
    let data = match source(args)? {
        Source::Mnist(dir) => {
            use specc_harness::data::idx::{Split, load_mnist};
            let train = reshape_for::<M>(load_mnist(&dir, Split::Train)?);
            let test = reshape_for::<M>(load_mnist(&dir, Split::Test)?);
            Data {
                train: cap(train, args.samples),
                heldout: Some(test),
                heldout_name: "test",
            }
        }
        Source::Csv(file) => {
            let all = csv_dataset::<M>(&file)?;
            let fraction = M::TRAIN.validation;
            if fraction > 0.0 {
                let (train, val) = all.split_validation(fraction, seed)?;
                Data {
                    train: cap(train, args.samples),
                    heldout: Some(val).filter(|v| !v.is_empty()),
                    heldout_name: "val",
                }
            } else {
                Data {
                    train: cap(all, args.samples),
                    heldout: None,
                    heldout_name: "val",
                }
            }
        }
        Source::Synthetic => {
            let n = args.samples.unwrap_or_else(default_samples::<M>);
            let (train, heldout) = synthetic::<M>(n, seed, limit)?;
            say!(
                "data: synthetic ({} training and {} test samples made up for {}); \
                 pass real data with --data mnist:DIR or --data csv:FILE",
                train.len,
                heldout.len,
                M::NAME
            );
            Data {
                train,
                heldout: Some(heldout),
                heldout_name: "test",
            }
        }
    };
    validate::<M>(&data.train, "training")?;
    if let Some(h) = &data.heldout {
        validate::<M>(h, "held-out")?;
    }
    Ok(data)
}
