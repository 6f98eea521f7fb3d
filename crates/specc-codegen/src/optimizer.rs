//! The optimizer step: its state and one fused update per parameter tensor.

use crate::CodegenError;
use crate::names::{float, ident, tensor_field};
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::{CheckedModel, Clip, OptimizerKind, ParamTensor};

/// The optimizer's state: extra `Params`-shaped slots, e.g. `velocity`.
pub fn state_slots(model: &CheckedModel) -> Result<Vec<&'static str>, CodegenError> {
    Ok(match &model.optimizer.kind {
        OptimizerKind::Sgd { momentum, .. } if *momentum == 0.0 => vec![],
        OptimizerKind::Sgd { .. } => vec!["velocity"],
        other => {
            return Err(CodegenError {
                model: model.name.clone(),
                message: format!(
                    "optimizer `{}` is not supported by this version of the code generator",
                    other.name()
                ),
            });
        }
    })
}

/// The body of `apply_gradients`, with `p` (params), `g` (grads), the state
/// slots and `lr: F` in scope.
pub fn apply_gradients(model: &CheckedModel, tensors: &[ParamTensor]) -> TokenStream {
    let trainable: Vec<&ParamTensor> = tensors.iter().filter(|t| t.role.trainable()).collect();
    let decay_of = |t: &ParamTensor| {
        if t.role.decayed() && model.weight_decay > 0.0 {
            float(model.weight_decay)
        } else {
            quote!(0.0)
        }
    };
    let clip_value = match model.clip {
        Some(Clip::Value(v)) => float(v),
        _ => quote!(F::INFINITY),
    };
    let scale = match model.clip {
        Some(Clip::Norm(max_norm)) => {
            let terms = trainable.iter().map(|t| {
                let f = tensor_field(&t.name);
                let decay = decay_of(t);
                quote!(rt::optim::decayed_sum_of_squares(&p.#f, &g.#f, #decay))
            });
            let max_norm = float(max_norm);
            quote! {
                // Global-norm clipping over every gradient together.
                let sum_of_squares = 0.0 #(+ #terms)*;
                let scale: F = rt::Float::from_f64(rt::optim::clip_norm_scale(sum_of_squares, #max_norm));
            }
        }
        _ => quote!(let scale: F = 1.0;),
    };
    let updates = trainable.iter().map(|t| {
        let f = tensor_field(&t.name);
        let decay = decay_of(t);
        let transform = quote!(rt::optim::GradTransform { decay: #decay, scale, clip: #clip_value });
        match &model.optimizer.kind {
            OptimizerKind::Sgd { momentum, .. } if *momentum == 0.0 => {
                quote!(rt::optim::sgd(&mut p.#f, &g.#f, lr, #transform);)
            }
            OptimizerKind::Sgd { momentum, nesterov } => {
                let momentum = float(*momentum);
                let velocity = ident("velocity");
                quote!(rt::optim::sgd_momentum(&mut p.#f, &g.#f, &mut #velocity.#f, lr, #momentum, #nesterov, #transform);)
            }
            _ => unreachable!("state_slots rejected unsupported optimizers"),
        }
    });
    quote! {
        #scale
        #(#updates)*
    }
}
