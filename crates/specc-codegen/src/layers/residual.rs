//! A residual block's add step: `y = body + shortcut` (the block's input for
//! the identity shortcut). Its backward pass hands the output gradient to
//! both branches; the body's and shortcut's own steps come before (forward)
//! and after (backward) it.

use super::{Io, Raw, grad_mut, value};
use crate::names::function;
use crate::plan::{Buf, Step};
use quote::quote;
use specc_lang::Layer;

pub fn emit(step: &Step<'_>, layer: &Layer, body: &Buf, shortcut: Option<&Buf>, io: &Io) -> Raw {
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let shortcut_text = match shortcut {
        Some(_) => "its shortcut",
        None => "its input (identity shortcut)",
    };
    let doc = format!(
        " `{name}`: the body's output plus {shortcut_text}, {}.",
        layer.output
    );
    let Io {
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let body_value = value(body);
    let other_value = shortcut.map_or_else(|| value(&step.input), value);

    // Backward: the shortcut branch (or the identity into the input gradient)
    // first, then the body's output gradient. A body that computes nothing
    // (its output is the block's input) adds to the input gradient.
    let mut params = Vec::new();
    let mut statements = Vec::new();
    let mut args = Vec::new();
    match shortcut {
        Some(s) => {
            if let Some(g) = grad_mut(s) {
                params.push(quote!(shortcut_grad: &mut [F]));
                statements.push(quote!(rt::elementwise::write_gradient(dy, shortcut_grad, false);));
                args.push(g);
            }
        }
        None => {
            if let Some(dx) = dx_mut {
                params.push(quote!(dx: &mut [F]));
                statements.push(quote!(rt::elementwise::write_gradient(dy, dx, #accumulate);));
                args.push(dx.clone());
            }
        }
    }
    if body == &step.input {
        if let Some(dx) = dx_mut {
            if shortcut.is_some() {
                params.push(quote!(dx: &mut [F]));
                args.push(dx.clone());
            }
            statements.push(quote!(rt::elementwise::write_gradient(dy, dx, true);));
        }
    } else if let Some(g) = grad_mut(body) {
        params.push(quote!(body_grad: &mut [F]));
        statements.push(quote!(rt::elementwise::write_gradient(dy, body_grad, false);));
        args.push(g);
    }
    let (backward_fn_tokens, backward) = if statements.is_empty() {
        Default::default()
    } else {
        (
            quote! {
                #[doc = #doc]
                fn #backward_fn(dy: &[F], #(#params),*) {
                    #(#statements)*
                }
            },
            quote! { #backward_fn(#dy, #(#args),*); },
        )
    };
    Raw {
        functions: quote! {
            #[doc = #doc]
            fn #forward_fn(body: &[F], shortcut: &[F], y: &mut [F]) {
                rt::elementwise::add(body, shortcut, y);
            }

            #backward_fn_tokens
        },
        forward: quote! { #forward_fn(#body_value, #other_value, #y_mut); },
        backward,
        ..Default::default()
    }
}
