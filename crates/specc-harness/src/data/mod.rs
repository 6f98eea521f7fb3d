//! Data sets for training and evaluation: [`Samples`], read batch by batch
//! from memory or streamed from files, an in-memory [`Dataset`], readers
//! for IDX files ([`idx`], MNIST and Fashion-MNIST), CIFAR-10's binary files
//! ([`cifar`]), folders of images sorted by class ([`images`]) and numeric
//! CSV files ([`csv`]), and deterministic synthetic data ([`synthetic`]).
//!
//! Readers never panic on bad input: every problem with a file comes back as
//! a [`DataError`] naming the file, the position and what was expected.

pub mod augment;
#[cfg(feature = "cifar")]
pub mod cifar;
#[cfg(feature = "csv")]
pub mod csv;
#[cfg(feature = "idx")]
pub mod idx;
#[cfg(feature = "images")]
pub mod images;
#[cfg(feature = "synthetic")]
pub mod synthetic;

mod batch;
mod dataset;
mod error;
mod samples;

pub use batch::Batch;
pub use dataset::{Dataset, TargetData};
pub use error::DataError;
pub use samples::{Samples, Subset, spread_indices, validation_indices};

/// Which part of a data set published with a fixed split to load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The training part (MNIST's 60,000 samples, CIFAR-10's 50,000).
    Train,
    /// The test part (10,000 samples in both).
    Test,
}

#[cfg(feature = "gzip")]
use std::io::Read;
use std::path::Path;

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

    /// Ten samples of two values (0 to 19 in order) in three classes.
    pub fn small() -> super::Dataset {
        let inputs: Vec<f32> = (0..20).map(|i| i as f32).collect();
        let labels = vec![0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
        super::Dataset::new(inputs, vec![2], super::TargetData::Classes(labels)).unwrap()
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
    use super::test_util::small;
    use super::*;
    use specc_train::{TargetKind, Targets};

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

        let mut batch = Batch::<f32>::new(&d, 4);
        d.gather(&[9, 1, 5], &mut batch).unwrap();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.inputs(), &[18.0, 19.0, 2.0, 3.0, 10.0, 11.0]);
        assert!(matches!(batch.targets(), Targets::Classes(&[0, 1, 2])));

        let v = Dataset::new(
            vec![1.0, 2.0, 3.0],
            vec![1],
            TargetData::Values(vec![4.0, 5.0, 6.0], 1),
        )
        .unwrap();
        let mut batch = Batch::<f32>::new(&v, 2);
        v.gather(&[2, 0], &mut batch).unwrap();
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
