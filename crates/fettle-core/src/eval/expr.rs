//! Evaluates one expression over every item of a frame, a node at a time.
//!
//! Missing values follow three-valued logic: a comparison or arithmetic with a missing operand is
//! missing (unknown); `and`/`or` are Kleene (`false and unknown` is false); `present`, `missing`,
//! `exists`, `count` and `??` never give missing.

use super::fault::{Checked, Fault};
use super::frame::{Bind, Frame, Val, cold, gather, try_vec};
use super::index::Index;
use crate::check::program::{AggPlan, IExpr, IKind, KeyedJoin, Program, Source};
use crate::syntax::ast::{AggFn, BinOp, Unit};
use crate::table::{Dataset, NONE, Scalar};
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

/// What an evaluation can see.
pub struct Ctx<'a> {
    /// The program.
    pub prog: &'a Program,
    /// The data (with derived columns filled so far).
    pub data: &'a Dataset,
    /// Row links.
    pub index: &'a Index,
    /// Values of globals computed so far.
    pub globals: &'a [Scalar],
    /// How plans are executed.
    pub opts: Options,
}

/// How the evaluator executes plans. Every run uses the defaults; tests give others to compare a
/// plan with the pairs it stands for, each run its own options (no switch shared between tests).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Execute the per-key plans ([`AggPlan::CountPerKey`], [`AggPlan::ExtremePerKey`]). When
    /// false, every aggregate makes its pairs: the reference the per-key plans must agree with.
    pub per_key: bool,
    /// The most pairs an aggregate makes at a time.
    pub pairs_at_once: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { per_key: true, pairs_at_once: PAIRS_AT_ONCE }
    }
}

/// The pairs an aggregate ranges over: the frame of (outer item, inner item) and each pair's outer item.
pub struct Pairs {
    /// The inner frame: outer variables gathered, plus the aggregate's variable.
    pub frame: Frame,
    /// Outer item of each pair, nondecreasing.
    pub outer: Vec<u32>,
}

fn map1(v: &Val, n: usize, f: impl Fn(&Scalar) -> Scalar) -> Checked<Val> {
    match v {
        Val::S(s) => Ok(Val::S(f(s))),
        Val::C(_) => Ok(Val::col(v.first(n)?.map(f).collect())),
    }
}

fn map2(a: &Val, b: &Val, n: usize, f: impl Fn(&Scalar, &Scalar) -> Scalar) -> Checked<Val> {
    match (a, b) {
        (Val::S(x), Val::S(y)) => Ok(Val::S(f(x, y))),
        _ => Ok(Val::col(a.first(n)?.zip(b.first(n)?).map(|(x, y)| f(x, y)).collect())),
    }
}

