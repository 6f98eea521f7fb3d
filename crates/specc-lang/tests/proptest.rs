//! No input, however malformed, makes the parser or checker panic; every
//! diagnostic's span lies within the source and renders.

use proptest::prelude::*;
use std::fs;

const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs");

fn examples() -> Vec<String> {
    let mut files: Vec<_> = fs::read_dir(SPECS)
        .expect("the specs directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| fs::read_to_string(p).unwrap())
        .collect()
}

/// Checks `source`; on failure, every span must be inside it (on char
/// boundaries) and rendering must work.
fn check_is_sound(source: &str) -> Result<(), TestCaseError> {
    if let Err(diags) = specc_lang::check_source(source) {
        prop_assert!(!diags.is_empty());
        for d in &diags {
            for label in std::iter::once(&d.primary).chain(&d.secondary) {
                let s = label.span;
                prop_assert!(
                    s.start <= s.end && s.end <= source.len(),
                    "span {:?} outside a source of {} bytes: {}",
                    s,
                    source.len(),
                    d.message
                );
                prop_assert!(
                    source.is_char_boundary(s.start) && source.is_char_boundary(s.end),
                    "span {:?} splits a character: {}",
                    s,
                    d.message
                );
            }
            prop_assert!(!d.message.is_empty());
        }
        let rendered = specc_lang::render(&diags, "fuzz.spec", source);
        prop_assert!(rendered.contains("error"));
    }
    Ok(())
}

/// Punctuation, keywords, argument names and numbers; [`vocabulary`] adds every
/// name the checker knows.
const TOKENS: &[&str] = &[
    "model",
    "M",
    "Net",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    "=",
    "input",
    "loss",
    "optimizer",
    "schedule",
    "clip",
    "weight_decay",
    "train",
    "shortcut",
    "kernel",
    "stride",
    "padding",
    "same",
    "valid",
    "activation",
    "init",
    "units",
    "lr",
    "momentum",
    "nesterov",
    "then",
    "total",
    "gamma",
    "norm",
    "value",
    "epochs",
    "batch",
    "validation",
    "true",
    "false",
    "0",
    "1",
    "2",
    "3",
    "28",
    "-1",
    "0.5",
    "1e-3",
    "1e400",
    "99999999999999999999",
    "60_000",
    "// c\n",
    "/* c */",
    "/*",
    "#",
    "\"",
    "'",
    "é",
    " ",
    "\n",
];

/// [`TOKENS`] and the checker's own lists of layer, activation, initialiser,
/// loss, optimizer and schedule names, so new ones are fuzzed too.
fn vocabulary() -> Vec<&'static str> {
    use specc_lang::check::{
        ACTIVATION_NAMES, INIT_NAMES, LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES, layer_names,
    };
    let layers: Vec<&'static str> = layer_names().collect();
    let lists = [
        layers.as_slice(),
        ACTIVATION_NAMES,
        INIT_NAMES,
        LOSS_NAMES,
        OPTIMIZER_NAMES,
        SCHEDULE_NAMES,
    ];
    TOKENS
        .iter()
        .chain(lists.into_iter().flatten())
        .copied()
        .collect()
}

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vocabulary()), 0..60).prop_map(|ts| ts.join(" "))
}

/// A valid model with random (often wrong) sizes and settings.
fn random_model() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(0usize..40, 1..4),
        prop::collection::vec(prop::sample::select(&[
            "dense(3)", "conv2d(2, kernel = 3)", "conv2d(2, kernel = 5, stride = 2, padding = same)",
            "maxpool2d(2)", "avgpool2d(3)", "global_avgpool", "flatten", "relu", "softmax",
            "dropout(0.5)", "batchnorm", "residual { relu; }",
            "residual(shortcut = conv2d(4, kernel = 1, stride = 2)) { conv2d(4, kernel = 3, stride = 2, padding = same); }",
        ][..]), 0..6),
        prop::sample::select(&["mse", "cross_entropy", "binary_cross_entropy", "huber(delta = 0)"][..]),
        prop::sample::select(&["sgd(lr = 0.1)", "adam(lr = -1)", "adamw(weight_decay = 0.1)", "sgd(lr = 0.1, nesterov = true)"][..]),
    )
        .prop_map(|(dims, layers, loss, opt)| {
            let dims: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            let layers: String = layers.iter().map(|l| if l.ends_with('}') { format!("{l}\n") } else { format!("{l};\n") }).collect();
            format!("model M {{ input [{}];\n{layers}loss {loss};\noptimizer {opt}; }}", dims.join(", "))
        })
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteChar(usize),
    InsertChar(usize, char),
    ReplaceChar(usize, char),
    DeleteToken(usize),
    DuplicateToken(usize),
    InsertToken(usize, &'static str),
    SwapTokens(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let ch = prop_oneof![
        prop::sample::select(
            &[
                '{', '}', '(', ')', '[', ']', ';', ',', '=', '-', '.', '0', '9', 'e', '_', 'x', ' ', '\n',
                '/', '*', '#', 'é'
            ][..]
        ),
        any::<char>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteChar),
        (any::<usize>(), ch.clone()).prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        (any::<usize>(), ch).prop_map(|(i, c)| Mutation::ReplaceChar(i, c)),
        any::<usize>().prop_map(Mutation::DeleteToken),
        any::<usize>().prop_map(Mutation::DuplicateToken),
        (any::<usize>(), prop::sample::select(vocabulary())).prop_map(|(i, t)| Mutation::InsertToken(i, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::SwapTokens(i, j)),
    ]
}

/// Byte ranges of tokens: runs of word characters, or single other non-space characters.
fn tokens(source: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c.is_alphanumeric() || c == '_' || c == '.' {
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' || d == '.' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
        }
        out.push((i, end));
    }
    out
}

