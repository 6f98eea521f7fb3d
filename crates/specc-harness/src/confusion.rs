//! Per-class evaluation of a classifier: the confusion matrix, each class's
//! precision, recall and F1, and their CSV and SVG forms.

use std::fmt::Write;

/// Counts of (actual class, predicted class) over an evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    /// `counts[actual * classes + predicted]`.
    counts: Vec<u64>,
}

/// One class's scores. Precision is `None` when the class was never
/// predicted, recall when it never occurs, F1 when either is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassScores {
    /// How many samples are of this class.
    pub support: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
}

impl Confusion {
    pub fn new(classes: usize) -> Self {
        Confusion {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Counts one sample. Classes out of range are ignored (the data's
    /// labels are checked against the model before evaluation).
    pub fn add(&mut self, actual: usize, predicted: usize) {
        if actual < self.classes && predicted < self.classes {
            self.counts[actual * self.classes + predicted] += 1;
        }
    }

    /// Samples of class `actual` predicted as `predicted`.
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The fraction predicted right (0 for no samples).
    pub fn accuracy(&self) -> f64 {
        let right: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        right as f64 / self.total().max(1) as f64
    }

    /// Each class's scores, by label.
    pub fn scores(&self) -> Vec<ClassScores> {
        (0..self.classes)
            .map(|c| {
                let right = self.count(c, c) as f64;
                let support: u64 = (0..self.classes).map(|p| self.count(c, p)).sum();
                let predicted: u64 = (0..self.classes).map(|a| self.count(a, c)).sum();
                let precision = (predicted > 0).then(|| right / predicted as f64);
                let recall = (support > 0).then(|| right / support as f64);
                let f1 = match (precision, recall) {
                    (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                    (Some(_), Some(_)) => Some(0.0),
                    _ => None,
                };
                ClassScores {
                    support,
                    precision,
                    recall,
                    f1,
                }
            })
            .collect()
    }

    /// The mean F1 over the classes that have one.
    pub fn macro_f1(&self) -> Option<f64> {
        let f1: Vec<f64> = self.scores().iter().filter_map(|s| s.f1).collect();
        (!f1.is_empty()).then(|| f1.iter().sum::<f64>() / f1.len() as f64)
    }

    /// The matrix as CSV: a header row of predicted classes, then one row
    /// per actual class.
    pub fn matrix_csv(&self, names: &[String]) -> String {
        let mut out = String::from("actual\\predicted");
        for p in 0..self.classes {
            let _ = write!(out, ",{}", csv_field(&name(names, p)));
        }
        out.push('\n');
        for a in 0..self.classes {
            out.push_str(&csv_field(&name(names, a)));
            for p in 0..self.classes {
                let _ = write!(out, ",{}", self.count(a, p));
            }
            out.push('\n');
        }
        out
    }

    /// The per-class scores as CSV (`label,class,support,precision,recall,f1`;
    /// an undefined score is an empty field).
    pub fn scores_csv(&self, names: &[String]) -> String {
        let mut out = String::from("label,class,support,precision,recall,f1\n");
        let opt = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.6}"));
        for (c, s) in self.scores().iter().enumerate() {
            let _ = writeln!(
                out,
                "{c},{},{},{},{},{}",
                csv_field(&name(names, c)),
                s.support,
                opt(s.precision),
                opt(s.recall),
                opt(s.f1)
            );
        }
        out
    }

    /// The matrix and the scores as text for a terminal: the matrix for up
    /// to 20 classes, then one line of scores per class.
    pub fn text(&self, names: &[String]) -> String {
        let mut out = String::new();
        let labels: Vec<String> = (0..self.classes).map(|c| name(names, c)).collect();
        let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(6);
        if self.classes <= 20 {
            let width = self
                .counts
                .iter()
                .map(|c| c.to_string().len())
                .chain(labels.iter().map(|l| l.chars().count().min(10)))
                .max()
                .unwrap_or(1);
            let _ = writeln!(
                out,
                "confusion matrix (rows: actual class, columns: predicted class):"
            );
            let _ = write!(out, "{:label_width$}", "");
            for l in &labels {
                let short: String = l.chars().take(10).collect();
                let _ = write!(out, " {short:>width$}");
            }
            out.push('\n');
            for (a, l) in labels.iter().enumerate() {
                let _ = write!(out, "{l:label_width$}");
                for p in 0..self.classes {
                    let _ = write!(out, " {:>width$}", self.count(a, p));
                }
                out.push('\n');
            }
        }
        let pct = |x: Option<f64>| x.map_or("     -".to_string(), |x| format!("{:5.1}%", 100.0 * x));
        let _ = writeln!(
            out,
            "{:label_width$}  precision  recall      f1  support",
            "class"
        );
        for (l, s) in labels.iter().zip(self.scores()) {
            let _ = writeln!(
                out,
                "{l:label_width$}     {}  {}  {}  {:>7}",
                pct(s.precision),
                pct(s.recall),
                pct(s.f1),
                s.support
            );
        }
        let _ = write!(
            out,
            "accuracy {:.2}% of {}, macro F1 {}",
            100.0 * self.accuracy(),
            self.total(),
            self.macro_f1()
                .map_or("-".to_string(), |f| format!("{:.2}%", 100.0 * f))
        );
        out
    }

    /// The matrix as an SVG heat map: each cell shaded by the fraction of
    /// its row (the actual class) it holds, with its count written in.
    pub fn svg(&self, names: &[String]) -> String {
        let n = self.classes;
        let cell = if n <= 12 {
            44.0
        } else {
            (520.0 / n as f64).max(6.0)
        };
        let label_chars = (0..n)
            .map(|c| name(names, c).chars().count())
            .max()
            .unwrap_or(1)
            .min(24);
        let margin = 30.0 + 7.0 * label_chars as f64;
        let size = margin + cell * n as f64 + 20.0;
        let mut out = String::new();
        let _ = writeln!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size:.0}" height="{:.0}" font-family="sans-serif" font-size="12">"#,
            size + 20.0
        );
        let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="16" text-anchor="middle">predicted class</text>"#,
            margin + cell * n as f64 / 2.0
        );
        let _ = writeln!(
            out,
            r#"<text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">actual class</text>"#,
            margin + cell * n as f64 / 2.0
        );
        for c in 0..n {
            let label = xml_escape(&name(names, c).chars().take(24).collect::<String>());
            let mid = margin + cell * (c as f64 + 0.5);
            let _ = writeln!(
                out,
                r#"<text x="{mid:.1}" y="{:.1}" text-anchor="end" transform="rotate(-45 {mid:.1} {:.1})">{label}</text>"#,
                margin - 6.0,
                margin - 6.0
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{label}</text>"#,
                margin - 6.0,
                mid
            );
        }
        for a in 0..n {
            let row: u64 = (0..n).map(|p| self.count(a, p)).sum();
            for p in 0..n {
                let count = self.count(a, p);
                let share = count as f64 / row.max(1) as f64;
                // White to a deep blue.
                let shade = |full: f64| (255.0 - share * (255.0 - full)).round() as u8;
                let (x, y) = (margin + cell * p as f64, margin + cell * a as f64);
                let _ = writeln!(
                    out,
                    r##"<rect x="{x:.1}" y="{y:.1}" width="{cell:.1}" height="{cell:.1}" fill="#{:02x}{:02x}{:02x}" stroke="#ddd"><title>actual {}, predicted {}: {count}</title></rect>"##,
                    shade(8.0),
                    shade(48.0),
                    shade(107.0),
                    xml_escape(&name(names, a)),
                    xml_escape(&name(names, p))
                );
                if cell >= 24.0 && count > 0 {
                    let ink = if share > 0.5 { "white" } else { "black" };
                    let _ = writeln!(
                        out,
                        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" dominant-baseline="middle" fill="{ink}">{count}</text>"#,
                        x + cell / 2.0,
                        y + cell / 2.0
                    );
                }
            }
        }
        out.push_str("</svg>\n");
        out
    }
}

