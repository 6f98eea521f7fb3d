//! Parses, checks and renders arbitrary text: nothing may panic, and every
//! diagnostic must point inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(diagnostics) = specc_lang::check_source(source) {
        for d in &diagnostics {
            assert!(d.primary.span.start <= d.primary.span.end);
            assert!(d.primary.span.end <= source.len());
        }
        let _ = specc_lang::render(&diagnostics, "fuzz.spec", source);
    }
});
