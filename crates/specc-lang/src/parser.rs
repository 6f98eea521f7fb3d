//! Text to syntax tree, with pest. Syntax errors become [`Diagnostic`]s that
//! name what was expected in the user's words.

use crate::diagnostic::Diagnostic;
use crate::syntax::*;
use pest::Parser as _;
use pest::iterators::Pair;

#[derive(pest_derive::Parser)]
#[grammar = "spec.pest"]
struct SpecParser;

/// Parses a whole spec file. A syntax error stops the parse: pest does not
/// recover, and what follows a syntax error is rarely worth reporting.
// A syntax error is one `Diagnostic`, built once per parse: its size does not matter.
#[allow(clippy::result_large_err)]
pub fn parse(source: &str) -> Result<SpecFile, Diagnostic> {
    check_nesting(source)?;
    let mut pairs = SpecParser::parse(Rule::file, source).map_err(|e| syntax_error(source, e))?;
    let file = pairs.next().expect("the file rule always yields one pair");
    let models = file
        .into_inner()
        .filter(|p| p.as_rule() == Rule::model)
        .map(model)
        .collect();
    Ok(SpecFile { models })
}

/// How deeply brackets (`{`, `(`, `[`) and block comments may nest, counted
/// together. Every recursive stage after the parser (syntax tree, checker,
/// code generation, reference evaluator) recurses at most this deep, because
/// the syntax tree is no deeper than the text's nesting; a real spec nests
/// fewer than ten levels.
pub const MAX_NESTING: usize = 64;

/// Rejects text nested deeper than [`MAX_NESTING`] before pest sees it, at
/// the opening bracket or `/*` that crosses the limit. Strings do not exist
/// in the language, so brackets outside comments are structure.
// As for `parse`: one diagnostic per call.
#[allow(clippy::result_large_err)]
fn check_nesting(source: &str) -> Result<(), Diagnostic> {
    let bytes = source.as_bytes();
    let (mut depth, mut comments, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let two = bytes.get(i..i + 2);
        let opened = if comments == 0 && two == Some(b"//") {
            i += bytes[i..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(bytes.len() - i);
            continue;
        } else if two == Some(b"/*") {
            comments += 1;
            2
        } else if comments > 0 && two == Some(b"*/") {
            comments -= 1;
            depth -= 1;
            i += 2;
            continue;
        } else if comments > 0 {
            0
        } else {
            match bytes[i] {
                b'{' | b'(' | b'[' => 1,
                b'}' | b')' | b']' => {
                    // An unmatched closer is pest's to report, with its hint.
                    depth = depth.saturating_sub(1);
                    0
                }
                _ => 0,
            }
        };
        if opened > 0 {
            depth += 1;
            if depth > MAX_NESTING {
                let what = if opened == 2 { "comments" } else { "brackets" };
                return Err(Diagnostic::error(
                    Span::new(i, i + opened),
                    format!("nested too deeply (limit {MAX_NESTING})"),
                )
                .with_label(format!("level {depth} of nested {what} opens here"))
                .with_note(format!(
                    "brackets `{{`, `(`, `[` and block comments may nest at most {MAX_NESTING} levels deep, counted together"
                ))
                .with_help("flatten the nesting: a real model needs only a few levels"));
            }
        }
        i += opened.max(1);
    }
    Ok(())
}

fn model(pair: Pair<'_, Rule>) -> ModelAst {
    let span = Span::from(pair.as_span());
    let mut name = None;
    let mut statements = Vec::new();
    let mut close_brace = Span::new(span.end.saturating_sub(1), span.end);
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::ident => name = Some(ident(p)),
            Rule::rbrace => close_brace = p.as_span().into(),
            Rule::kw_model | Rule::lbrace => {}
            _ => statements.push(statement(p)),
        }
    }
    ModelAst {
        name: name.expect("grammar: model has a name"),
        statements,
        close_brace,
        span,
    }
}

