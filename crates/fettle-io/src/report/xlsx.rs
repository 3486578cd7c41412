//! The Excel report: a `Summary` sheet (files, last year's files they were checked against, counts
//! by severity, a table of the rules that have
//! findings), a `Findings` sheet (one row per finding, with an autofilter and a frozen header) and a
//! sheet per child (`Child <LAchildID>`, at most [`MAX_CHILD_SHEETS`]) listing that child's findings.
//!
//! The content is deterministic: the same run gives the same cells, and the workbook's creation
//! date is fixed so that the same run gives the same bytes.

use super::MISSING;
use super::{RuleInfo, RuleKey, Run};
use crate::eval::finding::Value;
use crate::eval::{Code, Finding};
use crate::syntax::ast::Severity;
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, FormatPattern, Workbook, Worksheet, XlsxError,
};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many child sheets are written; the `Findings` sheet always has every finding.
pub const MAX_CHILD_SHEETS: usize = 200;

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Excel's limit on the characters of a sheet name.
const MAX_SHEET_NAME: usize = 31;

/// The columns of the `Findings` sheet (child sheets leave out `Child`), with their widths.
const COLUMNS: [(&str, f64); 10] = [
    ("File", 28.0),
    ("Child", 14.0),
    ("Rule", 14.0),
    ("Severity", 10.0),
    ("Message", 60.0),
    ("Table", 16.0),
    ("Location", 24.0),
    ("Values", 50.0),
    ("Related rows", 40.0),
    ("Explanation", 40.0),
];

/// A finding's values as `field = value; ...`, a missing value shown as `(missing)`.
pub(crate) fn values_text(f: &Finding) -> String {
    f.values.iter().map(|v| format!("{} = {}", v.field, shown(&v.value))).collect::<Vec<_>>().join("; ")
}

