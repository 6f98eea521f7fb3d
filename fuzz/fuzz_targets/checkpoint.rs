//! Loads arbitrary bytes as a safetensors checkpoint of the `digits_mlp`
//! example: nothing may panic, and a checkpoint that loads must leave finite
//! weights and sane training metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use specc_core::Inference;
use specc_train::Model;
use specc_tests::f32::digits_mlp::DigitsMlp;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let mut model = DigitsMlp::new(0);
    if let Ok(meta) = specc_harness::checkpoint::load_bytes(data, Path::new("fuzz.safetensors"), &mut model) {
        assert!(meta.batch >= 1 && meta.base_learning_rate > 0.0);
        for t in DigitsMlp::TENSORS {
            assert!(model.tensor(t.name).unwrap().iter().all(|x| x.is_finite()));
        }
    }
});
