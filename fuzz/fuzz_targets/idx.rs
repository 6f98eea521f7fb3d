//! Parses arbitrary bytes (gzipped or not) as IDX images and labels: nothing
//! may panic, and what is accepted must hold pixels in [0, 1].
#![no_main]

use libfuzzer_sys::fuzz_target;
use specc_harness::data::{idx, maybe_gunzip};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz-idx");
    if let Ok(bytes) = maybe_gunzip(data.to_vec(), path)
        && let Ok(images) = idx::parse_images(bytes, path)
    {
        assert_eq!(images.pixels.len(), images.count * images.rows * images.cols);
        assert!(images.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
    }
    let _ = idx::parse_labels(data.to_vec(), path);
});