fn statement(pair: Pair<'_, Rule>) -> Statement {
    let span = Span::from(pair.as_span());
    let rule = pair.as_rule();
    if rule == Rule::layer_stmt {
        let layer = layer(pair);
        return Statement {
            keyword: layer.call.name.span,
            kind: StatementKind::Layer(layer),
            span,
        };
    }
    let mut inner = pair.into_inner();
    let keyword = Span::from(inner.next().expect("grammar: keyword").as_span());
    let next = inner.next().expect("grammar: statement body or `;`");
    let kind = match rule {
        Rule::input_stmt => StatementKind::Input(value(next)),
        Rule::loss_stmt => StatementKind::Loss(call(next)),
        Rule::optimizer_stmt => StatementKind::Optimizer(call(next)),
        Rule::schedule_stmt => StatementKind::Schedule(call(next)),
        Rule::clip_stmt => StatementKind::Clip(call(next)),
        Rule::weight_decay_stmt => StatementKind::WeightDecay(value(next)),
        Rule::train_stmt => StatementKind::Train((next.as_rule() == Rule::args).then(|| args(next))),
        Rule::data_stmt => StatementKind::Data((next.as_rule() == Rule::args).then(|| args(next))),
        Rule::augment_stmt => StatementKind::Augment((next.as_rule() == Rule::args).then(|| args(next))),
        other => unreachable!("grammar: unexpected statement rule {other:?}"),
    };
    Statement { kind, keyword, span }
}

fn layer(pair: Pair<'_, Rule>) -> LayerAst {
    let span = Span::from(pair.as_span());
    let mut inner = pair.into_inner();
    let call = call(inner.next().expect("grammar: layer call"));
    let body = inner.next().filter(|p| p.as_rule() == Rule::block).map(|p| {
        let span = Span::from(p.as_span());
        Block {
            layers: p
                .into_inner()
                .filter(|q| q.as_rule() == Rule::layer_stmt)
                .map(layer)
                .collect(),
            span,
        }
    });
    LayerAst { call, body, span }
}

fn call(pair: Pair<'_, Rule>) -> Call {
    let span = Span::from(pair.as_span());
    let mut inner = pair.into_inner();
    let name = ident(inner.next().expect("grammar: call name"));
    let args = inner.next().map(args);
    Call { name, args, span }
}

fn args(pair: Pair<'_, Rule>) -> Args {
    let span = Span::from(pair.as_span());
    let items = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::arg)
        .map(|p| {
            let span = Span::from(p.as_span());
            let inner = p.into_inner().next().expect("grammar: arg body");
            if inner.as_rule() == Rule::named_arg {
                let mut parts = inner.into_inner();
                let name = ident(parts.next().expect("grammar: arg name"));
                let _equals = parts.next();
                let value = value(parts.next().expect("grammar: arg value"));
                Arg {
                    name: Some(name),
                    value,
                    span,
                }
            } else {
                Arg {
                    name: None,
                    value: value(inner),
                    span,
                }
            }
        })
        .collect();
    Args { items, span }
}

fn value(pair: Pair<'_, Rule>) -> Value {
    let span = Span::from(pair.as_span());
    let kind = match pair.as_rule() {
        Rule::number => ValueKind::Number(number(pair.as_str())),
        Rule::boolean => ValueKind::Bool(pair.as_str() == "true"),
        Rule::list => ValueKind::List(
            pair.into_inner()
                .filter(|p| !matches!(p.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma))
                .map(value)
                .collect(),
        ),
        Rule::call => ValueKind::Call(call(pair)),
        other => unreachable!("grammar: unexpected value rule {other:?}"),
    };
    Value { kind, span }
}

fn number(text: &str) -> Number {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let is_integer = !clean.contains(['.', 'e', 'E']);
    // The grammar only admits digits, one dot and an exponent, which f64 parses;
    // integers too large for f64 become infinity and are rejected by the checker.
    let value = clean.parse::<f64>().unwrap_or(f64::NAN);
    Number {
        text: text.to_string(),
        value,
        is_integer,
    }
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: pair.as_span().into(),
    }
}

