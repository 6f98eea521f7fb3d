//! A macro's tokens rendered back to spec text, with a map from text offsets
//! to token spans.
//!
//! The macro has no grammar of its own: it prints its input as text, hands
//! that text to the same pest grammar and checker as `specc check`, and maps
//! each diagnostic's byte offsets back to the tokens they fall on.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

/// The rendered text of a token stream and where each token landed in it.
pub struct SourceMap {
    pub text: String,
    /// `(start, end, span)` per token in text order; a group contributes its
    /// opening and closing delimiters as two entries.
    tokens: Vec<(usize, usize, Span)>,
}

/// One printable piece: a word (identifier or literal), a punctuation
/// character, or a delimiter of a group.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ident,
    Literal,
    Punct(char, Spacing),
    Open(Delimiter),
    Close(Delimiter),
}

impl SourceMap {
    /// Renders `tokens` with single spaces, in the layout a person would
    /// write: `dense(10, activation = relu);`, `input [1, 28, 28];`,
    /// `weight_decay -1e-4;` (a `-` stays on its number so that the grammar's
    /// atomic number rule sees `-1`). Doc comments (`///`, which reach a macro
    /// as `#[doc = "..."]`) are dropped, since the spec language treats them
    /// as comments.
    pub fn render(tokens: TokenStream) -> Self {
        let mut map = SourceMap {
            text: String::new(),
            tokens: Vec::new(),
        };
        let mut previous = None;
        map.render_stream(tokens, &mut previous);
        map
    }

    fn render_stream(&mut self, tokens: TokenStream, previous: &mut Option<Kind>) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            if let Some(len) = doc_attribute_len(&trees[i..]) {
                i += len;
                continue;
            }
            match &trees[i] {
                TokenTree::Ident(ident) => self.push(&ident.to_string(), Kind::Ident, ident.span(), previous),
                TokenTree::Literal(lit) => self.push(&lit.to_string(), Kind::Literal, lit.span(), previous),
                TokenTree::Punct(p) => self.push(
                    &p.as_char().to_string(),
                    Kind::Punct(p.as_char(), p.spacing()),
                    p.span(),
                    previous,
                ),
                TokenTree::Group(group) => {
                    let delimiter = group.delimiter();
                    let (open, close) = match delimiter {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::None => ("", ""),
                    };
                    if delimiter == Delimiter::None {
                        self.render_stream(group.stream(), previous);
                    } else {
                        self.push(open, Kind::Open(delimiter), group.span_open(), previous);
                        self.render_stream(group.stream(), previous);
                        self.push(close, Kind::Close(delimiter), group.span_close(), previous);
                    }
                }
            }
            i += 1;
        }
    }

    fn push(&mut self, text: &str, kind: Kind, span: Span, previous: &mut Option<Kind>) {
        if let Some(prev) = *previous
            && space_between(prev, kind)
        {
            self.text.push(' ');
        }
        let start = self.text.len();
        self.text.push_str(text);
        self.tokens.push((start, self.text.len(), span));
        *previous = Some(kind);
    }

    /// The spans of the first and last tokens that cover the text range
    /// `start..end`: the token containing `start` (or the next one after it,
    /// or the last one when `start` lies past the end) and the token
    /// containing `end - 1` (or the nearest one before it).
    pub fn span_range(&self, start: usize, end: usize) -> (Span, Span) {
        let Some(&(_, _, last_span)) = self.tokens.last() else {
            return (Span::call_site(), Span::call_site());
        };
        let first = self
            .tokens
            .iter()
            .find(|&&(_, token_end, _)| token_end > start)
            .copied()
            .unwrap_or((0, 0, last_span));
        let last_offset = end.saturating_sub(1).max(start);
        let last = self
            .tokens
            .iter()
            .rev()
            .find(|&&(token_start, _, _)| token_start <= last_offset)
            .copied()
            .unwrap_or(first);
        // A range that starts after the last token (end of input) or ends
        // before the first gets the one token nearest to it.
        if last.0 < first.0 {
            return (first.2, first.2);
        }
        (first.2, last.2)
    }
}

/// Whether a space goes between two adjacent pieces.
fn space_between(prev: Kind, next: Kind) -> bool {
    match (prev, next) {
        (Kind::Open(Delimiter::Parenthesis | Delimiter::Bracket), _) => false,
        (_, Kind::Close(Delimiter::Parenthesis | Delimiter::Bracket)) => false,
        (_, Kind::Punct(',' | ';', _)) => false,
        (Kind::Ident, Kind::Open(Delimiter::Parenthesis)) => false,
        // `-1`, `-0.5`: the grammar's number rule is atomic.
        (Kind::Punct('-', _), Kind::Literal) => false,
        // `->`, `::`: keep multi-character operators whole, as Rust wrote them.
        (Kind::Punct(_, Spacing::Joint), Kind::Punct(..)) => false,
        _ => true,
    }
}

/// The number of token trees a leading `#[doc = "..."]` or `#![doc = "..."]`
/// takes, if `trees` starts with one.
fn doc_attribute_len(trees: &[TokenTree]) -> Option<usize> {
    let TokenTree::Punct(hash) = trees.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let bang = matches!(trees.get(1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
    let index = 1 + usize::from(bang);
    let TokenTree::Group(group) = trees.get(index)? else {
        return None;
    };
    let is_doc = group.delimiter() == Delimiter::Bracket
        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc");
    is_doc.then_some(index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str) -> String {
        SourceMap::render(text.parse().unwrap()).text
    }

    #[test]
    fn renders_readable_spec_text() {
        assert_eq!(
            render("model  Tiny {\n input [1,28, 28];\n dense(10 , activation=relu); weight_decay - 1e-4; }"),
            "model Tiny { input [1, 28, 28]; dense(10, activation = relu); weight_decay -1e-4; }"
        );
    }

    #[test]
    fn drops_doc_comments() {
        assert_eq!(
            render("/// A model.\nmodel M { //! inner\n input [1]; }"),
            "model M { input [1]; }"
        );
    }

    #[test]
    fn maps_offsets_to_tokens() {
        let map = SourceMap::render("model M { dens(3); }".parse().unwrap());
        assert_eq!(map.text, "model M { dens(3); }");
        assert_eq!(map.tokens.len(), 9);
        // Every token's text is where the map says it is.
        let pieces: Vec<&str> = map.tokens.iter().map(|&(s, e, _)| &map.text[s..e]).collect();
        assert_eq!(pieces, ["model", "M", "{", "dens", "(", "3", ")", ";", "}"]);
    }
}
