//! `fettle rules`: the rule catalogue, in the shape of the DfE's validation-rules spreadsheet.
//!
//! One entry per rule (return, year, code, severity, message, module, fields, the check in words,
//! note, fix), generated from the compiled rules. "The check in words" is the rule's `when`, `let`,
//! `require` and `forbid` steps with each expression as written in its rule file (comments dropped,
//! whitespace collapsed). Output: Markdown (a table per return and year), JSON (an array of objects
//! in a stable field order) or an xlsx workbook (a sheet per return and year). The helpers here are
//! shared with `fettle diff`.

use crate::check::program::{IStep, Program, RuleDef, RuleScope};
use crate::library::Library;
use crate::span::{Sources, Span};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One row of the catalogue.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entry {
    /// The return's short name.
    #[serde(rename = "return")]
    pub ret: String,
    /// The collection year.
    pub year: String,
    /// The rule's code.
    pub code: String,
    /// `error`, `query` or `info`.
    pub severity: String,
    /// The message as written.
    pub message: String,
    /// The table the rule runs on, or `return`.
    pub module: String,
    /// The fields a finding points at.
    pub fields: Vec<String>,
    /// The check in words.
    pub check: String,
    /// Why the rule reads as it does.
    pub note: String,
    /// How to fix the data.
    pub fix: String,
}

/// The columns of the Markdown table and the xlsx sheets, with xlsx widths.
const COLUMNS: [(&str, f64); 10] = [
    ("Return", 10.0),
    ("Year", 9.0),
    ("Code", 8.0),
    ("Type", 7.0),
    ("Message", 60.0),
    ("Module", 18.0),
    ("Fields", 30.0),
    ("Check", 80.0),
    ("Note", 60.0),
    ("Fix", 50.0),
];

