//! `eval`: a checkpoint's metrics on held-out data.

use std::path::Path;

use specc_train::Model;

use crate::files::emit;
use crate::options::check_memory;
use crate::report::metric_text;
use crate::sources::{
    DataArgs, Source, cap, csv_dataset, default_samples, reshape_for, source, synthetic, validate,
};
use crate::{Outcome, RunnerError, load_weights};

pub(crate) fn run<M: Model<F = f32>>(
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
