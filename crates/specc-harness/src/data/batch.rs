//! [`Batch`]: the samples of one step, gathered from a [`Dataset`] into
//! buffers that are reused from step to step.

use specc_core::Float;
use specc_train::Targets;

use super::{Dataset, TargetData};

/// Reusable buffers for one batch, filled by [`Dataset::gather`].
#[derive(Clone, Debug)]
pub struct Batch<F> {
    inputs: Vec<F>,
    classes: Vec<u32>,
    values: Vec<F>,
    sample_len: usize,
    target_len: usize,
    capacity: usize,
    len: usize,
}

impl<F: Float> Batch<F> {
    /// Buffers for up to `capacity` samples of `data`.
    pub fn new(data: &Dataset, capacity: usize) -> Self {
        let (classes, values) = match &data.targets {
            TargetData::Classes(_) => (vec![0; capacity], Vec::new()),
            TargetData::Values(_, per) => (Vec::new(), vec![F::ZERO; capacity * per]),
        };
        Batch {
            inputs: vec![F::ZERO; capacity * data.sample_len()],
            classes,
            values,
            sample_len: data.sample_len(),
            target_len: data.target_len(),
            capacity,
            len: 0,
        }
    }

    /// Number of samples gathered last.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The inputs of the gathered samples.
    pub fn inputs(&self) -> &[F] {
        &self.inputs[..self.len * self.sample_len]
    }

    /// The inputs of the gathered samples, to change in place (augmentation).
    pub fn inputs_mut(&mut self) -> &mut [F] {
        &mut self.inputs[..self.len * self.sample_len]
    }

    /// The targets of the gathered samples, as a model takes them.
    pub fn targets(&self) -> Targets<'_, F> {
        if self.values.is_empty() {
            Targets::Classes(&self.classes[..self.len])
        } else {
            Targets::Values(&self.values[..self.len * self.target_len])
        }
    }
}

/// Gathering samples into batches.
impl Dataset {
    /// Copies the inputs of the samples at `indices` into `out`, converting
    /// to `F`. Allocates nothing.
    ///
    /// # Panics
    /// If `out.len() != indices.len() * sample_len()` or an index is `>= len`.
    pub fn gather_inputs<F: Float>(&self, indices: &[usize], out: &mut [F]) {
        let n = self.sample_len();
        assert_eq!(
            out.len(),
            indices.len() * n,
            "input buffer holds {} values, {} samples of {n} need {}",
            out.len(),
            indices.len(),
            indices.len() * n
        );
        if n == 0 {
            return;
        }
        // Rows scattered over a large data set: two threads keep twice the
        // memory reads in flight (11% of an MLP epoch ran here on one).
        let per = specc_core::par::part_len(indices.len(), (1 << 14) / n + 1, 1);
        let parts = out.chunks_mut(per * n).zip(indices.chunks(per));
        specc_core::par::for_each_part(parts, |_, (out, indices)| {
            specc_core::simd::dispatch(
                #[inline(always)]
                || {
                    for (dst, &i) in out.chunks_exact_mut(n).zip(indices) {
                        for (d, &s) in dst.iter_mut().zip(self.sample(i)) {
                            *d = F::from_f64(f64::from(s));
                        }
                    }
                },
            )
        });
    }

    /// Copies the class labels of the samples at `indices` into `out`.
    /// Allocates nothing.
    ///
    /// # Panics
    /// If the targets are not classes, `out.len() != indices.len()` or an
    /// index is `>= len`.
    pub fn gather_classes(&self, indices: &[usize], out: &mut [u32]) {
        let TargetData::Classes(labels) = &self.targets else {
            panic!("gather_classes on a data set with real-valued targets");
        };
        assert_eq!(out.len(), indices.len(), "label buffer length");
        for (d, &i) in out.iter_mut().zip(indices) {
            *d = labels[i];
        }
    }

    /// Copies the target values of the samples at `indices` into `out`,
    /// converting to `F`. Allocates nothing.
    ///
    /// # Panics
    /// If the targets are classes, `out.len() != indices.len() * target_len()`
    /// or an index is `>= len`.
    pub fn gather_values<F: Float>(&self, indices: &[usize], out: &mut [F]) {
        let TargetData::Values(values, per) = &self.targets else {
            panic!("gather_values on a data set with class targets");
        };
        let per = *per;
        assert_eq!(out.len(), indices.len() * per, "value buffer length");
        for (dst, &i) in out.chunks_exact_mut(per).zip(indices) {
            for (d, &s) in dst.iter_mut().zip(&values[i * per..(i + 1) * per]) {
                *d = F::from_f64(f64::from(s));
            }
        }
    }

    /// Gathers inputs and targets of the samples at `indices` into `batch`,
    /// whose buffers are sized once (see [`Batch::new`]). Allocates nothing.
    ///
    /// # Panics
    /// If `indices.len()` exceeds the batch's capacity, the batch was made for
    /// a data set of another sample size or target kind, or an index is
    /// `>= len`.
    pub fn gather<F: Float>(&self, indices: &[usize], batch: &mut Batch<F>) {
        let b = indices.len();
        assert!(
            b <= batch.capacity,
            "batch of {b} exceeds capacity {}",
            batch.capacity
        );
        self.gather_inputs(indices, &mut batch.inputs[..b * self.sample_len()]);
        match &self.targets {
            TargetData::Classes(_) => self.gather_classes(indices, &mut batch.classes[..b]),
            TargetData::Values(_, per) => self.gather_values(indices, &mut batch.values[..b * per]),
        }
        batch.len = b;
    }
}
