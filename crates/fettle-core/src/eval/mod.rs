//! Program x data -> findings. A column at a time; findings are built only for failing items.
//! No IO. Runs only programs that `check` accepted.

pub mod builtins;
pub mod dates;
pub mod expr;
pub mod fault;
#[cfg(test)]
mod fault_tests;
pub mod finding;
mod fold;
pub mod frame;
pub mod index;
mod locate;

pub use fault::{Checked, Fault};
pub use finding::{Code, FieldValue, Finding, Location, Merged, Quote, Related, RuleRef};

use crate::check::program::{Derivation, IStep, Program, RuleDef, RuleScope, Witness};
use crate::schema::TableId;
use crate::syntax::ast::Severity;
use crate::table::{Dataset, Scalar};
pub use expr::Options;
use expr::{Ctx, eval, filter_mask, pairs_limited};
use frame::{Bind, Csr, Frame, Val};
use index::Index;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// The most related rows a finding lists.
const MAX_RELATED: usize = 20;

/// A dataset made ready for rules: derived fields filled, globals computed, links indexed.
pub struct Prepared {
    /// The data with derived columns.
    pub data: Dataset,
    /// Row links.
    pub index: Index,
    /// Global values, by index.
    pub globals: Vec<Scalar>,
    /// How plans are executed, in preparing and in every run of rules on this data.
    pub opts: Options,
}

/// Computes derived values and fields, in dependency order.
///
/// INVARIANT: `prog.order` names every global and derived field of the program by its index, and
/// a derived field's column is in the data (check, `Dataset::empty`); a step that is not is a
/// [`Fault`].
pub fn prepare(prog: &Program, data: Dataset) -> Checked<Prepared> {
    prepare_with(prog, data, Options::default())
}

/// [`prepare`], executing plans as `opts` says (tests compare the per-key plans with the pairs).
pub fn prepare_with(prog: &Program, mut data: Dataset, opts: Options) -> Checked<Prepared> {
    let index = Index::new(&prog.schema, &data);
    let mut globals = vec![Scalar::Null; prog.globals.len()];
    for step in &prog.order {
        match step {
            Derivation::Global(i) => {
                let g = prog.globals.get(*i).ok_or_else(|| Fault::new(format!("global {i} is not one of the program's")))?;
                let v = {
                    let cx = Ctx { prog, data: &data, index: &index, globals: &globals, opts };
                    let f = Frame { len: 1, ..Frame::default() };
                    eval(&cx, &f, &g.expr)
                        .and_then(|v| v.at(0).cloned())
                        .map_err(|e| e.during(&format!("computing `{}`", g.name)))?
                };
                let slot = globals.get_mut(*i).ok_or_else(|| Fault::new(format!("global {i} has no slot")))?;
                *slot = v;
            }
            Derivation::Field(i) => {
                let d =
                    prog.derived.get(*i).ok_or_else(|| Fault::new(format!("derived field {i} is not one of the program's")))?;
                let len = data
                    .table(d.table)
                    .map(|t| t.len)
                    .ok_or_else(|| Fault::new(format!("table {} is not in the data", d.table.0)))?;
                let v = {
                    let cx = Ctx { prog, data: &data, index: &index, globals: &globals, opts };
                    let mut f = Frame { len, ..Frame::default() };
                    f.bind(0, Bind::Rows { table: d.table, rows: Arc::new((0..len as u32).collect()) });
                    eval(&cx, &f, &d.expr)
                        .map_err(|e| e.during(&format!("deriving field {} of table {}", d.field.0, d.table.0)))?
                };
                let values: Vec<Scalar> = v.first(len)?.cloned().collect();
                let col = data
                    .tables
                    .get_mut(d.table.0 as usize)
                    .and_then(|t| t.columns.get_mut(d.field.0 as usize))
                    .ok_or_else(|| Fault::new(format!("derived field {} of table {} has no column", d.field.0, d.table.0)))?;
                col.values = values;
                col.present = true;
            }
        }
    }
    Ok(Prepared { data, index, globals, opts })
}

