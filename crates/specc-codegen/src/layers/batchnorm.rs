//! `batchnorm`: batch statistics in training (with the running statistics
//! updated as Keras does), running statistics at inference.

use super::{Inference, Io, Raw, Scratch, ScratchKind};
use crate::names::{function, ident, tensor_field};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::BatchNorm;

pub fn emit(step: &Step<'_>, bn: &BatchNorm, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let dims = layer.input.dims();
    let channels = dims[0];
    let positions: usize = dims[1..].iter().product();
    let shape_const = ident(&format!("{}_SHAPE", name.to_uppercase()));
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let [gamma, beta, mean, var] =
        ["gamma", "beta", "running_mean", "running_var"].map(|r| tensor_field(&format!("{name}.{r}")));
    let xhat_name = format!("{name}_xhat");
    let inv_std_name = format!("{name}_inv_std");
    let (xhat, inv_std) = (ident(&xhat_name), ident(&inv_std_name));
    let (c, pos) = (channels.lower(), positions.lower());
    let (momentum, eps) = (bn.momentum, bn.eps);
    let doc = format!(
        " `{name}`: batch normalisation over {} (momentum {momentum}, eps {eps}).",
        layer.input
    );
    let (momentum_lit, eps_lit) = (momentum.lower(), eps.lower());
    let shape_doc = format!(" The dimensions of `{name}`.");
    let Io {
        x,
        y_mut,
        dy,
        dx_mut,
        accumulate,
        ..
    } = io;
    let (dx_param, dx_value, dx_arg) = match dx_mut {
        Some(d) => (quote!(dx: &mut [F],), quote!(Some(dx)), quote!(#d,)),
        None => (quote!(), quote!(None), quote!()),
    };
    let shape = quote! {
        #[doc = #shape_doc]
        const #shape_const: rt::batchnorm::BatchNormShape = rt::batchnorm::BatchNormShape {
            channels: #c,
            positions: #pos,
            momentum: #momentum_lit,
            eps: #eps_lit,
        };
    };
    let inference = Inference {
        functions: quote! {
            #shape

            #[doc = #doc]
            fn #forward_fn(
                batch: usize,
                x: &[F],
                gamma: &[F],
                beta: &[F],
                running_mean: &[F],
                running_var: &[F],
                y: &mut [F],
            ) {
                rt::batchnorm::infer_forward(&#shape_const, batch, x, gamma, beta, running_mean, running_var, y);
            }
        },
        call: quote! {
            #forward_fn(batch, #x, &p.#gamma, &p.#beta, &p.#mean, &p.#var, #y_mut);
        },
    };
    Raw {
        functions: quote! {
            #shape

            #[doc = #doc]
                        fn #forward_fn(
                batch: usize,
                x: &[F],
                gamma: &[F],
                beta: &[F],
                running_mean: &mut [F],
                running_var: &mut [F],
                y: &mut [F],
                xhat: &mut [F],
                inv_std: &mut [F],
                training: bool,
            ) {
                if training {
                    rt::batchnorm::train_forward(
                        &#shape_const, batch, x, gamma, beta, y, xhat, inv_std, running_mean, running_var,
                    );
                } else {
                    rt::batchnorm::infer_forward(&#shape_const, batch, x, gamma, beta, running_mean, running_var, y);
                }
            }

            #[doc = #doc]
                        fn #backward_fn(
                batch: usize,
                dy: &[F],
                xhat: &[F],
                inv_std: &[F],
                gamma: &[F],
                d_gamma: &mut [F],
                d_beta: &mut [F],
                #dx_param
            ) {
                rt::batchnorm::backward(
                    &#shape_const, batch, dy, xhat, inv_std, gamma, d_gamma, d_beta, #dx_value, #accumulate,
                );
            }
        },
        forward: quote! {
            #forward_fn(
                batch, #x, &p.#gamma, &p.#beta, &mut p.#mean, &mut p.#var, #y_mut,
                &mut ws.#xhat, &mut ws.#inv_std, training,
            );
        },
        backward: quote! {
            #backward_fn(
                batch, #dy, &ws.#xhat, &ws.#inv_std, &p.#gamma, &mut g.#gamma, &mut g.#beta, #dx_arg
            );
        },
        scratch: vec![
            Scratch {
                name: xhat_name,
                len: layer.input.numel(),
                kind: ScratchKind::PerSample,
            },
            Scratch {
                name: inv_std_name,
                len: channels,
                kind: ScratchKind::Shared,
            },
        ],
        uses_training: true,
        backward_reads_params: true,
        inference: Some(inference),
        ..Default::default()
    }
}
