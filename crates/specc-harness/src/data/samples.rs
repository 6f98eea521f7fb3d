//! [`Samples`]: what training and evaluation read batch by batch, whether
//! the inputs are held in memory ([`Dataset`]) or read from files when a
//! batch needs them (an image folder's
//! [`ImageStream`](super::images::ImageStream), a CSV file's
//! [`CsvStream`](super::csv::CsvStream)), and [`Subset`], a selection of
//! another source's samples without copying them.
//!
//! Targets are always in memory: a label or a few values per sample, next
//! to inputs of hundreds or thousands of values.

use std::sync::Arc;

use specc_train::{Rng, TargetKind};

use super::{Batch, DataError, Dataset, TargetData};

/// A data set a trainer reads batch by batch. Reading the same indices
/// gives the same values every time, on any thread.
pub trait Samples: Send + Sync {
    /// The shape of one input sample, e.g. `[1, 28, 28]`.
    fn sample_shape(&self) -> &[usize];

    /// The targets of every sample.
    fn targets(&self) -> &TargetData;

    /// The name of each class, by label, where the data names them; empty
    /// otherwise.
    fn class_names(&self) -> &[String];

    /// Writes the inputs of the samples at `indices` into `out`, one after
    /// another (`out.len() == indices.len() * sample_len()`).
    ///
    /// # Panics
    /// If `out` has another length or an index is `>= len()`.
    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError>;

    /// Whether reading inputs is slow enough (decoding files) that a
    /// trainer should read the next batches on another thread while the
    /// model steps.
    fn is_streamed(&self) -> bool {
        false
    }

    /// Number of samples.
    fn len(&self) -> usize {
        self.targets().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of input values per sample.
    fn sample_len(&self) -> usize {
        self.sample_shape().iter().product()
    }

    /// Number of target values per sample: 1 for class labels.
    fn target_len(&self) -> usize {
        match self.targets() {
            TargetData::Classes(_) => 1,
            TargetData::Values(_, per) => *per,
        }
    }

    /// For class targets, the number of classes (largest label + 1, 0 when
    /// empty); `None` for real-valued targets.
    fn classes(&self) -> Option<usize> {
        match self.targets() {
            TargetData::Classes(c) => Some(c.iter().max().map_or(0, |&m| m as usize + 1)),
            TargetData::Values(..) => None,
        }
    }

    /// For class targets, how many samples each class has (index = label).
    fn class_counts(&self) -> Option<Vec<usize>> {
        let TargetData::Classes(labels) = self.targets() else {
            return None;
        };
        let mut counts = vec![0; self.classes().unwrap_or(0)];
        for &l in labels {
            counts[l as usize] += 1;
        }
        Some(counts)
    }

    /// The name of class `label`: its name where the data has one, else the
    /// label's number.
    fn class_name(&self, label: usize) -> String {
        self.class_names()
            .get(label)
            .cloned()
            .unwrap_or_else(|| label.to_string())
    }

    /// Reads inputs and targets of the samples at `indices` into `batch`,
    /// whose buffers are sized once (see [`Batch::new`]). An in-memory
    /// source allocates nothing.
    ///
    /// # Panics
    /// If `indices.len()` exceeds the batch's capacity, the batch was made for
    /// samples of another size or target kind, or an index is `>= len()`.
    fn gather(&self, indices: &[usize], batch: &mut Batch<f32>) -> Result<(), DataError> {
        let inputs = batch.fill_targets(self.targets(), indices);
        self.read_inputs(indices, inputs)
    }

    /// Checks that the samples fit a model with inputs of `input_shape`
    /// (compared by number of values), targets of kind `targets` and
    /// `output_len` values per output.
    fn validate_for(
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
                data: self.sample_shape().to_vec(),
            });
        }
        match (targets, self.targets()) {
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

impl Samples for Dataset {
    fn sample_shape(&self) -> &[usize] {
        &self.sample_shape
    }

    fn targets(&self) -> &TargetData {
        &self.targets
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }

    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError> {
        self.gather_inputs(indices, out);
        Ok(())
    }
}

impl<S: Samples + ?Sized> Samples for Arc<S> {
    fn sample_shape(&self) -> &[usize] {
        (**self).sample_shape()
    }

    fn targets(&self) -> &TargetData {
        (**self).targets()
    }

    fn class_names(&self) -> &[String] {
        (**self).class_names()
    }

    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError> {
        (**self).read_inputs(indices, out)
    }

    fn is_streamed(&self) -> bool {
        (**self).is_streamed()
    }
}

/// The samples of `source` at `indices`, in that order, read from `source`
/// when a batch needs them.
#[derive(Clone, Debug)]
pub struct Subset<S> {
    source: S,
    indices: Vec<usize>,
    targets: TargetData,
}

impl<S: Samples> Subset<S> {
    /// # Panics
    /// If an index is `>= source.len()`.
    pub fn new(source: S, indices: Vec<usize>) -> Self {
        let targets = source.targets().subset(&indices);
        Subset {
            source,
            indices,
            targets,
        }
    }
}

impl<S: Samples> Samples for Subset<S> {
    fn sample_shape(&self) -> &[usize] {
        self.source.sample_shape()
    }

    fn targets(&self) -> &TargetData {
        &self.targets
    }

    fn class_names(&self) -> &[String] {
        self.source.class_names()
    }

    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError> {
        // In chunks of a fixed size, so that nothing is allocated.
        const CHUNK: usize = 64;
        let n = self.sample_len();
        let mut mapped = [0usize; CHUNK];
        for (indices, out) in indices.chunks(CHUNK).zip(out.chunks_mut(CHUNK * n)) {
            for (m, &i) in mapped.iter_mut().zip(indices) {
                *m = self.indices[i];
            }
            self.source.read_inputs(&mapped[..indices.len()], out)?;
        }
        Ok(())
    }

    fn is_streamed(&self) -> bool {
        self.source.is_streamed()
    }
}

/// The indices of a validation split of `len` samples: `floor(fraction *
/// len)` of them chosen by a shuffle seeded with `seed` (the same seed
/// always gives the same split), the rest for training, each part in the
/// original order. Returns `(training, validation)`; `fraction` must be in
/// `[0, 1)`.
pub fn validation_indices(
    len: usize,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(DataError::Invalid(format!(
            "validation fraction must be at least 0 and less than 1, got {fraction}"
        )));
    }
    let n_val = ((fraction * len as f64).floor() as usize).min(len);
    let mut order: Vec<usize> = (0..len).collect();
    Rng::derive(seed, "validation split").shuffle(&mut order);
    let mut is_val = vec![false; len];
    for &i in &order[..n_val] {
        is_val[i] = true;
    }
    let train = (0..len).filter(|&i| !is_val[i]).collect();
    let val = (0..len).filter(|&i| is_val[i]).collect();
    Ok((train, val))
}

