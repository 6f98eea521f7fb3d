//! Activations, as a layer of their own (`relu;`) or applied at the end of a
//! dense or conv layer (`activation = relu`).

use super::{Emitted, Io};
use crate::names::function;
use crate::plan::Step;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::Activation;

/// Applies `activation` in place to `y`, rows of `k` values (for softmax).
pub fn activation_forward(activation: Activation, y: TokenStream, k: TokenStream) -> TokenStream {
    match activation {
        Activation::Relu => quote!(rt::activation::relu(#y);),
        Activation::LeakyRelu { alpha } => {
            let alpha = alpha.lower();
            quote!(rt::activation::leaky_relu(#y, #alpha);)
        }
        Activation::Sigmoid => quote!(rt::activation::sigmoid(#y);),
        Activation::Tanh => quote!(rt::activation::tanh(#y);),
        Activation::Softmax => quote!(rt::activation::softmax(#y, #k);),
    }
}

/// Turns the output gradient `dy` into the pre-activation gradient, in place,
/// from the activation's output `y`.
pub fn activation_backward(
    activation: Activation,
    y: TokenStream,
    dy: TokenStream,
    k: TokenStream,
) -> TokenStream {
    match activation {
        Activation::Relu => quote!(rt::activation::relu_backward(#y, #dy);),
        Activation::LeakyRelu { alpha } => {
            let alpha = alpha.lower();
            quote!(rt::activation::leaky_relu_backward(#y, #dy, #alpha);)
        }
        Activation::Sigmoid => quote!(rt::activation::sigmoid_backward(#y, #dy);),
        Activation::Tanh => quote!(rt::activation::tanh_backward(#y, #dy);),
        Activation::Softmax => quote!(rt::activation::softmax_backward(#y, #dy, #k);),
    }
}

/// A standalone activation layer: `y = act(x)`, `dx = act'(y) dy`.
pub fn emit_layer(step: &Step<'_>, activation: Activation, io: &Io) -> Emitted {
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
    Emitted {
        functions,
        forward,
        backward,
        ..Default::default()
    }
}
