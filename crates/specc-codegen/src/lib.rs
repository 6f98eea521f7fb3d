//! Code generation: a checked model to specialised Rust.
//!
//! Every dimension becomes a constant, each layer gets one function per pass
//! named after it (`dense_1_forward`, `dense_1_backward`), buffers are sized
//! once per batch size and reused, and dense layers run as one GEMM per pass
//! over the whole batch. The generated module implements
//! `specc_core::Inference` and `specc_train::Model`.
//!
//! The same function serves `specc build`, the `model!` macro and the
//! build-script helper, so all three emit the same code for the same spec.

mod emit;
mod fold;
mod layers;
mod names;
mod optimizer;
mod plan;
mod values;

use proc_macro2::TokenStream;
use specc_lang::{CheckedFile, CheckedModel};

pub use emit::{C_ABI_FUNCTIONS, format_tokens};
pub use fold::{describe as describe_folds, foldable};

/// The scalar type of the generated model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Precision {
    /// `f32`: training and inference.
    #[default]
    F32,
    /// `f64`: numeric gradient checks.
    F64,
}

/// The paths generated code reaches the runtime crates by: `rt` for the
/// inference core, `train` for the training layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimePaths {
    pub core: String,
    pub train: String,
}

impl Default for RuntimePaths {
    fn default() -> Self {
        Self::direct()
    }
}

impl RuntimePaths {
    /// `::specc_core` and `::specc_train`, for crates that depend on them.
    pub fn direct() -> Self {
        RuntimePaths {
            core: "::specc_core".to_string(),
            train: "::specc_train".to_string(),
        }
    }

    /// `::specc::core` and `::specc::train`, through the `specc` facade.
    pub fn facade() -> Self {
        RuntimePaths {
            core: "::specc::core".to_string(),
            train: "::specc::train".to_string(),
        }
    }
}

/// What a generated module holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Passes {
    /// Inference and training: `rt::Inference` and `train::Model`.
    #[default]
    Training,
    /// Inference only: `rt::Inference`, and nothing that names the
    /// training layer (no backward pass, no optimizer, no initialisers).
    Inference,
}

/// How to generate.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub runtime: RuntimePaths,
    pub precision: Precision,
    pub passes: Passes,
}

/// A model the code generator cannot lower, or options it cannot follow.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CodegenError {
    #[error(
        "cannot generate code for model `{model}`: the model computes nothing from its input: \
         add a layer with parameters"
    )]
    NothingComputed { model: String },
    #[error("cannot generate code: invalid runtime path `{path}`: {reason}")]
    RuntimePath { path: String, reason: String },
    #[error("cannot export model `{model}`: {reason}")]
    Weights { model: String, reason: String },
}

/// A model exported for inference with its trained weights (see
/// [`export_model`]): the sources of a standalone `#![no_std]` crate and of
/// its C ABI crate.
#[derive(Clone, Debug, PartialEq)]
pub struct Exported {
    /// The crate root, `src/lib.rs`.
    pub source: String,
    /// `src/weights.bin`: every tensor, little-endian f32, 64-byte aligned.
    pub weights: Vec<u8>,
    /// The C ABI crate's root.
    pub c_source: String,
    /// Its header, `<module>.h`.
    pub c_header: String,
    /// Each batchnorm folded into the layer before it: (batchnorm, layer).
    pub folded: Vec<(String, String)>,
    /// The bytes of the one-sample `Workspace` (`WORKSPACE_BYTES`).
    pub workspace_bytes: usize,
}

/// Exports `model` with `tensors`, its named tensors' values in the order
/// of `model.parameters()` (each checked for its length).
pub fn export_model(
    model: &CheckedModel,
    spec_name: &str,
    spec_source: &str,
    tensors: &[Vec<f32>],
) -> Result<Exported, CodegenError> {
    model
        .check_values(tensors)
        .map_err(|reason| CodegenError::Weights {
            model: model.name.clone(),
            reason,
        })?;
    let folds = fold::foldable(model);
    let (folded, tensors) = fold::fold(model, tensors);
    let layout = emit::WeightLayout::new(tensors.iter().map(Vec::len));
    let (items, workspace_bytes) = emit::export_items(&folded, &layout)?;
    let header = header(spec_name, spec_source);
    let folded_doc = if folds.is_empty() {
        String::new()
    } else {
        format!(" Batchnorm folded: {}.", fold::describe(&folds))
    };
    let doc = format!(
        " `{}`: {} -> {}, exported by specc {} with its trained weights baked in.{folded_doc} \
         See the crate's README.",
        model.name,
        model.input,
        model.output,
        specc_lang::VERSION
    );
    let root = quote::quote! {
        #![doc = #doc]
        #![no_std]
        #items
    };
    let c_doc = format!(
        " The C ABI of `{}`: see `{}.h`.",
        model.module_name, model.module_name
    );
    let c_items = emit::c_api(&model.module_name);
    let c_root = quote::quote! {
        #![doc = #c_doc]
        #![no_std]
        #c_items
    };
    Ok(Exported {
        source: format!("{header}{}", format_tokens(root)),
        weights: layout.blob(&tensors),
        folded: folds,
        workspace_bytes,
        c_source: emit::with_comments(&format!("{header}{}", format_tokens(c_root)), &emit::C_API_SAFETY),
        c_header: emit::c_header(model, &header),
    })
}

/// Tokens for every model of a file: one `pub mod` each.
pub fn generate_tokens(file: &CheckedFile, options: &Options) -> Result<TokenStream, CodegenError> {
    let mut tokens = TokenStream::new();
    for model in &file.models {
        tokens.extend(generate_model(model, options)?);
    }
    Ok(tokens)
}

/// Tokens for one model: `pub mod snake_name { ... }`.
pub fn generate_model(model: &CheckedModel, options: &Options) -> Result<TokenStream, CodegenError> {
    emit::model_module(model, options)
}

/// Formatted source for a whole spec file, with a header naming the spec,
/// its hash and the compiler version. The output depends only on the inputs.
pub fn generate_source(
    file: &CheckedFile,
    spec_name: &str,
    spec_source: &str,
    options: &Options,
) -> Result<String, CodegenError> {
    let tokens = generate_tokens(file, options)?;
    Ok(format!(
        "{}{}",
        header(spec_name, spec_source),
        format_tokens(tokens)
    ))
}

/// The comment that heads every generated file.
pub fn header(spec_name: &str, spec_source: &str) -> String {
    format!(
        "// Generated by specc {} from `{}` (spec hash {:016x}).\n// Do not edit: change the spec and regenerate.\n\n",
        specc_lang::VERSION,
        spec_name,
        specc_lang::source_hash(spec_source)
    )
}
