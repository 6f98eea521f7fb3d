//! Image folders: `DIR/<class>/<image>`, one sub-folder per class (the
//! layout of Keras' `image_dataset_from_directory` and Burn's
//! `ImageFolderDataset`), with PNG, JPEG and BMP files.
//!
//! Classes are the sub-folders' names in byte order; a class's label is its
//! index in that order. Files whose names end otherwise are skipped (and
//! counted); hidden files and folders (`.name`) are ignored. When `DIR` has
//! both a `train` and a `test` folder, each is such a folder of classes and
//! the two must have the same classes.
//!
//! [`load`] decodes a folder into memory on every core; [`ImageStream`]
//! decodes each image when a batch needs it, for folders larger than memory. Each image becomes the model's input
//! `[channels, height, width]` with pixels scaled from `0..=255` to `[0, 1]`
//! (16-bit images are first brought to 8 bits): `channels` 1 is grayscale
//! (colour converted with the Rec. 709 luma weights), 3 is RGB (an alpha
//! channel is dropped). An image of another size is resized as
//! [`Resize`] says, or refused.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
pub use specc_types::Resize;

use super::{DataError, Dataset, Samples, TargetData};

/// File name endings read as images (compared without regard to case).
pub const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// The files of an image folder, before decoding.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageFolder {
    pub root: PathBuf,
    /// The class names, sorted; a label indexes this list.
    pub class_names: Vec<String>,
    /// Every image file with its label, class after class, each class's
    /// files sorted by name.
    pub files: Vec<(PathBuf, u32)>,
    /// Files skipped because their names do not end in an image extension.
    pub skipped: usize,
}

impl ImageFolder {
    /// The folder with only the images at `indices` (into [`files`](Self::files)), in that order.
    ///
    /// # Panics
    /// If an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> ImageFolder {
        ImageFolder {
            root: self.root.clone(),
            class_names: self.class_names.clone(),
            files: indices.iter().map(|&i| self.files[i].clone()).collect(),
            skipped: self.skipped,
        }
    }

    /// The number of images of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.class_names.len()];
        for &(_, label) in &self.files {
            counts[label as usize] += 1;
        }
        counts
    }
}

/// An image folder's splits: `train` and `test` when `DIR` has both
/// sub-folders, else the whole folder as `train`.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    pub train: ImageFolder,
    pub test: Option<ImageFolder>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The visible entries of `dir` as (name, path, is a folder), sorted by name.
fn entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>, DataError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(String::from) else {
            return Err(DataError::Invalid(format!(
                "{}: the name is not UTF-8; rename it (class names and files must have UTF-8 names)",
                path.display()
            )));
        };
        if name.starts_with('.') {
            continue;
        }
        // Follows symbolic links, as reading the file will.
        let is_dir = std::fs::metadata(&path).map_err(io_error(&path))?.is_dir();
        out.push((name, path, is_dir));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Whether a file name ends in one of the image [`EXTENSIONS`].
pub fn is_image(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// Lists an image folder: its classes (sub-folders) and their image files.
/// An empty class, or a folder without classes, is an error.
pub fn scan(dir: impl AsRef<Path>) -> Result<ImageFolder, DataError> {
    let root = dir.as_ref().to_path_buf();
    let mut class_names = Vec::new();
    let mut files = Vec::new();
    let mut skipped = 0;
    for (name, path, is_dir) in entries(&root)? {
        if !is_dir {
            continue;
        }
        let label = u32::try_from(class_names.len())
            .map_err(|_| DataError::Invalid(format!("{}: too many classes", root.display())))?;
        let before = files.len();
        for (file, file_path, file_is_dir) in entries(&path)? {
            if !file_is_dir && is_image(&file) {
                files.push((file_path, label));
            } else {
                skipped += 1;
            }
        }
        if files.len() == before {
            return Err(DataError::Invalid(format!(
                "{}: class folder `{name}` has no images (files ending in {})",
                path.display(),
                EXTENSIONS.map(|e| format!(".{e}")).join(", ")
            )));
        }
        class_names.push(name);
    }
    if class_names.is_empty() {
        return Err(DataError::Invalid(format!(
            "{}: no class folders; expected one sub-folder of images per class, e.g. {0}/cat/1.png",
            root.display()
        )));
    }
    Ok(ImageFolder {
        root,
        class_names,
        files,
        skipped,
    })
}

/// Lists `dir`'s splits: `dir/train` and `dir/test` when both are folders,
/// else `dir` itself.
pub fn scan_splits(dir: impl AsRef<Path>) -> Result<Splits, DataError> {
    let dir = dir.as_ref();
    let (train, test) = (dir.join("train"), dir.join("test"));
    if !(train.is_dir() && test.is_dir()) {
        return Ok(Splits {
            train: scan(dir)?,
            test: None,
        });
    }
    let (train, test) = (scan(&train)?, scan(&test)?);
    if train.class_names != test.class_names {
        return Err(DataError::Invalid(format!(
            "{} has classes {:?} but {} has {:?}; the splits must have the same class folders",
            train.root.display(),
            train.class_names,
            test.root.display(),
            test.class_names
        )));
    }
    Ok(Splits {
        train,
        test: Some(test),
    })
}

/// The largest image decoded: 16,384 pixels a side and 256 MiB decoded,
/// far beyond a training image, so that a corrupt header announcing a huge
/// picture is an error, not an allocation that takes the machine down.
fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(256 << 20);
    limits
}

