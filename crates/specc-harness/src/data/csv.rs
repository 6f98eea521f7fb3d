//! Numeric CSV files, gzipped or plain: each row is the features of one
//! sample followed by its target column(s), separated by commas. A first row
//! none of whose fields is a number (`x1,x2,label`) is a header and skipped;
//! any other row is data, and a field in it that is not a finite number
//! (`nan`, `inf`, an empty field, a stray byte) is an error naming the file,
//! line and column, so that no row is ever dropped silently. A UTF-8 byte
//! order mark is skipped, blank lines are skipped, and `\r\n` line ends are
//! accepted.
//!
//! [`read`] loads a file into memory; [`CsvStream`] reads each batch's rows
//! from the file when it is needed, for files larger than memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{DataError, Dataset, Samples, TargetData, read_maybe_gzip};
use specc_train::TargetKind;

/// How to read the target columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvTargets {
    /// One column of class indices, integers in `0..classes`.
    Classes { classes: usize },
    /// Columns of 0 or 1.
    Binary,
    /// One or more columns of real values.
    Values,
}

impl CsvTargets {
    /// The targets a model of this kind trains on.
    pub fn for_kind(kind: TargetKind) -> Self {
        match kind {
            TargetKind::Classes { classes } => CsvTargets::Classes { classes },
            TargetKind::Binary => CsvTargets::Binary,
            TargetKind::Values => CsvTargets::Values,
        }
    }
}

fn number(text: &str) -> Option<f32> {
    text.parse::<f32>().ok().filter(|x| x.is_finite())
}

/// Whether a field reads as a number of any kind (`nan` and `inf` too): a
/// row with such a field is data, never a header.
fn numeric(text: &str) -> bool {
    text.parse::<f64>().is_ok()
}

/// Reads a CSV file of `features..., targets...` rows into a data set whose
/// samples have shape `[features]`. `target_columns` is the number of target
/// columns at the end of each row (1 for classes).
pub fn read(
    path: impl AsRef<Path>,
    target_columns: usize,
    targets: CsvTargets,
) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    parse(&read_maybe_gzip(path)?, path, target_columns, targets)
}

/// [`read`] for a file's bytes (decompressed); `path` names it in errors.
pub fn parse(
    bytes: &[u8],
    path: &Path,
    target_columns: usize,
    targets: CsvTargets,
) -> Result<Dataset, DataError> {
    let mut rows = Rows::new(path, target_columns, targets)?;
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut inputs = Vec::new();
    // Line by line, so that the first problem in the file is the one
    // reported, as when it is streamed.
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let text = std::str::from_utf8(raw).map_err(|_| DataError::CsvEncoding {
            path: path.to_path_buf(),
            line,
        })?;
        rows.row(text, line, &mut inputs)?;
    }
    let (features, targets) = rows.finish()?;
    Dataset::new(inputs, vec![features], targets)
}

/// The checks of every row of a file and the targets read so far, shared by
/// [`parse`] and [`CsvStream::open`].
struct Rows<'p> {
    path: &'p Path,
    target_columns: usize,
    kind: CsvTargets,
    /// The number of fields and the line that set it.
    columns: Option<(usize, usize)>,
    first: bool,
    count: usize,
    classes: Vec<u32>,
    values: Vec<f32>,
}

impl<'p> Rows<'p> {
    fn new(path: &'p Path, target_columns: usize, kind: CsvTargets) -> Result<Self, DataError> {
        if target_columns == 0 {
            return Err(DataError::Invalid(
                "a CSV data set needs at least one target column".into(),
            ));
        }
        if matches!(kind, CsvTargets::Classes { .. }) && target_columns != 1 {
            return Err(DataError::Invalid(format!(
                "class targets take exactly one column, not {target_columns}"
            )));
        }
        Ok(Rows {
            path,
            target_columns,
            kind,
            columns: None,
            first: true,
            count: 0,
            classes: Vec::new(),
            values: Vec::new(),
        })
    }

