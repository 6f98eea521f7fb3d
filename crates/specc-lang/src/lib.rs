//! The specc spec language: grammar, syntax tree, checker and checked model.
//!
//! One grammar and one checker serve every way into specc: the `specc` CLI,
//! the `specc::model!` macro and the build-script helper all call [`check_source`]
//! and consume the resulting [`CheckedFile`].
//!
//! ```
//! let file = specc_lang::check_source(
//!     "model Tiny { input [4]; dense(2); loss mse; optimizer sgd(lr = 0.1); }",
//! )
//! .unwrap();
//! assert_eq!(file.models[0].total_params(), 10);
//! ```

pub mod activation;
pub mod args;
pub mod check;
pub mod diagnostic;
pub mod limits;
pub mod model;
pub mod parser;
pub mod summary;
pub mod syntax;

pub use check::{check_file, check_file_with};
pub use diagnostic::{Diagnostic, render};
pub use limits::Limits;
pub use model::*;
pub use parser::parse;

/// Parses and checks a whole spec text with the default [`Limits`].
pub fn check_source(source: &str) -> Result<CheckedFile, Vec<Diagnostic>> {
    check_source_with(source, &Limits::default())
}

/// Parses and checks a whole spec text.
pub fn check_source_with(source: &str, limits: &Limits) -> Result<CheckedFile, Vec<Diagnostic>> {
    let file = parse(source).map_err(|d| vec![d])?;
    check_file_with(&file, limits)
}

/// Spec files as text: UTF-8, or an error giving the byte offset, line and
/// column of the first byte that is not.
pub fn decode_source(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Valid UTF-8 up to `at`, so the column counts characters.
        let column = std::str::from_utf8(&before[line_start..]).map_or(0, |t| t.chars().count()) + 1;
        format!(
            "{line}:{column}: the file is not UTF-8 text: byte 0x{:02x} at byte offset {at} is not valid UTF-8",
            bytes[at]
        )
    })
}

/// A stable 64-bit FNV-1a hash of a spec's text, shown in generated headers
/// and used to key build caches.
pub fn source_hash(source: &str) -> u64 {
    source.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The compiler version written into generated code.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
