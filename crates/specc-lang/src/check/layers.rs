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

/// The layer kinds besides the activations, as written in specs.
const KINDS: &[&str] = &[
    "dense",
    "conv2d",
    "maxpool2d",
    "avgpool2d",
    "global_avgpool",
    "flatten",
    "dropout",
    "batchnorm",
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
            "maxpool2d" | "avgpool2d" => self.pool(call, kind_name, input),
            "global_avgpool" => self.global_avgpool(call, input),
            "flatten" => self.flatten(call, input),
            "dropout" => self.dropout(call, input),
            "batchnorm" => self.batchnorm(call, input),
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

    fn dense(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["units", "activation", "bias", "init"], 1, self.errors);
        let units = match args.value("units") {
            None => {
                args.missing("units", "dense(128, activation = relu)");
                None
            }
            Some(_) => args.int("units", 1),
        };
        let activation = activation_arg(&mut args);
        let bias = args.bool_or("bias", true);
        let init = init_arg(&mut args, activation.flatten());
        let (units, activation, bias, init) = (units?, activation?, bias?, init?);
        let input = input?;
        if !self.expect_rank(
            call,
            input,
            1,
            "a vector input",
            Some(format!(
                "add `flatten;` before this layer to turn {input} into [{}]",
                input.numel()
            )),
        ) {
            return None;
        }
        let units = units as usize;
        let n = input.numel();
        let out = Shape(vec![units]);
        let sizes = || {
            let weights = n.checked_mul(units)?;
            let params = weights.checked_add(if bias { units } else { 0 })?;
            let flops = (weights as u64)
                .checked_mul(2)?
                .checked_add(if bias { units as u64 } else { 0 })?
                .checked_add(activation_flops(activation, units)?)?;
            Some((params, flops))
        };
        let Some((params, flops)) = sizes() else {
            return self.too_large(call, &format!("its weight matrix [{n}, {units}]"));
        };
        Some(Built {
            kind: LayerKind::Dense(Dense {
                units,
                activation,
                bias,
                init,
            }),
            output: out,
            params: ParamCount {
                trainable: params,
                non_trainable: 0,
            },
            flops,
        })
    }

    fn conv2d(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(
            call,
            &[
                "filters",
                "kernel",
                "stride",
                "padding",
                "activation",
                "bias",
                "init",
            ],
            2,
            self.errors,
        );
        let filters = match args.value("filters") {
            None => {
                args.missing("filters", "conv2d(32, kernel = 3)");
                None
            }
            Some(_) => args.int("filters", 1),
        };
        let kernel = match args.value("kernel") {
            None => {
                args.missing("kernel", "conv2d(32, kernel = 3)");
                None
            }
            Some(_) => args.int_or_pair("kernel", 1),
        };
        let stride = match args.value("stride") {
            None => Some([1, 1]),
            Some(_) => args.int_or_pair("stride", 1),
        };
        let padding = padding_arg(&mut args);
        let activation = activation_arg(&mut args);
        let bias = args.bool_or("bias", true);
        let init = init_arg(&mut args, activation.flatten());
        let (filters, kernel, stride, padding_spec, activation, bias, init) = (
            filters? as usize,
            kernel?,
            stride?,
            padding?,
            activation?,
            bias?,
            init?,
        );
        let input = input?;
        if !self.expect_rank(
            call,
            input,
            3,
            "an image input [channels, height, width]",
            (input.rank() == 1)
                .then(|| "`conv2d` cannot follow `flatten` or `dense`; check the layer order".to_string()),
        ) {
            return None;
        }
        let (c, h, w) = input.chw()?;
        let mut padding = [0usize; 4];
        let mut out_hw = [0usize; 2];
        for (axis, (size, axis_name)) in [(h, "height"), (w, "width")].into_iter().enumerate() {
            let (k, s) = (kernel[axis], stride[axis]);
            let Some((before, after, out)) = conv_axis(size, k, s, padding_spec, axis) else {
                return self.too_large(call, &format!("its padded input {axis_name}"));
            };
            if out == 0 {
                let padded = size + before + after;
                let message = if padding_spec == PaddingSpec::Valid {
                    format!("kernel {k} is larger than the input {axis_name} {size} of `conv2d`")
                } else {
                    format!(
                        "padding leaves no output: kernel {k} is larger than the padded {axis_name} {padded}"
                    )
                };
                self.errors.push(
                    Diagnostic::error(args_span(call, "kernel"), message)
                        .with_label(format!("input shape {input}"))
                        .with_help(
                            "use a smaller kernel, `padding = same`, or fewer pooling layers before this one",
                        ),
                );
                return None;
            }
            padding[axis * 2] = before;
            padding[axis * 2 + 1] = after;
            out_hw[axis] = out;
        }
        let [kh, kw] = kernel;
        let output = Shape(vec![filters, out_hw[0], out_hw[1]]);
        let sizes = || {
            let positions = product(&out_hw)? as u64;
            let weights = product(&[filters, c, kh, kw])?;
            let trainable = weights.checked_add(if bias { filters } else { 0 })?;
            let flops = (weights as u64)
                .checked_mul(2)?
                .checked_mul(positions)?
                .checked_add(if bias {
                    (filters as u64).checked_mul(positions)?
                } else {
                    0
                })?
                .checked_add(activation_flops(activation, output.checked_numel()?)?)?;
            Some((trainable, flops))
        };
        let Some((trainable, flops)) = sizes() else {
            return self.too_large(
                call,
                &format!("the work of its kernel [{filters}, {c}, {kh}, {kw}] over its output {output}"),
            );
        };
        Some(Built {
            kind: LayerKind::Conv2d(Conv2d {
                filters,
                kernel,
                stride,
                padding_spec,
                padding,
                activation,
                bias,
                init,
            }),
            output,
            params: ParamCount {
                trainable,
                non_trainable: 0,
            },
            flops,
        })
    }

    fn pool(&mut self, call: &Call, kind_name: &'static str, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["size", "stride"], 1, self.errors);
        let size = match args.value("size") {
            None => {
                args.missing("size", &format!("{kind_name}(2)"));
                None
            }
            Some(_) => args.int_or_pair("size", 1),
        };
        let stride = match args.value("stride") {
            None => size,
            Some(_) => args.int_or_pair("stride", 1),
        };
        let (size, stride) = (size?, stride?);
        let input = input?;
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        let (c, h, w) = input.chw()?;
        let mut out = [0usize; 2];
        for (axis, (extent, axis_name)) in [(h, "height"), (w, "width")].into_iter().enumerate() {
            if size[axis] > extent {
                self.errors.push(
                    Diagnostic::error(
                        args_span(call, "size"),
                        format!(
                            "pool size {} is larger than the input {axis_name} {extent} of `{kind_name}`",
                            size[axis]
                        ),
                    )
                    .with_label(format!("input shape {input}"))
                    .with_help("use a smaller pool, or remove a pooling layer before this one"),
                );
                return None;
            }
            out[axis] = (extent - size[axis]) / stride[axis] + 1;
        }
        let output = Shape(vec![c, out[0], out[1]]);
        let Some(flops) = product(&[size[0], size[1], c, out[0], out[1]]) else {
            return self.too_large(
                call,
                &format!("its {}x{} windows over {output}", size[0], size[1]),
            );
        };
        let flops = flops as u64;
        let pool = Pool2d { size, stride };
        let kind = if kind_name == "maxpool2d" {
            LayerKind::MaxPool2d(pool)
        } else {
            LayerKind::AvgPool2d(pool)
        };
        Some(Built {
            kind,
            output,
            params: ParamCount::default(),
            flops,
        })
    }

    fn global_avgpool(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        ArgReader::new(call, &[], 0, self.errors);
        let input = input?;
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        Some(Built {
            kind: LayerKind::GlobalAvgPool,
            output: Shape(vec![input.0[0]]),
            params: ParamCount::default(),
            flops: input.numel() as u64,
        })
    }

    fn flatten(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        ArgReader::new(call, &[], 0, self.errors);
        Some(Built {
            kind: LayerKind::Flatten,
            output: Shape(vec![input?.numel()]),
            params: ParamCount::default(),
            flops: 0,
        })
    }

    fn dropout(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["rate"], 1, self.errors);
        let rate = match args.value("rate") {
            None => {
                args.missing("rate", "dropout(0.5)");
                None
            }
            Some(_) => args.float("rate"),
        };
        let rate = rate?;
        if !(0.0..1.0).contains(&rate) {
            args.invalid(
                "rate",
                format!("dropout rate must be in [0, 1), found {rate}"),
                Some("the rate is the fraction of units dropped, e.g. `dropout(0.5)`".into()),
            );
            return None;
        }
        Some(Built {
            kind: LayerKind::Dropout { rate },
            output: input?.clone(),
            params: ParamCount::default(),
            flops: 0,
        })
    }

    fn batchnorm(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["momentum", "eps"], 0, self.errors);
        let momentum = args.float_or("momentum", 0.99);
        let eps = args.float_or("eps", 1e-3);
        let (momentum, eps) = (momentum?, eps?);
        let mut ok = true;
        if !(0.0..1.0).contains(&momentum) {
            args.invalid(
                "momentum",
                format!("batchnorm momentum must be in [0, 1), found {momentum}"),
                None,
            );
            ok = false;
        }
        if eps <= 0.0 {
            args.invalid(
                "eps",
                format!("batchnorm eps must be positive, found {eps}"),
                None,
            );
            ok = false;
        }
        let input = input?;
        if !ok {
            return None;
        }
        let channels = input.0[0];
        let Some(flops) = (input.numel() as u64).checked_mul(2) else {
            return self.too_large(call, &format!("its input {input}"));
        };
        Some(Built {
            kind: LayerKind::BatchNorm(BatchNorm { momentum, eps }),
            output: input.clone(),
            params: ParamCount {
                trainable: 2 * channels,
                non_trainable: 2 * channels,
            },
            flops,
        })
    }

    fn activation_layer(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let activation = Activation::resolve(call, self.errors)?;
        let input = input?;
        if activation.per_row() && input.rank() != 1 {
            self.expect_rank(
                call,
                input,
                1,
                "a vector input",
                Some(format!(
                    "{} normalises over a vector of scores; add `flatten;` or `global_avgpool;` before it",
                    activation.name()
                )),
            );
            return None;
        }
        let Some(flops) = activation_flops(Some(activation), input.numel()) else {
            return self.too_large(call, &format!("its input {input}"));
        };
        Some(Built {
            kind: LayerKind::Activation(activation),
            output: input.clone(),
            params: ParamCount::default(),
            flops,
        })
    }

    fn residual(&mut self, ast: &LayerAst, input: Option<&Shape>) -> Option<Built> {
        let call = &ast.call;
        let mut args = ArgReader::new(call, &["shortcut"], 0, self.errors);
        let shortcut_call = args.call("shortcut", "a layer such as `conv2d(32, kernel = 1, stride = 2)`");
        let shortcut_given = args.value("shortcut").is_some();
        let Some(block) = &ast.body else {
            self.errors.push(
                Diagnostic::error(call.span, "`residual` needs a block of layers")
                    .with_label("no body")
                    .with_help("write `residual { conv2d(16, kernel = 3, padding = same); ... }`"),
            );
            return None;
        };
        let body_asts: Vec<&LayerAst> = block.layers.iter().collect();
        let (body, body_out) = self.build_sequence(&body_asts, input.cloned());
        let shortcut = match shortcut_call {
            Some(c) if c.name.name == "residual" => {
                self.errors.push(
                    Diagnostic::error(c.name.span, "a shortcut cannot be a residual block")
                        .with_label("not allowed here"),
                );
                return None;
            }
            Some(c) => {
                let layer_ast = LayerAst {
                    call: c.clone(),
                    body: None,
                    span: c.span,
                };
                Some(Box::new(self.build(&layer_ast, input)?))
            }
            None if shortcut_given => return None,
            None => None,
        };
        if body_asts.is_empty() {
            self.errors.push(
                Diagnostic::error(block.span, "`residual` block has no layers")
                    .with_label("empty block")
                    .with_help(
                        "a residual block adds its body's output to its input; give it at least one layer",
                    ),
            );
            return None;
        }
        let input = input?;
        let body_out = body_out?;
        let shortcut_out = shortcut.as_ref().map_or(input, |s| &s.output);
        if *shortcut_out != body_out {
            let (shortcut_what, shortcut_span) = match &shortcut {
                Some(s) => (format!("the shortcut `{}`", s.kind_name()), s.span),
                None => ("the identity shortcut".to_string(), call.name.span),
            };
            let help = match &shortcut {
                None => format!(
                    "give the block a projection, e.g. `residual(shortcut = conv2d({}, kernel = 1, stride = {}))`",
                    body_out.0.first().copied().unwrap_or(1),
                    stride_guess(input, &body_out)
                ),
                Some(_) => "make the shortcut produce the body's output shape".to_string(),
            };
            self.errors.push(
                Diagnostic::error(
                    call.name.span,
                    format!("residual body and shortcut disagree: the body gives {body_out}, {shortcut_what} gives {shortcut_out}"),
                )
                .with_label(format!("body output {body_out}"))
                .with_secondary(shortcut_span, format!("shortcut output {shortcut_out}"))
                .with_secondary(block.span, format!("this body maps {input} to {body_out}"))
                .with_help(help),
            );
            return None;
        }
        let parts = || body.iter().chain(shortcut.as_deref());
        let sizes = || {
            let params = parts().try_fold(ParamCount::default(), |acc, l| {
                Some(ParamCount {
                    trainable: acc.trainable.checked_add(l.params.trainable)?,
                    non_trainable: acc.non_trainable.checked_add(l.params.non_trainable)?,
                })
            })?;
            let flops = parts().try_fold(body_out.numel() as u64, |acc, l| acc.checked_add(l.flops))?;
            Some((params, flops))
        };
        let Some((params, flops)) = sizes() else {
            return self.too_large(call, "its parameter or FLOP count");
        };
        Some(Built {
            kind: LayerKind::Residual { body, shortcut },
            output: body_out,
            params,
            flops,
        })
    }
}

