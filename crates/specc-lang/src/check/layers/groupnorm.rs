//! `layernorm` and `groupnorm(groups)`: eps, the groups, and the
//! per-channel (per-feature) scale and shift.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn groupnorm(
        &mut self,
        call: &Call,
        kind_name: &'static str,
        input: Option<&Shape>,
    ) -> Option<Built> {
        let layer = kind_name == "layernorm";
        let params: &'static [&'static str] = if layer { &["eps"] } else { &["groups", "eps"] };
        let mut args = ArgReader::new(call, params, usize::from(!layer), self.errors);
        let groups = if layer {
            Some(1)
        } else if args.value("groups").is_none() {
            args.missing("groups", "groupnorm(4)");
            None
        } else {
            args.int("groups", 1).map(|g| g as usize)
        };
        let eps = args.float_or("eps", 1e-5);
        let (groups, eps, input) = (groups?, eps?, input?);
        if eps <= 0.0 {
            args.invalid(
                "eps",
                format!("{kind_name} eps must be positive, found {eps}"),
                None,
            );
            return None;
        }
        if !layer && !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        let channels = input.dims()[0];
        if channels % groups != 0 {
            let divisors: Vec<String> = (1..=channels)
                .filter(|d| channels % d == 0)
                .map(|d| d.to_string())
                .collect();
            self.errors.push(
                Diagnostic::error(
                    args_span(call, "groups"),
                    format!("{groups} groups do not divide the {channels} channels of the input {input}"),
                )
                .with_label(format!("input shape {input}"))
                .with_help(format!("use a divisor of {channels}: {}", divisors.join(", "))),
            );
            return None;
        }
        let Some(flops) = (input.numel() as u64).checked_mul(5) else {
            return self.too_large(call, &format!("its input {input}"));
        };
        Some(Built {
            kind: LayerKind::GroupNorm(GroupNorm { groups, eps, layer }),
            output: input.clone(),
            params: ParamCount {
                trainable: 2 * channels,
                non_trainable: 0,
            },
            flops,
        })
    }
}
