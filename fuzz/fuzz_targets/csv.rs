//! Parses arbitrary bytes as CSV data for a 10-class classifier and for a
//! 2-output regression: nothing may panic, and what is accepted must hold
//! finite inputs and labels below 10.
#![no_main]

use libfuzzer_sys::fuzz_target;
use specc_harness::data::TargetData;
use specc_harness::data::csv::{self, CsvTargets};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.csv");
    if let Ok(d) = csv::parse(data, path, 1, CsvTargets::Classes { classes: 10 }) {
        assert!(d.inputs.iter().all(|x| x.is_finite()));
        if let TargetData::Classes(labels) = &d.targets {
            assert!(labels.iter().all(|&l| l < 10));
        }
    }
    if let Ok(d) = csv::parse(data, path, 2, CsvTargets::Values) {
        assert!(d.inputs.iter().all(|x| x.is_finite()));
    }
});
