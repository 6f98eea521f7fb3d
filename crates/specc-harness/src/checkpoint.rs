//! Checkpoints in the safetensors format: every named tensor of the model
//! under its own name, every optimizer slot as `optimizer.<slot>.<tensor>`,
//! all f32 little-endian, and string metadata (model name, steps, learning
//! rates, seed, batch size, the trainer's progress: epoch, divergence
//! reference and monitored losses; specc version).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::Dtype;
use specc_train::Model;

use crate::fit::TrainerState;

/// Why a checkpoint could not be read, written or loaded into a model.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a checkpoint of this model, or the model cannot be
    /// saved (a NaN or infinite value).
    #[error("checkpoint {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// The value of the `format` metadata entry.
pub const FORMAT: &str = "specc-checkpoint-1";

/// The training state a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointMeta {
    pub model: String,
    pub steps: u64,
    /// The learning rate of the last step.
    pub learning_rate: f64,
    /// The base learning rate the schedule starts from.
    pub base_learning_rate: f64,
    pub seed: u64,
    pub batch: usize,
    /// Where training stands: epochs completed, the loss divergence is
    /// judged against and the losses a `plateau` schedule watched, so that a
    /// resumed run goes on as an uninterrupted one would.
    pub progress: TrainerState,
    /// The names of the classes the model was trained on, by label, where
    /// its data named them (image folders, CIFAR-10): `specc predict` prints
    /// them. Empty otherwise.
    pub class_names: Vec<String>,
}

/// The name of a slot's tensor in a checkpoint.
pub fn slot_name(slot: &str, tensor: &str) -> String {
    format!("optimizer.{slot}.{tensor}")
}

/// Every (checkpoint name, model tensor, slot) a model of type `M` stores.
fn entries<M: Model>(model: &M) -> Vec<(String, &'static specc_core::TensorInfo, Option<&'static str>)> {
    let mut out: Vec<_> = M::TENSORS.iter().map(|t| (t.name.to_string(), t, None)).collect();
    for &slot in M::OPTIMIZER_SLOTS {
        for t in M::TENSORS.iter().filter(|t| t.role.trainable()) {
            if model.optimizer_state(slot, t.name).is_some() {
                out.push((slot_name(slot, t.name), t, Some(slot)));
            }
        }
    }
    out
}

fn values<'a, M: Model<F = f32>>(model: &'a M, name: &str, slot: Option<&str>) -> &'a [f32] {
    match slot {
        None => model.tensor(name),
        Some(slot) => model.optimizer_state(slot, name),
    }
    .unwrap_or(&[])
}

/// Serialises `model` and `meta`; refuses models holding NaN or infinite values.
pub fn to_bytes<M: Model<F = f32>>(model: &M, meta: &CheckpointMeta) -> Result<Vec<u8>, CheckpointError> {
    let entries = entries(model);
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(entries.len());
    for (name, info, slot) in &entries {
        let v = values(model, info.name, *slot);
        if v.len() != info.len() {
            return Err(CheckpointError::Invalid {
                path: PathBuf::new(),
                message: format!("tensor `{name}` has {} values, expected {}", v.len(), info.len()),
            });
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(CheckpointError::Invalid {
                path: PathBuf::new(),
                message: format!(
                    "refusing to write a checkpoint: tensor `{name}` holds {} at index {i}",
                    v[i]
                ),
            });
        }
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        buffers.push((name.clone(), info.shape.to_vec(), bytes));
    }
    let progress = &meta.progress;
    let losses: Vec<String> = progress
        .monitored_losses
        .iter()
        .map(|l| format!("{l:?}"))
        .collect();
    let mut metadata: BTreeMap<&str, String> = [
        ("format", FORMAT.to_string()),
        ("model", meta.model.clone()),
        ("epoch", progress.epoch.to_string()),
        ("steps", meta.steps.to_string()),
        ("learning_rate", format!("{:?}", meta.learning_rate)),
        ("base_learning_rate", format!("{:?}", meta.base_learning_rate)),
        ("seed", meta.seed.to_string()),
        ("batch", meta.batch.to_string()),
        ("monitored_losses", losses.join(",")),
        ("specc_version", env!("CARGO_PKG_VERSION").to_string()),
    ]
    .into_iter()
    .collect();
    if let Some(reference) = progress.reference_loss {
        metadata.insert("reference_loss", format!("{reference:?}"));
    }
    if let Some((epoch, value)) = progress.best {
        metadata.insert("best_epoch", epoch.to_string());
        metadata.insert("best_value", format!("{value:?}"));
    }
    if !meta.class_names.is_empty() {
        if let Some(bad) = meta.class_names.iter().find(|n| n.contains('\n')) {
            return Err(CheckpointError::Invalid {
                path: PathBuf::new(),
                message: format!("class name {bad:?} holds a line break, which a checkpoint cannot store"),
            });
        }
        metadata.insert("class_names", meta.class_names.join("\n"));
    }
    Ok(serialize(&buffers, &metadata))
}

