//! `conv2d(filters, kernel)`: im2col per sample and one GEMM per sample and
//! pass (forward, weight gradient, input gradient), through the runtime's
//! `conv` kernels with every dimension a constant; the bias and the
//! activation (and their gradients) are applied inside those kernels, one
//! sample at a time while it is in cache.

use super::{Io, Raw, Weighted, activation_backward, activation_forward};
use crate::names::{function, ident};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::Conv2d;

pub fn emit(step: &Step<'_>, conv: &Conv2d, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let (channels, height, width) = layer.input.chw().expect("checker: conv2d input is [C, H, W]");
    let (_, out_h, out_w) = layer.output.chw().expect("checker: conv2d output is [F, H, W]");
    let shape_const = ident(&format!("{}_SHAPE", name.to_uppercase()));
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let Weighted {
        activation,
        weight,
        y_param,
        weight_param,
        bias_arg,
        bias_grad_arg,
        y_arg,
        weight_arg,
    } = Weighted::new(step, conv.activation, conv.bias, io);
    let [kh, kw] = conv.kernel;
    let [sh, sw] = conv.stride;
    let [top, _, left, _] = conv.padding;
    let lits = [
        channels,
        height,
        width,
        conv.filters,
        kh,
        kw,
        sh,
        sw,
        top,
        left,
        out_h,
        out_w,
    ]
    .map(|d| d.lower());
    let [c, h, w, f, kh_l, kw_l, sh_l, sw_l, top_l, left_l, oh_l, ow_l] = lits;

    let positions = (out_h * out_w).lower();
    // The activation runs inside the convolution, on one sample at a time.
    let (act_forward, y_backward, act_backward) = match activation {
        Some(a) => {
            let forward = activation_forward(a, quote!(y), quote!(#positions));
            let backward = activation_backward(a, quote!(y), quote!(dy), quote!(#positions));
            (
                quote!(|y: &mut [F]| { #forward }),
                quote!(Some(y)),
                quote!(|y: &[F], dy: &mut [F]| { #backward }),
            )
        }
        None => (
            quote!(|_: &mut [F]| {}),
            quote!(None),
            quote!(|_: &[F], _: &mut [F]| {}),
        ),
    };
    let doc = format!(
        " `{name}`: conv2d {kh}x{kw}, stride {sh}x{sw}, padding [{}, {}, {}, {}], {} -> {}{}.",
        conv.padding[0],
        conv.padding[1],
        conv.padding[2],
        conv.padding[3],
        layer.input,
        layer.output,
        activation.map_or(String::new(), |a| format!(", {a}"))
    );
    let shape_doc = format!(" The dimensions of `{name}`.");

    let (bias_param, bias, bias_grad_param, bias_grad) = if conv.bias {
        (
            quote!(bias: &[F],),
            quote!(Some(bias)),
            quote!(d_bias: &mut [F],),
            quote!(Some(d_bias)),
        )
    } else {
        (quote!(), quote!(None), quote!(), quote!(None))
    };
    let accumulate = io.accumulate;
    // Without an input gradient the weight is not read in backward.
    let (dx_param, dx) = if io.dx_mut.is_some() {
        (
            quote!(dx: &mut [F],),
            quote!(Some(rt::conv::InputGradient { weight, dx, accumulate: #accumulate })),
        )
    } else {
        (quote!(), quote!(None))
    };

    let functions = quote! {
        #[doc = #shape_doc]
        const #shape_const: rt::conv::Conv2dShape = rt::conv::Conv2dShape {
            channels: #c,
            height: #h,
            width: #w,
            filters: #f,
            kernel_h: #kh_l,
            kernel_w: #kw_l,
            stride_h: #sh_l,
            stride_w: #sw_l,
            pad_top: #top_l,
            pad_left: #left_l,
            out_h: #oh_l,
            out_w: #ow_l,
        };

        #[doc = #doc]
                fn #forward_fn(batch: usize, x: &[F], weight: &[F], #bias_param y: &mut [F]) {
            rt::conv::forward(&#shape_const, batch, x, weight, #bias, y, #act_forward);
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
            let grads = rt::conv::Gradients {
                d_weight: Some(d_weight),
                d_bias: #bias_grad,
                dx: #dx,
            };
            rt::conv::backward(&#shape_const, batch, x, #y_backward, #act_backward, dy, grads);
        }
    };

    let Io {
        x,
        y_mut,
        dy_mut,
        dx_mut,
        ..
    } = io;
    let dx_arg = dx_mut.as_ref().map(|d| quote!(#d,));
    let input_gradient = dx_mut.is_some();
    let kernel = quote! {
        rt::LayerKernel::Conv2d { name: #name, shape: #shape_const, input_gradient: #input_gradient }
    };
    Raw {
        functions,
        forward: quote! { #forward_fn(batch, #x, &p.#weight, #bias_arg #y_mut); },
        backward: quote! {
            #backward_fn(batch, #x, #y_arg #dy_mut, #weight_arg &mut g.#weight, #bias_grad_arg #dx_arg);
        },
        backward_reads_params: dx_mut.is_some(),
        kernel: Some(kernel),
        need: Some(super::Need::Conv2d {
            shape: specc_core::conv::Conv2dShape {
                channels,
                height,
                width,
                filters: conv.filters,
                kernel_h: kh,
                kernel_w: kw,
                stride_h: sh,
                stride_w: sw,
                pad_top: top,
                pad_left: left,
                out_h,
                out_w,
            },
            constant: shape_const.clone(),
        }),
        ..Default::default()
    }
}
