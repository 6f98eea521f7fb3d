//! The generated `apply_gradients` of every optimizer follows its published
//! update rule (docs/language.md, "Optimizer"), including the step count of
//! Adam's bias correction, Adagrad's initial accumulator, L2 weight decay and
//! clipping, and a learning rate changed between steps. The models are the
//! test specs `tests/specs/*_tiny.spec`, in f64.

use specc_core::TensorRole;
use specc_tests::f64 as models;
use specc_tests::support::random_batch;
use specc_train::Model;
use specc_train::schedule::{self, Schedule, ScheduleKind, ScheduleUnit};

/// An optimizer's hyper-parameters as its spec states them, with the
/// documented defaults for the ones it leaves out. The learning rate is read
/// from the model at every step.
#[derive(Clone, Copy, Debug)]
enum Rule {
    Sgd {
        momentum: f64,
        nesterov: bool,
    },
    Adagrad {
        initial_accumulator: f64,
        eps: f64,
    },
    RmsProp {
        rho: f64,
        momentum: f64,
        eps: f64,
        centered: bool,
    },
    AdaDelta {
        rho: f64,
        eps: f64,
    },
    /// Adam; AdamW when `decoupled_decay` is non-zero.
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
        amsgrad: bool,
        decoupled_decay: f64,
    },
    AdaMax {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

/// What the spec does to gradients before the optimizer sees them.
#[derive(Clone, Copy, Debug, Default)]
struct Regularisation {
    /// `weight_decay d;`: adds `d w` to the gradient of weights (not biases).
    l2: f64,
    /// `clip norm(c);`
    clip_norm: Option<f64>,
    /// `clip value(c);`
    clip_value: Option<f64>,
}

const NO_REGULARISATION: Regularisation = Regularisation {
    l2: 0.0,
    clip_norm: None,
    clip_value: None,
};

/// The state of one parameter component: up to three accumulators.
type State = [f64; 3];

fn initial_state(rule: Rule) -> State {
    match rule {
        Rule::Adagrad {
            initial_accumulator, ..
        } => [initial_accumulator, 0.0, 0.0],
        _ => [0.0; 3],
    }
}

/// One step of the published rule for one component, written out plainly.
/// `t` is the step number from 1.
fn update(rule: Rule, s: &mut State, lr: f64, w: f64, g: f64, t: u64) -> f64 {
    match rule {
        Rule::Sgd { momentum, nesterov } => {
            // v = momentum v - lr g; w += v (Nesterov: w += momentum v - lr g).
            let v = &mut s[0];
            *v = momentum * *v - lr * g;
            if nesterov {
                w + momentum * *v - lr * g
            } else {
                w + *v
            }
        }
        Rule::Adagrad { eps, .. } => {
            // a += g^2; w -= lr g / (sqrt(a) + eps).
            s[0] += g * g;
            w - lr * g / (s[0].sqrt() + eps)
        }
        Rule::RmsProp {
            rho,
            momentum,
            eps,
            centered,
        } => {
            // s = rho s + (1 - rho) g^2; centred: m = rho m + (1 - rho) g,
            // d = s - m^2, else d = s; inc = lr g / sqrt(d + eps);
            // with momentum v = momentum v + inc, w -= v, else w -= inc.
            s[0] = rho * s[0] + (1.0 - rho) * g * g;
            let d = if centered {
                s[1] = rho * s[1] + (1.0 - rho) * g;
                s[0] - s[1] * s[1]
            } else {
                s[0]
            };
            let inc = lr * g / (d + eps).sqrt();
            if momentum > 0.0 {
                s[2] = momentum * s[2] + inc;
                w - s[2]
            } else {
                w - inc
            }
        }
        Rule::AdaDelta { rho, eps } => {
            // a = rho a + (1 - rho) g^2; u = sqrt(d + eps) / sqrt(a + eps) g;
            // d = rho d + (1 - rho) u^2; w -= lr u.
            s[0] = rho * s[0] + (1.0 - rho) * g * g;
            let u = (s[1] + eps).sqrt() / (s[0] + eps).sqrt() * g;
            s[1] = rho * s[1] + (1.0 - rho) * u * u;
            w - lr * u
        }
        Rule::Adam {
            beta1,
            beta2,
            eps,
            amsgrad,
            decoupled_decay,
        } => {
            // AdamW: w -= lr weight_decay w first. Then m = beta1 m + (1 - beta1) g;
            // v = beta2 v + (1 - beta2) g^2; AMSGrad: vhat = max(vhat, v) in place of v;
            // w -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps).
            let w = w - lr * decoupled_decay * w;
            s[0] = beta1 * s[0] + (1.0 - beta1) * g;
            s[1] = beta2 * s[1] + (1.0 - beta2) * g * g;
            s[2] = s[2].max(s[1]);
            let v = if amsgrad { s[2] } else { s[1] };
            let t = t as i32;
            w - lr * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t)) * s[0] / (v.sqrt() + eps)
        }
        Rule::AdaMax { beta1, beta2, eps } => {
            // m = beta1 m + (1 - beta1) g; u = max(beta2 u, |g|);
            // w -= lr / (1 - beta1^t) m / (u + eps).
            s[0] = beta1 * s[0] + (1.0 - beta1) * g;
            s[1] = (beta2 * s[1]).max(g.abs());
            w - lr / (1.0 - beta1.powi(t as i32)) * s[0] / (s[1] + eps)
        }
    }
}

