//! The CIFAR-10 binary format (`cifar-10-batches-bin`), gzipped or plain.
//!
//! A file is a run of 3,073-byte records: one label byte (0 to 9), then the
//! 32 x 32 image as 1,024 red, 1,024 green and 1,024 blue bytes, each plane
//! row-major. That is the channel-first `[3, 32, 32]` layout a model's input
//! has, so pixels are only scaled, from `0..=255` to `[0, 1]`.
//!
//! The training split is `data_batch_1.bin` to `data_batch_5.bin` (all five
//! are required: a missing one would silently train on less), the test split
//! `test_batch.bin`. `DIR` may hold the files or the `cifar-10-batches-bin`
//! folder of the official archive. Class names come from `batches.meta.txt`
//! when it is there, else they are CIFAR-10's ten.

use std::path::{Path, PathBuf};

use super::{DataError, Dataset, Split, TargetData, read_maybe_gzip};

/// Bytes of one image: three planes of 32 x 32.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes of one record: the label, then the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// The shape of one sample.
pub const SAMPLE_SHAPE: [usize; 3] = [3, 32, 32];
/// CIFAR-10's classes, in label order (as in `batches.meta.txt`).
pub const CLASS_NAMES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];
/// The official archive's folder, looked for inside `DIR`.
const ARCHIVE_DIR: &str = "cifar-10-batches-bin";
const TRAIN_FILES: usize = 5;

/// Appends the records of one batch file's bytes (decompressed) to `pixels`
/// (scaled to `[0, 1]`) and `labels`; returns how many it read. `path` names
/// the file in errors, which give the record's index in the file.
pub fn parse_batch(
    bytes: &[u8],
    path: &Path,
    pixels: &mut Vec<f32>,
    labels: &mut Vec<u32>,
) -> Result<usize, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let whole = bytes.len() / RECORD_BYTES;
    let rest = bytes.len() % RECORD_BYTES;
    if rest != 0 {
        return Err(DataError::RecordLength {
            path: path.to_path_buf(),
            bytes: bytes.len() as u64,
            record_bytes: RECORD_BYTES,
            what: "CIFAR-10 records (1 label byte, then 3,072 pixel bytes)",
            last: whole,
            last_bytes: rest,
        });
    }
    pixels.reserve(whole * IMAGE_BYTES);
    labels.reserve(whole);
    for (index, record) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let label = record[0];
        if usize::from(label) >= CLASS_NAMES.len() {
            return Err(DataError::LabelOutOfRange {
                path: Some(path.to_path_buf()),
                index,
                label: u32::from(label),
                classes: CLASS_NAMES.len(),
            });
        }
        labels.push(u32::from(label));
        pixels.extend(record[1..].iter().map(|&b| f32::from(b) / 255.0));
    }
    Ok(whole)
}

/// Reads one batch file (gzipped or plain) as a data set of `[3, 32, 32]`
/// samples with CIFAR-10's class names.
pub fn read_batch(path: impl AsRef<Path>) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    parse_batch(&read_maybe_gzip(path)?, path, &mut pixels, &mut labels)?;
    dataset(pixels, labels, names(CLASS_NAMES))
}

fn names(n: [&str; 10]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn dataset(pixels: Vec<f32>, labels: Vec<u32>, class_names: Vec<String>) -> Result<Dataset, DataError> {
    Ok(
        Dataset::new(pixels, SAMPLE_SHAPE.to_vec(), TargetData::Classes(labels))?
            .with_class_names(class_names),
    )
}

/// `dir`, or its `cifar-10-batches-bin` folder when it has one.
fn batches_dir(dir: &Path) -> PathBuf {
    let inner = dir.join(ARCHIVE_DIR);
    if inner.is_dir() { inner } else { dir.to_path_buf() }
}

/// `name` or `name.gz` in `dir`.
fn find(dir: &Path, what: &str, name: &str) -> Result<PathBuf, DataError> {
    let tried = [name.to_string(), format!("{name}.gz")];
    tried
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::MissingFile {
            what: what.to_string(),
            dir: dir.to_path_buf(),
            tried: tried.to_vec(),
        })
}

/// The class names of `batches.meta.txt` (one per line), or CIFAR-10's.
fn class_names(dir: &Path) -> Result<Vec<String>, DataError> {
    let path = dir.join("batches.meta.txt");
    if !path.is_file() {
        return Ok(names(CLASS_NAMES));
    }
    let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
        path: path.clone(),
        source,
    })?;
    let found: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if found.len() != CLASS_NAMES.len() {
        return Err(DataError::Invalid(format!(
            "{}: expected {} class names, one per line, found {}",
            path.display(),
            CLASS_NAMES.len(),
            found.len()
        )));
    }
    Ok(found)
}