    /// Reads line `line`, pushing its features onto `inputs` and keeping its
    /// targets. Returns whether it was a data row (blank lines and a header
    /// are not).
    fn row(&mut self, raw: &str, line: usize, inputs: &mut Vec<f32>) -> Result<bool, DataError> {
        let p = || self.path.to_path_buf();
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            return Ok(false);
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        match self.columns {
            None => {
                if fields.len() <= self.target_columns {
                    return Err(DataError::CsvTooFewColumns {
                        path: p(),
                        columns: fields.len(),
                        target_columns: self.target_columns,
                    });
                }
                self.columns = Some((fields.len(), line));
            }
            Some((expected, first_line)) if fields.len() != expected => {
                return Err(DataError::CsvColumns {
                    path: p(),
                    line,
                    expected,
                    found: fields.len(),
                    first_line,
                });
            }
            Some(_) => {}
        }
        if std::mem::take(&mut self.first) && fields.iter().all(|f| !f.is_empty() && !numeric(f)) {
            return Ok(false); // header
        }
        let n_features = fields.len() - self.target_columns;
        for (c, f) in fields.iter().enumerate() {
            let field_error = |expected: &'static str| DataError::CsvField {
                path: p(),
                line,
                column: c + 1,
                text: f.to_string(),
                expected: expected.into(),
            };
            if c < n_features {
                inputs.push(number(f).ok_or_else(|| field_error("a finite number"))?);
                continue;
            }
            match self.kind {
                CsvTargets::Classes { classes: k } => {
                    // Read as an integer, not through f32, which rounds 4294967296 to u32::MAX.
                    let class = f
                        .parse::<u64>()
                        .ok()
                        .filter(|&c| c < k as u64 && c <= u64::from(u32::MAX));
                    let Some(class) = class else {
                        return Err(DataError::CsvField {
                            path: p(),
                            line,
                            column: c + 1,
                            text: f.to_string(),
                            expected: format!("a class index from 0 to {}", k.saturating_sub(1)).into(),
                        });
                    };
                    self.classes.push(class as u32);
                }
                CsvTargets::Binary => {
                    let x = number(f).filter(|&x| x == 0.0 || x == 1.0);
                    self.values
                        .push(x.ok_or_else(|| field_error("a binary target, 0 or 1"))?);
                }
                CsvTargets::Values => self
                    .values
                    .push(number(f).ok_or_else(|| field_error("a finite number"))?),
            }
        }
        self.count += 1;
        Ok(true)
    }

    /// The number of features and the targets of every data row.
    fn finish(self) -> Result<(usize, TargetData), DataError> {
        let Some((count, _)) = self.columns else {
            return Err(DataError::Empty {
                path: self.path.to_path_buf(),
            });
        };
        if self.count == 0 {
            return Err(DataError::Invalid(format!(
                "{}: has a header but no data rows",
                self.path.display()
            )));
        }
        let targets = match self.kind {
            CsvTargets::Classes { .. } => TargetData::Classes(self.classes),
            CsvTargets::Binary | CsvTargets::Values => TargetData::Values(self.values, self.target_columns),
        };
        Ok((count - self.target_columns, targets))
    }
}

/// Where a data row is in its file.
#[derive(Clone, Copy, Debug)]
struct RowAt {
    offset: u64,
    len: u32,
    line: u32,
}

/// A CSV file read as [`Samples`]: one pass checks every row and keeps the
/// targets and where each row starts; a batch reads its rows from the file
/// again, so that the features are never all in memory. Gzipped files
/// cannot be read at an offset; [`read`] them whole, or decompress them.
#[derive(Debug)]
pub struct CsvStream {
    path: PathBuf,
    rows: Vec<RowAt>,
    shape: [usize; 1],
    target_columns: usize,
    kind: CsvTargets,
    targets: TargetData,
    /// The open file and a row's worth of scratch space.
    reader: Mutex<(File, Vec<u8>, Vec<f32>)>,
}

