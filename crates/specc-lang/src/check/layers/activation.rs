//! An activation as a layer of its own (`relu;`); `crate::activation` defines each.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn activation_layer(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
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
}
