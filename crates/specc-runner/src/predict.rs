//! `predict`: a checkpoint's predictions for the samples of input files.

use std::path::PathBuf;

use specc_train::{Model, TargetKind};

use crate::files::emit;
use crate::{Outcome, RunnerError, inputs, load_weights};

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

pub(crate) fn run<M: Model<F = f32>>(
    weights: &std::path::Path,
    inputs: &[PathBuf],
    values: bool,
) -> Result<Outcome, RunnerError> {
    let (mut model, meta) = load_weights::<M>(weights)?;
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
                if values {
                    emit!("{} #{index}: {}", path.display(), values_text(row))?;
                } else {
                    emit!(
                        "{} #{index}: {}",
                        path.display(),
                        prediction_text(&p, &meta.class_names)
                    )?;
                }
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

/// A sample's outputs as `specc predict --values` prints them: each the
/// shortest text that reads back as the same f32, separated by spaces.
pub fn values_text(row: &[f32]) -> String {
    let v: Vec<String> = row.iter().map(|x| format!("{x:?}")).collect();
    v.join(" ")
}

/// `class 3 (97.20%)`, or `class 3 cat (97.20%)` where the checkpoint
/// names the classes.
fn prediction_text(p: &Prediction, class_names: &[String]) -> String {
    match (p.class, p.probability) {
        (Some(c), Some(prob)) => match class_names.get(c) {
            Some(name) => format!("class {c} {name} ({:.2}%)", 100.0 * prob),
            None => format!("class {c} ({:.2}%)", 100.0 * prob),
        },
        _ => {
            let v: Vec<String> = p.values.iter().map(|x| format!("{x}")).collect();
            v.join(", ")
        }
    }
}
