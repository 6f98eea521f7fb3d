//! The typed syntax tree. Every node keeps the byte span of the text it came
//! from, so that the checker, the CLI and the `model!` macro can point at it.

use std::fmt;

/// A byte range `start..end` in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(span: pest::Span<'_>) -> Self {
        Span::new(span.start(), span.end())
    }
}

/// An identifier with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A whole spec file.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecFile {
    pub models: Vec<ModelAst>,
}

/// `model Name { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct ModelAst {
    pub name: Ident,
    pub statements: Vec<Statement>,
    /// The span of the closing brace, where "missing statement" errors point.
    pub close_brace: Span,
    pub span: Span,
}

/// One statement of a model block, in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    /// The span of the leading keyword (or the layer name).
    pub keyword: Span,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    Input(Value),
    Loss(Call),
    Optimizer(Call),
    Schedule(Call),
    Clip(Call),
    WeightDecay(Value),
    Train(Option<Args>),
    Data(Option<Args>),
    Augment(Option<Args>),
    Layer(LayerAst),
}

impl StatementKind {
    /// The keyword as the user writes it, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            StatementKind::Input(_) => "input",
            StatementKind::Loss(_) => "loss",
            StatementKind::Optimizer(_) => "optimizer",
            StatementKind::Schedule(_) => "schedule",
            StatementKind::Clip(_) => "clip",
            StatementKind::WeightDecay(_) => "weight_decay",
            StatementKind::Train(_) => "train",
            StatementKind::Data(_) => "data",
            StatementKind::Augment(_) => "augment",
            StatementKind::Layer(_) => "layer",
        }
    }
}

/// A layer statement: a call, and for `residual` a block of layers.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerAst {
    pub call: Call,
    pub body: Option<Block>,
    pub span: Span,
}

/// `{ layers }` after a layer call.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub layers: Vec<LayerAst>,
    pub span: Span,
}

/// `name` or `name(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Option<Args>,
    pub span: Span,
}

/// `( arg, arg, name = value )`
#[derive(Clone, Debug, PartialEq)]
pub struct Args {
    pub items: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for `name = value`.
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Number(Number),
    Bool(bool),
    List(Vec<Value>),
    /// A bare identifier is a call without arguments.
    Call(Call),
}

impl ValueKind {
    /// What kind of value this is, in words, for "expected X, found Y".
    pub fn describe(&self) -> String {
        match self {
            ValueKind::Number(n) if n.is_integer => format!("the integer {}", n.text),
            ValueKind::Number(n) => format!("the number {}", n.text),
            ValueKind::Bool(b) => format!("`{b}`"),
            ValueKind::List(_) => "a list".to_string(),
            ValueKind::Call(c) if c.args.is_some() => format!("the call `{}(...)`", c.name.name),
            ValueKind::Call(c) => format!("`{}`", c.name.name),
        }
    }
}

/// A number literal, kept with its text so messages quote what the user wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub value: f64,
    /// Written without a fraction or exponent.
    pub is_integer: bool,
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
