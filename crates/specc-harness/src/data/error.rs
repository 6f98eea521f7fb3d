//! [`DataError`]: what can go wrong reading or checking data, each with
//! the file, the position and what was expected.

use std::path::PathBuf;

/// Everything that can go wrong reading or checking data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// None of the file names a reader looks for exists.
    #[error("no {what} in {}: looked for {}", dir.display(), quoted(tried))]
    MissingFile {
        what: String,
        dir: PathBuf,
        tried: Vec<String>,
    },
    /// The file starts like gzip but does not decompress.
    #[error("{}: starts like a gzip file but does not decompress: {message}", path.display())]
    Gzip { path: PathBuf, message: String },
    /// The file (after decompression) is empty.
    #[error("{}: the file is empty", path.display())]
    Empty { path: PathBuf },
    /// An IDX file's magic number is not the one expected.
    #[error(
        "{}: expected the IDX magic number {} at the start, found {}{}",
        path.display(),
        hex(expected),
        hex(found),
        idx_kind(found)
    )]
    BadMagic {
        path: PathBuf,
        expected: [u8; 4],
        found: Vec<u8>,
    },
    /// A file ends before the data its header announces.
    #[error("{}: truncated {what}: expected {expected} bytes, found {found}", path.display())]
    Truncated {
        path: PathBuf,
        what: &'static str,
        expected: u64,
        found: u64,
    },
    /// A file holds more bytes than its header announces.
    #[error(
        "{}: expected {expected} bytes of payload as the header says, found {found} ({} too many)",
        path.display(),
        found.saturating_sub(*expected)
    )]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// A file of fixed-length records does not end at a record's end.
    #[error(
        "{}: {bytes} bytes is not a whole number of {record_bytes}-byte {what}: record {last} (at byte {}) has {last_bytes} of its {record_bytes} bytes",
        path.display(),
        *last as u64 * *record_bytes as u64
    )]
    RecordLength {
        path: PathBuf,
        bytes: u64,
        record_bytes: usize,
        what: &'static str,
        /// The index of the short record.
        last: usize,
        last_bytes: usize,
    },
    /// An image file does not decode, or does not fit the model's input.
    #[error("{}: {message}", path.display())]
    Image { path: PathBuf, message: String },
    /// An IDX header announces an impossible size.
    #[error("{}: bad IDX header: {message}", path.display())]
    BadHeader { path: PathBuf, message: String },
    /// The images and labels files hold different numbers of samples.
    #[error(
        "{} holds {image_count} images but {} holds {label_count} labels; expected equal counts",
        images.display(),
        labels.display()
    )]
    CountMismatch {
        images: PathBuf,
        image_count: usize,
        labels: PathBuf,
        label_count: usize,
    },
    /// A class label is not below the number of classes.
    #[error(
        "{}label {label} of sample {index} (0-based) is out of range: expected a label below {classes}",
        path.as_ref().map_or(String::new(), |p| format!("{}: ", p.display()))
    )]
    LabelOutOfRange {
        path: Option<PathBuf>,
        index: usize,
        label: u32,
        classes: usize,
    },
    /// A CSV field is not what was expected there.
    #[error(
        "{}:{line}: column {column}: expected {expected}, found `{}`",
        path.display(),
        text.escape_debug()
    )]
    CsvField {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
        expected: std::borrow::Cow<'static, str>,
    },
    /// A CSV row has a different number of columns from the first row.
    #[error(
        "{}:{line}: expected {expected} columns as on line {first_line}, found {found} ({})",
        path.display(),
        if found < expected { format!("column {} missing", found + 1) } else { format!("column {} is extra", expected + 1) }
    )]
    CsvColumns {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
        first_line: usize,
    },
    /// A CSV file's bytes are not UTF-8.
    #[error("{}:{line}: expected UTF-8 text, found other bytes", path.display())]
    CsvEncoding { path: PathBuf, line: usize },
    /// A CSV file has too few columns for the targets asked for.
    #[error(
        "{}: rows have {columns} columns, expected more than the {target_columns} target column(s) \
         (features first, then targets)",
        path.display()
    )]
    CsvTooFewColumns {
        path: PathBuf,
        columns: usize,
        target_columns: usize,
    },
    /// The data's sample size differs from the model's input size.
    #[error(
        "the model's input has shape {model:?} ({} values) but the data's samples have shape {data:?} ({} values)",
        model.iter().product::<usize>(),
        data.iter().product::<usize>()
    )]
    ShapeMismatch { model: Vec<usize>, data: Vec<usize> },
    /// The data's targets are not of the kind the model's loss expects.
    #[error("the model's loss expects {model} as targets but the data has {data}")]
    TargetKind { model: &'static str, data: &'static str },
    /// The data has a different number of target values per sample from the
    /// model's output size.
    #[error(
        "the model's output has {model} values per sample but the data has {data} target values per sample"
    )]
    TargetLength { model: usize, data: usize },
    /// A target of a binary model is neither 0 nor 1.
    #[error("target {value} of sample {index} (0-based) is not 0 or 1 as a binary model expects")]
    NotBinary { index: usize, value: f32 },
    /// No synthetic generator fits the model.
    #[error(
        "no synthetic data fits a model with input shape {input_shape:?} and {targets} targets; pass --data"
    )]
    NoSynthetic {
        input_shape: Vec<usize>,
        targets: String,
    },
    /// An argument or a data set is invalid in some other way.
    #[error("{0}")]
    Invalid(String),
}

/// `` `a`, `b` ``
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|t| format!("`{t}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `01 02 03 04`, or `nothing`.
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

/// What a wrong magic number is the magic number of, if it is IDX's.
fn idx_kind(found: &[u8]) -> &'static str {
    match found {
        [0, 0, 8, 1] => " (a labels file)",
        [0, 0, 8, 3] => " (an images file)",
        _ => "",
    }
}
