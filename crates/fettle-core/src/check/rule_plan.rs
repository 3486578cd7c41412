//! Planning a rule: the facts `eval` needs about a rule beyond running its steps ([`RulePlan`]),
//! worked out once when the program is checked. Which aggregates give a failing item its related
//! rows, which field each message hole shows, which fields and tables the rule reads (directly or
//! through derived fields and values), whether it looks at other rows or counts rows below its own.
//! `eval` reads these facts and never walks a rule's expressions to decide which rows or fields
//! a rule involves.

use super::program::*;
use crate::schema::{FieldId, Schema, TableId};
use crate::syntax::ast::AggFn;
use std::collections::{BTreeSet, HashSet};

/// The plan of `rule`, a rule of `prog` (whose derived fields and values it reads through).
pub(super) fn plan(prog: &Program, rule: &RuleDef) -> RulePlan {
    let witnesses = rule
        .steps
        .iter()
        .map(|s| {
            let mut out = vec![];
            if let IStep::Require(e) | IStep::Forbid(e) = s {
                witnesses(e, &mut out);
            }
            out
        })
        .collect();
    let hole_fields = rule
        .template
        .iter()
        .map(|p| match p {
            IPart::Expr(e) => hole_field(&prog.schema, rule, e, 0),
            IPart::Text(_) => None,
        })
        .collect();
    let (reads, below) = reads(prog, rule);
    let own = match &rule.scope {
        RuleScope::Table(t) => Some(*t),
        _ => None,
    };
    let (mut other_rows, mut rows_below) = (false, false);
    for s in &rule.steps {
        let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
        e.walk(&mut |x| match &x.kind {
            IKind::Agg { source, .. } => {
                other_rows |= !matches!(source, Source::List(_));
                rows_below |= matches!(source, Source::Below { .. });
            }
            IKind::Field { table, .. } => other_rows |= Some(*table) != own,
            _ => {}
        });
    }
    RulePlan { witnesses, hole_fields, reads, below, other_rows, rows_below }
}

/// The aggregates over rows of a check whose rows are related rows of a failing item, in the order
/// written: those the check's truth hangs on directly (under `not`, operators and `if`), not those
/// inside a function's arguments, an `in` or another aggregate.
fn witnesses(e: &IExpr, out: &mut Vec<Witness>) {
    match &e.kind {
        // An aggregate over a list's items has no rows to relate.
        IKind::Agg { func, source, var, filter, arg, .. } if !matches!(source, Source::List(_)) => out.push(Witness {
            source: source.clone(),
            var: *var,
            filter: filter.as_deref().cloned(),
            rejects: if *func == AggFn::All { arg.as_deref().cloned() } else { None },
        }),
        IKind::Not(a) | IKind::Neg(a) | IKind::Shift(a, ..) => witnesses(a, out),
        IKind::Binary(_, a, b) => {
            witnesses(a, out);
            witnesses(b, out);
        }
        IKind::If(c, a, b) => {
            witnesses(c, out);
            witnesses(a, out);
            witnesses(b, out);
        }
        _ => {}
    }
}

/// The field a message hole shows a value of (`Table.Field`): a field read as is (`{LAchildID}`,
/// `{o.UPN}`), or through a `let`, an `if`, a function or an aggregate's value
/// (`{first(o.LAchildID ...)}`); `None` for a number, a yes/no or a hole that reads no field.
fn hole_field(schema: &Schema, rule: &RuleDef, e: &IExpr, depth: usize) -> Option<String> {
    if depth > 32 || matches!(e.ty, Type::Bool | Type::Int | Type::Dec | Type::Duration(_)) {
        return None;
    }
    let go = |x: &IExpr| hole_field(schema, rule, x, depth + 1);
    match &e.kind {
        IKind::Field { table, field, .. } | IKind::Single { table, field } => {
            Some(format!("{}.{}", schema.table(*table).name, schema.field(*table, *field).name))
        }
        IKind::Let(i) => rule.steps.iter().find_map(|s| match s {
            IStep::Let(j, x) if j == i => go(x),
            _ => None,
        }),
        IKind::If(_, a, b) | IKind::Binary(_, a, b) => go(a).or_else(|| go(b)),
        IKind::Call(_, xs) => xs.iter().find_map(go),
        IKind::Agg { arg: Some(x), .. } => go(x),
        IKind::Shift(a, ..) => go(a),
        _ => None,
    }
}

/// The fields a rule reads and the tables whose rows it reads below another row: in its group key,
/// steps and message, and in the derived fields and values of the return these read, in turn.
fn reads(prog: &Program, rule: &RuleDef) -> (BTreeSet<(TableId, FieldId)>, BTreeSet<TableId>) {
    let mut exprs: Vec<&IExpr> = rule.expressions();
    let (mut fields, mut below, mut globals) = (BTreeSet::new(), BTreeSet::new(), HashSet::new());
    while let Some(e) = exprs.pop() {
        e.walk(&mut |x| match &x.kind {
            IKind::Field { table, field, .. } | IKind::Single { table, field } => {
                if fields.insert((*table, *field))
                    && let Some(d) = prog.derived.iter().find(|d| d.table == *table && d.field == *field)
                {
                    exprs.push(&d.expr);
                }
            }
            IKind::Global(i) => {
                if globals.insert(*i)
                    && let Some(g) = prog.globals.get(*i)
                {
                    exprs.push(&g.expr);
                }
            }
            IKind::Agg { source: Source::Below { table, .. }, .. } => {
                below.insert(*table);
            }
            _ => {}
        });
    }
    (fields, below)
}
