//! One problem, one finding: a problem met while reading a cell that the DfE's own rules also
//! report is folded into those rules' findings, keeping the DfE code.
//!
//! An input finding folds into a rule's finding when it is about one cell of a row, the rules see
//! that cell as missing (an invalid boolean, a date that is not one, an empty LAchildID) or the
//! schema refused the cell's value as written (Sex ` M `, Ethnicity `WBR`), and the rule's finding
//! shows the value of that very cell (the rule concerns the field), with a severity at
//! least the input finding's (a query never hides an error the DfE portal rejects the file for).
//! The rule's finding then says what was met while reading (`Finding::merged`). An input finding
//! that no such finding shows stays on its own.
//!
//! When a finding is folded (the whole rule; [`fold_all`] applies it):
//! 1. the same cell, the same cause: an input finding that left the cell missing, or the schema
//!    refusing the cell's value as written (a code not in its list, spaces around a code, a
//!    pattern), into the DfE rule's finding showing that cell (as its own value or a related
//!    row's), at least as severe (above);
//! 2. rows that cannot be linked to their parent for one cause (`no LAchildID`; a child that is not
//!    in ChildIdentifiers, whatever the rows' own key parts) are one finding, the first row's, the
//!    others listed as related rows;
//! 3. a rule's finding on such an unlinked row, from a rule that reads other rows (an aggregate, a
//!    parent's field), is a consequence of it and is folded into it; a rule that reads only its own
//!    row's fields is not, as it would fail linked or not;
//! 4. in a file whose rows are linked by key (CSV, spreadsheet; never XML, where rows nest), a row
//!    whose key is missing has nothing linked below it: the findings on that row of rules that read
//!    rows below it are folded into the finding on that row showing the missing key (8500);
//! 5. a column a sheet or file lacks: the rules that need it do not run, and its one finding names
//!    them ([`Unread`]).
//!
//! A folded finding keeps its code, message and place in `also` (or is a related row): nothing is
//! dropped, and a finding is only folded into one at least as visible (an error root, or a rule's
//! finding at least as severe).
//!
//! Which rules read other rows (3), count rows below their own (4) or need a column (5) is planned
//! once at check time ([`crate::check::program::RulePlan`]): this module reads those facts and never
//! walks a rule's expressions.

use super::finding::{Code, Finding, Location, Merged, Related};
use crate::check::program::{Program, RuleDef};
use crate::codes::{Check, Input};
use crate::schema::{FieldId, TableId};
use crate::syntax::ast::Severity;
use crate::table::{Dataset, InputIssue};
use std::collections::{BTreeMap, HashSet};

/// Whether the rules see the issue's cell as missing (its value did not fit, or there is none).
pub fn made_missing(data: &Dataset, is: &InputIssue) -> bool {
    let (Some(t), Some(r), Some(f)) = (is.table, is.row, is.field) else { return false };
    data.table(t).and_then(|x| x.col(f)).is_some_and(|c| c.get(r).is_some_and(crate::table::Scalar::is_null))
}

/// Whether the issue is the schema refusing one cell's value as written (a code not in its list,
/// spaces around a code, a pattern or a length not met): the DfE rule that checks the same value
/// fails for the same cause.
pub fn refuses_value(is: &InputIssue) -> bool {
    is.row.is_some() && is.field.is_some() && matches!(is.code, Check::Schema(s) if s.refuses_value())
}

/// Adds the findings of `inputs` to `out`, folding each one marked foldable (its cell is missing to
/// the rules, see [`made_missing`]) into the rule findings that show its cell's value.
pub fn fold_inputs(out: &mut Vec<Finding>, inputs: Vec<(Finding, bool)>) {
    // (field, place) of each value a rule's finding shows -> those findings.
    let mut shown: BTreeMap<(&str, &Location), Vec<(usize, Severity)>> = BTreeMap::new();
    for (i, f) in out.iter().enumerate() {
        if f.rule.is_none() || f.row.is_none() {
            continue;
        }
        // A query does not carry an error: a file the portal rejects must still show an error.
        let severity = f.severity;
        // Its own values and those of related rows it shows (the ethnicity of the child's
        // characteristics row).
        for v in f.values.iter().chain(f.related.iter().filter(|r| r.file.is_none()).flat_map(|r| &r.values)) {
            if let Some(l) = &v.location {
                shown.entry((v.field.as_str(), l)).or_default().push((i, severity));
            }
        }
    }
    let mut into: Vec<(usize, Merged)> = vec![];
    let mut kept = vec![];
    for (inp, foldable) in inputs {
        let targets = match (foldable, inp.fields.first(), &inp.location) {
            (true, Some(field), Some(loc)) if inp.fields.len() == 1 => shown.get(&(field.as_str(), loc)),
            _ => None,
        };
        let targets: Vec<usize> =
            targets.into_iter().flatten().filter(|(_, sev)| *sev >= inp.severity).map(|(i, _)| *i).collect();
        if targets.is_empty() {
            kept.push(inp);
            continue;
        }
        for t in targets {
            into.push((t, Merged::of(&inp)));
        }
    }
    drop(shown);
    for (t, m) in into {
        if let Some(f) = out.get_mut(t)
            && !f.merged.contains(&m)
        {
            f.merged.push(m);
        }
    }
    out.extend(kept);
}

