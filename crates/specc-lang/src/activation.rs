//! Activation functions: the one place that knows each of them.
//!
//! Everything the rest of specc needs about an activation is a method here:
//! its name and argument (for the checker's parsing, errors and "did you
//! mean" suggestions), its FLOPs (for the summary), its default initialiser,
//! its f64 definition (for the reference evaluator) and the kernel and
//! arguments generated code calls (`rt::activation::<name>` and
//! `<name>_backward` in `specc-core`). Adding one is a variant here, its two
//! kernels in `specc-core/src/activation.rs`, its entry in
//! `docs/language.md` and a test spec that uses it (CONTRIBUTING.md).

use std::fmt;

use crate::args::{ArgReader, quoted_list};
use crate::diagnostic::{Diagnostic, suggestion};
use crate::syntax::Call;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Relu,
    LeakyRelu {
        alpha: f64,
    },
    /// `x` if `x > 0`, else `alpha (exp(x) - 1)` (Clevert et al., 2015).
    Elu {
        alpha: f64,
    },
    Sigmoid,
    Tanh,
    Softmax,
    /// `min(max(x, 0), 6)`: MobileNet's clipped ReLU.
    Relu6,
    /// `min(max(x / 6 + 1/2, 0), 1)`: PyTorch's `hardsigmoid`.
    HardSigmoid,
    /// `ln(1 + exp(x))`: a smooth ReLU.
    Softplus,
    /// `x sigmoid(x)` (swish).
    Silu,
    /// `x Phi(x)`, with the normal distribution's `Phi` exact (`erf`) or,
    /// with `tanh`, the tanh approximation.
    Gelu {
        tanh: bool,
    },
    /// `x hard_sigmoid(x)` (MobileNetV3).
    HardSwish,
}