/// Orders two present values of comparable types; `None` when either is missing.
pub fn compare(a: &Scalar, b: &Scalar) -> Option<Ordering> {
    use Scalar::*;
    match (a, b) {
        (Null, _) | (_, Null) => None,
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Dec(y)) => (*x as f64).partial_cmp(y),
        (Dec(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Dec(x), Dec(y)) => x.partial_cmp(y),
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Text(x), Text(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (List(x), List(y)) => Some(x.len().cmp(&y.len())),
        _ => None,
    }
}

fn truth(s: &Scalar) -> Option<bool> {
    match s {
        Scalar::Bool(b) => Some(*b),
        _ => None,
    }
}

fn opt_bool(b: Option<bool>) -> Scalar {
    b.map_or(Scalar::Null, Scalar::Bool)
}

/// A fault for a variable that the frame does not bind as `check` said it would.
fn unbound(var: u32, what: &str) -> Fault {
    Fault::new(format!("variable {var} is not bound to {what} in the frame that reads it"))
}

/// Evaluates `e` over every item of `f`: a value shared by every item, or a column of exactly one
/// value per item (checked here, so that [`Val::at`] of an item of `f` never fails).
pub fn eval(cx: &Ctx, f: &Frame, e: &IExpr) -> Checked<Val> {
    let v = eval_node(cx, f, e)?;
    match &v {
        // INVARIANT: a column has a value per item of its frame; every `at` relies on it.
        Val::C(c) if c.len() != f.len => Err(Fault::new(format!(
            "an expression at bytes {}..{} gave {} values for {} items",
            e.span.start,
            e.span.end,
            c.len(),
            f.len
        ))),
        _ => Ok(v),
    }
}

fn eval_node(cx: &Ctx, f: &Frame, e: &IExpr) -> Checked<Val> {
    let n = f.len;
    Ok(match &e.kind {
        IKind::Const(c) => Val::S(c.value()),
        IKind::Duration(..) => Val::S(Scalar::Null),
        IKind::Field { var, table, field: fid } => field_col(cx, f, *var, *table, *fid)?,
        IKind::Single { table, field } => {
            // INVARIANT: the field is one of its table's (check), and the table is in the data.
            let col = column(cx, *table, *field)?;
            // A one-row table whose row is absent from the file has a missing value: data, not a fault.
            Val::S(col.get(0).cloned().unwrap_or_default())
        }
        IKind::Row(var) => match f.var(var.0) {
            Bind::Rows { rows, .. } => Val::col(rows.iter().map(|r| Scalar::Int(i64::from(*r))).collect()),
            _ => return Err(unbound(var.0, "rows")),
        },
        IKind::Item(var) => match f.var(var.0) {
            Bind::Items { vals, .. } => Val::C(vals.clone()),
            _ => return Err(unbound(var.0, "list items")),
        },
        IKind::ItemPos(var) => match f.var(var.0) {
            Bind::Items { pos, .. } => Val::col(pos.iter().map(|p| Scalar::Int(i64::from(*p))).collect()),
            _ => return Err(unbound(var.0, "list items")),
        },
        // INVARIANT: `key` is read only in group rules, whose frames carry their groups' keys.
        IKind::GroupKey => f.key.clone().ok_or_else(|| Fault::new("a group key was read outside a group rule"))?,
        // INVARIANT: a global id indexes the program's globals (check), which `prepare` computes in
        // dependency order.
        IKind::Global(i) => {
            Val::S(cx.globals.get(*i).cloned().ok_or_else(|| Fault::new(format!("global {i} is not one of the program's")))?)
        }
        // INVARIANT: a rule's `let`s are evaluated in order before any step that reads them.
        IKind::Let(i) => {
            f.lets.get(*i).cloned().ok_or_else(|| Fault::new(format!("`let` {i} was read before it was evaluated")))?
        }
        IKind::Not(a) => map1(&eval(cx, f, a)?, n, |x| opt_bool(truth(x).map(|b| !b)))?,
        IKind::Neg(a) => map1(&eval(cx, f, a)?, n, |x| match x {
            Scalar::Int(v) => Scalar::Int(-v),
            Scalar::Dec(v) => Scalar::Dec(-v),
            _ => Scalar::Null,
        })?,
        IKind::Binary(op, a, b) => binary(cx, f, *op, a, b)?,
        IKind::Shift(a, by, unit) => {
            let (by, unit) = (*by, *unit);
            let hol = cx.prog.holidays.clone();
            map1(&eval(cx, f, a)?, n, move |x| match x {
                Scalar::Date(d) => shift(*d, by, unit, &hol).map_or(Scalar::Null, Scalar::Date),
                _ => Scalar::Null,
            })?
        }
        IKind::InSet(x, set, neg) => {
            let neg = *neg;
            map1(&eval(cx, f, x)?, n, |v| match v {
                Scalar::Text(t) => Scalar::Bool(set.contains(t.as_ref()) != neg),
                Scalar::Null => Scalar::Null,
                other => Scalar::Bool(set.contains(&other.display()) != neg),
            })?
        }
        IKind::InTuple(x, items, neg) => {
            let xv = eval(cx, f, x)?;
            let ivs: Vec<Val> = items.iter().map(|i| eval(cx, f, i)).collect::<Checked<_>>()?;
            // Each value's items, checked once to have one per item; stepped together.
            let mut its = ivs.iter().map(|v| v.first(n)).collect::<Checked<Vec<_>>>()?;
            let mut out = Vec::with_capacity(n);
            for v in xv.first(n)? {
                let (mut found, mut unknown) = (false, false);
                for it in &mut its {
                    // `first(n)` gives exactly n values: every iterator has this item's.
                    match it.next().map(|y| compare(v, y)) {
                        Some(Some(Ordering::Equal)) => found = true,
                        Some(None) => unknown = true,
                        _ => {}
                    }
                }
                out.push(match (v.is_null(), found, unknown) {
                    (true, _, _) => Scalar::Null,
                    (false, true, _) => Scalar::Bool(!neg),
                    (false, false, true) => Scalar::Null,
                    (false, false, false) => Scalar::Bool(*neg),
                });
            }
            Val::col(out)
        }
        IKind::InRange { x, lo, hi, inclusive, negate } => {
            let (xv, lv, hv) = (eval(cx, f, x)?, eval(cx, f, lo)?, eval(cx, f, hi)?);
            let one = |((x, l), h): ((&Scalar, &Scalar), &Scalar)| -> Scalar {
                let above = compare(x, l).map(|o| o != Ordering::Less);
                let below = compare(x, h).map(|o| if *inclusive { o != Ordering::Greater } else { o == Ordering::Less });
                let r = match (above, below) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                opt_bool(r.map(|b| b != *negate))
            };
            Val::col(xv.first(n)?.zip(lv.first(n)?).zip(hv.first(n)?).map(one).collect())
        }
        IKind::InList(x, list, neg) => {
            let neg = *neg;
            map2(&eval(cx, f, x)?, &eval(cx, f, list)?, n, |v, l| match (v, l) {
                (Scalar::Null, _) => Scalar::Null,
                (_, Scalar::List(items)) => Scalar::Bool(items.iter().any(|i| compare(v, i) == Some(Ordering::Equal)) != neg),
                (_, Scalar::Null) => Scalar::Bool(neg),
                _ => Scalar::Null,
            })?
        }
        IKind::If(c, a, b) => {
            let (cv, av, bv) = (eval(cx, f, c)?, eval(cx, f, a)?, eval(cx, f, b)?);
            // A missing condition gives a missing value (three-valued logic).
            let one = |((c, a), b): ((&Scalar, &Scalar), &Scalar)| match truth(c) {
                Some(true) => a.clone(),
                Some(false) => b.clone(),
                None => Scalar::Null,
            };
            Val::col(cv.first(n)?.zip(av.first(n)?).zip(bv.first(n)?).map(one).collect())
        }
        IKind::Call(b, args) => {
            let vals: Vec<Val> = args.iter().map(|a| eval(cx, f, a)).collect::<Checked<_>>()?;
            if vals.iter().all(|v| matches!(v, Val::S(_))) {
                let xs: Vec<&Scalar> = vals.iter().map(|v| v.at(0)).collect::<Checked<_>>()?;
                return Ok(Val::S(super::builtins::call(*b, &xs, &cx.prog.holidays)));
            }
            // Arguments gathered on the stack: no built-in takes more than four (check).
            const NULL: Scalar = Scalar::Null;
            if vals.len() > 4 {
                return Err(Fault::new(format!("a built-in function was called with {} arguments", vals.len())));
            }
            let k = vals.len();
            // Each argument's values, checked once to have one per item.
            let mut its = vals.iter().map(|v| v.first(n)).collect::<Checked<Vec<_>>>()?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let mut xs: [&Scalar; 4] = [&NULL; 4];
                for (x, it) in xs.iter_mut().zip(its.iter_mut()) {
                    // `first(n)` gives exactly n values.
                    *x = it.next().unwrap_or(&NULL);
                }
                out.push(super::builtins::call(*b, xs.get(..k).unwrap_or_default(), &cx.prog.holidays));
            }
            Val::col(out)
        }
        IKind::Agg { func, source, var, filter, arg, plan } => {
            aggregate(cx, f, *func, source, var.0, filter.as_deref(), arg.as_deref(), plan)?
        }
    })
}