/// Loads CIFAR-10's training split (`data_batch_1.bin` to `data_batch_5.bin`,
/// 50,000 samples) or test split (`test_batch.bin`, 10,000) from `dir`.
pub fn load_cifar10(dir: impl AsRef<Path>, split: Split) -> Result<Dataset, DataError> {
    let dir = batches_dir(dir.as_ref());
    let files: Vec<PathBuf> = match split {
        Split::Train => (1..=TRAIN_FILES)
            .map(|i| {
                find(
                    &dir,
                    &format!("CIFAR-10 training batch {i} of {TRAIN_FILES}"),
                    &format!("data_batch_{i}.bin"),
                )
            })
            .collect::<Result<_, _>>()?,
        Split::Test => vec![find(&dir, "the CIFAR-10 test batch", "test_batch.bin")?],
    };
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for path in &files {
        parse_batch(&read_maybe_gzip(path)?, path, &mut pixels, &mut labels)?;
    }
    dataset(pixels, labels, class_names(&dir)?)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, temp_dir};
    use super::*;

    /// `labels.len()` records; pixel `j` of record `r` is `(r * 7 + j) % 256`.
    fn records(labels: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (r, &l) in labels.iter().enumerate() {
            out.push(l);
            out.extend((0..IMAGE_BYTES).map(|j| ((r * 7 + j) % 256) as u8));
        }
        out
    }

    #[test]
    fn a_batch_reads_channel_first_scaled_pixels_and_labels() {
        let dir = temp_dir("cifar-batch");
        let path = dir.join("test_batch.bin");
        std::fs::write(&path, records(&[3, 9, 0])).unwrap();
        let d = read_batch(&path).unwrap();
        assert_eq!((d.len, d.sample_shape.clone()), (3, vec![3, 32, 32]));
        assert_eq!(d.targets, TargetData::Classes(vec![3, 9, 0]));
        // Record 1, green plane, row 2, column 5.
        let j = 1024 + 2 * 32 + 5;
        assert_eq!(d.sample(1)[j], ((7 + j) % 256) as f32 / 255.0);
        assert_eq!(d.class_names[3], "cat");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn splits_read_every_training_batch_in_order_from_the_archive_folder() {
        let dir = temp_dir("cifar-splits");
        let inner = dir.join(ARCHIVE_DIR);
        std::fs::create_dir_all(&inner).unwrap();
        for i in 1..=5u8 {
            let bytes = records(&[i, i + 1]);
            let (name, bytes) = if i == 2 {
                ("data_batch_2.bin.gz".to_string(), gzip(&bytes))
            } else {
                (format!("data_batch_{i}.bin"), bytes)
            };
            std::fs::write(inner.join(name), bytes).unwrap();
        }
        std::fs::write(inner.join("test_batch.bin"), records(&[7])).unwrap();
        std::fs::write(inner.join("batches.meta.txt"), "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n").unwrap();
        let train = load_cifar10(&dir, Split::Train).unwrap();
        assert_eq!(
            train.targets,
            TargetData::Classes(vec![1, 2, 2, 3, 3, 4, 4, 5, 5, 6])
        );
        assert_eq!(train.class_names[0], "a");
        let test = load_cifar10(&dir, Split::Test).unwrap();
        assert_eq!(test.len, 1);

        std::fs::remove_file(inner.join("data_batch_4.bin")).unwrap();
        let msg = load_cifar10(&dir, Split::Train).unwrap_err().to_string();
        assert!(
            msg.contains("training batch 4 of 5") && msg.contains("`data_batch_4.bin`"),
            "{msg}"
        );
        std::fs::write(inner.join("batches.meta.txt"), "a\nb\n").unwrap();
        let msg = load_cifar10(&dir, Split::Test).unwrap_err().to_string();
        assert!(msg.contains("batches.meta.txt: expected 10 class names"), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_short_record_and_a_bad_label_are_placed() {
        let path = Path::new("data_batch_1.bin");
        let mut bytes = records(&[1, 2, 3]);
        bytes.truncate(2 * RECORD_BYTES + 100);
        let e = parse_batch(&bytes, path, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("data_batch_1.bin")
                && msg.contains("6246 bytes")
                && msg.contains("record 2 (at byte 6146) has 100 of its 3073 bytes"),
            "{msg}"
        );
        let mut bytes = records(&[1, 2, 3]);
        bytes[RECORD_BYTES] = 10;
        let msg = parse_batch(&bytes, path, &mut Vec::new(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("label 10 of sample 1") && msg.contains("below 10"),
            "{msg}"
        );
        let msg = parse_batch(&[], path, &mut Vec::new(), &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("empty"), "{msg}");
    }
}
