//! Numeric CSV files, gzipped or plain: each row is the features of one
//! sample followed by its target column(s), separated by commas. A first row
//! none of whose fields is a number (`x1,x2,label`) is a header and skipped;
//! any other row is data, and a field in it that is not a finite number
//! (`nan`, `inf`, an empty field, a stray byte) is an error naming the file,
//! line and column, so that no row is ever dropped silently. A UTF-8 byte
//! order mark is skipped, blank lines are skipped, and `\r\n` line ends are
//! accepted.

use std::path::Path;

use super::{DataError, Dataset, TargetData, read_maybe_gzip};
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
    let p = || path.to_path_buf();
    if target_columns == 0 {
        return Err(DataError::Invalid(
            "a CSV data set needs at least one target column".into(),
        ));
    }
    if matches!(targets, CsvTargets::Classes { .. }) && target_columns != 1 {
        return Err(DataError::Invalid(format!(
            "class targets take exactly one column, not {target_columns}"
        )));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            return Err(DataError::CsvEncoding { path: p(), line });
        }
    };

    let mut columns: Option<(usize, usize)> = None; // (count, line it was set on)
    let mut inputs = Vec::new();
    let mut classes = Vec::new();
    let mut values = Vec::new();
    let mut rows = 0usize;
    let mut first = true;
    for (i, raw) in text.split('\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        match columns {
            None => {
                if fields.len() <= target_columns {
                    return Err(DataError::CsvTooFewColumns {
                        path: p(),
                        columns: fields.len(),
                        target_columns,
                    });
                }
                columns = Some((fields.len(), line));
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
        if std::mem::take(&mut first) && fields.iter().all(|f| !f.is_empty() && !numeric(f)) {
            continue; // header
        }
        let n_features = fields.len() - target_columns;
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
            match targets {
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
                    classes.push(class as u32);
                }
                CsvTargets::Binary => {
                    let x = number(f).filter(|&x| x == 0.0 || x == 1.0);
                    values.push(x.ok_or_else(|| field_error("a binary target, 0 or 1"))?);
                }
                CsvTargets::Values => values.push(number(f).ok_or_else(|| field_error("a finite number"))?),
            }
        }
        rows += 1;
    }
    let Some((count, _)) = columns else {
        return Err(DataError::Empty { path: p() });
    };
    if rows == 0 {
        return Err(DataError::Invalid(format!(
            "{}: has a header but no data rows",
            path.display()
        )));
    }
    let targets = match targets {
        CsvTargets::Classes { .. } => TargetData::Classes(classes),
        CsvTargets::Binary | CsvTargets::Values => TargetData::Values(values, target_columns),
    };
    Dataset::new(inputs, vec![count - target_columns], targets)
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
