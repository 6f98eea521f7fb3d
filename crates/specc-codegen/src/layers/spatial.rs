//! `zero_pad2d`, `crop2d` and `upsample2d`, through the runtime's `spatial`
//! kernels: padding's gradient is a crop, cropping's a padding.

use super::{Io, Raw};
use crate::names::{function, ident};
use crate::plan::Step;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::UpsampleMode;

/// `zero_pad2d` (`pad` true) or `crop2d`: the inner plane is the input (or
/// the output) and `amount` the border on each side.
pub fn emit_border(step: &Step<'_>, amount: [usize; 2], pad: bool, io: &Io) -> Raw {
    let layer = step.layer();
    let small = if pad { &layer.input } else { &layer.output };
    let (c, h, w) = small.chw().expect("checker: the plane is [C, H, W]");
    let shape = ident(&format!("{}_BORDER", layer.name.to_uppercase()));
    let [c, h, w, ph, pw] = [c, h, w, amount[0], amount[1]].map(|d| d.lower());
    let constant = quote! {
        const #shape: rt::spatial::Border = rt::spatial::Border {
            channels: #c, height: #h, width: #w, pad_h: #ph, pad_w: #pw,
        };
    };
    let (what, forward_kernel, backward_kernel) = if pad {
        ("zero padding", quote!(embed), quote!(extract))
    } else {
        ("cropping", quote!(extract), quote!(embed))
    };
    let doc = format!(
        " `{}`: {what} {}x{}, {} -> {}.",
        layer.name, amount[0], amount[1], layer.input, layer.output
    );
    let forward = quote!(rt::spatial::#forward_kernel(&#shape, batch, x, y, false););
    let backward = quote!(rt::spatial::#backward_kernel(&#shape, batch, dy, dx, ACCUMULATE););
    emit(step, io, &doc, constant, forward, backward)
}

/// `upsample2d(factor, mode)`.
pub fn emit_upsample(step: &Step<'_>, factor: [usize; 2], mode: UpsampleMode, io: &Io) -> Raw {
    let layer = step.layer();
    let (c, h, w) = layer.input.chw().expect("checker: upsample2d input is [C, H, W]");
    let shape = ident(&format!("{}_UPSAMPLE", layer.name.to_uppercase()));
    let [c, h, w, fh, fw] = [c, h, w, factor[0], factor[1]].map(|d| d.lower());
    let constant = quote! {
        const #shape: rt::spatial::Upsample = rt::spatial::Upsample {
            channels: #c, height: #h, width: #w, factor_h: #fh, factor_w: #fw,
        };
    };
    let kernel = ident(&format!("upsample_{}", mode.name()));
    let backward_kernel = ident(&format!("upsample_{}_backward", mode.name()));
    let doc = format!(
        " `{}`: {} upsampling {}x{}, {} -> {}.",
        layer.name,
        mode.name(),
        factor[0],
        factor[1],
        layer.input,
        layer.output
    );
    let forward = quote!(rt::spatial::#kernel(&#shape, batch, x, y););
    let backward = quote!(rt::spatial::#backward_kernel(&#shape, batch, dy, dx, ACCUMULATE););
    emit(step, io, &doc, constant, forward, backward)
}

/// The layer's functions around its kernel calls: `forward(batch, x, y)`
/// and, when the input gradient is needed, `backward(batch, dy, dx)`.
fn emit(
    step: &Step<'_>,
    io: &Io,
    doc: &str,
    constant: TokenStream,
    forward: TokenStream,
    backward: TokenStream,
) -> Raw {
    let name = &step.layer().name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let (backward_fn_tokens, backward_call) = match dx_mut {
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(batch: usize, dy: &[F], dx: &mut [F]) {
                    const ACCUMULATE: bool = #accumulate;
                    #backward
                }
            },
            quote! { #backward_fn(batch, #dy, #dx_mut); },
        ),
        None => Default::default(),
    };
    Raw {
        functions: quote! {
            #constant

            #[doc = #doc]
            fn #forward_fn(batch: usize, x: &[F], y: &mut [F]) {
                #forward
            }

            #backward_fn_tokens
        },
        forward: quote! { #forward_fn(batch, #x, #y_mut); },
        backward: backward_call,
        ..Default::default()
    }
}
