//! The annotated copy of a council's workbook (`--annotate FILE`): the workbook itself, part for
//! part, with every cell a finding names highlighted (errors red, queries amber, info blue) and a
//! note on it saying what is wrong with that cell.
//!
//! The copy is made by editing the workbook's package (the zip of XML parts), not by writing a new
//! workbook: every part fettle does not need to touch is copied byte for byte, so column widths, row
//! heights, hidden rows, columns and sheets, number and date formats, merged cells, data validation,
//! formulas, charts and everything else stay exactly as the council left them. What changes:
//! - the flagged cells' style index (`s`) points at a copy of their own style with a fill and a
//!   border added (the new styles are appended to `xl/styles.xml`; no existing style changes), and a
//!   flagged cell that does not exist in the sheet is added as a blank cell;
//! - each sheet with flagged cells gains a comments part and its VML drawing (the notes); a sheet
//!   that already carries the council's own comments keeps every one of them word for word, and
//!   fettle's notes join them: on a cell the council noted, fettle's lines follow the council's
//!   under `--- fettle ---`; other flagged cells get fettle's own note (author `fettle`);
//! - a `fettle findings` sheet is added at the end, listing the findings that are about no cell of
//!   the workbook (whole-return and group findings, cells on sheets the workbook does not have, and
//!   the findings on a sheet whose own comments fettle cannot join: Excel's threaded comments, or
//!   notes it cannot read, which are left as they are).
//!
//! Each note is true of the cell it sits on: a finding's own cells (its row's cell and the cells of
//! its values) carry `code: message`; the cells of a related row (another child of the family, the
//! overlapping plan) carry a line about that cell's own value and where the finding is, never the
//! finding's message, whose "here" means the finding's row. The input file is only ever read.

use crate::eval::finding::Value;
use crate::eval::{FieldValue, Finding, Location};
use crate::input::limits::Limit;
use crate::syntax::ast::Severity;
use quick_xml::Reader;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};
use std::path::Path;
use zip::ZipArchive;
use zip::write::{SimpleFileOptions, ZipWriter};

/// At most this many lines are written in full in one cell's note.
const MAX_NOTE_LINES: usize = 20;

/// Excel's limit on the characters of one cell (and of one note).
const MAX_CELL_CHARS: usize = 32_767;

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const REL_WORKSHEET: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const REL_STYLES: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles";
const REL_COMMENTS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments";
const REL_VML: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/vmlDrawing";
const REL_OFFICE_DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const CT_WORKSHEET: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
const CT_COMMENTS: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml";
const CT_STYLES: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";
const CT_VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";

/// The worksheet elements that come after `legacyDrawing` (the notes' drawing), in schema order.
const AFTER_LEGACY_DRAWING: [&str; 8] =
    ["legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts", "extLst"];

/// The workbook elements that come after `definedNames`, in schema order.
const AFTER_DEFINED_NAMES: [&str; 10] = [
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
];

/// The highlight of each severity: fill and border colours (RGB).
fn colours(s: Severity) -> (u32, u32) {
    match s {
        Severity::Error => (0xF4_A6_A0, 0xB1_0E_1E),
        Severity::Query => (0xFF_D0_80, 0xB2_5E_00),
        Severity::Info => (0xA6_C8_EA, 0x1D_70_B8),
    }
}

const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Query, Severity::Info];

fn severity_slot(s: Severity) -> usize {
    match s {
        Severity::Error => 0,
        Severity::Query => 1,
        Severity::Info => 2,
    }
}

/// What is written on one flagged cell: the highest severity, the note's lines and the findings
/// behind them (by index).
#[derive(Default)]
struct Mark {
    severity: Option<Severity>,
    lines: Vec<String>,
    /// How many of the lines (the first ones) are findings about this cell's own row.
    own: usize,
    findings: BTreeSet<usize>,
}

impl Mark {
    /// Adds a line: a finding's own message first, lines about related rows after them.
    fn add(&mut self, severity: Severity, line: String, finding: usize, own: bool) {
        self.severity = Some(self.severity.map_or(severity, |x| x.max(severity)));
        if !self.lines.contains(&line) {
            if own {
                self.lines.insert(self.own, line);
                self.own += 1;
            } else {
                self.lines.push(line);
            }
        }
        self.findings.insert(finding);
    }
}

/// `B12` or `$B$12` as a 0-based (row, column) (the workbook scan's reading of a reference).
fn parse_cell(cell: &str) -> Option<(u32, u16)> {
    let (row, col) = crate::input::scan::cell_ref(cell).ok()?;
    Some((u32::try_from(row - 1).ok()?, u16::try_from(col - 1).ok()?))
}

/// A 0-based (row, column) as `B12`.
fn cell_ref(row: u32, col: u16) -> String {
    format!("{}{}", crate::table::col_letters(u32::from(col)), u64::from(row) + 1)
}

/// The index of a sheet by name: exact, else ignoring case.
fn sheet_index(names: &[String], sheet: &str) -> Option<usize> {
    names.iter().position(|n| n == sheet).or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(sheet)))
}

/// Text cut to what one Excel cell holds, without the characters XML 1.0 cannot carry.
fn cell_text(s: &str) -> String {
    s.chars()
        .take(MAX_CELL_CHARS)
        .map(|c| if matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}') { c } else { '\u{FFFD}' })
        .collect()
}

/// Text escaped for XML content or a double-quoted attribute.
fn esc(s: &str) -> String {
    quick_xml::escape::escape(cell_text(s)).into_owned()
}

/// `Referrals.ConferenceDate` as `ConferenceDate`.
fn short_field(field: &str) -> &str {
    field.rsplit('.').next().unwrap_or(field)
}

/// A value in a note on a cell: a missing one is a blank cell.
fn shown_value(v: &Value) -> String {
    if v.is_missing() { "(blank)".to_string() } else { v.text() }
}

/// Where a finding is, for a note on another row's cell: its value of `field` when it has one
/// with a cell (`Referrals!R5`, and that value), else its own cell; a cell of last year's return
/// (`--previous`) says so and names its file.
fn finding_at<'f>(f: &'f Finding, field: Option<&str>) -> (String, Option<&'f FieldValue>) {
    if let Some(v) = field.and_then(|fd| f.values.iter().find(|v| v.field == fd))
        && let Some(loc @ Location::Cell { .. }) = &v.location
    {
        return match &f.location_file {
            Some(file) => (format!("last year at {loc} in `{file}`"), Some(v)),
            None => (loc.to_string(), Some(v)),
        };
    }
    if f.location_file.is_some() {
        return (super::place_text(f), None);
    }
    match &f.location {
        Some(loc @ Location::Cell { .. }) => (loc.to_string(), None),
        _ => match (&f.table, f.row) {
            (Some(t), Some(r)) => (format!("{t} row {}", u64::from(r) + 1), None),
            _ => ("a whole-return finding".to_string(), None),
        },
    }
}

/// The note line on a related row's cell holding value `v`.
fn related_value_line(f: &Finding, v: &FieldValue) -> String {
    let (at, theirs) = finding_at(f, Some(&v.field));
    let here = format!("{}: {} {} here", f.code, short_field(&v.field), shown_value(&v.value));
    match theirs {
        Some(t) if t.value == v.value => {
            format!("{here} is compared with the finding at {at}, which also has {}", shown_value(&t.value))
        }
        Some(t) => format!("{here} is compared with the finding at {at}, which has {}", shown_value(&t.value)),
        None => format!("{here} is part of the finding at {at}"),
    }
}

/// The flagged cells by (sheet index, 0-based row, column).
type Marks = BTreeMap<(usize, u32, u16), Mark>;

