//! What runs around the training of a specc-generated model: data sets and
//! their readers ([`data`]: IDX, CIFAR-10, image folders, CSV and synthetic
//! data, each behind a cargo feature), the training loop ([`fit`]),
//! per-class evaluation ([`confusion`]), checkpoints ([`checkpoint`],
//! safetensors) and files written so that nothing is lost ([`files`]), on
//! top of the training layer (`specc-train`).

#[cfg(feature = "checkpoint")]
pub mod checkpoint;
pub mod confusion;
pub mod data;
pub mod files;
pub mod fit;

/// The checkpoint format's crate, for programs that read or edit checkpoints.
#[cfg(feature = "checkpoint")]
pub use safetensors;
