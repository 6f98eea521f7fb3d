//! Activations, as a layer of their own (`relu;`) or applied at the end of a
//! dense or conv layer (`activation = relu`).

use super::{Io, Raw};
use crate::names::function;
use crate::plan::Step;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::Activation;

/// Applies `activation` in place to `y`, rows of `k` values (for softmax):
/// `rt::activation::<name>(y, [k,] args...)`.
pub fn activation_forward(activation: Activation, y: TokenStream, k: TokenStream) -> TokenStream {
    let kernel = crate::names::ident(activation.name());
    let args = kernel_args(activation, k);
    quote!(rt::activation::#kernel(#y #(, #args)*);)
}

/// Turns the output gradient `dy` into the pre-activation gradient, in place,
/// from the activation's output `y`: `rt::activation::<name>_backward(y, dy,
/// [k,] args...)`.
pub fn activation_backward(
    activation: Activation,
    y: TokenStream,
    dy: TokenStream,
    k: TokenStream,
) -> TokenStream {
    let kernel = crate::names::function(activation.name(), "backward");
    let args = kernel_args(activation, k);
    quote!(rt::activation::#kernel(#y, #dy #(, #args)*);)
}

/// The row length (for per-row activations) and the activation's own
/// arguments, as the kernels take them after the values.
fn kernel_args(activation: Activation, k: TokenStream) -> Vec<TokenStream> {
    let row = activation.per_row().then_some(k);
    row.into_iter()
        .chain(activation.kernel_args().iter().map(|a| a.lower()))
        .collect()
}

/// A standalone activation layer: `y = act(x)`, `dx = act'(y) dy`.
pub fn emit_layer(step: &Step<'_>, activation: Activation, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let k = (*layer.output.dims().last().unwrap_or(&1)).lower();
    let act_forward = activation_forward(activation, quote!(y), quote!(#k));
    let act_backward = activation_backward(activation, quote!(y), quote!(dy), quote!(#k));
    let doc = format!(" `{name}`: {activation} on {}.", layer.input);
    let Io {
        x,
        y_mut,
        y,
        dy_mut,
        dx_mut,
        accumulate,
        ..
    } = io;
    let forward = quote! { #forward_fn(#x, #y_mut); };
    let (backward_fn_tokens, backward) = match dx_mut {
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(y: &[F], dy: &mut [F], dx: &mut [F]) {
                    #act_backward
                    rt::elementwise::write_gradient(dy, dx, #accumulate);
                }
            },
            quote! { #backward_fn(#y, #dy_mut, #dx_mut); },
        ),
        None => Default::default(),
    };
    let functions = quote! {
        #[doc = #doc]
        fn #forward_fn(x: &[F], y: &mut [F]) {
            rt::elementwise::copy(x, y);
            #act_forward
        }

        #backward_fn_tokens
    };
    Raw {
        functions,
        forward,
        backward,
        ..Default::default()
    }
}
