//! Data sets for training and evaluation: an in-memory [`Dataset`], readers
//! for IDX files ([`idx`], MNIST and Fashion-MNIST) and numeric CSV files
//! ([`csv`]), and deterministic synthetic data ([`synthetic`]).
//!
//! Readers never panic on bad input: every problem with a file comes back as
//! a [`DataError`] naming the file, the position and what was expected.

#[cfg(feature = "csv")]
pub mod csv;
#[cfg(feature = "idx")]
pub mod idx;
#[cfg(feature = "synthetic")]
pub mod synthetic;

use std::fmt;
#[cfg(feature = "gzip")]
use std::io::Read;
use std::path::{Path, PathBuf};

use specc_core::Float;
use specc_train::{Rng, TargetKind, Targets};

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
        })
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

    /// The targets of the gathered samples, as a model takes them.
    pub fn targets(&self) -> Targets<'_, F> {
        if self.values.is_empty() {
            Targets::Classes(&self.classes[..self.len])
        } else {
            Targets::Values(&self.values[..self.len * self.target_len])
        }
    }
}

/// Everything that can go wrong reading or checking data.
#[derive(Debug)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    Io { path: PathBuf, source: std::io::Error },
    /// None of the file names a reader looks for exists.
    MissingFile {
        what: String,
        dir: PathBuf,
        tried: Vec<String>,
    },
    /// The file starts like gzip but does not decompress.
    Gzip { path: PathBuf, message: String },
    /// The file (after decompression) is empty.
    Empty { path: PathBuf },
    /// An IDX file's magic number is not the one expected.
    BadMagic {
        path: PathBuf,
        expected: [u8; 4],
        found: Vec<u8>,
    },
    /// A file ends before the data its header announces.
    Truncated {
        path: PathBuf,
        what: &'static str,
        expected: u64,
        found: u64,
    },
    /// A file holds more bytes than its header announces.
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// An IDX header announces an impossible size.
    BadHeader { path: PathBuf, message: String },
    /// The images and labels files hold different numbers of samples.
    CountMismatch {
        images: PathBuf,
        image_count: usize,
        labels: PathBuf,
        label_count: usize,
    },
    /// A class label is not below the number of classes.
    LabelOutOfRange {
        path: Option<PathBuf>,
        index: usize,
        label: u32,
        classes: usize,
    },
    /// A CSV field is not what was expected there.
    CsvField {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
        expected: std::borrow::Cow<'static, str>,
    },
    /// A CSV row has a different number of columns from the first row.
    CsvColumns {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
        first_line: usize,
    },
    /// A CSV file's bytes are not UTF-8.
    CsvEncoding { path: PathBuf, line: usize },
    /// A CSV file has too few columns for the targets asked for.
    CsvTooFewColumns {
        path: PathBuf,
        columns: usize,
        target_columns: usize,
    },
    /// The data's sample size differs from the model's input size.
    ShapeMismatch { model: Vec<usize>, data: Vec<usize> },
    /// The data's targets are not of the kind the model's loss expects.
    TargetKind { model: &'static str, data: &'static str },
    /// The data has a different number of target values per sample from the
    /// model's output size.
    TargetLength { model: usize, data: usize },
    /// A target of a binary model is neither 0 nor 1.
    NotBinary { index: usize, value: f32 },
    /// No synthetic generator fits the model.
    NoSynthetic {
        input_shape: Vec<usize>,
        targets: String,
    },
    /// An argument or a data set is invalid in some other way.
    Invalid(String),
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            DataError::MissingFile { what, dir, tried } => write!(
                f,
                "no {what} in {}: looked for {}",
                dir.display(),
                tried
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DataError::Gzip { path, message } => {
                write!(
                    f,
                    "{}: starts like a gzip file but does not decompress: {message}",
                    path.display()
                )
            }
            DataError::Empty { path } => write!(f, "{}: the file is empty", path.display()),
            DataError::BadMagic {
                path,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{}: expected the IDX magic number {} at the start, found {}",
                    path.display(),
                    hex(expected),
                    hex(found)
                )?;
                match found.as_slice() {
                    [0, 0, 8, 1] => write!(f, " (a labels file)"),
                    [0, 0, 8, 3] => write!(f, " (an images file)"),
                    _ => Ok(()),
                }
            }
            DataError::Truncated {
                path,
                what,
                expected,
                found,
            } => write!(
                f,
                "{}: truncated {what}: expected {expected} bytes, found {found}",
                path.display()
            ),
            DataError::TrailingBytes {
                path,
                expected,
                found,
            } => write!(
                f,
                "{}: expected {expected} bytes of payload as the header says, found {found} ({} too many)",
                path.display(),
                found.saturating_sub(*expected)
            ),
            DataError::BadHeader { path, message } => {
                write!(f, "{}: bad IDX header: {message}", path.display())
            }
            DataError::CountMismatch {
                images,
                image_count,
                labels,
                label_count,
            } => write!(
                f,
                "{} holds {image_count} images but {} holds {label_count} labels; expected equal counts",
                images.display(),
                labels.display()
            ),
            DataError::LabelOutOfRange {
                path,
                index,
                label,
                classes,
            } => {
                if let Some(p) = path {
                    write!(f, "{}: ", p.display())?;
                }
                write!(
                    f,
                    "label {label} of sample {index} (0-based) is out of range: expected a label below {classes}"
                )
            }
            DataError::CsvField {
                path,
                line,
                column,
                text,
                expected,
            } => write!(
                f,
                "{}:{line}: column {column}: expected {expected}, found `{}`",
                path.display(),
                text.escape_debug()
            ),
            DataError::CsvColumns {
                path,
                line,
                expected,
                found,
                first_line,
            } => {
                write!(
                    f,
                    "{}:{line}: expected {expected} columns as on line {first_line}, found {found}",
                    path.display()
                )?;
                if found < expected {
                    write!(f, " (column {} missing)", found + 1)
                } else {
                    write!(f, " (column {} is extra)", expected + 1)
                }
            }
            DataError::CsvEncoding { path, line } => {
                write!(
                    f,
                    "{}:{line}: expected UTF-8 text, found other bytes",
                    path.display()
                )
            }
            DataError::CsvTooFewColumns {
                path,
                columns,
                target_columns,
            } => write!(
                f,
                "{}: rows have {columns} columns, expected more than the {target_columns} target column(s) \
                 (features first, then targets)",
                path.display()
            ),
            DataError::ShapeMismatch { model, data } => write!(
                f,
                "the model's input has shape {model:?} ({} values) but the data's samples have shape {data:?} \
                 ({} values)",
                model.iter().product::<usize>(),
                data.iter().product::<usize>()
            ),
            DataError::TargetKind { model, data } => {
                write!(
                    f,
                    "the model's loss expects {model} as targets but the data has {data}"
                )
            }
            DataError::TargetLength { model, data } => write!(
                f,
                "the model's output has {model} values per sample but the data has {data} target values per sample"
            ),
            DataError::NotBinary { index, value } => {
                write!(
                    f,
                    "target {value} of sample {index} (0-based) is not 0 or 1 as a binary model expects"
                )
            }
            DataError::NoSynthetic { input_shape, targets } => write!(
                f,
                "no synthetic data fits a model with input shape {input_shape:?} and {targets} targets; \
                 pass --data"
            ),
            DataError::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DataError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing".into();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a whole file, decompressing it if it starts with the gzip magic
