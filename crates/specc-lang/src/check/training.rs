//! Loss, optimizer, schedule, clipping, weight decay and training settings.

use crate::args::{ArgReader, quoted_list};
use crate::diagnostic::{Diagnostic, suggestion};
use crate::model::*;
use crate::syntax::*;

pub const LOSS_NAMES: &[&str] = &["mse", "mae", "huber", "cross_entropy", "binary_cross_entropy"];
pub const OPTIMIZER_NAMES: &[&str] = &["sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax"];
pub const SCHEDULE_NAMES: &[&str] = &[
    "step",
    "multistep",
    "exponential",
    "inverse_time",
    "polynomial",
    "cosine",
    "sigmoid",
    "warmup",
    "plateau",
];

fn unknown(errors: &mut Vec<Diagnostic>, call: &Call, what: &str, names: &[&str]) {
    let name = &call.name.name;
    let d = Diagnostic::error(call.name.span, format!("unknown {what} `{name}`")).with_label(format!(
        "not {} {what}",
        if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        }
    ));
    let d = match suggestion(name, names.iter().copied()) {
        Some(s) => d.with_help(s),
        None => d.with_note(format!("expected one of {}", quoted_list(names))),
    };
    errors.push(d);
}

/// The loss, checked against the model's output and last layer.
pub fn loss(
    call: &Call,
    layers: &[Layer],
    output: Option<&Shape>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Loss> {
    let name = call.name.name.as_str();
    let kind = match name {
        "mse" | "mae" | "cross_entropy" | "binary_cross_entropy" => {
            ArgReader::new(call, &[], 0, errors);
            match name {
                "mse" => LossKind::Mse,
                "mae" => LossKind::Mae,
                "cross_entropy" => LossKind::CrossEntropy,
                _ => LossKind::BinaryCrossEntropy,
            }
        }
        "huber" => {
            let mut args = ArgReader::new(call, &["delta"], 1, errors);
            let delta = args.float_or("delta", 1.0)?;
            if delta <= 0.0 {
                args.invalid(
                    "delta",
                    format!("huber `delta` must be positive, found {delta}"),
                    None,
                );
                return None;
            }
            LossKind::Huber { delta }
        }
        _ => {
            unknown(errors, call, "loss", LOSS_NAMES);
            return None;
        }
    };
    let output = output?;
    let last = layers.last()?;
    let last_activation = last.activation();
    let mismatch = |message: String, help: &str| {
        Diagnostic::error(call.name.span, message)
            .with_label(format!("model output {output}"))
            .with_secondary(
                last.span,
                format!("the last layer `{}` gives {output}", last.name),
            )
            .with_help(help.to_string())
    };
    let fused_activation = match kind {
        LossKind::CrossEntropy => {
            if output.rank() != 1 || output.numel() < 2 {
                errors.push(mismatch(
                    format!("`cross_entropy` needs a vector of at least 2 class scores, but the model gives {output}"),
                    "end the model with `dense(K)` for K classes (add `flatten;` before it for images)",
                ));
                return None;
            }
            match last_activation {
                Some(Activation::Softmax) => Some(Activation::Softmax),
                Some(a @ Activation::Sigmoid) => {
                    errors.push(mismatch(
                        format!("`cross_entropy` fuses a final softmax, but the model ends in `{}`", a.name()),
                        "use `activation = softmax` (or none) for classes, or `loss binary_cross_entropy` for independent 0/1 outputs",
                    ));
                    return None;
                }
                _ => None,
            }
        }
        LossKind::BinaryCrossEntropy => {
            if output.rank() != 1 {
                errors.push(mismatch(
                    format!("`binary_cross_entropy` needs a vector of logits, but the model gives {output}"),
                    "end the model with `dense(K)`, one output per binary target",
                ));
                return None;
            }
            match last_activation {
                Some(Activation::Sigmoid) => Some(Activation::Sigmoid),
                Some(Activation::Softmax) => {
                    errors.push(mismatch(
                        "`binary_cross_entropy` fuses a final sigmoid, but the model ends in `softmax`".into(),
                        "use `activation = sigmoid` for independent 0/1 outputs, or `loss cross_entropy` for classes",
                    ));
                    return None;
                }
                _ => None,
            }
        }
        _ => None,
    };
    Some(Loss {
        kind,
        fused_activation,
        span: call.span,
    })
}

/// The optimizer with Keras' defaults.
pub fn optimizer(call: &Call, errors: &mut Vec<Diagnostic>) -> Option<Optimizer> {
    let name = call.name.name.as_str();
    let params: &'static [&'static str] = match name {
        "sgd" => &["lr", "momentum", "nesterov"],
        "adagrad" => &["lr", "initial_accumulator", "eps"],
        "rmsprop" => &["lr", "rho", "momentum", "eps", "centered"],
        "adadelta" => &["lr", "rho", "eps"],
        "adam" => &["lr", "beta1", "beta2", "eps", "amsgrad"],
        "adamw" => &["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"],
        "adamax" => &["lr", "beta1", "beta2", "eps"],
        _ => {
            unknown(errors, call, "optimizer", OPTIMIZER_NAMES);
            return None;
        }
    };
    let mut args = ArgReader::new(call, params, 1, errors);
    // Keras defaults: SGD 0.01; Adagrad, RMSprop, AdaDelta, Adam, AdamW, Adamax 0.001.
    let default_lr = if name == "sgd" { 0.01 } else { 0.001 };
    let lr = args.float_or("lr", default_lr);
    if let Some(lr) = lr
        && lr <= 0.0
    {
        args.invalid(
            "lr",
            format!("the learning rate must be positive, found {lr}"),
            Some(format!("try `lr = {default_lr}`, the Keras default for `{name}`")),
        );
    }
    let mut ok = lr.is_some_and(|lr| lr > 0.0);
    let unit = |args: &mut ArgReader<'_, '_>, key: &str, default: f64, ok: &mut bool| -> f64 {
        match args.float_or(key, default) {
            Some(v) if (0.0..1.0).contains(&v) => v,
            Some(v) => {
                args.invalid(
                    key,
                    format!("`{key}` of `{name}` must be in [0, 1), found {v}"),
                    None,
                );
                *ok = false;
                default
            }
            None => {
                *ok = false;
                default
            }
        }
    };
    let positive = |args: &mut ArgReader<'_, '_>, key: &str, default: f64, ok: &mut bool| -> f64 {
        match args.float_or(key, default) {
            Some(v) if v > 0.0 => v,
            Some(v) => {
                args.invalid(
                    key,
                    format!("`{key}` of `{name}` must be positive, found {v}"),
                    None,
                );
                *ok = false;
                default
            }
            None => {
                *ok = false;
                default
            }
        }
    };
    let flag = |args: &mut ArgReader<'_, '_>, key: &str, ok: &mut bool| -> bool {
        args.bool_or(key, false).unwrap_or_else(|| {
            *ok = false;
            false
        })
    };
    let kind = match name {
        "sgd" => {
            let momentum = unit(&mut args, "momentum", 0.0, &mut ok);
            let nesterov = flag(&mut args, "nesterov", &mut ok);
            if nesterov && momentum == 0.0 && ok {
                args.invalid(
                    "nesterov",
                    "`nesterov = true` has no effect without momentum",
                    Some("set `momentum = 0.9` (or another value in (0, 1))".into()),
                );
                ok = false;
            }
            OptimizerKind::Sgd { momentum, nesterov }
        }
        "adagrad" => OptimizerKind::Adagrad {
            initial_accumulator: match args.float_or("initial_accumulator", 0.1) {
                Some(v) if v >= 0.0 => v,
                Some(v) => {
                    args.invalid(
                        "initial_accumulator",
                        format!("`initial_accumulator` must be at least 0, found {v}"),
                        None,
                    );
                    ok = false;
                    0.1
                }
                None => {
                    ok = false;
                    0.1
                }
            },
            eps: positive(&mut args, "eps", 1e-7, &mut ok),
        },
        "rmsprop" => OptimizerKind::RmsProp {
            rho: unit(&mut args, "rho", 0.9, &mut ok),
            momentum: unit(&mut args, "momentum", 0.0, &mut ok),
            eps: positive(&mut args, "eps", 1e-7, &mut ok),
            centered: flag(&mut args, "centered", &mut ok),
        },
        "adadelta" => OptimizerKind::AdaDelta {
            rho: unit(&mut args, "rho", 0.95, &mut ok),
            eps: positive(&mut args, "eps", 1e-7, &mut ok),
        },
        "adam" => OptimizerKind::Adam {
            beta1: unit(&mut args, "beta1", 0.9, &mut ok),
            beta2: unit(&mut args, "beta2", 0.999, &mut ok),
            eps: positive(&mut args, "eps", 1e-7, &mut ok),
            amsgrad: flag(&mut args, "amsgrad", &mut ok),
        },
        "adamw" => {
            let beta1 = unit(&mut args, "beta1", 0.9, &mut ok);
            let beta2 = unit(&mut args, "beta2", 0.999, &mut ok);
            let eps = positive(&mut args, "eps", 1e-7, &mut ok);
            // Keras' AdamW default decay is 0.004.
            let weight_decay = match args.float_or("weight_decay", 0.004) {
                Some(v) if v > 0.0 => v,
                Some(v) => {
                    args.invalid(
                        "weight_decay",
                        format!("`adamw` needs a positive `weight_decay`, found {v}"),
                        Some("without weight decay AdamW is Adam: use `optimizer adam(...)`".into()),
                    );
                    ok = false;
                    0.0
                }
                None => {
                    ok = false;
                    0.0
                }
            };
            let amsgrad = flag(&mut args, "amsgrad", &mut ok);
            OptimizerKind::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                amsgrad,
            }
        }
        _ => OptimizerKind::AdaMax {
            beta1: unit(&mut args, "beta1", 0.9, &mut ok),
            beta2: unit(&mut args, "beta2", 0.999, &mut ok),
            eps: positive(&mut args, "eps", 1e-7, &mut ok),
        },
    };
    ok.then(|| Optimizer {
        kind,
        lr: lr.unwrap_or(default_lr),
        span: call.span,
    })
}