/// Which cells of the workbook are flagged (by sheet index, row, column), and the findings that
/// are about no cell of it.
fn mark_cells(findings: &[&Finding], names: &[String]) -> (Marks, Vec<usize>) {
    let mut marks: BTreeMap<(usize, u32, u16), Mark> = BTreeMap::new();
    let mut unplaced = vec![];
    let place = |loc: Option<&Location>| -> Option<(usize, u32, u16)> {
        let Some(Location::Cell { sheet, row, col }) = loc else { return None };
        Some((sheet_index(names, sheet)?, row.checked_sub(1)?, u16::try_from(*col).ok()?))
    };
    for (i, f) in findings.iter().enumerate() {
        let own = format!("{}: {}", f.code, f.message_with_also());
        // A finding on a row of last year's return (`--previous`) has no cell in this workbook: it is
        // listed with the findings noted on no cell, where its place names last year's file (its
        // related rows here are still noted).
        let last_year = f.location_file.is_some();
        let placed = if last_year { None } else { place(f.location.as_ref()) };
        if let Some(k) = placed {
            marks.entry(k).or_default().add(f.severity, own.clone(), i, true);
        } else {
            unplaced.push(i);
        }
        for v in f.values.iter().filter(|_| !last_year) {
            if let Some(k) = place(v.location.as_ref()) {
                marks.entry(k).or_default().add(f.severity, own.clone(), i, true);
            }
        }
        // A related row in another file (last year's return) has no cell in this workbook.
        for r in f.related.iter().filter(|r| r.file.is_none()) {
            let value_cells: Vec<_> = r.values.iter().filter_map(|v| place(v.location.as_ref())).collect();
            if let Some(k) = place(r.location.as_ref())
                && !value_cells.contains(&k)
            {
                let (at, _) = finding_at(f, None);
                marks.entry(k).or_default().add(
                    f.severity,
                    format!("{}: this row is related to the finding at {at}", f.code),
                    i,
                    false,
                );
            }
            for v in &r.values {
                if let Some(k) = place(v.location.as_ref()) {
                    marks.entry(k).or_default().add(f.severity, related_value_line(f, v), i, false);
                }
            }
        }
    }
    (marks, unplaced)
}

/// A package part's name resolved from a relationship's target, relative to `base` (the folder
/// of the part the relationship belongs to).
fn resolve(base: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') { vec![] } else { base.split('/').filter(|p| !p.is_empty()).collect() };
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The folder of a part (`xl/worksheets` for `xl/worksheets/sheet1.xml`).
fn folder(part: &str) -> &str {
    part.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The relationships part of a part.
fn rels_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((d, f)) => format!("{d}/_rels/{f}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// An attribute's value, unescaped, by local name (`id` finds `r:id`).
fn attr(e: &BytesStart, local: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .and_then(|a| quick_xml::escape::unescape(&a.value).ok().map(|v| v.into_owned()))
}

/// One relationship: id, type, target and whether it is external.
struct Rel {
    id: String,
    typ: String,
    target: String,
    external: bool,
}

fn parse_rels(xml: &[u8]) -> Vec<Rel> {
    let mut out = vec![];
    each_element(xml, |e| {
        if e.local_name().into_inner() == "Relationship" {
            out.push(Rel {
                id: attr(e, "Id").unwrap_or_default(),
                typ: attr(e, "Type").unwrap_or_default(),
                target: attr(e, "Target").unwrap_or_default(),
                external: attr(e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("external")),
            });
        }
    });
    out
}

/// A relationship id not yet used in `rels`.
fn fresh_id(rels: &[Rel], want: &str) -> String {
    let mut id = want.to_string();
    let mut n = 2;
    while rels.iter().any(|r| r.id == id) {
        id = format!("{want}_{n}");
        n += 1;
    }
    id
}

/// The workbook's package, read.
struct Package<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// Lower-cased part name to its name in the zip.
    names: BTreeMap<String, String>,
    shown: String,
}

impl Package<'_> {
    fn has(&self, part: &str) -> bool {
        self.names.contains_key(&part.to_lowercase())
    }

    /// A part's bytes; `None` when the package has no such part.
    fn read(&mut self, part: &str) -> Result<Option<Vec<u8>>, String> {
        let Some(name) = self.names.get(&part.to_lowercase()).cloned() else { return Ok(None) };
        let limit = Limit::ZipEntryMb.bytes();
        let file = self.zip.by_name(&name).map_err(|e| format!("cannot read `{name}` in `{}`: {e}", self.shown))?;
        let mut out = vec![];
        file.take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot read `{name}` in `{}`: {e}", self.shown))?;
        if out.len() as u64 > limit {
            return Err(format!(
                "cannot annotate `{}`: `{name}` unzips to more than {} MB (raise it with --limit zip-entry-mb=N)",
                self.shown,
                Limit::ZipEntryMb.get()
            ));
        }
        Ok(Some(out))
    }
}

/// One sheet of the workbook.
struct Sheet {
    name: String,
    /// Its part, when it is a worksheet (not a chart sheet).
    part: Option<String>,
}

/// A copy of the workbook at `src` with the findings' cells highlighted and noted.
pub fn annotate(src: &Path, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let shown = src.display().to_string();
    let bytes = std::fs::read(src).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    annotate_bytes(&bytes, &shown, findings)
}

/// [`annotate`] of a workbook held in memory; `name` names it in messages.
pub fn annotate_bytes(bytes: &[u8], name: &str, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let zip =
        ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("cannot read `{name}`: it is not an xlsx workbook ({e})"))?;
    let names = zip
        .file_names()
        .map(|n| n.map(|n| (n.to_lowercase(), n.into_owned())))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read `{name}`: it is not an xlsx workbook ({e})"))?;
    let mut pkg = Package { zip, names, shown: name.to_string() };
    let not_xlsx = || format!("cannot read `{name}`: it is not an xlsx workbook (no workbook part)");

    // The workbook part, its sheets and styles.
    let root_rels = pkg.read("_rels/.rels")?.map(|x| parse_rels(&x)).unwrap_or_default();
    let wb_part = root_rels
        .iter()
        .find(|r| r.typ == REL_OFFICE_DOC)
        .map_or_else(|| "xl/workbook.xml".to_string(), |r| resolve("", &r.target));
    let wb_xml = pkg.read(&wb_part)?.ok_or_else(not_xlsx)?;
    let wb_rels_part = rels_of(&wb_part);
    let wb_rels = pkg.read(&wb_rels_part)?.map(|x| parse_rels(&x)).unwrap_or_default();
    let wb_dir = folder(&wb_part).to_string();
    let sheets: Vec<Sheet> = workbook_sheets(&wb_xml)
        .into_iter()
        .map(|(name, rid)| {
            let part = wb_rels
                .iter()
                .find(|r| r.id == rid && r.typ == REL_WORKSHEET && !r.external)
                .map(|r| resolve(&wb_dir, &r.target))
                .filter(|p| pkg.has(p));
            Sheet { name, part }
        })
        .collect();
    let sheet_names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    let styles_part = wb_rels.iter().find(|r| r.typ == REL_STYLES).map(|r| resolve(&wb_dir, &r.target));
    let styles_xml = match &styles_part {
        Some(p) => pkg.read(p)?,
        None => None,
    };
    let mut styles = StyleBook::read(styles_xml.as_deref().unwrap_or(MINIMAL_STYLES.as_bytes()))
        .map_err(|e| format!("cannot annotate `{name}`: its styles part {e}"))?;

    let (marks, mut unplaced) = mark_cells(findings, &sheet_names);
    let mut replaced: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut added: Vec<(String, Vec<u8>)> = vec![];
    let mut overrides: Vec<(String, &str)> = vec![];
    let mut part_names: BTreeSet<String> = pkg.names.keys().cloned().collect();
    let mut fresh_part = |want: &str, ext: &str| -> String {
        let mut n = 1;
        loop {
            let p = format!("{want}{n}.{ext}");
            if part_names.insert(p.to_lowercase()) {
                return p;
            }
            n += 1;
        }
    };

    for (i, sheet) in sheets.iter().enumerate() {
        let cells: BTreeMap<(u32, u16), &Mark> =
            marks.range((i, 0, 0)..=(i, u32::MAX, u16::MAX)).map(|((_, r, c), m)| ((*r, *c), m)).collect();
        if cells.is_empty() {
            continue;
        }
        let Some(part) = &sheet.part else {
            // A chart sheet: the findings go to the list.
            unplaced.extend(cells.values().flat_map(|m| m.findings.iter().copied()));
            continue;
        };
        let xml = pkg.read(part)?.ok_or_else(not_xlsx)?;
        let rels_part = rels_of(part);
        let rels = pkg.read(&rels_part)?;
        let parsed = rels.as_deref().map(parse_rels).unwrap_or_default();
        let notes_id = fresh_id(&parsed, "rIdFettleNotes");
        let vml_id = fresh_id(&parsed, "rIdFettleVml");
        let edited = edit_sheet(&xml, &cells, &mut styles, &vml_id)
            .map_err(|e| format!("cannot annotate `{name}`: sheet `{}`: {e}", sheet.name))?;
        replaced.insert(part.clone(), edited.xml);
        if !edited.noted {
            // The sheet has notes of its own: fettle's join them, each cell keeping the council's.
            let own = |typ: &str, id: Option<&str>| {
                parsed
                    .iter()
                    .find(|r| r.typ == typ && !r.external && id.is_none_or(|id| r.id == id))
                    .map(|r| resolve(folder(part), &r.target))
                    .filter(|p| pkg.has(p))
            };
            // Excel shows a threaded comment instead of the note behind it: on such a sheet,
            // fettle's lines would be hidden, so they go to the list.
            let threaded = parsed.iter().any(|r| r.typ.ends_with("/threadedComment"));
            let merged = match (own(REL_COMMENTS, None), own(REL_VML, edited.own_drawing.as_deref())) {
                _ if threaded => None,
                (Some(c), Some(v)) => match (pkg.read(&c)?, pkg.read(&v)?) {
                    (Some(cx), Some(vx)) => merge_comments(&cx, &cells).ok().map(|m| ((c, m), (v, merge_vml(&vx, &cells)))),
                    _ => None,
                },
                _ => None,
            };
            match merged {
                Some(((c, cx), (v, vx))) => {
                    replaced.insert(c, cx);
                    replaced.insert(v, vx);
                }
                // Notes fettle cannot read: left as they are, the findings go to the list.
                None => unplaced.extend(cells.values().flat_map(|m| m.findings.iter().copied())),
            }
            continue;
        }
        let comments = fresh_part("xl/fettle-notes", "xml");
        let vml = fresh_part("xl/drawings/fettle-notes", "vml");
        let block = 100 + added.len();
        added.push((comments.clone(), comments_xml(&cells).into_bytes()));
        added.push((vml.clone(), vml_xml(&cells, block).into_bytes()));
        overrides.push((format!("/{comments}"), CT_COMMENTS));
        let new_rels = [(notes_id.as_str(), REL_COMMENTS, format!("/{comments}")), (vml_id.as_str(), REL_VML, format!("/{vml}"))];
        let rels_xml = add_rels(rels.as_deref(), &new_rels).map_err(|e| format!("cannot annotate `{name}`: {e}"))?;
        if rels.is_some() {
            replaced.insert(rels_part, rels_xml);
        } else {
            added.push((rels_part, rels_xml));
        }
    }

    // The list of findings about no cell, on a sheet of its own.
    unplaced.sort_unstable();
    unplaced.dedup();
    let list: Vec<&Finding> = unplaced.iter().filter_map(|i| findings.get(*i).copied()).collect();
    let mut taken: BTreeSet<String> = sheet_names.iter().map(|n| n.to_lowercase()).collect();
    let list_name = super::xlsx::sheet_name("fettle findings", &mut taken);
    let list_part = fresh_part("xl/worksheets/fettle-findings", "xml");
    let bold = styles.bold();
    added.push((list_part.clone(), findings_sheet(&list, bold).into_bytes()));
    overrides.push((format!("/{list_part}"), CT_WORKSHEET));
    let list_id = fresh_id(&wb_rels, "rIdFettleFindings");
    let filter = (!list.is_empty()).then(|| format!("'{}'!$A$3:$I${}", list_name.replace('\'', "''"), 3 + list.len()));
    replaced.insert(
        wb_part.clone(),
        add_sheet(&wb_xml, &list_name, &list_id, sheets.len(), filter.as_deref())
            .map_err(|e| format!("cannot annotate `{name}`: {e}"))?,
    );
    let mut wb_new_rels = vec![(list_id.as_str(), REL_WORKSHEET, format!("/{list_part}"))];
    let styles_id = fresh_id(&wb_rels, "rIdFettleStyles");
    match &styles_part {
        Some(p) if styles_xml.is_some() => {
            replaced.insert(
                p.clone(),
                styles.write(styles_xml.as_deref().unwrap_or_default()).map_err(|e| format!("cannot annotate `{name}`: {e}"))?,
            );
        }
        _ => {
            let p = fresh_part("xl/fettle-styles", "xml");
            added.push((
                p.clone(),
                styles.write(MINIMAL_STYLES.as_bytes()).map_err(|e| format!("cannot annotate `{name}`: {e}"))?,
            ));
            overrides.push((format!("/{p}"), CT_STYLES));
            wb_new_rels.push((styles_id.as_str(), REL_STYLES, format!("/{p}")));
        }
    }
    let wb_rels_xml = pkg.read(&wb_rels_part)?;
    let wb_rels_new = add_rels(wb_rels_xml.as_deref(), &wb_new_rels).map_err(|e| format!("cannot annotate `{name}`: {e}"))?;
    if wb_rels_xml.is_some() {
        replaced.insert(wb_rels_part, wb_rels_new);
    } else {
        added.push((wb_rels_part, wb_rels_new));
    }
    let types = pkg.read("[Content_Types].xml")?.ok_or_else(not_xlsx)?;
    let has_vml = added.iter().any(|(p, _)| p.ends_with(".vml"));
    replaced.insert(
        "[Content_Types].xml".to_string(),
        add_content_types(&types, &overrides, has_vml).map_err(|e| format!("cannot annotate `{name}`: {e}"))?,
    );

    // The package: every part as it was, but the edited ones, then the new ones.
    let write = |e: &dyn std::fmt::Display| format!("cannot write the annotated copy of `{name}`: {e}");
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let replaced: BTreeMap<String, Vec<u8>> = replaced.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
    for i in 0..pkg.zip.len() {
        let file = pkg.zip.by_index_raw(i).map_err(|e| write(&e))?;
        let n = file.name().map_err(|e| write(&e))?.into_owned();
        match replaced.get(&n.to_lowercase()) {
            Some(bytes) => {
                drop(file);
                out.start_file(n, options).map_err(|e| write(&e))?;
                out.write_all(bytes).map_err(|e| write(&e))?;
            }
            None => out.raw_copy_file(file).map_err(|e| write(&e))?,
        }
    }
    for (part, bytes) in &added {
        out.start_file(part.as_str(), options).map_err(|e| write(&e))?;
        out.write_all(bytes).map_err(|e| write(&e))?;
    }
    Ok(out.finish().map_err(|e| write(&e))?.into_inner())
}