/// The column of a field. INVARIANT: the field is one of its table's (check), and the data has a
/// table per schema table with a column per field (`Dataset::empty`, the readers).
fn column<'a>(cx: &Ctx<'a>, table: crate::schema::TableId, fid: crate::schema::FieldId) -> Checked<&'a crate::table::Column> {
    cx.data
        .table(table)
        .and_then(|t| t.col(fid))
        .ok_or_else(|| Fault::new(format!("field {} of table {} has no column in the data", fid.0, table.0)))
}

/// A field of the rows a variable is bound to, read on their own table or on an ancestor's row.
fn field_col(
    cx: &Ctx,
    f: &Frame,
    var: crate::check::program::VarId,
    table: crate::schema::TableId,
    fid: crate::schema::FieldId,
) -> Checked<Val> {
    // INVARIANT: a field is read through a variable bound to rows of its table or of a table below
    // it (check resolves `o.Field` and bare fields so).
    let Bind::Rows { table: vt, rows } = f.var(var.0) else { return Err(unbound(var.0, "rows")) };
    let col = column(cx, table, fid)?;
    let values = &col.values;
    // INVARIANT: every column of a table has a value per row.
    let short = |r: u32| Fault::new(format!("a column of {} values was read at row {r}", values.len()));
    if *vt == table {
        return Ok(Val::col(gather(values, rows, short)?));
    }
    let map = cx
        .index
        .ancestor(*vt, table)
        .ok_or_else(|| Fault::new(format!("table {} is read from rows of table {}, which is not below it", table.0, vt.0)))?;
    let mut out = Vec::with_capacity(rows.len());
    for &r in rows.iter() {
        // INVARIANT: the ancestor map has an entry per row; `NONE` (a row whose parent is not in the
        // file) is data, and its ancestor's fields are missing.
        match map.get(r as usize) {
            Some(&a) if a != NONE => match values.get(a as usize) {
                Some(v) => out.push(v.clone()),
                None => return Err(cold(|| short(a))),
            },
            Some(_) => out.push(Scalar::Null),
            None => return Err(cold(|| Fault::new(format!("row {r} of table {} has no entry in its ancestor map", vt.0)))),
        }
    }
    Ok(Val::col(out))
}

fn binary(cx: &Ctx, f: &Frame, op: BinOp, a: &IExpr, b: &IExpr) -> Checked<Val> {
    let n = f.len;
    let av = eval(cx, f, a)?;
    let bv = eval(cx, f, b)?;
    match op {
        BinOp::And => map2(&av, &bv, n, |x, y| match (truth(x), truth(y)) {
            (Some(false), _) | (_, Some(false)) => Scalar::Bool(false),
            (Some(true), Some(true)) => Scalar::Bool(true),
            _ => Scalar::Null,
        }),
        BinOp::Or => map2(&av, &bv, n, |x, y| match (truth(x), truth(y)) {
            (Some(true), _) | (_, Some(true)) => Scalar::Bool(true),
            (Some(false), Some(false)) => Scalar::Bool(false),
            _ => Scalar::Null,
        }),
        BinOp::Eq => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o == Ordering::Equal))),
        BinOp::Ne => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o != Ordering::Equal))),
        BinOp::Lt => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o == Ordering::Less))),
        BinOp::Le => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o != Ordering::Greater))),
        BinOp::Gt => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o == Ordering::Greater))),
        BinOp::Ge => map2(&av, &bv, n, |x, y| opt_bool(compare(x, y).map(|o| o != Ordering::Less))),
        BinOp::Coalesce => map2(&av, &bv, n, |x, y| if x.is_null() { y.clone() } else { x.clone() }),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => map2(&av, &bv, n, |x, y| arith(op, x, y)),
        // INVARIANT: `in` and `not in` are lowered to `InSet`, `InTuple`, `InRange` or `InList` by check.
        BinOp::In | BinOp::NotIn => Err(Fault::new("an `in` was left as a binary operator")),
    }
}

fn shift(d: i32, k: i64, unit: Unit, holidays: &[i32]) -> Option<i32> {
    match unit {
        Unit::Days => i32::try_from(i64::from(d) + k).ok(),
        Unit::Weeks => i32::try_from(i64::from(d) + 7 * k).ok(),
        Unit::Months => super::dates::add_months(d, k),
        Unit::Years => super::dates::add_months(d, k.checked_mul(12)?),
        Unit::WorkingDays => super::dates::working_days_back(d, -k, holidays),
    }
}