/// A learning-rate schedule; `lr` is the optimizer's base rate when known,
/// `outer_unit` the unit a `warmup` passes to its `then` schedule.
pub fn schedule(
    call: &Call,
    lr: Option<f64>,
    outer_unit: Option<ScheduleUnit>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Schedule> {
    let name = call.name.name.as_str();
    let params: &'static [&'static str] = match name {
        "step" => &["every", "gamma", "unit"],
        "multistep" => &["at", "gamma", "unit"],
        "exponential" => &["gamma", "unit"],
        "inverse_time" => &["k", "power", "unit"],
        "polynomial" => &["total", "power", "end_lr", "unit"],
        "cosine" => &["total", "min_lr", "unit"],
        "sigmoid" => &["gamma", "center", "unit"],
        "warmup" => &["steps", "then", "unit"],
        "plateau" => &["patience", "factor", "min_lr", "min_delta"],
        _ => {
            unknown(errors, call, "schedule", SCHEDULE_NAMES);
            return None;
        }
    };
    let mut args = ArgReader::new(call, params, 0, errors);
    // `warmup(steps = ...)` counts optimizer steps unless told otherwise; the
    // others count epochs. A `then` schedule inherits its warmup's unit.
    let default_unit = outer_unit.unwrap_or(if name == "warmup" {
        ScheduleUnit::Step
    } else {
        ScheduleUnit::Epoch
    });
    let unit = if params.contains(&"unit") {
        match args.value("unit") {
            None => Some(default_unit),
            Some(_) => args.choice("unit", &["epoch", "step"]).map(|u| {
                if u == "step" {
                    ScheduleUnit::Step
                } else {
                    ScheduleUnit::Epoch
                }
            }),
        }
    } else {
        Some(ScheduleUnit::Epoch)
    };
    let mut ok = true;
    let mut require = |args: &mut ArgReader<'_, '_>, key: &str, example: &str| -> bool {
        if args.value(key).is_none() {
            args.missing(key, example);
            ok = false;
            false
        } else {
            true
        }
    };
    let negative_lr_help = Some("the learning rate must stay positive at every step".to_string());
    let kind = match name {
        "step" => {
            let has_every = require(&mut args, "every", "schedule step(every = 10, gamma = 0.5);");
            let every = if has_every { args.int("every", 1) } else { None };
            let gamma = args.float_or("gamma", 0.1);
            if let Some(g) = gamma.filter(|g| *g <= 0.0) {
                args.invalid(
                    "gamma",
                    format!("`gamma` of `step` must be positive, found {g}"),
                    negative_lr_help.clone(),
                );
                return None;
            }
            ScheduleKind::Step {
                every: every?,
                gamma: gamma?,
            }
        }
        "multistep" => {
            let has_at = require(&mut args, "at", "schedule multistep(at = [30, 60], gamma = 0.1);");
            let milestones = if has_at { args.int_list("at", 1) } else { None };
            if let Some(m) = &milestones
                && (m.is_empty() || m.windows(2).any(|w| w[0] >= w[1]))
            {
                args.invalid(
                    "at",
                    "milestones must be a non-empty, strictly increasing list",
                    Some("for example `at = [30, 60]`".into()),
                );
                return None;
            }
            let gamma = args.float_or("gamma", 0.1);
            if let Some(g) = gamma.filter(|g| *g <= 0.0) {
                args.invalid(
                    "gamma",
                    format!("`gamma` of `multistep` must be positive, found {g}"),
                    negative_lr_help.clone(),
                );
                return None;
            }
            ScheduleKind::MultiStep {
                milestones: milestones?,
                gamma: gamma?,
            }
        }
        "exponential" => {
            let gamma = args.float_or("gamma", 0.95)?;
            if gamma <= 0.0 {
                args.invalid(
                    "gamma",
                    format!("`gamma` of `exponential` must be positive, found {gamma}"),
                    negative_lr_help,
                );
                return None;
            }
            ScheduleKind::Exponential { gamma }
        }
        "inverse_time" => {
            let k = args.float_or("k", 0.01);
            let power = args.float_or("power", 1.0);
            let (k, power) = (k?, power?);
            if k < 0.0 {
                args.invalid(
                    "k",
                    format!("`k` of `inverse_time` must be at least 0, found {k}"),
                    negative_lr_help,
                );
                return None;
            }
            if power <= 0.0 {
                args.invalid(
                    "power",
                    format!("`power` of `inverse_time` must be positive, found {power}"),
                    None,
                );
                return None;
            }
            ScheduleKind::InverseTime { k, power }
        }
        "polynomial" => {
            let has_total = require(&mut args, "total", "schedule polynomial(total = 100);");
            let total = if has_total { args.int("total", 1) } else { None };
            let power = args.float_or("power", 1.0);
            let end_lr = args.float_or("end_lr", 0.0);
            let (power, end_lr) = (power?, end_lr?);
            if power <= 0.0 {
                args.invalid(
                    "power",
                    format!("`power` of `polynomial` must be positive, found {power}"),
                    None,
                );
                return None;
            }
            if end_lr < 0.0 || lr.is_some_and(|lr| end_lr > lr) {
                args.invalid(
                    "end_lr",
                    format!("`end_lr` must be in [0, lr], found {end_lr}"),
                    negative_lr_help,
                );
                return None;
            }
            ScheduleKind::Polynomial {
                total: total?,
                power,
                end_lr,
            }
        }
        "cosine" => {
            let has_total = require(&mut args, "total", "schedule cosine(total = 100);");
            let total = if has_total { args.int("total", 1) } else { None };
            let min_lr = args.float_or("min_lr", 0.0)?;
            if min_lr < 0.0 || lr.is_some_and(|lr| min_lr > lr) {
                args.invalid(
                    "min_lr",
                    format!("`min_lr` must be in [0, lr], found {min_lr}"),
                    negative_lr_help,
                );
                return None;
            }
            ScheduleKind::Cosine {
                total: total?,
                min_lr,
            }
        }
        "sigmoid" => ScheduleKind::Sigmoid {
            gamma: args.float_or("gamma", 0.1)?,
            center: args.float_or("center", 0.0)?,
        },
        "warmup" => {
            let has_steps = require(
                &mut args,
                "steps",
                "schedule warmup(steps = 500, then = cosine(total = 10000));",
            );
            let steps = if has_steps { args.int("steps", 1) } else { None };
            let then_call = args.call("then", "a schedule such as `cosine(total = 100)`");
            let then_given = args.value("then").is_some();
            let then = match then_call {
                Some(c) if c.name.name == "warmup" || c.name.name == "plateau" => {
                    let d =
                        Diagnostic::error(c.name.span, format!("`{}` cannot follow a warmup", c.name.name))
                            .with_label("not allowed here")
                            .with_help(
                                "follow a warmup with a schedule of `t`, such as `cosine(total = 100)`",
                            );
                    args.errors().push(d);
                    return None;
                }
                Some(c) => Some(Box::new(schedule(c, lr, unit, args.errors())?)),
                None if then_given => return None,
                None => None,
            };
            ScheduleKind::Warmup { steps: steps?, then }
        }
        _ => {
            let patience = args.int_or("patience", 0, 3);
            let factor = args.float_or("factor", 0.5);
            let min_lr = args.float_or("min_lr", 1e-6);
            let min_delta = args.float_or("min_delta", 1e-4);
            let (patience, factor, min_lr, min_delta) = (patience?, factor?, min_lr?, min_delta?);
            if !(factor > 0.0 && factor < 1.0) {
                args.invalid(
                    "factor",
                    format!("`factor` of `plateau` must be in (0, 1), found {factor}"),
                    negative_lr_help,
                );
                return None;
            }
            if min_lr < 0.0 {
                args.invalid(
                    "min_lr",
                    format!("`min_lr` must be at least 0, found {min_lr}"),
                    None,
                );
                return None;
            }
            ScheduleKind::Plateau {
                patience,
                factor,
                min_lr,
                min_delta,
            }
        }
    };
    if !ok {
        return None;
    }
    Some(Schedule { kind, unit: unit? })
}

