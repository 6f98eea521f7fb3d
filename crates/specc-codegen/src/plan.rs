//! Lowering a checked model to an ordered list of steps over named buffers.
//!
//! Each layer that computes something owns an output buffer (and a gradient
//! buffer of the same size) in the workspace; `flatten` and a final
//! activation fused into the loss reuse their input's buffers.

use crate::CodegenError;
use specc_lang::{Activation, CheckedModel, Layer, LayerKind};

/// A buffer of `batch * len` values; its gradient buffer is `{name}_grad`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Buf {
    /// The caller's input batch (no gradient).
    Input,
    /// A workspace buffer named after the layer that writes it.
    Layer(String),
}

/// One layer's place in the forward and backward passes.
#[derive(Clone, Debug)]
pub struct Step<'m> {
    pub layer: &'m Layer,
    pub input: Buf,
    pub output: Buf,
    /// Whether the backward pass must produce the input's gradient (not for
    /// the first computing layer: nothing upstream needs it).
    pub input_grad: bool,
    /// The layer's activation is fused into the loss: training stops at the
    /// logits, prediction applies it afterwards.
    pub activation_fused: bool,
}

pub struct Plan<'m> {
    pub steps: Vec<Step<'m>>,
    /// Workspace buffers with their length per sample.
    pub buffers: Vec<(String, usize)>,
    /// The buffer holding the logits (or the output, without fusion).
    pub output: Buf,
    /// The activation prediction applies after `output`.
    pub fused: Option<Activation>,
}

pub fn plan(model: &CheckedModel) -> Result<Plan<'_>, CodegenError> {
    let unsupported = |layer: &Layer| CodegenError {
        model: model.name.clone(),
        message: format!(
            "layer `{}` ({}) is not supported by this version of the code generator",
            layer.name,
            layer.kind_name()
        ),
    };
    let mut steps = Vec::new();
    let mut buffers = Vec::new();
    let mut current = Buf::Input;
    let last = model.layers.len().saturating_sub(1);
    for (i, layer) in model.layers.iter().enumerate() {
        let fused_here = i == last && model.loss.fused_activation.is_some();
        let aliases = match &layer.kind {
            LayerKind::Flatten => true,
            LayerKind::Activation(_) => fused_here,
            LayerKind::Dense(_) | LayerKind::Dropout { .. } => false,
            _ => return Err(unsupported(layer)),
        };
        if aliases {
            continue;
        }
        let output = Buf::Layer(layer.name.clone());
        buffers.push((layer.name.clone(), layer.output.numel()));
        steps.push(Step {
            layer,
            input: current.clone(),
            output: output.clone(),
            input_grad: current != Buf::Input,
            activation_fused: fused_here,
        });
        current = output;
    }
    if current == Buf::Input {
        return Err(CodegenError {
            model: model.name.clone(),
            message: "the model computes nothing from its input: add a layer with parameters".into(),
        });
    }
    Ok(Plan {
        steps,
        buffers,
        output: current,
        fused: model.loss.fused_activation,
    })
}