fn arith(op: BinOp, x: &Scalar, y: &Scalar) -> Scalar {
    use Scalar::*;
    match (x, y) {
        (Int(a), Int(b)) => match op {
            BinOp::Add => a.checked_add(*b).map_or(Null, Int),
            BinOp::Sub => a.checked_sub(*b).map_or(Null, Int),
            BinOp::Mul => a.checked_mul(*b).map_or(Null, Int),
            _ if *b == 0 => Null,
            _ => Dec(*a as f64 / *b as f64),
        },
        (Date(a), Date(b)) if op == BinOp::Sub => Int(i64::from(*a) - i64::from(*b)),
        (Text(a), Text(b)) if op == BinOp::Add => Text(std::sync::Arc::from(format!("{a}{b}"))),
        (Int(_) | Dec(_), Int(_) | Dec(_)) => {
            let a = if let Int(v) = x {
                *v as f64
            } else if let Dec(v) = x {
                *v
            } else {
                0.0
            };
            let b = if let Int(v) = y {
                *v as f64
            } else if let Dec(v) = y {
                *v
            } else {
                0.0
            };
            let r = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                _ if b == 0.0 => return Null,
                _ => a / b,
            };
            if r.is_finite() { Dec(r) } else { Null }
        }
        _ => Null,
    }
}

/// Builds the (outer item, inner item) pairs of an aggregate's source.
pub fn pairs(cx: &Ctx, f: &Frame, source: &Source, var: u32) -> Checked<Pairs> {
    pairs_limited(cx, f, source, var, usize::MAX)
}

/// Pairs made at most at a time (about 24 bytes a pair, and a column per variable gathered): an
/// aggregate over more is computed a slice of outer items at a time, so its memory stays bounded
/// even where a key shared by thousands of rows makes the pairs quadratic.
const PAIRS_AT_ONCE: usize = 2_000_000;

/// [`pairs`] with at most `limit` inner items per outer item, the first ones in order: enough to
/// name some rows a finding is about without making every pair when a key is shared by thousands.
pub fn pairs_limited(cx: &Ctx, f: &Frame, source: &Source, var: u32, limit: usize) -> Checked<Pairs> {
    Ok(pairs_from(cx, f, source, var, limit, 0, usize::MAX)?.0)
}

/// The pairs of the outer items from `from` on, stopping after the item at which there are
/// `most` pairs or more; with the next outer item to start from.
fn pairs_from(cx: &Ctx, f: &Frame, source: &Source, var: u32, limit: usize, from: usize, most: usize) -> Checked<(Pairs, usize)> {
    let mut next = f.len;
    let mut outer: Vec<u32> = vec![];
    let mut inner_rows: Vec<u32> = vec![];
    let mut items: Option<(Vec<Scalar>, Vec<u32>)> = None;
    let mut inner_table = None;
    match source {
        Source::Below { var: anchor_var, anchor, table } => {
            inner_table = Some(*table);
            // INVARIANT: `below` ranges over the rows under a variable bound to rows of the anchor
            // table or of a table below it, and the index links the anchor to the table (check).
            let Bind::Rows { table: vt, rows } = f.var(anchor_var.0) else { return Err(unbound(anchor_var.0, "rows")) };
            let anchor_rows: Vec<u32> = if vt == anchor {
                rows.to_vec()
            } else {
                let map = cx.index.ancestor(*vt, *anchor).ok_or_else(|| {
                    Fault::new(format!("rows of table {} were anchored at table {}, which is not above it", vt.0, anchor.0))
                })?;
                try_vec(
                    rows.len(),
                    rows.iter().map(|r| {
                        map.get(*r as usize).copied().ok_or_else(|| Fault::new(format!("row {r} has no ancestor entry")))
                    }),
                )?
            };
            let csr = cx
                .index
                .below(*anchor, *table)
                .ok_or_else(|| Fault::new(format!("table {} is not below table {}", table.0, anchor.0)))?;
            for (i, a) in anchor_rows.iter().enumerate().skip(from) {
                if outer.len() >= most {
                    next = i;
                    break;
                }
                // A row whose parent is not in the file has no rows below it: data, not a fault.
                if *a == NONE {
                    continue;
                }
                for r in csr.group(*a)?.iter().take(limit) {
                    outer.push(i as u32);
                    inner_rows.push(*r);
                }
            }
        }
        Source::Group { table } => {
            inner_table = Some(*table);
            // INVARIANT: a group's rows are read only in a group rule, whose frame binds variable 0
            // to its groups.
            let Some(Bind::Group { gid, csr, .. }) = f.vars.first() else { return Err(unbound(0, "groups")) };
            for (i, g) in gid.iter().enumerate().skip(from) {
                if outer.len() >= most {
                    next = i;
                    break;
                }
                for r in csr.group(*g)?.iter().take(limit) {
                    outer.push(i as u32);
                    inner_rows.push(*r);
                }
            }
        }
        Source::All { table, keys } => {
            inner_table = Some(*table);
            let len = table_len(cx, *table)? as u32;
            if keys.is_empty() {
                for i in from..f.len {
                    if outer.len() >= most {
                        next = i;
                        break;
                    }
                    for r in (0..len).take(limit) {
                        outer.push(i as u32);
                        inner_rows.push(r);
                    }
                }
            } else {
                // Hash join on the key conjuncts.
                let mut all = Frame { len: len as usize, ..Frame::default() };
                all.bind(var, Bind::Rows { table: *table, rows: Arc::new((0..len).collect()) });
                let inner_keys: Vec<Val> = keys.iter().map(|(k, _)| eval(cx, &all, k)).collect::<Checked<_>>()?;
                let outer_keys: Vec<Val> = keys.iter().map(|(_, k)| eval(cx, f, k)).collect::<Checked<_>>()?;
                // Sort kernel on key hashes: no allocation per key. A hash collision only adds a
                // pair, and the filter (which holds the `==` conjuncts) drops it again.
                let mut inner: Vec<(u64, u32)> = hashed(&inner_keys, 0..len as usize)?;
                inner.sort_unstable();
                for i in from..f.len {
                    if outer.len() >= most {
                        next = i;
                        break;
                    }
                    let Some(h) = key_hash(&outer_keys, i)? else { continue };
                    let start = inner.partition_point(|(x, _)| *x < h);
                    // `partition_point` is at most the length, so the slice always exists.
                    for (x, r) in inner.get(start..).unwrap_or_default().iter().take(limit) {
                        if *x != h {
                            break;
                        }
                        outer.push(i as u32);
                        inner_rows.push(*r);
                    }
                }
            }
        }
        Source::List(list) => {
            let lv = eval(cx, f, list)?;
            let mut vals = vec![];
            let mut pos = vec![];
            for i in from..f.len {
                if outer.len() >= most {
                    next = i;
                    break;
                }
                // A missing list has no items: data, not a fault.
                if let Scalar::List(xs) = lv.at(i)? {
                    for (j, x) in xs.iter().enumerate().take(limit) {
                        outer.push(i as u32);
                        vals.push(x.clone());
                        pos.push(j as u32 + 1);
                    }
                }
            }
            items = Some((vals, pos));
        }
    }
    let mut frame = f.select(&outer)?;
    match (items, inner_table) {
        (Some((vals, pos)), _) => frame.bind(var, Bind::Items { vals: Arc::new(vals), pos: Arc::new(pos) }),
        (None, Some(t)) => frame.bind(var, Bind::Rows { table: t, rows: Arc::new(inner_rows) }),
        (None, None) => {}
    }
    Ok((Pairs { frame, outer }, next))
}

