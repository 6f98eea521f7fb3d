//! What training adds to a model: its fields (gradients, optimizer state,
//! learning rate, step count, dropout stream) and `impl train::Model`.

use super::Ctx;
use crate::names::{ident, tensor_field};
use crate::optimizer;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::ParamTensor;

/// The model struct's fields besides `params` and `workspace`.
pub fn fields(cx: &Ctx<'_>) -> TokenStream {
    let slots = cx.state_slots().map(|s| {
        let f = ident(s);
        quote!(#f: Params,)
    });
    quote! {
        grads: Params,
        #(#slots)*
        lr: f64,
        steps: u64,
        rng: train::Rng,
    }
}

/// `impl train::Model`.
pub fn emit(cx: &Ctx<'_>) -> TokenStream {
    let model = cx.model;
    let struct_name = &cx.struct_name;
    let trainable: Vec<&ParamTensor> = cx.tensors.iter().filter(|t| t.role.trainable()).collect();
    let targets_kind = model.targets().lower();
    let train = model.train.lower();
    let data = model.data.lower();
    let lr = model.optimizer.lr.lower();
    // The checker's estimate, linear in the batch: what batch 0 needs, and
    // what each sample adds. The checker has bounded both at the spec's batch.
    let memory_at = |batch| {
        model
            .training_memory(batch)
            .last()
            .and_then(|(_, m)| m)
            .unwrap_or(u64::MAX)
    };
    let (memory_fixed, memory_per_sample) = (
        memory_at(0).lower(),
        memory_at(1).saturating_sub(memory_at(0)).lower(),
    );
    let kernels = cx.emitted.iter().filter_map(|e| e.kernel.as_ref());
    let (train_arg, infer_arg) = cx.mode_args();
    let out = &cx.out;
    let slot_inits = cx.state_slots().map(|s| {
        let f = ident(s);
        let init = optimizer::slot_init(model, s, &cx.tensors);
        quote!(#f: #init,)
    });
    let slot_names = cx.state_slots().map(|s| s.to_string());
    let slot_bindings = cx.state_slots().map(|s| {
        let f = ident(s);
        quote!(#f,)
    });
    let apply = optimizer::apply_gradients(model, &cx.tensors);
    let optimizer_state_fns = optimizer_state_fns(cx, &trainable);
    let gradient_arms = trainable.iter().map(|t| {
        let name = &t.name;
        let f = tensor_field(name);
        quote!(#name => Some(&self.grads.#f),)
    });
    quote! {
        impl train::Model for #struct_name {
            const TARGETS: train::TargetKind = #targets_kind;
            const TRAIN: train::TrainSettings = #train;
            const DATA: train::DataSettings = #data;
            const LEARNING_RATE: f64 = #lr;
            const TRAINING_MEMORY: train::MemoryEstimate = train::MemoryEstimate {
                fixed: #memory_fixed,
                per_sample: #memory_per_sample,
            };
            const KERNELS: &'static [rt::LayerKernel] = &[#(#kernels),*];

            fn schedule() -> Option<train::Schedule> {
                schedule()
            }

            fn new(seed: u64) -> Self {
                #struct_name {
                    params: Params::init(seed),
                    grads: Params::zeros(),
                    #(#slot_inits)*
                    workspace: Workspace::default(),
                    lr: Self::LEARNING_RATE,
                    steps: 0,
                    rng: train::Rng::derive(seed, "dropout"),
                }
            }

            fn loss_and_gradients(&mut self, input: &[F], targets: train::Targets<'_, F>, batch: usize) -> f64 {
                self.forward(input, batch #train_arg);
                let loss = self.loss(targets, batch);
                self.backward(input, batch);
                loss
            }

            fn evaluation_loss(&mut self, input: &[F], targets: train::Targets<'_, F>, batch: usize) -> f64 {
                self.forward(input, batch #infer_arg);
                self.loss(targets, batch)
            }

            fn last_output(&self) -> &[F] {
                &self.workspace.#out
            }

            fn training_loss(&mut self, input: &[F], targets: train::Targets<'_, F>, batch: usize) -> f64 {
                self.forward(input, batch #train_arg);
                self.loss(targets, batch)
            }

            fn apply_gradients(&mut self) {
                let lr: F = rt::Float::from_f64(self.lr);
                let Self { params: p, grads: g, #(#slot_bindings)* .. } = self;
                #apply
                self.steps += 1;
            }

            fn learning_rate(&self) -> f64 {
                self.lr
            }

            fn set_learning_rate(&mut self, lr: f64) {
                self.lr = lr;
            }

            fn steps(&self) -> u64 {
                self.steps
            }

            const OPTIMIZER_SLOTS: &'static [&'static str] = &[#(#slot_names),*];

            #optimizer_state_fns

            fn set_steps(&mut self, steps: u64) {
                self.steps = steps;
            }

            fn reseed_dropout(&mut self, seed: u64) {
                self.rng = train::Rng::derive(seed, "dropout");
            }

            fn gradient(&self, name: &str) -> Option<&[F]> {
                match name {
                    #(#gradient_arms)*
                    _ => None,
                }
            }
        }
    }
}

/// `optimizer_state` and `optimizer_state_mut`: a slot's values for one
/// trainable tensor.
fn optimizer_state_fns(cx: &Ctx<'_>, trainable: &[&ParamTensor]) -> TokenStream {
    if cx.state_slots().next().is_none() {
        return quote! {
            fn optimizer_state(&self, _slot: &str, _tensor: &str) -> Option<&[F]> {
                None
            }

            fn optimizer_state_mut(&mut self, _slot: &str, _tensor: &str) -> Option<&mut [F]> {
                None
            }
        };
    }
    let arms = |reference: TokenStream| -> Vec<TokenStream> {
        cx.state_slots()
            .flat_map(|s| {
                let slot = ident(s);
                let reference = reference.clone();
                trainable.iter().map(move |t| {
                    let name = &t.name;
                    let f = tensor_field(name);
                    quote!((#s, #name) => Some(#reference self.#slot.#f),)
                })
            })
            .collect()
    };
    let (ref_arms, mut_arms) = (arms(quote!(&)), arms(quote!(&mut)));
    quote! {
        fn optimizer_state(&self, slot: &str, tensor: &str) -> Option<&[F]> {
            match (slot, tensor) {
                #(#ref_arms)*
                _ => None,
            }
        }

        fn optimizer_state_mut(&mut self, slot: &str, tensor: &str) -> Option<&mut [F]> {
            match (slot, tensor) {
                #(#mut_arms)*
                _ => None,
            }
        }
    }
}