/// The sheets of `workbook.xml`, in order: name and relationship id.
fn workbook_sheets(xml: &[u8]) -> Vec<(String, String)> {
    let mut out = vec![];
    each_element(xml, |e| {
        if e.local_name().into_inner() == "sheet" {
            out.push((attr(e, "name").unwrap_or_default(), attr(e, "id").unwrap_or_default()));
        }
    });
    out
}

/// The prefix of an element's name with its colon (`x:`), or nothing.
fn prefix_of(e: &BytesStart) -> String {
    e.name().prefix().map(|p| format!("{}:", p.into_inner())).unwrap_or_default()
}

fn xml_err(e: impl std::fmt::Display) -> String {
    format!("is not well-formed XML ({e})")
}

/// Calls `f` on each start or empty element of `xml`, in order, up to its end or the first part
/// that is not well-formed.
fn each_element(xml: &[u8], mut f: impl FnMut(&BytesStart)) {
    let mut reader = Reader::from_reader(xml);
    let mut buf = vec![];
    while let Ok(ev) = reader.read_event_into(&mut buf) {
        match &ev {
            Event::Start(e) | Event::Empty(e) => f(e),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
}

/// Writes one event to `out` as it was read.
fn put(out: &mut Vec<u8>, ev: &Event) -> Result<(), String> {
    quick_xml::Writer::new(out).write_event(ev.borrow()).map_err(xml_err)
}

/// Writes the empty element `e` (`<x/>`) opened and closed around `inner`: `<x>inner</x>`.
fn put_around(out: &mut Vec<u8>, e: &BytesStart, inner: &[u8]) -> Result<(), String> {
    put(out, &Event::Start(e.borrow()))?;
    out.extend_from_slice(inner);
    put(out, &Event::End(e.to_end()))
}

/// A sheet part after [`edit_sheet`]: its XML, and whether the notes' drawing was linked (not when
/// the sheet has comments of its own: then the id of their drawing's relationship).
struct EditedSheet {
    xml: Vec<u8>,
    noted: bool,
    /// The relationship id of the sheet's own notes' drawing, when it has one.
    own_drawing: Option<String>,
}

/// The flagged cells of one sheet, written into its XML as it streams past.
struct CellWriter<'s> {
    out: Vec<u8>,
    prefix: String,
    pending: Vec<((u32, u16), Severity)>,
    next: usize,
    styles: &'s mut StyleBook,
}

impl CellWriter<'_> {
    fn peek(&self) -> Option<(u32, u16)> {
        self.pending.get(self.next).map(|(k, _)| *k)
    }

    /// Writes the pending cells of `row` before column `before` as blank highlighted cells.
    fn cells_of_row(&mut self, row: u32, before: Option<u16>) {
        while let Some(((r, c), sev)) = self.pending.get(self.next).copied() {
            if r != row || before.is_some_and(|b| c >= b) {
                break;
            }
            let s = self.styles.highlight(0, sev);
            let p = &self.prefix;
            self.out.extend_from_slice(format!("<{p}c r=\"{}\" s=\"{s}\"/>", cell_ref(r, c)).as_bytes());
            self.next += 1;
        }
    }

    /// Writes the pending rows before `before` (0-based) as new rows of blank highlighted cells.
    fn rows_before(&mut self, before: Option<u32>) {
        while let Some((r, _)) = self.peek() {
            if before.is_some_and(|b| r >= b) {
                break;
            }
            let p = self.prefix.clone();
            self.out.extend_from_slice(format!("<{p}row r=\"{}\">", u64::from(r) + 1).as_bytes());
            self.cells_of_row(r, None);
            self.out.extend_from_slice(format!("</{p}row>").as_bytes());
        }
    }

    fn raw(&mut self, ev: &Event) -> Result<(), String> {
        put(&mut self.out, ev)
    }
}

