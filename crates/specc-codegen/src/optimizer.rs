//! The optimizer step: its state and one fused update per parameter tensor,
//! and the learning-rate schedule as data for the trainer.

use crate::names::{ident, tensor_field};
use crate::values::Lower;
use proc_macro2::TokenStream;
use quote::quote;
use specc_lang::{CheckedModel, Clip, OptimizerKind, ParamTensor};

/// The initial value of a state slot in `new()`: zeros, except Adagrad's
/// accumulator, which starts at `initial_accumulator` (as Keras).
pub fn slot_init(model: &CheckedModel, slot: &str, tensors: &[ParamTensor]) -> TokenStream {
    match &model.optimizer.kind {
        OptimizerKind::Adagrad {
            initial_accumulator, ..
        } if slot == "accumulator" && *initial_accumulator != 0.0 => {
            let value = initial_accumulator.lower();
            let fills = tensors.iter().filter(|t| t.role.trainable()).map(|t| {
                let f = tensor_field(&t.name);
                quote!(accumulator.#f.fill(#value);)
            });
            quote!({
                let mut accumulator = Params::zeros();
                #(#fills)*
                accumulator
            })
        }
        _ => quote!(Params::zeros()),
    }
}

/// The body of `apply_gradients`, with `p` (params), `g` (grads), the state
/// slots, `lr: F` and `self.steps` (updates done so far) in scope.
pub fn apply_gradients(model: &CheckedModel, tensors: &[ParamTensor]) -> TokenStream {
    let trainable: Vec<&ParamTensor> = tensors.iter().filter(|t| t.role.trainable()).collect();
    let decay_of = |t: &ParamTensor| {
        if t.role.decayed() && model.weight_decay > 0.0 {
            model.weight_decay.lower()
        } else {
            quote!(0.0)
        }
    };
    let clip_value = match model.clip {
        Some(Clip::Value(v)) => v.lower(),
        _ => quote!(F::INFINITY),
    };
    let scale = match model.clip {
        Some(Clip::Norm(max_norm)) => {
            let terms = trainable.iter().map(|t| {
                let f = tensor_field(&t.name);
                let decay = decay_of(t);
                quote!(train::optim::decayed_sum_of_squares(&p.#f, &g.#f, #decay))
            });
            let max_norm = max_norm.lower();
            quote! {
                // Global-norm clipping over every gradient together.
                let sum_of_squares = 0.0 #(+ #terms)*;
                let scale: F = rt::Float::from_f64(train::optim::clip_norm_scale(sum_of_squares, #max_norm));
            }
        }
        _ => quote!(let scale: F = 1.0;),
    };
    // Adam's bias correction and Adamax's read the step number, from 1.
    let step = match &model.optimizer.kind {
        OptimizerKind::Adam { .. } | OptimizerKind::AdamW { .. } | OptimizerKind::AdaMax { .. } => {
            quote!(let step: u64 = self.steps + 1;)
        }
        _ => quote!(),
    };
    let updates = trainable.iter().map(|t| {
        let f = tensor_field(&t.name);
        let decay = decay_of(t);
        let transform = quote!(train::optim::GradTransform { decay: #decay, scale, clip: #clip_value });
        let slot = |name: &str| {
            let s = ident(name);
            quote!(&mut #s.#f)
        };
        let optional = |present: bool, name: &str| {
            if present {
                let s = slot(name);
                quote!(Some(#s))
            } else {
                quote!(None)
            }
        };
        match &model.optimizer.kind {
            OptimizerKind::Sgd { momentum, .. } if *momentum == 0.0 => {
                quote!(train::optim::sgd(&mut p.#f, &g.#f, lr, #transform);)
            }
            OptimizerKind::Sgd { momentum, nesterov } => {
                let momentum = momentum.lower();
                let velocity = slot("velocity");
                quote!(train::optim::sgd_momentum(&mut p.#f, &g.#f, #velocity, lr, #momentum, #nesterov, #transform);)
            }
            OptimizerKind::Adagrad { eps, .. } => {
                let (accumulator, eps) = (slot("accumulator"), eps.lower());
                quote!(train::optim::adagrad(&mut p.#f, &g.#f, #accumulator, lr, #eps, #transform);)
            }
            OptimizerKind::RmsProp {
                rho,
                momentum,
                eps,
                centered,
            } => {
                let square = slot("square_avg");
                let mean = optional(*centered, "grad_avg");
                let velocity = optional(*momentum > 0.0, "velocity");
                let (rho, momentum, eps) = (rho.lower(), momentum.lower(), eps.lower());
                quote!(train::optim::rmsprop(&mut p.#f, &g.#f, #square, #mean, #velocity, lr, #rho, #momentum, #eps, #transform);)
            }
            OptimizerKind::AdaDelta { rho, eps } => {
                let (grad_acc, update_acc) = (slot("accumulated_grad"), slot("accumulated_update"));
                let (rho, eps) = (rho.lower(), eps.lower());
                quote!(train::optim::adadelta(&mut p.#f, &g.#f, #grad_acc, #update_acc, lr, #rho, #eps, #transform);)
            }
            OptimizerKind::Adam {
                beta1,
                beta2,
                eps,
                amsgrad,
            } => {
                let (m, v, vhat) = (slot("m"), slot("v"), optional(*amsgrad, "vhat"));
                let (beta1, beta2, eps) = (beta1.lower(), beta2.lower(), eps.lower());
                quote!(train::optim::adam(&mut p.#f, &g.#f, #m, #v, #vhat, lr, #beta1, #beta2, #eps, step, #transform);)
            }
            OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                amsgrad,
            } => {
                let (m, v, vhat) = (slot("m"), slot("v"), optional(*amsgrad, "vhat"));
                let (beta1, beta2, eps) = (beta1.lower(), beta2.lower(), eps.lower());
                let weight_decay = weight_decay.lower();
                quote!(train::optim::adamw(&mut p.#f, &g.#f, #m, #v, #vhat, lr, #beta1, #beta2, #eps, #weight_decay, step, #transform);)
            }
            OptimizerKind::AdaMax { beta1, beta2, eps } => {
                let (m, u) = (slot("m"), slot("u"));
                let (beta1, beta2, eps) = (beta1.lower(), beta2.lower(), eps.lower());
                quote!(train::optim::adamax(&mut p.#f, &g.#f, #m, #u, lr, #beta1, #beta2, #eps, step, #transform);)
            }
        }
    });
    quote! {
        #scale
        #step
        #(#updates)*
    }
}

/// `pub fn schedule()`: the spec's learning-rate schedule as runtime data,
/// for the trainer to drive `set_learning_rate` with.
pub fn schedule_fn(model: &CheckedModel) -> TokenStream {
    let body = model.schedule.lower();
    quote! {
        /// The learning-rate schedule of the spec, if it has one.
        pub fn schedule() -> Option<train::Schedule> {
            #body
        }
    }
}
