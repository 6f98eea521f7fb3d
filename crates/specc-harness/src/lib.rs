//! What runs around the training of a specc-generated model: data sets and
//! their readers ([`data`]: IDX, CSV and synthetic data, each behind a cargo
//! feature) and the training loop ([`fit`]), on top of the training layer
//! (`specc-train`).

pub mod data;
pub mod fit;
