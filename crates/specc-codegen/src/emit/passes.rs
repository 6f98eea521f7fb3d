//! The model's passes over its layers: `forward` and, with training,
//! `backward` and `loss`.

use super::Ctx;
use crate::layers;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::LossKind;

/// The inherent methods of the model struct: parameter access and the
/// passes.
pub fn emit(cx: &Ctx<'_>) -> TokenStream {
    let name_str = &cx.model.name;
    let struct_name = &cx.struct_name;
    let training_param = cx.forward_takes_training().then(|| quote!(training: bool));
    let rng_binding = (cx.training && cx.emitted.iter().any(|e| e.uses_rng)).then(|| quote!(rng,));
    let forward_calls = cx.emitted.iter().map(|e| match (&e.inference, cx.training) {
        (Some(inference), false) => &inference.call,
        _ => &e.forward,
    });
    let training = cx.training.then(|| training_passes(cx));
    // Without training there is no `Model::new(seed)` to start from.
    let constructor = (!cx.training).then(|| {
        quote! {
            /// A model with [`Params::identity`]: load trained values into
            /// it with `tensor_mut` or `params_mut`.
            pub fn new() -> Self {
                #struct_name {
                    params: Params::identity(),
                    workspace: Workspace::default(),
                }
            }
        }
    });
    quote! {
        impl #struct_name {
            #constructor

            /// The parameters.
            pub fn params(&self) -> &Params {
                &self.params
            }

            /// The parameters, mutably.
            pub fn params_mut(&mut self) -> &mut Params {
                &mut self.params
            }

            fn forward(&mut self, x: &[F], batch: usize, #training_param) {
                assert_eq!(
                    x.len(),
                    batch * INPUT_LEN,
                    "{}: input has {} values, expected batch {} x {}",
                    #name_str,
                    x.len(),
                    batch,
                    INPUT_LEN
                );
                self.workspace.resize(batch);
                let Self { params: p, workspace: ws, #rng_binding .. } = self;
                #(#forward_calls)*
            }

            #training
        }
    }
}

/// `backward` and `loss`.
fn training_passes(cx: &Ctx<'_>) -> TokenStream {
    let backward_calls: Vec<&TokenStream> = cx.emitted.iter().rev().map(|e| &e.backward).collect();
    let backward_input = if backward_calls.iter().any(|b| layers::mentions(b, "x")) {
        quote!(x)
    } else {
        quote!(_x)
    };
    let backward_params = cx
        .emitted
        .iter()
        .any(|e| e.backward_reads_params)
        .then(|| quote!(params: p,));
    let loss_body = loss_body(cx);
    quote! {
        fn backward(&mut self, #backward_input: &[F], batch: usize) {
            let Self { #backward_params grads: g, workspace: ws, .. } = self;
            #(#backward_calls)*
        }

        /// The loss of the last forward pass, and its gradient with
        /// respect to the output (or logits) in the workspace.
        fn loss(&mut self, targets: train::Targets<'_, F>, batch: usize) -> f64 {
            let ws = &mut self.workspace;
            #loss_body
        }
    }
}

/// The body of `loss`.
fn loss_body(cx: &Ctx<'_>) -> TokenStream {
    let name = &cx.model.name;
    let out = &cx.out;
    let out_grad = crate::names::ident(&format!("{out}_grad"));
    let k = &cx.output_len;
    let check_values = quote! {
        let train::Targets::Values(values) = targets else {
            panic!("{}: this loss takes real-valued targets (Targets::Values)", #name);
        };
        assert_eq!(values.len(), batch * OUTPUT_LEN, "{}: expected {} target values", #name, batch * OUTPUT_LEN);
    };
    match cx.model.loss.kind {
        LossKind::CrossEntropy => quote! {
            let train::Targets::Classes(classes) = targets else {
                panic!("{}: cross_entropy takes class indices (Targets::Classes)", #name);
            };
            assert_eq!(classes.len(), batch, "{}: expected {} class indices", #name, batch);
            train::loss::cross_entropy(&ws.#out, classes, #k, &mut ws.#out_grad)
        },
        LossKind::BinaryCrossEntropy => quote! {
            #check_values
            train::loss::binary_cross_entropy(&ws.#out, values, &mut ws.#out_grad)
        },
        LossKind::Mse => quote! {
            #check_values
            train::loss::mse(&ws.#out, values, &mut ws.#out_grad)
        },
        LossKind::Mae => quote! {
            #check_values
            train::loss::mae(&ws.#out, values, &mut ws.#out_grad)
        },
        LossKind::Huber { delta } => {
            let delta = delta.lower();
            quote! {
                #check_values
                train::loss::huber(&ws.#out, values, #delta, &mut ws.#out_grad)
            }
        }
    }
}