/// A finding's related rows as `Table row N at place: field = value, ...` (`... at place in `file`` for
/// a row of last year's return), separated by ` | `.
pub(crate) fn related_text(f: &Finding) -> String {
    f.related
        .iter()
        .map(|r| {
            let place = r.location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
            let file = r.file.as_ref().map(|f| format!(" in `{f}`")).unwrap_or_default();
            let vals: Vec<String> = r.values.iter().map(|v| format!("{} = {}", v.field, shown(&v.value))).collect();
            let vals = if vals.is_empty() { String::new() } else { format!(": {}", vals.join(", ")) };
            format!("{} row {}{place}{file}{vals}", r.table, r.row + 1)
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

fn shown(v: &Value) -> String {
    if v.is_missing() { MISSING.to_string() } else { v.text() }
}

/// The text shown for a rule in summaries: the message its findings share, else its message as
/// written (with its `{...}` holes), else a description of the group.
pub(crate) fn rule_title(g: &RuleGroup) -> String {
    let list = &g.findings;
    let first = list.first().map_or("", |f| f.message.as_str());
    if !first.is_empty() && list.iter().all(|f| f.message == first) {
        first.to_string()
    } else if let Some(r) = g.rule {
        r.message.clone()
    } else if g.code.is_misfit() {
        "values that do not fit their column's type".to_string()
    } else {
        format!("{first} (and {} other messages)", list.len().saturating_sub(1))
    }
}

/// The findings of one rule (of one return and year: two years of a return may each have a rule
/// of the same code, with its own text), or of one input check.
pub(crate) struct RuleGroup<'a> {
    /// The rule's severity (or the group's highest).
    pub severity: Severity,
    /// The code.
    pub code: &'a Code,
    /// The rule, when the code is one of a return's rules.
    pub rule: Option<&'a RuleInfo>,
    /// Its findings, in the run's order.
    pub findings: Vec<&'a Finding>,
}

/// Findings grouped by rule: errors first, then queries, then info; codes in order (a code of two
/// returns or years: in return and year order).
pub(crate) fn by_rule(run: &Run) -> Vec<RuleGroup<'_>> {
    type Key<'a> = (&'a Code, Option<&'a RuleKey>);
    let mut groups: BTreeMap<Key, (Option<&RuleInfo>, Severity, Vec<&Finding>)> = BTreeMap::new();
    for f in &run.findings {
        let rule = run.returns.get(&f.file).zip(f.code.rule()).and_then(|((ret, year), code)| {
            run.rules.get_key_value(&RuleKey { ret: ret.clone(), year: year.clone(), code: code.to_string() })
        });
        // A group is at the severity of its rule (or of its highest finding).
        let g = groups.entry((&f.code, rule.map(|(k, _)| k))).or_insert((rule.map(|(_, r)| r), f.severity, vec![]));
        g.1 = rule.map_or(g.1.max(f.severity), |(_, r)| r.severity);
        g.2.push(f);
    }
    let mut out: Vec<RuleGroup> =
        groups.into_iter().map(|((code, _), (rule, severity, findings))| RuleGroup { severity, code, rule, findings }).collect();
    // Stable: groups of one severity keep their code (then return and year) order.
    out.sort_by_key(|g| std::cmp::Reverse(g.severity));
    out
}

/// Findings by child, children in LAchildID order.
pub(crate) fn by_child(run: &Run) -> BTreeMap<&str, Vec<&Finding>> {
    let mut m: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &run.findings {
        if let Some(c) = &f.child {
            m.entry(c.as_str()).or_default().push(f);
        }
    }
    m
}

/// A valid, unique sheet name from `want`: Excel's forbidden characters replaced by `_`, at most 31
/// characters, no apostrophe at either end, and a ` (2)`-style suffix when the name is taken
/// (compared case-insensitively, as Excel does).
pub(crate) fn sheet_name(want: &str, taken: &mut BTreeSet<String>) -> String {
    let clean: String = want
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').to_string();
    let clean = if clean.trim().is_empty() { "Sheet".to_string() } else { clean };
    let fit = |s: &str, room: usize| -> String {
        let t: String = s.chars().take(room).collect();
        t.trim_end_matches('\'').to_string()
    };
    let mut name = fit(&clean, MAX_SHEET_NAME);
    let mut n = 2;
    while taken.contains(&name.to_lowercase()) || name.eq_ignore_ascii_case("history") {
        let suffix = format!(" ({n})");
        name = format!("{}{suffix}", fit(&clean, MAX_SHEET_NAME.saturating_sub(suffix.chars().count())));
        n += 1;
    }
    taken.insert(name.to_lowercase());
    name
}

/// Text cut to what one Excel cell holds.
fn cell_text(s: &str) -> String {
    if s.chars().count() <= MAX_CELL_CHARS {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX_CELL_CHARS - 20).collect();
    t.push_str(" ... (cut)");
    t
}

/// The cell formats used.
struct Formats {
    title: Format,
    bold: Format,
    head: Format,
    wrap: Format,
    error: Format,
    query: Format,
    info: Format,
}

impl Formats {
    fn new() -> Formats {
        let head = Format::new()
            .set_bold()
            .set_font_color(Color::White)
            .set_background_color(Color::RGB(0x0B_0C_0C))
            .set_pattern(FormatPattern::Solid)
            .set_border(FormatBorder::Thin);
        let sev = |bg: u32, fg: Color| {
            Format::new().set_bold().set_font_color(fg).set_background_color(Color::RGB(bg)).set_pattern(FormatPattern::Solid)
        };
        Formats {
            title: Format::new().set_bold().set_font_size(16),
            bold: Format::new().set_bold(),
            head,
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            error: sev(0xD4_35_1C, Color::White),
            query: sev(0xFF_DD_00, Color::Black),
            info: sev(0x1D_70_B8, Color::White),
        }
    }

    fn severity(&self, s: Severity) -> &Format {
        match s {
            Severity::Error => &self.error,
            Severity::Query => &self.query,
            Severity::Info => &self.info,
        }
    }
}

/// Renders the run as an xlsx workbook.
pub fn render(run: &Run) -> Result<Vec<u8>, XlsxError> {
    let fmt = Formats::new();
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(&DocProperties::new().set_title("fettle report").set_creation_datetime(&created));

    let children = by_child(run);
    let mut taken: BTreeSet<String> = ["summary".to_string(), "findings".to_string()].into_iter().collect();
    let child_sheets: Vec<(String, &str, &Vec<&Finding>)> =
        children.iter().take(MAX_CHILD_SHEETS).map(|(c, l)| (sheet_name(&format!("Child {c}"), &mut taken), *c, l)).collect();

    summary_sheet(wb.add_worksheet(), run, &fmt, children.len(), child_sheets.len())?;

    // Errors, then queries, then info; within each, the run's own order (file, table, row).
    let mut all: Vec<&Finding> = run.findings.iter().collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let ws = wb.add_worksheet();
    ws.set_name("Findings")?;
    findings_table(ws, 0, &all, true, &fmt)?;

    for (name, child, list) in &child_sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        ws.write_string_with_format(0, 0, cell_text(&format!("Child {child}")), &fmt.title)?;
        ws.write_string(1, 0, format!("{} finding{}", list.len(), if list.len() == 1 { "" } else { "s" }))?;
        findings_table(ws, 3, list, false, &fmt)?;
    }
    wb.save_to_buffer()
}

