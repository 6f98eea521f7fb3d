//! Every model of `specs/`, generated for inference only: each module
//! implements `specc_core::Inference` and names nothing else. The crate is
//! `no_std` and depends on `specc-core` without its `std` feature, so the
//! same code builds for a target without an operating system (it needs an
//! allocator for the workspace).
//!
//! ```
//! use specc_core::Inference;
//! use specc_example_inference_only::mlp::Mlp;
//!
//! let mut model = Mlp::new();
//! model.params_mut().dense_2_bias[3] = 1.0;
//! let mut probabilities = [0.0f32; 10];
//! model.try_predict_into(&[0.5; 784], 1, &mut probabilities).unwrap();
//! let best = (0..10).max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
//! assert_eq!(best, Some(3));
//! ```

#![no_std]

include!(concat!(env!("OUT_DIR"), "/models.rs"));
