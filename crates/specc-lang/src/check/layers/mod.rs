//! Layers: each kind's arguments and shape rule.
//!
//! A layer's arguments are resolved whether or not its input shape is known,
//! so that an error early in a model does not hide independent errors later;
//! shape checks run only while the shape is known.

use crate::args::{ArgReader, quoted_list};
use crate::diagnostic::{Diagnostic, suggestion};
use crate::limits::product;
use crate::model::*;
use crate::syntax::*;
use std::collections::HashMap;

mod activation;
mod batchnorm;
mod conv2d;
mod dense;
mod depthwise;
mod dropout;
mod flatten;
mod groupnorm;
mod normalize;
mod pool;
mod residual;
mod spatial;

impl LayerKind {
    /// The layer's description in the model summary: `Dense 128, relu`,
    /// `Conv2d 3x3/2, same`, `MaxPool2d 2x2`.
    pub fn describe(&self) -> String {
        match self {
            LayerKind::Dense(d) => dense::describe(d),
            LayerKind::Conv2d(c) => conv2d::describe(c),
            LayerKind::DepthwiseConv2d(d) => depthwise::describe(d),
            LayerKind::MaxPool2d(p) => pool::describe("MaxPool2d", p),
            LayerKind::AvgPool2d(p) => pool::describe("AvgPool2d", p),
            LayerKind::GlobalAvgPool => "GlobalAvgPool".to_string(),
            LayerKind::GlobalMaxPool => "GlobalMaxPool".to_string(),
            LayerKind::ZeroPad2d { .. } | LayerKind::Crop2d { .. } | LayerKind::Upsample2d { .. } => {
                spatial::describe(self)
            }
            LayerKind::Flatten => "Flatten".to_string(),
            LayerKind::Activation(a) => format!("Activation {a}"),
            LayerKind::Dropout { rate } => format!("Dropout {rate}"),
            LayerKind::BatchNorm(_) => "BatchNorm".to_string(),
            LayerKind::GroupNorm(g) if g.layer => "LayerNorm".to_string(),
            LayerKind::GroupNorm(g) => format!("GroupNorm {}", g.groups),
            LayerKind::Normalize { mean, std } => normalize::describe(mean, std),
            LayerKind::Residual { .. } => "Residual".to_string(),
        }
    }
}

/// `2` for `[2, 2]`, `2x3` otherwise.
fn pair_text(p: [usize; 2]) -> String {
    if p[0] == p[1] {
        p[0].to_string()
    } else {
        format!("{}x{}", p[0], p[1])
    }
}

/// The layer kinds besides the activations, as written in specs.
const KINDS: &[&str] = &[
    "dense",
    "conv2d",
    "depthwise_conv2d",
    "maxpool2d",
    "avgpool2d",
    "global_avgpool",
    "global_maxpool",
    "zero_pad2d",
    "crop2d",
    "upsample2d",
    "flatten",
    "dropout",
    "batchnorm",
    "layernorm",
    "groupnorm",
    "normalize",
    "residual",
];

/// Every layer as written in specs: the kinds above, then each activation
/// as a layer of its own (`relu;`).
pub fn layer_names() -> impl Iterator<Item = &'static str> {
    KINDS
        .iter()
        .chain(Activation::NAMES.iter().filter(|n| **n != "none"))
        .copied()
}

pub const ACTIVATION_NAMES: &[&str] = Activation::NAMES;
pub const INIT_NAMES: &[&str] = &[
    "he_normal",
    "he_uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
    "normal",
    "uniform",
];

pub struct LayerBuilder<'e> {
    errors: &'e mut Vec<Diagnostic>,
    /// Per kind, how many layers of that kind have been named so far.
    counters: HashMap<&'static str, usize>,
}

/// A layer's resolved kind and what its shape rule computes.
struct Built {
    kind: LayerKind,
    output: Shape,
    params: ParamCount,
    flops: u64,
}

