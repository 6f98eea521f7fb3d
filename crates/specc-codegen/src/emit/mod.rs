//! Assembles a model's module from the plan and the layers' emitters, one
//! emitter per part of the module:
//!
//! - [`params`]: the `Params` struct, one field per named tensor;
//! - [`workspace`]: the `Workspace` of one batch size;
//! - [`passes`]: `forward` and, with training, `backward` and `loss`;
//! - [`inference`]: `impl rt::Inference`;
//! - [`training`]: the training state and `impl train::Model`.
//!
//! A module generated with [`Passes::Inference`] has the first four only
//! and names nothing but the inference core.

mod export;
mod format;
mod inference;
mod params;
mod passes;
mod training;
mod workspace;

pub use export::{C_ABI_FUNCTIONS, C_API_SAFETY, WeightLayout, c_api, c_header, with_comments};
pub use format::format_tokens;

use crate::layers::{self, Emitted, Scratch};
use crate::names::ident;
use crate::optimizer;
use crate::plan::{Buf, Plan, plan};
use crate::values::Lower;
use crate::{CodegenError, Options, Passes, Precision};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use specc_lang::{CheckedModel, ParamTensor};

/// What the emitters of one model share.
pub struct Ctx<'m> {
    pub model: &'m CheckedModel,
    pub plan: Plan<'m>,
    /// One entry per step of the plan.
    pub emitted: Vec<Emitted>,
    pub tensors: Vec<ParamTensor>,
    /// Whether the module has the training passes.
    pub training: bool,
    pub struct_name: Ident,
    /// The workspace buffer holding the model's output (the logits when
    /// the loss fuses the last activation).
    pub out: Ident,
    /// `OUTPUT_LEN` as a literal.
    pub output_len: TokenStream,
}

impl Ctx<'_> {
    /// The optimizer's state slots (`m`, `v`, ...).
    pub fn state_slots(&self) -> impl Iterator<Item = &'static str> {
        self.model.optimizer.kind.state_slots().into_iter()
    }

    /// Whether `forward` takes a `training` flag: with training, when a
    /// layer's forward pass differs between training and inference.
    pub fn forward_takes_training(&self) -> bool {
        self.training && self.emitted.iter().any(|e| e.uses_training)
    }

    /// The `, true` / `, false` that calls of `forward` pass for training
    /// and inference, or nothing.
    pub fn mode_args(&self) -> (Option<TokenStream>, Option<TokenStream>) {
        let takes = self.forward_takes_training();
        (takes.then(|| quote!(, true)), takes.then(|| quote!(, false)))
    }

    /// The scratch buffers the module's passes use: without training, none
    /// of the layers whose inference form replaces their training forward.
    pub fn scratch(&self) -> impl Iterator<Item = &Scratch> {
        self.emitted
            .iter()
            .filter(|e| self.training || e.inference.is_none())
            .flat_map(|e| &e.scratch)
    }

    /// The layers' functions for this module's passes.
    fn functions(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for e in &self.emitted {
            match (&e.inference, self.training) {
                (Some(inference), false) => out.extend(inference.functions.clone()),
                (_, false) => out.extend(e.forward_fns.clone()),
                (_, true) => {
                    out.extend(e.forward_fns.clone());
                    out.extend(e.backward_fns.clone());
                }
            }
        }
        out
    }
}

impl<'m> Ctx<'m> {
    fn new(model: &'m CheckedModel, training: bool) -> Result<Self, CodegenError> {
        let plan = plan(model)?;
        let Buf::Layer(out_name) = &plan.output else {
            unreachable!("plan: the output is a workspace buffer")
        };
        Ok(Ctx {
            model,
            emitted: plan.steps.iter().map(layers::emit).collect(),
            tensors: model.parameters(),
            training,
            struct_name: ident(&model.name),
            out: ident(out_name),
            output_len: model.output.numel().lower(),
            plan,
        })
    }
}

/// The items of an exported model's crate root (see [`export`]), for
/// weights laid out as `layout` says.
/// Also returns the bytes of workspace `predict` runs in (one sample).
pub fn export_items(
    model: &CheckedModel,
    layout: &WeightLayout,
) -> Result<(TokenStream, usize), CodegenError> {
    let cx = Ctx::new(model, false)?;
    Ok((export::emit(&cx, layout), export::workspace_bytes(&cx, 1)))
}

pub fn model_module(model: &CheckedModel, options: &Options) -> Result<TokenStream, CodegenError> {
    let cx = Ctx::new(model, options.passes == Passes::Training)?;
    let path = |text: &str| -> Result<syn::Path, CodegenError> {
        syn::parse_str(text).map_err(|e| CodegenError::RuntimePath {
            path: text.to_string(),
            reason: e.to_string(),
        })
    };
    let core_path = path(&options.runtime.core)?;
    let train_use = match cx.training {
        true => {
            let train_path = path(&options.runtime.train)?;
            Some(quote!(use #train_path as train;))
        }
        false => None,
    };
    let scalar = match options.precision {
        Precision::F32 => quote!(f32),
        Precision::F64 => quote!(f64),
    };
    let module = ident(&model.module_name);
    let module_doc = format!(
        " The `{}` model: {} -> {}, {} trainable parameters.",
        model.name,
        model.input,
        model.output,
        model.trainable_params()
    );
    let input_len = model.input.numel().lower();
    let output_len = &cx.output_len;
    let struct_name = &cx.struct_name;
    let params = params::emit(&cx);
    let workspace = workspace::emit(&cx);
    let functions = cx.functions();
    let passes = passes::emit(&cx);
    let inference = inference::emit(&cx);
    let (schedule, training_fields, training_impl, default) = if cx.training {
        (
            Some(optimizer::schedule_fn(model)),
            Some(training::fields(&cx)),
            Some(training::emit(&cx)),
            None,
        )
    } else {
        let default = quote! {
            impl Default for #struct_name {
                fn default() -> Self {
                    Self::new()
                }
            }
        };
        (None, None, None, Some(default))
    };
    Ok(quote! {
        #[doc = #module_doc]
        pub mod #module {
            use #core_path as rt;
            #train_use
            use rt::alloc::{vec, vec::Vec};

            /// The scalar type of this model.
            pub type F = #scalar;
            /// Values in one input sample.
            pub const INPUT_LEN: usize = #input_len;
            /// Values in one output.
            pub const OUTPUT_LEN: usize = #output_len;

            #schedule

            #params

            #workspace

            #functions

            #[doc = #module_doc]
            pub struct #struct_name {
                params: Params,
                workspace: Workspace,
                #training_fields
            }

            #passes

            #default

            #inference

            #training_impl
        }
    })
}
