//! `batchnorm`: momentum, eps, and the per-channel or per-feature parameters.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn batchnorm(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
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
}
