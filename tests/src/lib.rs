//! The generated code of every example spec (`specs/`) and every test spec
//! (`tests/specs/`), compiled for real.

pub mod support;

include!(concat!(env!("OUT_DIR"), "/model_list.rs"));

/// f32 models, as users train them.
pub mod f32 {
    include!(concat!(env!("OUT_DIR"), "/all.rs"));
}

/// The same models in f64, for numeric gradient checks.
pub mod f64 {
    include!(concat!(env!("OUT_DIR"), "/all_f64.rs"));
}
