//! Activations, as a layer of their own (`relu;`) or applied at the end of a
//! dense or conv layer (`activation = relu`).

use super::{Io, Raw};
use crate::names::function;
use crate::plan::{Step, StepKind};
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

/// A standalone activation layer, or the activation step of a dense or
/// conv2d layer ([`StepKind::Activation`]): `y = act(x)`, `dx = act'(y) dy`
/// (`act'(x) dy` for an activation whose gradient needs its input).
pub fn emit_layer(step: &Step<'_>, activation: Activation, io: &Io) -> Raw {
    let layer = step.layer();
    let (name, doc) = match step.kind {
        StepKind::Activation { .. } => (
            format!("{}_{}", layer.name, activation.name()),
            format!(
                " `{}`'s {activation}, on its output {}.",
                layer.name, layer.output
            ),
        ),
        _ => (
            layer.name.clone(),
            format!(" `{}`: {activation} on {}.", layer.name, layer.input),
        ),
    };
    let forward_fn = function(&name, "forward");
    let backward_fn = function(&name, "backward");
    let k = (*layer.output.dims().last().unwrap_or(&1)).lower();
    let act_forward = activation_forward(activation, quote!(y), quote!(#k));
    // What the backward kernel reads: the input, or the output.
    let (kept, kept_arg) = match activation.needs_input() {
        true => (quote!(x), io.x.clone()),
        false => (quote!(y), io.y.clone()),
    };
    let act_backward = activation_backward(activation, kept.clone(), quote!(dy), quote!(#k));
    let Io {
        x,
        y_mut,
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
                fn #backward_fn(#kept: &[F], dy: &mut [F], dx: &mut [F]) {
                    #act_backward
                    rt::elementwise::write_gradient(dy, dx, #accumulate);
                }
            },
            quote! { #backward_fn(#kept_arg, #dy_mut, #dx_mut); },
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