/// Runs six steps of `M` on a fixed batch: the first sets every parameter to
/// a known value after computing gradients, the fourth halves the learning
/// rate. After each `apply_gradients`, every parameter must equal the rule
/// applied to the parameters and gradients it saw.
fn check<M: Model<F = f64>>(lr: f64, rule: Rule, reg: Regularisation) {
    assert_eq!(M::LEARNING_RATE, lr, "{}: learning rate", M::NAME);
    let mut model = M::new(3);
    let (input, targets) = random_batch::<M>(4, 11);
    let trainable: Vec<_> = M::TENSORS.iter().filter(|t| t.role.trainable()).collect();
    let mut state: Vec<Vec<State>> = trainable
        .iter()
        .map(|t| vec![initial_state(rule); t.len()])
        .collect();
    let mut clipped = false;
    for step in 1..=6u64 {
        assert_eq!(model.steps(), step - 1);
        model.loss_and_gradients(&input, targets.as_targets(), 4);
        if step == 1 {
            for (k, info) in trainable.iter().enumerate() {
                let w = model.tensor_mut(info.name).expect("trainable tensor");
                for (i, x) in w.iter_mut().enumerate() {
                    *x = 0.3 * (i as f64 + 1.0 + k as f64).sin();
                }
            }
        }
        if step == 4 {
            model.set_learning_rate(lr / 2.0);
        }
        let lr = model.learning_rate();
        let before: Vec<Vec<f64>> = trainable
            .iter()
            .map(|t| model.tensor(t.name).expect("tensor").to_vec())
            .collect();
        // Gradients plus L2 decay of weights, then clipping.
        let mut grads: Vec<Vec<f64>> = trainable
            .iter()
            .zip(&before)
            .map(|(t, w)| {
                let decay = if t.role == TensorRole::Weight { reg.l2 } else { 0.0 };
                let g = model.gradient(t.name).expect("gradient");
                g.iter().zip(w).map(|(g, w)| g + decay * w).collect()
            })
            .collect();
        if let Some(c) = reg.clip_norm {
            let norm = grads.iter().flatten().map(|g| g * g).sum::<f64>().sqrt();
            clipped |= norm > c;
            for g in grads.iter_mut().flatten() {
                *g *= (c / norm).min(1.0);
            }
        }
        if let Some(c) = reg.clip_value {
            clipped |= grads.iter().flatten().any(|g| g.abs() > c);
            for g in grads.iter_mut().flatten() {
                *g = g.clamp(-c, c);
            }
        }
        model.apply_gradients();
        let mut moved = false;
        for (k, info) in trainable.iter().enumerate() {
            let got = model.tensor(info.name).expect("tensor");
            for i in 0..got.len() {
                let want = update(rule, &mut state[k][i], lr, before[k][i], grads[k][i], step);
                assert!(
                    (got[i] - want).abs() <= 1e-10 * want.abs() + 1e-14,
                    "{}: step {step}, {}[{i}] = {}, expected {want}",
                    M::NAME,
                    info.name,
                    got[i]
                );
                moved |= got[i] != before[k][i];
            }
        }
        assert!(moved, "{}: step {step} moved nothing", M::NAME);
    }
    assert_eq!(model.steps(), 6);
    let clips = reg.clip_norm.is_some() || reg.clip_value.is_some();
    assert_eq!(clipped, clips, "{}: clipping took effect", M::NAME);
}

