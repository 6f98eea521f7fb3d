//! Numeric CSV files, gzipped or plain: each row is the features of one
//! sample followed by its target column(s), separated by commas. A first row
//! with any field that is not a number is taken as a header and skipped.
//! Blank lines are skipped; `\r\n` line ends are accepted.

use std::path::Path;

use super::{DataError, Dataset, TargetData, read_maybe_gzip};
use crate::TargetKind;

/// How to read the target columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvTargets {
    /// One column of class indices (non-negative integers).
    Classes,
    /// One or more columns of real values.
    Values,
}

impl CsvTargets {
    /// Class indices for a `Classes` model, values otherwise.
    pub fn for_kind(kind: TargetKind) -> Self {
        match kind {
            TargetKind::Classes { .. } => CsvTargets::Classes,
            TargetKind::Binary | TargetKind::Values => CsvTargets::Values,
        }
    }
}

fn number(text: &str) -> Option<f32> {
    text.parse::<f32>().ok().filter(|x| x.is_finite())
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
    let p = || path.to_path_buf();
    if target_columns == 0 {
        return Err(DataError::Invalid(
            "a CSV data set needs at least one target column".into(),
        ));
    }
    if targets == CsvTargets::Classes && target_columns != 1 {
        return Err(DataError::Invalid(format!(
            "class targets take exactly one column, not {target_columns}"
        )));
    }
    let bytes = read_maybe_gzip(path)?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
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
        if std::mem::take(&mut first) && fields.iter().any(|f| number(f).is_none()) {
            continue; // header
        }
        let n_features = fields.len() - target_columns;
        for (c, f) in fields.iter().enumerate() {
            let field_error = |expected| DataError::CsvField {
                path: p(),
                line,
                column: c + 1,
                text: f.to_string(),
                expected,
            };
            let x = number(f).ok_or_else(|| field_error("a number"))?;
            if c < n_features {
                inputs.push(x);
            } else if targets == CsvTargets::Classes {
                if x < 0.0 || x.fract() != 0.0 || x > u32::MAX as f32 {
                    return Err(field_error("a class index (a non-negative integer)"));
                }
                classes.push(x as u32);
            } else {
                values.push(x);
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
        CsvTargets::Classes => TargetData::Classes(classes),
        CsvTargets::Values => TargetData::Values(values, target_columns),
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
        let d = read(&p, 1, CsvTargets::Classes).unwrap();
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
    fn gzipped() {
        let (dir, p) = write("c.csv.gz", &gzip(b"a,b,label\n0.5,0.25,1\n"));
        let d = read(&p, 1, CsvTargets::Classes).unwrap();
        assert_eq!(d.inputs, vec![0.5, 0.25]);
        assert_eq!(d.targets, TargetData::Classes(vec![1]));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn wrong_column_count() {
        let (dir, p) = write("d.csv", b"h1,h2,h3\n1,2,3\n4,5\n");
        let e = read(&p, 1, CsvTargets::Classes).unwrap_err();
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
        let msg = read(&p, 1, CsvTargets::Classes).unwrap_err().to_string();
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
        assert!(msg.contains("expected a number"), "{msg}");
        // NaN and infinities are not accepted either
        std::fs::write(&p, b"1,2,3\n4,inf,6\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Values).unwrap_err(),
            DataError::CsvField { column: 2, .. }
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn class_must_be_non_negative_integer() {
        for bad in ["-1", "1.5"] {
            let (dir, p) = write("g.csv", format!("1,2,0\n3,4,{bad}\n").as_bytes());
            let e = read(&p, 1, CsvTargets::Classes).unwrap_err();
            assert!(
                matches!(
                    e,
                    DataError::CsvField {
                        line: 2,
                        column: 3,
                        ..
                    }
                ),
                "{e}"
            );
            assert!(e.to_string().contains("non-negative integer"), "{e}");
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn empty_garbage_and_too_few_columns() {
        let (dir, p) = write("h.csv", b"");
        assert!(matches!(
            read(&p, 1, CsvTargets::Classes).unwrap_err(),
            DataError::Empty { .. }
        ));
        std::fs::write(&p, b"\n\n").unwrap();
        assert!(matches!(
            read(&p, 1, CsvTargets::Classes).unwrap_err(),
            DataError::Empty { .. }
        ));
        std::fs::write(&p, b"a,b\n").unwrap();
        assert!(
            read(&p, 1, CsvTargets::Classes)
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
        assert!(read(&p, 2, CsvTargets::Classes).is_err());
        assert!(read(&p, 0, CsvTargets::Values).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    #[ignore = "reads scikit-learn's digits; set SPECC_DATA to the shared data directory"]
    fn real_digits() {
        let path = shared_data().join("digits").join("digits.csv.gz");
        let d = read(&path, 1, CsvTargets::Classes).unwrap();
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