/// Decodes one image into `out` (`channels * height * width` values, channel
/// first, scaled to `[0, 1]`).
pub fn decode_into(path: &Path, shape: [usize; 3], resize: Resize, out: &mut [f32]) -> Result<(), DataError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    decode_bytes(&bytes, path, shape, resize, out)
}

/// [`decode_into`] for a file's bytes; `path` names it in errors. The format
/// is read from the bytes, whatever the name says.
pub fn decode_bytes(
    bytes: &[u8],
    path: &Path,
    shape: [usize; 3],
    resize: Resize,
    out: &mut [f32],
) -> Result<(), DataError> {
    let [channels, height, width] = shape;
    let bad = |message: String| DataError::Image {
        path: path.to_path_buf(),
        message,
    };
    if out.len() != channels * height * width {
        return Err(bad(format!(
            "{} values to fill for an input of shape {shape:?}",
            out.len()
        )));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(io_error(path))?;
    reader.limits(limits());
    let image = reader.decode().map_err(|e| bad(e.to_string()))?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (tw, th) = (
        u32::try_from(width).map_err(|_| bad(format!("width {width} is too large")))?,
        u32::try_from(height).map_err(|_| bad(format!("height {height} is too large")))?,
    );
    let filter = match resize {
        _ if (w, h) == (width, height) => None,
        Resize::Bilinear => Some(FilterType::Triangle),
        Resize::Nearest => Some(FilterType::Nearest),
        Resize::None => {
            return Err(bad(format!(
                "the image is {w} x {h} pixels, the model's input {width} x {height}, and the spec says \
                 `data(resize = none)`; resize the files, or let specc resize them (`resize = bilinear`)"
            )));
        }
    };
    let plane = width * height;
    match channels {
        1 => {
            let mut gray = image.into_luma8();
            if let Some(f) = filter {
                gray = image::imageops::resize(&gray, tw, th, f);
            }
            for (o, &p) in out.iter_mut().zip(gray.as_raw()) {
                *o = f32::from(p) / 255.0;
            }
        }
        3 => {
            let mut rgb = image.into_rgb8();
            if let Some(f) = filter {
                rgb = image::imageops::resize(&rgb, tw, th, f);
            }
            for (i, p) in rgb.as_raw().chunks_exact(3).enumerate() {
                for (c, &v) in p.iter().enumerate() {
                    out[c * plane + i] = f32::from(v) / 255.0;
                }
            }
        }
        c => {
            return Err(bad(format!(
                "a model input of {c} channels; images load as 1 (grayscale) or 3 (RGB) channels"
            )));
        }
    }
    Ok(())
}

/// An image folder read as [`Samples`]: each image is decoded when a batch
/// needs it, so an epoch holds a few batches in memory, never the folder.
#[derive(Clone, Debug)]
pub struct ImageStream {
    files: Vec<PathBuf>,
    targets: TargetData,
    class_names: Vec<String>,
    shape: [usize; 3],
    resize: Resize,
}

impl ImageStream {
    /// The images of `folder` as inputs of `shape` (`[1 or 3, height, width]`).
    pub fn new(folder: &ImageFolder, shape: [usize; 3], resize: Resize) -> Self {
        ImageStream {
            files: folder.files.iter().map(|(p, _)| p.clone()).collect(),
            targets: TargetData::Classes(folder.files.iter().map(|&(_, l)| l).collect()),
            class_names: folder.class_names.clone(),
            shape,
            resize,
        }
    }

    /// The file sample `i` is read from.
    pub fn path(&self, i: usize) -> &Path {
        &self.files[i]
    }
}

impl Samples for ImageStream {
    fn sample_shape(&self) -> &[usize] {
        &self.shape
    }

    fn targets(&self) -> &TargetData {
        &self.targets
    }

    fn class_names(&self) -> &[String] {
        &self.class_names
    }

    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError> {
        let n = self.sample_len();
        assert_eq!(out.len(), indices.len() * n, "input buffer length");
        for (o, &i) in out.chunks_exact_mut(n).zip(indices) {
            let path = &self.files[i];
            // A decoder bug must not take the run down unnamed.
            let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                decode_into(path, self.shape, self.resize, o)
            }));
            decoded.unwrap_or_else(|_| {
                Err(DataError::Image {
                    path: path.clone(),
                    message: "the image decoder panicked on this file".into(),
                })
            })?;
        }
        Ok(())
    }

    fn is_streamed(&self) -> bool {
        true
    }
}

