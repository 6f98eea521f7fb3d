//! `conv2d(filters, kernel)`: its arguments, padding and stride arithmetic, shape rule, parameters and FLOPs.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn conv2d(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
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
}

/// `padding = valid | same | n | [ph, pw]`
pub(super) fn padding_arg(args: &mut ArgReader<'_, '_>) -> Option<PaddingSpec> {
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

/// One axis of a convolution: padding before and after, and the output size
/// (0 when the kernel does not fit); `None` if the padded size overflows.
pub(super) fn conv_axis(
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

/// `Conv2d 3x3/2, same, relu`
pub(super) fn describe(c: &Conv2d) -> String {
    let window = window_text("Conv2d", c.kernel, c.stride, c.padding_spec);
    window + &tail_text(c.activation, c.bias)
}

/// `Conv2d 3x3/2, same`: a kernel, its stride and padding.
pub(super) fn window_text(
    kind: &str,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: PaddingSpec,
) -> String {
    let mut s = format!("{kind} {}x{}", kernel[0], kernel[1]);
    if stride != [1, 1] {
        s.push_str(&format!("/{}", pair_text(stride)));
    }
    match padding {
        PaddingSpec::Valid => {}
        PaddingSpec::Same => s.push_str(", same"),
        PaddingSpec::Explicit(p) => s.push_str(&format!(", pad {}", pair_text(p))),
    }
    s
}

/// `, relu, no bias`: the activation and a missing bias.
pub(super) fn tail_text(activation: Option<Activation>, bias: bool) -> String {
    let mut s = String::new();
    if let Some(a) = activation {
        s.push_str(&format!(", {a}"));
    }
    if !bias {
        s.push_str(", no bias");
    }
    s
}
