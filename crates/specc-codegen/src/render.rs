//! Assembles a model's module: constants, parameter and workspace structs,
//! layer functions, the passes, and the `Model` implementation.

use crate::layers::{self, activation_forward};
use crate::names::{ident, tensor_field};
use crate::optimizer;
use crate::plan::{Buf, plan};
use crate::values::Lower;
use crate::{CodegenError, Options, Precision};
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::{CheckedModel, Init, LossKind, ParamTensor, TensorRole};

/// Formats tokens as Rust source with prettyplease.
pub fn format_tokens(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => separate_items(&prettyplease::unparse(&file)),
        // Unreachable for generated code; keep the text rather than lose it.
        Err(_) => tokens.to_string(),
    }
}

/// prettyplease puts no blank line between items inside a module; put one
/// after every closing brace that is followed by another item, for reading.
fn separate_items(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    let mut previous = "";
    for line in source.lines() {
        let trimmed = line.trim_start();
        let item_start = [
            "///", "#[", "fn ", "pub ", "impl ", "struct ", "const ", "type ", "enum ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if item_start && previous.trim() == "}" {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}

pub fn model_module(model: &CheckedModel, options: &Options) -> Result<TokenStream, CodegenError> {
    let plan = plan(model)?;
    let state_slots = model.optimizer.kind.state_slots();
    let path = |text: &str| -> Result<syn::Path, CodegenError> {
        syn::parse_str(text).map_err(|e| CodegenError {
            model: model.name.clone(),
            message: format!("invalid runtime path `{text}`: {e}"),
        })
    };
    let (core_path, train_path) = (path(&options.runtime.core)?, path(&options.runtime.train)?);
    let scalar = match options.precision {
        Precision::F32 => quote!(f32),
        Precision::F64 => quote!(f64),
    };
    let module = ident(&model.module_name);
    let struct_name = ident(&model.name);
    let name_str = &model.name;
    let module_str = &model.module_name;
    let tensors = model.parameters();
    let trainable: Vec<&ParamTensor> = tensors.iter().filter(|t| t.role.trainable()).collect();

    // Shapes.
    let input_dims = model.input.dims().iter().map(|&d| d.lower());
    let output_dims = model.output.dims().iter().map(|&d| d.lower());
    let input_len = (model.input.numel()).lower();
    let output_len = (model.output.numel()).lower();

    // Parameters.
    let param_fields = tensors.iter().map(|t| {
        let f = tensor_field(&t.name);
        let doc = format!(" `{}`, shape {:?}.", t.name, t.shape);
        quote!(#[doc = #doc] pub #f: Vec<F>,)
    });
    let param_zeros = tensors.iter().map(|t| {
        let f = tensor_field(&t.name);
        let len = t.shape.iter().product::<usize>().lower();
        quote!(#f: vec![0.0; #len],)
    });
    let param_init = tensors.iter().map(init_statement);
    let tensor_infos = tensors.iter().map(|t| {
        let name = &t.name;
        let dims = t.shape.iter().map(|&d| d.lower());
        let role = t.role.lower();
        quote!(rt::TensorInfo { name: #name, shape: &[#(#dims),*], role: #role },)
    });
    let tensor_arms = tensors.iter().map(|t| {
        let name = &t.name;
        let f = tensor_field(name);
        quote!(#name => Some(&self.params.#f),)
    });
    let tensor_mut_arms = tensors.iter().map(|t| {
        let name = &t.name;
        let f = tensor_field(name);
        quote!(#name => Some(&mut self.params.#f),)
    });
    let gradient_arms = trainable.iter().map(|t| {
        let name = &t.name;
        let f = tensor_field(name);
        quote!(#name => Some(&self.grads.#f),)
    });

    // Layers.
    let emitted: Vec<layers::Emitted> = plan.steps.iter().map(layers::emit).collect();
    let uses_training = emitted.iter().any(|e| e.uses_training);
    let (training_param, _, train_arg, infer_arg): (TokenStream, TokenStream, TokenStream, TokenStream) =
        if uses_training {
            (
                quote!(training: bool),
                quote!(rng,),
                quote!(, true),
                quote!(, false),
            )
        } else {
            Default::default()
        };
    let backward_params = if emitted.iter().any(|e| e.backward_reads_params) {
        quote!(params: p,)
    } else {
        quote!()
    };
    let functions = emitted.iter().map(|e| &e.functions);
    let kernels = emitted.iter().filter_map(|e| e.kernel.as_ref());
    let forward_calls = emitted.iter().map(|e| &e.forward);
    let backward_calls: Vec<&TokenStream> = emitted.iter().rev().map(|e| &e.backward).collect();
    let backward_input = if backward_calls.iter().any(|b| layers::mentions(b, "x")) {
        quote!(x)
    } else {
        quote!(_x)
    };
    let uses_rng = emitted.iter().any(|e| e.uses_rng);
    let rng_binding = if uses_rng { quote!(rng,) } else { quote!() };
    let mut buffer_fields = Vec::new();
    let mut buffer_resizes = Vec::new();
    let per_sample = |len: usize| {
        if len == 1 {
            quote!(batch)
        } else {
            let len = len.lower();
            quote!(batch * #len)
        }
    };
    for (name, len) in &plan.buffers {
        for field in [name.clone(), format!("{name}_grad")] {
            let f = ident(&field);
            let size = per_sample(*len);
            buffer_fields.push(quote!(#f: Vec<F>,));
            buffer_resizes.push(quote!(self.#f.resize(#size, 0.0);));
        }
    }
    let mut scratch: Vec<layers::Scratch> = Vec::new();
    for s in emitted.iter().flat_map(|e| &e.scratch) {
        match scratch.iter_mut().find(|t| t.name == s.name) {
            Some(existing) => existing.len = existing.len.max(s.len),
            None => scratch.push(s.clone()),
        }
    }
    for s in &scratch {
        let f = ident(&s.name);
        let (ty, size, zero) = match s.kind {
            layers::ScratchKind::PerSample => (quote!(F), per_sample(s.len), quote!(0.0)),
            layers::ScratchKind::PerSampleIndex => (quote!(u32), per_sample(s.len), quote!(0)),
            layers::ScratchKind::Shared => {
                let len = s.len.lower();
                (quote!(F), quote!(#len), quote!(0.0))
            }
        };
        buffer_fields.push(quote!(#f: Vec<#ty>,));
        buffer_resizes.push(quote!(self.#f.resize(#size, #zero);));
    }

    // Loss.
    let Buf::Layer(out_name) = &plan.output else {
        unreachable!("plan: the output is a workspace buffer")
    };
    let out = ident(out_name);
    let out_grad = ident(&format!("{out_name}_grad"));
    let k = output_len.clone();
    let targets_kind = model.targets().lower();
    let loss_body = loss_tokens(model, &out, &out_grad, &k);
    let fused = plan
        .fused
        .map(|a| activation_forward(a, quote!(output), quote!(#k)));

    // Optimizer.
    let slot_fields = state_slots.iter().map(|s| {
        let f = ident(s);
        quote!(#f: Params,)
    });
    let slot_inits = state_slots.iter().map(|s| {
        let f = ident(s);
        let init = optimizer::slot_init(model, s, &tensors);
        quote!(#f: #init,)
    });
    let slot_names = state_slots.iter().map(|s| s.to_string());
    let slot_arms = |mutable: bool| -> Vec<TokenStream> {
        let reference = if mutable { quote!(&mut) } else { quote!(&) };
        state_slots
            .iter()
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
    let (slot_ref_arms, slot_mut_arms) = (slot_arms(false), slot_arms(true));
    let optimizer_state_fns = if state_slots.is_empty() {
        quote! {
            fn optimizer_state(&self, _slot: &str, _tensor: &str) -> Option<&[F]> {
                None
            }

            fn optimizer_state_mut(&mut self, _slot: &str, _tensor: &str) -> Option<&mut [F]> {
                None
            }
        }
    } else {
        quote! {
            fn optimizer_state(&self, slot: &str, tensor: &str) -> Option<&[F]> {
                match (slot, tensor) {
                    #(#slot_ref_arms)*
                    _ => None,
                }
            }

            fn optimizer_state_mut(&mut self, slot: &str, tensor: &str) -> Option<&mut [F]> {
                match (slot, tensor) {
                    #(#slot_mut_arms)*
                    _ => None,
                }
            }
        }
    };
    let slot_bindings = state_slots.iter().map(|s| {
        let f = ident(s);
        quote!(#f,)
    });
    let apply = optimizer::apply_gradients(model, &tensors);
    let schedule = optimizer::schedule_fn(model);

    let train = model.train.lower();
    let lr = model.optimizer.lr.lower();
    let forward_flops = model.forward_flops().lower();
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
    let doc = format!(
        " The `{}` model: {} -> {}, {} trainable parameters.",
        model.name,
        model.input,
        model.output,
        model.trainable_params()
    );

    Ok(quote! {
        #[doc = #doc]
        pub mod #module {
            use #core_path as rt;
            use #train_path as train;

            /// The scalar type of this model.
            pub type F = #scalar;
            /// Values in one input sample.
            pub const INPUT_LEN: usize = #input_len;
            /// Values in one output.
            pub const OUTPUT_LEN: usize = #output_len;

            #schedule

            /// Every named tensor (trainable parameters and running statistics),
            /// one field per tensor, row-major.
            #[derive(Clone, Debug, PartialEq)]
            pub struct Params {
                #(#param_fields)*
            }

            impl Params {
                /// All zeros (the shape of gradients and optimizer state).
                pub fn zeros() -> Self {
                    Params { #(#param_zeros)* }
                }

                /// Initialised as the spec says; each tensor draws from its own
                /// stream derived from `seed` and its name.
                pub fn init(seed: u64) -> Self {
                    let mut p = Self::zeros();
                    #(#param_init)*
                    p
                }
            }

            /// Buffers for one batch size, allocated on first use and reused.
            #[derive(Default)]
            struct Workspace {
                batch: usize,
                #(#buffer_fields)*
            }

            impl Workspace {
                fn resize(&mut self, batch: usize) {
                    if self.batch == batch {
                        return;
                    }
                    self.batch = batch;
                    #(#buffer_resizes)*
                }
            }

            #(#functions)*

            #[doc = #doc]
            pub struct #struct_name {
                params: Params,
                grads: Params,
                #(#slot_fields)*
                workspace: Workspace,
                lr: f64,
                steps: u64,
                rng: train::Rng,
            }

            impl #struct_name {
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

            impl train::Model for #struct_name {
                const TARGETS: train::TargetKind = #targets_kind;
                const TRAIN: train::TrainSettings = #train;
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
    })
}

/// `train::init::fill(...)` for a weight; nothing for zero-initialised tensors.
fn init_statement(t: &ParamTensor) -> TokenStream {
    let f = tensor_field(&t.name);
    let name = &t.name;
    let (fan_in, fan_out) = (t.fan_in.lower(), t.fan_out.lower());
    if matches!(t.role, TensorRole::Gamma | TensorRole::RunningVar) {
        return quote!(p.#f.fill(1.0););
    }
    let init = match t.init {
        None | Some(Init::Zeros) => return quote!(),
        Some(init) => init.lower(),
    };
    quote! {
        train::init::fill(&mut p.#f, #init, #fan_in, #fan_out, &mut train::Rng::derive(seed, #name));
    }
}

/// The body of `loss`.
fn loss_tokens(
    model: &CheckedModel,
    out: &proc_macro2::Ident,
    out_grad: &proc_macro2::Ident,
    k: &TokenStream,
) -> TokenStream {
    let name = &model.name;
    let check_values = quote! {
        let train::Targets::Values(values) = targets else {
            panic!("{}: this loss takes real-valued targets (Targets::Values)", #name);
        };
        assert_eq!(values.len(), batch * OUTPUT_LEN, "{}: expected {} target values", #name, batch * OUTPUT_LEN);
    };
    match model.loss.kind {
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