/// The most findings one rule makes on one file by default; the rest are counted in one more.
pub const DEFAULT_LIMIT: usize = 10_000;

/// Runs every rule that `keep` accepts, in parallel; findings in deterministic order.
pub fn run(prog: &Program, p: &Prepared, keep: &(dyn Fn(&RuleDef) -> bool + Sync)) -> Checked<Vec<Finding>> {
    run_limited(prog, p, keep, DEFAULT_LIMIT)
}

/// Like [`run`], with at most `limit` findings per rule (0: no limit), so that a file where every
/// row is wrong stays fast and bounded in memory.
/// An engine fault in any rule fails the whole run: findings made beside a broken lookup cannot be
/// trusted to be all there are.
pub fn run_limited(
    prog: &Program,
    p: &Prepared,
    keep: &(dyn Fn(&RuleDef) -> bool + Sync),
    limit: usize,
) -> Checked<Vec<Finding>> {
    run_with(prog, p, keep, limit, &crate::progress::Quiet)
}

/// [`run_limited`], telling `progress` of every rule that has run or was skipped.
pub fn run_with(
    prog: &Program,
    p: &Prepared,
    keep: &(dyn Fn(&RuleDef) -> bool + Sync),
    limit: usize,
    progress: &dyn crate::progress::Progress,
) -> Checked<Vec<Finding>> {
    let cx = Ctx { prog, data: &p.data, index: &p.index, globals: &p.globals, opts: p.opts };
    let unread = fold::Unread::of(&p.data);
    // A rule that needs a column the file lacks does not run: the missing column's finding says so.
    let wanted = |r: &RuleDef| keep(r) && r.needs.iter().all(|n| p.data.attached.contains(n));
    let runs = |r: &RuleDef| {
        let runs = wanted(r) && !unread.blocks(r);
        if !runs {
            progress.rule();
        }
        runs
    };
    let timing = progress.times_rules();
    let found: Vec<Vec<Finding>> = prog
        .rules
        .par_iter()
        .filter(|r| runs(r))
        .map(|r| {
            // Only timed when asked: wasm32-unknown-unknown has no clock (`Instant::now` panics there).
            let t = timing.then(std::time::Instant::now);
            let f = run_rule(&cx, r, limit).map_err(|e| e.during(&format!("running rule {}", r.code)))?;
            if let Some(t) = t {
                progress.rule_took(&r.code, t.elapsed());
            }
            progress.rule();
            Ok(f)
        })
        .collect::<Checked<_>>()?;
    let mut out: Vec<Finding> = found.into_iter().flatten().collect();
    locate::link_this_year(prog, &p.data, &mut out);
    fold::fold_all(prog, &p.data, &wanted, &mut out);
    sort(&mut out);
    Ok(out)
}

/// Sorts findings into their deterministic order.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.sort_key().cmp(&b.sort_key()).then_with(|| a.related.cmp(&b.related)).then_with(|| a.values.cmp(&b.values))
    });
}

