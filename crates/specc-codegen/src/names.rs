//! Identifiers in generated code, derived from the spec's layer names.

use proc_macro2::{Ident, Span};

pub fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `dense_1.weight` -> `dense_1_weight`, the field holding that tensor.
pub fn tensor_field(tensor_name: &str) -> Ident {
    ident(&tensor_name.replace('.', "_"))
}

/// `dense_1_forward`
pub fn function(layer: &str, pass: &str) -> Ident {
    ident(&format!("{layer}_{pass}"))
}
