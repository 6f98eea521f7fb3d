//! The checker: syntax tree to [`CheckedModel`], collecting every independent
//! error (as serde's `Ctxt` does) instead of stopping at the first.

mod data;
mod layers;
mod training;

use crate::diagnostic::Diagnostic;
use crate::limits::{Bytes, Limits, MAX_MEMORY_ENV};
use crate::model::*;
use crate::syntax::*;
use layers::LayerBuilder;

pub use layers::{ACTIVATION_NAMES, INIT_NAMES, layer_names};
pub use training::{LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES};

/// Checks every model of a parsed file with the default [`Limits`].
pub fn check_file(file: &SpecFile) -> Result<CheckedFile, Vec<Diagnostic>> {
    check_file_with(file, &Limits::default())
}

/// Checks every model of a parsed file.
pub fn check_file_with(file: &SpecFile, limits: &Limits) -> Result<CheckedFile, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut models = Vec::new();
    for (i, ast) in file.models.iter().enumerate() {
        if let Some(first) = file.models[..i].iter().find(|m| m.name.name == ast.name.name) {
            errors.push(
                Diagnostic::error(ast.name.span, format!("model `{}` defined twice", ast.name.name))
                    .with_label("defined again here")
                    .with_secondary(first.name.span, "first defined here"),
            );
        } else if let Some(first) = file.models[..i]
            .iter()
            .find(|m| snake_case(&m.name.name) == snake_case(&ast.name.name))
        {
            let module = snake_case(&ast.name.name);
            errors.push(
                Diagnostic::error(
                    ast.name.span,
                    format!(
                        "models `{}` and `{}` would both be module `{module}`",
                        first.name.name, ast.name.name
                    ),
                )
                .with_label("same module name")
                .with_secondary(
                    first.name.span,
                    format!("`{}` is module `{module}` too", first.name.name),
                )
                .with_help("rename one of them"),
            );
        }
        if let Some(model) = check_model(ast, &mut errors)
            && fits_in_memory(&model, limits, &mut errors)
        {
            models.push(model);
        }
    }
    if file.models.is_empty() {
        errors.push(
            Diagnostic::error(Span::new(0, 0), "the file defines no model")
                .with_help("a spec starts with `model Name { input [...]; ... }`"),
        );
    }
    if errors.is_empty() {
        Ok(CheckedFile { models })
    } else {
        Err(errors)
    }
}

/// Where a statement sits in the order `input`, layers, settings.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Input,
    Layers,
    Settings,
}

fn section(kind: &StatementKind) -> Section {
    match kind {
        StatementKind::Input(_) => Section::Input,
        StatementKind::Layer(_) => Section::Layers,
        _ => Section::Settings,
    }
}