impl<'e> LayerBuilder<'e> {
    pub fn new(errors: &'e mut Vec<Diagnostic>) -> Self {
        LayerBuilder {
            errors,
            counters: HashMap::new(),
        }
    }

    /// Builds layers in order from `input`. Returns the layers that were
    /// checked, and the output shape if every layer's shape is known.
    pub fn build_sequence(
        &mut self,
        asts: &[&LayerAst],
        input: Option<Shape>,
    ) -> (Vec<Layer>, Option<Shape>) {
        let mut shape = input;
        let mut layers = Vec::new();
        for ast in asts {
            let layer = self.build(ast, shape.as_ref());
            shape = layer.as_ref().map(|l| l.output.clone());
            layers.extend(layer);
        }
        (layers, shape)
    }

    fn next_name(&mut self, kind: &'static str) -> String {
        let n = self.counters.entry(kind).or_insert(0);
        *n += 1;
        format!("{kind}_{n}")
    }

    /// Builds one layer; `None` if it or its input has an error.
    fn build(&mut self, ast: &LayerAst, input: Option<&Shape>) -> Option<Layer> {
        let call = &ast.call;
        let Some(kind_name) = layer_names().find(|n| *n == call.name.name) else {
            self.unknown_layer(call);
            return None;
        };
        let name = self.next_name(kind_name);
        if kind_name != "residual"
            && let Some(block) = &ast.body
        {
            self.errors.push(
                Diagnostic::error(block.span, format!("`{kind_name}` takes no block of layers"))
                    .with_label("unexpected block")
                    .with_secondary(call.name.span, "only `residual` has a body")
                    .with_help(format!("end the layer with `;`: `{}`", source_call(call))),
            );
            return None;
        }
        let built = match kind_name {
            "dense" => self.dense(call, input),
            "conv2d" => self.conv2d(call, input),
            "depthwise_conv2d" => self.depthwise_conv2d(call, input),
            "maxpool2d" | "avgpool2d" => self.pool(call, kind_name, input),
            "global_avgpool" | "global_maxpool" => self.global_pool(call, kind_name, input),
            "zero_pad2d" | "crop2d" => self.border(call, kind_name, input),
            "upsample2d" => self.upsample2d(call, input),
            "flatten" => self.flatten(call, input),
            "dropout" => self.dropout(call, input),
            "batchnorm" => self.batchnorm(call, input),
            "layernorm" | "groupnorm" => self.groupnorm(call, kind_name, input),
            "normalize" => self.normalize(call, input),
            "residual" => self.residual(ast, input),
            _ => self.activation_layer(call, input),
        }?;
        if built.output.checked_numel().is_none() {
            return self.too_large(call, &format!("its output {}", built.output));
        }
        Some(Layer {
            name,
            kind: built.kind,
            input: input?.clone(),
            output: built.output,
            params: built.params,
            flops: built.flops,
            span: ast.span,
        })
    }

    /// A size of the layer does not fit in `usize` (or FLOPs in `u64`).
    fn too_large<T>(&mut self, call: &Call, what: &str) -> Option<T> {
        self.errors.push(
            Diagnostic::error(
                call.name.span,
                format!(
                    "`{}` is too large: {what} does not fit in a {}-bit count",
                    call.name.name,
                    usize::BITS
                ),
            )
            .with_label("sizes overflow")
            .with_help("use smaller sizes; a model must fit in memory to be trained"),
        );
        None
    }

    fn unknown_layer(&mut self, call: &Call) {
        let name = &call.name.name;
        let mut d =
            Diagnostic::error(call.name.span, format!("unknown layer `{name}`")).with_label("not a layer");
        d = match suggestion(name, layer_names()) {
            Some(s) => d.with_help(s),
            None => d.with_note(format!(
                "the layers are {}",
                quoted_list(&layer_names().collect::<Vec<_>>())
            )),
        };
        if matches!(
            name.as_str(),
            "conv1d" | "conv3d" | "lstm" | "gru" | "embedding" | "attention"
        ) {
            d = d.with_note(format!("`{name}` is not supported by this version of specc"));
        }
        self.errors.push(d);
    }