/// `clip norm(x)` or `clip value(x)`.
pub fn clip(call: &Call, errors: &mut Vec<Diagnostic>) -> Option<Clip> {
    let name = call.name.name.as_str();
    let key = match name {
        "norm" => "max_norm",
        "value" => "max_value",
        _ => {
            unknown(errors, call, "clipping", &["norm", "value"]);
            return None;
        }
    };
    let mut args = ArgReader::new(
        call,
        if name == "norm" {
            &["max_norm"]
        } else {
            &["max_value"]
        },
        1,
        errors,
    );
    if args.value(key).is_none() {
        args.missing(key, &format!("clip {name}(1.0);"));
        return None;
    }
    let limit = args.float(key)?;
    if limit <= 0.0 {
        args.invalid(
            key,
            format!("the clipping threshold must be positive, found {limit}"),
            None,
        );
        return None;
    }
    Some(if name == "norm" {
        Clip::Norm(limit)
    } else {
        Clip::Value(limit)
    })
}

/// `weight_decay 1e-4;`
pub fn weight_decay(value: &Value, errors: &mut Vec<Diagnostic>) -> Option<f64> {
    match &value.kind {
        ValueKind::Number(n) if n.value.is_finite() && n.value >= 0.0 => Some(n.value),
        ValueKind::Number(n) => {
            errors.push(
                Diagnostic::error(
                    value.span,
                    format!("`weight_decay` must be at least 0, found {}", n.text),
                )
                .with_label("invalid value"),
            );
            None
        }
        other => {
            errors.push(
                Diagnostic::error(
                    value.span,
                    format!("`weight_decay` must be a number, found {}", other.describe()),
                )
                .with_label("expected a number")
                .with_help("for example `weight_decay 1e-4;`"),
            );
            None
        }
    }
}

