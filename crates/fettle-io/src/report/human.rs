//! The terminal report: findings grouped by rule, each with its child, place, values and fix, then a
//! summary by severity and by rule.

use super::MISSING;
use super::{Run, Summary};
use crate::eval::finding::Value;
use crate::eval::{Code, Finding, Location};
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many findings of one rule are printed in full before the rest are counted.
const MAX_PER_RULE: usize = 50;

fn loc(l: &Location) -> String {
    esc(&l.to_string()).into_owned()
}

/// Text from the data or from file names, made safe for a terminal: control characters (an escape
/// that would restyle or move the cursor, a newline that would fake a line of the report) are shown
/// as escapes (`\u{1b}`, `\n`) instead of acting.
pub fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Renders findings for a terminal (no colour: output is stable for tests and pipes).
pub fn render(run: &Run) -> String {
    let (findings, files) = (&run.findings, &run.files);
    let mut out = String::new();
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        by_file.entry(f.file.as_str()).or_default().push(f);
    }
    for file in files {
        let fs = by_file.remove(file.as_str()).unwrap_or_default();
        render_file(&mut out, file, &fs, run);
    }
    for (file, fs) in by_file {
        render_file(&mut out, file, &fs, run);
    }
    for p in &run.previous {
        let _ = writeln!(out, "{}: checked against last year's `{}` ({})", p.file, p.previous, p.year);
    }
    for n in &run.notes {
        let _ = writeln!(out, "note: {n}");
    }
    let s = Summary::of(findings, files.len());
    let _ = writeln!(
        out,
        "summary: {} file{}, {} error{}, {} quer{}, {} info",
        s.files,
        if s.files == 1 { "" } else { "s" },
        s.errors,
        if s.errors == 1 { "" } else { "s" },
        s.queries,
        if s.queries == 1 { "y" } else { "ies" },
        s.info
    );
    if !s.by_rule.is_empty() {
        let parts: Vec<String> = s.by_rule.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        let _ = writeln!(out, "by rule: {}", parts.join(", "));
    }
    out
}

fn render_file(out: &mut String, file: &str, fs: &[&Finding], run: &Run) {
    let _ = writeln!(out, "{}: {} finding{}", esc(file), fs.len(), if fs.len() == 1 { "" } else { "s" });
    // Group by rule, errors first, then queries, then info; codes in order.
    let mut groups: BTreeMap<(std::cmp::Reverse<Severity>, &Code), Vec<&Finding>> = BTreeMap::new();
    for f in fs {
        groups.entry((std::cmp::Reverse(f.severity), &f.code)).or_default().push(f);
    }
    for ((sev, code), list) in &groups {
        let rule = code.rule().and_then(|c| run.rule(file, c));
        let first = list.first().map_or("", |f| f.message.as_str());
        let _ = writeln!(out);
        let table = sev.0 == Severity::Info && list.iter().all(|f| f.row.is_none() && !f.values.is_empty());
        // A table of figures is titled by its rule's message up to the first figure.
        let template_head = rule.and_then(|r| r.message.split('{').next()).map(|h| h.trim_end_matches([' ', ',', ':', ';', '(']));
        let title = if code.is_misfit() {
            "values that do not fit their column's type"
        } else if table && template_head.is_some_and(|h| !h.is_empty()) {
            template_head.unwrap_or(first)
        } else {
            first
        };
        let _ = writeln!(out, "{}[{}] {}", sev.0.as_str(), esc(code.as_str()), esc(title));
        if let Some(r) = rule {
            if r.check.is_empty() {
                let _ = writeln!(out, "  rule: {}:{}", esc(&r.file), r.line);
            } else {
                let _ = writeln!(out, "  rule: {}:{}  {}", esc(&r.file), r.line, r.check);
            }
        }
        if table {
            render_table(out, list);
            continue;
        }
        for f in list.iter().take(MAX_PER_RULE) {
            render_one(out, f, title);
        }
        if list.len() > MAX_PER_RULE {
            let _ = writeln!(out, "  ... and {} more", list.len() - MAX_PER_RULE);
        }
        if let Some(fix) = list.first().and_then(|f| f.fix.as_ref()) {
            let _ = writeln!(out, "  fix: {fix}");
        }
    }
    let _ = writeln!(out);
}

