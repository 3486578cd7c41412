//! Static analysis of checked rules, for the comparison and code-list fragment of the language:
//! a condition that can never hold, two rules that contradict each other, a rule made redundant by
//! another, and derived values no rule uses. Findings are warnings: the rules still run.
//!
//! A condition is read as a conjunction of atoms on fields of the rule's row (`F op constant`,
//! `F in List`, `F in (..)`, `F in a ..= b` with constant bounds, `missing(F)`, `present(F)`);
//! anything else is left alone (it may hold). Each field's atoms are intersected in a small domain:
//! an interval with excluded points for numbers and dates, an allowed set for text and codes.

use super::program::*;
use crate::diag::Diag;
use crate::schema::{FieldId, Schema, TableId};
use crate::syntax::ast::BinOp;
use crate::table::Scalar;
use std::collections::{BTreeMap, HashSet};

/// A constraint on one field.
#[derive(Clone, Debug)]
enum Atom {
    Cmp(BinOp, Scalar),
    InSet(HashSet<String>, bool),
    Missing(bool),
}

type Key = (TableId, FieldId);

fn field_key(e: &IExpr) -> Option<Key> {
    match &e.kind {
        IKind::Field { var, table, field } if var.0 == 0 => Some((*table, *field)),
        _ => None,
    }
}

fn constant(e: &IExpr) -> Option<Scalar> {
    match &e.kind {
        IKind::Const(c) if !matches!(c, Const::Null) => Some(c.value()),
        _ => None,
    }
}

fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        o => o,
    }
}

/// The atoms of a conjunction; `false` when some part is not understood (then nothing is claimed
/// about the parts left out, but the atoms found still constrain: a conjunction holds only if they do).
fn atoms(e: &IExpr, out: &mut Vec<(Key, Atom)>) {
    match &e.kind {
        IKind::Binary(BinOp::And, a, b) => {
            atoms(a, out);
            atoms(b, out);
        }
        IKind::Binary(op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) => {
            if let (Some(k), Some(c)) = (field_key(a), constant(b)) {
                out.push((k, Atom::Cmp(*op, c)));
            } else if let (Some(c), Some(k)) = (constant(a), field_key(b)) {
                out.push((k, Atom::Cmp(flip(*op), c)));
            }
        }
        IKind::InSet(x, set, negate) => {
            if let Some(k) = field_key(x) {
                out.push((k, Atom::InSet((**set).clone(), *negate)));
            }
        }
        IKind::InRange { x, lo, hi, inclusive, negate: false } => {
            if let (Some(k), Some(l), Some(h)) = (field_key(x), constant(lo), constant(hi)) {
                out.push((k, Atom::Cmp(BinOp::Ge, l)));
                out.push((k, Atom::Cmp(if *inclusive { BinOp::Le } else { BinOp::Lt }, h)));
            }
        }
        IKind::Call(super::builtins::Builtin::Missing, args) => {
            if let Some(k) = args.first().and_then(field_key) {
                out.push((k, Atom::Missing(true)));
            }
        }
        IKind::Call(super::builtins::Builtin::Present, args) => {
            if let Some(k) = args.first().and_then(field_key) {
                out.push((k, Atom::Missing(false)));
            }
        }
        _ => {}
    }
}

fn num(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Int(n) => Some(*n as f64),
        Scalar::Dec(x) => Some(*x),
        Scalar::Date(d) => Some(f64::from(*d)),
        _ => None,
    }
}

