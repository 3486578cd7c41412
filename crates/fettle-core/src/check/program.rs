//! The checked program: every name resolved to an id, every expression typed.
//!
//! `eval` runs only programs built by `check` without errors, so it may rely on these invariants:
//! field ids exist in their tables, variables are bound by an enclosing scope, operand types agree.

use crate::schema::{CodeListId, FieldId, Schema, TableId};
use crate::span::Span;
use crate::syntax::ast::{AggFn, BinOp, Record, Severity, Unit};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// A checked rule set for one return and year.
#[derive(Clone, Debug)]
pub struct Program {
    /// The return's short name (`cin`).
    pub ret: String,
    /// The collection year (`2024-25`).
    pub year: String,
    /// The year it extends, if any.
    pub extends: Option<String>,
    /// Display name.
    pub title: String,
    /// Tables and code lists.
    pub schema: Schema,
    /// The field whose date picks the collection year.
    pub detect_year: Option<(TableId, FieldId)>,
    /// Parameters and derived values of the return, in evaluation order.
    pub globals: Vec<Global>,
    /// Derived fields, in evaluation order.
    pub derived: Vec<DerivedField>,
    /// Globals and derived fields in the order they must be computed.
    pub order: Vec<Derivation>,
    /// Non-working days, as days from the common era, sorted.
    pub holidays: Arc<Vec<i32>>,
    /// Validation rules in declaration order.
    pub rules: Vec<RuleDef>,
    /// Rows every example gets unless it gives that table.
    pub fixture: Vec<Record>,
    /// `uses previous`: how last year's submission fills the `last.T` tables.
    pub previous: Option<PreviousSpec>,
}

/// Last year's submission of the same return (`uses previous cin as last`).
#[derive(Clone, Debug)]
pub struct PreviousSpec {
    /// The prefix of last year's tables (`last`).
    pub prefix: String,
    /// Fields last year's files may lack, and how to fill them.
    pub maps: Vec<PreviousMap>,
}

/// `map T.F from G { old = new }`, resolved: this year's field, last year's field it comes from.
#[derive(Clone, Debug)]
pub struct PreviousMap {
    /// This year's table (the rule set's own, not `last.T`).
    pub table: TableId,
    /// This year's field.
    pub field: FieldId,
    /// The name of last year's field it is made from.
    pub from: String,
    /// Last year's code to this year's.
    pub pairs: std::collections::HashMap<String, String>,
}

/// One step of computing derived values.
#[derive(Clone, Copy, Debug)]
pub enum Derivation {
    /// Index into [`Program::globals`].
    Global(usize),
    /// Index into [`Program::derived`].
    Field(usize),
}

/// A parameter or derived value of the whole return.
#[derive(Clone, Debug)]
pub struct Global {
    /// Its name.
    pub name: String,
    /// Its definition.
    pub expr: IExpr,
    /// `param` (constant) or `derive`.
    pub is_param: bool,
    /// Where it was declared.
    pub span: Span,
}

/// A derived field: a column computed for every row of a table.
#[derive(Clone, Debug)]
pub struct DerivedField {
    /// The table.
    pub table: TableId,
    /// The field it fills (a `derived` field of the table).
    pub field: FieldId,
    /// Its definition; variable 0 is the row.
    pub expr: IExpr,
    /// Where it was declared.
    pub span: Span,
}

/// What a rule runs over.
#[derive(Clone, Debug)]
pub enum RuleScope {
    /// Once for the whole return.
    Return,
    /// Each row of a table (variable 0).
    Table(TableId),
    /// Each group of a table's rows with equal key (variable 0 is the group).
    Group(TableId, IExpr),
}

/// A step of a rule body.
#[derive(Clone, Debug)]
pub enum IStep {
    /// Keep only items where true.
    When(IExpr),
    /// Name a value (index into [`RuleDef::lets`]).
    Let(usize, IExpr),
    /// Fail where false.
    Require(IExpr),
    /// Fail where true.
    Forbid(IExpr),
}

