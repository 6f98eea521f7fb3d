//! The macro's compile errors, text and span, as users see them (trybuild
//! UI tests: each `tests/ui/*.rs` beside its expected `.stderr`), and
//! programs that define and train a model through the macro.
//!
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p specc --test ui`
//! and read the diff: the caret must sit on the offending token.

#[test]
fn ui() {
    // trybuild compiles the cases in a crate of its own under `target/`, so
    // `model_file!` paths would resolve there; point them back at this package.
    // SAFETY: this is the only test in this binary and nothing else runs yet.
    unsafe { std::env::set_var("SPECC_MANIFEST_DIR_OVERRIDE", env!("CARGO_MANIFEST_DIR")) };
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
