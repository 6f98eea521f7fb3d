//! Diagnostics: what went wrong, where, and what to do about it.
//!
//! Library code produces [`Diagnostic`] values; [`render`] turns them into
//! rustc-style text (file:line:col, the source line, a caret, notes and help).
//! The `model!` macro uses the same values and attaches them to token spans.

use crate::syntax::Span;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label as CsLabel};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// A labelled span: the caret and the text beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One error in a spec.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The headline, e.g. "unknown layer `dens`".
    pub message: String,
    /// Where the error is; its message may be empty.
    pub primary: Label,
    /// Other places that explain the error (e.g. the first of two duplicates).
    pub secondary: Vec<Label>,
    /// Extra lines: "expected ...", "note: ...".
    pub notes: Vec<String>,
    /// What to do about it, if clear: "did you mean `dense`?"
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// The text beside the caret.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// The message with its notes and help on one string, as the `model!`
    /// macro shows it (the span carries the location).
    pub fn message_with_notes(&self) -> String {
        let mut text = self.message.clone();
        if !self.primary.message.is_empty() {
            text.push_str(&format!(": {}", self.primary.message));
        }
        for note in &self.notes {
            text.push_str(&format!("\n= note: {note}"));
        }
        if let Some(help) = &self.help {
            text.push_str(&format!("\n= help: {help}"));
        }
        text
    }
}

/// Renders diagnostics as rustc does, without colour:
///
/// ```text
/// error: unknown layer `dens`
///  --> model.spec:4:5
///   |
/// 4 |     dens(10);
///   |     ^^^^ not a layer
///   |
///   = help: did you mean `dense`?
/// ```
pub fn render(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> String {
    let file = SimpleFile::new(file_name, source);
    let config = Config {
        chars: term::Chars::ascii(),
        ..Config::default()
    };
    let mut out = String::new();
    for diagnostic in diagnostics {
        let cs = to_codespan(diagnostic, source.len());
        let mut buffer = Vec::new();
        {
            let mut writer = term::termcolor::NoColor::new(&mut buffer);
            // Writing to a Vec cannot fail, and every span is clamped to the source.
            if term::emit_to_write_style(&mut writer, &config, &file, &cs).is_err() {
                out.push_str(&format!("error: {}\n", diagnostic.message));
                continue;
            }
        }
        out.push_str(&String::from_utf8_lossy(&buffer));
    }
    out
}

fn to_codespan(diagnostic: &Diagnostic, source_len: usize) -> CsDiagnostic<()> {
    let clamp = |span: Span| {
        let start = span.start.min(source_len);
        start..span.end.clamp(start, source_len)
    };
    let mut labels = vec![
        CsLabel::primary((), clamp(diagnostic.primary.span)).with_message(diagnostic.primary.message.clone()),
    ];
    for label in &diagnostic.secondary {
        labels.push(CsLabel::secondary((), clamp(label.span)).with_message(label.message.clone()));
    }
    let mut notes: Vec<String> = diagnostic.notes.iter().map(|n| format!("note: {n}")).collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    CsDiagnostic::error()
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

/// The closest candidate to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" for use as a help line.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let layers = ["dense", "conv2d", "maxpool2d", "flatten"];
        assert_eq!(did_you_mean("dens", layers), Some("dense"));
        assert_eq!(did_you_mean("conv2", layers), Some("conv2d"));
        assert_eq!(did_you_mean("falten", layers), Some("flatten"));
        assert_eq!(did_you_mean("lstm", layers), None);
    }
}
