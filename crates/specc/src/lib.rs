//! specc compiles neural-network specs into specialised Rust: every
//! dimension a constant, one function per layer and pass, no allocation per
//! step. Depend on this crate alone; it brings the [`model!`] macro and the
//! [`runtime`] that generated code links against.
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
//! use specc::Model;
//! use specc::train::{FitOptions, Quiet, fit};
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

/// What generated code calls: the [`Model`] trait, kernels, data readers and
/// the training loop. Generated code refers to it as `::specc::runtime`.
pub use specc_runtime as runtime;

pub use specc_runtime::data::{self, Dataset};
pub use specc_runtime::train::{self, EpochReport, FitOptions, Metrics, evaluate, fit};
pub use specc_runtime::{Float, Model, TargetKind, Targets, TensorInfo, TensorRole, TrainSettings};

// Lets this crate's own tests expand `model!`, whose code names `::specc`.
extern crate self as specc;
