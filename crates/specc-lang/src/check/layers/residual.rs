//! `residual { ... }`: the body, the optional shortcut, and the shapes they must agree on.

use super::*;

impl LayerBuilder<'_> {
    pub(super) fn residual(&mut self, ast: &LayerAst, input: Option<&Shape>) -> Option<Built> {
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
