//! `--explain FILE`: reasons for DfE queries. A CSV or xlsx file with the columns `code`, `key`
//! (the child's LAchildID, or the finding's location such as `Referrals!B5`, or empty for a
//! query about the whole return) and `reason`. A matching query keeps appearing, with its reason, but
//! no longer fails the run; an explanation that matches no query is itself reported.

use super::Run;
use crate::eval::Finding;
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// One explanation.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The rule code.
    pub code: String,
    /// LAchildID or location; empty for the whole return.
    pub key: String,
    /// The reason given.
    pub reason: String,
    /// Line (CSV) or row (xlsx) it came from.
    pub line: usize,
}

/// Reads an explanations file.
pub fn load(path: &Path) -> Result<Vec<Explanation>, String> {
    let rows: Vec<Vec<String>> = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(path).map_err(|e| format!("cannot read explanations `{}`: {e}", path.display()))?;
        let first = wb.sheet_names().first().cloned().ok_or_else(|| format!("`{}` has no sheets", path.display()))?;
        let range = wb.worksheet_range(&first).map_err(|e| format!("cannot read explanations `{}`: {e}", path.display()))?;
        range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    } else {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read explanations `{}`: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        rdr.records().filter_map(Result::ok).map(|r| r.iter().map(str::to_string).collect()).collect()
    };
    let mut out = vec![];
    for (i, r) in rows.iter().enumerate() {
        let cell = |k: usize| r.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
        let (code, key, reason) = (cell(0), cell(1), cell(2));
        if i == 0 && code.eq_ignore_ascii_case("code") {
            continue;
        }
        if code.is_empty() && reason.is_empty() {
            continue;
        }
        out.push(Explanation { code, key, reason, line: i + 1 });
    }
    Ok(out)
}

fn matches(f: &Finding, e: &Explanation) -> bool {
    if f.code.as_str() != e.code || f.severity != Severity::Query {
        return false;
    }
    if e.key.is_empty() {
        return f.child.is_none() && f.row.is_none();
    }
    f.child.as_deref() == Some(e.key.as_str()) || f.location.as_ref().is_some_and(|l| l.to_string() == e.key)
}

/// Marks explained queries and reports explanations that match nothing.
pub fn apply(run: &mut Run, explanations: &[Explanation], source: &str) {
    let mut used = vec![false; explanations.len()];
    for f in &mut run.findings {
        if let Some((i, e)) = explanations.iter().enumerate().find(|(_, e)| matches(f, e)) {
            f.explained = Some(e.reason.clone());
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
        }
    }
    for (e, u) in explanations.iter().zip(used) {
        if u {
            continue;
        }
        let why = if run.rules_with_code(&e.code).any(|r| r.severity != Severity::Query) {
            format!("{} is not a query: errors must be fixed, not explained", e.code)
        } else if e.key.is_empty() {
            format!("the explanation of {} matches no query about the whole return", e.code)
        } else {
            format!("the explanation of {} for `{}` matches no query", e.code, e.key)
        };
        run.findings.push(Finding {
            code: crate::eval::Code::UnusedExplanation,
            severity: Severity::Query,
            message: why,
            quotes: vec![],
            file: source.to_string(),
            table: None,
            fields: vec![],
            row: None,
            location: Some(crate::eval::Location::Line { file: source.to_string(), line: e.line as u32 }),
            location_file: None,
            in_this_return: None,
            child: (!e.key.is_empty()).then(|| e.key.clone()),
            record: None,
            merged: vec![],
            values: vec![crate::eval::FieldValue {
                field: "reason".into(),
                value: crate::eval::finding::Value::Text(e.reason.clone()),
                location: None,
            }],
            related: vec![],
            fix: Some("remove the explanation, or correct its code or key".into()),
            rule: None,
            explained: None,
            table_order: u32::MAX,
        });
    }
    crate::eval::sort(&mut run.findings);
}

/// The explained queries as text to paste into the DfE portal, grouped by query.
pub fn collect_notes(run: &Run) -> String {
    let mut by_code: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in run.findings.iter().filter(|f| f.explained.is_some()) {
        by_code.entry(f.code.as_str()).or_default().push(f);
    }
    let mut out = String::new();
    if by_code.is_empty() {
        out.push_str("No explained queries.\n");
    }
    for (code, list) in by_code {
        let message = list
            .first()
            .and_then(|f| run.rule_of(f))
            .map_or_else(|| list.first().map_or("", |f| f.message.as_str()).to_string(), |r| r.message.clone());
        let _ = writeln!(out, "{code}: {message}");
        for f in list {
            let who = f.child.as_deref().map_or_else(|| "whole return".to_string(), |c| format!("child {c}"));
            let _ = writeln!(out, "  {who}: {}", f.explained.as_deref().unwrap_or(""));
        }
        out.push('\n');
    }
    out
}
