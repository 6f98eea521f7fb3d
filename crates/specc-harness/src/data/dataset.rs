//! [`Dataset`]: samples and targets in memory, with the checks, splits and
//! views training and evaluation need.

use specc_train::{Rng, TargetKind};

use super::DataError;

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
    fn kind_name(&self) -> &'static str {
        match self {
            TargetData::Classes(_) => "class labels",
            TargetData::Values(..) => "real values",
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

    /// The name of class `label`: its name where the data has one, else the
    /// label's number.
    pub fn class_name(&self, label: usize) -> String {
        self.class_names
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_string())
    }

    /// Number of input values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of target values per sample: 1 for class labels.
    pub fn target_len(&self) -> usize {
        match &self.targets {
            TargetData::Classes(_) => 1,
            TargetData::Values(_, per) => *per,
        }
    }

    /// For class targets, the number of classes (largest label + 1, 0 when
    /// empty); `None` for real-valued targets.
    pub fn classes(&self) -> Option<usize> {
        match &self.targets {
            TargetData::Classes(c) => Some(c.iter().max().map_or(0, |&m| m as usize + 1)),
            TargetData::Values(..) => None,
        }
    }

    /// For class targets, how many samples each class has (index = label).
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let TargetData::Classes(labels) = &self.targets else {
            return None;
        };
        let mut counts = vec![0; self.classes().unwrap_or(0)];
        for &l in labels {
            counts[l as usize] += 1;
        }
        Some(counts)
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
        let targets = match &self.targets {
            TargetData::Classes(c) => TargetData::Classes(indices.iter().map(|&i| c[i]).collect()),
            TargetData::Values(v, per) => {
                let mut out = Vec::with_capacity(indices.len() * per);
                for &i in indices {
                    out.extend_from_slice(&v[i * per..(i + 1) * per]);
                }
                TargetData::Values(out, *per)
            }
        };
        Dataset {
            inputs,
            sample_shape: self.sample_shape.clone(),
            targets,
            len: indices.len(),
            class_names: self.class_names.clone(),
        }
    }

    /// Splits off `floor(fraction * len)` samples for validation, chosen by a
    /// shuffle seeded with `seed` (the same seed always gives the same split;
    /// both parts keep the original order of their samples). Returns
    /// `(training, validation)`. `fraction` must be in `[0, 1)`.
    pub fn split_validation(&self, fraction: f64, seed: u64) -> Result<(Dataset, Dataset), DataError> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(DataError::Invalid(format!(
                "validation fraction must be at least 0 and less than 1, got {fraction}"
            )));
        }
        let n_val = ((fraction * self.len as f64).floor() as usize).min(self.len);
        let mut order: Vec<usize> = (0..self.len).collect();
        Rng::derive(seed, "validation split").shuffle(&mut order);
        let mut is_val = vec![false; self.len];
        for &i in &order[..n_val] {
            is_val[i] = true;
        }
        let train: Vec<usize> = (0..self.len).filter(|&i| !is_val[i]).collect();
        let val: Vec<usize> = (0..self.len).filter(|&i| is_val[i]).collect();
        Ok((self.subset(&train), self.subset(&val)))
    }

    /// Checks that this data set fits a model with inputs of `input_shape`
    /// (compared by number of values), targets of kind `targets` and
    /// `output_len` values per output.
    pub fn validate_for(
        &self,
        input_shape: &[usize],
        targets: TargetKind,
        output_len: usize,
    ) -> Result<(), DataError> {
        if self.is_empty() {
            return Err(DataError::Invalid("the data set has no samples".into()));
        }
        let model_len: usize = input_shape.iter().product();
        if model_len != self.sample_len() {
            return Err(DataError::ShapeMismatch {
                model: input_shape.to_vec(),
                data: self.sample_shape.clone(),
            });
        }
        match (targets, &self.targets) {
            (TargetKind::Classes { classes }, TargetData::Classes(labels)) => {
                if let Some((index, &label)) =
                    labels.iter().enumerate().find(|(_, l)| **l as usize >= classes)
                {
                    return Err(DataError::LabelOutOfRange {
                        path: None,
                        index,
                        label,
                        classes,
                    });
                }
            }
            (TargetKind::Binary, TargetData::Values(values, per)) => {
                if *per != output_len {
                    return Err(DataError::TargetLength {
                        model: output_len,
                        data: *per,
                    });
                }
                if let Some((i, &v)) = values.iter().enumerate().find(|(_, v)| **v != 0.0 && **v != 1.0) {
                    return Err(DataError::NotBinary {
                        index: i / per,
                        value: v,
                    });
                }
            }
            (TargetKind::Values, TargetData::Values(_, per)) => {
                if *per != output_len {
                    return Err(DataError::TargetLength {
                        model: output_len,
                        data: *per,
                    });
                }
            }
            (kind, data) => {
                return Err(DataError::TargetKind {
                    model: match kind {
                        TargetKind::Classes { .. } => "class labels",
                        TargetKind::Binary => "0/1 values",
                        TargetKind::Values => "real values",
                    },
                    data: data.kind_name(),
                });
            }
        }
        Ok(())
    }
}
