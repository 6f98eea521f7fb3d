//! The interface every generated model implements for training: [`Model`],
//! on top of the inference core's [`Inference`].

use specc_core::{Float, InputError, LayerKernel};

pub use specc_core::Inference;
pub use specc_types::{
    Augment, DataSettings, EarlyStop, Monitor, Resize, Schedule, TargetKind, TrainSettings,
};

/// Training targets for one batch.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, F> {
    /// One class index per sample (`cross_entropy`).
    Classes(&'a [u32]),
    /// `batch * output_len` values (`mse`, `mae`, `huber`, `binary_cross_entropy`).
    Values(&'a [F]),
}

/// Bytes of memory as a function of the batch size: `fixed + per_sample * batch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    pub fixed: u64,
    pub per_sample: u64,
}

impl MemoryEstimate {
    /// The bytes at `batch`; `None` if they overflow `u64`.
    pub fn at(&self, batch: usize) -> Option<u64> {
        self.per_sample.checked_mul(batch as u64)?.checked_add(self.fixed)
    }
}

/// A generated model in training: on top of its [`Inference`] pass, the
/// specialised backward pass, the optimizer and its state, the loss and the
/// spec's training settings. A step allocates nothing after the first.
pub trait Model: Inference {
    /// What the loss expects as targets.
    const TARGETS: TargetKind;
    /// The spec's training defaults.
    const TRAIN: TrainSettings;
    /// The spec's `data(...)` settings: how samples are read for it.
    const DATA: DataSettings;
    /// The optimizer's base learning rate.
    const LEARNING_RATE: f64;

    /// The bytes training needs, as `specc check` estimates them (f32
    /// parameters, gradients, optimizer state, and activations per sample).
    const TRAINING_MEMORY: MemoryEstimate;

    /// The dense and conv2d layers (residual blocks' included), in the
    /// order of the forward pass, with the shapes of their kernels.
    const KERNELS: &'static [LayerKernel];

    /// The spec's learning-rate schedule, if it has one.
    fn schedule() -> Option<Schedule>;

    /// A model with freshly initialised parameters; `seed` fixes the
    /// initialisation and the dropout masks.
    fn new(seed: u64) -> Self;

    /// Training-mode forward and backward pass: returns the mean loss over the
    /// batch and leaves the gradients in the model, without updating it.
    fn loss_and_gradients(&mut self, input: &[Self::F], targets: Targets<'_, Self::F>, batch: usize) -> f64;

    /// Training-mode forward pass only: the loss that `loss_and_gradients`
    /// would return, for numeric gradient checks.
    fn training_loss(&mut self, input: &[Self::F], targets: Targets<'_, Self::F>, batch: usize) -> f64;

    /// Inference-mode forward pass and loss (dropout off, batchnorm on its
    /// running statistics), for evaluation on held-out data.
    fn evaluation_loss(&mut self, input: &[Self::F], targets: Targets<'_, Self::F>, batch: usize) -> f64;

    /// The raw outputs of the last forward pass, `batch * output_len` values:
    /// the logits when the spec's final softmax or sigmoid is fused into the
    /// loss (their arg-max and sign give the predicted classes).
    fn last_output(&self) -> &[Self::F];

    /// One optimizer step with the gradients of the last `loss_and_gradients`,
    /// at the current learning rate.
    fn apply_gradients(&mut self);

    /// `loss_and_gradients` then `apply_gradients`; returns the loss.
    fn train_step(&mut self, input: &[Self::F], targets: Targets<'_, Self::F>, batch: usize) -> f64 {
        let loss = self.loss_and_gradients(input, targets, batch);
        self.apply_gradients();
        loss
    }

    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f64;
    /// Sets the learning rate (schedules drive this between steps).
    fn set_learning_rate(&mut self, lr: f64);
    /// How many optimizer steps have been taken.
    fn steps(&self) -> u64;

    /// Sets the number of optimizer steps taken (when resuming from a checkpoint).
    fn set_steps(&mut self, steps: u64);

    /// The optimizer's state slots (`velocity`, `m`, `v`, ...): each holds one
    /// value per component of every trainable tensor.
    const OPTIMIZER_SLOTS: &'static [&'static str];
    /// A slot's values for one trainable tensor.
    fn optimizer_state(&self, slot: &str, tensor: &str) -> Option<&[Self::F]>;
    /// A slot's values for one trainable tensor, mutably.
    fn optimizer_state_mut(&mut self, slot: &str, tensor: &str) -> Option<&mut [Self::F]>;

    /// Restarts the dropout mask stream, so that two passes draw the same masks.
    fn reseed_dropout(&mut self, seed: u64);

    /// The gradient of a trainable tensor from the last `loss_and_gradients`.
    fn gradient(&self, name: &str) -> Option<&[Self::F]>;

    /// [`train_step`](Model::train_step) after checking the input's length,
    /// the targets' length and that every class index is below the number
    /// of classes (or every binary target 0 or 1).
    fn try_train_step(
        &mut self,
        input: &[Self::F],
        targets: Targets<'_, Self::F>,
        batch: usize,
    ) -> Result<f64, InputError> {
        if batch == 0 {
            return Err(InputError::new::<Self>(
                "a batch must hold at least one sample".into(),
            ));
        }
        InputError::check_len::<Self>("input", input.len(), batch, Self::input_len())?;
        match (Self::TARGETS, targets) {
            (TargetKind::Classes { classes }, Targets::Classes(labels)) => {
                InputError::check_len::<Self>("targets", labels.len(), batch, 1)?;
                if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= classes) {
                    return Err(InputError::new::<Self>(format!(
                        "target {i} is class {l}, but the model has {classes} classes (0 to {})",
                        classes - 1
                    )));
                }
            }
            (TargetKind::Binary | TargetKind::Values, Targets::Values(values)) => {
                InputError::check_len::<Self>("targets", values.len(), batch, Self::output_len())?;
                let binary = Self::TARGETS == TargetKind::Binary;
                let bad = |v: &Self::F| {
                    !v.to_f64().is_finite() || (binary && v.to_f64() != 0.0 && v.to_f64() != 1.0)
                };
                if let Some(i) = values.iter().position(bad) {
                    let want = if binary { "0 or 1" } else { "a finite number" };
                    return Err(InputError::new::<Self>(format!(
                        "target value {i} is {}, expected {want}",
                        values[i].to_f64()
                    )));
                }
            }
            (kind, _) => {
                return Err(InputError::new::<Self>(format!(
                    "the targets are of the wrong kind: the loss expects {}",
                    match kind {
                        TargetKind::Classes { .. } => "class indices (Targets::Classes)",
                        _ => "values (Targets::Values)",
                    }
                )));
            }
        }
        Ok(self.train_step(input, targets, batch))
    }
}