/// The number of rows of a table. INVARIANT: the data has a table per schema table.
fn table_len(cx: &Ctx, t: crate::schema::TableId) -> Checked<usize> {
    cx.data.table(t).map(|x| x.len).ok_or_else(|| Fault::new(format!("table {} is not in the data", t.0)))
}

/// `(key hash, row)` of the rows whose key has no missing part.
fn hashed(keys: &[Val], rows: impl Iterator<Item = usize>) -> Checked<Vec<(u64, u32)>> {
    let mut out = vec![];
    for r in rows {
        if let Some(h) = key_hash(keys, r)? {
            out.push((h, r as u32));
        }
    }
    Ok(out)
}

/// Inner rows grouped by join key: sorted by key hash, each run of one hash checked to hold one key,
/// so a lookup that matches the hash and the run's first key is exact.
struct Runs {
    /// Hash to the run's range in `rows`.
    map: rustc_hash::FxHashMap<u64, (usize, usize)>,
    /// `(hash, row)`, sorted.
    rows: Vec<(u64, u32)>,
}

impl Runs {
    /// The rows' runs; `None` on a hash collision (the pairs decide then).
    fn new(keys: &[Val], rows: impl Iterator<Item = usize>) -> Checked<Option<Runs>> {
        let mut sorted = hashed(keys, rows)?;
        sorted.sort_unstable();
        let mut map = rustc_hash::FxHashMap::default();
        let mut start = 0;
        for run in sorted.chunk_by(|a, b| a.0 == b.0) {
            // `chunk_by` never gives an empty run.
            let Some(&(h, first)) = run.first() else { continue };
            for (_, r) in run {
                if !same_key(keys, first as usize, keys, *r as usize)? {
                    return Ok(None);
                }
            }
            map.insert(h, (start, start + run.len()));
            start += run.len();
        }
        Ok(Some(Runs { map, rows: sorted }))
    }

    /// The rows (of keys `keys`) whose key is that of item `i` of `outer`.
    fn of(&self, keys: &[Val], outer: &[Val], i: usize) -> Checked<&[(u64, u32)]> {
        let Some(h) = key_hash(outer, i)? else { return Ok(&[]) };
        let Some(&(s, e)) = self.map.get(&h) else { return Ok(&[]) };
        // INVARIANT: the map holds ranges of `rows` (made in `new`).
        let run = self.rows.get(s..e).ok_or_else(|| Fault::new(format!("a key's rows {s}..{e} are not in its index")))?;
        Ok(match run.first() {
            Some(&(_, r)) if same_key(keys, r as usize, outer, i)? => run,
            _ => &[],
        })
    }
}

