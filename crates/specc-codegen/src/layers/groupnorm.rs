//! `groupnorm(groups)` and `layernorm`: each sample's own statistics, the
//! same in training and inference; training keeps the normalised input and
//! each group's inverse deviation for the backward pass.

use super::{Inference, Io, Raw, Scratch, ScratchKind};
use crate::names::{function, ident, tensor_field};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::GroupNorm;

pub fn emit(step: &Step<'_>, norm: &GroupNorm, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let dims = layer.input.dims();
    let channels = dims[0];
    let plane: usize = dims[1..].iter().product();
    let shape_const = ident(&format!("{}_SHAPE", name.to_uppercase()));
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let [gamma, beta] = ["gamma", "beta"].map(|r| tensor_field(&format!("{name}.{r}")));
    let xhat_name = format!("{name}_xhat");
    let inv_std_name = format!("{name}_inv_std");
    let (xhat, inv_std) = (ident(&xhat_name), ident(&inv_std_name));
    let [c, p, g] = [channels, plane, norm.groups].map(|d| d.lower());
    let eps = norm.eps.lower();
    let doc = match norm.layer {
        true => format!(
            " `{name}`: layer normalisation of {} (eps {}).",
            layer.input, norm.eps
        ),
        false => format!(
            " `{name}`: group normalisation of {} in {} groups (eps {}).",
            layer.input, norm.groups, norm.eps
        ),
    };
    let shape_doc = format!(" The dimensions of `{name}`.");
    let shape = quote! {
        #[doc = #shape_doc]
        const #shape_const: rt::groupnorm::GroupNormShape = rt::groupnorm::GroupNormShape {
            channels: #c,
            plane: #p,
            groups: #g,
            eps: #eps,
        };
    };
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
    let inference = Inference {
        functions: quote! {
            #shape

            #[doc = #doc]
            fn #forward_fn(batch: usize, x: &[F], gamma: &[F], beta: &[F], y: &mut [F]) {
                rt::groupnorm::forward(&#shape_const, batch, x, gamma, beta, y, None);
            }
        },
        call: quote! { #forward_fn(batch, #x, &p.#gamma, &p.#beta, #y_mut); },
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
                y: &mut [F],
                xhat: &mut [F],
                inv_std: &mut [F],
            ) {
                rt::groupnorm::forward(&#shape_const, batch, x, gamma, beta, y, Some((xhat, inv_std)));
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
                rt::groupnorm::backward(
                    &#shape_const, batch, dy, xhat, inv_std, gamma, d_gamma, d_beta, #dx_value, #accumulate,
                );
            }
        },
        forward: quote! {
            #forward_fn(batch, #x, &p.#gamma, &p.#beta, #y_mut, &mut ws.#xhat, &mut ws.#inv_std);
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
                len: norm.groups,
                kind: ScratchKind::PerSample,
            },
        ],
        backward_reads_params: true,
        inference: Some(inference),
        ..Default::default()
    }
}