    /// The input must have the given rank; `what` explains what it should be.
    fn expect_rank(
        &mut self,
        call: &Call,
        input: &Shape,
        rank: usize,
        what: &str,
        help: Option<String>,
    ) -> bool {
        if input.rank() == rank {
            return true;
        }
        self.errors.push(
            Diagnostic::error(
                call.name.span,
                format!(
                    "`{}` needs {what}, but its input has shape {input}",
                    call.name.name
                ),
            )
            .with_label(format!("input shape {input}"))
            .with_help_opt(help),
        );
        false
    }
}

/// The span of an argument's value, or of the call's name.
fn args_span(call: &Call, name: &str) -> Span {
    let Some(args) = &call.args else {
        return call.name.span;
    };
    args.items
        .iter()
        .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
        .or_else(|| args.items.iter().find(|a| a.name.is_none()))
        .map_or(call.name.span, |a| a.value.span)
}

fn source_call(call: &Call) -> String {
    match &call.args {
        Some(_) => format!("{}(...);", call.name.name),
        None => format!("{};", call.name.name),
    }
}

/// FLOPs of an activation over `numel` values; `None` if they overflow.
fn activation_flops(activation: Option<Activation>, numel: usize) -> Option<u64> {
    activation.map_or(Some(0), |a| (numel as u64).checked_mul(a.flops_per_value()))
}

/// `activation = relu`; `Some(None)` when absent or `none`.
fn activation_arg(args: &mut ArgReader<'_, '_>) -> Option<Option<Activation>> {
    if args.value("activation").is_none() {
        return Some(None);
    }
    let call = args.call("activation", "an activation such as `relu`")?;
    if call.name.name == "none" && call.args.is_none() {
        return Some(None);
    }
    Activation::resolve(call, args.errors()).map(Some)
}

/// `init = he_normal | ... | normal(std = 0.01) | uniform(limit = 0.05)`,
/// defaulting by activation as Keras users expect.
fn init_arg(args: &mut ArgReader<'_, '_>, activation: Option<Activation>) -> Option<Init> {
    if args.value("init").is_none() {
        return Some(if activation.is_some_and(|a| a.is_relu_like()) {
            Init::HeNormal
        } else {
            Init::XavierUniform
        });
    }
    let call = args.call("init", "an initialiser such as `he_normal`")?;
    let errors = args.errors();
    let name = call.name.name.as_str();
    match name {
        "he_normal" | "he_uniform" | "xavier_normal" | "xavier_uniform" | "zeros" => {
            ArgReader::new(call, &[], 0, errors);
            Some(match name {
                "he_normal" => Init::HeNormal,
                "he_uniform" => Init::HeUniform,
                "xavier_normal" => Init::XavierNormal,
                "xavier_uniform" => Init::XavierUniform,
                _ => Init::Zeros,
            })
        }
        "normal" => {
            let mut a = ArgReader::new(call, &["std"], 1, errors);
            let std = a.float_or("std", 0.01)?;
            if std <= 0.0 {
                a.invalid(
                    "std",
                    format!("`std` of `normal` must be positive, found {std}"),
                    None,
                );
                return None;
            }
            Some(Init::Normal { std })
        }
        "uniform" => {
            let mut a = ArgReader::new(call, &["limit"], 1, errors);
            let limit = a.float_or("limit", 0.05)?;
            if limit <= 0.0 {
                a.invalid(
                    "limit",
                    format!("`limit` of `uniform` must be positive, found {limit}"),
                    None,
                );
                return None;
            }
            Some(Init::Uniform { limit })
        }
        _ => {
            let d = Diagnostic::error(call.name.span, format!("unknown initialiser `{name}`"))
                .with_label("not an initialiser");
            let d = match suggestion(name, INIT_NAMES.iter().copied()) {
                Some(s) => d.with_help(s),
                None => d.with_note(format!("the initialisers are {}", quoted_list(INIT_NAMES))),
            };
            errors.push(d);
            None
        }
    }
}