impl Activation {
    /// Every activation's name as written in specs (`activation = none`
    /// included), in the order error messages list them.
    pub const NAMES: &'static [&'static str] = &[
        "none",
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "softplus",
        "silu",
        "gelu",
        "hard_swish",
        "sigmoid",
        "hard_sigmoid",
        "tanh",
        "softmax",
    ];

    /// The activation named by `call` (`relu`, `leaky_relu(alpha = 0.2)`),
    /// with its arguments checked; `None` after reporting an error.
    pub fn resolve(call: &Call, errors: &mut Vec<Diagnostic>) -> Option<Activation> {
        let name = call.name.name.as_str();
        match name {
            "relu" | "relu6" | "softplus" | "silu" | "hard_swish" | "sigmoid" | "hard_sigmoid" | "tanh"
            | "softmax" => {
                ArgReader::new(call, &[], 0, errors);
                Some(match name {
                    "relu" => Activation::Relu,
                    "silu" => Activation::Silu,
                    "hard_swish" => Activation::HardSwish,
                    "relu6" => Activation::Relu6,
                    "softplus" => Activation::Softplus,
                    "sigmoid" => Activation::Sigmoid,
                    "hard_sigmoid" => Activation::HardSigmoid,
                    "tanh" => Activation::Tanh,
                    _ => Activation::Softmax,
                })
            }
            "leaky_relu" => alpha(call, 0.01, errors).map(|alpha| Activation::LeakyRelu { alpha }),
            "gelu" => {
                let mut args = ArgReader::new(call, &["approximate"], 1, errors);
                let tanh = match args.value("approximate") {
                    None => false,
                    Some(_) => args.choice("approximate", &["none", "tanh"])? == "tanh",
                };
                Some(Activation::Gelu { tanh })
            }
            "elu" => alpha(call, 1.0, errors).map(|alpha| Activation::Elu { alpha }),
            _ => {
                let d = Diagnostic::error(call.name.span, format!("unknown activation `{name}`"))
                    .with_label("not an activation");
                let d = match suggestion(name, Self::NAMES.iter().copied()) {
                    Some(s) => d.with_help(s),
                    None => d.with_note(format!("the activations are {}", quoted_list(Self::NAMES))),
                };
                errors.push(d);
                None
            }
        }
    }

    /// Its name in specs (`gelu_tanh` for `gelu(approximate = tanh)`), and
    /// the name of its kernels in `specc-core`.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Elu { .. } => "elu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::Relu6 => "relu6",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::Softplus => "softplus",
            Activation::Silu => "silu",
            Activation::Gelu { tanh: false } => "gelu",
            Activation::Gelu { tanh: true } => "gelu_tanh",
            Activation::HardSwish => "hard_swish",
        }
    }

    /// Whether its gradient needs its input, not only its output (the
    /// output does not determine the input: silu, gelu and hard_swish dip
    /// below zero and come back). Such an activation of a dense or conv2d
    /// layer runs in a step of its own, which keeps the layer's output.
    pub fn needs_input(&self) -> bool {
        matches!(
            self,
            Activation::Silu | Activation::Gelu { .. } | Activation::HardSwish
        )
    }

    /// The arguments its kernels take after the values (`alpha`).
    pub fn kernel_args(&self) -> Vec<f64> {
        match self {
            Activation::LeakyRelu { alpha } | Activation::Elu { alpha } => vec![*alpha],
            Activation::Relu
            | Activation::Relu6
            | Activation::HardSigmoid
            | Activation::Softplus
            | Activation::Silu
            | Activation::Gelu { .. }
            | Activation::HardSwish
            | Activation::Sigmoid
            | Activation::Tanh
            | Activation::Softmax => Vec::new(),
        }
    }

    /// Whether it works on rows of values (softmax normalises over each
    /// sample's outputs), and so needs a vector input and the row length.
    pub fn per_row(&self) -> bool {
        matches!(self, Activation::Softmax)
    }

    /// FLOPs per value, as the summary counts them.
    pub fn flops_per_value(&self) -> u64 {
        match self {
            Activation::Softmax => 3,
            Activation::Relu | Activation::LeakyRelu { .. } | Activation::Sigmoid | Activation::Tanh => 1,
            // Two comparisons; a multiply-add and two comparisons.
            Activation::Relu6 => 2,
            Activation::HardSigmoid => 3,
            // A comparison, an exp and a multiply-add; a max, an exp and a log.
            Activation::Elu { .. } | Activation::Softplus => 3,
            // An exp, a divide and a multiply; hard_sigmoid and a multiply.
            Activation::Silu | Activation::HardSwish => 4,
            // erf or tanh of a polynomial, then multiplies.
            Activation::Gelu { .. } => 8,
        }
    }

    /// Relu-like activations default to He initialisation.
    pub fn is_relu_like(&self) -> bool {
        matches!(
            self,
            Activation::Relu
                | Activation::Relu6
                | Activation::LeakyRelu { .. }
                | Activation::Elu { .. }
                | Activation::Softplus
                | Activation::Silu
                | Activation::Gelu { .. }
                | Activation::HardSwish
        )
    }

    /// Applies it in place to one sample's values, in f64: the definition
    /// the reference evaluator and the gradient checks hold the kernels to.
    pub fn apply_f64(&self, row: &mut [f64]) {
        match self {
            Activation::Relu => row.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
            Activation::LeakyRelu { alpha } => row
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * *v }),
            Activation::Elu { alpha } => row
                .iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * v.exp_m1() }),
            Activation::Relu6 => row.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
            Activation::HardSigmoid => row.iter_mut().for_each(|v| *v = (*v / 6.0 + 0.5).clamp(0.0, 1.0)),
            Activation::Softplus => row
                .iter_mut()
                .for_each(|v| *v = v.max(0.0) + (-v.abs()).exp().ln_1p()),
            Activation::Silu => row.iter_mut().for_each(|v| *v *= logistic(*v)),
            Activation::HardSwish => row
                .iter_mut()
                .for_each(|v| *v *= (*v / 6.0 + 0.5).clamp(0.0, 1.0)),
            Activation::Gelu { tanh: false } => row
                .iter_mut()
                .for_each(|v| *v *= 0.5 * (1.0 + libm::erf(*v * std::f64::consts::FRAC_1_SQRT_2))),
            Activation::Gelu { tanh: true } => row.iter_mut().for_each(|v| {
                let k = (2.0 / std::f64::consts::PI).sqrt();
                *v *= 0.5 * (1.0 + (k * (*v + 0.044715 * *v * *v * *v)).tanh());
            }),
            Activation::Sigmoid => row.iter_mut().for_each(|v| *v = logistic(*v)),
            Activation::Tanh => row.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Softmax => {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for v in row.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                row.iter_mut().for_each(|v| *v /= sum);
            }
        }
    }
}

/// The `alpha` of `leaky_relu(alpha)` and `elu(alpha)`: `default` when
/// absent, and at least 0 (so that the output is positive exactly where the
/// input is, which the backward kernels rely on).
fn alpha(call: &Call, default: f64, errors: &mut Vec<Diagnostic>) -> Option<f64> {
    let mut args = ArgReader::new(call, &["alpha"], 1, errors);
    let alpha = args.float_or("alpha", default)?;
    if alpha < 0.0 {
        args.invalid(
            "alpha",
            format!("{} alpha must be at least 0, found {alpha}", call.name.name),
            None,
        );
        return None;
    }
    Some(alpha)
}

/// The logistic function, stable for large |z|.
fn logistic(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// As written in a spec: `relu`, `leaky_relu(alpha = 0.2)`.
impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu { alpha } => write!(f, "leaky_relu(alpha = {alpha})"),
            Activation::Elu { alpha } => write!(f, "elu(alpha = {alpha})"),
            Activation::Gelu { tanh: true } => f.write_str("gelu(approximate = tanh)"),
            other => f.write_str(other.name()),
        }
    }
}
