//! The checked model: every layer resolved, every default filled in, every
//! shape inferred. Code generation, the `model!` macro, the build helper, the
//! reference evaluator and the CLI all consume this and nothing else; no stage
//! after the checker re-reads text or re-derives a default.

use crate::syntax::Span;
use std::fmt;

pub use crate::activation::Activation;
pub use specc_types::{
    Augment, DataSettings, EarlyStop, Init, Monitor, Precision, Resize, Schedule, ScheduleKind, ScheduleUnit,
    TargetKind, TensorRole, TrainSettings, snake_case,
};

/// A hyper-parameter as people write it: `0.001`, `1e-7`, `0.9`, `1`.
pub fn num(x: f64) -> String {
    if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// The shape of one sample (the batch dimension is implicit).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<usize>);

impl Shape {
    /// The number of elements. The checker rejects every shape whose count
    /// does not fit in `usize`, so for a checked model this never overflows.
    pub fn numel(&self) -> usize {
        self.checked_numel().unwrap_or(usize::MAX)
    }
    /// The number of elements, or `None` if it does not fit in `usize`.
    pub fn checked_numel(&self) -> Option<usize> {
        crate::limits::product(&self.0)
    }
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    /// `[C, H, W]` if the shape has rank 3.
    pub fn chw(&self) -> Option<(usize, usize, usize)> {
        match self.0[..] {
            [c, h, w] => Some((c, h, w)),
            _ => None,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

/// All models of one spec file.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedFile {
    pub models: Vec<CheckedModel>,
}

/// One model, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedModel {
    /// The Rust type name, as written: `MnistCnn`.
    pub name: String,
    /// Its snake_case, the name of the generated module: `mnist_cnn`.
    pub module_name: String,
    pub input: Shape,
    /// Top-level layers in order; residual blocks hold their own.
    pub layers: Vec<Layer>,
    /// The shape the model's last layer produces.
    pub output: Shape,
    pub loss: Loss,
    pub optimizer: Optimizer,
    pub schedule: Option<Schedule>,
    pub clip: Option<Clip>,
    /// L2 coefficient added to weight gradients (never biases or batchnorm); 0 for none.
    pub weight_decay: f64,
    pub train: TrainSettings,
    /// The `data(...)` statement's settings.
    pub data: DataSettings,
    pub span: Span,
}

impl CheckedModel {
    /// Every layer, depth first, residual bodies before their shortcut.
    pub fn all_layers(&self) -> Vec<&Layer> {
        fn walk<'a>(layers: &'a [Layer], out: &mut Vec<&'a Layer>) {
            for layer in layers {
                out.push(layer);
                if let LayerKind::Residual { body, shortcut } = &layer.kind {
                    walk(body, out);
                    if let Some(s) = shortcut {
                        out.push(s);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.layers, &mut out);
        out
    }

    /// Every parameter tensor, in a fixed order (the order of `all_layers`).
    pub fn parameters(&self) -> Vec<ParamTensor> {
        self.all_layers()
            .into_iter()
            .flat_map(|l| l.parameters())
            .collect()
    }

    /// Checks trained values for [`parameters`](CheckedModel::parameters),
    /// one `Vec` per tensor in that order: as many tensors, each of its
    /// shape's length and finite. The error names the tensor.
    pub fn check_values(&self, tensors: &[Vec<f32>]) -> Result<(), String> {
        let expected = self.parameters();
        if tensors.len() != expected.len() {
            return Err(format!(
                "{} tensors given, model `{}` has {}",
                tensors.len(),
                self.name,
                expected.len()
            ));
        }
        for (t, values) in expected.iter().zip(tensors) {
            let len: usize = t.shape.iter().product();
            if values.len() != len {
                return Err(format!(
                    "tensor `{}` has {} values, its shape {:?} holds {len}",
                    t.name,
                    values.len(),
                    t.shape
                ));
            }
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                return Err(format!("tensor `{}` holds {} at index {i}", t.name, values[i]));
            }
        }
        Ok(())
    }

    pub fn trainable_params(&self) -> usize {
        self.layers.iter().map(|l| l.params.trainable).sum()
    }

    pub fn non_trainable_params(&self) -> usize {
        self.layers.iter().map(|l| l.params.non_trainable).sum()
    }

    pub fn total_params(&self) -> usize {
        self.trainable_params() + self.non_trainable_params()
    }

    /// Forward FLOPs for one sample.
    pub fn forward_flops(&self) -> u64 {
        self.layers.iter().map(|l| l.flops).sum()
    }

    /// An estimate of the bytes training needs at `batch` (f32): the input
    /// batch, then per layer in [`all_layers`](Self::all_layers) order its
    /// parameters, their gradients and optimizer slots, and its outputs and
    /// their gradients for the batch. Yields the running total after each
    /// layer; an item is `None` once the total overflows `u64`.
    pub fn training_memory(&self, batch: usize) -> impl Iterator<Item = (&Layer, Option<u64>)> {
        let slots = self.optimizer.kind.state_slots().len() as u64;
        let values = |n: usize| (n as u64).checked_mul(4);
        let mut total = values(self.input.numel()).and_then(|b| b.checked_mul(batch as u64));
        self.all_layers().into_iter().map(move |layer| {
            let own = || {
                let tensors = layer.parameters();
                let params = tensors.iter().try_fold(0u64, |acc, t| {
                    let n = values(t.shape.iter().product())?;
                    let copies = if t.role.trainable() { 2 + slots } else { 1 };
                    acc.checked_add(n.checked_mul(copies)?)
                })?;
                // Values and gradients; twice over when the product's
                // output is kept before the activation.
                let copies = if layer.split_activation().is_some() { 4 } else { 2 };
                let outputs = values(layer.output.numel())?
                    .checked_mul(copies)?
                    .checked_mul(batch as u64)?;
                params.checked_add(outputs)
            };
            total = total.and_then(|t| t.checked_add(own()?));
            (layer, total)
        })
    }

    /// What the loss expects as targets.
    pub fn targets(&self) -> TargetKind {
        match self.loss.kind {
            LossKind::CrossEntropy => TargetKind::Classes {
                classes: self.output.numel(),
            },
            LossKind::BinaryCrossEntropy => TargetKind::Binary,
            LossKind::Mse | LossKind::Mae | LossKind::Huber { .. } => TargetKind::Values,
        }
    }
}

/// Parameter counts of a layer (a residual block counts its body and shortcut).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParamCount {
    /// Updated by the optimizer.
    pub trainable: usize,
    /// State such as batchnorm's running mean and variance.
    pub non_trainable: usize,
}

impl ParamCount {
    pub fn total(&self) -> usize {
        self.trainable + self.non_trainable
    }
}

/// One named parameter tensor, e.g. `conv2d_1.weight` of shape `[32, 1, 3, 3]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamTensor {
    /// `layer.role`, the name used in checkpoints.
    pub name: String,
    pub layer: String,
    pub role: TensorRole,
    pub shape: Vec<usize>,
    /// How a `Weight` is initialised; `None` for the other roles.
    pub init: Option<Init>,
    /// Fan-in and fan-out for the initialiser.
    pub fan_in: usize,
    pub fan_out: usize,
}

/// A checked layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Unique in the model, numbered per kind as Keras does: `conv2d_1`, `dense_2`.
    pub name: String,
    pub kind: LayerKind,
    pub input: Shape,
    pub output: Shape,
    pub params: ParamCount,
    /// Forward FLOPs per sample (a multiply-add counts 2).
    pub flops: u64,
    pub span: Span,
}