/// A guess at the stride that maps `input` to `output` spatially, for hints.
fn stride_guess(input: &Shape, output: &Shape) -> usize {
    match (input.chw(), output.chw()) {
        (Some((_, h, _)), Some((_, oh, _))) if oh > 0 => h.div_ceil(oh).max(1),
        _ => 1,
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

/// `padding = valid | same | n | [ph, pw]`
fn padding_arg(args: &mut ArgReader<'_, '_>) -> Option<PaddingSpec> {
    let Some(value) = args.value("padding") else {
        return Some(PaddingSpec::Valid);
    };
    match &value.kind {
        ValueKind::Number(_) | ValueKind::List(_) => {
            args.int_or_pair("padding", 0).map(PaddingSpec::Explicit)
        }
        _ => args.choice("padding", &["valid", "same"]).map(|c| {
            if c == "same" {
                PaddingSpec::Same
            } else {
                PaddingSpec::Valid
            }
        }),
    }
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

/// One axis of a convolution: padding before and after, and the output size
/// (0 when the kernel does not fit); `None` if the padded size overflows.
fn conv_axis(
    size: usize,
    k: usize,
    s: usize,
    padding: PaddingSpec,
    axis: usize,
) -> Option<(usize, usize, usize)> {
    let valid = |padded: usize| if padded >= k { (padded - k) / s + 1 } else { 0 };
    Some(match padding {
        PaddingSpec::Valid => (0, 0, valid(size)),
        PaddingSpec::Same => {
            let out = size.div_ceil(s);
            let total = (out - 1).checked_mul(s)?.checked_add(k)?.saturating_sub(size);
            size.checked_add(total)?;
            (total / 2, total - total / 2, out)
        }
        PaddingSpec::Explicit(p) => {
            let padded = p[axis].checked_mul(2)?.checked_add(size)?;
            (p[axis], p[axis], valid(padded))
        }
    })
}