/// Highlights the flagged cells of a sheet part, adding those it does not have, and links the
/// notes' drawing (`<legacyDrawing r:id="vml_id">`, the relationship to the VML drawing) unless the
/// sheet has one of its own.
fn edit_sheet(
    xml: &[u8],
    cells: &BTreeMap<(u32, u16), &Mark>,
    styles: &mut StyleBook,
    vml_id: &str,
) -> Result<EditedSheet, String> {
    let pending = cells.iter().filter_map(|(k, m)| m.severity.map(|s| (*k, s))).collect();
    let mut w = CellWriter { out: Vec::with_capacity(xml.len() + 4096), prefix: String::new(), pending, next: 0, styles };
    let mut reader = Reader::from_reader(xml);
    let mut buf = vec![];
    let mut depth = 0usize;
    let (mut in_data, mut own_drawing, mut linked) = (false, false, false);
    let mut own_id: Option<String> = None;
    let (mut row, mut col): (Option<u32>, Option<u16>) = (None, None);
    let link = |w: &mut CellWriter| {
        let p = &w.prefix;
        w.out.extend_from_slice(format!("<{p}legacyDrawing xmlns:r=\"{REL_NS}\" r:id=\"{}\"/>", esc(vml_id)).as_bytes());
    };
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                let local = local.into_inner();
                if depth == 0 {
                    w.prefix = prefix_of(e);
                }
                if depth == 1 {
                    if local == "legacyDrawing" {
                        own_drawing = true;
                        own_id = attr(e, "id");
                    }
                    if AFTER_LEGACY_DRAWING.contains(&local) && !own_drawing && !linked {
                        link(&mut w);
                        linked = true;
                    }
                }
                if depth == 1 && local == "sheetData" {
                    if empty {
                        let p = w.prefix.clone();
                        w.out.extend_from_slice(format!("<{p}sheetData>").as_bytes());
                        w.rows_before(None);
                        w.out.extend_from_slice(format!("</{p}sheetData>").as_bytes());
                        buf.clear();
                        continue;
                    }
                    in_data = true;
                } else if in_data && depth == 2 && local == "row" {
                    let r = attr(e, "r").and_then(|r| r.parse::<u32>().ok()).filter(|r| *r > 0).map(|r| r - 1);
                    let r = r.unwrap_or_else(|| row.map_or(0, |x| x + 1));
                    w.rows_before(Some(r));
                    row = Some(r);
                    col = None;
                    if empty && w.peek().is_some_and(|(pr, _)| pr == r) {
                        w.raw(&Event::Start(e.borrow()))?;
                        w.cells_of_row(r, None);
                        w.raw(&Event::End(e.to_end()))?;
                        buf.clear();
                        continue;
                    }
                } else if in_data && depth == 3 && local == "c" {
                    let r = row.unwrap_or(0);
                    let c = attr(e, "r").and_then(|a| parse_cell(&a)).map(|(_, c)| c);
                    let c = c.unwrap_or_else(|| col.map_or(0, |x| x.saturating_add(1)));
                    w.cells_of_row(r, Some(c));
                    col = Some(c);
                    if let Some(((_, _), sev)) = w.pending.get(w.next).copied().filter(|(k, _)| *k == (r, c)) {
                        w.next += 1;
                        let old: usize = attr(e, "s").and_then(|s| s.parse().ok()).unwrap_or(0);
                        let s = w.styles.highlight(old, sev).to_string();
                        let mut cell = BytesStart::new(e.name().into_inner().to_string());
                        for a in e.attributes().flatten() {
                            if a.key.into_inner() != "s" {
                                cell.push_attribute(a);
                            }
                        }
                        cell.push_attribute(Attribute::from(("s", s.as_str())));
                        let edited = if empty { Event::Empty(cell) } else { Event::Start(cell) };
                        w.raw(&edited)?;
                        if !empty {
                            depth += 1;
                        }
                        buf.clear();
                        continue;
                    }
                }
                w.raw(&ev)?;
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let local = e.local_name();
                if in_data && depth == 2 && local.into_inner() == "row" {
                    if let Some(r) = row {
                        w.cells_of_row(r, None);
                    }
                } else if depth == 1 && local.into_inner() == "sheetData" {
                    w.rows_before(None);
                    in_data = false;
                } else if depth == 0 && !own_drawing && !linked {
                    link(&mut w);
                    linked = true;
                }
                w.raw(&ev)?;
            }
            Event::Eof => break,
            _ => w.raw(&ev)?,
        }
        buf.clear();
    }
    Ok(EditedSheet { xml: w.out, noted: linked, own_drawing: own_id })
}

/// A note's text: one line per finding, at most [`MAX_NOTE_LINES`].
fn note_text(lines: &[String]) -> String {
    let mut text: Vec<String> = lines.iter().take(MAX_NOTE_LINES).cloned().collect();
    if lines.len() > MAX_NOTE_LINES {
        text.push(format!("... and {} more", lines.len() - MAX_NOTE_LINES));
    }
    text.join("\n")
}

/// The comments part of one sheet: a note on each flagged cell.
fn comments_xml(cells: &BTreeMap<(u32, u16), &Mark>) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<comments xmlns=\"{MAIN_NS}\"><authors><author>fettle</author></authors><commentList>"
    );
    for ((r, c), m) in cells {
        s.push_str(&format!(
            "<comment ref=\"{}\" authorId=\"0\"><text><t xml:space=\"preserve\">{}</t></text></comment>",
            cell_ref(*r, *c),
            esc(&note_text(&m.lines))
        ));
    }
    s.push_str("</commentList></comments>");
    s
}

/// The VML drawing of one sheet's notes (what Excel draws them with); `block` keeps its shape ids
/// apart from other drawings'.
fn vml_xml(cells: &BTreeMap<(u32, u16), &Mark>, block: usize) -> String {
    let mut s = format!(
        "<xml xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\
         <o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"{block}\"/></o:shapelayout>\
         <v:shapetype id=\"_x0000_t202\" coordsize=\"21600,21600\" o:spt=\"202\" path=\"m,l,21600r21600,l21600,xe\">\
         <v:stroke joinstyle=\"miter\"/><v:path gradientshapeok=\"t\" o:connecttype=\"rect\"/></v:shapetype>"
    );
    s.push_str(&vml_shapes(cells, block * 1024 + 1));
    s.push_str("</xml>");
    s
}