/// A checked validation rule.
#[derive(Clone, Debug)]
pub struct RuleDef {
    /// Its code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// The message as written (used when it has no holes).
    pub message: String,
    /// The message pieces; holes are expressions over the rule's scope.
    pub template: Vec<IPart>,
    /// What it runs over.
    pub scope: RuleScope,
    /// Fields the finding points at.
    pub fields: Vec<(TableId, FieldId)>,
    /// Names of `let` values, by index.
    pub lets: Vec<String>,
    /// Values an info rule reports (indexes into `lets`).
    pub report: Vec<usize>,
    /// Why it reads as it does.
    pub note: Option<String>,
    /// How to fix the data.
    pub fix: Option<String>,
    /// Its body.
    pub steps: Vec<IStep>,
    /// Its examples, checked against the schema.
    pub examples: Vec<crate::syntax::ast::Example>,
    /// Other returns whose tables the rule reads; it runs only when they are in the run.
    pub needs: Vec<String>,
    /// Rows its examples get for the tables they do not give (the fixture of the rule's year).
    pub fixture: Vec<Record>,
    /// The rule's text in its file.
    pub span: Span,
    /// The rule's file name.
    pub file: String,
    /// The rule's line in its file.
    pub line: usize,
    /// The first `require` or `forbid` expression as written.
    pub check_span: Option<Span>,
    /// What `eval` needs to know of the rule beyond running its steps, worked out once at check
    /// time (check/rule_plan.rs).
    pub plan: RulePlan,
}

impl RuleDef {
    /// Every expression the rule evaluates: its group key, its steps' and its message's.
    pub fn expressions(&self) -> Vec<&IExpr> {
        let mut out: Vec<&IExpr> = vec![];
        if let RuleScope::Group(_, key) = &self.scope {
            out.push(key);
        }
        for s in &self.steps {
            let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
            out.push(e);
        }
        for p in &self.template {
            if let IPart::Expr(e) = p {
                out.push(e);
            }
        }
        out
    }
}

/// The facts about a rule that `eval` needs, worked out once at check time (check/rule_plan.rs):
/// which rows a failing item lists as related, which field each message hole shows, which fields
/// and tables the rule reads. `eval` reads them and never walks the rule's expressions to decide.
#[derive(Clone, Debug, Default)]
pub struct RulePlan {
    /// By step of [`RuleDef::steps`]: the aggregates over rows of a `require` or `forbid` whose
    /// rows a failing item lists as related, in the order written (empty for `when` and `let`).
    pub witnesses: Vec<Vec<Witness>>,
    /// By piece of [`RuleDef::template`]: the field whose value a hole shows, as `Table.Field` (for
    /// redaction); `None` for text and for a hole that shows no field's value (a count, a flag).
    pub hole_fields: Vec<Option<String>>,
    /// Every field the rule reads (its group key, steps and message), directly or through derived
    /// fields and derived values of the return.
    pub reads: BTreeSet<(TableId, FieldId)>,
    /// Every table whose rows the rule reads below another row, directly or through derived fields
    /// and derived values of the return.
    pub below: BTreeSet<TableId>,
    /// Whether its steps read other rows than its own: an aggregate over rows, or a field of
    /// another table (a parent's).
    pub other_rows: bool,
    /// Whether its steps count or read rows below its own (`exists(ChildCharacteristics)`).
    pub rows_below: bool,
}

/// An aggregate over rows in a rule's check whose rows are a failing item's related rows: those an
/// `exists` or `count` matched, or those an `all` rejected. Copies of the aggregate's own parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Witness {
    /// The rows (never a list's items).
    pub source: Source,
    /// The variable bound to each row.
    pub var: VarId,
    /// `where`: a row is a witness only where it holds.
    pub filter: Option<IExpr>,
    /// `all`'s predicate: a row is a witness only where it is false.
    pub rejects: Option<IExpr>,
}

/// A piece of a message.
#[derive(Clone, Debug)]
pub enum IPart {
    /// Literal text.
    Text(String),
    /// A value.
    Expr(IExpr),
}

/// Index of a variable in an evaluation frame. Variable 0 is the rule's row (or group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarId(pub u32);

/// Value types.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    /// Yes/no (three-valued: missing is unknown).
    Bool,
    /// Whole number.
    Int,
    /// Decimal.
    Dec,
    /// Date.
    Date,
    /// Text.
    Text,
    /// A code of a list (text underneath).
    Code(CodeListId),
    /// A list value.
    List(Box<Type>),
    /// A length of time (only in date arithmetic).
    Duration(Unit),
    /// A set of values for `in`.
    Set(Box<Type>),
    /// A range for `in`.
    Range(Box<Type>),
    /// A row of a table (for `a != this`).
    Row(TableId),
    /// Unknown after an earlier error; compatible with everything.
    Error,
}