/// The safetensors layout, written here rather than by the `safetensors`
/// crate, whose metadata is a `HashMap` serialised in a different order on
/// every run: with tensors and metadata in sorted order, one model state is
/// one byte string. (Reading goes through the crate, which checks the
/// layout.) An 8-byte little-endian header length, the JSON header padded
/// with spaces to a multiple of 8, then the tensors' bytes in the header's
/// order.
fn serialize(buffers: &[(String, Vec<usize>, Vec<u8>)], metadata: &BTreeMap<&str, String>) -> Vec<u8> {
    let mut sorted: Vec<&(String, Vec<usize>, Vec<u8>)> = buffers.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = String::from("{\"__metadata__\":{");
    for (i, (key, value)) in metadata.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        header += &format!("{comma}{}:{}", json_string(key), json_string(value));
    }
    header.push('}');
    let mut offset = 0usize;
    for (name, shape, bytes) in &sorted {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        header += &format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            json_string(name),
            dims.join(","),
            offset + bytes.len()
        );
        offset += bytes.len();
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for (_, _, bytes) in sorted {
        out.extend_from_slice(bytes);
    }
    out
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `bytes` to `path` atomically (see [`crate::files::write_atomically`]).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    crate::files::write_atomically(path, bytes).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a checkpoint of `model` to `path` atomically.
pub fn save<M: Model<F = f32>>(path: &Path, model: &M, meta: &CheckpointMeta) -> Result<(), CheckpointError> {
    let bytes = to_bytes(model, meta).map_err(|e| match e {
        CheckpointError::Invalid { message, .. } => CheckpointError::Invalid {
            path: path.to_path_buf(),
            message,
        },
        e => e,
    })?;
    write_atomically(path, &bytes)
}

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// Loads a checkpoint written by [`save`] into `model` (parameters, running
/// statistics, optimizer slots, steps and learning rate) after checking that
/// it belongs to this model: the same name, every tensor present as f32 with
/// the model's shape, and nothing else.
pub fn load<M: Model<F = f32>>(path: &Path, model: &mut M) -> Result<CheckpointMeta, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(&bytes, path, model)
}

