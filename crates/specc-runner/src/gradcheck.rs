//! `gradcheck`: the f64 model's gradients against central differences.

use specc_train::{Model, Rng, TargetKind, Targets};

use crate::files::emit;
use crate::{Outcome, RunnerError};

/// Relative error above which `gradcheck` fails.
pub const GRADCHECK_TOLERANCE: f64 = 1e-5;

pub(crate) fn run<G: Model<F = f64>>(seed: u64, batch: usize) -> Result<Outcome, RunnerError> {
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
