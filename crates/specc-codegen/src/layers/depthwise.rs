//! `depthwise_conv2d(kernel, multiplier)`: `y = act(depthwise(x, W) + b)`
//! through the runtime's direct depthwise kernel, the activation applied
//! over the whole batch's output.

use super::{Io, Raw, Weighted, activation_backward, activation_forward};
use crate::names::{function, ident};
use crate::plan::Step;
use crate::values::Lower;
use quote::quote;
use specc_lang::DepthwiseConv2d;

pub fn emit(step: &Step<'_>, conv: &DepthwiseConv2d, io: &Io) -> Raw {
    let layer = step.layer();
    let name = &layer.name;
    let forward_fn = function(name, "forward");
    let backward_fn = function(name, "backward");
    let shape_const = ident(&format!("{}_SHAPE", name.to_uppercase()));
    let (c, h, w) = layer
        .input
        .chw()
        .expect("checker: depthwise_conv2d input is [C, H, W]");
    let (_, out_h, out_w) = layer
        .output
        .chw()
        .expect("checker: depthwise_conv2d output is [C, H, W]");
    let [top, _, left, _] = conv.padding;
    let shape = specc_core::depthwise::DepthwiseShape {
        channels: c,
        height: h,
        width: w,
        multiplier: conv.multiplier,
        kernel_h: conv.kernel[0],
        kernel_w: conv.kernel[1],
        stride_h: conv.stride[0],
        stride_w: conv.stride[1],
        dilation_h: conv.dilation[0],
        dilation_w: conv.dilation[1],
        pad_top: top,
        pad_left: left,
        out_h,
        out_w,
    };
    let [c, h, w, m, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow] = [
        c,
        h,
        w,
        conv.multiplier,
        conv.kernel[0],
        conv.kernel[1],
        conv.stride[0],
        conv.stride[1],
        conv.dilation[0],
        conv.dilation[1],
        top,
        left,
        out_h,
        out_w,
    ]
    .map(|d| d.lower());
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
    let positions = (out_h * out_w).lower();
    let act_forward = activation.map(|a| activation_forward(a, quote!(y), quote!(#positions)));
    let act_backward = activation.map(|a| activation_backward(a, quote!(y), quote!(dy), quote!(#positions)));
    let doc = format!(
        " `{name}`: depthwise convolution {}x{} (x{} per channel), {} -> {}{}.",
        conv.kernel[0],
        conv.kernel[1],
        conv.multiplier,
        layer.input,
        layer.output,
        activation.map_or(String::new(), |a| format!(", {a}"))
    );
    let shape_doc = format!(" The dimensions of `{name}`.");
    let (bias_param, bias_value, bias_grad_param, bias_grad_value) = if conv.bias {
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
    let (dx_param, dx_compute) = match io.dx_mut {
        Some(_) => (
            quote!(dx: &mut [F]),
            quote!(rt::depthwise::backward_input(&#shape_const, batch, dy, weight, dx, #accumulate);),
        ),
        None => Default::default(),
    };
    let functions = quote! {
        #[doc = #shape_doc]
        const #shape_const: rt::depthwise::DepthwiseShape = rt::depthwise::DepthwiseShape {
            channels: #c, height: #h, width: #w, multiplier: #m,
            kernel_h: #kh, kernel_w: #kw, stride_h: #sh, stride_w: #sw,
            dilation_h: #dh, dilation_w: #dw, pad_top: #pt, pad_left: #pl,
            out_h: #oh, out_w: #ow,
        };

        #[doc = #doc]
        fn #forward_fn(batch: usize, x: &[F], weight: &[F], #bias_param y: &mut [F]) {
            rt::depthwise::forward(&#shape_const, batch, x, weight, #bias_value, y);
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
            #act_backward
            rt::depthwise::backward_weights(&#shape_const, batch, x, dy, d_weight, #bias_grad_value);
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
    let input_gradient = dx_mut.is_some();
    Raw {
        functions,
        forward: quote! { #forward_fn(batch, #x, &p.#weight, #bias_arg #y_mut); },
        backward: quote! {
            #backward_fn(batch, #x, #y_arg #dy_mut, #weight_arg &mut g.#weight, #bias_grad_arg #dx_mut);
        },
        backward_reads_params: dx_mut.is_some(),
        kernel: Some(quote! {
            rt::LayerKernel::Depthwise { name: #name, shape: #shape_const, input_gradient: #input_gradient }
        }),
        need: Some(super::Need::Depthwise {
            shape,
            constant: shape_const.clone(),
        }),
        ..Default::default()
    }
}