/// Executes a per-key plan ([`AggPlan::CountPerKey`], [`AggPlan::ExtremePerKey`]): `count`,
/// `exists`, `none`, `min` and `max` over a join on keys, without making the pairs: the inner rows
/// that pass the plan's inner conjuncts are grouped by key once, and each outer item looks its key
/// up. `o != this` takes the item's own row off a count; `o.V != V` counts the rows of the key less
/// those of the key and value, and takes `min`/`max` of `o.V` from the two most extreme values of
/// the key. Linear however many rows share a key, where the pairs would be quadratic (a placeholder
/// UPN on every child, one FamilyID on every referral). `None` on a hash collision between two
/// keys: the pairs are made then.
#[allow(clippy::too_many_arguments)]
fn per_key(
    cx: &Ctx,
    f: &Frame,
    func: AggFn,
    table: crate::schema::TableId,
    keys: &[(IExpr, IExpr)],
    var: u32,
    join: &KeyedJoin,
    value: Option<&IExpr>,
) -> Checked<Option<Vec<Scalar>>> {
    // INVARIANT: `o != this` names a variable bound to rows of the joined table (check/plan.rs
    // plans it only when its type is a row of that table).
    let not_self = match join.not_self {
        None => None,
        Some(w) => match f.var(w.0) {
            Bind::Rows { table: t, rows } if *t == table => Some(rows.clone()),
            _ => return Err(unbound(w.0, "rows of the joined table")),
        },
    };
    let len = table_len(cx, table)?;
    let mut all = Frame { len, ..Frame::default() };
    all.bind(var, Bind::Rows { table, rows: Arc::new((0..len as u32).collect()) });
    let mut inner_ok = vec![true; len];
    let mut outer_ok = vec![true; f.len];
    for (frame, ok, conjuncts) in [(&all, &mut inner_ok, &join.inner), (f, &mut outer_ok, &join.outer)] {
        for e in conjuncts {
            let v = eval(cx, frame, e)?;
            for (i, k) in ok.iter_mut().enumerate() {
                *k = *k && truth(v.at(i)?) == Some(true);
            }
        }
    }
    let inner_keys: Vec<Val> = keys.iter().map(|(k, _)| eval(cx, &all, k)).collect::<Checked<_>>()?;
    let outer_keys: Vec<Val> = keys.iter().map(|(_, k)| eval(cx, f, k)).collect::<Checked<_>>()?;
    // `o.V != V`: the values of both sides, and the keys extended by them.
    let differ = match &join.differs {
        Some((a, b)) => Some((eval(cx, &all, a)?, eval(cx, f, b)?)),
        None => None,
    };
    let extended = |keys: &[Val], v: &Val| keys.iter().cloned().chain([v.clone()]).collect::<Vec<Val>>();
    // Rows that pass the inner conjuncts and whose value `v` (when given) is present.
    let passing = |v: Option<&Val>| -> Checked<Vec<usize>> {
        let mut rows = Vec::with_capacity(len);
        for (r, ok) in inner_ok.iter().enumerate() {
            if *ok && v.map_or(Ok(true), |v| v.at(r).map(|x| !x.is_null()))? {
                rows.push(r);
            }
        }
        Ok(rows)
    };
    if let Some(a) = value {
        let av = eval(cx, &all, a)?;
        let Some(by_key) = Runs::new(&inner_keys, passing(Some(&av))?.into_iter())? else { return Ok(None) };
        let better =
            |x: &Scalar, y: &Scalar| compare(x, y) == Some(if func == AggFn::Min { Ordering::Less } else { Ordering::Greater });
        let one = |i: usize| -> Checked<Scalar> {
            if outer_ok.get(i) != Some(&true) {
                return Ok(Scalar::Null);
            }
            // The most extreme value of the key, and the most extreme of those not equal to it.
            let (mut first, mut second): (Option<&Scalar>, Option<&Scalar>) = (None, None);
            for (_, r) in by_key.of(&inner_keys, &outer_keys, i)? {
                let x = av.at(*r as usize)?;
                match first {
                    None => first = Some(x),
                    Some(b) if better(x, b) => {
                        second = first;
                        first = Some(x);
                    }
                    Some(b) if compare(x, b) != Some(Ordering::Equal) && second.is_none_or(|s| better(x, s)) => {
                        second = Some(x);
                    }
                    _ => {}
                }
            }
            let chosen = match &differ {
                None => first,
                Some((_, dv)) if dv.at(i)?.is_null() => None,
                Some((_, dv))
                    if first.map(|b| dv.at(i).map(|d| compare(b, d) == Some(Ordering::Equal))).transpose()? == Some(true) =>
                {
                    second
                }
                Some(_) => first,
            };
            // No row of the key (or none with another value): the aggregate of nothing is missing.
            Ok(chosen.cloned().unwrap_or(Scalar::Null))
        };
        return Ok(Some(try_vec(f.len, (0..f.len).map(one))?));
    }
    let by_key = match &differ {
        Some((dv, _)) => Runs::new(&inner_keys, passing(Some(dv))?.into_iter())?,
        None => Runs::new(&inner_keys, passing(None)?.into_iter())?,
    };
    let Some(by_key) = by_key else { return Ok(None) };
    let by_value = match &differ {
        Some((dv, do_)) => {
            let (ik, ok2) = (extended(&inner_keys, dv), extended(&outer_keys, do_));
            let Some(runs) = Runs::new(&ik, passing(None)?.into_iter())? else { return Ok(None) };
            Some((runs, ik, ok2))
        }
        None => None,
    };
    let ok = |r: usize| inner_ok.get(r) == Some(&true);
    let one = |i: usize| -> Checked<i64> {
        if outer_ok.get(i) != Some(&true) {
            return Ok(0);
        }
        if let Some((_, dv)) = &differ
            && dv.at(i)?.is_null()
        {
            return Ok(0);
        }
        let mut c = by_key.of(&inner_keys, &outer_keys, i)?.len() as i64;
        if let Some((runs, ik, ok2)) = &by_value {
            c -= runs.of(ik, ok2, i)?.len() as i64;
        }
        // The outer item's own row is among those counted when it passes the inner conjuncts,
        // has the same key and (for `o.V != V`) a value that differs.
        if let Some(rows) = &not_self {
            // INVARIANT: `this` is bound to a row for every outer item.
            let own = *rows.get(i).ok_or_else(|| Fault::new(format!("item {i} has no row of its own")))? as usize;
            let differs_too = match &differ {
                Some((dv, do_)) => !dv.at(own)?.is_null() && compare(dv.at(own)?, do_.at(i)?) != Some(Ordering::Equal),
                None => true,
            };
            if ok(own) && same_key(&inner_keys, own, &outer_keys, i)? && differs_too {
                c -= 1;
            }
        }
        Ok(c)
    };
    let mut out = Vec::with_capacity(f.len);
    for i in 0..f.len {
        let c = one(i)?;
        out.push(match func {
            AggFn::Count => Scalar::Int(c),
            AggFn::Exists => Scalar::Bool(c > 0),
            _ => Scalar::Bool(c == 0),
        });
    }
    Ok(Some(out))
}

