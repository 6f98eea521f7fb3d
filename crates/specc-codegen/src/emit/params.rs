//! `Params`: one field per named tensor, and how it starts.

use super::Ctx;
use crate::names::tensor_field;
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::{Init, ParamTensor, TensorRole};

/// The `Params` struct and its constructors: `zeros` (the shape of gradients
/// and optimizer state), `identity` (zero weights, batchnorm the identity:
/// the starting point for loading trained values) and, with training,
/// `init` (the spec's initialisers).
pub fn emit(cx: &Ctx<'_>) -> TokenStream {
    let fields = cx.tensors.iter().map(|t| {
        let f = tensor_field(&t.name);
        let doc = format!(" `{}`, shape {:?}.", t.name, t.shape);
        quote!(#[doc = #doc] pub #f: Vec<F>,)
    });
    let zeros = cx.tensors.iter().map(|t| {
        let f = tensor_field(&t.name);
        let len = t.shape.iter().product::<usize>().lower();
        quote!(#f: vec![0.0; #len],)
    });
    let ones: Vec<TokenStream> = cx
        .tensors
        .iter()
        .filter(|t| starts_at_one(t))
        .map(|t| {
            let f = tensor_field(&t.name);
            quote!(p.#f.fill(1.0);)
        })
        .collect();
    let identity = if ones.is_empty() {
        quote!(Self::zeros())
    } else {
        quote! {
            let mut p = Self::zeros();
            #(#ones)*
            p
        }
    };
    let init = cx.training.then(|| {
        let draws = cx.tensors.iter().map(init_statement);
        quote! {
            /// Initialised as the spec says; each tensor draws from its own
            /// stream derived from `seed` and its name.
            pub fn init(seed: u64) -> Self {
                let mut p = Self::identity();
                #(#draws)*
                p
            }
        }
    });
    quote! {
        /// Every named tensor (trainable parameters and running statistics),
        /// one field per tensor, row-major.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Params {
            #(#fields)*
        }

        impl Params {
            /// All zeros (the shape of gradients and optimizer state).
            pub fn zeros() -> Self {
                Params { #(#zeros)* }
            }

            /// Zero weights and biases, batchnorm scales and running
            /// variances one: where loading trained values starts.
            pub fn identity() -> Self {
                #identity
            }

            #init
        }
    }
}

/// Batchnorm's `gamma` and running variance start at one.
fn starts_at_one(t: &ParamTensor) -> bool {
    matches!(t.role, TensorRole::Gamma | TensorRole::RunningVar)
}

/// `train::init::fill(...)` for a weight; nothing for the tensors
/// `identity` already sets.
fn init_statement(t: &ParamTensor) -> TokenStream {
    let init = match t.init {
        None | Some(Init::Zeros) => return quote!(),
        Some(init) => init.lower(),
    };
    let f = tensor_field(&t.name);
    let name = &t.name;
    let (fan_in, fan_out) = (t.fan_in.lower(), t.fan_out.lower());
    quote! {
        train::init::fill(&mut p.#f, #init, #fan_in, #fan_out, &mut train::Rng::derive(seed, #name));
    }
}