impl Layer {
    /// This layer's own parameter tensors (not those of nested layers).
    pub fn parameters(&self) -> Vec<ParamTensor> {
        let tensor =
            |role: TensorRole, shape: Vec<usize>, init: Option<Init>, fans: (usize, usize)| ParamTensor {
                name: format!("{}.{}", self.name, role.suffix()),
                layer: self.name.clone(),
                role,
                shape,
                init,
                fan_in: fans.0,
                fan_out: fans.1,
            };
        match &self.kind {
            LayerKind::Dense(d) => {
                let inputs = self.input.numel();
                let fans = (inputs, d.units);
                let mut v = vec![tensor(
                    TensorRole::Weight,
                    vec![d.units, inputs],
                    Some(d.init),
                    fans,
                )];
                if d.bias {
                    v.push(tensor(TensorRole::Bias, vec![d.units], None, fans));
                }
                v
            }
            LayerKind::Conv2d(c) => {
                let channels = self.input.0[0];
                let [kh, kw] = c.kernel;
                let fans = (channels * kh * kw, c.filters * kh * kw);
                let mut v = vec![tensor(
                    TensorRole::Weight,
                    vec![c.filters, channels, kh, kw],
                    Some(c.init),
                    fans,
                )];
                if c.bias {
                    v.push(tensor(TensorRole::Bias, vec![c.filters], None, fans));
                }
                v
            }
            LayerKind::DepthwiseConv2d(d) => {
                let filters = self.input.0[0] * d.multiplier;
                let [kh, kw] = d.kernel;
                let fans = (kh * kw, d.multiplier * kh * kw);
                let mut v = vec![tensor(
                    TensorRole::Weight,
                    vec![filters, 1, kh, kw],
                    Some(d.init),
                    fans,
                )];
                if d.bias {
                    v.push(tensor(TensorRole::Bias, vec![filters], None, fans));
                }
                v
            }
            LayerKind::GroupNorm(_) => {
                let c = self.input.0[0];
                [TensorRole::Gamma, TensorRole::Beta]
                    .into_iter()
                    .map(|r| tensor(r, vec![c], None, (c, c)))
                    .collect()
            }
            LayerKind::BatchNorm(_) => {
                let c = self.input.0[0];
                [
                    TensorRole::Gamma,
                    TensorRole::Beta,
                    TensorRole::RunningMean,
                    TensorRole::RunningVar,
                ]
                .into_iter()
                .map(|r| tensor(r, vec![c], None, (c, c)))
                .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The activation applied at the end of this layer, if any
    /// (`dense(..., activation = relu)` or a standalone `relu`).
    pub fn activation(&self) -> Option<Activation> {
        match &self.kind {
            LayerKind::Dense(d) => d.activation,
            LayerKind::Conv2d(c) => c.activation,
            LayerKind::DepthwiseConv2d(d) => d.activation,
            LayerKind::Activation(a) => Some(*a),
            _ => None,
        }
    }

    /// The activation of a dense or conv2d layer whose gradient needs its
    /// input ([`Activation::needs_input`]): it runs after the layer's product,
    /// whose output (the pre-activation) training keeps beside the layer's.
    pub fn split_activation(&self) -> Option<Activation> {
        match &self.kind {
            LayerKind::Dense(_) | LayerKind::Conv2d(_) | LayerKind::DepthwiseConv2d(_) => {
                self.activation().filter(|a| a.needs_input())
            }
            _ => None,
        }
    }

    /// The kind's name as written in specs: `conv2d`, `residual`.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    Dense(Dense),
    Conv2d(Conv2d),
    /// `depthwise_conv2d(kernel, multiplier)`: each channel convolved on its own.
    DepthwiseConv2d(DepthwiseConv2d),
    MaxPool2d(Pool2d),
    AvgPool2d(Pool2d),
    GlobalAvgPool,
    /// The largest value of each channel: `[C, H, W]` to `[C]`.
    GlobalMaxPool,
    /// `zero_pad2d(padding)`: `[ph, pw]` rows and columns of zeros on each
    /// side of every plane.
    ZeroPad2d {
        padding: [usize; 2],
    },
    /// `crop2d(cropping)`: `[ch, cw]` rows and columns off each side.
    Crop2d {
        cropping: [usize; 2],
    },
    /// `upsample2d(factor, mode)`: every plane `[fh, fw]` times larger.
    Upsample2d {
        factor: [usize; 2],
        mode: UpsampleMode,
    },
    Flatten,
    Activation(Activation),
    Dropout {
        rate: f64,
    },
    BatchNorm(BatchNorm),
    /// `groupnorm(groups)` and `layernorm` (one group): each sample's own
    /// statistics per group of channels, then a per-channel scale and shift.
    GroupNorm(GroupNorm),
    /// `normalize(mean, std)`: `(x - mean[c]) / std[c]` per channel of an
    /// image (or per feature of a vector), with fixed values: the input
    /// scaling a model was trained with, carried into every use of it.
    Normalize {
        mean: Vec<f64>,
        std: Vec<f64>,
    },
    Residual {
        body: Vec<Layer>,
        /// `None` for the identity shortcut.
        shortcut: Option<Box<Layer>>,
    },
}

impl LayerKind {
    pub fn name(&self) -> &'static str {
        match self {
            LayerKind::Dense(_) => "dense",
            LayerKind::Conv2d(_) => "conv2d",
            LayerKind::DepthwiseConv2d(_) => "depthwise_conv2d",
            LayerKind::MaxPool2d(_) => "maxpool2d",
            LayerKind::AvgPool2d(_) => "avgpool2d",
            LayerKind::GlobalAvgPool => "global_avgpool",
            LayerKind::GlobalMaxPool => "global_maxpool",
            LayerKind::ZeroPad2d { .. } => "zero_pad2d",
            LayerKind::Crop2d { .. } => "crop2d",
            LayerKind::Upsample2d { .. } => "upsample2d",
            LayerKind::Flatten => "flatten",
            LayerKind::Activation(a) => a.name(),
            LayerKind::Dropout { .. } => "dropout",
            LayerKind::BatchNorm(_) => "batchnorm",
            LayerKind::GroupNorm(g) if g.layer => "layernorm",
            LayerKind::GroupNorm(_) => "groupnorm",
            LayerKind::Normalize { .. } => "normalize",
            LayerKind::Residual { .. } => "residual",
        }
    }
}

/// How `upsample2d` fills the new pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpsampleMode {
    /// Each pixel repeated.
    Nearest,
    /// Interpolated between the four nearest pixel centres (half-pixel
    /// centres, edges clamped: PyTorch's `align_corners = False`).
    Bilinear,
}

impl UpsampleMode {
    /// As written in specs.
    pub fn name(self) -> &'static str {
        match self {
            UpsampleMode::Nearest => "nearest",
            UpsampleMode::Bilinear => "bilinear",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub units: usize,
    pub activation: Option<Activation>,
    pub bias: bool,
    pub init: Init,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub filters: usize,
    /// `[kh, kw]`
    pub kernel: [usize; 2],
    /// `[sh, sw]`
    pub stride: [usize; 2],
    /// As written, for display.
    pub padding_spec: PaddingSpec,
    /// Resolved padding: `[top, bottom, left, right]`.
    pub padding: [usize; 4],
    pub activation: Option<Activation>,
    pub bias: bool,
    pub init: Init,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DepthwiseConv2d {
    /// Kernels per input channel: the output has `channels * multiplier`.
    pub multiplier: usize,
    /// `[kh, kw]`
    pub kernel: [usize; 2],
    /// `[sh, sw]`
    pub stride: [usize; 2],
    /// `[dh, dw]`: the kernel's taps `d` apart.
    pub dilation: [usize; 2],
    pub padding_spec: PaddingSpec,
    /// Resolved padding: `[top, bottom, left, right]`.
    pub padding: [usize; 4],
    pub activation: Option<Activation>,
    pub bias: bool,
    pub init: Init,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaddingSpec {
    Valid,
    /// TensorFlow's `same`: output = ceil(input / stride), the extra row or
    /// column of padding at the bottom or right.
    Same,
    /// Explicit `[ph, pw]` on both sides.
    Explicit([usize; 2]),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pool2d {
    pub size: [usize; 2],
    pub stride: [usize; 2],
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupNorm {
    /// Divides the channels (the features of a vector); 1 for `layernorm`.
    pub groups: usize,
    pub eps: f64,
    /// Written `layernorm`.
    pub layer: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    /// Running statistics: `running = momentum * running + (1 - momentum) * batch` (Keras).
    pub momentum: f64,
    pub eps: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    pub kind: LossKind,
    /// A final softmax (cross_entropy) or sigmoid (binary_cross_entropy) of the
    /// last top-level layer that the loss absorbs: training computes the loss
    /// from the logits before it, prediction still applies it.
    pub fused_activation: Option<Activation>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LossKind {
    /// mean over the batch of the sum over outputs of (y - t)^2 / n_outputs (Keras' mean squared error).
    Mse,
    Mae,
    Huber {
        delta: f64,
    },
    /// Softmax cross-entropy on logits; targets are class indices.
    CrossEntropy,
    /// Sigmoid cross-entropy on logits; targets are 0 or 1 per output.
    BinaryCrossEntropy,
}

impl LossKind {
    pub fn name(&self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::Mae => "mae",
            LossKind::Huber { .. } => "huber",
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::BinaryCrossEntropy => "binary_cross_entropy",
        }
    }

    /// Targets are class indices (one integer per sample) rather than f32 values.
    pub fn has_class_targets(&self) -> bool {
        matches!(self, LossKind::CrossEntropy)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub lr: f64,
    pub span: Span,
}

/// Each optimizer with its resolved hyper-parameters (Keras defaults).
#[derive(Clone, Debug, PartialEq)]
pub enum OptimizerKind {
    Sgd {
        momentum: f64,
        nesterov: bool,
    },
    Adagrad {
        initial_accumulator: f64,
        eps: f64,
    },
    RmsProp {
        rho: f64,
        momentum: f64,
        eps: f64,
        centered: bool,
    },
    AdaDelta {
        rho: f64,
        eps: f64,
    },
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
        amsgrad: bool,
    },
    AdamW {
        beta1: f64,
        beta2: f64,
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
    },
    AdaMax {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

impl OptimizerKind {
    /// The optimizer's state: extra parameter-shaped slots, e.g. `velocity`,
    /// in the order the update kernels take them.
    pub fn state_slots(&self) -> Vec<&'static str> {
        match self {
            OptimizerKind::Sgd { momentum, .. } if *momentum == 0.0 => vec![],
            OptimizerKind::Sgd { .. } => vec!["velocity"],
            OptimizerKind::Adagrad { .. } => vec!["accumulator"],
            OptimizerKind::RmsProp {
                momentum, centered, ..
            } => {
                let mut slots = vec!["square_avg"];
                if *centered {
                    slots.push("grad_avg");
                }
                if *momentum > 0.0 {
                    slots.push("velocity");
                }
                slots
            }
            OptimizerKind::AdaDelta { .. } => vec!["accumulated_grad", "accumulated_update"],
            OptimizerKind::Adam { amsgrad, .. } | OptimizerKind::AdamW { amsgrad, .. } => {
                if *amsgrad {
                    vec!["m", "v", "vhat"]
                } else {
                    vec!["m", "v"]
                }
            }
            OptimizerKind::AdaMax { .. } => vec!["m", "u"],
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerKind::Sgd { .. } => "sgd",
            OptimizerKind::Adagrad { .. } => "adagrad",
            OptimizerKind::RmsProp { .. } => "rmsprop",
            OptimizerKind::AdaDelta { .. } => "adadelta",
            OptimizerKind::Adam { .. } => "adam",
            OptimizerKind::AdamW { .. } => "adamw",
            OptimizerKind::AdaMax { .. } => "adamax",
        }
    }
}

impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![("lr", num(self.lr))];
        let mut add = |name: &'static str, value: String| parts.push((name, value));
        match &self.kind {
            OptimizerKind::Sgd { momentum, nesterov } => {
                add("momentum", num(*momentum));
                add("nesterov", nesterov.to_string());
            }
            OptimizerKind::Adagrad {
                initial_accumulator,
                eps,
            } => {
                add("initial_accumulator", num(*initial_accumulator));
                add("eps", num(*eps));
            }
            OptimizerKind::RmsProp {
                rho,
                momentum,
                eps,
                centered,
            } => {
                add("rho", num(*rho));
                add("momentum", num(*momentum));
                add("eps", num(*eps));
                add("centered", centered.to_string());
            }
            OptimizerKind::AdaDelta { rho, eps } => {
                add("rho", num(*rho));
                add("eps", num(*eps));
            }
            OptimizerKind::Adam {
                beta1,
                beta2,
                eps,
                amsgrad,
            } => {
                add("beta1", num(*beta1));
                add("beta2", num(*beta2));
                add("eps", num(*eps));
                add("amsgrad", amsgrad.to_string());
            }
            OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                amsgrad,
            } => {
                add("beta1", num(*beta1));
                add("beta2", num(*beta2));
                add("eps", num(*eps));
                add("weight_decay", num(*weight_decay));
                add("amsgrad", amsgrad.to_string());
            }
            OptimizerKind::AdaMax { beta1, beta2, eps } => {
                add("beta1", num(*beta1));
                add("beta2", num(*beta2));
                add("eps", num(*eps));
            }
        }
        let args: Vec<String> = parts.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        write!(f, "{}({})", self.kind.name(), args.join(", "))
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale all gradients by min(1, max_norm / global L2 norm).
    Norm(f64),
    /// Clamp each gradient component to [-v, v].
    Value(f64),
}
