//! `dropout(rate)`: inverted dropout in training, the identity at inference.

use super::{Inference, Io, Raw, Scratch, ScratchKind};
use crate::names::{function, ident};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;

pub fn emit(step: &Step<'_>, rate: f64, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let mask_name = format!("{name}_mask");
    let mask = ident(&mask_name);
    let doc = format!(" `{name}`: dropout({rate}) on {}.", layer.input);
    let rate_lit = rate.lower();
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let forward = quote! { #forward_fn(#x, #y_mut, &mut ws.#mask, training, rng); };
    let (backward_fn_tokens, backward) = match dx_mut {
        Some(dx_mut) => (
            quote! {
                #[doc = #doc]
                fn #backward_fn(dy: &[F], mask: &[F], dx: &mut [F]) {
                    train::dropout::backward(dy, mask, dx, #accumulate);
                }
            },
            quote! { #backward_fn(#dy, &ws.#mask, #dx_mut); },
        ),
        None => Default::default(),
    };
    let functions = quote! {
        #[doc = #doc]
        fn #forward_fn(x: &[F], y: &mut [F], mask: &mut [F], training: bool, rng: &mut train::Rng) {
            const RATE: f64 = #rate_lit;
            if training {
                train::dropout::forward(x, y, mask, RATE, rng);
            } else {
                rt::elementwise::copy(x, y);
            }
        }

        #backward_fn_tokens
    };
    Raw {
        functions,
        forward,
        backward,
        scratch: vec![Scratch {
            name: mask_name,
            len: layer.input.numel(),
            kind: ScratchKind::PerSample,
        }],
        uses_training: true,
        uses_rng: true,
        inference: Some(Inference {
            functions: quote! {
                #[doc = #doc]
                fn #forward_fn(x: &[F], y: &mut [F]) {
                    rt::elementwise::copy(x, y);
                }
            },
            call: quote! { #forward_fn(#x, #y_mut); },
        }),
        ..Default::default()
    }
}
