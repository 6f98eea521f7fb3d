//! The plain data that the specc compiler and the code it generates share.
//!
//! The checker (`specc-lang`) produces these values from a spec; the code
//! generator writes them into the generated model as constants; the runtime
//! crates read them back. One definition each, so that nothing has to be
//! translated between a compiler-side and a runtime-side mirror.
//!
//! This crate has no dependencies and builds with `#![no_std]` (it needs
//! `alloc` only for the milestone list and the nested schedule of a warmup).
//! Evaluating a schedule is arithmetic on floats and belongs to the training
//! layer (`specc_train::schedule`), not here.

#![no_std]

extern crate alloc;

mod init;
mod names;
mod role;
mod schedule;
mod settings;

pub use init::Init;
pub use names::snake_case;
pub use role::{TargetKind, TensorRole};
pub use schedule::{Schedule, ScheduleKind, ScheduleUnit};
pub use settings::TrainSettings;
