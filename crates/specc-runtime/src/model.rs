//! The interface every generated model implements.

use crate::Float;
pub use specc_types::{TargetKind, TensorRole, TrainSettings};

/// Training targets for one batch.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, F> {
    /// One class index per sample (`cross_entropy`).
    Classes(&'a [u32]),
    /// `batch * output_len` values (`mse`, `mae`, `huber`, `binary_cross_entropy`).
    Values(&'a [F]),
}

/// Static facts about a named tensor of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// `layer.role`, e.g. `dense_1.weight`.
    pub name: &'static str,
    pub shape: &'static [usize],
    pub role: TensorRole,
}

impl TensorInfo {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A layer whose passes run through the runtime's GEMM-based kernels, with
/// the exact shapes the generated code passes them (for per-layer benchmarks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerKernel {
    /// `dense`: forward `matmul_nt(batch, inputs, units)`, input gradient
    /// `matmul_nn(batch, units, inputs)`, weight gradient
    /// `matmul_tn(units, batch, inputs)` (see [`crate::gemm`]).
    Dense {
        /// The layer's name in the spec, e.g. `dense_1`.
        name: &'static str,
        inputs: usize,
        units: usize,
        /// Whether the backward pass computes the input gradient (it does
        /// not when the layer reads the model's input).
        input_gradient: bool,
    },
    /// `conv2d`: [`crate::conv::forward`] and [`crate::conv::backward`]
    /// (input and weight gradients) with `shape`.
    Conv2d {
        /// The layer's name in the spec, e.g. `conv2d_1`.
        name: &'static str,
        shape: crate::conv::Conv2dShape,
        /// Whether the backward pass computes the input gradient.
        input_gradient: bool,
    },
}

impl LayerKernel {
    /// The layer's name in the spec.
    pub fn name(&self) -> &'static str {
        match self {
            LayerKernel::Dense { name, .. } | LayerKernel::Conv2d { name, .. } => name,
        }
    }

    /// Whether the backward pass computes the input gradient.
    pub fn input_gradient(&self) -> bool {
        match self {
            LayerKernel::Dense { input_gradient, .. } | LayerKernel::Conv2d { input_gradient, .. } => {
                *input_gradient
            }
        }
    }
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

/// A generated model: specialised forward and backward passes, its
/// parameters and optimizer state, and workspace buffers sized once per
/// batch size and reused, so that a step allocates nothing after the first.
pub trait Model {
    /// `f32` for training and inference; `f64` for gradient checks.
    type F: Float;

    /// The model's name as written in the spec.
    const NAME: &'static str;
    /// The name of its generated module (and of its run directory):
    /// `mnist_cnn` for `MnistCnn`.
    const MODULE: &'static str;
    /// The shape of one input sample.
    const INPUT_SHAPE: &'static [usize];
    /// The shape of one output (after any activation fused into the loss).
    const OUTPUT_SHAPE: &'static [usize];
    /// What the loss expects as targets.
    const TARGETS: TargetKind;
    /// Every named tensor: trainable parameters, then running statistics.
    const TENSORS: &'static [TensorInfo];
    /// The spec's training defaults.
    const TRAIN: TrainSettings;
    /// The optimizer's base learning rate.
    const LEARNING_RATE: f64;

    /// Forward FLOPs for one sample, as `specc check` counts them (a
    /// multiply-add is two; biases, activations, pooling and batchnorm one
    /// per element). A training step is about three times this.
    const FORWARD_FLOPS: u64;

    /// The bytes training needs, as `specc check` estimates them (f32
    /// parameters, gradients, optimizer state, and activations per sample).
    const TRAINING_MEMORY: MemoryEstimate;

    /// The dense and conv2d layers (residual blocks' included), in the
    /// order of the forward pass, with the shapes of their kernels.
    const KERNELS: &'static [LayerKernel];

    /// The spec's learning-rate schedule, if it has one.
    fn schedule() -> Option<crate::schedule::Schedule>;

    /// A model with freshly initialised parameters; `seed` fixes the
    /// initialisation and the dropout masks.
    fn new(seed: u64) -> Self;

    /// Inference: writes `batch * output_len` predictions (probabilities when
    /// the spec ends in softmax or sigmoid).
    fn predict_into(&mut self, input: &[Self::F], batch: usize, output: &mut [Self::F]);

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