impl CsvStream {
    /// Checks every row of the file at `path` as [`read`] does, keeping the
    /// targets and where each row is.
    pub fn open(path: impl AsRef<Path>, target_columns: usize, kind: CsvTargets) -> Result<Self, DataError> {
        let path = path.as_ref();
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut rows = Rows::new(path, target_columns, kind)?;
        let mut at = Vec::new();
        let (mut line, mut offset, mut buf, mut scratch) = (0usize, 0u64, Vec::new(), Vec::new());
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            line += 1;
            if line == 1 && buf.starts_with(&[0x1f, 0x8b]) {
                return Err(DataError::Invalid(format!(
                    "{}: the file is gzipped, and a gzipped CSV cannot be streamed; decompress it, or let \
                     specc read it into memory",
                    path.display()
                )));
            }
            let skip = if line == 1 && buf.starts_with("\u{feff}".as_bytes()) {
                3
            } else {
                0
            };
            let content = buf[skip..].strip_suffix(b"\n").unwrap_or(&buf[skip..]);
            let text = std::str::from_utf8(content).map_err(|_| DataError::CsvEncoding {
                path: path.to_path_buf(),
                line,
            })?;
            scratch.clear();
            if rows.row(text, line, &mut scratch)? {
                let (Ok(len), Ok(line)) = (u32::try_from(content.len()), u32::try_from(line)) else {
                    return Err(DataError::Invalid(format!(
                        "{}:{line}: rows longer than 4 GiB or files of more than 2^32 lines cannot be streamed",
                        path.display()
                    )));
                };
                at.push(RowAt {
                    offset: offset + skip as u64,
                    len,
                    line,
                });
            }
            offset += n as u64;
        }
        let (features, targets) = rows.finish()?;
        let file = File::open(path).map_err(io)?;
        Ok(CsvStream {
            path: path.to_path_buf(),
            rows: at,
            shape: [features],
            target_columns,
            kind,
            targets,
            reader: Mutex::new((file, Vec::new(), Vec::new())),
        })
    }
}

impl Samples for CsvStream {
    fn sample_shape(&self) -> &[usize] {
        &self.shape
    }

    fn targets(&self) -> &TargetData {
        &self.targets
    }

    fn class_names(&self) -> &[String] {
        &[]
    }

    fn read_inputs(&self, indices: &[usize], out: &mut [f32]) -> Result<(), DataError> {
        let n = self.shape[0];
        assert_eq!(out.len(), indices.len() * n, "input buffer length");
        let mut guard = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (file, bytes, values) = &mut *guard;
        let changed = |line: u32, why: &str| {
            DataError::Invalid(format!(
                "{}:{line}: {why} since training started; the file must not change while it is streamed",
                self.path.display()
            ))
        };
        for (o, &i) in out.chunks_exact_mut(n).zip(indices) {
            let row = self.rows[i];
            bytes.resize(row.len as usize, 0);
            file.seek(SeekFrom::Start(row.offset))
                .and_then(|_| file.read_exact(bytes))
                .map_err(|source| DataError::Io {
                    path: self.path.clone(),
                    source,
                })?;
            let text = std::str::from_utf8(bytes).map_err(|_| changed(row.line, "the row changed"))?;
            // A row already checked, read with the same rules.
            let mut rows = Rows::new(&self.path, self.target_columns, self.kind)?;
            rows.first = false;
            values.clear();
            if !rows.row(text, row.line as usize, values)? || values.len() != n {
                return Err(changed(row.line, "the row changed"));
            }
            o.copy_from_slice(values);
        }
        Ok(())
    }

