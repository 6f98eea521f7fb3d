//! `dropout`: the masks the test hands in, or the identity.

use crate::*;

pub(crate) fn dropout(layer: &Layer, rate: f64, ctx: &Ctx<'_>, x: &[f64]) -> Vec<f64> {
    match (ctx.mode, ctx.masks) {
        (Mode::Training, Some(masks)) => {
            let mask = masks
                .get(&layer.name)
                .unwrap_or_else(|| panic!("no dropout mask for layer `{}`", layer.name));
            assert_eq!(
                mask.len(),
                x.len(),
                "dropout mask for `{}` must have batch * numel elements",
                layer.name
            );
            let scale = 1.0 / (1.0 - rate);
            x.iter().zip(mask).map(|(v, m)| v * m * scale).collect()
        }
        _ => x.to_vec(),
    }
}
