//! [`Dataset`]: samples and targets in memory, with the checks, splits and
//! views training and evaluation need.

use super::{DataError, Samples, validation_indices};

/// The targets of a data set, one entry (or `per_sample` values) per sample.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetData {
    /// One class index per sample.
    Classes(Vec<u32>),
    /// `len * per_sample` values, sample after sample; the `usize` is the
    /// number of values per sample.
    Values(Vec<f32>, usize),
}

impl TargetData {
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            TargetData::Classes(_) => "class labels",
            TargetData::Values(..) => "real values",
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            TargetData::Classes(c) => c.len(),
            TargetData::Values(v, per) => v.len() / (*per).max(1),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> TargetData {
        match self {
            TargetData::Classes(c) => TargetData::Classes(indices.iter().map(|&i| c[i]).collect()),
            TargetData::Values(v, per) => {
                let mut out = Vec::with_capacity(indices.len() * per);
                for &i in indices {
                    out.extend_from_slice(&v[i * per..(i + 1) * per]);
                }
                TargetData::Values(out, *per)
            }
        }
    }
}

/// Samples held in memory: `len` inputs of `sample_shape` each, row-major,
/// one after another, and their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len * sample_len()` values.
    pub inputs: Vec<f32>,
    /// The shape of one input sample, e.g. `[1, 28, 28]`.
    pub sample_shape: Vec<usize>,
    pub targets: TargetData,
    /// Number of samples.
    pub len: usize,
    /// The name of each class, by label, where the data names them (image
    /// folders, CIFAR-10); empty otherwise.
    pub class_names: Vec<String>,
}

impl Dataset {
    /// A data set after checking that the lengths of `inputs` and `targets`
    /// agree with `sample_shape` and with each other.
    pub fn new(inputs: Vec<f32>, sample_shape: Vec<usize>, targets: TargetData) -> Result<Self, DataError> {
        let len = match &targets {
            TargetData::Classes(c) => c.len(),
            TargetData::Values(v, per) => {
                if *per == 0 {
                    return Err(DataError::Invalid("values per sample must be at least 1".into()));
                }
                if v.len() % per != 0 {
                    return Err(DataError::Invalid(format!(
                        "{} target values is not a multiple of {per} values per sample",
                        v.len()
                    )));
                }
                v.len() / per
            }
        };
        let sample_len: usize = sample_shape.iter().product();
        if sample_len == 0 {
            return Err(DataError::Invalid(format!(
                "sample shape {sample_shape:?} has no values"
            )));
        }
        if inputs.len() != len * sample_len {
            return Err(DataError::Invalid(format!(
                "{} input values for {len} samples of shape {sample_shape:?} (expected {})",
                inputs.len(),
                len * sample_len
            )));
        }
        Ok(Dataset {
            inputs,
            sample_shape,
            targets,
            len,
            class_names: Vec::new(),
        })
    }

    /// This data set with its classes named (`names[label]`).
    pub fn with_class_names(mut self, names: Vec<String>) -> Self {
        self.class_names = names;
        self
    }

    /// The input values of sample `i`.
    pub fn sample(&self, i: usize) -> &[f32] {
        let n = self.sample_len();
        &self.inputs[i * n..(i + 1) * n]
    }

    /// A new data set of the samples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is `>= len`.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let n = self.sample_len();
        let mut inputs = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            inputs.extend_from_slice(self.sample(i));
        }
        Dataset {
            inputs,
            sample_shape: self.sample_shape.clone(),
            targets: self.targets.subset(indices),
            len: indices.len(),
            class_names: self.class_names.clone(),
        }
    }

    /// Splits off `floor(fraction * len)` samples for validation, chosen by a
    /// shuffle seeded with `seed` (the same seed always gives the same split;
    /// both parts keep the original order of their samples). Returns
    /// `(training, validation)`. `fraction` must be in `[0, 1)`.
    pub fn split_validation(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        let (train, val) = validation_indices(self.len, fraction, seed)?;
        Ok((self.subset(&train), self.subset(&val)))
    }
}