/// [`load`] for a checkpoint's bytes; `path` names it in errors.
pub fn load_bytes<M: Model<F = f32>>(
    bytes: &[u8],
    path: &Path,
    model: &mut M,
) -> Result<CheckpointMeta, CheckpointError> {
    let err = |message: String| CheckpointError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let (file, metadata) = open(bytes, path, M::NAME)?;
    let get = |key: &str| entry(&metadata, key, path);
    let model_name = M::NAME.to_string();
    // Every entry is checked here, with the field's name: a resumed run must
    // not train at a rate or batch no run would have written.
    let field = |key: &str, default: Option<String>| -> Result<String, CheckpointError> {
        match (metadata.get(key), default) {
            (Some(t), _) => Ok(t.trim().to_string()),
            (None, Some(d)) => Ok(d),
            (None, None) => get(key).cloned(),
        }
    };
    let bad = |key: &str, text: &str, why: &str| err(format!("metadata `{key}` is `{text}`: {why}"));
    let integer = |key: &str, default: Option<String>, min: u64| -> Result<u64, CheckpointError> {
        let text = field(key, default)?;
        match text.parse::<u64>() {
            Ok(n) if n >= min => Ok(n),
            Ok(_) => Err(bad(key, &text, &format!("it must be at least {min}"))),
            Err(_) => Err(bad(key, &text, "it is not a whole number")),
        }
    };
    let rate = |key: &str, default: Option<String>, zero_ok: bool| -> Result<f64, CheckpointError> {
        let text = field(key, default)?;
        let x: f64 = text.parse().map_err(|_| bad(key, &text, "it is not a number"))?;
        let f = x as f32;
        if !x.is_finite() || !f.is_finite() || x < 0.0 || (!zero_ok && f == 0.0) {
            let want = if zero_ok {
                "a finite number of at least 0"
            } else {
                "a positive finite number"
            };
            return Err(bad(key, &text, &format!("a learning rate must be {want} in f32")));
        }
        Ok(x)
    };
    let epoch = integer("epoch", None, 0)? as usize;
    let steps = integer("steps", None, 0)?;
    let learning_rate = rate("learning_rate", None, true)?;
    let base_learning_rate = rate("base_learning_rate", Some(format!("{learning_rate:?}")), false)?;
    let seed = integer("seed", Some(M::TRAIN.seed.to_string()), 0)?;
    let batch = integer("batch", Some(M::TRAIN.batch.to_string()), 1)? as usize;
    let losses = field("monitored_losses", Some(String::new()))?;
    let monitored_losses = if losses.is_empty() {
        Vec::new()
    } else {
        losses
            .split(',')
            .map(|x| match x.trim().parse::<f64>() {
                Ok(l) if l.is_finite() => Ok(l),
                _ => Err(bad(
                    "monitored_losses",
                    &losses,
                    &format!("`{x}` is not a finite loss"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    if monitored_losses.len() > epoch {
        return Err(bad(
            "monitored_losses",
            &losses,
            &format!("it holds {} losses for {epoch} epochs", monitored_losses.len()),
        ));
    }
    // Absent from checkpoints of earlier versions: the resumed run's first
    // step then sets it, as it did before.
    let reference_loss = match field("reference_loss", Some(String::new()))? {
        text if text.is_empty() => None,
        text => match text.trim().parse::<f64>() {
            Ok(l) if l.is_finite() => Some(l),
            _ => return Err(bad("reference_loss", &text, "it is not a finite loss")),
        },
    };
    // Early stopping's best epoch so far: both entries, or neither.
    let best = match (metadata.get("best_epoch"), metadata.get("best_value")) {
        (None, None) => None,
        (Some(e), Some(v)) => {
            let e = e.trim();
            let best_epoch = match e.parse::<usize>() {
                Ok(b) if b >= 1 && b <= epoch => b,
                _ => {
                    return Err(bad(
                        "best_epoch",
                        e,
                        &format!("it must be an epoch from 1 to {epoch}"),
                    ));
                }
            };
            match v.trim().parse::<f64>() {
                Ok(value) if value.is_finite() => Some((best_epoch, value)),
                _ => return Err(bad("best_value", v, "it is not a finite number")),
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(err(
                "metadata has one of `best_epoch` and `best_value` without the other".to_string(),
            ));
        }
    };
    // One name per line; absent when the data named no classes.
    let class_names = metadata
        .get("class_names")
        .map(|names| names.split('\n').map(String::from).collect())
        .unwrap_or_default();

    let expected = entries(model);
    let wanted: Vec<(&str, &[usize])> = expected
        .iter()
        .map(|(n, info, _)| (n.as_str(), info.shape))
        .collect();
    // Everything is checked before the model changes, so that a bad file
    // leaves it as it was.
    let loaded = tensors(&file, path, M::NAME, &wanted, |_| false)?;
    for ((_, info, slot), data) in expected.iter().zip(loaded) {
        let target = match slot {
            None => model.tensor_mut(info.name),
            Some(slot) => model.optimizer_state_mut(slot, info.name),
        };
        if let Some(target) = target {
            target.copy_from_slice(&data);
        }
    }
    model.set_steps(steps);
    model.set_learning_rate(learning_rate);
    Ok(CheckpointMeta {
        model: model_name,
        steps,
        learning_rate,
        base_learning_rate,
        seed,
        batch,
        progress: TrainerState {
            epoch,
            reference_loss,
            monitored_losses,
            best,
        },
        class_names,
    })
}

/// The model a checkpoint at `path` is of, if it is a readable specc checkpoint.
pub fn model_of(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).ok()?;
    header.metadata().as_ref()?.get("model").cloned()
}

/// Whether two paths name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A checkpoint's tensors and metadata, after checking that it is a specc
/// checkpoint of the model called `model`.
fn open<'a>(
    bytes: &'a [u8],
    path: &Path,
    model: &str,
) -> Result<(safetensors::SafeTensors<'a>, HashMap<String, String>), CheckpointError> {
    let err = |message: String| CheckpointError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let unreadable = |e: safetensors::SafeTensorError| {
        err(format!(
            "not a readable safetensors file (truncated or corrupt?): {e}"
        ))
    };
    let file = safetensors::SafeTensors::deserialize(bytes).map_err(unreadable)?;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(unreadable)?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let get = |key: &str| entry(&metadata, key, path);
    let format = get("format")?;
    if format != FORMAT {
        return Err(err(format!(
            "metadata `format` is `{format}`, but this specc reads `{FORMAT}`"
        )));
    }
    let found = get("model")?;
    if found != model {
        return Err(err(format!(
            "this checkpoint is of model `{found}`, not `{model}`"
        )));
    }
    Ok((file, metadata))
}

/// The metadata entry `key`, or the error that says it is missing.
fn entry<'a>(
    metadata: &'a HashMap<String, String>,
    key: &str,
    path: &Path,
) -> Result<&'a String, CheckpointError> {
    metadata.get(key).ok_or_else(|| CheckpointError::Invalid {
        path: path.to_path_buf(),
        message: format!("the metadata has no `{key}` entry; was this file written by specc?"),
    })
}

/// The values of the `wanted` tensors (name, shape), in that order, each
/// checked to be present, f32, of that shape and finite; any other tensor
/// of the file must be one `ignored` accepts.
fn tensors(
    file: &safetensors::SafeTensors<'_>,
    path: &Path,
    model: &str,
    wanted: &[(&str, &[usize])],
    ignored: impl Fn(&str) -> bool,
) -> Result<Vec<Vec<f32>>, CheckpointError> {
    let err = |message: String| CheckpointError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let names: BTreeSet<&str> = wanted.iter().map(|(n, _)| *n).collect();
    let mut present = file.names();
    present.sort();
    if let Some(extra) = present.into_iter().find(|n| !names.contains(*n) && !ignored(n)) {
        return Err(err(format!(
            "unknown tensor `{extra}`: model `{model}` has no tensor or optimizer slot of that name"
        )));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for &(name, shape) in wanted {
        let view = file
            .tensor(name)
            .map_err(|_| err(format!("tensor `{name}` is missing (model `{model}` needs it)")))?;
        if view.dtype() != Dtype::F32 {
            return Err(err(format!(
                "tensor `{name}` is {:?}, expected F32",
                view.dtype()
            )));
        }
        if view.shape() != shape {
            return Err(err(format!(
                "tensor `{name}` has shape {} in the checkpoint but the model expects {}",
                shape_text(view.shape()),
                shape_text(shape)
            )));
        }
        let data: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(j) = data.iter().position(|x| !x.is_finite()) {
            return Err(err(format!("tensor `{name}` holds {} at index {j}", data[j])));
        }
        out.push(data);
    }
    Ok(out)
}

/// The model's own tensors (parameters and running statistics, no
/// optimizer state) from the checkpoint at `path`, for the model called
/// `model` whose tensors are `wanted` (name, shape), in that order: what
/// inference needs, with the checks of [`load`]. Optimizer slots in the
/// file are skipped.
pub fn read_weights(
    path: &Path,
    model: &str,
    wanted: &[(&str, &[usize])],
) -> Result<Vec<Vec<f32>>, CheckpointError> {
    let bytes = std::fs::read(path).map_err(|source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let (file, _) = open(&bytes, path, model)?;
    tensors(&file, path, model, wanted, |name| name.starts_with("optimizer."))
}

/// Checkpoint load and save as methods of every generated model, with the
/// trait in scope (it is in `specc::prelude`):
///
/// ```text
/// let mut model = mnist_cnn::MnistCnn::load("runs/mnist_cnn/checkpoint.safetensors")?;
/// let probabilities = model.try_predict(images.view())?;
/// model.save("tuned.safetensors")?;
/// ```
pub trait Checkpoint: Model<F = f32> + Sized {
    /// A model with the state of the checkpoint at `path`, as `specc train`
    /// wrote it or [`Checkpoint::save`]: parameters, running statistics,
    /// optimizer state, step count and learning rate, so that it predicts
    /// as the trained model did and can train on. See [`load`] for the checks.
    fn load(path: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let mut model = Self::new(Self::TRAIN.seed);
        load(path.as_ref(), &mut model)?;
        Ok(model)
    }

    /// Writes the model's state to `path` atomically, in the format
    /// `specc train` writes and reads (`--resume`, `--weights`). The
    /// checkpoint records no epochs: [`crate::fit::Trainer`]'s own
    /// checkpoints carry its progress.
    fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let meta = CheckpointMeta {
            model: Self::NAME.to_string(),
            steps: self.steps(),
            learning_rate: self.learning_rate(),
            base_learning_rate: Self::LEARNING_RATE,
            seed: Self::TRAIN.seed,
            batch: Self::TRAIN.batch,
            class_names: Vec::new(),
            progress: TrainerState::default(),
        };
        save(path.as_ref(), self, &meta)
    }
}

impl<M: Model<F = f32>> Checkpoint for M {}
