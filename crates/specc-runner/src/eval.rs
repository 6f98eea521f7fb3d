//! `eval`: a checkpoint's metrics on held-out data.

use std::path::Path;

use specc_train::Model;

use crate::files::emit;
use crate::options::check_memory;
use crate::report::metric_text;
use crate::sources::{
    DataArgs, Source, cap, csv_samples, default_samples, image_samples, print_classes, reshape_for, source,
    synthetic, validate,
};
use crate::{Outcome, RunnerError, load_weights};
use specc_harness::data::{Samples, Split};
use specc_harness::files::write_atomically;

pub(crate) fn run<M: Model<F = f32>>(
    weights: &Path,
    args: &DataArgs,
    seed: Option<u64>,
    out: Option<&Path>,
    limit: u64,
) -> Result<Outcome, RunnerError> {
    let batch = M::TRAIN.batch.max(1);
    check_memory(
        &format!("evaluating {} at batch {batch}", M::NAME),
        M::TRAINING_MEMORY.at(batch),
        limit,
    )?;
    let (mut model, meta) = load_weights::<M>(weights)?;
    let (data, what): (Box<dyn Samples>, String) = match source(args)? {
        Source::Mnist(dir) => {
            use specc_harness::data::idx::load_mnist;
            let d = reshape_for::<M>(load_mnist(&dir, Split::Test)?);
            (
                Box::new(cap(d, args.samples)),
                format!("MNIST test split in {}", dir.display()),
            )
        }
        Source::Cifar(dir) => {
            use specc_harness::data::cifar::load_cifar10;
            let d = reshape_for::<M>(load_cifar10(&dir, Split::Test)?);
            (
                Box::new(cap(d, args.samples)),
                format!("CIFAR-10 test batch in {}", dir.display()),
            )
        }
        Source::Images(dir) => {
            // The test split when the folder has one, else every image.
            let splits = specc_harness::data::images::scan_splits(&dir)?;
            let folder = splits.test.unwrap_or(splits.train);
            let what = format!("the images in {}", folder.root.display());
            print_classes(&folder, "");
            (image_samples::<M>(&folder, args, limit)?, what)
        }
        Source::Csv(file) => (
            csv_samples::<M>(&file, args, limit)?.first(args.samples),
            file.display().to_string(),
        ),
        Source::Synthetic => {
            let n = args.samples.unwrap_or_else(default_samples::<M>);
            let seed = seed.unwrap_or(M::TRAIN.seed);
            (
                Box::new(synthetic::<M>(n, seed, limit)?.1),
                "synthetic held-out data (pass --data for real data)".to_string(),
            )
        }
    };
    validate::<M>(&*data, "evaluation")?;
    let (metrics, confusion) = specc_harness::fit::evaluate_classes(&mut model, &*data, batch)?;
    if !metrics.loss.is_finite() {
        return Err(RunnerError::Invalid(format!(
            "evaluating {} on {what} gave a loss of {}: the weights make the model's outputs overflow on this data",
            weights.display(),
            metrics.loss
        )));
    }
    emit!("{} samples of {what}", data.len())?;
    emit!("{}", metric_text(&metrics, ""))?;
    if let Some(confusion) = confusion {
        // The checkpoint's names are those the model learnt; the data's
        // serve for checkpoints that have none.
        let names = if meta.class_names.is_empty() {
            data.class_names()
        } else {
            &meta.class_names
        };
        emit!("{}", confusion.text(names))?;
        if let Some(dir) = out {
            std::fs::create_dir_all(dir).map_err(|source| RunnerError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            for (file, text) in [
                ("confusion.csv", confusion.matrix_csv(names)),
                ("classes.csv", confusion.scores_csv(names)),
                ("confusion.svg", confusion.svg(names)),
            ] {
                let path = dir.join(file);
                write_atomically(&path, text.as_bytes()).map_err(|source| RunnerError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
            emit!(
                "wrote confusion.csv, classes.csv and confusion.svg to {}",
                dir.display()
            )?;
        }
    } else if let Some(dir) = out {
        emit!(
            "note: {} is not a classifier; nothing per class to write to {}",
            M::NAME,
            dir.display()
        )?;
    }
    Ok(Outcome::Evaluated(metrics))
}