impl Type {
    /// Whether values of the two types can be compared.
    pub fn comparable(&self, other: &Type) -> bool {
        use Type::*;
        match (self, other) {
            (Error, _) | (_, Error) => true,
            (Int | Dec, Int | Dec) => true,
            (Text | Code(_), Text | Code(_)) => true,
            (Row(a), Row(b)) => a == b,
            (a, b) => a == b,
        }
    }
    /// A short name for messages.
    pub fn describe(&self) -> String {
        match self {
            Type::Bool => "yes/no".into(),
            Type::Int => "whole number".into(),
            Type::Dec => "decimal".into(),
            Type::Date => "date".into(),
            Type::Text | Type::Code(_) => "text".into(),
            Type::List(t) => format!("list of {}", t.describe()),
            Type::Duration(_) => "duration".into(),
            Type::Set(t) => format!("set of {}", t.describe()),
            Type::Range(t) => format!("range of {}", t.describe()),
            Type::Row(_) => "row".into(),
            Type::Error => "unknown".into(),
        }
    }
    /// Whether the type is numeric.
    pub fn numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Dec | Type::Error)
    }
}

/// A constant value.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    /// Missing.
    Null,
    /// Yes/no.
    Bool(bool),
    /// Whole number.
    Int(i64),
    /// Decimal.
    Dec(f64),
    /// Date.
    Date(NaiveDate),
    /// Text.
    Text(Arc<str>),
}

impl Const {
    /// The value the constant stands for (`eval` reads it, `analysis` compares with it).
    pub fn value(&self) -> crate::table::Scalar {
        use crate::table::Scalar;
        use chrono::Datelike;
        match self {
            Const::Null => Scalar::Null,
            Const::Bool(b) => Scalar::Bool(*b),
            Const::Int(n) => Scalar::Int(*n),
            Const::Dec(x) => Scalar::Dec(*x),
            Const::Date(d) => Scalar::Date(d.num_days_from_ce()),
            Const::Text(t) => Scalar::Text(t.clone()),
        }
    }
}

/// A typed expression. Equality is structural: spans compare equal (see [`Span`]), so two copies of
/// one expression, or the same expression written twice, are equal.
#[derive(Clone, Debug, PartialEq)]
pub struct IExpr {
    /// What it computes.
    pub kind: IKind,
    /// Its type.
    pub ty: Type,
    /// Where it was written.
    pub span: Span,
}

/// Where an aggregate's items come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// Rows of `table` below the row of `anchor` (a table that is the variable's own table or one of
    /// its ancestors).
    Below {
        /// The variable whose row anchors the set.
        var: VarId,
        /// The anchor table.
        anchor: TableId,
        /// The rows' table.
        table: TableId,
    },
    /// Every row of `table`, optionally joined on equal keys.
    All {
        /// The rows' table.
        table: TableId,
        /// `(inner key, outer key)` pairs taken from the filter's `==` conjuncts (check/plan.rs):
        /// the pairs are made by a hash join on them.
        keys: Vec<(IExpr, IExpr)>,
    },
    /// The rows of the current group (group rules only).
    Group {
        /// The rows' table.
        table: TableId,
    },
    /// Items of a list value.
    List(Box<IExpr>),
}

/// How `eval` computes an aggregate, decided once at check time (check/plan.rs). `eval` executes
/// the plan it is given and never looks at the shape of the filter to choose another.
#[derive(Clone, Debug, PartialEq)]
pub enum AggPlan {
    /// Make the (outer item, inner item) pairs of the source (rows below an anchor, a group's rows,
    /// a list's items, every row of a table, or rows of equal keys by hash join), a bounded slice
    /// of outer items at a time, keep those that pass the filter and fold them.
    Pairs,
    /// `count`, `exists` or `none` over a join on keys, counted per key without making the pairs:
    /// linear however many rows share a key.
    CountPerKey(Box<KeyedJoin>),
    /// `min` or `max` of a value of the inner row (the expression) over a join on keys, from the
    /// two most extreme values of each key, without making the pairs.
    ExtremePerKey(Box<KeyedJoin>, Box<IExpr>),
}

/// A join on keys computed per key: its source is [`Source::All`] with keys, and its filter is
/// exactly the keys' `==` conjuncts and the conjuncts below (copies of the filter's own).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyedJoin {
    /// Conjuncts that read only the inner row (`o.Sex == "1"`): a row that fails one is not joined.
    pub inner: Vec<IExpr>,
    /// Conjuncts that do not read the inner row (`present(UPN)`): an item that fails one joins no row.
    pub outer: Vec<IExpr>,
    /// `o != this`: the variable whose row (of the joined table) is not joined to its own item.
    pub not_self: Option<VarId>,
    /// `o.V != V`: a value of the inner row and one of the outer item that must differ.
    pub differs: Option<(IExpr, IExpr)>,
}