fn check_model(ast: &ModelAst, errors: &mut Vec<Diagnostic>) -> Option<CheckedModel> {
    let before = errors.len();
    check_model_name(&ast.name, errors);
    check_order(ast, errors);

    let mut input_stmt = None;
    let mut loss_stmt = None;
    let mut optimizer_stmt = None;
    let mut schedule_stmt = None;
    let mut clip_stmt = None;
    let mut decay_stmt = None;
    let mut train_stmt = None;
    let mut data_stmt = None;
    let mut augment_stmt = None;
    let mut layer_asts = Vec::new();
    for stmt in &ast.statements {
        let slot: &mut Option<&Statement> = match &stmt.kind {
            StatementKind::Layer(layer) => {
                layer_asts.push(layer);
                continue;
            }
            StatementKind::Input(_) => &mut input_stmt,
            StatementKind::Loss(_) => &mut loss_stmt,
            StatementKind::Optimizer(_) => &mut optimizer_stmt,
            StatementKind::Schedule(_) => &mut schedule_stmt,
            StatementKind::Clip(_) => &mut clip_stmt,
            StatementKind::WeightDecay(_) => &mut decay_stmt,
            StatementKind::Train(_) => &mut train_stmt,
            StatementKind::Data(_) => &mut data_stmt,
            StatementKind::Augment(_) => &mut augment_stmt,
        };
        match slot {
            Some(first) => errors.push(
                Diagnostic::error(
                    stmt.keyword,
                    format!("`{}` given twice in model `{}`", stmt.kind.keyword(), ast.name.name),
                )
                .with_label("given again here")
                .with_secondary(first.keyword, "first given here")
                .with_help("each of `input`, `loss`, `optimizer`, `schedule`, `clip`, `weight_decay`, `train`, `data` and `augment` appears at most once"),
            ),
            None => *slot = Some(stmt),
        }
    }

    for (keyword, stmt, example) in [
        ("input", &input_stmt, "input [1, 28, 28];"),
        ("loss", &loss_stmt, "loss cross_entropy;"),
        ("optimizer", &optimizer_stmt, "optimizer sgd(lr = 0.01);"),
    ] {
        if stmt.is_none() {
            errors.push(
                Diagnostic::error(
                    ast.close_brace,
                    format!("model `{}` has no `{keyword}` statement", ast.name.name),
                )
                .with_label(format!("`{keyword}` expected before the end of the model"))
                .with_secondary(ast.name.span, "in this model")
                .with_help(format!("add one, for example `{example}`")),
            );
        }
    }

    let input = input_stmt.and_then(|s| match &s.kind {
        StatementKind::Input(value) => input_shape(value, errors),
        _ => None,
    });

    let mut builder = LayerBuilder::new(errors);
    let (layers, output) = builder.build_sequence(&layer_asts, input.clone());
    if layer_asts.is_empty() && input_stmt.is_some() {
        errors.push(
            Diagnostic::error(
                ast.close_brace,
                format!("model `{}` has no layers", ast.name.name),
            )
            .with_secondary(ast.name.span, "in this model")
            .with_help("add layers after `input`, for example `dense(10);`"),
        );
    }

    let loss = loss_stmt.and_then(|s| match &s.kind {
        StatementKind::Loss(call) => training::loss(call, &layers, output.as_ref(), errors),
        _ => None,
    });
    let optimizer = optimizer_stmt.and_then(|s| match &s.kind {
        StatementKind::Optimizer(call) => training::optimizer(call, errors),
        _ => None,
    });
    let schedule = schedule_stmt.and_then(|s| match &s.kind {
        StatementKind::Schedule(call) => {
            training::schedule(call, optimizer.as_ref().map(|o| o.lr), None, errors)
        }
        _ => None,
    });
    let clip = clip_stmt.and_then(|s| match &s.kind {
        StatementKind::Clip(call) => training::clip(call, errors),
        _ => None,
    });
    let weight_decay = match decay_stmt.map(|s| &s.kind) {
        Some(StatementKind::WeightDecay(value)) => training::weight_decay(value, errors),
        _ => Some(0.0),
    };
    if let (Some(opt), Some(stmt)) = (&optimizer, decay_stmt)
        && matches!(opt.kind, OptimizerKind::AdamW { .. })
    {
        errors.push(
                Diagnostic::error(stmt.keyword, "`weight_decay` together with `adamw`")
                    .with_label("L2 weight decay here")
                    .with_secondary(opt.span, "adamw already applies decoupled weight decay")
                    .with_help("set `adamw(weight_decay = ...)` and remove this statement, or use `adam` with `weight_decay`"),
            );
    }
    let train = match train_stmt.map(|s| &s.kind) {
        Some(StatementKind::Train(args)) => {
            // Whether accuracy can be monitored (unknown when the loss has errors).
            let classifier = loss
                .as_ref()
                .map(|l| matches!(l.kind, LossKind::CrossEntropy | LossKind::BinaryCrossEntropy));
            let keyword = train_stmt.map_or(ast.span, |s| s.keyword);
            training::train_settings(args.as_ref(), keyword, classifier, errors)
        }
        _ => Some(TrainSettings::default()),
    };
    let data = match data_stmt.map(|s| &s.kind) {
        Some(StatementKind::Data(args)) => {
            data::data_settings(args.as_ref(), data_stmt.map_or(ast.span, |s| s.keyword), errors)
        }
        _ => Some(DataSettings::default()),
    };
    let augment = match augment_stmt.map(|s| &s.kind) {
        Some(StatementKind::Augment(args)) => {
            let keyword = augment_stmt.map_or(ast.span, |s| s.keyword);
            data::augment(args.as_ref(), keyword, input.as_ref(), errors)
        }
        _ => Some(Augment::NONE),
    };

    if errors.len() > before {
        return None;
    }
    let span = input_stmt.map_or(ast.span, |s| s.span);
    debug_assert!(span.end <= ast.span.end);
    Some(CheckedModel {
        name: ast.name.name.clone(),
        module_name: snake_case(&ast.name.name),
        input: input?,
        layers,
        output: output?,
        loss: loss?,
        optimizer: optimizer?,
        schedule,
        clip,
        weight_decay: weight_decay?,
        train: train?,
        data: DataSettings {
            augment: augment?,
            ..data?
        },
        span: ast.span,
    })
}