/// What a rule looks like to a user, for "expected ..." lists.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::kw_model | Rule::model => "`model`",
        Rule::ident | Rule::arg_name => "a name",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen | Rule::args => "`(`",
        Rule::rparen => "`)`",
        Rule::lbracket | Rule::list => "`[`",
        Rule::rbracket => "`]`",
        Rule::comma => "`,`",
        Rule::semicolon => "`;`",
        Rule::equals => "`=`",
        Rule::number => "a number",
        Rule::boolean => "`true` or `false`",
        Rule::call => "a name",
        Rule::value | Rule::arg | Rule::named_arg => "a value",
        Rule::block => "`{`",
        Rule::layer_stmt | Rule::input_stmt | Rule::loss_stmt | Rule::optimizer_stmt => "a statement",
        Rule::schedule_stmt
        | Rule::clip_stmt
        | Rule::weight_decay_stmt
        | Rule::train_stmt
        | Rule::data_stmt
        | Rule::augment_stmt => "a statement",
        Rule::kw_input
        | Rule::kw_loss
        | Rule::kw_optimizer
        | Rule::kw_schedule
        | Rule::kw_clip
        | Rule::kw_weight_decay
        | Rule::kw_train
        | Rule::kw_data
        | Rule::kw_augment => "a statement",
        Rule::EOI => "the end of the file",
        _ => return None,
    })
}

fn syntax_error(source: &str, error: pest::error::Error<Rule>) -> Diagnostic {
    let pos = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&str> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let span = token_at(source, pos);
    let found = if span.start >= source.len() {
        "the end of the file".to_string()
    } else {
        format!("`{}`", &source[span.start..span.end])
    };
    let expected_text = join_alternatives(&expected);
    let mut diagnostic = if expected_text.is_empty() {
        Diagnostic::error(span, format!("syntax error: unexpected {found}"))
    } else {
        Diagnostic::error(
            span,
            format!("syntax error: expected {expected_text}, found {found}"),
        )
        .with_label(format!("expected {expected_text}"))
    };
    let help = syntax_hint(source, pos, &expected);
    if help.as_deref() == Some(MISSING_SEMICOLON) {
        // Point also at the end of the statement that lacks its `;`.
        let end = source[..pos.min(source.len())].trim_end().len();
        if let Some(last) = source[..end].chars().next_back() {
            diagnostic =
                diagnostic.with_secondary(Span::new(end - last.len_utf8(), end), "`;` missing after this");
        }
    }
    diagnostic.with_help_opt(help)
}

const MISSING_SEMICOLON: &str = "statements end with `;`";

/// A hint for common slips that pest's expected-set alone does not explain.
fn syntax_hint(source: &str, pos: usize, expected: &[&str]) -> Option<String> {
    let rest = &source[pos.min(source.len())..];
    let before = source[..pos.min(source.len())].trim_end();
    if rest.starts_with('#') {
        return Some("comments start with `//` or `/*`, as in Rust".into());
    }
    if rest.starts_with('\'') || rest.starts_with('"') {
        return Some("names are written without quotes: `activation = relu`".into());
    }
    for (close, open) in [(')', '('), (']', '['), ('}', '{')] {
        let token = format!("`{close}`");
        if rest.starts_with(close) && !expected.contains(&token.as_str()) {
            return Some(format!("remove this `{close}`: it has no matching `{open}`"));
        }
    }
    if rest.trim().is_empty() && expected.contains(&"`}`") {
        return Some("a `{` is not closed: add `}` at the end of the model".into());
    }
    if expected.contains(&"`;`") && !before.ends_with(';') {
        return Some(MISSING_SEMICOLON.into());
    }
    None
}

