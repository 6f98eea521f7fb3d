//! `maxpool2d`, `avgpool2d`, `global_avgpool` and `global_maxpool`:
//! arguments and shape rules.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn pool(
        &mut self,
        call: &Call,
        kind_name: &'static str,
        input: Option<&Shape>,
    ) -> Option<Built> {
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

    /// `global_avgpool` or `global_maxpool`: `[C, H, W]` to `[C]`.
    pub(super) fn global_pool(
        &mut self,
        call: &Call,
        kind_name: &str,
        input: Option<&Shape>,
    ) -> Option<Built> {
        ArgReader::new(call, &[], 0, self.errors);
        let input = input?;
        if !self.expect_rank(call, input, 3, "an image input [channels, height, width]", None) {
            return None;
        }
        Some(Built {
            kind: if kind_name == "global_maxpool" {
                LayerKind::GlobalMaxPool
            } else {
                LayerKind::GlobalAvgPool
            },
            output: Shape(vec![input.0[0]]),
            params: ParamCount::default(),
            flops: input.numel() as u64,
        })
    }
}

/// `MaxPool2d 2x2`, or `AvgPool2d 3x3/2` when the stride is not the size.
pub(super) fn describe(kind: &str, p: &Pool2d) -> String {
    let size = format!("{}x{}", p.size[0], p.size[1]);
    if p.stride == p.size {
        format!("{kind} {size}")
    } else {
        format!("{kind} {size}/{}", pair_text(p.stride))
    }
}