/// Whether the atoms on one field can all hold at once.
fn satisfiable(list: &[&Atom]) -> bool {
    // Presence: a comparison or membership needs a present value.
    let needs_value = list.iter().any(|a| !matches!(a, Atom::Missing(_)));
    if list.iter().any(|a| matches!(a, Atom::Missing(true)))
        && (needs_value || list.iter().any(|a| matches!(a, Atom::Missing(false))))
    {
        return false;
    }
    // Text and codes: the allowed set.
    let mut allowed: Option<HashSet<String>> = None;
    let mut banned: HashSet<String> = HashSet::new();
    let (mut lo, mut lo_incl, mut hi, mut hi_incl) = (f64::NEG_INFINITY, true, f64::INFINITY, true);
    let mut excluded: Vec<f64> = vec![];
    for a in list {
        match a {
            Atom::Cmp(op, c) => {
                if let Scalar::Text(t) = c {
                    match op {
                        BinOp::Eq => {
                            let one: HashSet<String> = [t.to_string()].into();
                            allowed = Some(match allowed.take() {
                                Some(s) => s.intersection(&one).cloned().collect(),
                                None => one,
                            });
                        }
                        BinOp::Ne => {
                            banned.insert(t.to_string());
                        }
                        _ => {}
                    }
                    continue;
                }
                let Some(v) = num(c) else { continue };
                match op {
                    BinOp::Eq => {
                        if v > lo || (v == lo && lo_incl) {
                            lo = v;
                            lo_incl = true;
                        } else {
                            return false;
                        }
                        if v < hi || (v == hi && hi_incl) {
                            hi = v;
                            hi_incl = true;
                        } else {
                            return false;
                        }
                    }
                    BinOp::Ne => excluded.push(v),
                    BinOp::Gt | BinOp::Ge if v > lo || (v == lo && *op == BinOp::Gt) => {
                        lo = v;
                        lo_incl = *op == BinOp::Ge;
                    }
                    BinOp::Lt | BinOp::Le if v < hi || (v == hi && *op == BinOp::Lt) => {
                        hi = v;
                        hi_incl = *op == BinOp::Le;
                    }
                    _ => {}
                }
            }
            Atom::InSet(set, false) => {
                allowed = Some(match allowed.take() {
                    Some(s) => s.intersection(set).cloned().collect(),
                    None => set.clone(),
                });
            }
            Atom::InSet(set, true) => banned.extend(set.iter().cloned()),
            Atom::Missing(_) => {}
        }
    }
    if let Some(a) = &allowed
        && a.iter().all(|x| banned.contains(x))
    {
        return false;
    }
    if lo > hi || (lo == hi && !(lo_incl && hi_incl)) {
        return false;
    }
    // A single point that is excluded.
    !(lo == hi && excluded.contains(&lo))
}

fn conj_satisfiable(conj: &[(Key, Atom)]) -> bool {
    let mut by_field: BTreeMap<Key, Vec<&Atom>> = BTreeMap::new();
    for (k, a) in conj {
        by_field.entry(*k).or_default().push(a);
    }
    by_field.values().all(|l| satisfiable(l))
}

/// A rule reduced to its atoms: index, table, `when` atoms, check atoms, and whether it is a `require`.
type Summary = (usize, TableId, Vec<(Key, Atom)>, Vec<(Key, Atom)>, bool);

/// Warnings for rules whose conditions never hold, and pairs of rules that contradict or repeat
/// each other.
pub fn rules(schema: &Schema, rules: &[RuleDef]) -> Vec<Diag> {
    let mut out = vec![];
    // Per rule: the `when` atoms, and the failing condition's atoms (`forbid X`: X).
    let mut summaries: Vec<Summary> = vec![];
    for (i, r) in rules.iter().enumerate() {
        let RuleScope::Table(t) = &r.scope else { continue };
        let mut when = vec![];
        for s in &r.steps {
            match s {
                IStep::When(e) => {
                    let before = when.len();
                    atoms(e, &mut when);
                    if !conj_satisfiable(&when) {
                        out.push(
                            Diag::warning(
                                "check::never-holds",
                                e.span,
                                format!("rule `{}` never applies: this condition can never hold", r.code),
                            )
                            .label("never true")
                            .help("the comparisons on one field exclude each other; check the values and operators"),
                        );
                        when.truncate(before);
                    }
                }
                IStep::Forbid(e) => {
                    let mut f = when.clone();
                    atoms(e, &mut f);
                    if matches!(
                        e.kind,
                        IKind::Binary(BinOp::And, ..)
                            | IKind::Binary(BinOp::Eq | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Ne, ..)
                            | IKind::InSet(..)
                            | IKind::InRange { .. }
                    ) && !conj_satisfiable(&f)
                    {
                        out.push(
                            Diag::warning(
                                "check::never-holds",
                                e.span,
                                format!("rule `{}` can never fail: what it forbids can never hold", r.code),
                            )
                            .label("never true")
                            .help("the comparisons on one field exclude each other; check the values and operators"),
                        );
                    }
                    let only_atoms = {
                        let mut n = vec![];
                        atoms(e, &mut n);
                        !n.is_empty() && simple(e)
                    };
                    if only_atoms && r.steps.iter().all(|s| matches!(s, IStep::Forbid(_))) {
                        let mut a = vec![];
                        atoms(e, &mut a);
                        summaries.push((i, *t, vec![], a, false));
                    }
                }
                IStep::Require(e) => {
                    if simple(e) && r.steps.iter().all(|s| matches!(s, IStep::Require(_))) {
                        let mut a = vec![];
                        atoms(e, &mut a);
                        if !a.is_empty() {
                            summaries.push((i, *t, vec![], a, true));
                        }
                    }
                }
                IStep::Let(..) => {}
            }
        }
    }
    // Two unconditional `require`s on one table that no row can meet together contradict each other.
    for (x, a) in summaries.iter().enumerate() {
        for b in summaries.iter().skip(x + 1) {
            if a.1 != b.1 || !(a.4 && b.4) {
                continue;
            }
            let mut both = a.3.clone();
            both.extend(b.3.iter().cloned());
            if !conj_satisfiable(&both)
                && let (Some(ra), Some(rb)) = (rules.get(a.0), rules.get(b.0))
            {
                out.push(
                    Diag::warning(
                        "check::contradiction",
                        rb.span,
                        format!(
                            "rules `{}` and `{}` contradict each other: no {} row can pass both",
                            ra.code,
                            rb.code,
                            schema.table(a.1).name
                        ),
                    )
                    .label(format!("contradicts `{}`", ra.code))
                    .related(ra.span, "this rule"),
                );
            }
        }
    }
    // A `forbid` whose failures are all failures of another rule's `forbid` adds nothing.
    for a in &summaries {
        for b in &summaries {
            if a.0 == b.0 || a.1 != b.1 || a.4 || b.4 || a.3.is_empty() || !conj_satisfiable(&b.3) {
                continue;
            }
            // b is redundant if every row failing b fails a: (b and not a) cannot hold. With a single
            // atom in a, "not a" is that atom negated.
            let [(ka, atom_a)] = a.3.as_slice() else { continue };
            let Some(neg) = negate(atom_a) else { continue };
            let mut test = b.3.clone();
            test.push((*ka, neg));
            if !conj_satisfiable(&test)
                && let (Some(ra), Some(rb)) = (rules.get(a.0), rules.get(b.0))
                && (ra.severity >= rb.severity)
            {
                out.push(
                    Diag::warning(
                        "check::redundant",
                        rb.span,
                        format!("rule `{}` is redundant: every row it reports is already reported by `{}`", rb.code, ra.code),
                    )
                    .label("implied by another rule")
                    .related(ra.span, "this rule reports the same rows"),
                );
            }
        }
    }
    out
}