/// Expression kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum IKind {
    /// A constant.
    Const(Const),
    /// A duration constant.
    Duration(i64, Unit),
    /// A field of a variable's row, or of one of its ancestors.
    Field {
        /// The variable.
        var: VarId,
        /// The table holding the field (the variable's table or an ancestor).
        table: TableId,
        /// The field.
        field: FieldId,
    },
    /// A field of a singleton table.
    Single {
        /// The table.
        table: TableId,
        /// The field.
        field: FieldId,
    },
    /// The variable's row itself (`this`, `x`), for identity comparisons.
    Row(VarId),
    /// A list item bound by an aggregate.
    Item(VarId),
    /// The 1-based position of a list item in its list (`x.position`).
    ItemPos(VarId),
    /// A group rule's key.
    GroupKey,
    /// A parameter or derived value (index into [`Program::globals`]).
    Global(usize),
    /// A rule's `let` value.
    Let(usize),
    /// `not`.
    Not(Box<IExpr>),
    /// `-x`.
    Neg(Box<IExpr>),
    /// Binary operator (not `in`, nor a date moved by a duration).
    Binary(BinOp, Box<IExpr>, Box<IExpr>),
    /// A date moved by a constant duration: `d + 30 days` is `Shift(d, 30, Days)`, `d - 45 working
    /// days` is `Shift(d, -45, WorkingDays)` (check lowers `date ± duration` to it).
    Shift(Box<IExpr>, i64, Unit),
    /// `x in set` against constants.
    InSet(Box<IExpr>, Arc<HashSet<String>>, bool),
    /// `x in (a, b, ...)` with computed members.
    InTuple(Box<IExpr>, Vec<IExpr>, bool),
    /// `x in lo ..= hi` / `..<`.
    InRange {
        /// The value.
        x: Box<IExpr>,
        /// Lower bound.
        lo: Box<IExpr>,
        /// Upper bound.
        hi: Box<IExpr>,
        /// Upper bound included.
        inclusive: bool,
        /// `not in`.
        negate: bool,
    },
    /// `x in list`.
    InList(Box<IExpr>, Box<IExpr>, bool),
    /// `if c then a else b`.
    If(Box<IExpr>, Box<IExpr>, Box<IExpr>),
    /// A built-in function.
    Call(crate::check::builtins::Builtin, Vec<IExpr>),
    /// An aggregate.
    Agg {
        /// Which.
        func: AggFn,
        /// The items.
        source: Source,
        /// The variable bound to each item.
        var: VarId,
        /// `where`.
        filter: Option<Box<IExpr>>,
        /// Value or predicate.
        arg: Option<Box<IExpr>>,
        /// How it is computed. Its expressions are copies of the filter's and the argument's:
        /// [`IExpr::walk`] does not visit them again.
        plan: AggPlan,
    },
}

impl IExpr {
    /// Visits this expression and every sub-expression.
    pub fn walk(&self, f: &mut dyn FnMut(&IExpr)) {
        f(self);
        match &self.kind {
            IKind::Not(a) | IKind::Neg(a) | IKind::InSet(a, _, _) | IKind::Shift(a, _, _) => a.walk(f),
            IKind::Binary(_, a, b) | IKind::InList(a, b, _) => {
                a.walk(f);
                b.walk(f);
            }
            IKind::InTuple(a, xs, _) => {
                a.walk(f);
                xs.iter().for_each(|x| x.walk(f));
            }
            IKind::InRange { x, lo, hi, .. } => {
                x.walk(f);
                lo.walk(f);
                hi.walk(f);
            }
            IKind::If(c, a, b) => {
                c.walk(f);
                a.walk(f);
                b.walk(f);
            }
            IKind::Call(_, xs) => xs.iter().for_each(|x| x.walk(f)),
            IKind::Agg { source, filter, arg, .. } => {
                match source {
                    Source::All { keys, .. } => keys.iter().for_each(|(a, b)| {
                        a.walk(f);
                        b.walk(f);
                    }),
                    Source::List(l) => l.walk(f),
                    _ => {}
                }
                if let Some(x) = filter {
                    x.walk(f);
                }
                if let Some(x) = arg {
                    x.walk(f);
                }
            }
            _ => {}
        }
    }
}
