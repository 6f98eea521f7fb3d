//! Inputs for `predict`: CSV rows of features (no targets), IDX image files,
//! or image files (PNG, JPEG, BMP), one sample each.

use std::path::Path;

use specc_harness::data::{DataError, read_maybe_gzip};
use specc_train::Model;

use crate::RunnerError;
use crate::sources::image_shape;
use specc_harness::data::images;

/// The samples of `path`, `input_len` values each, one after another.
pub fn read<M: Model>(path: &Path) -> Result<Vec<f32>, RunnerError> {
    let bytes = read_maybe_gzip(path)?;
    let want = M::input_len();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if images::is_image(name) {
        let shape = image_shape::<M>(&format!("image files such as {}", path.display()))?;
        let mut out = vec![0.0; want];
        images::decode_bytes(&bytes, path, shape, M::DATA.resize, &mut out)?;
        return Ok(out);
    }
    if bytes.len() >= 4 && bytes[..3] == [0, 0, 8] {
        let images = specc_harness::data::idx::read_images(path)?;
        let per = images.rows * images.cols;
        if per != want {
            return Err(RunnerError::Invalid(format!(
                "{}: the images are {}x{} ({per} values) but model {} takes {:?} ({want} values)",
                path.display(),
                images.rows,
                images.cols,
                M::NAME,
                M::INPUT_SHAPE
            )));
        }
        return Ok(images.pixels);
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        RunnerError::Data(DataError::CsvEncoding {
            path: path.to_path_buf(),
            line,
        })
    })?;
    let mut out = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let numbers: Vec<Option<f32>> = fields
            .iter()
            .map(|f| f.parse::<f32>().ok().filter(|x| x.is_finite()))
            .collect();
        if first && numbers.iter().any(Option::is_none) {
            first = false;
            continue; // a header
        }
        first = false;
        if fields.len() != want {
            return Err(RunnerError::Invalid(format!(
                "{}:{}: the row has {} values but model {} takes {want} features ({:?}) and no targets",
                path.display(),
                i + 1,
                fields.len(),
                M::NAME,
                M::INPUT_SHAPE
            )));
        }
        for (j, (n, f)) in numbers.iter().zip(&fields).enumerate() {
            match n {
                Some(x) => out.push(*x),
                None => {
                    return Err(RunnerError::Invalid(format!(
                        "{}:{}: column {}: `{f}` is not a finite number",
                        path.display(),
                        i + 1,
                        j + 1
                    )));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(RunnerError::Invalid(format!(
            "{}: no samples in the file",
            path.display()
        )));
    }
    Ok(out)
}
