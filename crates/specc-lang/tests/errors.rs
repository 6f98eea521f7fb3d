//! Every fixture in `tests/fixtures/errors` is a bad spec with one error (or,
//! for `multiple_errors.spec`, several independent ones). Each must be rejected
//! and its rendered diagnostics are snapshotted.

use std::fs;
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    files.sort();
    files
}

fn name_of(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

fn relative(path: &Path) -> String {
    format!(
        "tests/fixtures/errors/{}",
        path.file_name().unwrap().to_string_lossy()
    )
}

/// The diagnostics of a fixture, which must fail to check.
fn diagnostics(path: &Path) -> (String, Vec<specc_lang::Diagnostic>) {
    let source = fs::read_to_string(path).unwrap();
    match specc_lang::check_source(&source) {
        Ok(_) => panic!("{} checked without errors", relative(path)),
        Err(diags) => (source, diags),
    }
}

#[test]
fn there_are_enough_fixtures() {
    assert!(fixtures().len() >= 28, "only {} fixtures", fixtures().len());
}

#[test]
fn every_fixture_is_rejected_with_a_located_message() {
    for path in fixtures() {
        let name = name_of(&path);
        let file = relative(&path);
        let (source, diags) = diagnostics(&path);
        assert!(!diags.is_empty(), "{file}: Err with no diagnostics");
        for diag in &diags {
            let span = diag.primary.span;
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "{file}: span {span:?} outside the source"
            );
            assert!(!diag.message.is_empty(), "{file}: empty message");
            let rendered = specc_lang::render(std::slice::from_ref(diag), &file, &source);
            let location = format!("{file}:");
            let after = rendered
                .split_once(&location)
                .map(|(_, rest)| rest)
                .unwrap_or_else(|| panic!("{file}: no location in\n{rendered}"));
            let mut parts = after.splitn(3, |c: char| c == ':' || c.is_whitespace());
            let line = parts.next().unwrap_or("");
            let col = parts.next().unwrap_or("");
            assert!(
                line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok(),
                "{file}: no line:col in\n{rendered}"
            );
            assert!(rendered.contains('^'), "{file}: no caret in\n{rendered}");
        }
        let rendered = specc_lang::render(&diags, &file, &source);
        insta::with_settings!({ snapshot_suffix => name.clone(), description => file.clone(), omit_expression => true }, {
            insta::assert_snapshot!("error", rendered);
        });
    }
}

#[test]
fn independent_errors_are_all_reported() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors/multiple_errors.spec");
    let (_, diags) = diagnostics(&path);
    assert!(diags.len() >= 3, "only {} diagnostics: {diags:#?}", diags.len());
}

#[test]
fn syntax_errors_are_single_and_point_at_the_token() {
    let cases = [
        ("syntax_missing_semicolon", "loss"),
        ("syntax_hash_comment", "#"),
        ("syntax_quoted_string", "\""),
        ("syntax_stray_token", ")"),
    ];
    for (name, token) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/errors/{name}.spec"));
        let (source, diags) = diagnostics(&path);
        assert_eq!(diags.len(), 1, "{name}: {diags:#?}");
        let span = diags[0].primary.span;
        assert!(
            source[span.start..].starts_with(token),
            "{name}: caret at {:?}, expected `{token}`",
            &source[span.start..span.end]
        );
    }
}

#[test]
fn suggestions_are_offered() {
    let cases = [
        ("unknown_layer", "dense"),
        ("unknown_argument", "kernel"),
        ("dense_on_image", "flatten"),
        ("syntax_hash_comment", "//"),
    ];
    for (name, suggestion) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/errors/{name}.spec"));
        let (_, diags) = diagnostics(&path);
        let help = diags[0].help.clone().unwrap_or_default();
        assert!(
            help.contains(suggestion),
            "{name}: help {help:?} lacks `{suggestion}`"
        );
    }
}
