//! The spanned abstract syntax tree of a rule file.
//!
//! Every node carries a [`Span`]; spans never take part in equality, so two trees that differ only in
//! layout compare equal (the `fmt` round trip relies on this).

use crate::span::Span;
use chrono::NaiveDate;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A whole rule file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// `return cin 2024-25 extends 2023-24`.
    pub header: Header,
    /// Declarations in source order.
    pub items: Vec<Item>,
}

/// The first line of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The return's short name (`cin`).
    pub ret: Ident,
    /// The collection year (`2024-25`).
    pub year: Ident,
    /// The year this one builds on.
    pub extends: Option<Ident>,
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `title "..."`.
    Title(String, Span),
    /// `detect year from Header.ReferenceDate`.
    Detect(Path),
    /// `uses cin`: another return whose tables rules may read.
    Uses(Ident),
    /// `uses previous cin as last { map ... }`: last year's submission of this return.
    UsesPrevious(UsesPrevious),
    /// `booleans { true "true" "1" false "false" "0" }`: accepted spellings.
    Booleans(Vec<String>, Vec<String>, Span),
    /// `codes Name { ... }`.
    Codes(CodesDecl),
    /// `table Name { ... }`.
    Table(TableDecl),
    /// `extend table Name { ... }`.
    Extend(TableDecl),
    /// `param Name = expr`.
    Param(ParamDecl),
    /// `holidays { dates }`.
    Holidays(Vec<(NaiveDate, Span)>, Span),
    /// `derive [Table.]Name = expr`.
    Derive(DeriveDecl),
    /// `rule CODE severity "message" on scope { ... }`.
    Rule(Box<RuleDecl>),
    /// `fixture { rows }`.
    Fixture(Vec<Record>, Span),
    /// `remove rule 8617`.
    Remove(RemoveDecl),
    /// `layout xml { Message { ... } }`: the XML document's elements (its root element).
    Layout(Element),
    /// `extend layout xml { replace "A/B" = C  remove "A/D" }`.
    ExtendLayout(Vec<LayoutEdit>, Span),
}

/// An element of an XML layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// Its name.
    pub name: Ident,
    /// Least occurrences in its parent.
    pub min: u32,
    /// Most occurrences (`None`: unbounded).
    pub max: Option<u32>,
    /// Facets of its text.
    pub facets: Vec<Facet>,
    /// The elements inside it, in order (`None`: it holds text).
    pub children: Option<Vec<Element>>,
    /// The whole declaration.
    pub span: Span,
}

/// The type of an element's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextKind {
    /// Any text.
    Text,
    /// xs:date.
    Date,
    /// xs:dateTime.
    DateTime,
    /// xs:gYear.
    GYear,
    /// xs:integer.
    Integer,
    /// xs:nonNegativeInteger.
    NonNegative,
}

impl TextKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            TextKind::Text => "text",
            TextKind::Date => "date",
            TextKind::DateTime => "datetime",
            TextKind::GYear => "gyear",
            TextKind::Integer => "integer",
            TextKind::NonNegative => "nonnegative",
        }
    }
}

/// A facet of an element's text.
#[derive(Clone, Debug, PartialEq)]
pub enum Facet {
    /// `date`, `integer`, ...
    Kind(TextKind, Span),
    /// `enum "a" "b"`.
    Enum(Vec<String>, Span),
    /// `codes List`.
    Codes(Ident),
    /// `pattern "p1" "p2"`.
    Pattern(Vec<String>, Span),
    /// `length 1..`, `length 1..20`.
    Length(u32, Option<u32>, Span),
}

/// A change to a layout in a later year.
#[derive(Clone, Debug, PartialEq)]
pub enum LayoutEdit {
    /// `replace "A/B/C" = D`.
    Replace(String, Element, Span),
    /// `remove "A/B/C"`.
    Remove(String, Span),
}

/// `uses previous cin as last { map ChildIdentifiers.Sex from GenderCurrent { 1 = M } }`.
#[derive(Clone, Debug, PartialEq)]
pub struct UsesPrevious {
    /// The return named (must be the rule set's own).
    pub ret: Ident,
    /// The prefix of last year's tables (`last`); `previous` when not given.
    pub alias: Option<Ident>,
    /// Fields last year's files lack, filled from another of their fields.
    pub maps: Vec<PreviousMap>,
    /// The whole declaration.
    pub span: Span,
}

impl UsesPrevious {
    /// The prefix of last year's tables.
    pub fn prefix(&self) -> &str {
        self.alias.as_ref().map_or("previous", |a| a.name.as_str())
    }
}