/// `train(epochs = 10, batch = 32, seed = 0, shuffle = true, validation = 0.0, precision = f32)`
pub fn train_settings(
    args: Option<&Args>,
    keyword: Span,
    classifier: Option<bool>,
    errors: &mut Vec<Diagnostic>,
) -> Option<TrainSettings> {
    let defaults = TrainSettings::default();
    let mut args = ArgReader::from_args(
        "train",
        keyword,
        args,
        &[
            "epochs",
            "batch",
            "seed",
            "shuffle",
            "validation",
            "precision",
            "early_stop",
            "monitor",
        ],
        0,
        errors,
    );
    let epochs = args.int_or("epochs", 1, defaults.epochs as u64);
    let batch = args.int_or("batch", 1, defaults.batch as u64);
    let seed = args.int_or("seed", 0, defaults.seed);
    let shuffle = args.bool_or("shuffle", defaults.shuffle);
    let validation = args.float_or("validation", defaults.validation);
    if let Some(v) = validation.filter(|v| !(0.0..1.0).contains(v)) {
        args.invalid(
            "validation",
            format!(
                "`validation` is the fraction of training data held out and must be in [0, 1), found {v}"
            ),
            None,
        );
        return None;
    }
    let precision = match args.value("precision") {
        None => Some(defaults.precision),
        Some(_) => {
            let names = Precision::ALL.map(Precision::name);
            args.choice("precision", &names).and_then(Precision::from_name)
        }
    };
    let monitor = match args.value("monitor") {
        None => Some(Monitor::default()),
        Some(_) => {
            let names = Monitor::ALL.map(Monitor::name);
            let monitor = args.choice("monitor", &names).and_then(Monitor::from_name);
            if monitor == Some(Monitor::ValAccuracy) && classifier == Some(false) {
                args.invalid(
                    "monitor",
                    "`monitor = val_accuracy` on a model that is not a classifier",
                    Some(
                        "monitor `val_loss` (or `loss`): accuracy needs a cross_entropy or \
                         binary_cross_entropy loss"
                            .into(),
                    ),
                );
                return None;
            }
            monitor
        }
    };
    let early_stop = match args.value("early_stop") {
        None => {
            if args.value("monitor").is_some() {
                args.invalid(
                    "monitor",
                    "`monitor` is the metric early stopping watches, and there is no `early_stop`",
                    Some("add `early_stop = patience(5)`, or remove `monitor`".into()),
                );
                return None;
            }
            None
        }
        Some(_) => {
            let call = args.call("early_stop", "`patience(N)`")?;
            if call.name.name != "patience" {
                args.invalid(
                    "early_stop",
                    format!("`early_stop` takes `patience(N)`, not `{}`", call.name.name),
                    Some("for example `early_stop = patience(5)`".into()),
                );
                return None;
            }
            let mut p = ArgReader::new(call, &["epochs", "min_delta"], 1, errors);
            let patience = p.int("epochs", 1);
            let min_delta = p.float_or("min_delta", 0.0);
            if let Some(d) = min_delta.filter(|d| *d < 0.0) {
                p.invalid(
                    "min_delta",
                    format!("`min_delta` is the least change that counts as an improvement and must be at least 0, found {d}"),
                    None,
                );
                return None;
            }
            Some(EarlyStop {
                patience: patience? as usize,
                min_delta: min_delta?,
                monitor: monitor?,
            })
        }
    };
    Some(TrainSettings {
        early_stop,
        precision: precision?,
        epochs: epochs? as usize,
        batch: batch? as usize,
        seed: seed?,
        shuffle: shuffle?,
        validation: validation?,
    })
}