/// The VML shapes of the notes on `cells`, numbered from `first_id`.
fn vml_shapes(cells: &BTreeMap<(u32, u16), &Mark>, first_id: usize) -> String {
    let mut s = String::new();
    for (n, ((r, c), m)) in cells.iter().enumerate() {
        let lines: usize = m.lines.iter().take(MAX_NOTE_LINES).map(|l| l.chars().count() / 50 + 1).sum();
        let rows = lines.min(30) + 2;
        let (top, left) = (r.saturating_sub(1), u32::from(*c) + 1);
        s.push_str(&format!(
            "<v:shape id=\"_x0000_s{}\" type=\"#_x0000_t202\" style=\"position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:270pt;height:{}pt;z-index:{};visibility:hidden\" fillcolor=\"#ffffe1\" o:insetmode=\"auto\">\
             <v:fill color2=\"#ffffe1\"/><v:shadow on=\"t\" color=\"black\" obscured=\"t\"/><v:path o:connecttype=\"none\"/>\
             <v:textbox style=\"mso-direction-alt:auto\"><div style=\"text-align:left\"></div></v:textbox>\
             <x:ClientData ObjectType=\"Note\"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{left}, 15, {top}, 10, {}, 15, {}, 4</x:Anchor>\
             <x:AutoFill>False</x:AutoFill><x:Row>{r}</x:Row><x:Column>{c}</x:Column></x:ClientData></v:shape>",
            first_id + n,
            rows * 15,
            n + 1,
            left + 3,
            u64::from(top) + rows as u64,
        ));
    }
    s
}

/// How fettle's note is set apart from the council's own note on the same cell.
const MERGED_MARK: &str = "--- fettle ---";