/// Source text as written, without comments, with whitespace collapsed (and none just inside
/// brackets), so that layout changes do not count as changes.
pub fn normalise(text: &str) -> String {
    let mut out = String::new();
    let (mut in_str, mut esc, mut comment, mut space) = (false, false, false, false);
    for c in text.chars() {
        if comment {
            comment = c != '\n';
            space |= c == '\n';
            continue;
        }
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '#' {
            comment = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() && !out.ends_with('(') && c != ')' && c != ',' {
            out.push(' ');
        }
        space = false;
        in_str = c == '"';
        out.push(c);
    }
    out
}

/// The normalised text a span covers.
pub fn source_text(sources: &Sources, span: Span) -> String {
    normalise(sources.snippet(span))
}

/// The table a rule runs on, or `return`.
pub fn module(p: &Program, r: &RuleDef) -> String {
    match &r.scope {
        RuleScope::Return => "return".into(),
        RuleScope::Table(t) | RuleScope::Group(t, _) => p.schema.table(*t).name.clone(),
    }
}

/// The fields a rule's findings point at: `Field` of its own table, `Table.Field` of another.
pub fn field_names(p: &Program, r: &RuleDef) -> Vec<String> {
    let own = match &r.scope {
        RuleScope::Table(t) | RuleScope::Group(t, _) => Some(*t),
        RuleScope::Return => None,
    };
    r.fields
        .iter()
        .map(|(t, f)| {
            let name = &p.schema.field(*t, *f).name;
            if own == Some(*t) { name.clone() } else { format!("{}.{name}", p.schema.table(*t).name) }
        })
        .collect()
}

/// The rule's steps in words, one sentence each: `Applies when ...`, `With x = ...`,
/// `Fails unless ...`, `Fails when ...`.
pub fn check_sentences(p: &Program, sources: &Sources, r: &RuleDef) -> Vec<String> {
    let mut out = vec![];
    if let RuleScope::Group(t, key) = &r.scope {
        out.push(format!("For each group of {} rows by {}", p.schema.table(*t).name, source_text(sources, key.span)));
    }
    let mut checks = false;
    for s in &r.steps {
        out.push(match s {
            IStep::When(e) => format!("Applies when {}", source_text(sources, e.span)),
            IStep::Let(i, e) => {
                format!("With {} = {}", r.lets.get(*i).map_or("?", String::as_str), source_text(sources, e.span))
            }
            IStep::Require(e) => {
                checks = true;
                format!("Fails unless {}", source_text(sources, e.span))
            }
            IStep::Forbid(e) => {
                checks = true;
                format!("Fails when {}", source_text(sources, e.span))
            }
        });
    }
    if !checks {
        let what = match r.scope {
            RuleScope::Return => "the return",
            RuleScope::Table(_) => "every row",
            RuleScope::Group(..) => "every group",
        };
        let values: Vec<&str> = r.report.iter().filter_map(|i| r.lets.get(*i).map(String::as_str)).collect();
        out.push(if values.is_empty() { format!("Reports {what}") } else { format!("Reports {}", values.join(", ")) });
    }
    out
}

/// The check in words, as one line.
pub fn check_text(p: &Program, sources: &Sources, r: &RuleDef) -> String {
    check_sentences(p, sources, r).iter().map(|s| format!("{s}.")).collect::<Vec<_>>().join(" ")
}

/// The catalogue entries of one compiled rule set, in declaration order.
pub fn entries(p: &Program, sources: &Sources) -> Vec<Entry> {
    p.rules
        .iter()
        .map(|r| Entry {
            ret: p.ret.clone(),
            year: p.year.clone(),
            code: r.code.clone(),
            severity: r.severity.as_str().into(),
            message: r.message.clone(),
            module: module(p, r),
            fields: field_names(p, r),
            check: check_text(p, sources, r),
            note: r.note.clone().unwrap_or_default(),
            fix: r.fix.clone().unwrap_or_default(),
        })
        .collect()
}

/// A compiled set's program, or its diagnostics as the error.
pub fn compile(lib: &Library, ret: &str, year: &str) -> Result<(Arc<Program>, Sources), String> {
    let c = lib.compile(ret, year);
    if c.has_errors() {
        return Err(format!("the {ret} {year} rules have errors:\n{}", c.diagnostics()));
    }
    match c.program {
        Some(p) => Ok((p, c.sources)),
        None => Err(format!("the {ret} {year} rules did not compile")),
    }
}

/// Runs the command; returns the exit code.
pub fn command(rules: Option<&PathBuf>, ret: Option<&str>, year: Option<&str>, format: &str, output: Option<&Path>) -> u8 {
    match run(rules, ret, year, format, output) {
        Ok(()) => 0,
        Err(e) => {
            crate::term::err_line(&format!("error: {e}"));
            2
        }
    }
}

fn run(
    rules: Option<&PathBuf>,
    ret: Option<&str>,
    year: Option<&str>,
    format: &str,
    output: Option<&Path>,
) -> Result<(), String> {
    if !matches!(format, "md" | "json" | "xlsx") {
        return Err(format!("unknown format `{format}`; use md, json or xlsx"));
    }
    if format == "xlsx" && output.is_none() {
        return Err("the xlsx catalogue is a file: give --output FILE".into());
    }
    let lib = crate::term::library(rules)?;
    let sets: Vec<(String, String)> =
        lib.sets.keys().filter(|(r, y)| ret.is_none_or(|x| x == r) && year.is_none_or(|x| x == y)).cloned().collect();
    if sets.is_empty() {
        let what = [ret, year].iter().flatten().copied().collect::<Vec<_>>().join(" ");
        return Err(format!("there are no rules for `{what}`; returns: {}", lib.returns().join(", ")));
    }
    let mut groups: Vec<(String, Vec<Entry>)> = vec![];
    for (r, y) in &sets {
        let (p, sources) = compile(&lib, r, y)?;
        let title = if p.title.is_empty() { format!("{r} {y}") } else { format!("{r} {y}: {}", p.title) };
        groups.push((title, entries(&p, &sources)));
    }
    let bytes = match format {
        "md" => markdown(&groups).into_bytes(),
        "json" => {
            let all: Vec<&Entry> = groups.iter().flat_map(|(_, e)| e).collect();
            let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
            format!("{text}\n").into_bytes()
        }
        _ => workbook(&groups).map_err(|e| format!("cannot build the workbook: {e}"))?,
    };
    match output {
        Some(path) => crate::report::write_atomic(path, &bytes).map_err(|e| format!("cannot write `{}`: {e}", path.display())),
        None => {
            crate::term::out(&String::from_utf8_lossy(&bytes));
            Ok(())
        }
    }
}

/// A table cell: one line, `|` escaped.
fn cell(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn markdown(groups: &[(String, Vec<Entry>)]) -> String {
    let mut s = String::from("# Validation rules\n");
    for (title, entries) in groups {
        s.push_str(&format!("\n## {title}\n\n{} rules.\n\n", entries.len()));
        let heads: Vec<&str> = COLUMNS.iter().skip(2).map(|(h, _)| *h).collect();
        s.push_str(&format!("| {} |\n|{}\n", heads.join(" | "), "---|".repeat(heads.len())));
        for e in entries {
            let row = [&e.code, &e.severity, &e.message, &e.module, &e.fields.join(", "), &e.check, &e.note, &e.fix];
            s.push_str(&format!("| {} |\n", row.iter().map(|x| cell(x)).collect::<Vec<_>>().join(" | ")));
        }
    }
    s
}

/// An xlsx sheet name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    title.chars().map(|c| if "[]:*?/\\".contains(c) { '-' } else { c }).take(31).collect()
}

fn workbook(groups: &[(String, Vec<Entry>)]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_title("fettle rule catalogue").set_creation_datetime(&created));
    let head = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (title, entries) in groups {
        let ws = wb.add_worksheet();
        let name = entries.first().map_or_else(|| title.clone(), |e| format!("{} {}", e.ret, e.year));
        ws.set_name(sheet_name(&name))?;
        for (c, (h, w)) in COLUMNS.iter().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, *h, &head)?;
            ws.set_column_width(c, *w)?;
        }
        for (i, e) in entries.iter().enumerate() {
            let row = (i + 1) as u32;
            let cells =
                [&e.ret, &e.year, &e.code, &e.severity, &e.message, &e.module, &e.fields.join(", "), &e.check, &e.note, &e.fix];
            for (c, v) in cells.iter().enumerate() {
                let v: String = v.chars().take(32_767).collect();
                ws.write_string_with_format(row, c as u16, v, &wrap)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, entries.len() as u32, (COLUMNS.len() - 1) as u16)?;
    }
    wb.save_to_buffer()
}