/// `n` indices spread evenly over `0..len` (all of them when `n >= len`):
/// a smaller set that keeps the classes of a set stored class after class.
pub fn spread_indices(len: usize, n: usize) -> Vec<usize> {
    if n >= len {
        return (0..len).collect();
    }
    (0..n).map(|i| i * len / n).collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::small;
    use super::*;

    #[test]
    fn a_subset_reads_its_source_and_matches_a_copied_subset() {
        let d = Arc::new(small());
        let picks = vec![9, 2, 2, 5];
        let view = Subset::new(Arc::clone(&d), picks.clone());
        let copy = d.subset(&picks);
        assert_eq!(view.targets(), &copy.targets);
        assert_eq!(view.len(), 4);
        let mut a = vec![0.0; 6];
        view.read_inputs(&[3, 0, 1], &mut a).unwrap();
        let mut b = vec![0.0; 6];
        copy.read_inputs(&[3, 0, 1], &mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, [10.0, 11.0, 18.0, 19.0, 4.0, 5.0]);
        // More indices than one chunk.
        let long: Vec<usize> = (0..150).map(|i| i % 4).collect();
        let (mut a, mut b) = (vec![0.0; 300], vec![0.0; 300]);
        view.read_inputs(&long, &mut a).unwrap();
        copy.read_inputs(&long, &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn spread_indices_keep_every_class_of_a_sorted_set() {
        assert_eq!(spread_indices(10, 20), (0..10).collect::<Vec<_>>());
        assert_eq!(spread_indices(10, 5), [0, 2, 4, 6, 8]);
        let labels: Vec<usize> = (0..100).map(|i| i / 10).collect();
        let picked: std::collections::BTreeSet<usize> =
            spread_indices(100, 20).iter().map(|&i| labels[i]).collect();
        assert_eq!(picked.len(), 10);
    }
}
