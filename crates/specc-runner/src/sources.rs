//! Where training, evaluation and prediction data come from: `--data
//! mnist:DIR`, `cifar:DIR`, `images:DIR`, `csv:FILE`, or synthetic data made
//! for the model.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use specc_harness::data::csv::{CsvStream, CsvTargets};
use specc_harness::data::images::{self, ImageFolder, ImageStream};
use specc_harness::data::{Dataset, Samples, Split, Subset, spread_indices, validation_indices};
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
    /// Read image folders and CSV files batch by batch, a few batches ahead of the steps, instead
    /// of into memory first; the default for data that would take more than a quarter of
    /// --max-memory decoded.
    #[arg(long)]
    pub(crate) stream: bool,
}

/// Training data and the held-out set reported each epoch.
pub(crate) struct Data {
    pub(crate) train: Box<dyn Samples>,
    pub(crate) heldout: Option<Box<dyn Samples>>,
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

/// Whether to stream data that takes `bytes` decoded (`None`: beyond
/// counting): when asked to, or when it would take more than a quarter of
/// the memory limit.
fn streams(args: &DataArgs, what: &str, bytes: Option<u64>, limit: u64) -> bool {
    let size = bytes.map_or("more bytes than can be counted".to_string(), |b| {
        format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20))
    });
    let big = bytes.is_none_or(|b| b > limit / 4);
    let ahead = specc_harness::fit::PREFETCH;
    if args.stream {
        say!(
            "data: {what} ({size} decoded) streamed from the files, read {ahead} batches ahead of the steps"
        );
    } else if big {
        say!(
            "data: {what} would take {size} decoded, more than a quarter of the memory limit: \
             streamed from the files, read {ahead} batches ahead of the steps"
        );
    }
    args.stream || big
}

/// Samples in memory, or read from their files batch by batch.
pub(crate) enum Loaded {
    Memory(Dataset),
    Streamed(Arc<dyn Samples>),
}

impl Loaded {
    fn len(&self) -> usize {
        match self {
            Loaded::Memory(d) => d.len,
            Loaded::Streamed(s) => s.len(),
        }
    }

    /// The samples at `indices`: copied from memory, or a view of the stream.
    fn select(&self, indices: Vec<usize>) -> Box<dyn Samples> {
        match self {
            Loaded::Memory(d) => Box::new(d.subset(&indices)),
            Loaded::Streamed(s) => Box::new(Subset::new(Arc::clone(s), indices)),
        }
    }

    /// The first `n` samples (all without `n`).
    pub(crate) fn first(self, n: Option<usize>) -> Box<dyn Samples> {
        match n {
            Some(n) if n < self.len() => self.select((0..n).collect()),
            _ => self.into_samples(),
        }
    }

    fn into_samples(self) -> Box<dyn Samples> {
        match self {
            Loaded::Memory(d) => Box::new(d),
            Loaded::Streamed(s) => Box::new(s),
        }
    }
}

/// A CSV file for the model, in memory or streamed.
pub(crate) fn csv_samples<M: Model>(file: &Path, args: &DataArgs, limit: u64) -> Result<Loaded, RunnerError> {
    let (columns, kind) = match M::TARGETS {
        TargetKind::Classes { .. } => (1, CsvTargets::for_kind(M::TARGETS)),
        _ => (M::output_len(), CsvTargets::for_kind(M::TARGETS)),
    };
    // The text of a number takes about as many bytes as its f32.
    let size = std::fs::metadata(file).map(|m| m.len()).ok();
    if streams(args, &file.display().to_string(), size, limit) {
        return Ok(Loaded::Streamed(Arc::new(CsvStream::open(file, columns, kind)?)));
    }
    let d = specc_harness::data::csv::read(file, columns, kind)?;
    Ok(Loaded::Memory(reshape_for::<M>(d)))
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

/// An image folder's images for the model, decoded into memory or
/// streamed. With `--samples`, that many images spread evenly over the
/// folder (so over its classes).
pub(crate) fn image_samples<M: Model>(
    folder: &ImageFolder,
    args: &DataArgs,
    limit: u64,
) -> Result<Box<dyn Samples>, RunnerError> {
    let shape = image_shape::<M>("images")?;
    let picked = match args.samples {
        Some(n) if n < folder.files.len() => &folder.subset(&spread_indices(folder.files.len(), n)),
        _ => folder,
    };
    let what = format!("{} images", picked.files.len());
    if streams(
        args,
        &what,
        images::decoded_bytes(picked.files.len(), shape),
        limit,
    ) {
        return Ok(Box::new(ImageStream::new(picked, shape, M::DATA.resize)));
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    Ok(Box::new(images::load(picked, shape, M::DATA.resize, threads)?))
}

/// Says what an image folder holds: its size, classes and their counts.
pub(crate) fn print_classes(folder: &ImageFolder, role: &str) {
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

pub(crate) fn validate<M: Model>(d: &dyn Samples, what: &str) -> Result<(), RunnerError> {
    d.validate_for(M::INPUT_SHAPE, M::TARGETS, M::output_len())
        .map_err(|e| RunnerError::Invalid(format!("the {what} data does not fit model {}: {e}", M::NAME)))
}

/// Data published with its own test split, which is the held-out set.
fn test_split<M: Model>(train: Dataset, test: Dataset, args: &DataArgs) -> Data {
    Data {
        train: Box::new(cap(reshape_for::<M>(train), args.samples)),
        heldout: Some(Box::new(reshape_for::<M>(test))),
        heldout_name: "test",
    }
}

/// `all` split into training and validation data as the spec says, the
/// training part capped to its first `args.samples`.
fn validation_split<M: Model>(all: Loaded, args: &DataArgs, seed: u64) -> Result<Data, RunnerError> {
    let (mut train, val) = validation_indices(all.len(), M::TRAIN.validation, seed)?;
    train.truncate(args.samples.unwrap_or(usize::MAX));
    if val.is_empty() && args.samples.is_none_or(|n| n >= all.len()) {
        return Ok(Data {
            train: all.into_samples(),
            heldout: None,
            heldout_name: "val",
        });
    }
    Ok(Data {
        train: all.select(train),
        heldout: (!val.is_empty()).then(|| all.select(val)),
        heldout_name: "val",
    })
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
            let everything = DataArgs {
                samples: None,
                ..args.clone()
            };
            match &splits.test {
                Some(test) => {
                    print_classes(&splits.train, "training");
                    print_classes(test, "test");
                    Data {
                        train: image_samples::<M>(&splits.train, args, limit)?,
                        heldout: Some(image_samples::<M>(test, &everything, limit)?),
                        heldout_name: "test",
                    }
                }
                None => {
                    // The files are split, then each part is read.
                    let folder = &splits.train;
                    print_classes(folder, "");
                    let (train, val) = validation_indices(folder.files.len(), M::TRAIN.validation, seed)?;
                    let heldout = match val.is_empty() {
                        true => None,
                        false => Some(image_samples::<M>(&folder.subset(&val), &everything, limit)?),
                    };
                    Data {
                        train: image_samples::<M>(&folder.subset(&train), args, limit)?,
                        heldout,
                        heldout_name: "val",
                    }
                }
            }
        }
        Source::Csv(file) => validation_split::<M>(csv_samples::<M>(&file, args, limit)?, args, seed)?,
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
                train: Box::new(train),
                heldout: Some(Box::new(heldout)),
                heldout_name: "test",
            }
        }
    };
    validate::<M>(&*data.train, "training")?;
    if let Some(h) = &data.heldout {
        validate::<M>(&**h, "held-out")?;
    }
    Ok(data)
}
