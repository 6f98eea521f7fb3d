//! The expansions of `model!` and `model_file!`, as plain functions on
//! `proc_macro2` tokens so that tests can call them.

use crate::source_map::SourceMap;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote_spanned;
use specc_codegen::{Options, RuntimePaths};
use specc_lang::Diagnostic;
use std::path::PathBuf;

/// Read before `CARGO_MANIFEST_DIR` by `model_file!`: trybuild compiles its
/// cases in a crate of its own under `target/`, and its test sets this to the
/// real package directory (the workaround trybuild's author recommends).
const MANIFEST_DIR_OVERRIDE: &str = "SPECC_MANIFEST_DIR_OVERRIDE";

fn options() -> Options {
    Options {
        // Generated code reaches the runtime through the facade crate.
        runtime: RuntimePaths::facade(),
        ..Options::default()
    }
}

/// `model! { model Name { ... } }`, or `model!(file = "specs/x.spec")`.
pub fn expand(input: TokenStream) -> TokenStream {
    if let Some(path) = file_argument(&input) {
        return expand_file_literal(path);
    }
    let limits = match specc_lang::Limits::from_env() {
        Ok(limits) => limits,
        Err(e) => return syn::Error::new(Span::call_site(), e).to_compile_error(),
    };
    let map = SourceMap::render(input);
    match specc_lang::check_source_with(&map.text, &limits) {
        Ok(file) => generate(&file),
        Err(diagnostics) => diagnostics_at_tokens(&map, &diagnostics),
    }
}

/// `model_file!("specs/x.spec")`: the path is relative to the invoking
/// crate's `CARGO_MANIFEST_DIR`.
pub fn expand_file(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::LitStr>(input) {
        Ok(path) => expand_file_literal(path),
        Err(e) => syn::Error::new(
            e.span(),
            "expected the path of a spec file, relative to the crate's Cargo.toml: `model_file!(\"specs/model.spec\")`",
        )
        .to_compile_error(),
    }
}

fn generate(file: &specc_lang::CheckedFile) -> TokenStream {
    match specc_codegen::generate_tokens(file, &options()) {
        Ok(tokens) => tokens,
        Err(e) => syn::Error::new(Span::call_site(), e.to_string()).to_compile_error(),
    }
}

/// One `compile_error!` per diagnostic, spanning the tokens its primary label
/// covers, with the text `specc check` prints for it (less the location,
/// which the span carries).
fn diagnostics_at_tokens(map: &SourceMap, diagnostics: &[Diagnostic]) -> TokenStream {
    let mut errors = diagnostics.iter().map(|diagnostic| {
        let span = diagnostic.primary.span;
        let (start, end) = map.span_range(span.start, span.end);
        // `new_spanned` takes the span from the first token to the last, so
        // rustc underlines the whole range (as it does for syn's own errors).
        let range = [
            TokenTree::Ident(proc_macro2::Ident::new("start", start)),
            TokenTree::Ident(proc_macro2::Ident::new("end", end)),
        ];
        syn::Error::new_spanned(
            range.into_iter().collect::<TokenStream>(),
            diagnostic.message_with_notes(),
        )
    });
    let Some(mut combined) = errors.next() else {
        return TokenStream::new();
    };
    errors.for_each(|e| combined.combine(e));
    combined.to_compile_error()
}

/// `file = "path"` as the whole input of `model!`.
fn file_argument(input: &TokenStream) -> Option<syn::LitStr> {
    let trees: Vec<TokenTree> = input.clone().into_iter().collect();
    match trees.as_slice() {
        [TokenTree::Ident(key), TokenTree::Punct(eq), TokenTree::Literal(_)]
            if key == "file" && eq.as_char() == '=' =>
        {
            syn::parse2::<syn::LitStr>(trees[2].clone().into()).ok()
        }
        _ => None,
    }
}

