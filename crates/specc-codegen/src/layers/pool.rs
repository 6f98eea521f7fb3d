//! `maxpool2d`, `avgpool2d`, `global_avgpool` and `global_maxpool`, through the runtime's
//! `pool` kernels. Max pooling remembers its argmax for the backward pass.

use super::{Io, Raw, Scratch, ScratchKind};
use crate::names::{function, ident};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::Pool2d;

pub fn emit_window(step: &Step<'_>, pool: &Pool2d, max: bool, io: &Io) -> Raw {
    let layer = step.layer();
    let kind = if max { "max" } else { "average" };
    let doc = format!(
        " `{}`: {kind} pooling {}x{}, stride {}x{}, {} -> {}.",
        layer.name, pool.size[0], pool.size[1], pool.stride[0], pool.stride[1], layer.input, layer.output
    );
    window(step, pool, max, io, &doc)
}

/// `global_maxpool`: max pooling with one window the size of the plane,
/// through the same kernels (its `[C]` output is `[C, 1, 1]` in memory).
pub fn emit_global_max(step: &Step<'_>, io: &Io) -> Raw {
    let layer = step.layer();
    let (_, h, w) = layer
        .input
        .chw()
        .expect("checker: global_maxpool input is [C, H, W]");
    let pool = Pool2d {
        size: [h, w],
        stride: [h, w],
    };
    let doc = format!(
        " `{}`: global max pooling, {} -> {}.",
        layer.name, layer.input, layer.output
    );
    window(step, &pool, true, io, &doc)
}

fn window(step: &Step<'_>, pool: &Pool2d, max: bool, io: &Io, doc: &str) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let (channels, height, width) = layer.input.chw().expect("checker: pool input is [C, H, W]");
    // A global pool's output `[C]` is one position per channel.
    let (out_h, out_w) = layer.output.chw().map_or((1, 1), |(_, h, w)| (h, w));
    let shape_const = ident(&format!("{}_SHAPE", name.to_uppercase()));
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let lits = [
        channels,
        height,
        width,
        pool.size[0],
        pool.size[1],
        pool.stride[0],
        pool.stride[1],
        out_h,
        out_w,
    ]
    .map(|d| d.lower());
    let [c, h, w, zh, zw, sh, sw, oh, ow] = lits;
    let shape_doc = format!(" The dimensions of `{name}`.");
    let argmax_name = format!("{name}_argmax");
    let argmax = ident(&argmax_name);
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;

    let (forward_fn_tokens, forward, scratch) = if max {
        (
            quote! {
                #[doc = #doc]
                fn #forward_fn(batch: usize, x: &[F], y: &mut [F], argmax: &mut [u32]) {
                    rt::pool::max_forward(&#shape_const, batch, x, y, argmax);
                }
            },
            quote! { #forward_fn(batch, #x, #y_mut, &mut ws.#argmax); },
            vec![Scratch {
                name: argmax_name,
                len: layer.output.numel(),
                kind: ScratchKind::PerSampleIndex,
            }],
        )
    } else {
        (
            quote! {
                #[doc = #doc]
                fn #forward_fn(batch: usize, x: &[F], y: &mut [F]) {
                    rt::pool::avg_forward(&#shape_const, batch, x, y);
                }
            },
            quote! { #forward_fn(batch, #x, #y_mut); },
            Vec::new(),
        )
    };
    let (backward_fn_tokens, backward) = match dx_mut {
        Some(dx_mut) if max => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(batch: usize, dy: &[F], argmax: &[u32], dx: &mut [F]) {
                    rt::pool::max_backward(&#shape_const, batch, dy, argmax, dx, #accumulate);
                }
            },
            quote! { #backward_fn(batch, #dy, &ws.#argmax, #dx_mut); },
        ),
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(batch: usize, dy: &[F], dx: &mut [F]) {
                    rt::pool::avg_backward(&#shape_const, batch, dy, dx, #accumulate);
                }
            },
            quote! { #backward_fn(batch, #dy, #dx_mut); },
        ),
        None => Default::default(),
    };
    Raw {
        functions: quote! {
            #[doc = #shape_doc]
            const #shape_const: rt::pool::Pool2dShape = rt::pool::Pool2dShape {
                channels: #c,
                height: #h,
                width: #w,
                size_h: #zh,
                size_w: #zw,
                stride_h: #sh,
                stride_w: #sw,
                out_h: #oh,
                out_w: #ow,
            };

            #forward_fn_tokens

            #backward_fn_tokens
        },
        forward,
        backward,
        scratch,
        ..Default::default()
    }
}

pub fn emit_global(step: &Step<'_>, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let (channels, height, width) = layer
        .input
        .chw()
        .expect("checker: global_avgpool input is [C, H, W]");
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let c = channels.lower();
    let positions = (height * width).lower();
    let doc = format!(
        " `{name}`: global average pooling, {} -> {}.",
        layer.input, layer.output
    );
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let (backward_fn_tokens, backward) = match dx_mut {
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(batch: usize, dy: &[F], dx: &mut [F]) {
                    rt::pool::global_avg_backward(#c, #positions, batch, dy, dx, #accumulate);
                }
            },
            quote! { #backward_fn(batch, #dy, #dx_mut); },
        ),
        None => Default::default(),
    };
    Raw {
        functions: quote! {
            #[doc = #doc]
            fn #forward_fn(batch: usize, x: &[F], y: &mut [F]) {
                rt::pool::global_avg_forward(#c, #positions, batch, x, y);
            }

            #backward_fn_tokens
        },
        forward: quote! { #forward_fn(batch, #x, #y_mut); },
        backward,
        ..Default::default()
    }
}