    fn is_streamed(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{gzip, shared_data, temp_dir};
    use super::*;
    use std::path::PathBuf;

    fn write(name: &str, bytes: &[u8]) -> (PathBuf, PathBuf) {
        let dir = temp_dir("csv");
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        (dir, p)
    }

    #[test]
    fn without_header() {
        let (dir, p) = write("a.csv", b"1,2,0\n3.5,-4,2\r\n\n5,6e-1,1\n");
        let d = read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap();
        assert_eq!(d.len, 3);
        assert_eq!(d.sample_shape, vec![2]);
        assert_eq!(d.inputs, vec![1.0, 2.0, 3.5, -4.0, 5.0, 0.6]);
        assert_eq!(d.targets, TargetData::Classes(vec![0, 2, 1]));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn with_header_and_values() {
        let (dir, p) = write("b.csv", b"x1, x2, y1, y2\n1,2,3,4\n5,6,7,8");
        let d = read(&p, 2, CsvTargets::Values).unwrap();
        assert_eq!(d.len, 2);
        assert_eq!(d.sample_shape, vec![2]);
        assert_eq!(d.inputs, vec![1.0, 2.0, 5.0, 6.0]);
        assert_eq!(d.targets, TargetData::Values(vec![3.0, 4.0, 7.0, 8.0], 2));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_first_row_with_a_bad_value_is_an_error_not_a_header() {
        // Each of these first rows used to be taken for a header and dropped.
        for (first, column, shown) in [
            ("nan,2,0", 1, "nan"),
            ("1,inf,0", 2, "inf"),
            ("1,,0", 2, ""),
            ("1,2\0,0", 2, "2\\0"),
        ] {
            let text = format!("{first}\n3,4,1\n5,6,2\n");
            let (dir, p) = write("first.csv", text.as_bytes());
            let e = read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap_err();
            assert!(
                matches!(&e, DataError::CsvField { line: 1, column: c, .. } if *c == column),
                "{first}: {e}"
            );
            let msg = e.to_string();
            assert!(
                msg.contains("first.csv:1: column") && msg.contains(&format!("found `{shown}`")),
                "{msg}"
            );
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_header_or_data_is_skipped() {
        let (dir, p) = write("bom.csv", "\u{feff}x1,x2,y\n1,2,0\n".as_bytes());
        assert_eq!(read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap().len, 1);
        let (dir2, p2) = write("bom2.csv", "\u{feff}1,2,0\n3,4,1\n".as_bytes());
        assert_eq!(read(&p2, 1, CsvTargets::Classes { classes: 10 }).unwrap().len, 2);
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(dir2).unwrap();
    }

    #[test]
    fn labels_out_of_range_name_the_file_line_and_value() {
        for label in ["10", "4294967296", "-1", "1.5"] {
            let text = format!("x,y,label\n1,2,3\n3,4,{label}\n");
            let (dir, p) = write("labels.csv", text.as_bytes());
            let msg = read(&p, 1, CsvTargets::Classes { classes: 10 })
                .unwrap_err()
                .to_string();
            assert!(msg.contains("labels.csv:3: column 3"), "{msg}");
            assert!(
                msg.contains("a class index from 0 to 9") && msg.contains(&format!("found `{label}`")),
                "{msg}"
            );
            std::fs::remove_dir_all(dir).unwrap();
        }
        let (dir, p) = write("binary.csv", b"1,2,1\n3,4,0.5\n");
        let msg = read(&p, 1, CsvTargets::Binary).unwrap_err().to_string();
        assert!(
            msg.contains("binary.csv:2: column 3: expected a binary target, 0 or 1"),
            "{msg}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_stream_reads_what_read_loads() {
        let text = "\u{feff}x1, x2, y\r\n1,2,0\r\n\n3.5,-4,2\n5,6e-1,1\n7,8,0";
        let (dir, p) = write("stream.csv", text.as_bytes());
        let kind = CsvTargets::Classes { classes: 3 };
        let all = read(&p, 1, kind).unwrap();
        let stream = CsvStream::open(&p, 1, kind).unwrap();
        assert!(stream.is_streamed());
        assert_eq!((stream.len(), stream.sample_shape()), (4, &[2][..]));
        assert_eq!(stream.targets(), &all.targets);
        let picks = [3, 0, 2, 2, 1];
        let mut out = vec![0.0; 10];
        stream.read_inputs(&picks, &mut out).unwrap();
        let expected: Vec<f32> = picks.iter().flat_map(|&i| all.sample(i).to_vec()).collect();
        assert_eq!(out, expected);

        // Rows that change under a stream are an error naming the line.
        std::fs::write(&p, text.replace("3.5,-4", "3.5,x4")).unwrap();
        let msg = stream.read_inputs(&[1], &mut [0.0; 2]).unwrap_err().to_string();
        assert!(msg.contains("stream.csv:4: column 2"), "{msg}");
        std::fs::write(&p, "1,2\n").unwrap();
        let msg = stream.read_inputs(&[3], &mut [0.0; 2]).unwrap_err().to_string();
        assert!(msg.contains("cannot read") && msg.contains("stream.csv"), "{msg}");

        // The checks are those of `read`, with the same errors.
        for bad in [
            "1,2,0\n3,4\n",
            "1,2,0\n3,x,1\n",
            "1,2,0\n3,\u{ff},1\n",
            "",
            "a,b,c\n",
        ] {
            std::fs::write(&p, bad).unwrap();
            let (a, b) = (
                read(&p, 1, kind).unwrap_err(),
                CsvStream::open(&p, 1, kind).unwrap_err(),
            );
            assert_eq!(a.to_string(), b.to_string(), "{bad:?}");
        }
        std::fs::write(&p, b"1,2,0\n3,4,\xff\n").unwrap();
        assert!(matches!(
            CsvStream::open(&p, 1, kind).unwrap_err(),
            DataError::CsvEncoding { line: 2, .. }
        ));
        std::fs::write(&p, gzip(b"1,2,0\n")).unwrap();
        let msg = CsvStream::open(&p, 1, kind).unwrap_err().to_string();
        assert!(msg.contains("gzipped CSV cannot be streamed"), "{msg}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn gzipped() {
        let (dir, p) = write("c.csv.gz", &gzip(b"a,b,label\n0.5,0.25,1\n"));
        let d = read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap();
        assert_eq!(d.inputs, vec![0.5, 0.25]);
        assert_eq!(d.targets, TargetData::Classes(vec![1]));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn wrong_column_count() {
        let (dir, p) = write("d.csv", b"h1,h2,h3\n1,2,3\n4,5\n");
        let e = read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::CsvColumns {
                    line: 3,
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("d.csv:3") && msg.contains("column 3 missing"),
            "{msg}"
        );
        let (dir2, p) = write("e.csv", b"1,2,3\n4,5,6,7\n");
        let msg = read(&p, 1, CsvTargets::Classes { classes: 10 })
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("e.csv:2") && msg.contains("column 4 is extra"),
            "{msg}"
        );
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(dir2).unwrap();
    }

    #[test]
    fn non_number_field() {
        let (dir, p) = write("f.csv", b"1,2,3\n4,five,6\n");
        let e = read(&p, 1, CsvTargets::Values).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::CsvField {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{e}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains("f.csv:2") && msg.contains("column 2") && msg.contains("`five`"),
            "{msg}"
        );
        assert!(msg.contains("expected a finite number"), "{msg}");
        // NaN and infinities are not accepted either
        std::fs::write(&p, b"1,2,3\n4,inf,6\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Values).unwrap_err(),
            DataError::CsvField { column: 2, .. }
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_garbage_and_too_few_columns() {
        let (dir, p) = write("h.csv", b"");
        assert!(matches!(
            read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap_err(),
            DataError::Empty { .. }
        ));
        std::fs::write(&p, b"\n\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Classes { classes: 10 }).unwrap_err(),
            DataError::Empty { .. }
        ));
        std::fs::write(&p, b"a,b\n").unwrap();
        assert!(
            read(&p, 1, CsvTargets::Classes { classes: 10 })
                .unwrap_err()
                .to_string()
                .contains("no data rows")
        );
        std::fs::write(&p, b"1\n2\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Values).unwrap_err(),
            DataError::CsvTooFewColumns { .. }
        ));
        std::fs::write(&p, [0x1f, 0x8b, 0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Values).unwrap_err(),
            DataError::Gzip { .. }
        ));
        std::fs::write(&p, b"1,2\n3,\xff\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Values).unwrap_err(),
            DataError::CsvEncoding { line: 2, .. }
        ));
        assert!(read(&p, 2, CsvTargets::Classes { classes: 10 }).is_err());
        assert!(read(&p, 0, CsvTargets::Values).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    #[ignore = "reads scikit-learn's digits; set SPECC_DATA to the shared data directory"]
    fn real_digits() {
        let path = shared_data().join("digits").join("digits.csv.gz");
        let d = read(&path, 1, CsvTargets::Classes { classes: 10 }).unwrap();
        assert_eq!(d.len, 1_797);
        assert_eq!(d.sample_shape, vec![64]);
        assert_eq!(d.classes(), Some(10));
        let counts = d.class_counts().unwrap();
        assert_eq!(
            (*counts.iter().min().unwrap(), *counts.iter().max().unwrap()),
            (174, 183)
        );
        assert!(
            d.inputs
                .iter()
                .all(|&x| (0.0..=16.0).contains(&x) && x.fract() == 0.0)
        );
    }
}