/// The columns a file lacks that the rules need (its `input::missing-column` issues): required
/// fields absent from their sheet or file, and tables whose rows could not be linked to their
/// parent rows because a key column is absent. A rule that reads one does not run: the missing
/// column is one finding that counts its rows and names those rules, not a finding per row from
/// every rule that needs it.
#[derive(Default)]
pub struct Unread {
    /// Absent fields.
    fields: HashSet<(TableId, FieldId)>,
    /// Tables whose rows are not linked to their parent rows.
    unlinked: HashSet<TableId>,
}

impl Unread {
    /// The missing columns of `data`.
    pub fn of(data: &Dataset) -> Unread {
        let mut u = Unread::default();
        for is in data.issues.iter().filter(|is| is.code == MISSING_COLUMN) {
            match (is.table, is.field) {
                (Some(t), Some(f)) => {
                    u.fields.insert((t, f));
                }
                (Some(t), None) => {
                    u.unlinked.insert(t);
                }
                _ => {}
            }
        }
        u
    }

    /// Whether `rule` needs one of the missing columns (read directly, through a derived field or
    /// a derived value of the return, or through rows below another row in an unlinked table).
    pub fn blocks(&self, rule: &RuleDef) -> bool {
        if self.fields.is_empty() && self.unlinked.is_empty() {
            return false;
        }
        rule.plan.reads.iter().any(|tf| self.fields.contains(tf)) || rule.plan.below.iter().any(|t| self.unlinked.contains(t))
    }
}

/// Whether `rule` needs the missing column of `issue`: a field it reads, or the link of a table
/// whose rows it reads below another row (both planned at check time, check/rule_plan.rs).
fn needs_column(rule: &RuleDef, issue: &InputIssue) -> bool {
    match (issue.table, issue.field) {
        (Some(t), Some(f)) => rule.plan.reads.contains(&(t, f)),
        (Some(t), None) => rule.plan.below.contains(&t),
        (None, _) => false,
    }
}

/// The code of a required column absent from its sheet or file.
const MISSING_COLUMN: Check = Check::Input(Input::MissingColumn);

