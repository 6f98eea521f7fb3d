//! The training layer of specc-generated models, on top of the inference
//! core (`specc-core`).
//!
//! Generated code calls it for what training adds to inference: the
//! [`Model`] trait (loss, gradients, optimizer step, optimizer state),
//! losses ([`loss`]), optimizer updates ([`optim`]), dropout
//! ([`dropout`]) and the weight initialisers ([`init`]). Learning-rate schedules are data
//! (`specc_types::Schedule`); [`schedule`] evaluates them. [`gradcheck`]
//! compares a model's gradients with numeric ones.

pub mod dropout;
pub mod gradcheck;
pub mod init;
pub mod loss;
pub mod model;
pub mod optim;
pub mod schedule;

pub use model::{MemoryEstimate, Model, Targets};
pub use specc_core::Rng;
pub use specc_types::{
    Augment, DataSettings, EarlyStop, Init, Monitor, Resize, Schedule, ScheduleKind, ScheduleUnit,
    TargetKind, TrainSettings,
};
