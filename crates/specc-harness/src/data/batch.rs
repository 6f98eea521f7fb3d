//! [`Batch`]: the samples of one step, read from [`Samples`] into buffers
//! that are reused from step to step.

use specc_core::Float;
use specc_train::Targets;

use super::{Dataset, Samples, TargetData};

/// Reusable buffers for one batch, filled by [`Samples::gather`].
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
    pub fn new(data: &(impl Samples + ?Sized), capacity: usize) -> Self {
        let (classes, values) = match data.targets() {
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

    /// Makes this the batch of the samples at `indices`: copies their
    /// targets from `targets` and returns the input buffer to fill.
    /// Allocates nothing.
    ///
    /// # Panics
    /// If `indices.len()` exceeds the capacity, the batch was made for
    /// another target kind, or an index is out of range.
    pub fn fill_targets(&mut self, targets: &TargetData, indices: &[usize]) -> &mut [F] {
        let b = indices.len();
        assert!(
            b <= self.capacity,
            "batch of {b} exceeds capacity {}",
            self.capacity
        );
        match targets {
            TargetData::Classes(labels) => {
                assert!(
                    self.values.is_empty(),
                    "a batch for real-valued targets given class labels"
                );
                for (d, &i) in self.classes[..b].iter_mut().zip(indices) {
                    *d = labels[i];
                }
            }
            TargetData::Values(values, per) => {
                let per = *per;
                assert_eq!(per, self.target_len, "target values per sample");
                for (dst, &i) in self.values[..b * per].chunks_exact_mut(per).zip(indices) {
                    for (d, &s) in dst.iter_mut().zip(&values[i * per..(i + 1) * per]) {
                        *d = F::from_f64(f64::from(s));
                    }
                }
            }
        }
        self.len = b;
        &mut self.inputs[..b * self.sample_len]
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
}