/// Whether a child record (`line 14 of `file``, `row 3 of sheet `S``) is the row a finding points
/// at, so that saying it again adds nothing.
fn record_is_here(record: &str, l: &Location) -> bool {
    match l {
        Location::Line { file, line } => record == format!("line {line} of `{file}`"),
        Location::Cell { sheet, row, .. } => record == format!("row {row} of sheet `{sheet}`"),
        Location::Xml { .. } => false,
    }
}

fn render_one(out: &mut String, f: &Finding, group_message: &str) {
    let mut head = String::from("  - ");
    if let Some(c) = &f.child {
        let _ = write!(head, "child {}", esc(c));
    } else if let Some(r) = &f.record {
        if f.location.as_ref().is_some_and(|l| record_is_here(r, l)) {
            head.push_str("child without LAchildID");
        } else {
            let _ = write!(head, "child without LAchildID ({})", esc(r));
        }
    } else if let Some(t) = &f.table {
        let _ = write!(head, "{}", esc(t));
    } else {
        head.push_str("return");
    }
    match (&f.location, &f.location_file) {
        (Some(l), Some(file)) => {
            if f.in_this_return == Some(false) {
                head.push_str(", not in this return;");
            } else {
                head.push(',');
            }
            let _ = write!(head, " last year at {} in `{file}`", loc(l));
        }
        (Some(l), None) => {
            let _ = write!(head, " at {}", loc(l));
        }
        _ => {}
    }
    let _ = writeln!(out, "{head}");
    if f.message != group_message {
        let _ = writeln!(out, "    {}", esc(&f.message));
    }
    let vals: Vec<String> = f.values.iter().map(|v| format!("{} = {}", v.field, quoted(&v.value))).collect();
    if !vals.is_empty() && !matches!(f.code, Code::Input(_)) {
        let _ = writeln!(out, "    values: {}", vals.join(", "));
    }
    for m in &f.merged {
        match m.location.as_ref().filter(|l| f.location.as_ref() != Some(*l)) {
            Some(l) => {
                let _ = writeln!(out, "    also {} at {}: {}", esc(m.code.as_str()), loc(l), esc(&m.message));
            }
            None => {
                let _ = writeln!(out, "    also {}: {}", esc(m.code.as_str()), esc(&m.message));
            }
        }
    }
    for r in &f.related {
        let vals: Vec<String> = r.values.iter().map(|v| format!("{} = {}", v.field, quoted(&v.value))).collect();
        let place = r.location.as_ref().map(loc).unwrap_or_else(|| format!("row {}", r.row + 1));
        let place = match &r.file {
            Some(file) => format!("{place} in `{file}`"),
            None => place,
        };
        let _ = writeln!(
            out,
            "    with {} at {}{}",
            r.table,
            place,
            if vals.is_empty() { String::new() } else { format!(": {}", vals.join(", ")) }
        );
    }
}

/// A value in a list of values: quoted, or `(missing)`.
fn quoted(v: &Value) -> String {
    if v.is_missing() { MISSING.to_string() } else { format!("`{}`", esc(&v.text())) }
}

/// Info figures of a group rule as a small table: a row per group, a column per value.
fn render_table(out: &mut String, list: &[&Finding]) {
    let Some(first) = list.first() else { return };
    let heads: Vec<&str> = first.values.iter().map(|v| v.field.as_str()).collect();
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|f| {
            f.values
                .iter()
                .map(|v| if v.value.is_missing() { MISSING.to_string() } else { esc(&v.value.text()).into_owned() })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([heads.get(i).map_or(0, |h| h.len())])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| -> String {
        let parts: Vec<String> =
            cells.iter().enumerate().map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0))).collect();
        format!("    {}", parts.join("  ").trim_end())
    };
    let _ = writeln!(out, "{}", line(&heads));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        let _ = writeln!(out, "{}", line(&cells));
    }
}