#[test]
fn sgd_with_nesterov_momentum() {
    check::<models::sgd_tiny::SgdTiny>(
        0.1,
        Rule::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn plain_sgd() {
    check::<models::sgd_plain_tiny::SgdPlainTiny>(
        0.1,
        Rule::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn sgd_with_classical_momentum() {
    check::<models::sgd_momentum_tiny::SgdMomentumTiny>(
        0.1,
        Rule::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn adagrad_starts_from_its_initial_accumulator() {
    check::<models::adagrad_tiny::AdagradTiny>(
        0.1,
        Rule::Adagrad {
            initial_accumulator: 0.1,
            eps: 1e-7,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn centred_rmsprop_with_momentum() {
    check::<models::rmsprop_tiny::RmspropTiny>(
        0.01,
        Rule::RmsProp {
            rho: 0.8,
            momentum: 0.5,
            eps: 1e-3,
            centered: true,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn plain_rmsprop() {
    check::<models::rmsprop_plain_tiny::RmspropPlainTiny>(
        0.01,
        Rule::RmsProp {
            rho: 0.8,
            momentum: 0.0,
            eps: 1e-3,
            centered: false,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn centred_rmsprop() {
    check::<models::rmsprop_centred_tiny::RmspropCentredTiny>(
        0.01,
        Rule::RmsProp {
            rho: 0.8,
            momentum: 0.0,
            eps: 1e-3,
            centered: true,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn rmsprop_with_momentum() {
    check::<models::rmsprop_momentum_tiny::RmspropMomentumTiny>(
        0.01,
        Rule::RmsProp {
            rho: 0.8,
            momentum: 0.5,
            eps: 1e-3,
            centered: false,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn adadelta() {
    check::<models::adadelta_tiny::AdadeltaTiny>(
        1.0,
        Rule::AdaDelta { rho: 0.9, eps: 1e-3 },
        NO_REGULARISATION,
    );
}

#[test]
fn adam_with_default_betas() {
    check::<models::adam_tiny::AdamTiny>(
        0.01,
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
            amsgrad: false,
            decoupled_decay: 0.0,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn amsgrad_after_l2_decay_and_norm_clipping() {
    check::<models::amsgrad_tiny::AmsgradTiny>(
        0.01,
        Rule::Adam {
            beta1: 0.8,
            beta2: 0.9,
            eps: 1e-3,
            amsgrad: true,
            decoupled_decay: 0.0,
        },
        Regularisation {
            l2: 0.1,
            clip_norm: Some(0.5),
            ..Default::default()
        },
    );
}

#[test]
fn adamw_decouples_its_decay_after_value_clipping() {
    check::<models::adamw_tiny::AdamwTiny>(
        0.01,
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-3,
            amsgrad: false,
            decoupled_decay: 0.05,
        },
        Regularisation {
            clip_value: Some(0.3),
            ..Default::default()
        },
    );
}

#[test]
fn adamax() {
    check::<models::adamax_tiny::AdamaxTiny>(
        0.02,
        Rule::AdaMax {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-3,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn digits_mlp_trains_with_adam() {
    check::<models::digits_mlp::DigitsMlp>(
        0.005,
        Rule::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-7,
            amsgrad: false,
            decoupled_decay: 0.0,
        },
        NO_REGULARISATION,
    );
}

#[test]
fn generated_modules_state_their_schedule() {
    assert_eq!(models::adam_tiny::schedule(), None);
    assert_eq!(
        models::digits_mlp::schedule(),
        Some(Schedule {
            kind: ScheduleKind::Step {
                every: 20,
                gamma: 0.5
            },
            unit: ScheduleUnit::Epoch,
        })
    );
    let warmup = models::adamax_tiny::schedule().expect("adamax_tiny has a schedule");
    assert_eq!(
        warmup,
        Schedule {
            kind: ScheduleKind::Warmup {
                steps: 4,
                then: Some(Box::new(Schedule {
                    kind: ScheduleKind::Cosine {
                        total: 10,
                        min_lr: 0.0,
                    },
                    unit: ScheduleUnit::Step,
                })),
            },
            unit: ScheduleUnit::Step,
        }
    );
    // Step 2 of the warmup, then the cosine's midpoint five steps after it.
    assert!((schedule::rate(&warmup, 0.02, 0, 1) - 0.01).abs() < 1e-15);
    assert!((schedule::rate(&warmup, 0.02, 0, 9) - 0.01).abs() < 1e-12);
}