/// Class `c`'s name, or its number.
fn name(names: &[String], c: usize) -> String {
    names.get(c).cloned().unwrap_or_else(|| c.to_string())
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Confusion {
        // 3 classes: actual 0 -> 0,0,1; actual 1 -> 1,1,1,2; actual 2 -> none.
        let mut c = Confusion::new(3);
        for (a, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (1, 1), (1, 1), (1, 2)] {
            c.add(a, p);
        }
        c
    }

    #[test]
    fn scores_follow_their_definitions() {
        let c = example();
        assert_eq!(c.total(), 7);
        assert!((c.accuracy() - 5.0 / 7.0).abs() < 1e-12);
        let s = c.scores();
        assert_eq!(s[0].support, 3);
        assert_eq!(s[0].precision, Some(1.0));
        assert!((s[0].recall.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[0].f1.unwrap() - 0.8).abs() < 1e-12);
        assert!((s[1].precision.unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(s[1].recall, Some(0.75));
        // Class 2 never occurs but is predicted once: precision 0, no recall.
        assert_eq!(
            (s[2].support, s[2].precision, s[2].recall, s[2].f1),
            (0, Some(0.0), None, None)
        );
        assert!((c.macro_f1().unwrap() - (0.8 + 0.75) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn csv_text_and_svg_name_the_classes() {
        let c = example();
        let names = vec!["cat".to_string(), "dog, big".to_string(), "<emu>".to_string()];
        assert_eq!(
            c.matrix_csv(&names),
            "actual\\predicted,cat,\"dog, big\",<emu>\ncat,2,1,0\n\"dog, big\",0,3,1\n<emu>,0,0,0\n"
        );
        let scores = c.scores_csv(&names);
        assert!(
            scores
                .starts_with("label,class,support,precision,recall,f1\n0,cat,3,1.000000,0.666667,0.800000\n")
        );
        assert!(scores.ends_with("2,<emu>,0,0.000000,,\n"), "{scores}");
        let text = c.text(&[]);
        assert!(text.contains("accuracy 71.43% of 7, macro F1 77.50%"), "{text}");
        let svg = c.svg(&names);
        assert!(svg.contains("&lt;emu&gt;") && !svg.contains("<emu>") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<rect x=").count(), 9);
    }
}