fn summary_sheet(ws: &mut Worksheet, run: &Run, fmt: &Formats, children: usize, sheets: usize) -> Result<(), XlsxError> {
    ws.set_name("Summary")?;
    ws.set_column_width(0, 22)?;
    ws.set_column_width(1, 12)?;
    ws.set_column_width(2, 10)?;
    ws.set_column_width(3, 70)?;
    ws.set_column_width(4, 60)?;
    ws.set_column_width(5, 40)?;
    let s = run.summary();
    let mut r: u32 = 0;
    ws.write_string_with_format(r, 0, "fettle validation report", &fmt.title)?;
    r += 2;
    ws.write_string_with_format(r, 0, "Files", &fmt.bold)?;
    ws.write_number(r, 1, s.files as f64)?;
    r += 1;
    for f in &run.files {
        ws.write_string(r, 1, cell_text(f))?;
        r += 1;
    }
    if !run.previous.is_empty() {
        r += 1;
        ws.write_string_with_format(r, 0, "Checked against last year's", &fmt.bold)?;
        r += 1;
        for p in &run.previous {
            ws.write_string(r, 1, cell_text(&format!("{}: last year's `{}` ({})", p.file, p.previous, p.year)))?;
            r += 1;
        }
    }
    r += 1;
    ws.write_string_with_format(r, 0, "Severity", &fmt.head)?;
    ws.write_string_with_format(r, 1, "Findings", &fmt.head)?;
    r += 1;
    for (sev, n) in [(Severity::Error, s.errors), (Severity::Query, s.queries), (Severity::Info, s.info)] {
        ws.write_string_with_format(r, 0, sev.as_str(), fmt.severity(sev))?;
        ws.write_number(r, 1, n as f64)?;
        r += 1;
    }
    ws.write_string_with_format(r, 0, "total", &fmt.bold)?;
    ws.write_number_with_format(r, 1, run.findings.len() as f64, &fmt.bold)?;
    r += 1;
    ws.write_string(r, 0, "explained queries")?;
    ws.write_number(r, 1, s.explained as f64)?;
    r += 2;
    ws.write_string_with_format(r, 0, "Children", &fmt.bold)?;
    ws.write_number(r, 1, children as f64)?;
    r += 1;
    if children > sheets {
        ws.write_string(
            r,
            0,
            format!(
                "Child sheets are written for the first {sheets} of {children} children (in LAchildID order); \
                 the Findings sheet lists every finding."
            ),
        )?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(r, 0, "Rules with findings", &fmt.bold)?;
    r += 1;
    for (c, h) in ["Code", "Severity", "Findings", "Message", "Fix", "Rule"].iter().enumerate() {
        ws.write_string_with_format(r, c as u16, *h, &fmt.head)?;
    }
    r += 1;
    for g in by_rule(run) {
        let (sev, code, list, info) = (g.severity, g.code, &g.findings, g.rule);
        let fix = info.and_then(|i| i.fix.clone()).or_else(|| list.iter().find_map(|f| f.fix.clone())).unwrap_or_default();
        ws.write_string(r, 0, cell_text(code.as_str()))?;
        ws.write_string_with_format(r, 1, sev.as_str(), fmt.severity(sev))?;
        ws.write_number(r, 2, list.len() as f64)?;
        ws.write_string_with_format(r, 3, cell_text(&rule_title(&g)), &fmt.wrap)?;
        ws.write_string_with_format(r, 4, cell_text(&fix), &fmt.wrap)?;
        ws.write_string(r, 5, info.map(|i| format!("{}:{}", i.file, i.line)).unwrap_or_default())?;
        r += 1;
    }
    Ok(())
}

/// Writes a table of findings from row `top`: a header, a row per finding, an autofilter and a
/// frozen header.
fn findings_table(ws: &mut Worksheet, top: u32, list: &[&Finding], child: bool, fmt: &Formats) -> Result<(), XlsxError> {
    let cols: Vec<(&str, f64)> = COLUMNS.iter().copied().filter(|(h, _)| child || *h != "Child").collect();
    for (c, (h, w)) in cols.iter().enumerate() {
        ws.write_string_with_format(top, c as u16, *h, &fmt.head)?;
        ws.set_column_width(c as u16, *w)?;
    }
    for (i, f) in list.iter().enumerate() {
        let r = top + 1 + i as u32;
        let mut c: u16 = 0;
        let mut put = |ws: &mut Worksheet, text: &str, format: Option<&Format>| -> Result<(), XlsxError> {
            if !text.is_empty() {
                match format {
                    Some(x) => ws.write_string_with_format(r, c, cell_text(text), x)?,
                    None => ws.write_string(r, c, cell_text(text))?,
                };
            }
            c += 1;
            Ok(())
        };
        put(ws, &f.file, None)?;
        if child {
            put(ws, f.child.as_deref().unwrap_or(""), None)?;
        }
        put(ws, f.code.as_str(), None)?;
        put(ws, f.severity.as_str(), Some(fmt.severity(f.severity)))?;
        put(ws, &f.message_with_also(), None)?;
        put(ws, f.table.as_deref().unwrap_or(""), None)?;
        put(ws, &super::place_text(f), None)?;
        put(ws, &values_text(f), None)?;
        put(ws, &related_text(f), None)?;
        put(ws, f.explained.as_deref().unwrap_or(""), None)?;
    }
    let last_col = cols.len().saturating_sub(1) as u16;
    ws.autofilter(top, 0, top + list.len() as u32, last_col)?;
    ws.set_freeze_panes(top + 1, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken = BTreeSet::new();
        let a = sheet_name("Child A/B:C*D?E[F]G\\H-0123456789012345", &mut taken);
        assert!(a.chars().count() <= 31, "{a}");
        assert!(rust_xlsxwriter::utility::check_sheet_name(&a).is_ok(), "{a}");
        let b = sheet_name("Child A/B:C*D?E[F]G\\H-0123456789012345", &mut taken);
        assert_ne!(a.to_lowercase(), b.to_lowercase());
        assert!(b.chars().count() <= 31 && b.ends_with("(2)"), "{b}");
        let c = sheet_name("'quoted'", &mut taken);
        assert_eq!(c, "quoted");
        let d = sheet_name("Child ''''''''''''''''''''''''''''''''''", &mut taken);
        assert!(rust_xlsxwriter::utility::check_sheet_name(&d).is_ok(), "{d}");
    }
}
