//! `depthwise_conv2d(kernel, multiplier)`: each input channel convolved on
//! its own with `multiplier` kernels (MobileNet), with stride, padding and
//! dilation; its shape rule is conv2d's with the dilated kernel.

use super::conv2d::{conv_axis, padding_arg, tail_text, window_text};
use super::*;

impl LayerBuilder<'_> {
    pub(super) fn depthwise_conv2d(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(
            call,
            &[
                "kernel",
                "multiplier",
                "stride",
                "padding",
                "dilation",
                "activation",
                "bias",
                "init",
            ],
            1,
            self.errors,
        );
        let kernel = match args.value("kernel") {
            None => {
                args.missing("kernel", "depthwise_conv2d(3)");
                None
            }
            Some(_) => args.int_or_pair("kernel", 1),
        };
        let multiplier = args.int_or("multiplier", 1, 1);
        let stride = match args.value("stride") {
            None => Some([1, 1]),
            Some(_) => args.int_or_pair("stride", 1),
        };
        let dilation = match args.value("dilation") {
            None => Some([1, 1]),
            Some(_) => args.int_or_pair("dilation", 1),
        };
        let padding = padding_arg(&mut args);
        let activation = activation_arg(&mut args);
        let bias = args.bool_or("bias", true);
        let init = init_arg(&mut args, activation.flatten());
        let (kernel, multiplier, stride, dilation, padding_spec, activation, bias, init) = (
            kernel?,
            multiplier? as usize,
            stride?,
            dilation?,
            padding?,
            activation?,
            bias?,
            init?,
        );
        let input = input?;
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        let (c, h, w) = input.chw()?;
        let mut padding = [0usize; 4];
        let mut out_hw = [0usize; 2];
        for (axis, (size, axis_name)) in [(h, "height"), (w, "width")].into_iter().enumerate() {
            // The dilated kernel's extent.
            let Some(extent) = (kernel[axis] - 1)
                .checked_mul(dilation[axis])
                .and_then(|e| e.checked_add(1))
            else {
                return self.too_large(call, "its dilated kernel");
            };
            let Some((before, after, out)) = conv_axis(size, extent, stride[axis], padding_spec, axis) else {
                return self.too_large(call, &format!("its padded input {axis_name}"));
            };
            if out == 0 {
                self.errors.push(
                    Diagnostic::error(
                        args_span(call, "kernel"),
                        format!(
                            "the kernel spans {extent} (kernel {} at dilation {}), more than the input {axis_name} {size}",
                            kernel[axis], dilation[axis]
                        ),
                    )
                    .with_label(format!("input shape {input}"))
                    .with_help("use a smaller kernel or dilation, or `padding = same`"),
                );
                return None;
            }
            padding[axis * 2] = before;
            padding[axis * 2 + 1] = after;
            out_hw[axis] = out;
        }
        let [kh, kw] = kernel;
        let Some(filters) = c.checked_mul(multiplier) else {
            return self.too_large(call, "its output channels");
        };
        let output = Shape(vec![filters, out_hw[0], out_hw[1]]);
        let sizes = || {
            let positions = product(&out_hw)? as u64;
            let weights = product(&[filters, kh, kw])?;
            let trainable = weights.checked_add(if bias { filters } else { 0 })?;
            let flops = (weights as u64)
                .checked_mul(2)?
                .checked_mul(positions)?
                .checked_add(activation_flops(activation, output.checked_numel()?)?)?;
            Some((trainable, flops))
        };
        let Some((trainable, flops)) = sizes() else {
            return self.too_large(call, &format!("the work of its kernels over its output {output}"));
        };
        Some(Built {
            kind: LayerKind::DepthwiseConv2d(DepthwiseConv2d {
                multiplier,
                kernel,
                stride,
                dilation,
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

/// `DepthwiseConv2d 3x3/2, same, x2, dilation 2, relu`
pub(super) fn describe(d: &DepthwiseConv2d) -> String {
    let mut s = window_text("DepthwiseConv2d", d.kernel, d.stride, d.padding_spec);
    if d.multiplier != 1 {
        s.push_str(&format!(", x{}", d.multiplier));
    }
    if d.dilation != [1, 1] {
        s.push_str(&format!(", dilation {}", pair_text(d.dilation)));
    }
    s + &tail_text(d.activation, d.bias)
}
