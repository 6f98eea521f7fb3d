//! `impl rt::Inference`: the model's shapes, tensors and prediction.

use super::Ctx;
use crate::layers::activation_forward;
use crate::names::tensor_field;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;

pub fn emit(cx: &Ctx<'_>) -> TokenStream {
    let model = cx.model;
    let struct_name = &cx.struct_name;
    let (name_str, module_str) = (&model.name, &model.module_name);
    let input_dims = model.input.dims().iter().map(|d| d.lower());
    let output_dims = model.output.dims().iter().map(|d| d.lower());
    let forward_flops = model.forward_flops().lower();
    let tensor_infos = cx.tensors.iter().map(|t| {
        let name = &t.name;
        let dims = t.shape.iter().map(|d| d.lower());
        let role = t.role.lower();
        quote!(rt::TensorInfo { name: #name, shape: &[#(#dims),*], role: #role },)
    });
    let arms = |reference: TokenStream| -> Vec<TokenStream> {
        cx.tensors
            .iter()
            .map(|t| {
                let name = &t.name;
                let f = tensor_field(name);
                quote!(#name => Some(#reference self.params.#f),)
            })
            .collect()
    };
    let (tensor_arms, tensor_mut_arms) = (arms(quote!(&)), arms(quote!(&mut)));
    let (_, infer_arg) = cx.mode_args();
    let out = &cx.out;
    let k = &cx.output_len;
    let fused = cx
        .plan
        .fused
        .map(|a| activation_forward(a, quote!(output), quote!(#k)));
    quote! {
        impl rt::Inference for #struct_name {
            type F = F;
            const NAME: &'static str = #name_str;
            const MODULE: &'static str = #module_str;
            const INPUT_SHAPE: &'static [usize] = &[#(#input_dims),*];
            const OUTPUT_SHAPE: &'static [usize] = &[#(#output_dims),*];
            const TENSORS: &'static [rt::TensorInfo] = &[#(#tensor_infos)*];
            const FORWARD_FLOPS: u64 = #forward_flops;

            fn predict_into(&mut self, input: &[F], batch: usize, output: &mut [F]) {
                self.forward(input, batch #infer_arg);
                output.copy_from_slice(&self.workspace.#out);
                #fused
            }

            fn tensor(&self, name: &str) -> Option<&[F]> {
                match name {
                    #(#tensor_arms)*
                    _ => None,
                }
            }

            fn tensor_mut(&mut self, name: &str) -> Option<&mut [F]> {
                match name {
                    #(#tensor_mut_arms)*
                    _ => None,
                }
            }
        }
    }
}