fn expand_file_literal(literal: syn::LitStr) -> TokenStream {
    let relative = literal.value();
    let span = literal.span();
    let error = |message: String| syn::Error::new(span, message).to_compile_error();
    let Some(base) =
        std::env::var_os(MANIFEST_DIR_OVERRIDE).or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
    else {
        return error("CARGO_MANIFEST_DIR is not set: `model_file!` must be compiled by cargo".into());
    };
    let path = PathBuf::from(base).join(&relative);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return error(format!(
                "cannot read spec file `{relative}`: {e}\n= note: the path is relative to the directory of the crate's Cargo.toml"
            ));
        }
    };
    let source = match specc_lang::decode_source(&bytes) {
        Ok(source) => source,
        Err(e) => return error(format!("{relative}:{e}")),
    };
    let limits = match specc_lang::Limits::from_env() {
        Ok(limits) => limits,
        Err(e) => return error(e),
    };
    let file = match specc_lang::check_source_with(source, &limits) {
        Ok(file) => file,
        Err(diagnostics) => {
            // One error per diagnostic, as `specc check` renders it; rustc
            // adds its own `error: ` before the message.
            let mut errors = diagnostics.iter().map(|diagnostic| {
                let rendered = specc_lang::render(std::slice::from_ref(diagnostic), &relative, source);
                let rendered = rendered.trim_end();
                syn::Error::new(span, rendered.strip_prefix("error: ").unwrap_or(rendered))
            });
            let mut combined = errors
                .next()
                .unwrap_or_else(|| syn::Error::new(span, "invalid spec"));
            errors.for_each(|e| combined.combine(e));
            return combined.to_compile_error();
        }
    };
    let mut tokens = generate(&file);
    // Tell cargo that the expansion depends on the spec, so that editing it
    // recompiles the crate.
    let absolute = path.to_string_lossy().into_owned();
    tokens.extend(quote_spanned! {span=> const _: &[u8] = ::core::include_bytes!(#absolute); });
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn specs_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs")
    }

    /// The macro and `specc build` emit the same code for every spec in
    /// `specs/` (comments are dropped by the tokenizer, as rustc drops them).
    #[test]
    fn expansion_equals_generated_code_for_every_spec() {
        let mut count = 0;
        for entry in std::fs::read_dir(specs_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "spec") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let file = specc_lang::check_source(&text).unwrap();
            let expected = specc_codegen::generate_tokens(&file, &options()).unwrap();
            let tokens: TokenStream = text.parse().unwrap();
            let expanded = expand(tokens);
            assert_eq!(expanded.to_string(), expected.to_string(), "{}", path.display());
            count += 1;
        }
        assert!(count >= 8, "found only {count} specs");
    }

    #[test]
    fn spec_errors_become_compile_errors_with_the_check_message() {
        let text = "model M { input [4]; dens(2); loss mse; optimizer sgd(lr = 0.1); }";
        let expected = specc_lang::check_source(text).unwrap_err();
        let out = expand(text.parse().unwrap()).to_string();
        assert!(out.contains("compile_error"), "{out}");
        let message = expected[0].message_with_notes();
        let literal = proc_macro2::Literal::string(&message).to_string();
        assert!(out.contains(&literal), "{out}\nwanted {literal}");
    }

    #[test]
    fn file_argument_is_recognised() {
        let input: TokenStream = "file = \"specs/x.spec\"".parse().unwrap();
        assert_eq!(file_argument(&input).unwrap().value(), "specs/x.spec");
        let spec: TokenStream = "model M { }".parse().unwrap();
        assert!(file_argument(&spec).is_none());
    }

    #[test]
    fn model_file_reads_relative_to_the_manifest() {
        let out = expand_file("\"../../specs/logistic.spec\"".parse().unwrap()).to_string();
        assert!(out.contains("pub mod logistic"), "{out}");
        assert!(out.contains("include_bytes"), "{out}");
        let missing = expand_file("\"no/such.spec\"".parse().unwrap()).to_string();
        assert!(
            missing.contains("cannot read spec file `no/such.spec`"),
            "{missing}"
        );
    }
}
