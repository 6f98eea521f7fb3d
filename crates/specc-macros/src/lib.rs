//! The `model!` and `model_file!` macros of specc; use them through the
//! `specc` facade crate.
//!
//! Thin by design: the macro renders its tokens to spec text while recording
//! which token covers which byte ([`source_map`]), checks that text with the
//! same grammar and checker as `specc check`, and generates code with the same
//! generator as `specc build`. A spec error becomes a compile error at the
//! offending token, with the message `specc check` prints.

use proc_macro::TokenStream;

mod expand;
mod source_map;

/// Compiles a spec written inline into a `pub mod` named after the model
/// (`MnistCnn` becomes `mnist_cnn::MnistCnn`), exactly the code that
/// `specc build` emits for the same text.
///
/// ```ignore
/// specc::model! {
///     model Tiny {
///         input [4];
///         dense(3, activation = softmax);
///         loss cross_entropy;
///         optimizer sgd(lr = 0.1);
///     }
/// }
/// use tiny::Tiny;
/// ```
///
/// `model!(file = "specs/x.spec")` is the same as `model_file!("specs/x.spec")`.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand::expand(input.into()).into()
}

/// Compiles a spec file; the path is relative to the directory of the
/// invoking crate's `Cargo.toml`. Errors are shown as `specc check` shows
/// them (file:line:col, the line and a caret) at the path literal, and the
/// crate is rebuilt when the file changes.
///
/// ```ignore
/// specc::model_file!("specs/mnist_cnn.spec");
/// use mnist_cnn::MnistCnn;
/// ```
#[proc_macro]
pub fn model_file(input: TokenStream) -> TokenStream {
    expand::expand_file(input.into()).into()
}