    /// A named tensor's values (see [`Model::TENSORS`]).
    fn tensor(&self, name: &str) -> Option<&[Self::F]>;
    /// A named tensor's values, mutably.
    fn tensor_mut(&mut self, name: &str) -> Option<&mut [Self::F]>;
    /// The gradient of a trainable tensor from the last `loss_and_gradients`.
    fn gradient(&self, name: &str) -> Option<&[Self::F]>;

    /// Number of values in one input sample.
    fn input_len() -> usize {
        Self::INPUT_SHAPE.iter().product()
    }
    /// Number of values in one output.
    fn output_len() -> usize {
        Self::OUTPUT_SHAPE.iter().product()
    }

    /// Predictions for a batch as an ndarray of shape `[batch, output...]`,
    /// or an error naming the expected and given shapes. The input has shape
    /// `[batch, input...]` or `[batch, input_len]`.
    fn try_predict(
        &mut self,
        input: ndarray::ArrayViewD<'_, Self::F>,
    ) -> Result<ndarray::ArrayD<Self::F>, InputError> {
        let shape = input.shape();
        let batch = shape.first().copied().unwrap_or(0);
        let per_sample = &shape[shape.len().min(1)..];
        if shape.is_empty() || (per_sample != Self::INPUT_SHAPE && per_sample != [Self::input_len()]) {
            return Err(InputError::new::<Self>(format!(
                "input has shape {shape:?}, expected [batch, {}]",
                dims(Self::INPUT_SHAPE)
            )));
        }
        let data: Vec<Self::F> = input.iter().copied().collect();
        let mut out = vec![Self::F::ZERO; batch * Self::output_len()];
        self.predict_into(&data, batch, &mut out);
        let mut out_shape = vec![batch];
        out_shape.extend_from_slice(Self::OUTPUT_SHAPE);
        ndarray::ArrayD::from_shape_vec(out_shape, out)
            .map_err(|e| InputError::new::<Self>(format!("output of {batch} samples: {e}")))
    }

    /// [`try_predict`](Model::try_predict) for input known to have the
    /// model's shape.
    ///
    /// # Panics
    /// If the input's shape is not `[batch, input...]` or `[batch, input_len]`.
    fn predict(&mut self, input: ndarray::ArrayViewD<'_, Self::F>) -> ndarray::ArrayD<Self::F> {
        self.try_predict(input).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`predict_into`](Model::predict_into) after checking the slices'
    /// lengths against `batch`.
    fn try_predict_into(
        &mut self,
        input: &[Self::F],
        batch: usize,
        output: &mut [Self::F],
    ) -> Result<(), InputError> {
        check_len::<Self>("input", input.len(), batch, Self::input_len())?;
        check_len::<Self>("output", output.len(), batch, Self::output_len())?;
        self.predict_into(input, batch, output);
        Ok(())
    }

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
        check_len::<Self>("input", input.len(), batch, Self::input_len())?;
        match (Self::TARGETS, targets) {
            (TargetKind::Classes { classes }, Targets::Classes(labels)) => {
                check_len::<Self>("targets", labels.len(), batch, 1)?;
                if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l as usize >= classes) {
                    return Err(InputError::new::<Self>(format!(
                        "target {i} is class {l}, but the model has {classes} classes (0 to {})",
                        classes - 1
                    )));
                }
            }
            (TargetKind::Binary | TargetKind::Values, Targets::Values(values)) => {
                check_len::<Self>("targets", values.len(), batch, Self::output_len())?;
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

/// Data handed to a model that does not fit it: the wrong shape or length,
/// or targets out of range. The message names the model and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub model: &'static str,
    pub message: String,
}

impl InputError {
    fn new<M: Model + ?Sized>(message: String) -> Self {
        InputError {
            model: M::NAME,
            message,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model `{}`: {}", self.model, self.message)
    }
}

impl std::error::Error for InputError {}

/// `1, 28, 28`
fn dims(shape: &[usize]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

fn check_len<M: Model + ?Sized>(
    what: &str,
    len: usize,
    batch: usize,
    per_sample: usize,
) -> Result<(), InputError> {
    match batch.checked_mul(per_sample) {
        Some(n) if n == len => Ok(()),
        _ => Err(InputError::new::<M>(format!(
            "{what} holds {len} values, expected {batch} samples x {per_sample} = {}",
            batch.saturating_mul(per_sample)
        ))),
    }
}
