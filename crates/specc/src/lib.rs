//! specc compiles neural-network specs into specialised Rust: every
//! dimension a constant, one function per layer and pass, no allocation per
//! step. Depend on this crate alone; it brings the [`model!`] macro, the
//! inference [`core`] and the training layer ([`train`]) that generated code
//! links against, and the harness around training ([`data`], [`fit`]).
//!
//! ```
//! specc::model! {
//!     model Blobs {
//!         input [2];
//!         dense(8, activation = relu);
//!         dense(3, activation = softmax);
//!         loss cross_entropy;
//!         optimizer adam(lr = 0.05);
//!         train(epochs = 5, batch = 16, seed = 1);
//!     }
//! }
//!
//! use specc::prelude::*;
//! use specc::fit::{FitOptions, Quiet, fit};
//!
//! let data = specc::data::synthetic::blobs(300, 2, 3, 7).unwrap();
//! let mut model = blobs::Blobs::new(1);
//! let reports = fit(&mut model, &data, None, &FitOptions::for_model::<blobs::Blobs>(), &mut Quiet).unwrap();
//! assert!(reports.last().unwrap().train.loss < reports[0].train.loss);
//! ```
//!
//! The same spec can live in a file: `specc::model_file!("specs/blobs.spec")`
//! (relative to the crate's `Cargo.toml`), or be compiled by a build script
//! with `specc-build`. All three ways use one grammar, one checker and one code
//! generator, so they produce the same code and the same errors: a mistake in
//! a spec is a compile error at the offending token,
//!
//! ```text
//! error: unknown layer `dens`
//!  --> src/main.rs:4:9
//!   |
//! 4 |         dens(10);
//!   |         ^^^^
//! ```

pub use specc_macros::{model, model_file};

/// The inference core: kernels, dispatch and the [`Inference`] trait.
/// Generated code refers to it as `::specc::core`.
pub use specc_core as core;
/// The training layer: the [`Model`] trait, losses, optimizers, schedules.
/// Generated code refers to it as `::specc::train`.
pub use specc_train as train;

pub use specc_core::simd::with_precision;
pub use specc_core::{Float, Inference, Precision, TensorInfo, TensorRole};
#[cfg(feature = "harness")]
pub use specc_harness::checkpoint;
#[cfg(feature = "harness")]
pub use specc_harness::data::{self, Dataset, Samples};
#[cfg(feature = "harness")]
pub use specc_harness::fit::{self, EpochReport, FitOptions, Metrics, evaluate};
pub use specc_train::{Model, TargetKind, Targets, TrainSettings};

/// The traits a program calls generated models through: inference
/// (`try_predict`), training (`train_step`) and, with the harness,
/// checkpoints (`MnistCnn::load(path)?`, `model.save(path)?`) and data
/// sets (`data.len()`, `data.class_names()`).
pub mod prelude {
    pub use specc_core::Inference;
    #[cfg(feature = "harness")]
    pub use specc_harness::checkpoint::Checkpoint;
    #[cfg(feature = "harness")]
    pub use specc_harness::data::Samples;
    pub use specc_train::Model;
}

// Lets this crate's own tests expand `model!`, whose code names `::specc`.
extern crate self as specc;