/// Whether training `model` at its batch size fits in `limits.max_memory`;
/// if not, an error at the layer where the running total crosses the limit.
fn fits_in_memory(model: &CheckedModel, limits: &Limits, errors: &mut Vec<Diagnostic>) -> bool {
    let batch = model.train.batch;
    let Some((layer, total)) = model
        .training_memory(batch)
        .find(|(_, total)| total.is_none_or(|t| t > limits.max_memory))
    else {
        return true;
    };
    let needs = match total {
        Some(t) => format!("about {}", Bytes(t)),
        None => "more bytes than 64 bits can count".to_string(),
    };
    errors.push(
        Diagnostic::error(
            layer.span,
            format!(
                "model `{}` needs {needs} to train at batch {batch}, more than the limit of {}",
                model.name,
                Bytes(limits.max_memory)
            ),
        )
        .with_label(format!("the total passes the limit at `{}`", layer.name))
        .with_note(format!(
            "the estimate counts the parameters with their gradients and optimizer state, and every layer's outputs with their gradients for a batch of {batch}"
        ))
        .with_help(format!(
            "make this layer smaller or lower `batch`; to allow more, set {MAX_MEMORY_ENV} (e.g. `{MAX_MEMORY_ENV}=64GiB`) or pass `--max-memory`"
        )),
    );
    false
}

/// Rust's keywords in every edition, reserved ones included: a model's
/// module is named after it in snake case, so none of these may be one.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try", "typeof",
    "unsized", "virtual", "yield",
];

/// Names the generated module defines or uses beside the model type
/// (`F`, `Params`, `Workspace`, ...), and prelude types its code names: a
/// model type of one of these names would shadow it.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "F",
    "Params",
    "Workspace",
    "INPUT_LEN",
    "OUTPUT_LEN",
    "Self",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "Vec",
    "Box",
    "String",
];

fn check_model_name(name: &Ident, errors: &mut Vec<Diagnostic>) {
    let starts_upper = name.name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let module = snake_case(&name.name);
    let problem = if !starts_upper {
        Some((
            format!("model name `{}` is not a Rust type name", name.name),
            "expected UpperCamelCase".to_string(),
        ))
    } else if RESERVED_TYPE_NAMES.contains(&name.name.as_str()) {
        Some((
            format!("model name `{}` is taken by the generated code", name.name),
            format!("`{}` is a name the generated module defines or uses", name.name),
        ))
    } else if RUST_KEYWORDS.contains(&module.as_str()) {
        Some((
            format!(
                "model name `{}` gives a module named `{module}`, a Rust keyword",
                name.name
            ),
            "the module is named after the model in snake case".to_string(),
        ))
    } else {
        None
    };
    let Some((message, label)) = problem else {
        return;
    };
    let mut fixed = snake_to_camel(&name.name);
    if fixed.is_empty()
        || RESERVED_TYPE_NAMES.contains(&fixed.as_str())
        || RUST_KEYWORDS.contains(&snake_case(&fixed).as_str())
    {
        fixed = format!("{fixed}Model");
        if fixed == "Model" {
            fixed = "MyModel".into();
        }
    }
    errors.push(
        Diagnostic::error(name.span, message)
            .with_label(label)
            .with_help(format!(
                "call it `{fixed}`; its module will be `{}`",
                snake_case(&fixed)
            )),
    );
}

