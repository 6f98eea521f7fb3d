//! The plain data that the specc compiler and the code it generates share.
//!
//! The checker (`specc-lang`) produces these values from a spec; the code
//! generator writes them into the generated model as constants; the runtime
//! crates read them back. One definition each, so that nothing has to be
//! translated between a compiler-side and a runtime-side mirror.
//!
//! This crate has no dependencies and builds with `#![no_std]` (it needs
//! `alloc`, its default feature, only for the milestone list and the nested schedule of a warmup).
//! Evaluating a schedule is arithmetic on floats and belongs to the training
//! layer (`specc_train::schedule`), not here.

#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;

mod init;
#[cfg(feature = "alloc")]
mod names;
mod role;
#[cfg(feature = "alloc")]
mod schedule;
mod settings;

pub use init::Init;
#[cfg(feature = "alloc")]
pub use names::snake_case;
pub use role::{TargetKind, TensorRole};
#[cfg(feature = "alloc")]
pub use schedule::{Schedule, ScheduleKind, ScheduleUnit};
pub use settings::{Augment, DataSettings, EarlyStop, Monitor, Precision, Resize, TrainSettings};
