//! Helpers shared by the workspace tests: random batches that suit a model,
//! the bridge to the reference evaluator, and a plain training loop.

use specc_core::Float;
use specc_train::{Model, Rng, TargetKind, Targets};

/// Owned targets for one batch.
#[derive(Clone, Debug)]
pub enum OwnedTargets<F> {
    Classes(Vec<u32>),
    Values(Vec<F>),
}

impl<F: Float> OwnedTargets<F> {
    pub fn as_targets(&self) -> Targets<'_, F> {
        match self {
            OwnedTargets::Classes(c) => Targets::Classes(c),
            OwnedTargets::Values(v) => Targets::Values(v),
        }
    }
}

/// A random input batch in [-1, 1) and targets of the kind the model's loss expects.
pub fn random_batch<M: Model>(batch: usize, seed: u64) -> (Vec<M::F>, OwnedTargets<M::F>) {
    let mut rng = Rng::new(seed);
    let input = (0..batch * M::input_len())
        .map(|_| M::F::from_f64(rng.uniform(-1.0, 1.0)))
        .collect();
    let targets = match M::TARGETS {
        TargetKind::Classes { classes } => {
            OwnedTargets::Classes((0..batch).map(|_| rng.below(classes) as u32).collect())
        }
        TargetKind::Binary => OwnedTargets::Values(
            (0..batch * M::output_len())
                .map(|_| M::F::from_f64(rng.below(2) as f64))
                .collect(),
        ),
        TargetKind::Values => OwnedTargets::Values(
            (0..batch * M::output_len())
                .map(|_| M::F::from_f64(rng.uniform(-1.0, 1.0)))
                .collect(),
        ),
    };
    (input, targets)
}

/// Every named tensor of a model, as the reference evaluator's parameters.
pub fn to_reference<M: Model>(model: &M) -> specc_reference::Params {
    let tensors = M::TENSORS
        .iter()
        .map(|t| {
            let values = model.tensor(t.name).expect("listed tensor exists");
            (t.name.to_string(), values.iter().map(|v| v.to_f64()).collect())
        })
        .collect();
    specc_reference::Params { tensors }
}

/// The checked model of a spec in `specs/`.
pub fn checked_spec(stem: &str) -> specc_lang::CheckedModel {
    let path = format!("{}/../specs/{stem}.spec", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file = specc_lang::check_source(&source).unwrap_or_else(|d| panic!("{path}: {d:?}"));
    file.models.into_iter().next().expect("one model")
}

/// Mini-batch training over `(inputs, targets)` for `epochs`, shuffling with
/// `seed`; returns the mean loss of each epoch.
pub fn train<M: Model>(
    model: &mut M,
    inputs: &[M::F],
    targets: &OwnedTargets<M::F>,
    epochs: usize,
    batch: usize,
    seed: u64,
) -> Vec<f64> {
    let n = inputs.len() / M::input_len();
    let (in_len, out_len) = (M::input_len(), M::output_len());
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::derive(seed, "shuffle");
    let mut x = vec![M::F::ZERO; batch * in_len];
    let mut classes = vec![0u32; batch];
    let mut values = vec![M::F::ZERO; batch * out_len];
    let mut losses = Vec::new();
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        let mut total = 0.0;
        for chunk in order.chunks(batch) {
            let b = chunk.len();
            for (row, &i) in chunk.iter().enumerate() {
                x[row * in_len..(row + 1) * in_len].copy_from_slice(&inputs[i * in_len..(i + 1) * in_len]);
                match targets {
                    OwnedTargets::Classes(c) => classes[row] = c[i],
                    OwnedTargets::Values(v) => values[row * out_len..(row + 1) * out_len]
                        .copy_from_slice(&v[i * out_len..(i + 1) * out_len]),
                }
            }
            let t = match targets {
                OwnedTargets::Classes(_) => Targets::Classes(&classes[..b]),
                OwnedTargets::Values(_) => Targets::Values(&values[..b * out_len]),
            };
            total += model.train_step(&x[..b * in_len], t, b) * b as f64;
        }
        losses.push(total / n as f64);
    }
    losses
}

/// Fraction of samples whose arg-max prediction is the class.
pub fn accuracy<M: Model>(model: &mut M, inputs: &[M::F], classes: &[u32]) -> f64 {
    let n = classes.len();
    let k = M::output_len();
    let mut out = vec![M::F::ZERO; n * k];
    model.predict_into(inputs, n, &mut out);
    let correct = out
        .chunks_exact(k)
        .zip(classes)
        .filter(|&(row, &c)| {
            let best = (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b });
            best == c as usize
        })
        .count();
    correct as f64 / n as f64
}

/// Every trainable tensor's gradient after a backward pass, named
/// `gradient of <tensor>`, in the model's order.
pub fn trainable_gradients<M: Model>(model: &M) -> Vec<(String, Vec<M::F>)> {
    M::TENSORS
        .iter()
        .filter(|t| t.role.trainable())
        .map(|t| {
            let gradient = model.gradient(t.name).expect("a trainable tensor has a gradient");
            (format!("gradient of {}", t.name), gradient.to_vec())
        })
        .collect()
}