/// Checks the order `input`, layers, settings, reporting each statement out of place once.
fn check_order(ast: &ModelAst, errors: &mut Vec<Diagnostic>) {
    let mut furthest: Option<(&Statement, Section)> = None;
    for stmt in &ast.statements {
        let here = section(&stmt.kind);
        if let Some((prev, prev_section)) = furthest
            && here < prev_section
        {
            let (message, help) = match here {
                Section::Input => (
                    "`input` must be the first statement of a model".to_string(),
                    "move `input [...];` to the top of the model".to_string(),
                ),
                _ => (
                    format!("layer `{}` after the training settings", layer_name(stmt)),
                    "layers come after `input` and before `loss`, `optimizer` and the other settings"
                        .to_string(),
                ),
            };
            errors.push(
                Diagnostic::error(stmt.keyword, message)
                    .with_label("out of order")
                    .with_secondary(
                        prev.keyword,
                        match &prev.kind {
                            StatementKind::Layer(l) => {
                                format!("layer `{}` comes before it", l.call.name.name)
                            }
                            other => format!("`{}` comes before it", other.keyword()),
                        },
                    )
                    .with_help(help),
            );
            continue;
        }
        if furthest.is_none_or(|(_, s)| here > s) {
            furthest = Some((stmt, here));
        }
    }
}

fn layer_name(stmt: &Statement) -> &str {
    match &stmt.kind {
        StatementKind::Layer(l) => &l.call.name.name,
        other => other.keyword(),
    }
}

fn input_shape(value: &Value, errors: &mut Vec<Diagnostic>) -> Option<Shape> {
    let bad = |what: String| {
        Diagnostic::error(
            value.span,
            format!("`input` must be a shape like `[1, 28, 28]`, found {what}"),
        )
        .with_label("expected a list of sizes")
    };
    let ValueKind::List(items) = &value.kind else {
        let help = match &value.kind {
            ValueKind::Number(n) if n.is_integer => Some(format!("write `input [{}];`", n.text)),
            _ => None,
        };
        errors.push(bad(value.kind.describe()).with_help_opt(help));
        return None;
    };
    if items.is_empty() || items.len() > 3 {
        errors.push(
            Diagnostic::error(
                value.span,
                format!("`input` must have 1 to 3 dimensions, found {}", items.len()),
            )
            .with_label("unsupported rank")
            .with_note("use `[features]` for vectors and `[channels, height, width]` for images; the batch is implicit"),
        );
        return None;
    }
    let mut dims = Vec::new();
    for item in items {
        match &item.kind {
            ValueKind::Number(n) if n.is_integer && n.value >= 1.0 && n.value <= 1e9 => {
                dims.push(n.value as usize)
            }
            ValueKind::Number(n) if n.is_integer => {
                errors.push(
                    Diagnostic::error(
                        item.span,
                        format!("input sizes must be at least 1, found {}", n.text),
                    )
                    .with_label("invalid size"),
                );
                return None;
            }
            other => {
                errors.push(
                    Diagnostic::error(
                        item.span,
                        format!("input sizes must be integers, found {}", other.describe()),
                    )
                    .with_label("not an integer"),
                );
                return None;
            }
        }
    }
    if Shape(dims.clone()).checked_numel().is_none() {
        errors.push(
            Diagnostic::error(
                value.span,
                format!(
                    "the input {} has more elements than a {}-bit size can count",
                    Shape(dims),
                    usize::BITS
                ),
            )
            .with_label("sizes overflow")
            .with_help("use a smaller input; a model must fit in memory to be trained"),
        );
        return None;
    }
    if items.len() == 2 {
        errors.push(
            Diagnostic::error(value.span, "2-D inputs are not supported")
                .with_label("rank 2")
                .with_help(format!(
                    "for images write `[1, {}, {}]` (channels, height, width)",
                    dims[0], dims[1]
                )),
        );
        return None;
    }
    Some(Shape(dims))
}

fn snake_to_camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}
