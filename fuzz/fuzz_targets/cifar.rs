//! Parses arbitrary bytes as a CIFAR-10 batch file: nothing may panic, and
//! what is accepted must be whole records with labels below 10 and pixels in
//! [0, 1].
#![no_main]

use libfuzzer_sys::fuzz_target;
use specc_harness::data::cifar;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    if let Ok(n) = cifar::parse_batch(data, Path::new("fuzz.bin"), &mut pixels, &mut labels) {
        assert_eq!(pixels.len(), n * cifar::IMAGE_BYTES);
        assert!(labels.iter().all(|&l| l < 10));
        assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }
});
