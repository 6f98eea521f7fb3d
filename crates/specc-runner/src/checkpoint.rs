//! Checkpoints in the safetensors format: every named tensor of the model
//! under its own name, every optimizer slot as `optimizer.<slot>.<tensor>`,
//! all f32 little-endian, and string metadata (model name, epoch, steps,
//! learning rates, seed, batch size, specc version).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};
use specc_runtime::Model;

use crate::RunnerError;

/// The value of the `format` metadata entry.
pub const FORMAT: &str = "specc-checkpoint-1";

/// The training state a checkpoint records besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointMeta {
    pub model: String,
    /// Epochs completed.
    pub epoch: usize,
    pub steps: u64,
    /// The learning rate of the last step.
    pub learning_rate: f64,
    /// The base learning rate the schedule starts from.
    pub base_learning_rate: f64,
    pub seed: u64,
    pub batch: usize,
    /// The loss a `plateau` schedule watched at the end of each epoch so far,
    /// so that resuming rebuilds its state.
    pub monitored_losses: Vec<f64>,
}

/// The name of a slot's tensor in a checkpoint.
pub fn slot_name(slot: &str, tensor: &str) -> String {
    format!("optimizer.{slot}.{tensor}")
}

/// Every (checkpoint name, model tensor, slot) a model of type `M` stores.
fn entries<M: Model>(model: &M) -> Vec<(String, &'static specc_runtime::TensorInfo, Option<&'static str>)> {
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
pub fn to_bytes<M: Model<F = f32>>(model: &M, meta: &CheckpointMeta) -> Result<Vec<u8>, RunnerError> {
    let entries = entries(model);
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(entries.len());
    for (name, info, slot) in &entries {
        let v = values(model, info.name, *slot);
        if v.len() != info.len() {
            return Err(RunnerError::Checkpoint {
                path: PathBuf::new(),
                message: format!("tensor `{name}` has {} values, expected {}", v.len(), info.len()),
            });
        }
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(RunnerError::Checkpoint {
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
    let mut views = Vec::with_capacity(buffers.len());
    for (name, shape, bytes) in &buffers {
        let view =
            TensorView::new(Dtype::F32, shape.clone(), bytes).map_err(|e| RunnerError::Checkpoint {
                path: PathBuf::new(),
                message: format!("tensor `{name}`: {e}"),
            })?;
        views.push((name.clone(), view));
    }
    let losses: Vec<String> = meta.monitored_losses.iter().map(|l| format!("{l:?}")).collect();
    let metadata: HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        ("model", meta.model.clone()),
        ("epoch", meta.epoch.to_string()),
        ("steps", meta.steps.to_string()),
        ("learning_rate", format!("{:?}", meta.learning_rate)),
        ("base_learning_rate", format!("{:?}", meta.base_learning_rate)),
        ("seed", meta.seed.to_string()),
        ("batch", meta.batch.to_string()),
        ("monitored_losses", losses.join(",")),
        ("specc_version", env!("CARGO_PKG_VERSION").to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| RunnerError::Checkpoint {
        path: PathBuf::new(),
        message: format!("could not serialise: {e}"),
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// and a rename, so that `path` is always either the old or the new file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunnerError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp"));
    let io = |path: &Path, source| RunnerError::Io {
        path: path.to_path_buf(),
        source,
    };
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| io(&tmp, e))?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Writes a checkpoint of `model` to `path` atomically.
pub fn save<M: Model<F = f32>>(path: &Path, model: &M, meta: &CheckpointMeta) -> Result<(), RunnerError> {
    let bytes = to_bytes(model, meta).map_err(|e| match e {
        RunnerError::Checkpoint { message, .. } => RunnerError::Checkpoint {
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
pub fn load<M: Model<F = f32>>(path: &Path, model: &mut M) -> Result<CheckpointMeta, RunnerError> {
    let err = |message: String| RunnerError::Checkpoint {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| RunnerError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        err(format!(
            "not a readable safetensors file (truncated or corrupt?): {e}"
        ))
    })?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| {
        err(format!(
            "not a readable safetensors file (truncated or corrupt?): {e}"
        ))
    })?;
    let empty = HashMap::new();
    let metadata = header.metadata().as_ref().unwrap_or(&empty);
    let get = |key: &str| {
        metadata.get(key).ok_or_else(|| {
            err(format!(
                "the metadata has no `{key}` entry; was this file written by specc?"
            ))
        })
    };
    let model_name = get("model")?.clone();
    if model_name != M::NAME {
        return Err(err(format!(
            "this checkpoint is of model `{model_name}`, not `{}`",
            M::NAME
        )));
    }
    fn parse<T: std::str::FromStr>(
        key: &str,
        text: &str,
        err: &dyn Fn(String) -> RunnerError,
    ) -> Result<T, RunnerError> {
        text.trim().parse().map_err(|_| {
            err(format!(
                "metadata `{key}` is `{text}`, which is not a valid number"
            ))
        })
    }
    let epoch: usize = parse("epoch", get("epoch")?, &err)?;
    let steps: u64 = parse("steps", get("steps")?, &err)?;
    let learning_rate: f64 = parse("learning_rate", get("learning_rate")?, &err)?;
    let base_learning_rate: f64 = match metadata.get("base_learning_rate") {
        Some(t) => parse("base_learning_rate", t, &err)?,
        None => learning_rate,
    };
    let seed: u64 = match metadata.get("seed") {
        Some(t) => parse("seed", t, &err)?,
        None => M::TRAIN.seed,
    };
    let batch: usize = match metadata.get("batch") {
        Some(t) => parse("batch", t, &err)?,
        None => M::TRAIN.batch,
    };
    let monitored_losses = match metadata.get("monitored_losses") {
        Some(t) if !t.trim().is_empty() => t
            .split(',')
            .map(|x| parse::<f64>("monitored_losses", x, &err))
            .collect::<Result<Vec<_>, _>>()?,
        _ => Vec::new(),
    };

    let expected = entries(model);
    let expected_names: BTreeSet<&str> = expected.iter().map(|(n, ..)| n.as_str()).collect();
    if let Some(extra) = file.names().into_iter().find(|n| !expected_names.contains(n)) {
        return Err(err(format!(
            "unknown tensor `{extra}`: model `{}` has no tensor or optimizer slot of that name",
            M::NAME
        )));
    }
    // Check everything before changing the model, so that a bad file leaves it as it was.
    let mut loaded: Vec<(usize, Vec<f32>)> = Vec::with_capacity(expected.len());
    for (i, (name, info, _)) in expected.iter().enumerate() {
        let view = file.tensor(name).map_err(|_| {
            err(format!(
                "tensor `{name}` is missing (model `{}` needs it)",
                M::NAME
            ))
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(err(format!(
                "tensor `{name}` is {:?}, expected F32",
                view.dtype()
            )));
        }
        if view.shape() != info.shape {
            return Err(err(format!(
                "tensor `{name}` has shape {} in the checkpoint but the model expects {}",
                shape_text(view.shape()),
                shape_text(info.shape)
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
        loaded.push((i, data));
    }
    for (i, data) in loaded {
        let (_, info, slot) = &expected[i];
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
        epoch,
        steps,
        learning_rate,
        base_learning_rate,
        seed,
        batch,
        monitored_losses,
    })
}