/// The first frame of a rule: its rows, its groups, or one item for the whole return.
fn scope_frame(cx: &Ctx, rule: &RuleDef) -> Checked<Frame> {
    let table_len =
        |t: TableId| cx.data.table(t).map(|x| x.len).ok_or_else(|| Fault::new(format!("table {} is not in the data", t.0)));
    Ok(match &rule.scope {
        RuleScope::Return => Frame { len: 1, ..Frame::default() },
        RuleScope::Table(t) => {
            let len = table_len(*t)?;
            let mut f = Frame { len, ..Frame::default() };
            f.bind(0, Bind::Rows { table: *t, rows: Arc::new((0..len as u32).collect()) });
            f
        }
        RuleScope::Group(t, key) => {
            let len = table_len(*t)?;
            let mut rows_f = Frame { len, ..Frame::default() };
            rows_f.bind(0, Bind::Rows { table: *t, rows: Arc::new((0..len as u32).collect()) });
            let kv = eval(cx, &rows_f, key)?;
            // Groups in order of first appearance; missing keys form no group.
            let mut ids: HashMap<expr::Key, u32> = HashMap::new();
            let mut keys: Vec<Scalar> = vec![];
            let mut members: Vec<Vec<u32>> = vec![];
            for r in 0..len {
                let k = kv.at(r)?;
                let hk = match k {
                    Scalar::Null => continue,
                    Scalar::Text(s) => expr::Key::Text(s.clone()),
                    Scalar::Int(n) => expr::Key::Int(*n),
                    Scalar::Date(d) => expr::Key::Int(i64::from(*d)),
                    Scalar::Bool(b) => expr::Key::Int(i64::from(*b)),
                    Scalar::Dec(x) => expr::Key::Bits(x.to_bits()),
                    Scalar::List(_) => expr::Key::Text(Arc::from(k.display())),
                };
                let g = *ids.entry(hk).or_insert_with(|| {
                    keys.push(k.clone());
                    members.push(vec![]);
                    (keys.len() - 1) as u32
                });
                if let Some(m) = members.get_mut(g as usize) {
                    m.push(r as u32);
                }
            }
            // Groups sorted by key for deterministic output. Keys of one type compare; keys that
            // do not (a list's length against a list's) keep their order of first appearance.
            let mut groups: Vec<(Scalar, Vec<u32>)> = keys.into_iter().zip(members).collect();
            groups.sort_by(|(x, _), (y, _)| expr::compare(x, y).unwrap_or(std::cmp::Ordering::Equal));
            let mut csr = Csr { offsets: vec![0], rows: vec![] };
            let mut sorted_keys = vec![];
            for (k, m) in groups {
                csr.rows.extend(m);
                csr.offsets.push(csr.rows.len() as u32);
                sorted_keys.push(k);
            }
            let n = sorted_keys.len();
            let mut f = Frame { len: n, key: Some(Val::col(sorted_keys)), ..Frame::default() };
            f.bind(0, Bind::Group { table: *t, gid: Arc::new((0..n as u32).collect()), csr: Arc::new(csr) });
            f
        }
    })
}

fn truth(v: &Val, i: usize) -> Checked<Option<bool>> {
    Ok(match v.at(i)? {
        Scalar::Bool(b) => Some(*b),
        _ => None,
    })
}

/// The items of a frame whose value is `want`.
fn items_where(v: &Val, len: usize, want: bool) -> Checked<Vec<u32>> {
    let mut out = vec![];
    for i in 0..len {
        if truth(v, i)? == Some(want) {
            out.push(i as u32);
        }
    }
    Ok(out)
}

/// Runs one rule and builds findings for its failing items (at most `limit`, 0 for all).
pub fn run_rule(cx: &Ctx, rule: &RuleDef, limit: usize) -> Checked<Vec<Finding>> {
    let mut frame = scope_frame(cx, rule)?;
    let mut out = vec![];
    let mut checked = false;
    for (n, step) in rule.steps.iter().enumerate() {
        if frame.len == 0 {
            break;
        }
        match step {
            IStep::When(e) => {
                let v = eval(cx, &frame, e)?;
                let keep = items_where(&v, frame.len, true)?;
                if keep.len() != frame.len {
                    frame = frame.select(&keep)?;
                }
            }
            IStep::Let(_, e) => {
                let v = eval(cx, &frame, e)?;
                frame.lets.push(v);
            }
            IStep::Require(e) | IStep::Forbid(e) => {
                checked = true;
                // INVARIANT: the plan has a list of witness aggregates for every step (check/rule_plan.rs).
                let ws = rule
                    .plan
                    .witnesses
                    .get(n)
                    .ok_or_else(|| Fault::new(format!("the plan has no witness aggregates for step {n}")))?;
                let fail_on = matches!(step, IStep::Forbid(_));
                let v = eval(cx, &frame, e)?;
                let mut failing = items_where(&v, frame.len, fail_on)?;
                let room = if limit == 0 { usize::MAX } else { limit.saturating_sub(out.len()) };
                let more = failing.len().saturating_sub(room);
                failing.truncate(room);
                if !failing.is_empty() {
                    let sub = frame.select(&failing)?;
                    out.extend(findings(cx, rule, &sub, ws)?);
                }
                if more > 0 {
                    out.push(locate::more(cx, rule, more, limit));
                }
            }
        }
    }
    if !checked && rule.severity == Severity::Info && frame.len > 0 {
        out.extend(findings(cx, rule, &frame, &[])?);
    }
    Ok(out)
}