/// `map T.F from G { old = new ... }`: field `F` of last year's table `T`, when last year's files
/// have no such field, from their field `G`, code by code.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviousMap {
    /// This year's table.
    pub table: Ident,
    /// This year's field.
    pub field: Ident,
    /// Last year's field it is made from.
    pub from: Ident,
    /// `(last year's code, this year's code, where)`.
    pub pairs: Vec<(String, String, Span)>,
    /// The whole mapping.
    pub span: Span,
}

/// A code list.
#[derive(Clone, Debug, PartialEq)]
pub struct CodesDecl {
    /// `replace codes` in a later year.
    pub replace: bool,
    /// The list's name.
    pub name: Ident,
    /// Its description.
    pub label: Option<String>,
    /// Its codes.
    pub entries: Vec<CodeEntry>,
    /// The whole declaration.
    pub span: Span,
}

/// One code, or a range of numeric codes.
#[derive(Clone, Debug, PartialEq)]
pub enum CodeEntry {
    /// `WBRI "White British"`.
    Single {
        /// The code.
        code: String,
        /// Its label.
        label: Option<String>,
        /// Where.
        span: Span,
    },
    /// `"201" ..= "213"`.
    Range {
        /// First code.
        from: String,
        /// Last code.
        to: String,
        /// Where.
        span: Span,
    },
}

/// A table, or the changes to one (`extend table`).
#[derive(Clone, Debug, PartialEq)]
pub struct TableDecl {
    /// Its name.
    pub name: Ident,
    /// Its description.
    pub label: Option<String>,
    /// `singleton`.
    pub singleton: bool,
    /// `parent T`.
    pub parent: Option<Ident>,
    /// `key a, b [ordinal]`.
    pub key: Vec<Ident>,
    /// Whether the last key field is numbered by position when absent.
    pub ordinal: bool,
    /// `sheet "A", "B"`.
    pub sheets: Vec<String>,
    /// `xml "path"`.
    pub xml: Option<String>,
    /// Its fields.
    pub fields: Vec<FieldDecl>,
    /// `remove field X` (only in `extend table`).
    pub removed: Vec<Ident>,
    /// The whole declaration.
    pub span: Span,
}

/// A field of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    /// Its name (the XML element / column name).
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
    /// Whether the column must be present in a submission.
    pub required: bool,
    /// Its description.
    pub label: Option<String>,
    /// Other column headers that mean this field.
    pub headers: Vec<String>,
    /// Where the value sits below the row's element.
    pub xml: Option<String>,
    /// The whole declaration.
    pub span: Span,
}

/// A field type as written.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExpr {
    /// Free text.
    Text,
    /// Whole number.
    Int,
    /// Decimal number.
    Decimal,
    /// Calendar date.
    Date,
    /// Yes/no.
    Bool,
    /// A code from a list.
    Code(Ident),
    /// A list of values.
    List(Box<TypeExpr>),
}

/// `param Name = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// `replace param`.
    pub replace: bool,
    /// Its name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `derive [Table.]Name = expr`.
#[derive(Clone, Debug, PartialEq)]
pub struct DeriveDecl {
    /// `replace derive`.
    pub replace: bool,
    /// The table for a derived field; none for a value of the whole return.
    pub table: Option<Ident>,
    /// Its name.
    pub name: Ident,
    /// Its definition.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// Error, query or info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, never a failure.
    Info,
    /// The DfE asks for an explanation.
    Query,
    /// Must be fixed.
    Error,
}

impl Severity {
    /// The word used in rule files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Query => "query",
            Severity::Info => "info",
        }
    }
}

/// What a rule runs over.
#[derive(Clone, Debug, PartialEq)]
pub enum Scope {
    /// Once for the whole return.
    Return(Span),
    /// Each row of a table.
    Table(Ident),
    /// Each group of a table's rows with equal key.
    Group(Ident, Expr),
}

/// A step of a rule body, in source order.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// `when expr`.
    When(Expr),
    /// `let name = expr`.
    Let(Ident, Expr),
    /// `require expr`.
    Require(Expr),
    /// `forbid expr`.
    Forbid(Expr),
}

/// A validation rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    /// `replace rule`.
    pub replace: bool,
    /// Its code (`8500`).
    pub code: Ident,
    /// Its severity.
    pub severity: Severity,
    /// Its message template.
    pub message: Template,
    /// What it runs over.
    pub scope: Scope,
    /// `fields ...`.
    pub fields: Vec<Path>,
    /// `note "..."`.
    pub note: Option<String>,
    /// `fix "..."`.
    pub fix: Option<String>,
    /// `report a, b`.
    pub report: Vec<Ident>,
    /// The body.
    pub steps: Vec<Step>,
    /// Its examples.
    pub examples: Vec<Example>,
    /// The whole declaration.
    pub span: Span,
}

