//! One problem, one finding: a problem met while reading a cell that the DfE's own rules also
//! report is folded into those rules' findings, keeping the DfE code.
//!
//! An input finding folds into a rule's finding when it is about one cell of a row, the rules see
//! that cell as missing (an invalid boolean, a date that is not one, an empty LAchildID), and the
//! rule's finding shows
//! the value of that very cell (the rule concerns the field, on the same row), with a severity at
//! least the input finding's (a query never hides an error the DfE portal rejects the file for).
//! The rule's finding then says what was met while reading (`Finding::merged`). An input finding
//! that no such finding shows stays on its own.

use super::finding::{Finding, Location, Merged};
use crate::syntax::ast::Severity;
use crate::table::{Dataset, InputIssue};
use std::collections::BTreeMap;

/// Whether the rules see the issue's cell as missing (its value did not fit, or there is none).
pub fn made_missing(data: &Dataset, is: &InputIssue) -> bool {
    let (Some(t), Some(r), Some(f)) = (is.table, is.row, is.field) else { return false };
    data.table(t).and_then(|x| x.col(f)).is_some_and(|c| c.get(r).is_null())
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
        for v in &f.values {
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
            into.push((t, Merged { code: inp.code.clone(), message: inp.message.clone(), location: inp.location.clone() }));
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