/// Whether an expression is only a conjunction of understood atoms.
fn simple(e: &IExpr) -> bool {
    match &e.kind {
        IKind::Binary(BinOp::And, a, b) => simple(a) && simple(b),
        _ => {
            let mut v = vec![];
            atoms(e, &mut v);
            v.len() == 1 || matches!(e.kind, IKind::InRange { negate: false, .. }) && v.len() == 2
        }
    }
}

fn negate(a: &Atom) -> Option<Atom> {
    Some(match a {
        Atom::Cmp(op, c) => Atom::Cmp(
            match op {
                BinOp::Eq => BinOp::Ne,
                BinOp::Ne => BinOp::Eq,
                BinOp::Lt => BinOp::Ge,
                BinOp::Le => BinOp::Gt,
                BinOp::Gt => BinOp::Le,
                BinOp::Ge => BinOp::Lt,
                _ => return None,
            },
            c.clone(),
        ),
        Atom::InSet(s, n) => Atom::InSet(s.clone(), !n),
        Atom::Missing(m) => Atom::Missing(!m),
    })
}

/// Warnings for derived values and fields that no rule uses (directly or through other derivations).
pub fn unused_derivations(program_globals: &[Global], derived: &[DerivedField], rules: &[RuleDef], schema: &Schema) -> Vec<Diag> {
    let mut used_g: HashSet<usize> = HashSet::new();
    let mut used_f: HashSet<Key> = HashSet::new();
    let mut stack: Vec<&IExpr> = vec![];
    for r in rules {
        stack.extend(r.expressions());
        used_f.extend(r.fields.iter().copied());
    }
    while let Some(e) = stack.pop() {
        e.walk(&mut |x| match &x.kind {
            IKind::Global(i) => {
                if used_g.insert(*i)
                    && let Some(g) = program_globals.get(*i)
                {
                    stack.push(&g.expr);
                }
            }
            IKind::Field { table, field, .. } | IKind::Single { table, field } => {
                if used_f.insert((*table, *field))
                    && let Some(d) = derived.iter().find(|d| d.table == *table && d.field == *field)
                {
                    stack.push(&d.expr);
                }
            }
            _ => {}
        });
    }
    let mut out = vec![];
    for (i, g) in program_globals.iter().enumerate() {
        if !g.is_param && !used_g.contains(&i) && g.name != "ReferenceDate" {
            out.push(
                Diag::warning("check::unused-derive", g.span, format!("derive `{}` is never used", g.name))
                    .label("never used")
                    .help("remove it, or use it in a rule"),
            );
        }
    }
    for d in derived {
        if !used_f.contains(&(d.table, d.field)) {
            out.push(
                Diag::warning(
                    "check::unused-derive",
                    d.span,
                    format!("derive `{}.{}` is never used", schema.table(d.table).name, schema.field(d.table, d.field).name),
                )
                .label("never used")
                .help("remove it, or use it in a rule"),
            );
        }
    }
    out
}