/// A message with `{expr}` holes.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// The pieces.
    pub parts: Vec<TemplatePart>,
    /// The string literal.
    pub span: Span,
}

/// A piece of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// A value to insert.
    Expr(Expr),
}

/// An example dataset and whether the rule must pass or fail on it.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// True for `example fail`.
    pub fail: bool,
    /// Its label.
    pub label: Option<String>,
    /// Its rows.
    pub records: Vec<Record>,
    /// The whole example.
    pub span: Span,
}

/// One row of example data with its nested child rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The table.
    pub table: Ident,
    /// Field values.
    pub values: Vec<(Ident, Value)>,
    /// Rows of child tables.
    pub children: Vec<Record>,
    /// The whole record.
    pub span: Span,
}

/// A value in example data.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What it is.
    pub kind: ValueKind,
    /// Where.
    pub span: Span,
}

/// The kinds of example value.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// A literal.
    Lit(Lit),
    /// A bare code (`RC8`).
    Code(String),
    /// `[a, b]`.
    List(Vec<Value>),
}

/// `remove rule 8617`.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoveDecl {
    /// What kind of thing.
    pub kind: RemoveKind,
    /// Its name (`Table.Field` for a derived field).
    pub name: String,
    /// Where.
    pub span: Span,
}

/// What `remove` removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveKind {
    /// A rule.
    Rule,
    /// A code list.
    Codes,
    /// A derivation.
    Derive,
    /// A parameter.
    Param,
    /// A table.
    Table,
}

/// A dotted name: `Field`, `Table.Field`, `alias.Field`, `this.Field`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The segments.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, `A.B`.
    pub fn dotted(&self) -> String {
        self.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".")
    }
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    /// Whole number.
    Int(i64),
    /// Decimal number (`0.5`, `27%`).
    Dec(f64),
    /// Text.
    Str(String),
    /// Date.
    Date(NaiveDate),
    /// `true` / `false`.
    Bool(bool),
}

/// Calendar units for date arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Calendar days.
    Days,
    /// Weeks.
    Weeks,
    /// Calendar months (clamped to the month's end).
    Months,
    /// Calendar years (clamped, so 29 February becomes 28 February).
    Years,
    /// Working days (Monday to Friday, not a holiday).
    WorkingDays,
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `??`
    Coalesce,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Coalesce => "??",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// Aggregates over related rows or list items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFn {
    /// Number of items.
    Count,
    /// At least one item.
    Exists,
    /// No item.
    None,
    /// Every item satisfies the second argument.
    All,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Sum of values.
    Sum,
    /// Number of distinct present values.
    Distinct,
    /// Share of items for which the second argument is true.
    Share,
    /// The present values, as a list.
    List,
}

impl AggFn {
    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AggFn::Count => "count",
            AggFn::Exists => "exists",
            AggFn::None => "none",
            AggFn::All => "all",
            AggFn::Min => "min",
            AggFn::Max => "max",
            AggFn::Sum => "sum",
            AggFn::Distinct => "distinct",
            AggFn::Share => "share",
            AggFn::List => "list",
        }
    }
}

/// The related rows (or list items) an aggregate ranges over.
#[derive(Clone, Debug, PartialEq)]
pub struct SetExpr {
    /// `x in ...`: names each item.
    pub var: Option<Ident>,
    /// Where the items come from.
    pub source: Path,
    /// `where ...`.
    pub filter: Option<Box<Expr>>,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal.
    Lit(Lit),
    /// `45 working days`.
    Duration(i64, Unit),
    /// A name.
    Path(Path),
    /// `not x`, `-x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a ..= b` or `a ..< b`.
    Range {
        /// Lower bound (inclusive).
        lo: Box<Expr>,
        /// Upper bound.
        hi: Box<Expr>,
        /// Whether the upper bound is included.
        inclusive: bool,
    },
    /// `("A", "B")`.
    Tuple(Vec<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `f(a, b)`.
    Call(Ident, Vec<Expr>),
    /// `count(...)` and friends.
    Agg {
        /// Which aggregate.
        func: AggFn,
        /// Over what.
        set: SetExpr,
        /// The value or predicate argument.
        arg: Option<Box<Expr>>,
    },
}
