//! Identifiers in generated code, derived from the spec's layer names.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

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

/// An unsuffixed float literal, so it takes the model's scalar type `F`.
pub fn float(x: f64) -> TokenStream {
    let lit = Literal::f64_unsuffixed(x.abs());
    if x < 0.0 { quote!(-#lit) } else { quote!(#lit) }
}

pub fn usize_lit(x: usize) -> Literal {
    Literal::usize_unsuffixed(x)
}