/// bytes `1f 8b` (whatever its name).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    maybe_gunzip(raw, path)
}

/// `raw`, or its decompression if it starts with the gzip magic number;
/// `path` names the file in errors.
pub fn maybe_gunzip(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    #[cfg(feature = "gzip")]
    {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| DataError::Gzip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(out)
    }
    #[cfg(not(feature = "gzip"))]
    Err(DataError::Gzip {
        path: path.to_path_buf(),
        message: "the file is gzipped, and specc-harness was built without its `gzip` feature".into(),
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system's temporary directory.
    pub fn temp_dir(name: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("specc-data-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// The shared data directory from `SPECC_DATA`, or a panic saying to set it.
    pub fn shared_data() -> PathBuf {
        match std::env::var_os("SPECC_DATA") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => panic!(
                "set SPECC_DATA to the shared data directory (the one holding mnist/ and digits/), \
                 e.g. SPECC_DATA=/work/shared/data cargo test -p specc-harness -- --ignored"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Dataset {
        let inputs: Vec<f32> = (0..20).map(|i| i as f32).collect();
        Dataset::new(
            inputs,
            vec![2],
            TargetData::Classes(vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0]),
        )
        .unwrap()
    }

    #[test]
    fn new_checks_lengths() {
        assert!(Dataset::new(vec![0.0; 5], vec![2], TargetData::Classes(vec![0, 1])).is_err());
        assert!(Dataset::new(vec![0.0; 4], vec![2], TargetData::Values(vec![0.0; 3], 2)).is_err());
        let d = Dataset::new(vec![0.0; 4], vec![2], TargetData::Values(vec![0.0; 4], 2)).unwrap();
        assert_eq!(d.len, 2);
        assert_eq!(d.classes(), None);
    }

    #[test]
    fn classes_and_counts() {
        let d = small();
        assert_eq!(d.classes(), Some(3));
        assert_eq!(d.class_counts(), Some(vec![4, 3, 3]));
    }

    #[test]
    fn split_is_deterministic_and_partitions() {
        let d = small();
        let (t1, v1) = d.split_validation(0.3, 5).unwrap();
        let (t2, v2) = d.split_validation(0.3, 5).unwrap();
        assert_eq!(t1, t2);
        assert_eq!(v1, v2);
        assert_eq!((t1.len, v1.len), (7, 3));
        let mut firsts: Vec<f32> = t1.inputs.iter().chain(&v1.inputs).step_by(2).copied().collect();
        firsts.sort_by(f32::total_cmp);
        assert_eq!(firsts, (0..10).map(|i| (2 * i) as f32).collect::<Vec<_>>());
        let (_, v3) = d.split_validation(0.3, 6).unwrap();
        assert_ne!(v1, v3);
        let (t0, v0) = d.split_validation(0.0, 1).unwrap();
        assert_eq!((t0.len, v0.len), (10, 0));
        assert!(d.split_validation(1.0, 1).is_err());
        assert!(d.split_validation(f64::NAN, 1).is_err());
    }

    #[test]
    fn gather_into_buffers() {
        let d = small();
        let mut x = [0f64; 4];
        d.gather_inputs(&[3, 0], &mut x);
        assert_eq!(x, [6.0, 7.0, 0.0, 1.0]);
        let mut y = [9u32; 2];
        d.gather_classes(&[2, 4], &mut y);
        assert_eq!(y, [2, 1]);

        let mut batch = Batch::<f32>::new(&d, 4);
        d.gather(&[9, 1, 5], &mut batch);
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.inputs(), &[18.0, 19.0, 2.0, 3.0, 10.0, 11.0]);
        assert!(matches!(batch.targets(), Targets::Classes(&[0, 1, 2])));

        let v = Dataset::new(
            vec![1.0, 2.0, 3.0],
            vec![1],
            TargetData::Values(vec![4.0, 5.0, 6.0], 1),
        )
        .unwrap();
        let mut batch = Batch::<f64>::new(&v, 2);
        v.gather(&[2, 0], &mut batch);
        assert_eq!(batch.inputs(), &[3.0, 1.0]);
        assert!(matches!(batch.targets(), Targets::Values(&[6.0, 4.0])));
    }

    #[test]
    fn validate_for_reports_mismatches() {
        let d = small();
        assert!(
            d.validate_for(&[2], TargetKind::Classes { classes: 3 }, 3)
                .is_ok()
        );
        assert!(
            d.validate_for(&[1, 2], TargetKind::Classes { classes: 3 }, 3)
                .is_ok()
        );
        let e = d
            .validate_for(&[1, 28, 28], TargetKind::Classes { classes: 3 }, 3)
            .unwrap_err();
        assert!(matches!(e, DataError::ShapeMismatch { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains("[1, 28, 28]") && msg.contains("784") && msg.contains("[2]"),
            "{msg}"
        );
        let e = d
            .validate_for(&[2], TargetKind::Classes { classes: 2 }, 2)
            .unwrap_err();
        assert!(
            matches!(
                e,
                DataError::LabelOutOfRange {
                    index: 2,
                    label: 2,
                    classes: 2,
                    ..
                }
            ),
            "{e}"
        );
        let e = d.validate_for(&[2], TargetKind::Values, 1).unwrap_err();
        assert!(matches!(e, DataError::TargetKind { .. }), "{e}");

        let v = Dataset::new(vec![1.0, 2.0], vec![1], TargetData::Values(vec![0.0, 0.5], 1)).unwrap();
        assert!(v.validate_for(&[1], TargetKind::Values, 1).is_ok());
        let e = v.validate_for(&[1], TargetKind::Values, 2).unwrap_err();
        assert!(matches!(e, DataError::TargetLength { model: 2, data: 1 }), "{e}");
        let e = v.validate_for(&[1], TargetKind::Binary, 1).unwrap_err();
        assert!(matches!(e, DataError::NotBinary { index: 1, .. }), "{e}");
        let e = v
            .validate_for(&[1], TargetKind::Classes { classes: 2 }, 2)
            .unwrap_err();
        assert!(e.to_string().contains("class labels"), "{e}");
    }
}
