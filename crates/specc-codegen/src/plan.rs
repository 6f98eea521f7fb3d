//! Lowering a checked model to an ordered list of steps over named buffers.
//!
//! Each step that computes something owns an output buffer (and a gradient
//! buffer of the same size) in the workspace; `flatten` and a final
//! activation fused into the loss reuse their input's buffers. A residual
//! block lowers to its body's steps, its shortcut's step and an add step.
//! The backward pass runs the steps in reverse; a step whose input feeds two
//! branches (a residual block's input) adds its input gradient to what the
//! other branch wrote instead of overwriting it.

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

/// How a step's backward pass delivers its input's gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DxMode {
    /// Nothing upstream needs it (the input batch).
    None,
    /// The step is the only writer, or the first in backward order.
    Overwrite,
    /// Another branch already wrote the gradient; add to it.
    Accumulate,
}

impl DxMode {
    /// The mode for a second writer of the same gradient.
    fn second_writer(self) -> DxMode {
        match self {
            DxMode::None => DxMode::None,
            _ => DxMode::Accumulate,
        }
    }
}

#[derive(Clone, Debug)]
pub enum StepKind<'m> {
    /// A layer's own computation.
    Layer(&'m Layer),
    /// A residual block's output: `body + shortcut` (`shortcut` `None` for the
    /// identity, which adds the block's input).
    ResidualAdd {
        layer: &'m Layer,
        body: Buf,
        shortcut: Option<Buf>,
    },
    /// The activation of a dense or conv2d layer whose gradient needs its
    /// input ([`Activation::needs_input`]: silu, gelu, hard_swish), as a step
    /// of its own: the layer's product writes `{layer}_pre`, which this step
    /// reads and keeps for the backward pass.
    Activation {
        layer: &'m Layer,
        activation: Activation,
    },
}

/// One step of the forward and backward passes.
#[derive(Clone, Debug)]
pub struct Step<'m> {
    pub kind: StepKind<'m>,
    pub input: Buf,
    pub output: Buf,
    pub dx: DxMode,
    /// The layer's activation is fused into the loss: training stops at the
    /// logits, prediction applies it afterwards.
    pub activation_fused: bool,
}

impl Step<'_> {
    pub fn layer(&self) -> &Layer {
        match &self.kind {
            StepKind::Layer(layer)
            | StepKind::ResidualAdd { layer, .. }
            | StepKind::Activation { layer, .. } => layer,
        }
    }
}

pub struct Plan<'m> {
    pub steps: Vec<Step<'m>>,
    /// Step output buffers with their length per sample (each with a gradient).
    pub buffers: Vec<(String, usize)>,
    /// The buffer holding the logits (or the output, without fusion).
    pub output: Buf,
    /// The activation prediction applies after `output`.
    pub fused: Option<Activation>,
}

pub fn plan(model: &CheckedModel) -> Result<Plan<'_>, CodegenError> {
    let mut builder = Builder {
        model,
        steps: Vec::new(),
        buffers: Vec::new(),
    };
    let output = builder.sequence(&model.layers, Buf::Input, DxMode::None, true);
    if output == Buf::Input {
        return Err(CodegenError::NothingComputed {
            model: model.name.clone(),
        });
    }
    Ok(Plan {
        steps: builder.steps,
        buffers: builder.buffers,
        output,
        fused: model.loss.fused_activation,
    })
}

struct Builder<'m> {
    model: &'m CheckedModel,
    steps: Vec<Step<'m>>,
    buffers: Vec<(String, usize)>,
}

impl<'m> Builder<'m> {
    /// Lowers `layers` reading `input`; returns the buffer of the last output.
    fn sequence(&mut self, layers: &'m [Layer], input: Buf, mut dx: DxMode, top_level: bool) -> Buf {
        let mut current = input;
        for (i, layer) in layers.iter().enumerate() {
            let fused_here = top_level && i + 1 == layers.len() && self.model.loss.fused_activation.is_some();
            match &layer.kind {
                LayerKind::Flatten => continue,
                LayerKind::Activation(_) if fused_here => continue,
                LayerKind::Residual { body, shortcut } => {
                    // Backward runs add, shortcut, then the body in reverse, so
                    // the shortcut (or the identity, in the add step) writes the
                    // input gradient first and the body's first step adds to it.
                    let body_out = self.sequence(body, current.clone(), dx.second_writer(), false);
                    let shortcut_out = shortcut
                        .as_deref()
                        .map(|s| self.layer_step(s, current.clone(), dx, false));
                    let output = self.output_buffer(layer);
                    self.steps.push(Step {
                        kind: StepKind::ResidualAdd {
                            layer,
                            body: body_out,
                            shortcut: shortcut_out,
                        },
                        input: current,
                        output: output.clone(),
                        dx,
                        activation_fused: false,
                    });
                    current = output;
                }
                _ => current = self.layer_step(layer, current, dx, fused_here),
            }
            dx = DxMode::Overwrite;
        }
        current
    }

    fn output_buffer(&mut self, layer: &Layer) -> Buf {
        self.buffers.push((layer.name.clone(), layer.output.numel()));
        Buf::Layer(layer.name.clone())
    }

    fn layer_step(&mut self, layer: &'m Layer, input: Buf, dx: DxMode, fused: bool) -> Buf {
        if let Some(activation) = layer.split_activation().filter(|_| !fused) {
            let pre = format!("{}_pre", layer.name);
            self.buffers.push((pre.clone(), layer.output.numel()));
            self.steps.push(Step {
                kind: StepKind::Layer(layer),
                input,
                output: Buf::Layer(pre.clone()),
                dx,
                activation_fused: false,
            });
            let output = self.output_buffer(layer);
            self.steps.push(Step {
                kind: StepKind::Activation { layer, activation },
                input: Buf::Layer(pre),
                output: output.clone(),
                dx: DxMode::Overwrite,
                activation_fused: false,
            });
            return output;
        }
        let output = self.output_buffer(layer);
        self.steps.push(Step {
            kind: StepKind::Layer(layer),
            input,
            output: output.clone(),
            dx,
            activation_fused: fused,
        });
        output
    }
}