/// The council's own comments part with fettle's notes joined: a cell that has a note of its own
/// keeps it, word for word, with fettle's lines after it under [`MERGED_MARK`] (in runs of their
/// own; a note that is one plain text becomes one run of the same text); other flagged cells get a
/// note by the author `fettle`, added to the authors.
fn merge_comments(xml: &[u8], cells: &BTreeMap<(u32, u16), &Mark>) -> Result<Vec<u8>, String> {
    let mut out: Vec<u8> = Vec::with_capacity(xml.len() + 4096);
    let mut reader = Reader::from_reader(xml);
    let mut buf = vec![];
    let (mut authors, mut fettle_author, mut prefix) = (0usize, None::<usize>, String::new());
    let mut noted: BTreeSet<(u32, u16)> = BTreeSet::new();
    // The flagged cell whose comment is being read, and whether fettle's lines were written in it.
    let mut current: Option<((u32, u16), bool)> = None;
    let (mut depth, mut text_depth) = (0usize, None::<usize>);
    let run = |p: &str, text: &str, bold: bool| {
        let b = if bold { format!("<{p}rPr><{p}b/></{p}rPr>") } else { String::new() };
        format!("<{p}r>{b}<{p}t xml:space=\"preserve\">{}</{p}t></{p}r>", esc(text))
    };
    let fettle_runs = |p: &str, m: &Mark| run(p, &format!("\n\n{MERGED_MARK}\n"), true) + &run(p, &note_text(&m.lines), false);
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
        let p = prefix.clone();
        // Written before and after the event itself.
        let (mut before, mut after) = (String::new(), String::new());
        let mut skip = false;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                match e.local_name().into_inner() {
                    "comments" => prefix = prefix_of(e),
                    "authors" if empty => {
                        // `<authors/>`: a list of one, fettle.
                        before = format!("<{p}authors><{p}author>fettle</{p}author></{p}authors>");
                        fettle_author = Some(0);
                        skip = true;
                    }
                    "author" => authors += 1,
                    "comment" => {
                        current =
                            attr(e, "ref").and_then(|a| parse_cell(&a)).filter(|k| cells.contains_key(k)).map(|k| (k, false));
                    }
                    "text" if empty => {
                        if let Some((k, done)) = current.as_mut()
                            && let Some(m) = cells.get(k)
                        {
                            before = format!("<{p}text>{}</{p}text>", fettle_runs(&p, m));
                            *done = true;
                            noted.insert(*k);
                            skip = true;
                        }
                    }
                    "text" if current.is_some() => text_depth = Some(depth),
                    // A note that is one plain text: the same text as a run, so fettle's runs
                    // can follow it.
                    "t" if text_depth.is_some_and(|d| d + 1 == depth) => {
                        before = format!("<{p}r>");
                        if empty {
                            after = format!("</{p}r>");
                        }
                    }
                    // Phonetic parts come after the runs.
                    "rPh" | "phoneticPr" if text_depth.is_some_and(|d| d + 1 == depth) => {
                        if let Some((k, done @ false)) = current.as_mut()
                            && let Some(m) = cells.get(k)
                        {
                            before = fettle_runs(&p, m);
                            *done = true;
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().into_inner() {
                    "authors" => {
                        before = format!("<{p}author>fettle</{p}author>");
                        fettle_author = Some(authors);
                    }
                    "t" if text_depth.is_some_and(|d| d + 1 == depth) => after = format!("</{p}r>"),
                    "text" if text_depth == Some(depth) => {
                        text_depth = None;
                        if let Some((k, done)) = current.as_mut() {
                            if !*done && let Some(m) = cells.get(k) {
                                before = fettle_runs(&p, m);
                                *done = true;
                            }
                            noted.insert(*k);
                        }
                    }
                    "comment" => (current, text_depth) = (None, None),
                    "commentList" => {
                        let id = fettle_author.unwrap_or(0);
                        for ((r, c), m) in cells.iter().filter(|(k, _)| !noted.contains(k)) {
                            before.push_str(&format!(
                                "<{p}comment ref=\"{}\" authorId=\"{id}\"><{p}text><{p}t xml:space=\"preserve\">{}</{p}t></{p}text></{p}comment>",
                                cell_ref(*r, *c),
                                esc(&note_text(&m.lines))
                            ));
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        out.extend_from_slice(before.as_bytes());
        if !skip {
            put(&mut out, &ev)?;
        }
        out.extend_from_slice(after.as_bytes());
        buf.clear();
    }
    if fettle_author.is_none() {
        return Err("has no list of authors".into());
    }
    Ok(out)
}

/// The council's own VML drawing with the shapes of fettle's new notes (cells that had no note)
/// added before its end. VML is not always well-formed XML, so it is edited as bytes: the new
/// shapes are numbered after the highest shape id it has, and the note shape type is added when
/// it lacks it.
fn merge_vml(xml: &[u8], cells: &BTreeMap<(u32, u16), &Mark>) -> Vec<u8> {
    let text = String::from_utf8_lossy(xml);
    let mut have: BTreeSet<(u32, u16)> = BTreeSet::new();
    for (row, rest) in text.split("<x:Row>").skip(1).filter_map(|s| s.split_once("</x:Row>")) {
        let col = rest.split("<x:Column>").nth(1).and_then(|s| s.split_once("</x:Column>")).map(|(c, _)| c);
        if let (Ok(r), Some(Ok(c))) = (row.trim().parse::<u32>(), col.map(|c| c.trim().parse::<u16>())) {
            have.insert((r, c));
        }
    }
    let new: BTreeMap<(u32, u16), &Mark> = cells.iter().filter(|(k, _)| !have.contains(k)).map(|(k, m)| (*k, *m)).collect();
    let max_id = text
        .split("_x0000_s")
        .skip(1)
        .filter_map(|s| s.split(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse::<usize>().ok()))
        .max()
        .unwrap_or(1024);
    let mut add = String::new();
    if !text.contains("id=\"_x0000_t202\"") {
        add.push_str(
            "<v:shapetype id=\"_x0000_t202\" coordsize=\"21600,21600\" o:spt=\"202\" path=\"m,l,21600r21600,l21600,xe\">\
             <v:stroke joinstyle=\"miter\"/><v:path gradientshapeok=\"t\" o:connecttype=\"rect\"/></v:shapetype>",
        );
    }
    add.push_str(&vml_shapes(&new, max_id + 1));
    // The bytes as they are (the drawing need not be UTF-8), the shapes before its end.
    let end = xml.windows(6).rposition(|w| w == b"</xml>").unwrap_or(xml.len());
    let (head, tail) = xml.split_at(end);
    [head, add.as_bytes(), tail].concat()
}

/// A relationships part with `new` relationships (id, type, target) added.
fn add_rels(xml: Option<&[u8]>, new: &[(&str, &str, String)]) -> Result<Vec<u8>, String> {
    let mut add = String::new();
    for (id, typ, target) in new {
        add.push_str(&format!("<Relationship Id=\"{}\" Type=\"{typ}\" Target=\"{}\"/>", esc(id), esc(target)));
    }
    let Some(xml) = xml else {
        return Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"{PKG_REL_NS}\">{add}</Relationships>"
        )
        .into_bytes());
    };
    append_to_root(xml, &add).map_err(|e| format!("a relationships part {e}"))
}

/// `xml` with `add` written just inside the end of its root element.
fn append_to_root(xml: &[u8], add: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(xml.len() + add.len());
    let mut reader = Reader::from_reader(xml);
    let mut buf = vec![];
    let mut depth = 0usize;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
        match &ev {
            Event::Start(_) => depth += 1,
            Event::Empty(e) if depth == 0 => {
                put_around(&mut out, e, add.as_bytes())?;
                buf.clear();
                continue;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.extend_from_slice(add.as_bytes());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        put(&mut out, &ev)?;
        buf.clear();
    }
    Ok(out)
}

/// `[Content_Types].xml` with the new parts' types (and VML's, when it has none).
fn add_content_types(xml: &[u8], overrides: &[(String, &str)], vml: bool) -> Result<Vec<u8>, String> {
    let mut has_vml = false;
    each_element(xml, |e| {
        if e.local_name().into_inner() == "Default" {
            has_vml |= attr(e, "Extension").is_some_and(|x| x.eq_ignore_ascii_case("vml"));
        }
    });
    let mut add = String::new();
    if vml && !has_vml {
        add.push_str(&format!("<Default Extension=\"vml\" ContentType=\"{CT_VML}\"/>"));
    }
    for (part, typ) in overrides {
        add.push_str(&format!("<Override PartName=\"{}\" ContentType=\"{typ}\"/>", esc(part)));
    }
    append_to_root(xml, &add).map_err(|e| format!("its content types {e}"))
}

/// `workbook.xml` with the findings sheet added at the end (as sheet index `index`), and its
/// filter range named as Excel names an autofilter's.
fn add_sheet(xml: &[u8], name: &str, rid: &str, index: usize, filter: Option<&str>) -> Result<Vec<u8>, String> {
    let mut max_id = 0u64;
    each_element(xml, |e| {
        if e.local_name().into_inner() == "sheet" {
            max_id = max_id.max(attr(e, "sheetId").and_then(|s| s.parse().ok()).unwrap_or(0));
        }
    });
    let mut out = Vec::with_capacity(xml.len() + 512);
    let mut reader = Reader::from_reader(xml);
    let mut buf = vec![];
    let mut depth = 0usize;
    let mut prefix = String::new();
    let mut named = filter.is_none();
    let defined = |p: &str| {
        filter.map_or(String::new(), |f| {
            format!(
                "<{p}definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{index}\" hidden=\"1\">{}</{p}definedName>",
                esc(f)
            )
        })
    };
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                if depth == 0 {
                    prefix = prefix_of(e);
                }
                let local = e.local_name();
                if depth == 1 && !named && AFTER_DEFINED_NAMES.contains(&local.into_inner()) {
                    out.extend_from_slice(
                        format!("<{prefix}definedNames>{}</{prefix}definedNames>", defined(&prefix)).as_bytes(),
                    );
                    named = true;
                }
                if depth == 1
                    && matches!(ev, Event::Empty(_))
                    && (local.into_inner() == "sheets" || local.into_inner() == "definedNames")
                {
                    // An empty list: opened and closed around what is added.
                    let inner = if local.into_inner() == "sheets" {
                        sheet_entry(&prefix, name, max_id + 1, rid)
                    } else {
                        named = true;
                        defined(&prefix)
                    };
                    put_around(&mut out, e, inner.as_bytes())?;
                    buf.clear();
                    continue;
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let local = e.local_name();
                if depth == 1 && local.into_inner() == "sheets" {
                    out.extend_from_slice(sheet_entry(&prefix, name, max_id + 1, rid).as_bytes());
                } else if depth == 1 && local.into_inner() == "definedNames" && !named {
                    out.extend_from_slice(defined(&prefix).as_bytes());
                    named = true;
                } else if depth == 0 && !named {
                    out.extend_from_slice(
                        format!("<{prefix}definedNames>{}</{prefix}definedNames>", defined(&prefix)).as_bytes(),
                    );
                    named = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        put(&mut out, &ev)?;
        buf.clear();
    }
    Ok(out)
}

fn sheet_entry(prefix: &str, name: &str, id: u64, rid: &str) -> String {
    format!("<{prefix}sheet xmlns:r=\"{REL_NS}\" name=\"{}\" sheetId=\"{id}\" r:id=\"{}\"/>", esc(name), esc(rid))
}

/// The styles part of a package that has none.
const MINIMAL_STYLES: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><fonts count=\"1\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>\
<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>\
<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>\
<cellXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/></cellXfs>\
<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles></styleSheet>";

/// One cell format (`<xf>` of `cellXfs`): its attributes (raw) and its children (raw XML).
#[derive(Clone, Default)]
struct Xf {
    attrs: Vec<(String, String)>,
    children: Vec<u8>,
}

/// The workbook's cell formats and the ones the copy adds: a highlighted copy of a cell's own
/// format per (format, severity), and a bold one for the findings sheet's header.
struct StyleBook {
    fonts: usize,
    fills: usize,
    borders: usize,
    xfs: Vec<Xf>,
    added: Vec<Xf>,
    by_source: BTreeMap<(usize, usize), usize>,
    bold: Option<usize>,
}

/// The style collections the copy adds to.
const COLLECTIONS: [&str; 4] = ["fonts", "fills", "borders", "cellXfs"];

impl StyleBook {
    fn read(xml: &[u8]) -> Result<StyleBook, String> {
        let mut counts = [None::<usize>; 4];
        let mut xfs = vec![];
        let mut reader = Reader::from_reader(xml);
        let mut buf = vec![];
        let mut stack: Vec<String> = vec![];
        let mut current: Option<(Xf, Vec<u8>)> = None;
        loop {
            let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
            let in_xfs = stack.len() == 2 && stack.get(1).is_some_and(|n| n == "cellXfs");
            if let Some((_, children)) = current.as_mut()
                && stack.len() >= 3
                && !matches!(ev, Event::End(_) if stack.len() == 3)
            {
                put(children, &ev)?;
            }
            match &ev {
                Event::Start(e) | Event::Empty(e) => {
                    let local = e.local_name().into_inner().to_string();
                    if stack.len() == 1
                        && let Some(i) = COLLECTIONS.iter().position(|c| *c == local.as_str())
                        && let Some(slot) = counts.get_mut(i)
                    {
                        *slot = Some(0);
                    }
                    if stack.len() == 2
                        && let Some(i) = stack.get(1).and_then(|p| COLLECTIONS.iter().position(|c| *c == p.as_str()))
                        && let Some(Some(n)) = counts.get_mut(i)
                    {
                        *n += 1;
                    }
                    if in_xfs && local == "xf" {
                        let attrs =
                            e.attributes().flatten().map(|a| (a.key.into_inner().to_string(), a.value.to_string())).collect();
                        let xf = Xf { attrs, children: vec![] };
                        if matches!(ev, Event::Empty(_)) {
                            xfs.push(xf);
                        } else {
                            current = Some((xf, vec![]));
                        }
                    }
                    if matches!(ev, Event::Start(_)) {
                        stack.push(local);
                    }
                }
                Event::End(_) => {
                    if stack.len() == 3
                        && let Some((mut xf, children)) = current.take()
                    {
                        xf.children = children;
                        xfs.push(xf);
                    }
                    stack.pop();
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        let [Some(fonts), Some(fills), Some(borders), Some(_)] = counts else {
            return Err("lacks one of <fonts>, <fills>, <borders> and <cellXfs>".to_string());
        };
        Ok(StyleBook { fonts, fills, borders, xfs, added: vec![], by_source: BTreeMap::new(), bold: None })
    }

    /// The index of cell format `source` highlighted for `severity`.
    fn highlight(&mut self, source: usize, severity: Severity) -> usize {
        let slot = severity_slot(severity);
        if let Some(i) = self.by_source.get(&(source, slot)) {
            return *i;
        }
        let base = self.xfs.get(source).or_else(|| self.xfs.first()).cloned().unwrap_or_else(|| Xf {
            attrs: ["numFmtId", "fontId", "fillId", "borderId", "xfId"]
                .iter()
                .map(|k| (k.to_string(), "0".to_string()))
                .collect(),
            children: vec![],
        });
        let xf = with_attrs(
            base,
            &[
                ("fillId", (self.fills + slot).to_string()),
                ("borderId", (self.borders + slot).to_string()),
                ("applyFill", "1".to_string()),
                ("applyBorder", "1".to_string()),
            ],
        );
        let i = self.xfs.len() + self.added.len();
        self.added.push(xf);
        self.by_source.insert((source, slot), i);
        i
    }

    /// The index of the bold cell format of the findings sheet's header.
    fn bold(&mut self) -> usize {
        if let Some(i) = self.bold {
            return i;
        }
        let base = Xf {
            attrs: ["numFmtId", "fontId", "fillId", "borderId", "xfId"]
                .iter()
                .map(|k| (k.to_string(), "0".to_string()))
                .collect(),
            children: vec![],
        };
        let xf = with_attrs(base, &[("fontId", self.fonts.to_string()), ("applyFont", "1".to_string())]);
        let i = self.xfs.len() + self.added.len();
        self.added.push(xf);
        self.bold = Some(i);
        i
    }

    /// The styles part with the added fonts, fills, borders and cell formats appended.
    fn write(&self, xml: &[u8]) -> Result<Vec<u8>, String> {
        let font = "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>".to_string();
        let fills: String = SEVERITIES
            .iter()
            .map(|s| {
                format!(
                    "<fill><patternFill patternType=\"solid\"><fgColor rgb=\"FF{:06X}\"/><bgColor indexed=\"64\"/></patternFill></fill>",
                    colours(*s).0
                )
            })
            .collect();
        let borders: String = SEVERITIES
            .iter()
            .map(|s| {
                let side = |n: &str| format!("<{n} style=\"medium\"><color rgb=\"FF{:06X}\"/></{n}>", colours(*s).1);
                format!("<border>{}{}{}{}<diagonal/></border>", side("left"), side("right"), side("top"), side("bottom"))
            })
            .collect();
        let xfs: String = self.added.iter().map(xf_xml).collect();
        let adds = [(font, 1usize), (fills, 3), (borders, 3), (xfs, self.added.len())];
        let counts = [self.fonts, self.fills, self.borders, self.xfs.len()];

        let mut out = Vec::with_capacity(xml.len() + 4096);
        let mut reader = Reader::from_reader(xml);
        let mut buf = vec![];
        let mut depth = 0usize;
        loop {
            let ev = reader.read_event_into(&mut buf).map_err(xml_err)?;
            let which = |local: &str| COLLECTIONS.iter().position(|c| *c == local);
            match &ev {
                Event::Start(e) | Event::Empty(e) if depth == 1 && which(e.local_name().into_inner()).is_some() => {
                    let i = which(e.local_name().into_inner()).unwrap_or(0);
                    let (Some((add, n)), Some(count)) = (adds.get(i), counts.get(i)) else { continue };
                    let mut start = BytesStart::new(e.name().into_inner().to_string());
                    for a in e.attributes().flatten() {
                        if a.key.into_inner() != "count" {
                            start.push_attribute(a);
                        }
                    }
                    start.push_attribute(Attribute::from(("count", (count + n).to_string().as_str())));
                    if matches!(ev, Event::Empty(_)) {
                        put_around(&mut out, &start, add.as_bytes())?;
                    } else {
                        put(&mut out, &Event::Start(start.borrow()))?;
                        depth += 1;
                    }
                    buf.clear();
                    continue;
                }
                Event::Start(_) => depth += 1,
                Event::End(e) => {
                    depth = depth.saturating_sub(1);
                    if depth == 1
                        && let Some((add, _)) = which(e.local_name().into_inner()).and_then(|i| adds.get(i))
                    {
                        out.extend_from_slice(add.as_bytes());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            put(&mut out, &ev)?;
            buf.clear();
        }
        Ok(out)
    }
}

/// A cell format with some attributes set.
fn with_attrs(mut xf: Xf, set: &[(&str, String)]) -> Xf {
    for (k, v) in set {
        match xf.attrs.iter_mut().find(|(a, _)| a == k) {
            Some(slot) => slot.1 = v.clone(),
            None => xf.attrs.push((k.to_string(), v.clone())),
        }
    }
    xf
}

fn xf_xml(xf: &Xf) -> String {
    let attrs: String = xf.attrs.iter().map(|(k, v)| format!(" {k}=\"{v}\"")).collect();
    if xf.children.is_empty() {
        format!("<xf{attrs}/>")
    } else {
        format!("<xf{attrs}>{}</xf>", String::from_utf8_lossy(&xf.children))
    }
}

/// The `fettle findings` sheet: findings that are about no cell of the workbook.
fn findings_sheet(list: &[&Finding], bold: usize) -> String {
    let cols: [(&str, f64); 9] = [
        ("Rule", 14.0),
        ("Severity", 10.0),
        ("Message", 70.0),
        ("Child", 14.0),
        ("Table", 16.0),
        ("Location", 24.0),
        ("Values", 50.0),
        ("Related rows", 40.0),
        ("Explanation", 40.0),
    ];
    let cell = |r: u32, c: u16, text: &str, style: Option<usize>| -> String {
        let s = style.map(|s| format!(" s=\"{s}\"")).unwrap_or_default();
        format!("<c r=\"{}\" t=\"inlineStr\"{s}><is><t xml:space=\"preserve\">{}</t></is></c>", cell_ref(r, c), esc(text))
    };
    let mut rows =
        format!("<row r=\"1\">{}</row>", cell(0, 0, "Findings that are not noted on a cell of this workbook", Some(bold)));
    let head: String = cols.iter().enumerate().map(|(c, (h, _))| cell(2, u16::try_from(c).unwrap_or(0), h, Some(bold))).collect();
    rows.push_str(&format!("<row r=\"3\">{head}</row>"));
    if list.is_empty() {
        rows.push_str(&format!("<row r=\"4\">{}</row>", cell(3, 0, "(none: every finding is noted on its cell)", None)));
    }
    for (i, f) in list.iter().enumerate() {
        let r = 3 + u32::try_from(i).unwrap_or(u32::MAX - 3);
        let texts = [
            f.code.to_string(),
            f.severity.as_str().to_string(),
            f.message_with_also(),
            f.child.clone().unwrap_or_default(),
            f.table.clone().unwrap_or_default(),
            super::place_text(f),
            super::xlsx::values_text(f),
            super::xlsx::related_text(f),
            f.explained.clone().unwrap_or_default(),
        ];
        let cells: String = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.is_empty())
            .map(|(c, t)| cell(r, u16::try_from(c).unwrap_or(0), t, None))
            .collect();
        rows.push_str(&format!("<row r=\"{}\">{cells}</row>", u64::from(r) + 1));
    }
    let widths: String = cols
        .iter()
        .enumerate()
        .map(|(c, (_, w))| format!("<col min=\"{n}\" max=\"{n}\" width=\"{w}\" customWidth=\"1\"/>", n = c + 1))
        .collect();
    let filter = if list.is_empty() { String::new() } else { format!("<autoFilter ref=\"A3:I{}\"/>", 3 + list.len()) };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{MAIN_NS}\" xmlns:r=\"{REL_NS}\">\
         <sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"3\" topLeftCell=\"A4\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>\
         <sheetFormatPr defaultRowHeight=\"15\"/><cols>{widths}</cols><sheetData>{rows}</sheetData>{filter}\
         <pageMargins left=\"0.7\" right=\"0.7\" top=\"0.75\" bottom=\"0.75\" header=\"0.3\" footer=\"0.3\"/></worksheet>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unwrap_used)]
    fn cell_at(sheet: &str, cell: &str) -> Location {
        Location::cell(sheet, cell).unwrap()
    }

    fn finding(code: &str, cell: &str) -> Finding {
        Finding {
            code: crate::eval::Code::parse(code),
            severity: Severity::Error,
            message: "m".into(),
            quotes: vec![],
            file: "fgc.xlsx".into(),
            table: None,
            fields: vec![],
            row: None,
            location: Some(cell_at("Referrals", cell)),
            location_file: None,
            in_this_return: None,
            child: None,
            record: None,
            merged: vec![],
            values: vec![],
            related: vec![],
            fix: None,
            rule: None,
            explained: None,
            table_order: 0,
        }
    }

    /// A workbook held in memory is annotated as the same workbook on disk, and what is not a
    /// workbook is refused with its name.
    #[test]
    fn bytes_annotated_as_the_file() {
        #![allow(clippy::unwrap_used)]
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/fgc/fgc-2024-25.xlsx");
        let f = finding("X1", "B3");
        let from_file = annotate(&src, &[&f]).unwrap();
        let from_bytes = annotate_bytes(&std::fs::read(&src).unwrap(), "fgc.xlsx", &[&f]).unwrap();
        assert!(from_bytes.starts_with(b"PK"));
        assert_eq!(from_file, from_bytes);
        assert!(annotate_bytes(b"not a workbook", "x.xlsx", &[]).unwrap_err().contains("`x.xlsx`"));
    }

    /// The parts fettle does not edit are copied byte for byte.
    #[test]
    fn untouched_parts_are_copied_as_they_are() {
        #![allow(clippy::unwrap_used)]
        let src =
            std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/fgc/fgc-2024-25.xlsx")).unwrap();
        let out = annotate_bytes(&src, "fgc.xlsx", &[&finding("X1", "B3")]).unwrap();
        let (mut a, mut b) = (ZipArchive::new(Cursor::new(&src[..])).unwrap(), ZipArchive::new(Cursor::new(&out[..])).unwrap());
        for name in ["xl/sharedStrings.xml", "xl/theme/theme1.xml", "xl/worksheets/sheet1.xml", "docProps/app.xml"] {
            let (mut x, mut y) = (vec![], vec![]);
            a.by_name(name).unwrap().read_to_end(&mut x).unwrap();
            b.by_name(name).unwrap().read_to_end(&mut y).unwrap();
            assert_eq!(x, y, "{name}");
        }
    }

    /// fettle's lines join a council's note however it is written (one plain text, runs, with a
    /// phonetic part after them, empty), and a flagged cell without a note gets fettle's own.
    #[test]
    fn notes_join_the_councils_own() {
        #![allow(clippy::unwrap_used)]
        let m = Mark { severity: Some(Severity::Error), lines: vec!["X1: m".into()], own: 1, findings: BTreeSet::new() };
        let cells: BTreeMap<(u32, u16), &Mark> = [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)].into_iter().map(|k| (k, &m)).collect();
        let xml = format!(
            "<comments xmlns=\"{MAIN_NS}\"><authors><author>Council</author></authors><commentList>\
             <comment ref=\"A1\" authorId=\"0\"><text><t>plain &amp; simple</t></text></comment>\
             <comment ref=\"B1\" authorId=\"0\"><text><r><t>run</t></r><rPh sb=\"0\" eb=\"1\"><t>r</t></rPh></text></comment>\
             <comment ref=\"C1\" authorId=\"0\"><text/></comment>\
             <comment ref=\"Z9\" authorId=\"0\"><text><t>not flagged</t></text></comment>\
             <comment ref=\"D1\" authorId=\"0\"><text><t/></text></comment></commentList></comments>"
        );
        let out = String::from_utf8(merge_comments(xml.as_bytes(), &cells).unwrap()).unwrap();
        let fettle =
            "<r><rPr><b/></rPr><t xml:space=\"preserve\">\n\n--- fettle ---\n</t></r><r><t xml:space=\"preserve\">X1: m</t></r>";
        assert!(out.contains("<authors><author>Council</author><author>fettle</author></authors>"), "{out}");
        assert!(out.contains(&format!("<text><r><t>plain &amp; simple</t></r>{fettle}</text>")), "{out}");
        assert!(out.contains(&format!("<text><r><t>run</t></r>{fettle}<rPh sb=\"0\" eb=\"1\"><t>r</t></rPh></text>")), "{out}");
        assert!(out.contains(&format!("<comment ref=\"C1\" authorId=\"0\"><text>{fettle}</text></comment>")), "{out}");
        assert!(out.contains(&format!("<text><r><t/></r>{fettle}</text>")), "{out}");
        assert!(out.contains("<comment ref=\"Z9\" authorId=\"0\"><text><t>not flagged</t></text></comment>"), "{out}");
        assert!(
            out.ends_with("<comment ref=\"E1\" authorId=\"1\"><text><t xml:space=\"preserve\">X1: m</t></text></comment></commentList></comments>"),
            "{out}"
        );
        assert_eq!(out.matches("<comment ").count(), 6, "{out}");
        let no_authors = xml.replace("<authors><author>Council</author></authors>", "<authors/>");
        let out = String::from_utf8(merge_comments(no_authors.as_bytes(), &cells).unwrap()).unwrap();
        assert!(out.contains("<authors><author>fettle</author></authors>"), "{out}");
        assert!(merge_comments(b"<comments><commentList/></comments>", &cells).is_err(), "no list of authors");
    }

    /// New notes' shapes are added to the council's drawing, numbered after its own, its bytes
    /// otherwise kept (even when they are not UTF-8).
    #[test]
    fn shapes_join_the_councils_drawing() {
        #![allow(clippy::indexing_slicing)]
        let m = Mark { severity: Some(Severity::Error), lines: vec!["X1: m".into()], own: 1, findings: BTreeSet::new() };
        let cells: BTreeMap<(u32, u16), &Mark> = [((0, 0), &m), ((4, 2), &m)].into_iter().collect();
        let mut vml = b"<xml><v:shape id=\"_x0000_s1030\" type=\"#_x0000_t202\"><x:ClientData ObjectType=\"Note\"><x:Row>0</x:Row><x:Column>0</x:Column></x:ClientData></v:shape>\xa3<br></xml>".to_vec();
        let out = merge_vml(&vml, &cells);
        let end = vml.len() - "</xml>".len();
        assert!(out.starts_with(&vml[..end]) && out.ends_with(b"</xml>"));
        let text = String::from_utf8_lossy(&out);
        assert_eq!(text.matches("<v:shape ").count(), 2, "one shape added, for E5: {text}");
        assert!(text.contains("_x0000_s1031") && text.contains("<x:Row>4</x:Row><x:Column>2</x:Column>"), "{text}");
        assert!(text.contains("<v:shapetype id=\"_x0000_t202\""), "the note shape type is added: {text}");
        vml.truncate(end);
        assert!(merge_vml(&vml, &cells).starts_with(&vml), "a drawing without its end is kept too");
    }

    #[test]
    fn cells_parse_and_print() {
        assert_eq!(parse_cell("A1"), Some((0, 0)));
        assert_eq!(parse_cell("B12"), Some((11, 1)));
        assert_eq!(parse_cell("$AA$3"), Some((2, 26)));
        assert_eq!(parse_cell("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_cell("XFE1"), None);
        assert_eq!(parse_cell("A0"), None);
        assert_eq!(parse_cell("12"), None);
        assert_eq!(parse_cell("B"), None);
        assert_eq!(parse_cell("B2:C3"), None);
        for (r, c) in [(0, 0), (11, 1), (2, 26), (1_048_575, 16_383), (5, 701), (5, 702)] {
            assert_eq!(parse_cell(&cell_ref(r, c)), Some((r, c)));
        }
        assert_eq!(cell_ref(0, 27), "AB1");
    }

    #[test]
    fn targets_resolve() {
        assert_eq!(resolve("xl", "worksheets/sheet1.xml"), "xl/worksheets/sheet1.xml");
        assert_eq!(resolve("xl/worksheets", "../drawings/d.vml"), "xl/drawings/d.vml");
        assert_eq!(resolve("xl", "/xl/styles.xml"), "xl/styles.xml");
        assert_eq!(rels_of("xl/worksheets/sheet2.xml"), "xl/worksheets/_rels/sheet2.xml.rels");
    }
}