fn apply(source: &str, m: &Mutation) -> String {
    let boundaries: Vec<usize> = source
        .char_indices()
        .map(|(i, _)| i)
        .chain([source.len()])
        .collect();
    let at = |i: usize| boundaries[i % boundaries.len()];
    let toks = tokens(source);
    let mut s = source.to_string();
    match *m {
        Mutation::DeleteChar(i) => {
            let start = at(i);
            if let Some(c) = s[start..].chars().next() {
                s.replace_range(start..start + c.len_utf8(), "");
            }
        }
        Mutation::InsertChar(i, c) => s.insert(at(i), c),
        Mutation::ReplaceChar(i, c) => {
            let start = at(i);
            if let Some(old) = s[start..].chars().next() {
                s.replace_range(start..start + old.len_utf8(), &c.to_string());
            }
        }
        _ if toks.is_empty() => {}
        Mutation::DeleteToken(i) => {
            let (a, b) = toks[i % toks.len()];
            s.replace_range(a..b, "");
        }
        Mutation::DuplicateToken(i) => {
            let (a, b) = toks[i % toks.len()];
            let t = s[a..b].to_string();
            s.insert_str(b, &format!(" {t}"));
        }
        Mutation::InsertToken(i, t) => {
            let (a, _) = toks[i % toks.len()];
            s.insert_str(a, &format!("{t} "));
        }
        Mutation::SwapTokens(i, j) => {
            let (x, y) = (toks[i % toks.len()], toks[j % toks.len()]);
            let (first, second) = if x.0 <= y.0 { (x, y) } else { (y, x) };
            if first != second {
                let a = source[first.0..first.1].to_string();
                let b = source[second.0..second.1].to_string();
                s = format!(
                    "{}{b}{}{a}{}",
                    &source[..first.0],
                    &source[first.1..second.0],
                    &source[second.1..]
                );
            }
        }
    }
    s
}

proptest! {
    #[test]
    fn arbitrary_strings_do_not_panic(s in any::<String>()) {
        check_is_sound(&s)?;
    }

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let s = String::from_utf8_lossy(&bytes);
        check_is_sound(&s)?;
    }

    #[test]
    fn token_soup_does_not_panic(s in token_soup()) {
        check_is_sound(&s)?;
        check_is_sound(&format!("model M {{ {s} }}"))?;
        check_is_sound(&format!("model M {{ input [1, 8, 8]; {s} loss mse; optimizer sgd(lr = 0.1); }}"))?;
    }

    #[test]
    fn random_models_do_not_panic(s in random_model()) {
        check_is_sound(&s)?;
    }

    #[test]
    fn nesting_of_any_depth_is_checked_or_refused_at_the_limit(
        depth in 0usize..120,
        open in prop::sample::select(&["residual { ", "dense(2, activation = f(", "input [", "/* "][..]),
    ) {
        let close = match open.trim_end().chars().last() {
            Some('{') => "} ",
            Some('(') => ")); ",
            Some('[') => "]; ",
            _ => "*/ ",
        };
        let source = format!(
            "model M {{ input [4]; {}relu; {} loss mse; optimizer sgd(lr = 0.1); }}",
            open.repeat(depth),
            close.repeat(depth)
        );
        check_is_sound(&source)?;
        // The model's brace is one level, and `f(` in a `dense(` call two per repeat.
        let levels = 1 + depth * open.matches(['{', '(', '[', '*']).count();
        let refused = specc_lang::parse(&source)
            .is_err_and(|d| d.message == format!("nested too deeply (limit {})", specc_lang::parser::MAX_NESTING));
        prop_assert_eq!(refused, levels > specc_lang::parser::MAX_NESTING);
    }

    #[test]
    fn mutated_examples_do_not_panic(
        which in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let sources = examples();
        let mut source = sources[which % sources.len()].clone();
        for m in &mutations {
            source = apply(&source, m);
        }
        check_is_sound(&source)?;
    }
}

#[test]
fn every_single_token_deletion_is_sound() {
    for source in examples() {
        for (a, b) in tokens(&source) {
            let mut s = source.clone();
            s.replace_range(a..b, "");
            check_is_sound(&s).unwrap();
        }
    }
}
