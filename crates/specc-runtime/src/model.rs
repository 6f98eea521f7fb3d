//! The interface every generated model implements.

use crate::Float;

/// Training targets for one batch.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, F> {
    /// One class index per sample (`cross_entropy`).
    Classes(&'a [u32]),
    /// `batch * output_len` values (`mse`, `mae`, `huber`, `binary_cross_entropy`).
    Values(&'a [F]),
}

/// What the loss expects as targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// Class indices in `0..classes`.
    Classes { classes: usize },
    /// 0 or 1 for each output.
    Binary,
    /// Real values, one per output.
    Values,
}

/// The role of a named tensor, which decides checkpointing and decay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorRole {
    Weight,
    Bias,
    Gamma,
    Beta,
    RunningMean,
    RunningVar,
}

impl TensorRole {
    pub fn trainable(self) -> bool {
        !matches!(self, TensorRole::RunningMean | TensorRole::RunningVar)
    }
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

/// A model's defaults from its spec's `train(...)` statement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainDefaults {
    pub epochs: usize,
    pub batch: usize,
    pub seed: u64,
    pub shuffle: bool,
    pub validation: f64,
}

/// A generated model: specialised forward and backward passes, its
/// parameters and optimizer state, and workspace buffers sized once per
/// batch size and reused, so that a step allocates nothing after the first.
pub trait Model {
    /// `f32` for training and inference; `f64` for gradient checks.
    type F: Float;

    /// The model's name as written in the spec.
    const NAME: &'static str;
    /// The shape of one input sample.
    const INPUT_SHAPE: &'static [usize];
    /// The shape of one output (after any activation fused into the loss).
    const OUTPUT_SHAPE: &'static [usize];
    /// What the loss expects as targets.
    const TARGETS: TargetKind;
    /// Every named tensor: trainable parameters, then running statistics.
    const TENSORS: &'static [TensorInfo];
    /// The spec's training defaults.
    const TRAIN: TrainDefaults;
    /// The optimizer's base learning rate.
    const LEARNING_RATE: f64;

    /// Forward FLOPs for one sample, as `specc check` counts them (a
    /// multiply-add is two; biases, activations, pooling and batchnorm one
    /// per element). A training step is about three times this.
    const FORWARD_FLOPS: u64;

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

    /// Predictions for a batch as an ndarray of shape `[batch, output...]`.
    /// The input has shape `[batch, input...]` (or any shape with the same
    /// number of values per sample).
    fn predict(&mut self, input: ndarray::ArrayViewD<'_, Self::F>) -> ndarray::ArrayD<Self::F> {
        let batch = input.shape().first().copied().unwrap_or(0);
        assert_eq!(
            input.len(),
            batch * Self::input_len(),
            "{}: input has shape {:?}, expected [batch, {:?}]",
            Self::NAME,
            input.shape(),
            Self::INPUT_SHAPE
        );
        let data: Vec<Self::F> = input.iter().copied().collect();
        let mut out = vec![Self::F::ZERO; batch * Self::output_len()];
        self.predict_into(&data, batch, &mut out);
        let mut shape = vec![batch];
        shape.extend_from_slice(Self::OUTPUT_SHAPE);
        ndarray::ArrayD::from_shape_vec(shape, out).expect("output length matches its shape")
    }
}
