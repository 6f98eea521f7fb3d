//! Where training, evaluation and prediction data come from: `--data
//! mnist:DIR`, `cifar:DIR`, `images:DIR`, `csv:FILE`, or synthetic data made
//! for the model.

use std::path::{Path, PathBuf};

use specc_harness::data::images::{self, ImageFolder};
use specc_harness::data::{Dataset, Split};
use specc_train::{Model, TargetKind};

use crate::RunnerError;
use crate::files::say;
use crate::options::{at_least_one, check_memory};

#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct DataArgs {
    /// `mnist:DIR` (IDX files), `cifar:DIR` (CIFAR-10 binary batches), `images:DIR` (one folder of
    /// images per class, optionally under train/ and test/) or `csv:FILE` (features then target
    /// columns); synthetic data when absent.
    #[arg(long, value_name = "mnist:DIR|cifar:DIR|images:DIR|csv:FILE")]
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
    Cifar(PathBuf),
    Images(PathBuf),
    Csv(PathBuf),
    Synthetic,
}

/// The spellings `--data` takes, for its error message.
const SOURCES: &str = "`mnist:DIR`, `cifar:DIR`, `images:DIR` or `csv:FILE`";

pub(crate) fn source(data: &DataArgs) -> Result<Source, RunnerError> {
    match data.data.as_deref() {
        None => Ok(Source::Synthetic),
        Some(d) => {
            let (kind, path) = d.split_once(':').unwrap_or((d, ""));
            let path = PathBuf::from(path);
            match kind {
                _ if path.as_os_str().is_empty() => Err(RunnerError::Usage(format!(
                    "error: --data takes {SOURCES}, not `{d}`\n"
                ))),
                "mnist" => Ok(Source::Mnist(path)),
                "cifar" => Ok(Source::Cifar(path)),
                "images" => Ok(Source::Images(path)),
                "csv" => Ok(Source::Csv(path)),
                _ => Err(RunnerError::Usage(format!(
                    "error: --data takes {SOURCES}, not `{d}`\n"
                ))),
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

/// The model's input as `[channels, height, width]` for images, or the
/// error that says why images do not fit it.
pub(crate) fn image_shape<M: Model>(what: &str) -> Result<[usize; 3], RunnerError> {
    match *M::INPUT_SHAPE {
        [c @ (1 | 3), h, w] => Ok([c, h, w]),
        _ => Err(RunnerError::Invalid(format!(
            "{what} load as [1, H, W] (grayscale) or [3, H, W] (RGB) inputs, but model {} takes {:?}",
            M::NAME,
            M::INPUT_SHAPE
        ))),
    }
}

/// Decodes an image folder for the model, after printing its classes.
pub(crate) fn image_folder<M: Model>(folder: &ImageFolder, role: &str) -> Result<Dataset, RunnerError> {
    let shape = image_shape::<M>("images")?;
    let counts = folder.class_counts();
    say!(
        "data: {} images in {} classes in {}{}{}",
        folder.files.len(),
        counts.len(),
        folder.root.display(),
        if role.is_empty() {
            String::new()
        } else {
            format!(" ({role})")
        },
        if folder.skipped > 0 {
            format!("; {} other files skipped", folder.skipped)
        } else {
            String::new()
        }
    );
    let classes: Vec<String> = folder
        .class_names
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (name, n))| format!("{i} {name} ({n})"))
        .collect();
    say!("  classes: {}", classes.join(", "));
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(images::load(folder, shape, M::DATA.resize, threads)?)
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

/// Data published with its own test split, which is the held-out set.
fn test_split<M: Model>(train: Dataset, test: Dataset, args: &DataArgs) -> Data {
    Data {
        train: cap(reshape_for::<M>(train), args.samples),
        heldout: Some(reshape_for::<M>(test)),
        heldout_name: "test",
    }
}

/// `all` split into training and validation data as the spec says.
fn validation_split<M: Model>(all: Dataset, args: &DataArgs, seed: u64) -> Result<Data, RunnerError> {
    let fraction = M::TRAIN.validation;
    if fraction > 0.0 {
        let (train, val) = all.split_validation(fraction, seed)?;
        Ok(Data {
            train: cap(train, args.samples),
            heldout: Some(val).filter(|v| !v.is_empty()),
            heldout_name: "val",
        })
    } else {
        Ok(Data {
            train: cap(all, args.samples),
            heldout: None,
            heldout_name: "val",
        })
    }
}

pub(crate) fn training_data<M: Model>(args: &DataArgs, seed: u64, limit: u64) -> Result<Data, RunnerError> {
    let data = match source(args)? {
        Source::Mnist(dir) => {
            use specc_harness::data::idx::load_mnist;
            test_split::<M>(
                load_mnist(&dir, Split::Train)?,
                load_mnist(&dir, Split::Test)?,
                args,
            )
        }
        Source::Cifar(dir) => {
            use specc_harness::data::cifar::load_cifar10;
            test_split::<M>(
                load_cifar10(&dir, Split::Train)?,
                load_cifar10(&dir, Split::Test)?,
                args,
            )
        }
        Source::Images(dir) => {
            let splits = images::scan_splits(&dir)?;
            match &splits.test {
                Some(test) => test_split::<M>(
                    image_folder::<M>(&splits.train, "training")?,
                    image_folder::<M>(test, "test")?,
                    args,
                ),
                None => validation_split::<M>(image_folder::<M>(&splits.train, "")?, args, seed)?,
            }
        }
        Source::Csv(file) => validation_split::<M>(csv_dataset::<M>(&file)?, args, seed)?,
        Source::Synthetic => {
            let n = args.samples.unwrap_or_else(default_samples::<M>);
            let (train, heldout) = synthetic::<M>(n, seed, limit)?;
            say!(
                "data: synthetic ({} training and {} test samples made up for {}); \
                 pass real data with --data (mnist:DIR, cifar:DIR, images:DIR or csv:FILE)",
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