/// Whether item `i` of the keys `a` and item `j` of the keys `b` are the same join key (as
/// [`key_hash`] sees values: dates and whole decimals as numbers).
fn same_key(a: &[Val], i: usize, b: &[Val], j: usize) -> Checked<bool> {
    fn part(s: &Scalar) -> Option<(Option<&str>, i64, u64)> {
        match s {
            Scalar::Null | Scalar::List(_) => None,
            Scalar::Text(t) => Some((Some(t), 0, 0)),
            Scalar::Int(n) => Some((None, *n, 0)),
            Scalar::Date(d) => Some((None, i64::from(*d), 0)),
            Scalar::Bool(b) => Some((None, i64::from(*b), 0)),
            Scalar::Dec(x) if x.fract() == 0.0 => Some((None, *x as i64, 0)),
            Scalar::Dec(x) => Some((None, 0, x.to_bits())),
        }
    }
    if a.len() != b.len() {
        return Ok(false);
    }
    for (x, y) in a.iter().zip(b) {
        if !matches!((part(x.at(i)?), part(y.at(j)?)), (Some(p), Some(q)) if p == q) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A hashable join key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// Text.
    Text(Arc<str>),
    /// Whole number (dates and booleans too).
    Int(i64),
    /// Decimal, by bits.
    Bits(u64),
}

/// The key of a value; `None` when it is missing or a list.
pub fn key_of(v: &Scalar) -> Option<Key> {
    match v {
        Scalar::Null | Scalar::List(_) => None,
        Scalar::Text(t) => Some(Key::Text(t.clone())),
        Scalar::Int(n) => Some(Key::Int(*n)),
        Scalar::Date(d) => Some(Key::Int(i64::from(*d))),
        Scalar::Bool(b) => Some(Key::Int(i64::from(*b))),
        Scalar::Dec(x) => Some(if x.fract() == 0.0 { Key::Int(*x as i64) } else { Key::Bits(x.to_bits()) }),
    }
}

/// A hash of the join key of item `i`; `None` when a part is missing.
fn key_hash(vals: &[Val], i: usize) -> Checked<Option<u64>> {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    for v in vals {
        match v.at(i)? {
            Scalar::Null | Scalar::List(_) => return Ok(None),
            Scalar::Text(t) => {
                0u8.hash(&mut h);
                t.hash(&mut h);
            }
            Scalar::Int(n) => n.hash(&mut h),
            Scalar::Date(d) => i64::from(*d).hash(&mut h),
            Scalar::Bool(b) => i64::from(*b).hash(&mut h),
            Scalar::Dec(x) if x.fract() == 0.0 => (*x as i64).hash(&mut h),
            Scalar::Dec(x) => x.to_bits().hash(&mut h),
        }
    }
    Ok(Some(h.finish()))
}

/// Whether each pair passes the aggregate's filter.
pub fn filter_mask(cx: &Ctx, p: &Pairs, filter: Option<&IExpr>) -> Checked<Vec<bool>> {
    match filter {
        None => Ok(vec![true; p.outer.len()]),
        Some(e) => {
            let v = eval(cx, &p.frame, e)?;
            (0..p.outer.len()).map(|i| Ok(truth(v.at(i)?) == Some(true))).collect()
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn aggregate(
    cx: &Ctx,
    f: &Frame,
    func: AggFn,
    source: &Source,
    var: u32,
    filter: Option<&IExpr>,
    arg: Option<&IExpr>,
    plan: &AggPlan,
) -> Checked<Val> {
    let n = f.len;
    let per_key_plan = match plan {
        AggPlan::Pairs => None,
        _ if !cx.opts.per_key => None,
        AggPlan::CountPerKey(join) => Some((join, None)),
        AggPlan::ExtremePerKey(join, value) => Some((join, Some(&**value))),
    };
    if let Some((join, value)) = per_key_plan {
        // INVARIANT: check/plan.rs plans per key only `count`, `exists` and `none` (no value) and
        // `min` and `max` (a value) over every row of a table joined on keys.
        let counting = matches!(func, AggFn::Count | AggFn::Exists | AggFn::None);
        let fits = if value.is_some() { matches!(func, AggFn::Min | AggFn::Max) } else { counting };
        let (Source::All { table, keys }, true) = (source, fits) else {
            return Err(Fault::new(format!("a per-key plan was made for `{func:?}` over a source that is not a join on keys")));
        };
        if keys.is_empty() {
            return Err(Fault::new("a per-key plan was made for a join without keys"));
        }
        if let Some(values) = per_key(cx, f, func, *table, keys, var, join, value)? {
            return Ok(Val::col(values));
        }
    }
    let mut out = vec![Scalar::Null; n];
    // Accumulators, by outer item: counts (count, exists, none; share's numerators), share's
    // denominators, whether a value was seen (min, max, sum) or all held, lists, distinct sets.
    let mut counts = vec![0i64; n];
    let mut den = vec![0u64; n];
    let mut flags = vec![func == AggFn::All; n];
    let mut lists: Vec<Vec<Scalar>> = if func == AggFn::List { vec![vec![]; n] } else { vec![] };
    let mut sets: Vec<HashSet<Key>> = if func == AggFn::Distinct { vec![HashSet::new(); n] } else { vec![] };
    let mut from = 0;
    loop {
        let (p, next) = pairs_from(cx, f, source, var, usize::MAX, from, cx.opts.pairs_at_once)?;
        let keep = filter_mask(cx, &p, filter)?;
        let value = match arg {
            Some(a) => Some(eval(cx, &p.frame, a)?),
            None => match p.frame.var(var) {
                Bind::Items { vals, .. } => Some(Val::C(vals.clone())),
                _ => None,
            },
        };
        // Each pair's outer item is an item of `f` (pairs_from makes them so): the accumulators,
        // made for `n` items, have its slot.
        let kept = p.outer.iter().enumerate().filter(|(k, _)| keep.get(*k) == Some(&true)).map(|(k, o)| (k, *o as usize));
        // INVARIANT: an aggregate that needs a value has one (check gives `min`, `max`, `sum`,
        // `list` and `distinct` an argument, or ranges them over a list's items).
        let needed = || Fault::new(format!("an aggregate `{func:?}` has no value to aggregate"));
        match func {
            AggFn::Count | AggFn::Exists | AggFn::None => {
                for (_, o) in kept {
                    if let Some(c) = counts.get_mut(o) {
                        *c += 1;
                    }
                }
            }
            AggFn::All => {
                let v = value.as_ref().ok_or_else(needed)?;
                for (k, o) in kept {
                    if truth(v.at(k)?) == Some(false)
                        && let Some(x) = flags.get_mut(o)
                    {
                        *x = false;
                    }
                }
            }
            AggFn::Share => {
                let v = value.as_ref().ok_or_else(needed)?;
                for (k, o) in kept {
                    if let Some(d) = den.get_mut(o) {
                        *d += 1;
                    }
                    if truth(v.at(k)?) == Some(true)
                        && let Some(x) = counts.get_mut(o)
                    {
                        *x += 1;
                    }
                }
            }
            AggFn::Min | AggFn::Max | AggFn::Sum => {
                let v = value.as_ref().ok_or_else(needed)?;
                for (k, o) in kept {
                    let x = v.at(k)?;
                    if x.is_null() {
                        continue;
                    }
                    let (Some(slot), Some(seen)) = (out.get_mut(o), flags.get_mut(o)) else { continue };
                    if !*seen {
                        *slot = x.clone();
                        *seen = true;
                        continue;
                    }
                    *slot = match func {
                        AggFn::Min if compare(x, slot) == Some(Ordering::Less) => x.clone(),
                        AggFn::Max if compare(x, slot) == Some(Ordering::Greater) => x.clone(),
                        AggFn::Sum => arith(BinOp::Add, slot, x),
                        _ => slot.clone(),
                    };
                }
            }
            AggFn::List => {
                let v = value.as_ref().ok_or_else(needed)?;
                for (k, o) in kept {
                    let x = v.at(k)?;
                    if !x.is_null()
                        && let Some(l) = lists.get_mut(o)
                    {
                        l.push(x.clone());
                    }
                }
            }
            AggFn::Distinct => {
                let v = value.as_ref().ok_or_else(needed)?;
                for (k, o) in kept {
                    if let Some(key) = key_of(v.at(k)?)
                        && let Some(s) = sets.get_mut(o)
                    {
                        s.insert(key);
                    }
                }
            }
        }
        if next <= from || next >= n {
            break;
        }
        from = next;
    }
    match func {
        AggFn::Count | AggFn::Exists | AggFn::None => {
            for (o, c) in out.iter_mut().zip(counts) {
                *o = match func {
                    AggFn::Count => Scalar::Int(c),
                    AggFn::Exists => Scalar::Bool(c > 0),
                    _ => Scalar::Bool(c == 0),
                };
            }
        }
        AggFn::All => {
            for (o, x) in out.iter_mut().zip(flags) {
                *o = Scalar::Bool(x);
            }
        }
        AggFn::Share => {
            for ((o, d), num) in out.iter_mut().zip(den).zip(counts) {
                if d > 0 {
                    *o = Scalar::Dec(num as f64 / d as f64);
                }
            }
        }
        AggFn::Sum => {
            for (o, seen) in out.iter_mut().zip(flags) {
                if !seen {
                    *o = Scalar::Int(0);
                }
            }
        }
        AggFn::Min | AggFn::Max => {}
        AggFn::List => {
            for (o, l) in out.iter_mut().zip(lists) {
                if !l.is_empty() {
                    *o = Scalar::List(Arc::from(l));
                }
            }
        }
        AggFn::Distinct => {
            for (o, s) in out.iter_mut().zip(sets) {
                *o = Scalar::Int(s.len() as i64);
            }
        }
    }
    Ok(Val::col(out))
}
