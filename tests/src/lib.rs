//! The generated code of the example specs and of the test specs in
//! `tests/specs/`, compiled for real.

pub mod support;

/// f32 models, as users train them.
pub mod f32 {
    include!(concat!(env!("OUT_DIR"), "/linear_regression.rs"));
    include!(concat!(env!("OUT_DIR"), "/logistic.rs"));
    include!(concat!(env!("OUT_DIR"), "/mlp.rs"));
    include!(concat!(env!("OUT_DIR"), "/digits_mlp.rs"));
    include!(concat!(env!("OUT_DIR"), "/test_specs.rs"));
}

/// The same models in f64, for numeric gradient checks.
pub mod f64 {
    include!(concat!(env!("OUT_DIR"), "/linear_regression_f64.rs"));
    include!(concat!(env!("OUT_DIR"), "/logistic_f64.rs"));
    include!(concat!(env!("OUT_DIR"), "/mlp_f64.rs"));
    include!(concat!(env!("OUT_DIR"), "/digits_mlp_f64.rs"));
    include!(concat!(env!("OUT_DIR"), "/test_specs_f64.rs"));
}
