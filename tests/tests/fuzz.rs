//! The data and checkpoint readers on malformed input: arbitrary bytes and
//! mutations of valid files (flipped, inserted and deleted bytes, truncation,
//! rewritten header fields). Nothing may panic; what a reader accepts must
//! be what it promises (finite inputs, labels in range, finite weights).
//!
//! `cargo test` runs a few hundred cases of each; `.ci/run` runs a long
//! pass in release mode with `PROPTEST_CASES`, at a fixed seed and at a
//! seed from the clock, which it prints (`PROPTEST_RNG_SEED` replays it).
//! The spec parser's own properties are in crates/specc-lang/tests/proptest.rs.

use proptest::prelude::*;
use specc_core::Inference;
use specc_harness::checkpoint::{self, CheckpointMeta};
use specc_harness::data::csv::{self, CsvTargets};
use specc_harness::data::images::{self, Resize};
use specc_harness::data::{Samples, TargetData, cifar, idx, maybe_gunzip};
use specc_harness::fit::TrainerState;
use specc_tests::f32::digits_mlp::DigitsMlp;
use specc_train::Model;
use std::path::Path;

#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    /// Overwrites 4 bytes at a position with a big-endian u32 (IDX sizes) or
    /// 8 bytes with a little-endian u64 (the safetensors header length).
    Word(usize, u64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let word = prop_oneof![
        Just(0u64),
        Just(1),
        Just(u32::MAX as u64),
        Just(u64::MAX),
        any::<u64>(),
        0u64..100
    ];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Edit::Flip(i, x)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        any::<usize>().prop_map(Edit::Truncate),
        (0usize..24, word).prop_map(|(i, w)| Edit::Word(i, w)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit, word_be_u32: bool) {
    let n = bytes.len();
    match *edit {
        Edit::Flip(i, x) if n > 0 => bytes[i % n] ^= x,
        Edit::Insert(i, b) => bytes.insert(i % (n + 1), b),
        Edit::Delete(i) if n > 0 => {
            bytes.remove(i % n);
        }
        Edit::Truncate(i) => bytes.truncate(i % (n + 1)),
        Edit::Word(i, w) if word_be_u32 && i + 4 <= n => {
            bytes[i..i + 4].copy_from_slice(&(w as u32).to_be_bytes())
        }
        Edit::Word(i, w) if !word_be_u32 && i + 8 <= n => bytes[i..i + 8].copy_from_slice(&w.to_le_bytes()),
        _ => {}
    }
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..5)
}

/// A valid IDX images file of `count` 2x3 images and its labels file.
fn idx_files(count: u32) -> (Vec<u8>, Vec<u8>) {
    let mut images = vec![0, 0, 8, 3];
    for d in [count, 2, 3] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend((0..count * 6).map(|i| (i * 37 % 256) as u8));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&count.to_be_bytes());
    labels.extend((0..count).map(|i| (i % 10) as u8));
    (images, labels)
}

