//! IDX files (the format of MNIST and Fashion-MNIST), gzipped or plain.
//!
//! A file is the magic number `00 00 08 NN` (unsigned bytes, `NN`
//! dimensions), one big-endian `u32` per dimension, then the payload of
//! exactly the product of the dimensions in bytes.

use std::path::{Path, PathBuf};

pub use super::Split;
use super::{DataError, Dataset, TargetData, read_maybe_gzip};

const IMAGES_MAGIC: [u8; 4] = [0, 0, 8, 3];
const LABELS_MAGIC: [u8; 4] = [0, 0, 8, 1];

/// Images from an IDX file, scaled to `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    pub count: usize,
    pub rows: usize,
    pub cols: usize,
    /// `count * rows * cols` values, row-major, image after image.
    pub pixels: Vec<f32>,
}

/// The prefix of MNIST's file names for `split`.
fn prefix(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Test => "t10k",
    }
}

/// Parses an IDX file of unsigned bytes with the given magic number; returns
/// the dimensions and the payload. `path` names the file in errors.
fn parse_idx(bytes: Vec<u8>, path: &Path, magic: [u8; 4]) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let p = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(DataError::Empty { path: p() });
    }
    if bytes.len() < 4 || bytes[..4] != magic {
        return Err(DataError::BadMagic {
            path: p(),
            expected: magic,
            found: bytes[..bytes.len().min(4)].to_vec(),
        });
    }
    let ndim = usize::from(magic[3]);
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(DataError::Truncated {
            path: p(),
            what: "header",
            expected: header as u64,
            found: bytes.len() as u64,
        });
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if dims[0] == 0 {
        return Err(DataError::BadHeader {
            path: p(),
            message: "its header counts 0 samples".to_string(),
        });
    }
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| DataError::BadHeader {
            path: p(),
            message: format!("dimensions {dims:?} are too large"),
        })?;
    let found = (bytes.len() - header) as u64;
    if found < expected {
        return Err(DataError::Truncated {
            path: p(),
            what: "payload",
            expected,
            found,
        });
    }
    if found > expected {
        return Err(DataError::TrailingBytes {
            path: p(),
            expected,
            found,
        });
    }
    let mut payload = bytes;
    payload.drain(..header);
    Ok((dims, payload))
}

/// Reads an IDX images file (magic `00 00 08 03`), gzipped or plain, and
/// scales the pixels from `0..=255` to `[0, 1]`.
pub fn read_images(path: impl AsRef<Path>) -> Result<Images, DataError> {
    let path = path.as_ref();
    parse_images(read_maybe_gzip(path)?, path)
}

/// [`read_images`] for a file's bytes (decompressed); `path` names it in errors.
pub fn parse_images(bytes: Vec<u8>, path: &Path) -> Result<Images, DataError> {
    let (dims, payload) = parse_idx(bytes, path, IMAGES_MAGIC)?;
    if dims[1] == 0 || dims[2] == 0 {
        return Err(DataError::BadHeader {
            path: path.to_path_buf(),
            message: format!("images of {} x {} pixels", dims[1], dims[2]),
        });
    }
    let pixels = payload.iter().map(|&b| f32::from(b) / 255.0).collect();
    Ok(Images {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels,
    })
}

/// Reads an IDX labels file (magic `00 00 08 01`), gzipped or plain.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u32>, DataError> {
    let path = path.as_ref();
    parse_labels(read_maybe_gzip(path)?, path)
}

/// [`read_labels`] for a file's bytes (decompressed); `path` names it in errors.
pub fn parse_labels(bytes: Vec<u8>, path: &Path) -> Result<Vec<u32>, DataError> {
    let (_, payload) = parse_idx(bytes, path, LABELS_MAGIC)?;
    Ok(payload.into_iter().map(u32::from).collect())
}

/// The first of `names` that exists in `dir`, each tried plain and gzipped.
fn find(dir: &Path, what: &str, names: &[String]) -> Result<PathBuf, DataError> {
    let mut tried = Vec::new();
    for name in names {
        for candidate in [format!("{name}.gz"), name.clone()] {
            let path = dir.join(&candidate);
            if path.is_file() {
                return Ok(path);
            }
            tried.push(candidate);
        }
    }
    Err(DataError::MissingFile {
        what: what.to_string(),
        dir: dir.to_path_buf(),
        tried,
    })
}

