//! `zero_pad2d`, `crop2d` and `upsample2d`: arguments and shape rules.

use super::*;

impl LayerBuilder<'_> {
    /// `zero_pad2d(padding)` and `crop2d(cropping)`: `[ph, pw]` rows and
    /// columns added to (taken off) each side of every plane.
    pub(super) fn border(
        &mut self,
        call: &Call,
        kind_name: &'static str,
        input: Option<&Shape>,
    ) -> Option<Built> {
        let (arg, params): (&str, &'static [&'static str]) = if kind_name == "zero_pad2d" {
            ("padding", &["padding"])
        } else {
            ("cropping", &["cropping"])
        };
        let mut args = ArgReader::new(call, params, 1, self.errors);
        let amount = match args.value(arg) {
            None => {
                args.missing(arg, &format!("{kind_name}(1)"));
                None
            }
            Some(_) => args.int_or_pair(arg, 0),
        };
        let (amount, input) = (amount?, input?);
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        let (c, h, w) = input.chw()?;
        let mut out = [0usize; 2];
        for (axis, (extent, axis_name)) in [(h, "height"), (w, "width")].into_iter().enumerate() {
            let twice = amount[axis].checked_mul(2);
            out[axis] = match (kind_name, twice) {
                ("zero_pad2d", Some(t)) => match extent.checked_add(t) {
                    Some(o) => o,
                    None => return self.too_large(call, "its padded plane"),
                },
                ("zero_pad2d", None) => return self.too_large(call, "its padded plane"),
                (_, Some(t)) if t < extent => extent - t,
                _ => {
                    self.errors.push(
                        Diagnostic::error(
                            args_span(call, arg),
                            format!(
                                "cropping {} off each side of an input {axis_name} of {extent} leaves nothing",
                                amount[axis]
                            ),
                        )
                        .with_label(format!("input shape {input}"))
                        .with_help(format!(
                            "crop less than half the {axis_name}: at most {} on each side",
                            extent.saturating_sub(1) / 2
                        )),
                    );
                    return None;
                }
            };
        }
        let output = Shape(vec![c, out[0], out[1]]);
        if output.checked_numel().is_none() {
            return self.too_large(call, &format!("its output {output}"));
        }
        let kind = if kind_name == "zero_pad2d" {
            LayerKind::ZeroPad2d { padding: amount }
        } else {
            LayerKind::Crop2d { cropping: amount }
        };
        Some(Built {
            kind,
            flops: 0,
            params: ParamCount::default(),
            output,
        })
    }

    /// `upsample2d(factor = 2, mode = nearest)`.
    pub(super) fn upsample2d(&mut self, call: &Call, input: Option<&Shape>) -> Option<Built> {
        let mut args = ArgReader::new(call, &["factor", "mode"], 1, self.errors);
        let factor = match args.value("factor") {
            None => Some([2, 2]),
            Some(_) => args.int_or_pair("factor", 1),
        };
        let mode = match args.value("mode") {
            None => Some(UpsampleMode::Nearest),
            Some(_) => args.choice("mode", &["nearest", "bilinear"]).map(|m| {
                if m == "bilinear" {
                    UpsampleMode::Bilinear
                } else {
                    UpsampleMode::Nearest
                }
            }),
        };
        let (factor, mode, input) = (factor?, mode?, input?);
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        let (c, h, w) = input.chw()?;
        let (Some(oh), Some(ow)) = (h.checked_mul(factor[0]), w.checked_mul(factor[1])) else {
            return self.too_large(call, "its upsampled plane");
        };
        let output = Shape(vec![c, oh, ow]);
        let Some(numel) = output.checked_numel() else {
            return self.too_large(call, &format!("its output {output}"));
        };
        // Bilinear: four multiply-adds per output value.
        let per_value = match mode {
            UpsampleMode::Nearest => 0,
            UpsampleMode::Bilinear => 8,
        };
        Some(Built {
            kind: LayerKind::Upsample2d { factor, mode },
            flops: (numel as u64).saturating_mul(per_value),
            params: ParamCount::default(),
            output,
        })
    }
}

/// `ZeroPad2d 1x1`, `Crop2d 2x1`, `Upsample2d 2x2 bilinear`.
pub(super) fn describe(kind: &LayerKind) -> String {
    match kind {
        LayerKind::ZeroPad2d { padding: [h, w] } => format!("ZeroPad2d {h}x{w}"),
        LayerKind::Crop2d { cropping: [h, w] } => format!("Crop2d {h}x{w}"),
        LayerKind::Upsample2d { factor: [h, w], mode } => format!("Upsample2d {h}x{w} {}", mode.name()),
        _ => unreachable!("spatial::describe of {}", kind.name()),
    }
}