fn check_idx(images: Vec<u8>, labels: Vec<u8>) -> Result<(), TestCaseError> {
    let path = Path::new("fuzz-idx");
    if let Ok(bytes) = maybe_gunzip(images, path)
        && let Ok(images) = idx::parse_images(bytes, path)
    {
        prop_assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
        prop_assert!(images.count > 0 && images.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    if let Ok(labels) = idx::parse_labels(labels, path) {
        prop_assert!(!labels.is_empty() && labels.iter().all(|&l| l < 256));
    }
    Ok(())
}

/// CSV-ish text: numbers good and bad, separators, line ends, stray bytes.
fn csv_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(
        &[
            "0",
            "1",
            "2",
            "9",
            "10",
            "-1",
            "0.5",
            "1e3",
            "1e400",
            "nan",
            "inf",
            "-inf",
            "4294967296",
            "x1",
            "label",
            ",",
            ",",
            ",",
            "\n",
            "\n",
            "\r\n",
            " ",
            "",
            "\u{feff}",
            "\0",
            "\"",
            "é",
            ";",
        ][..],
    );
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

/// Checks what the CSV reader makes of `text`, and that streaming the file
/// gives the same samples or the same error.
fn check_csv(text: &[u8]) -> Result<(), TestCaseError> {
    thread_local! {
        static FILE: std::path::PathBuf = {
            let dir = std::env::temp_dir().join(format!("specc-fuzz-csv-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            dir.join(format!("{:?}.csv", std::thread::current().id()).replace(|c: char| !c.is_alphanumeric(), ""))
        };
    }
    let path = FILE.with(Clone::clone);
    std::fs::write(&path, text).unwrap();
    for (columns, targets) in [
        (1, CsvTargets::Classes { classes: 10 }),
        (1, CsvTargets::Binary),
        (2, CsvTargets::Values),
    ] {
        let parsed = csv::parse(text, &path, columns, targets);
        if !text.starts_with(&[0x1f, 0x8b]) {
            match (&parsed, csv::CsvStream::open(&path, columns, targets)) {
                (Ok(d), Ok(stream)) => {
                    prop_assert_eq!(stream.targets(), &d.targets);
                    let mut inputs = vec![0.0; d.inputs.len()];
                    stream
                        .read_inputs(&(0..d.len).collect::<Vec<_>>(), &mut inputs)
                        .unwrap();
                    prop_assert_eq!(&inputs, &d.inputs);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => prop_assert!(
                    false,
                    "read {:?}, streamed {:?}",
                    a.as_ref().map(|d| d.len),
                    b.map(|s| s.len())
                ),
            }
        }
        if let Ok(d) = parsed {
            prop_assert!(d.len > 0);
            prop_assert!(d.inputs.iter().all(|x| x.is_finite()));
            prop_assert_eq!(d.inputs.len(), d.len * d.sample_len());
            match (&d.targets, targets) {
                (TargetData::Classes(labels), _) => prop_assert!(labels.iter().all(|&l| l < 10)),
                (TargetData::Values(values, _), CsvTargets::Binary) => {
                    prop_assert!(values.iter().all(|&v| v == 0.0 || v == 1.0))
                }
                (TargetData::Values(values, _), _) => prop_assert!(values.iter().all(|v| v.is_finite())),
            }
        }
    }
    Ok(())
}

/// A valid checkpoint of a freshly initialised DigitsMlp.
fn checkpoint_bytes() -> Vec<u8> {
    let model = DigitsMlp::new(3);
    let meta = CheckpointMeta {
        model: DigitsMlp::NAME.to_string(),
        steps: 20,
        learning_rate: 0.01,
        base_learning_rate: 0.01,
        seed: 3,
        batch: 32,
        progress: TrainerState {
            epoch: 2,
            reference_loss: Some(2.3),
            monitored_losses: vec![0.5, 0.25],
            best: Some((1, 0.5)),
        },
        class_names: vec!["zero".into(), "one".into()],
    };
    checkpoint::to_bytes(&model, &meta).expect("a fresh model serialises")
}

fn check_checkpoint(bytes: &[u8]) -> Result<(), TestCaseError> {
    let mut model = DigitsMlp::new(0);
    if let Ok(meta) = checkpoint::load_bytes(bytes, Path::new("fuzz.safetensors"), &mut model) {
        prop_assert!(meta.batch >= 1 && meta.base_learning_rate > 0.0);
        for t in DigitsMlp::TENSORS {
            prop_assert!(model.tensor(t.name).unwrap().iter().all(|x| x.is_finite()));
        }
    }
    Ok(())
}

/// A valid 5 x 4 picture in each of the formats image folders read.
fn image_files() -> Vec<Vec<u8>> {
    let img = image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([(x * 50) as u8, (y * 60) as u8, 90]));
    [
        image::ImageFormat::Png,
        image::ImageFormat::Jpeg,
        image::ImageFormat::Bmp,
    ]
    .into_iter()
    .map(|format| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    })
    .collect()
}

fn check_image(bytes: &[u8]) -> Result<(), TestCaseError> {
    for (shape, resize) in [([3, 4, 5], Resize::None), ([1, 3, 3], Resize::Bilinear)] {
        let mut out = vec![f32::NAN; shape.iter().product()];
        if images::decode_bytes(bytes, Path::new("fuzz.png"), shape, resize, &mut out).is_ok() {
            prop_assert!(out.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
    Ok(())
}

/// Two CIFAR-10 records.
fn cifar_batch() -> Vec<u8> {
    (0..2u8)
        .flat_map(|l| std::iter::once(l * 7).chain((0..3072).map(move |j| (j % 251) as u8 ^ l)))
        .collect()
}

fn check_cifar(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    if let Ok(n) = cifar::parse_batch(bytes, Path::new("fuzz.bin"), &mut pixels, &mut labels) {
        prop_assert!(n > 0 && labels.len() == n && pixels.len() == n * cifar::IMAGE_BYTES);
        prop_assert!(labels.iter().all(|&l| l < 10) && pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    Ok(())
}

proptest! {
    #[test]
    fn image_decoder_survives_mutated_files(which in 0usize..3, changes in edits()) {
        let mut bytes = image_files().swap_remove(which);
        changes.iter().for_each(|e| apply(&mut bytes, e, true));
        check_image(&bytes)?;
    }

    #[test]
    fn image_decoder_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        check_image(&bytes)?;
    }

    #[test]
    fn cifar_reader_survives_mutated_batches(changes in edits()) {
        let mut bytes = cifar_batch();
        changes.iter().for_each(|e| apply(&mut bytes, e, false));
        check_cifar(&bytes)?;
    }

    #[test]
    fn idx_readers_survive_arbitrary_bytes(images in prop::collection::vec(any::<u8>(), 0..64),
                                           labels in prop::collection::vec(any::<u8>(), 0..64)) {
        check_idx(images, labels)?;
    }

    #[test]
    fn idx_readers_survive_mutated_files(count in 1u32..6, image_edits in edits(), label_edits in edits()) {
        let (mut images, mut labels) = idx_files(count);
        image_edits.iter().for_each(|e| apply(&mut images, e, true));
        label_edits.iter().for_each(|e| apply(&mut labels, e, true));
        check_idx(images, labels)?;
    }

    #[test]
    fn csv_reader_survives_arbitrary_text(text in csv_text()) {
        check_csv(text.as_bytes())?;
    }

    #[test]
    fn csv_reader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        check_csv(&bytes)?;
    }

    #[test]
    fn checkpoint_loader_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check_checkpoint(&bytes)?;
    }

    #[test]
    fn checkpoint_loader_survives_mutated_checkpoints(changes in edits()) {
        let mut bytes = checkpoint_bytes();
        changes.iter().for_each(|e| apply(&mut bytes, e, false));
        check_checkpoint(&bytes)?;
    }
}

#[test]
fn the_unmutated_files_are_accepted() {
    // Shows that the mutation tests start from files the readers accept.
    let (images, labels) = idx_files(4);
    assert_eq!(idx::parse_images(images, Path::new("i")).unwrap().count, 4);
    assert_eq!(idx::parse_labels(labels, Path::new("l")).unwrap().len(), 4);
    for bytes in image_files() {
        let mut out = vec![0.0; 60];
        images::decode_bytes(&bytes, Path::new("i"), [3, 4, 5], Resize::None, &mut out).unwrap();
    }
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    assert_eq!(
        cifar::parse_batch(&cifar_batch(), Path::new("c"), &mut pixels, &mut labels).unwrap(),
        2
    );
    assert_eq!(labels, [0, 7]);
    let mut model = DigitsMlp::new(0);
    let meta = checkpoint::load_bytes(&checkpoint_bytes(), Path::new("c"), &mut model).unwrap();
    assert_eq!(meta.class_names, ["zero", "one"]);
    assert_eq!(meta.progress.monitored_losses, [0.5, 0.25]);
    assert_eq!(meta.progress.reference_loss, Some(2.3));
    assert_eq!(
        model.tensor(DigitsMlp::TENSORS[0].name),
        DigitsMlp::new(3).tensor(DigitsMlp::TENSORS[0].name)
    );
}
