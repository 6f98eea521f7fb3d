//! The Keras-style summary that `specc check` prints.

use crate::limits::Bytes;
use crate::model::*;
use std::fmt::Write;

/// A table of layers with output shapes, parameters and forward FLOPs,
/// then totals, parameter memory and the training set-up.
pub fn summary(model: &CheckedModel) -> String {
    let mut rows: Vec<[String; 4]> = Vec::new();
    rows.push([
        "input".to_string(),
        model.input.to_string(),
        "0".to_string(),
        "0".to_string(),
    ]);
    fn walk(layers: &[Layer], depth: usize, rows: &mut Vec<[String; 4]>) {
        for layer in layers {
            let indent = "  ".repeat(depth);
            let mut label = format!("{indent}{} ({})", layer.name, layer.kind.describe());
            if depth > 0 && rows.len() > 1 {
                label = format!("{indent}{} ({})", layer.name, layer.kind.describe());
            }
            rows.push([
                label,
                layer.output.to_string(),
                group_digits(layer.params.total() as u64),
                human(layer.flops),
            ]);
            if let LayerKind::Residual { body, shortcut } = &layer.kind {
                walk(body, depth + 1, rows);
                let indent = "  ".repeat(depth + 1);
                match shortcut {
                    Some(s) => rows.push([
                        format!("{indent}shortcut: {} ({})", s.name, s.kind.describe()),
                        s.output.to_string(),
                        group_digits(s.params.total() as u64),
                        human(s.flops),
                    ]),
                    None => rows.push([
                        format!("{indent}shortcut: identity"),
                        layer.input.to_string(),
                        "0".to_string(),
                        "0".to_string(),
                    ]),
                }
            }
        }
    }
    walk(&model.layers, 0, &mut rows);

    let header = ["Layer (type)", "Output shape", "Param #", "FLOPs"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let total_width = widths.iter().sum::<usize>() + 3 * 3;
    let line = |c: char| c.to_string().repeat(total_width);
    let fmt_row = |row: &[String; 4]| {
        format!(
            "{:<w0$}   {:<w1$}   {:>w2$}   {:>w3$}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        )
        .trim_end()
        .to_string()
    };

    let mut out = String::new();
    let _ = writeln!(out, "Model: {}  (module `{}`)", model.name, model.module_name);
    let _ = writeln!(out, "{}", line('-'));
    let _ = writeln!(out, "{}", fmt_row(&header.map(String::from)));
    let _ = writeln!(out, "{}", line('='));
    for row in &rows {
        let _ = writeln!(out, "{}", fmt_row(row));
    }
    let _ = writeln!(out, "{}", line('='));
    let total = model.total_params();
    let _ = writeln!(
        out,
        "Total params: {} ({})",
        group_digits(total as u64),
        bytes(total.saturating_mul(4))
    );
    let _ = writeln!(
        out,
        "Trainable params: {} ({})",
        group_digits(model.trainable_params() as u64),
        bytes(model.trainable_params().saturating_mul(4))
    );
    let _ = writeln!(
        out,
        "Non-trainable params: {} ({})",
        group_digits(model.non_trainable_params() as u64),
        bytes(model.non_trainable_params().saturating_mul(4))
    );
    let _ = writeln!(out, "Forward FLOPs per sample: {}", human(model.forward_flops()));
    let batch = model.train.batch;
    if let Some((_, Some(memory))) = model.training_memory(batch).last() {
        let _ = writeln!(out, "Training memory at batch {batch}: about {}", Bytes(memory));
    }
    let _ = writeln!(out, "{}", line('-'));
    let fused = match model.loss.fused_activation {
        Some(a) => format!(" (final {} fused into the loss)", a.name()),
        None => String::new(),
    };
    let loss = match model.loss.kind {
        LossKind::Huber { delta } => format!("huber(delta = {delta})"),
        other => other.name().to_string(),
    };
    let _ = writeln!(out, "Loss: {loss}{fused}");
    let _ = writeln!(out, "Optimizer: {}", model.optimizer);
    if let Some(schedule) = &model.schedule {
        let _ = writeln!(out, "Schedule: {}", describe_schedule(schedule));
    }
    match model.clip {
        Some(Clip::Norm(n)) => {
            let _ = writeln!(out, "Clip: global norm {n}");
        }
        Some(Clip::Value(v)) => {
            let _ = writeln!(out, "Clip: value {v}");
        }
        None => {}
    }
    if model.weight_decay > 0.0 {
        let _ = writeln!(out, "Weight decay: {} (L2 on weights)", model.weight_decay);
    }
    let t = &model.train;
    let _ = writeln!(
        out,
        "Train: epochs = {}, batch = {}, seed = {}, shuffle = {}, validation = {}, precision = {}",
        t.epochs, t.batch, t.seed, t.shuffle, t.validation, t.precision
    );
    if let Some(stop) = t.early_stop {
        let _ = writeln!(
            out,
            "Early stop: after {} epochs without {} improving by more than {}; the best epoch kept",
            stop.patience, stop.monitor, stop.min_delta
        );
    }
    if model.data.resize != Resize::default() {
        let _ = writeln!(out, "Data: resize = {}", model.data.resize);
    }
    let a = model.data.augment;
    if !a.is_none() {
        let mut parts = Vec::new();
        if a.flip {
            parts.push("flip".to_string());
        }
        if a.rotate > 0.0 {
            parts.push(format!("rotate up to {} degrees", a.rotate));
        }
        if a.crop > 0 {
            parts.push(format!("crop with padding {}", a.crop));
        }
        if a.translate > 0 {
            parts.push(format!("translate up to {} pixels", a.translate));
        }
        let _ = writeln!(out, "Augment (training batches): {}", parts.join(", "));
    }
    out
}

fn describe_schedule(schedule: &Schedule) -> String {
    let unit = match schedule.unit {
        ScheduleUnit::Epoch => "epoch",
        ScheduleUnit::Step => "step",
    };
    let body = match &schedule.kind {
        ScheduleKind::Step { every, gamma } => format!("step(every = {every}, gamma = {gamma}"),
        ScheduleKind::MultiStep { milestones, gamma } => {
            format!("multistep(at = {milestones:?}, gamma = {gamma}")
        }
        ScheduleKind::Exponential { gamma } => format!("exponential(gamma = {gamma}"),
        ScheduleKind::InverseTime { k, power } => format!("inverse_time(k = {k}, power = {power}"),
        ScheduleKind::Polynomial { total, power, end_lr } => {
            format!("polynomial(total = {total}, power = {power}, end_lr = {end_lr}")
        }
        ScheduleKind::Cosine { total, min_lr } => format!("cosine(total = {total}, min_lr = {min_lr}"),
        ScheduleKind::Sigmoid { gamma, center } => format!("sigmoid(gamma = {gamma}, center = {center}"),
        ScheduleKind::Warmup { steps, then } => match then {
            Some(t) => format!("warmup(steps = {steps}, then = {}", describe_schedule(t)),
            None => format!("warmup(steps = {steps}"),
        },
        ScheduleKind::Plateau {
            patience,
            factor,
            min_lr,
            min_delta,
        } => {
            return format!(
                "plateau(patience = {patience}, factor = {factor}, min_lr = {min_lr}, min_delta = {min_delta}) on the epoch loss"
            );
        }
    };
    format!("{body}, unit = {unit})")
}

/// 693962 -> "693,962"
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1776384 -> "1.78 M"
pub fn human(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} G", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} K", n / 1e3)
    } else {
        format!("{n}")
    }
}

/// Bytes in the units Keras prints.
fn bytes(n: usize) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.2} MB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.2} KB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}