/// Adds the findings of the input issues of `data` to the rule findings `out`, one problem one
/// finding:
/// - a missing column's finding names the rules that needed it and did not run ([`Unread`]);
/// - rows that cannot be linked to their parent row for one cause (`no LAchildID`, ``LAchildID
///   `C9` `` in several files) are one finding, the first row's, listing the others as related rows;
/// - a rule's finding on such a row, from a rule that looks at other rows (an aggregate, a parent's
///   field), is a consequence: it is folded into that finding as `also`;
/// - in a file whose rows are linked by key (CSV, spreadsheet), a row whose key is missing has no
///   rows linked below it: a rule's finding on that row from a rule that counts rows below it is
///   folded into the finding that reports the missing key on that row (8500), as `also`;
/// - then [`fold_inputs`].
///
/// A folded finding keeps its code, message and place in `also`: nothing is dropped.
pub fn fold_all(prog: &Program, data: &Dataset, runs: &dyn Fn(&RuleDef) -> bool, out: &mut Vec<Finding>) {
    let mut inputs: Vec<(Finding, bool)> = vec![];
    // (code, cause) -> index in `inputs` of the finding for that cause.
    let mut causes: BTreeMap<(Check, &str), usize> = BTreeMap::new();
    // Unlinked rows -> index in `inputs` of their cause's finding.
    let mut unlinked: BTreeMap<(TableId, u32), usize> = BTreeMap::new();
    for is in &data.issues {
        let mut f = super::locate::input_finding(prog, data, is);
        if is.code == MISSING_COLUMN {
            let blocked: Vec<&RuleDef> = prog.rules.iter().filter(|r| runs(r) && needs_column(r, is)).collect();
            // An optional column that no rule needs is not missed.
            if blocked.is_empty() && is.severity == Severity::Info {
                continue;
            }
            if let Some(worst) = blocked.iter().map(|r| r.severity).max() {
                f.severity = f.severity.max(worst);
                let n = blocked.len();
                let (rules, need) = if n == 1 { ("rule", "needs") } else { ("rules", "need") };
                let codes: Vec<&str> = blocked.iter().map(|r| r.code.as_str()).collect();
                f.message.push_str(&format!("; the {n} {rules} that {need} it did not run ({})", codes.join(", ")));
            }
        }
        let at = match (is.table, is.row) {
            (Some(t), Some(r)) if is.code == UNKNOWN_PARENT => Some((t, r)),
            _ => None,
        };
        let group = is.cause.as_deref().filter(|_| at.is_some()).and_then(|c| causes.get(&(is.code, c)).copied());
        match (group, at) {
            (Some(g), Some((t, r))) => {
                if let Some((first, _)) = inputs.get_mut(g) {
                    first.related.push(Related {
                        table: f.table.clone().unwrap_or_default(),
                        row: r,
                        location: f.location.clone(),
                        file: None,
                        values: f.values,
                    });
                }
                unlinked.insert((t, r), g);
            }
            _ => {
                if let (Some(c), Some(at)) = (is.cause.as_deref(), at) {
                    causes.insert((is.code, c), inputs.len());
                    unlinked.insert(at, inputs.len());
                }
                inputs.push((f, made_missing(data, is) || refuses_value(is)));
            }
        }
    }
    for (f, _) in &mut inputs {
        if f.code == Code::from(UNKNOWN_PARENT) && !f.related.is_empty() {
            let n = f.related.len();
            f.message.push_str(&format!(
                "; {n} more row{} cannot be linked for the same reason (listed with it)",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    // Consequences of an unlinked row, folded into its cause's finding.
    let crosses: HashSet<&str> = prog.rules.iter().filter(|r| r.plan.other_rows).map(|r| r.code.as_str()).collect();
    let below: HashSet<&str> = prog.rules.iter().filter(|r| r.plan.rows_below).map(|r| r.code.as_str()).collect();
    let own = |f: &Finding| match (&f.table, f.row, &f.location_file, f.rule.is_some()) {
        (Some(_), Some(r), None, true) => Some((TableId(f.table_order), r)),
        _ => None,
    };
    let mut kept = Vec::with_capacity(out.len());
    for f in std::mem::take(out) {
        let into =
            own(&f).filter(|_| f.code.rule().is_some_and(|c| crosses.contains(c))).and_then(|at| unlinked.get(&at)).copied();
        match into.and_then(|g| inputs.get_mut(g)) {
            Some((root, _)) => root.merged.push(Merged::of(&f)),
            None => kept.push(f),
        }
    }
    *out = keyless_consequences(prog, data, kept, &below);
    fold_inputs(out, inputs);
}

/// In a file whose rows are linked by key, the findings on a row whose key is missing from rules
/// that count rows below it (nothing could be linked below such a row), folded into the finding on
/// that row that shows the missing key (8500), when there is one.
fn keyless_consequences(prog: &Program, data: &Dataset, findings: Vec<Finding>, below: &HashSet<&str>) -> Vec<Finding> {
    let keyed = |t: TableId| {
        data.table(t).is_some_and(|x| matches!(x.origin, crate::table::Origin::Sheet { .. } | crate::table::Origin::Csv { .. }))
            && prog.schema.tables.iter().any(|c| c.parent == Some(t))
    };
    // (table, row) of a row with a missing key -> the finding showing it, not from a rule that
    // counts rows below.
    let mut roots: BTreeMap<(TableId, u32), usize> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let (Some(r), Some(_), None) = (f.row, &f.table, &f.location_file) else { continue };
        let t = TableId(f.table_order);
        if f.rule.is_none() || f.code.rule().is_some_and(|c| below.contains(c)) || !keyed(t) {
            continue;
        }
        let ts = prog.schema.table(t);
        let shows_missing_key = ts.key.iter().any(|k| {
            let name = format!("{}.{}", ts.name, prog.schema.field(t, *k).name);
            f.values.iter().any(|v| v.field == name && v.value.is_missing())
                && data.table(t).and_then(|x| x.col(*k)).is_some_and(|c| c.get(r).is_none_or(|v| v.is_null()))
        });
        if shows_missing_key {
            roots.entry((t, r)).or_insert(i);
        }
    }
    if roots.is_empty() {
        return findings;
    }
    let mut into: Vec<(usize, Merged)> = vec![];
    let mut kept = vec![];
    for (i, f) in findings.iter().enumerate() {
        let root = match (f.row, &f.location_file) {
            (Some(r), None) if f.rule.is_some() && f.code.rule().is_some_and(|c| below.contains(c)) => {
                roots.get(&(TableId(f.table_order), r))
            }
            _ => None,
        };
        match root {
            Some(&g) if g != i && findings.get(g).is_some_and(|r| r.severity >= f.severity) => into.push((g, Merged::of(f))),
            _ => kept.push(i),
        }
    }
    let mut findings: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    for (g, m) in into {
        if let Some(Some(f)) = findings.get_mut(g) {
            f.merged.push(m);
        }
    }
    kept.into_iter().filter_map(|i| findings.get_mut(i).and_then(Option::take)).collect()
}

/// The code of a row that cannot be linked to its parent row.
const UNKNOWN_PARENT: Check = Check::Input(Input::UnknownParent);
