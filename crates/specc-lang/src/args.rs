//! Reading a call's arguments against what the callee accepts.
//!
//! Each layer, loss, optimizer, schedule and initialiser declares its
//! parameters (positional order first) and reads typed values by name.
//! Every problem (unknown or repeated name, too many positional arguments,
//! a missing required argument, a value of the wrong type) is recorded and
//! the read returns `None`, so one call can report several errors.

use crate::diagnostic::{Diagnostic, suggestion};
use crate::syntax::{Args, Call, Span, Value, ValueKind};

/// The arguments of one call, matched to the callee's parameter names.
pub struct ArgReader<'a, 'e> {
    /// The callee as shown in messages: "`conv2d`".
    what: String,
    /// Where to point for a missing argument.
    call_span: Span,
    /// Accepted names; a positional argument takes the name at its index.
    params: &'static [&'static str],
    /// Matched `(name, value)` pairs.
    matched: Vec<(&'static str, &'a Value)>,
    /// Parameters already accounted for by an error (a misspelt name that
    /// suggests them, or a misplaced positional argument): not reported missing.
    excused: Vec<&'static str>,
    errors: &'e mut Vec<Diagnostic>,
}

impl<'a, 'e> ArgReader<'a, 'e> {
    /// Matches the call's arguments to `params`; the first `positional` of
    /// them may also be given without a name.
    pub fn new(
        call: &'a Call,
        params: &'static [&'static str],
        positional: usize,
        errors: &'e mut Vec<Diagnostic>,
    ) -> Self {
        Self::from_args(
            &call.name.name,
            call.name.span,
            call.args.as_ref(),
            params,
            positional,
            errors,
        )
    }

    pub fn from_args(
        callee: &str,
        call_span: Span,
        args: Option<&'a Args>,
        params: &'static [&'static str],
        positional: usize,
        errors: &'e mut Vec<Diagnostic>,
    ) -> Self {
        let what = format!("`{callee}`");
        let mut matched: Vec<(&'static str, &'a Value)> = Vec::new();
        let mut first_named: Option<Span> = None;
        let mut spans: Vec<(&'static str, Span)> = Vec::new();
        let mut excused: Vec<&'static str> = Vec::new();
        for (index, arg) in args.into_iter().flat_map(|a| a.items.iter()).enumerate() {
            let name = match &arg.name {
                Some(ident) => {
                    first_named.get_or_insert(arg.span);
                    match params.iter().find(|p| **p == ident.name) {
                        Some(p) => Some((*p, ident.span)),
                        None => {
                            let mut d = Diagnostic::error(
                                ident.span,
                                format!("unknown argument `{}` for {what}", ident.name),
                            )
                            .with_label("unknown argument");
                            let close = crate::diagnostic::did_you_mean(&ident.name, params.iter().copied());
                            excused.extend(close);
                            d = match suggestion(&ident.name, params.iter().copied()) {
                                Some(s) => d.with_help(s),
                                None => d.with_note(accepts(&what, params)),
                            };
                            errors.push(d);
                            None
                        }
                    }
                }
                None => {
                    if let Some(named) = first_named {
                        // Whichever parameter it was meant for, do not also report it missing.
                        excused.extend(params.iter().take(positional));
                        errors.push(
                            Diagnostic::error(
                                arg.span,
                                format!("positional argument after a named one in {what}"),
                            )
                            .with_label("positional argument")
                            .with_secondary(named, "named argument here")
                            .with_help("give positional arguments first, then `name = value`"),
                        );
                        None
                    } else if index < positional {
                        Some((params[index], arg.span))
                    } else {
                        let expected = match positional {
                            0 => format!("{what} takes no positional arguments"),
                            1 => format!("{what} takes 1 positional argument"),
                            n => format!("{what} takes {n} positional arguments"),
                        };
                        errors.push(
                            Diagnostic::error(arg.span, format!("too many positional arguments for {what}"))
                                .with_label("unexpected argument")
                                .with_note(expected)
                                .with_note(accepts(&what, params)),
                        );
                        None
                    }
                }
            };
            if let Some((name, span)) = name {
                if let Some((_, first)) = spans.iter().find(|(n, _)| *n == name) {
                    errors.push(
                        Diagnostic::error(span, format!("argument `{name}` given twice in {what}"))
                            .with_label("given again here")
                            .with_secondary(*first, "first given here"),
                    );
                } else {
                    spans.push((name, span));
                    matched.push((name, &arg.value));
                }
            }
        }
        ArgReader {
            what,
            call_span,
            params,
            matched,
            excused,
            errors,
        }
    }

    /// The callee's name as shown in messages, with backticks.
    pub fn what(&self) -> &str {
        &self.what
    }

    pub fn errors(&mut self) -> &mut Vec<Diagnostic> {
        self.errors
    }

    /// The value given for `name`, if any.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        debug_assert!(self.params.contains(&name), "{name} is not a declared parameter");
        self.matched.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The span of the value given for `name`, or of the call if none was given.
    pub fn span(&self, name: &str) -> Span {
        self.value(name).map_or(self.call_span, |v| v.span)
    }

    /// Records an error at the value of `name`.
    pub fn invalid(&mut self, name: &str, message: impl Into<String>, help: Option<String>) {
        let span = self.span(name);
        let d = Diagnostic::error(span, message).with_label("invalid value");
        self.errors.push(d.with_help_opt(help));
    }

    /// Records that a required argument is missing.
    pub fn missing(&mut self, name: &str, example: &str) {
        if self.excused.contains(&name) {
            return;
        }
        self.errors.push(
            Diagnostic::error(self.call_span, format!("{} needs `{name}`", self.what))
                .with_label(format!("missing `{name}`"))
                .with_help(format!("for example: `{example}`")),
        );
    }

    fn mistyped(&mut self, name: &str, value: &Value, expected: &str) {
        self.errors.push(
            Diagnostic::error(
                value.span,
                format!(
                    "`{name}` of {} must be {expected}, found {}",
                    self.what,
                    value.kind.describe()
                ),
            )
            .with_label(format!("expected {expected}")),
        );
    }

    /// A number (integer or not).
    pub fn float(&mut self, name: &str) -> Option<f64> {
        let value = self.value(name)?;
        match &value.kind {
            ValueKind::Number(n) if n.value.is_finite() => Some(n.value),
            ValueKind::Number(n) => {
                let what = self.what.clone();
                self.errors.push(
                    Diagnostic::error(
                        value.span,
                        format!(
                            "`{name}` of {what} is out of range: {} does not fit in a 64-bit float",
                            n.text
                        ),
                    )
                    .with_label("out of range")
                    .with_note("64-bit floats reach about 1.8e308"),
                );
                None
            }
            _ => {
                self.mistyped(name, value, "a number");
                None
            }
        }
    }

    /// A number, or `default` when absent.
    pub fn float_or(&mut self, name: &str, default: f64) -> Option<f64> {
        match self.value(name) {
            None => Some(default),
            Some(_) => self.float(name),
        }
    }

    /// An integer written without a fraction or exponent, at least `min`.
    pub fn int(&mut self, name: &str, min: u64) -> Option<u64> {
        let value = self.value(name)?;
        let ValueKind::Number(n) = &value.kind else {
            self.mistyped(name, value, "an integer");
            return None;
        };
        if !n.is_integer {
            self.errors.push(
                Diagnostic::error(
                    value.span,
                    format!("`{name}` of {} must be an integer, found {}", self.what, n.text),
                )
                .with_label("not an integer"),
            );
            return None;
        }
        if n.value < min as f64 || n.value > 9.0e15 {
            let what = self.what.clone();
            let message = if n.value < min as f64 {
                format!("`{name}` of {what} must be at least {min}, found {}", n.text)
            } else {
                format!("`{name}` of {what} is too large: {}", n.text)
            };
            self.errors
                .push(Diagnostic::error(value.span, message).with_label("out of range"));
            return None;
        }
        Some(n.value as u64)
    }

    pub fn int_or(&mut self, name: &str, min: u64, default: u64) -> Option<u64> {
        match self.value(name) {
            None => Some(default),
            Some(_) => self.int(name, min),
        }
    }

    /// `n` or `[a, b]`, each at least `min`.
    pub fn int_or_pair(&mut self, name: &str, min: u64) -> Option<[usize; 2]> {
        let value = self.value(name)?;
        match &value.kind {
            ValueKind::Number(_) => self.int(name, min).map(|n| [n as usize; 2]),
            ValueKind::List(items) if items.len() == 2 => {
                let mut out = [0usize; 2];
                for (slot, item) in out.iter_mut().zip(items) {
                    *slot = self.list_int(name, item, min)? as usize;
                }
                Some(out)
            }
            _ => {
                self.mistyped(name, value, "an integer or a pair `[a, b]`");
                None
            }
        }
    }

    /// One integer inside a list.
    pub fn list_int(&mut self, name: &str, item: &Value, min: u64) -> Option<u64> {
        match &item.kind {
            ValueKind::Number(n) if n.is_integer && n.value >= min as f64 && n.value <= 9.0e15 => {
                Some(n.value as u64)
            }
            ValueKind::Number(n) if n.is_integer && n.value < min as f64 => {
                let d = Diagnostic::error(
                    item.span,
                    format!(
                        "`{name}` of {} must be at least {min}, found {}",
                        self.what, n.text
                    ),
                )
                .with_label("out of range");
                self.errors.push(d);
                None
            }
            _ => {
                self.mistyped(name, item, "a list of integers");
                None
            }
        }
    }

    /// A list of integers, each at least `min`.
    pub fn int_list(&mut self, name: &str, min: u64) -> Option<Vec<u64>> {
        let value = self.value(name)?;
        let ValueKind::List(items) = &value.kind else {
            self.mistyped(name, value, "a list of integers `[a, b, ...]`");
            return None;
        };
        let read: Vec<Option<u64>> = items.iter().map(|i| self.list_int(name, i, min)).collect();
        read.into_iter().collect()
    }

    /// A number, or a list of numbers `[a, b, ...]` (a number is a list of one).
    pub fn float_list(&mut self, name: &str) -> Option<Vec<f64>> {
        let value = self.value(name)?;
        let items = match &value.kind {
            ValueKind::List(items) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            ValueKind::Number(_) => vec![value],
            _ => {
                self.mistyped(name, value, "a number or a list of numbers `[a, b, ...]`");
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.kind {
                ValueKind::Number(n) if n.value.is_finite() => out.push(n.value),
                _ => {
                    self.mistyped(name, item, "a number");
                    return None;
                }
            }
        }
        Some(out)
    }

    pub fn bool_or(&mut self, name: &str, default: bool) -> Option<bool> {
        let Some(value) = self.value(name) else {
            return Some(default);
        };
        match &value.kind {
            ValueKind::Bool(b) => Some(*b),
            _ => {
                self.mistyped(name, value, "`true` or `false`");
                None
            }
        }
    }

    /// A bare name (or a call, for nested definitions such as `activation = leaky_relu(alpha = 0.2)`).
    pub fn call(&mut self, name: &str, expected: &str) -> Option<&'a Call> {
        let value = self.value(name)?;
        match &value.kind {
            ValueKind::Call(call) => Some(call),
            _ => {
                self.mistyped(name, value, expected);
                None
            }
        }
    }

    /// One of `choices`, written as a bare name.
    pub fn choice(&mut self, name: &str, choices: &[&'static str]) -> Option<&'static str> {
        let value = self.value(name)?;
        if let ValueKind::Call(call) = &value.kind
            && call.args.is_none()
        {
            if let Some(choice) = choices.iter().find(|c| **c == call.name.name) {
                return Some(choice);
            }
            let d = Diagnostic::error(
                call.name.span,
                format!("unknown value `{}` for `{name}` of {}", call.name.name, self.what),
            )
            .with_label("unknown value")
            .with_note(format!("expected one of {}", quoted_list(choices)));
            let d = d.with_help_opt(suggestion(&call.name.name, choices.iter().copied()));
            self.errors.push(d);
            return None;
        }
        self.mistyped(name, value, &format!("one of {}", quoted_list(choices)));
        None
    }
}

/// "`conv2d` accepts: filters, kernel, ..."
fn accepts(what: &str, params: &[&str]) -> String {
    if params.is_empty() {
        format!("{what} takes no arguments")
    } else {
        format!("{what} accepts {}", quoted_list(params))
    }
}

/// "`a`, `b` or `c`"
pub fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