/// Related rows of each item: rows an `exists`/`count` matched, or rows an `all` rejected, of the
/// check's witness aggregates (planned at check time, check/rule_plan.rs).
fn witnesses(cx: &Ctx, f: &Frame, ws: &[Witness], acc: &mut [Vec<(TableId, u32)>]) -> Checked<()> {
    for w in ws {
        // Enough candidates per item to find MAX_RELATED witnesses in all but odd cases (most
        // rejected by the filter), without making every pair of a key shared by thousands.
        let p = pairs_limited(cx, f, &w.source, w.var.0, MAX_RELATED * 8)?;
        let keep = filter_mask(cx, &p, w.filter.as_ref())?;
        let reject = w.rejects.as_ref().map(|a| eval(cx, &p.frame, a)).transpose()?;
        // INVARIANT: a witness is an aggregate over rows, which binds its variable to rows
        // (pairs_from); one over a list's items is a plan the checker never makes.
        let Bind::Rows { table, rows } = p.frame.var(w.var.0) else {
            return Err(Fault::new(format!("the rows of a witness aggregate's variable {} are not bound", w.var.0)));
        };
        for (k, o) in p.outer.iter().enumerate() {
            if keep.get(k) != Some(&true) {
                continue;
            }
            if let Some(r) = &reject
                && truth(r, k)? != Some(false)
            {
                continue;
            }
            if let (Some(list), Some(row)) = (acc.get_mut(*o as usize), rows.get(k))
                && list.len() < MAX_RELATED
                && !list.contains(&(*table, *row))
            {
                list.push((*table, *row));
            }
        }
    }
    Ok(())
}

/// The findings of a frame's failing items; `ws` the witness aggregates of the check they failed.
fn findings(cx: &Ctx, rule: &RuleDef, f: &Frame, ws: &[Witness]) -> Checked<Vec<Finding>> {
    let mut related: Vec<Vec<(TableId, u32)>> = vec![vec![]; f.len];
    witnesses(cx, f, ws, &mut related)?;
    let holes: Vec<Option<Val>> = rule
        .template
        .iter()
        .map(|p| match p {
            crate::check::program::IPart::Expr(e) => eval(cx, f, e).map(Some),
            crate::check::program::IPart::Text(_) => Ok(None),
        })
        .collect::<Checked<_>>()?;
    // The field each hole shows a value of (for redaction), planned at check time.
    // INVARIANT: the plan has one entry per piece of the template (check/rule_plan.rs).
    let hole_fields = &rule.plan.hole_fields;
    if hole_fields.len() != rule.template.len() {
        return Err(Fault::new(format!(
            "the plan names the fields of {} message pieces, the template has {}",
            hole_fields.len(),
            rule.template.len()
        )));
    }
    let mut out = Vec::with_capacity(f.len);
    for (i, rel) in related.iter().enumerate() {
        let mut quotes = vec![];
        let message = if holes.iter().all(Option::is_none) {
            rule.message.clone()
        } else {
            let mut m = String::new();
            for ((p, h), field) in rule.template.iter().zip(&holes).zip(hole_fields) {
                match (p, h) {
                    (crate::check::program::IPart::Text(t), _) => m.push_str(t),
                    (_, Some(v)) => {
                        let start = m.len();
                        m.push_str(&locate::show(v.at(i)?));
                        if let Some(field) = field {
                            quotes.push(Quote { start, end: m.len(), field: field.clone() });
                        }
                    }
                    // INVARIANT: every hole of a template was evaluated above.
                    (_, None) => return Err(Fault::new("a hole of a message template was not evaluated")),
                }
            }
            m
        };
        let mut fd = locate::finding(cx, rule, f, i, message, rel)?;
        fd.quotes = quotes;
        out.push(fd);
    }
    Ok(out)
}
