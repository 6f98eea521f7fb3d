//! What every generated model offers at inference: [`Inference`], the
//! static facts about its tensors ([`TensorInfo`]) and its GEMM-based layers
//! ([`LayerKernel`]), and the error for input that does not fit it.
//! Training adds `specc_train::Model` on top.

#[cfg(feature = "alloc")]
use alloc::string::String;
#[cfg(feature = "ndarray")]
use alloc::{format, string::ToString, vec::Vec};
use core::fmt;

use crate::gemm::Element;
pub use specc_types::TensorRole;

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

/// A layer whose passes run through the runtime's product kernels (GEMM,
/// convolution, depthwise convolution), with
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
    /// `depthwise_conv2d`: [`crate::depthwise::forward`],
    /// `backward_input` and `backward_weights` with `shape`.
    Depthwise {
        name: &'static str,
        shape: crate::depthwise::DepthwiseShape,
        input_gradient: bool,
    },
}

impl LayerKernel {
    /// The layer's name in the spec.
    pub fn name(&self) -> &'static str {
        match self {
            LayerKernel::Dense { name, .. }
            | LayerKernel::Conv2d { name, .. }
            | LayerKernel::Depthwise { name, .. } => name,
        }
    }

    /// Whether the backward pass computes the input gradient.
    pub fn input_gradient(&self) -> bool {
        match self {
            LayerKernel::Dense { input_gradient, .. }
            | LayerKernel::Conv2d { input_gradient, .. }
            | LayerKernel::Depthwise { input_gradient, .. } => *input_gradient,
        }
    }
}

/// A generated model at inference: its shapes, its named tensors and a
/// forward pass specialised for them. Buffers are sized once per batch size
/// and reused, so that a call allocates nothing after the first.
pub trait Inference {
    /// `f32` for training and inference; `f64` for gradient checks.
    type F: Element;

    /// The model's name as written in the spec.
    const NAME: &'static str;
    /// The name of its generated module (and of its run directory):
    /// `mnist_cnn` for `MnistCnn`.
    const MODULE: &'static str;
    /// The shape of one input sample.
    const INPUT_SHAPE: &'static [usize];
    /// The shape of one output (after any activation fused into the loss).
    const OUTPUT_SHAPE: &'static [usize];
    /// Every named tensor: trainable parameters, then running statistics.
    const TENSORS: &'static [TensorInfo];
    /// Forward FLOPs for one sample, as `specc check` counts them (a
    /// multiply-add is two; biases, activations, pooling and batchnorm one
    /// per element). A training step is about three times this.
    const FORWARD_FLOPS: u64;

    /// Inference: writes `batch * output_len` predictions (probabilities when
    /// the spec ends in softmax or sigmoid).
    ///
    /// # Panics
    /// If the slices' lengths are not `batch` samples; see
    /// [`try_predict_into`](Inference::try_predict_into).
    fn predict_into(&mut self, input: &[Self::F], batch: usize, output: &mut [Self::F]);

    /// A named tensor's values (see [`Inference::TENSORS`]).
    fn tensor(&self, name: &str) -> Option<&[Self::F]>;
    /// A named tensor's values, mutably.
    fn tensor_mut(&mut self, name: &str) -> Option<&mut [Self::F]>;

    /// Number of values in one input sample.
    fn input_len() -> usize {
        Self::INPUT_SHAPE.iter().product()
    }
    /// Number of values in one output.
    fn output_len() -> usize {
        Self::OUTPUT_SHAPE.iter().product()
    }

    /// [`predict_into`](Inference::predict_into) after checking the slices'
    /// lengths against `batch`.
    fn try_predict_into(
        &mut self,
        input: &[Self::F],
        batch: usize,
        output: &mut [Self::F],
    ) -> Result<(), InputError> {
        InputError::check_len::<Self>("input", input.len(), batch, Self::input_len())?;
        InputError::check_len::<Self>("output", output.len(), batch, Self::output_len())?;
        self.predict_into(input, batch, output);
        Ok(())
    }

    /// Predictions for a batch as an ndarray of shape `[batch, output...]`,
    /// or an error naming the expected and given shapes. The input has shape
    /// `[batch, input...]` or `[batch, input_len]`.
    #[cfg(feature = "ndarray")]
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
        let mut out = alloc::vec![<Self::F as crate::Float>::ZERO; batch * Self::output_len()];
        self.predict_into(&data, batch, &mut out);
        let mut out_shape = alloc::vec![batch];
        out_shape.extend_from_slice(Self::OUTPUT_SHAPE);
        ndarray::ArrayD::from_shape_vec(out_shape, out)
            .map_err(|e| InputError::new::<Self>(format!("output of {batch} samples: {e}")))
    }

    /// [`try_predict`](Inference::try_predict) for input known to have the
    /// model's shape.
    ///
    /// # Panics
    /// If the input's shape is not `[batch, input...]` or `[batch, input_len]`.
    #[cfg(feature = "ndarray")]
    fn predict(&mut self, input: ndarray::ArrayViewD<'_, Self::F>) -> ndarray::ArrayD<Self::F> {
        self.try_predict(input).unwrap_or_else(|e| panic!("{e}"))
    }
}

/// Data handed to a model that does not fit it: the wrong shape or length,
/// or targets out of range. The message names the model and what was
/// expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub model: &'static str,
    problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Problem {
    /// A slice of `len` values where `batch` samples of `per_sample` were due.
    Length {
        what: &'static str,
        len: usize,
        batch: usize,
        per_sample: usize,
    },
    #[cfg(feature = "alloc")]
    Message(String),
}

impl InputError {
    /// An error about input to the model `M`.
    #[cfg(feature = "alloc")]
    pub fn new<M: Inference + ?Sized>(message: String) -> Self {
        InputError {
            model: M::NAME,
            problem: Problem::Message(message),
        }
    }

    /// Checks that a slice of `len` values holds `batch` samples of
    /// `per_sample` values each; `what` names the slice.
    pub fn check_len<M: Inference + ?Sized>(
        what: &'static str,
        len: usize,
        batch: usize,
        per_sample: usize,
    ) -> Result<(), InputError> {
        Self::check(M::NAME, what, len, batch, per_sample)
    }

    /// [`check_len`](InputError::check_len) for the model called `model`
    /// (exported code, which implements no trait).
    pub fn check(
        model: &'static str,
        what: &'static str,
        len: usize,
        batch: usize,
        per_sample: usize,
    ) -> Result<(), InputError> {
        match batch.checked_mul(per_sample) {
            Some(n) if n == len => Ok(()),
            _ => Err(InputError {
                model,
                problem: Problem::Length {
                    what,
                    len,
                    batch,
                    per_sample,
                },
            }),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "model `{}`: ", self.model)?;
        match &self.problem {
            Problem::Length {
                what,
                len,
                batch,
                per_sample,
            } => write!(
                f,
                "{what} holds {len} values, expected {batch} samples x {per_sample} = {}",
                batch.saturating_mul(*per_sample)
            ),
            #[cfg(feature = "alloc")]
            Problem::Message(message) => f.write_str(message),
        }
    }
}

impl core::error::Error for InputError {}

/// `1, 28, 28`
#[cfg(feature = "ndarray")]
fn dims(shape: &[usize]) -> String {
    shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}
