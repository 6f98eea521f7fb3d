//! Decodes arbitrary bytes as an image file (PNG, JPEG or BMP, guessed from
//! the bytes) for a grayscale and an RGB input, resizing or not: nothing may
//! panic, and what is accepted must hold pixels in [0, 1].
#![no_main]

use libfuzzer_sys::fuzz_target;
use specc_harness::data::images::{Resize, decode_bytes};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    for (shape, resize) in [([3, 4, 5], Resize::None), ([1, 3, 3], Resize::Bilinear)] {
        let mut out = vec![f32::NAN; shape.iter().product()];
        if decode_bytes(data, Path::new("fuzz.png"), shape, resize, &mut out).is_ok() {
            assert!(out.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
});