/// The span of the token starting at `pos`: a word, a number or one character.
fn token_at(source: &str, pos: usize) -> Span {
    let pos = pos.min(source.len());
    let rest = &source[pos..];
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return Span::new(pos, pos);
    };
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let len = if is_word(first) {
        rest.char_indices()
            .find(|&(_, c)| !is_word(c))
            .map_or(rest.len(), |(i, _)| i)
    } else {
        first.len_utf8()
    };
    Span::new(pos, pos + len)
}

fn join_alternatives(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_model_with_every_kind_of_value() {
        let file = parse(
            "model M { input [1, 28, 28]; conv2d(32, kernel = [3, 3], padding = same, bias = false); \
             residual(shortcut = conv2d(8, kernel = 1)) { relu; } \
             loss cross_entropy; optimizer sgd(lr = 1e-2); weight_decay 5e-4; train(seed = -1); }",
        )
        .unwrap();
        let model = &file.models[0];
        assert_eq!(model.name.name, "M");
        assert_eq!(model.statements.len(), 7);
        let StatementKind::Layer(conv) = &model.statements[1].kind else {
            panic!("expected a layer")
        };
        assert_eq!(conv.call.name.name, "conv2d");
        assert_eq!(conv.call.args.as_ref().unwrap().items.len(), 4);
        let StatementKind::Layer(res) = &model.statements[2].kind else {
            panic!("expected a layer")
        };
        assert_eq!(res.body.as_ref().unwrap().layers.len(), 1);
    }

    #[test]
    fn numbers_keep_text_and_integrality() {
        assert!(number("60_000").is_integer);
        assert_eq!(number("60_000").value, 60000.0);
        assert!(!number("1e-3").is_integer);
        assert_eq!(number("-0.5").value, -0.5);
    }

    #[test]
    fn keywords_are_not_identifiers_but_prefixes_are() {
        assert!(parse("model M { inputs; }").is_ok());
        assert!(parse("model M { input; }").is_err());
    }

    #[test]
    fn nesting_is_bounded_for_every_bracket_and_comment() {
        for (open, close) in [("residual {", "}"), ("(", ")"), ("[", "]"), ("/*", "*/")] {
            let deep = MAX_NESTING + 1;
            let text = format!("model M {{ {}{} }}", open.repeat(deep), close.repeat(deep));
            let err = parse(&text).unwrap_err();
            assert_eq!(
                err.message,
                format!("nested too deeply (limit {MAX_NESTING})"),
                "{open}"
            );
            // The model's own brace is level 1: the limit is crossed at the 64th `open`,
            // which for `{` is the 65th brace of the text.
            let token = open.trim_start_matches("residual ");
            let at = text
                .match_indices(token)
                .nth(MAX_NESTING - usize::from(token != "{"));
            assert_eq!(Some(err.primary.span.start), at.map(|(i, _)| i), "{open}");
        }
        // Exactly at the limit, the parser takes it.
        let ok = format!(
            "model M {{ {}{} }}",
            "/*".repeat(MAX_NESTING - 1),
            "*/".repeat(MAX_NESTING - 1)
        );
        assert!(parse(&ok).is_ok());
        // Brackets inside comments and closers without openers are not nesting.
        assert!(parse(&format!("// {}\nmodel M {{ }}", "(".repeat(1000))).is_ok());
        assert!(parse(&format!("/* {} */ model M {{ }}", "[".repeat(1000))).is_ok());
        assert!(parse(&format!("{} model M {{ }}", ")".repeat(1000))).is_err());
        // `/*` inside a line comment opens nothing.
        let after_line_comment = parse(&format!("// /*\n{}", "(".repeat(MAX_NESTING + 1)));
        assert!(
            after_line_comment
                .unwrap_err()
                .message
                .starts_with("nested too deeply")
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let file = parse("\u{feff}model M { }").unwrap();
        assert_eq!(file.models[0].name.span, Span::new(9, 10));
    }

    #[test]
    fn syntax_error_names_expected_tokens() {
        let err = parse("model M { dense(10) }").unwrap_err();
        assert!(err.message.contains("expected"), "{}", err.message);
        assert!(err.message.contains("`;`"), "{}", err.message);
    }
}
