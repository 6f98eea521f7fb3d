//! `dense(units)`: its arguments, shape rule, parameters and FLOPs.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn dense(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
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
}

/// `Dense 128, relu, no bias`
pub(super) fn describe(d: &Dense) -> String {
    let mut s = format!("Dense {}", d.units);
    if let Some(a) = d.activation {
        s.push_str(&format!(", {a}"));
    }
    if !d.bias {
        s.push_str(", no bias");
    }
    s
}
