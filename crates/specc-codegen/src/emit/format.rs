//! Generated tokens to readable source.

use proc_macro2::TokenStream;

/// Formats tokens as Rust source with prettyplease.
pub fn format_tokens(tokens: TokenStream) -> String {
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => separate_items(&prettyplease::unparse(&file)),
        // Unreachable for generated code; keep the text rather than lose it.
        Err(_) => tokens.to_string(),
    }
}

/// prettyplease puts no blank line between items inside a module; put one
/// after every closing brace that is followed by another item, for reading.
fn separate_items(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 16);
    let mut previous = "";
    for line in source.lines() {
        let trimmed = line.trim_start();
        let item_start = [
            "///", "#[", "fn ", "pub ", "impl ", "struct ", "const ", "type ", "enum ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if item_start && previous.trim() == "}" {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}
