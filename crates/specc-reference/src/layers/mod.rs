//! One module per layer kind: each evaluates its kind's forward pass in
//! plain f64 loops, the definition the generated code is held to.

pub(crate) mod batchnorm;
pub(crate) mod conv2d;
pub(crate) mod dense;
pub(crate) mod depthwise;
pub(crate) mod dropout;
pub(crate) mod groupnorm;
pub(crate) mod pool;
pub(crate) mod spatial;