/// The bytes `samples` inputs of `shape` take decoded, `None` beyond counting.
pub fn decoded_bytes(samples: usize, shape: [usize; 3]) -> Option<u64> {
    shape
        .iter()
        .try_fold(samples as u64, |a, &d| a.checked_mul(d as u64))
        .and_then(|v| v.checked_mul(4))
}

/// Decodes every image of `folder` to `shape` (`[1 or 3, height, width]`) on
/// `threads` threads. The result does not depend on the number of threads;
/// when several files are bad, the error names the first in the folder's
/// order.
pub fn load(
    folder: &ImageFolder,
    shape: [usize; 3],
    resize: Resize,
    threads: usize,
) -> Result<Dataset, DataError> {
    let stream = ImageStream::new(folder, shape, resize);
    let (sample, count) = (stream.sample_len(), stream.len());
    let Some(total) = sample.checked_mul(count) else {
        return Err(DataError::Invalid(format!(
            "{count} images of shape {shape:?} are too many values to hold"
        )));
    };
    let mut inputs = Vec::new();
    inputs.try_reserve_exact(total).map_err(|_| {
        DataError::Invalid(format!(
            "{count} images of shape {shape:?} need {} bytes, more than can be allocated",
            total as u128 * 4
        ))
    })?;
    inputs.resize(total, 0f32);
    let indices: Vec<usize> = (0..count).collect();
    let per_thread = count.div_ceil(threads.max(1)).max(1);
    let results: Vec<Result<(), DataError>> = std::thread::scope(|s| {
        let workers: Vec<_> = inputs
            .chunks_mut(per_thread * sample)
            .zip(indices.chunks(per_thread))
            .map(|(out, indices)| {
                let stream = &stream;
                s.spawn(move || stream.read_inputs(indices, out))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(DataError::Invalid("an image decoder thread panicked".into())))
            })
            .collect()
    });
    results.into_iter().collect::<Result<(), _>>()?;
    let ImageStream {
        targets, class_names, ..
    } = stream;
    Ok(Dataset::new(inputs, shape.to_vec(), targets)?.with_class_names(class_names))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::temp_dir;
    use super::*;

    /// A `w` x `h` RGB image whose pixel (x, y) is (x * 40, y * 40, 200).
    fn write_rgb(path: &Path, w: u32, h: u32) {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 40) as u8, (y * 40) as u8, 200]));
        img.save(path).unwrap();
    }

    fn folder(dir: &Path, classes: &[(&str, usize)]) {
        for (class, n) in classes {
            let d = dir.join(class);
            std::fs::create_dir_all(&d).unwrap();
            for i in 0..*n {
                write_rgb(&d.join(format!("{i}.png")), 3, 2);
            }
        }
    }

    #[test]
    fn classes_are_sorted_and_pixels_channel_first() {
        let dir = temp_dir("images-classes");
        folder(&dir, &[("dog", 2), ("cat", 1)]);
        std::fs::write(dir.join("dog/notes.txt"), "x").unwrap();
        std::fs::write(dir.join("cat/.DS_Store"), "x").unwrap();
        let f = scan(&dir).unwrap();
        assert_eq!(f.class_names, ["cat", "dog"]);
        assert_eq!(f.class_counts(), [1, 2]);
        assert_eq!(f.skipped, 1);
        for threads in [1, 2, 5] {
            let d = load(&f, [3, 2, 3], Resize::None, threads).unwrap();
            assert_eq!(d.targets, TargetData::Classes(vec![0, 1, 1]));
            assert_eq!(d.class_names, ["cat", "dog"]);
            let s = d.sample(2);
            // red at (x=2, y=1), green at (x=1, y=1), blue anywhere
            assert_eq!(s[5], 80.0 / 255.0);
            assert_eq!(s[6 + 4], 40.0 / 255.0);
            assert_eq!(s[12], 200.0 / 255.0);
        }
        let gray = load(&f, [1, 2, 3], Resize::None, 2).unwrap();
        assert_eq!(gray.sample_shape, [1, 2, 3]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stream_reads_what_load_decodes() {
        let dir = temp_dir("images-stream");
        folder(&dir, &[("b", 3), ("a", 2)]);
        std::fs::write(dir.join("a/1.png"), b"not a png").unwrap();
        let f = scan(&dir).unwrap();
        let stream = ImageStream::new(&f, [3, 4, 6], Resize::Bilinear);
        assert!(stream.is_streamed());
        assert_eq!(
            (stream.len(), stream.class_names(), stream.classes()),
            (5, &f.class_names[..], Some(2))
        );
        let msg = stream.read_inputs(&[1], &mut [0.0; 72]).unwrap_err().to_string();
        assert!(msg.contains("a/1.png"), "{msg}");
        write_rgb(&dir.join("a/1.png"), 5, 3);
        let all = load(&f, [3, 4, 6], Resize::Bilinear, 2).unwrap();
        let mut out = vec![0.0; 3 * 72];
        stream.read_inputs(&[4, 1, 0], &mut out).unwrap();
        let expected: Vec<f32> = [4, 1, 0].iter().flat_map(|&i| all.sample(i).to_vec()).collect();
        assert_eq!(out, expected);
        assert_eq!(stream.targets(), &all.targets);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_sizes_are_resized_or_refused() {
        let dir = temp_dir("images-resize");
        folder(&dir, &[("a", 1)]);
        let f = scan(&dir).unwrap();
        let d = load(&f, [3, 4, 6], Resize::Bilinear, 1).unwrap();
        assert_eq!(d.sample_len(), 72);
        let d = load(&f, [3, 4, 6], Resize::Nearest, 1).unwrap();
        // Nearest doubles every pixel: blue is 200 everywhere.
        assert!(d.sample(0)[48..].iter().all(|&v| v == 200.0 / 255.0));
        let msg = load(&f, [3, 4, 6], Resize::None, 1).unwrap_err().to_string();
        assert!(
            msg.contains("0.png") && msg.contains("3 x 2 pixels") && msg.contains("6 x 4"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_folders_and_files_are_named() {
        let dir = temp_dir("images-bad");
        let msg = scan(&dir).unwrap_err().to_string();
        assert!(msg.contains("no class folders"), "{msg}");
        folder(&dir, &[("a", 2)]);
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        let msg = scan(&dir).unwrap_err().to_string();
        assert!(msg.contains("class folder `empty` has no images"), "{msg}");
        std::fs::remove_dir_all(dir.join("empty")).unwrap();

        // A truncated PNG and a text file named .jpg: the first in order is named.
        let png = std::fs::read(dir.join("a/0.png")).unwrap();
        std::fs::write(dir.join("a/0.png"), &png[..png.len() / 2]).unwrap();
        std::fs::write(dir.join("a/1.jpg"), "not an image").unwrap();
        let f = scan(&dir).unwrap();
        for threads in [1, 2] {
            let msg = load(&f, [3, 2, 3], Resize::None, threads)
                .unwrap_err()
                .to_string();
            assert!(msg.contains("a/0.png") && !msg.contains("1.jpg"), "{msg}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn train_and_test_folders_are_splits_with_the_same_classes() {
        let dir = temp_dir("images-splits");
        folder(&dir.join("train"), &[("a", 2), ("b", 1)]);
        folder(&dir.join("test"), &[("a", 1), ("b", 1)]);
        let s = scan_splits(&dir).unwrap();
        assert_eq!(s.train.files.len(), 3);
        assert_eq!(s.test.as_ref().unwrap().files.len(), 2);
        folder(&dir.join("test"), &[("c", 1)]);
        let msg = scan_splits(&dir).unwrap_err().to_string();
        assert!(msg.contains("the same class folders"), "{msg}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
