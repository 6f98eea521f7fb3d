//! One module per layer kind: each emits the layer's forward and backward
//! functions and the calls that the model's passes make to them.

mod activation;
mod dense;
mod dropout;

use crate::plan::{Buf, Step};
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::LayerKind;

pub use activation::{activation_backward, activation_forward};

/// What a layer contributes to the generated module.
pub struct Emitted {
    /// Its `*_forward` and `*_backward` functions.
    pub functions: TokenStream,
    /// The statement in `forward` (with `x`, `p`, `ws`, `batch`, `training`, `rng` in scope).
    pub forward: TokenStream,
    /// The statement in `backward` (with `x`, `p`, `g`, `ws`, `batch` in scope), if any.
    pub backward: TokenStream,
    /// Extra workspace buffers (name, values per sample), such as dropout masks.
    pub buffers: Vec<(String, usize)>,
    /// The forward pass behaves differently in training (uses `training` and `rng`).
    pub uses_training: bool,
    /// The backward call reads parameters (`p`).
    pub backward_reads_params: bool,
}

/// Expressions for a step's buffers, as the passes see them.
pub struct Io {
    /// The input values: `x` or `&ws.dense_1`.
    pub x: TokenStream,
    /// The output values, mutable: `&mut ws.dense_2`.
    pub y_mut: TokenStream,
    /// The output values: `&ws.dense_2`.
    pub y: TokenStream,
    /// The output gradient, mutable: `&mut ws.dense_2_grad`.
    pub dy_mut: TokenStream,
    /// The input gradient, mutable, if the step must produce it.
    pub dx_mut: Option<TokenStream>,
}

impl Io {
    fn new(step: &Step<'_>) -> Self {
        let value = |b: &Buf| match b {
            Buf::Input => quote!(x),
            Buf::Layer(name) => {
                let f = crate::names::ident(name);
                quote!(&ws.#f)
            }
        };
        let Buf::Layer(out) = &step.output else {
            unreachable!("plan: every step writes a workspace buffer")
        };
        let out = crate::names::ident(out);
        let out_grad = crate::names::ident(&format!("{out}_grad"));
        let dx_mut = match (&step.input, step.input_grad) {
            (Buf::Layer(name), true) => {
                let f = crate::names::ident(&format!("{name}_grad"));
                Some(quote!(&mut ws.#f))
            }
            _ => None,
        };
        Io {
            x: value(&step.input),
            y_mut: quote!(&mut ws.#out),
            y: quote!(&ws.#out),
            dy_mut: quote!(&mut ws.#out_grad),
            dx_mut,
        }
    }
}

pub fn emit(step: &Step<'_>) -> Emitted {
    let io = Io::new(step);
    match &step.layer.kind {
        LayerKind::Dense(d) => dense::emit(step, d, &io),
        LayerKind::Activation(a) => activation::emit_layer(step, *a, &io),
        LayerKind::Dropout { rate } => dropout::emit(step, *rate, &io),
        other => unreachable!("plan admits only supported layers, not {}", other.name()),
    }
}