/// Loads the images and labels of MNIST (or Fashion-MNIST, whose files have
/// the same names) from `dir`: `train-images-idx3-ubyte(.gz)` and
/// `train-labels-idx1-ubyte(.gz)` (also spelt `train-images.idx3-ubyte`), or
/// the `t10k-` files. Samples have shape `[1, rows, cols]` (`[1, 28, 28]`),
/// labels are checked to be below 10.
pub fn load_mnist(dir: impl AsRef<Path>, split: Split) -> Result<Dataset, DataError> {
    let dir = dir.as_ref();
    let prefix = prefix(split);
    let half = match split {
        Split::Train => "training",
        Split::Test => "test",
    };
    let images_path = find(
        dir,
        &format!("MNIST {half} images"),
        &[
            format!("{prefix}-images-idx3-ubyte"),
            format!("{prefix}-images.idx3-ubyte"),
        ],
    )?;
    let labels_path = find(
        dir,
        &format!("MNIST {half} labels"),
        &[
            format!("{prefix}-labels-idx1-ubyte"),
            format!("{prefix}-labels.idx1-ubyte"),
        ],
    )?;
    let images = read_images(&images_path)?;
    let labels = read_labels(&labels_path)?;
    if images.count != labels.len() {
        return Err(DataError::CountMismatch {
            images: images_path,
            image_count: images.count,
            labels: labels_path,
            label_count: labels.len(),
        });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l >= 10) {
        return Err(DataError::LabelOutOfRange {
            path: Some(labels_path),
            index,
            label,
            classes: 10,
        });
    }
    Dataset::new(
        images.pixels,
        vec![1, images.rows, images.cols],
        TargetData::Classes(labels),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, shared_data, temp_dir};
    use super::*;
    use crate::data::Samples as _;

    fn idx(magic: [u8; 4], dims: &[u32], payload: &[u8]) -> Vec<u8> {
        let mut v = magic.to_vec();
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    fn images_bytes(count: u32) -> Vec<u8> {
        let payload: Vec<u8> = (0..count * 6).map(|i| (i * 17 % 256) as u8).collect();
        idx(IMAGES_MAGIC, &[count, 2, 3], &payload)
    }

    fn labels_bytes(labels: &[u8]) -> Vec<u8> {
        idx(LABELS_MAGIC, &[labels.len() as u32], labels)
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn round_trip_plain_and_gzipped() {
        for gz in [false, true] {
            let dir = temp_dir("idx-round-trip");
            let enc = |b: Vec<u8>| if gz { gzip(&b) } else { b };
            let suffix = if gz { ".gz" } else { "" };
            write(
                &dir,
                &format!("train-images-idx3-ubyte{suffix}"),
                &enc(images_bytes(4)),
            );
            write(
                &dir,
                &format!("train-labels-idx1-ubyte{suffix}"),
                &enc(labels_bytes(&[3, 0, 9, 1])),
            );
            let d = load_mnist(&dir, Split::Train).unwrap();
            assert_eq!(d.len, 4);
            assert_eq!(d.sample_shape, vec![1, 2, 3]);
            assert_eq!(d.targets, TargetData::Classes(vec![3, 0, 9, 1]));
            let expected: Vec<f32> = (0..24u32).map(|i| (i * 17 % 256) as f32 / 255.0).collect();
            assert_eq!(d.inputs, expected);
            assert!(d.inputs.iter().all(|&x| (0.0..=1.0).contains(&x)));
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }

    #[test]
    fn gzip_detected_by_magic_not_name_and_other_spelling() {
        let dir = temp_dir("idx-spelling");
        // gzipped content under plain names, dotted spelling
        write(&dir, "t10k-images.idx3-ubyte", &gzip(&images_bytes(2)));
        write(&dir, "t10k-labels.idx1-ubyte", &labels_bytes(&[5, 6]));
        let d = load_mnist(&dir, Split::Test).unwrap();
        assert_eq!(d.len, 2);
        assert_eq!(d.classes(), Some(7));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_of_no_samples_is_named() {
        let dir = temp_dir("idx-empty");
        let p = write(&dir, "none-labels", &labels_bytes(&[]));
        let msg = read_labels(&p).unwrap_err().to_string();
        assert!(
            msg.contains("none-labels") && msg.contains("counts 0 samples"),
            "{msg}"
        );
        let p = write(&dir, "none-images", &idx(IMAGES_MAGIC, &[0, 28, 28], &[]));
        let msg = read_images(&p).unwrap_err().to_string();
        assert!(
            msg.contains("none-images") && msg.contains("counts 0 samples"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_files_are_named() {
        let dir = temp_dir("idx-missing");
        let e = load_mnist(&dir, Split::Train).unwrap_err();
        assert!(matches!(e, DataError::MissingFile { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains("train-images-idx3-ubyte.gz") && msg.contains("train-images.idx3-ubyte"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn wrong_magic() {
        let dir = temp_dir("idx-magic");
        let p = write(&dir, "x", &labels_bytes(&[1, 2]));
        let e = read_images(&p).unwrap_err();
        assert!(matches!(e, DataError::BadMagic { .. }), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("00 00 08 03") && msg.contains("00 00 08 01") && msg.contains("labels file"),
            "{msg}"
        );
        assert!(msg.contains(&p.display().to_string()), "{msg}");
        let p = write(&dir, "y", b"hello world, this is not IDX");
        let e = read_labels(&p).unwrap_err();
        assert!(matches!(e, DataError::BadMagic { .. }), "{e}");
        let p = write(&dir, "z", &[0, 0]);
        assert!(matches!(read_labels(&p).unwrap_err(), DataError::BadMagic { .. }));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn truncated_payload_and_header() {
        let dir = temp_dir("idx-truncated");
        let mut b = images_bytes(3);
        b.truncate(b.len() - 5);
        let p = write(&dir, "imgs.gz", &gzip(&b));
        let e = read_images(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::Truncated {
                    expected: 18,
                    found: 13,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("expected 18 bytes") && msg.contains("found 13"),
            "{msg}"
        );
        let p = write(
            &dir,
            "hdr",
            &IMAGES_MAGIC
                .iter()
                .chain(&[0, 0, 0, 1, 0])
                .copied()
                .collect::<Vec<_>>(),
        );
        let e = read_images(&p).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::Truncated {
                    what: "header",
                    expected: 16,
                    found: 9,
                    ..
                }
            ),
            "{e}"
        );
        let mut b = labels_bytes(&[1, 2]);
        b.push(7);
        let p = write(&dir, "long", &b);
        assert!(matches!(
            read_labels(&p).unwrap_err(),
            DataError::TrailingBytes {
                expected: 2,
                found: 3,
                ..
            }
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn count_mismatch_and_bad_label() {
        let dir = temp_dir("idx-count");
        write(&dir, "train-images-idx3-ubyte", &images_bytes(3));
        write(&dir, "train-labels-idx1-ubyte", &labels_bytes(&[1, 2]));
        let e = load_mnist(&dir, Split::Train).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::CountMismatch {
                    image_count: 3,
                    label_count: 2,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("3 images") && e.to_string().contains("2 labels"),
            "{e}"
        );

        write(&dir, "train-labels-idx1-ubyte", &labels_bytes(&[1, 12, 10]));
        let e = load_mnist(&dir, Split::Train).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::LabelOutOfRange {
                    index: 1,
                    label: 12,
                    classes: 10,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("train-labels-idx1-ubyte") && msg.contains("sample 1"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_and_garbage_gzip() {
        let dir = temp_dir("idx-garbage");
        let p = write(&dir, "empty", b"");
        assert!(matches!(read_images(&p).unwrap_err(), DataError::Empty { .. }));
        let p = write(&dir, "empty.gz", &gzip(b""));
        assert!(matches!(read_images(&p).unwrap_err(), DataError::Empty { .. }));
        let p = write(
            &dir,
            "garbage.gz",
            &[0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        );
        let e = read_images(&p).unwrap_err();
        assert!(matches!(e, DataError::Gzip { .. }), "{e}");
        assert!(e.to_string().contains("garbage.gz"), "{e}");
        let mut cut = gzip(&images_bytes(5));
        cut.truncate(cut.len() / 2);
        let p = write(&dir, "cut.gz", &cut);
        assert!(matches!(read_images(&p).unwrap_err(), DataError::Gzip { .. }));
        // no file at all
        assert!(matches!(
            read_images(dir.join("nope")).unwrap_err(),
            DataError::Io { .. }
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn absurd_dimensions_do_not_panic() {
        let dir = temp_dir("idx-absurd");
        let p = write(
            &dir,
            "big",
            &idx(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3]),
        );
        assert!(read_images(&p).is_err());
        let p = write(&dir, "zero", &idx(IMAGES_MAGIC, &[5, 0, 28], &[]));
        assert!(matches!(
            read_images(&p).unwrap_err(),
            DataError::BadHeader { .. }
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[ignore = "reads the real MNIST; set SPECC_DATA to the shared data directory"]
    fn real_mnist() {
        let dir = shared_data().join("mnist");
        let train = load_mnist(&dir, Split::Train).unwrap();
        assert_eq!(train.len, 60_000);
        assert_eq!(train.sample_shape, vec![1, 28, 28]);
        let counts = train.class_counts().unwrap();
        assert_eq!(counts.len(), 10);
        assert_eq!(*counts.iter().min().unwrap(), 5_421);
        assert_eq!(*counts.iter().max().unwrap(), 6_742);
        assert_eq!(counts[1], 6_742);
        assert_eq!(counts[5], 5_421);
        let test = load_mnist(&dir, Split::Test).unwrap();
        assert_eq!(test.len, 10_000);
        let counts = test.class_counts().unwrap();
        assert_eq!(
            (*counts.iter().min().unwrap(), *counts.iter().max().unwrap()),
            (892, 1_135)
        );
        assert!(train.inputs.iter().all(|&x| (0.0..=1.0).contains(&x)));
        assert_eq!(train.inputs.iter().copied().fold(0f32, f32::max), 1.0);
        assert!(
            train
                .validate_for(&[1, 28, 28], specc_train::TargetKind::Classes { classes: 10 }, 10)
                .is_ok()
        );
    }
}
