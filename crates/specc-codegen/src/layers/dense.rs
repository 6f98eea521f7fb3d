//! `dense(units)`: `y = act(x W^T + b)` over the whole batch as one GEMM per pass.

use super::{Io, Raw, Weighted, activation_backward, activation_forward};
use crate::names::function;
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::Dense;

pub fn emit(step: &Step<'_>, dense: &Dense, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let inputs = (layer.input.numel()).lower();
    let units = dense.units.lower();
    let Weighted {
        activation,
        weight,
        y_param,
        weight_param,
        bias_arg,
        bias_grad_arg,
        y_arg,
        weight_arg,
    } = Weighted::new(step, dense.activation, dense.bias, io);
    let act_forward = activation.map(|a| activation_forward(a, quote!(y), quote!(UNITS)));
    let act_backward = activation.map(|a| activation_backward(a, quote!(y), quote!(dy), quote!(UNITS)));
    let doc = format!(
        " `{name}`: dense {} -> {}{}.",
        layer.input,
        layer.output,
        match (dense.activation, step.activation_fused) {
            (Some(a), true) => format!(", {} fused into the loss", a.name()),
            (Some(a), false) => format!(", {a}"),
            (None, _) => String::new(),
        }
    );

    let (bias_param, bias_add, bias_grad_param, bias_grad) = if dense.bias {
        (
            quote!(bias: &[F],),
            quote!(rt::activation::add_bias_rows(y, bias);),
            quote!(d_bias: &mut [F],),
            quote!(rt::activation::bias_gradient_rows(dy, d_bias);),
        )
    } else {
        Default::default()
    };
    let (dx_param, dx_compute) = if io.dx_mut.is_some() {
        (
            quote!(dx: &mut [F]),
            quote!(rt::gemm::matmul_nn(batch, UNITS, INPUTS, dy, weight, dx, ACCUMULATE);),
        )
    } else {
        Default::default()
    };
    let accumulate = io.accumulate;
    let accumulate_const = if io.dx_mut.is_some() {
        quote!(const ACCUMULATE: bool = #accumulate;)
    } else {
        quote!()
    };

    let functions = quote! {
        #[doc = #doc]
                fn #forward_fn(batch: usize, x: &[F], weight: &[F], #bias_param y: &mut [F]) {
            const INPUTS: usize = #inputs;
            const UNITS: usize = #units;
            rt::gemm::matmul_nt(batch, INPUTS, UNITS, x, weight, y, false);
            #bias_add
            #act_forward
        }

        #[doc = #doc]
                fn #backward_fn(
            batch: usize,
            x: &[F],
            #y_param
            dy: &mut [F],
            #weight_param
            d_weight: &mut [F],
            #bias_grad_param
            #dx_param
        ) {
            const INPUTS: usize = #inputs;
            const UNITS: usize = #units;
            #accumulate_const
            #act_backward
            rt::gemm::matmul_tn(UNITS, batch, INPUTS, dy, x, d_weight, false);
            #bias_grad
            #dx_compute
        }
    };

    let Io {
        x,
        y_mut,
        dy_mut,
        dx_mut,
        ..
    } = io;
    let forward = quote! { #forward_fn(batch, #x, &p.#weight, #bias_arg #y_mut); };
    let backward = quote! {
        #backward_fn(batch, #x, #y_arg #dy_mut, #weight_arg &mut g.#weight, #bias_grad_arg #dx_mut);
    };
    let input_gradient = dx_mut.is_some();
    let kernel = quote! {
        rt::LayerKernel::Dense { name: #name, inputs: #inputs, units: #units, input_gradient: #input_gradient }
    };
    Raw {
        functions,
        forward,
        backward,
        backward_reads_params: dx_mut.is_some(),
        kernel: Some(kernel),
        need: Some(super::Need::Dense {
            inputs: layer.input.numel(),
            units: dense.units,
        }),
        ..Default::default()
    }
}
