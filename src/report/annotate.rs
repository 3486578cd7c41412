//! The annotated copy of a council's workbook (`--annotate FILE`): every sheet with the same name,
//! cell values at the same positions, and every cell a finding names highlighted (errors red,
//! queries amber, info blue) with a note giving `code: message` for each finding on it.
//!
//! The cells highlighted are each finding's own cell (`Location::Cell`), the cells of its values and
//! the cells of its related rows' values. Findings that are not about one cell of the workbook
//! (whole-return and group findings, or cells on sheets the workbook does not have) are listed on
//! an extra `fettle findings` sheet.
//!
//! The workbook is read with calamine and written anew with rust_xlsxwriter; the input file is only
//! ever read. What is copied: sheet names, order and visibility; values (text, numbers, booleans;
//! dates and times as Excel dates with their number format, or `yyyy-mm-dd` when they have none);
//! each cell's number format, bold, italic, wrap and solid fill colour. What is not: formulas are
//! copied as their cached values (the last values Excel computed), error values as their text
//! (`#N/A`), and column widths, merged cells, data validation, charts, images and macros are not
//! copied (column widths are fitted to the content instead). Sheets that are not worksheets (chart
//! sheets) are copied as empty sheets of the same name.

use crate::eval::{Finding, Location};
use crate::syntax::ast::Severity;
use calamine::{Data, Reader, SheetType, SheetVisible, Xlsx};
use rust_xlsxwriter::{Color, Format, FormatBorder, FormatPattern, Note, Workbook, Worksheet, XlsxError};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};
use std::path::Path;

/// At most this many findings are written in full in one cell's note.
const MAX_NOTE_LINES: usize = 20;

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Days between the 1900 and the 1904 date systems.
const EPOCH_1904: f64 = 1462.0;

/// What is written on one flagged cell: the highest severity and the notes' lines.
#[derive(Default)]
struct Mark {
    severity: Option<Severity>,
    lines: Vec<String>,
}

/// How one cell looks: the parts of the source's style that are copied, and its highlight.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
struct Look {
    num_format: String,
    bold: bool,
    italic: bool,
    wrap: bool,
    fill: Option<u32>,
    mark: Option<Severity>,
}

impl Look {
    fn format(&self) -> Format {
        let mut f = Format::new();
        if !self.num_format.is_empty() {
            f = f.set_num_format(&self.num_format);
        }
        if self.bold {
            f = f.set_bold();
        }
        if self.italic {
            f = f.set_italic();
        }
        if self.wrap {
            f = f.set_text_wrap();
        }
        let (fill, border) = match self.mark {
            Some(Severity::Error) => (Some(0xF4_A6_A0), Some(0xB1_0E_1E)),
            Some(Severity::Query) => (Some(0xFF_D0_80), Some(0xB2_5E_00)),
            Some(Severity::Info) => (Some(0xA6_C8_EA), Some(0x1D_70_B8)),
            None => (self.fill, None),
        };
        if let Some(c) = fill {
            f = f.set_background_color(Color::RGB(c)).set_pattern(FormatPattern::Solid);
        }
        if let Some(c) = border {
            f = f.set_border(FormatBorder::Medium).set_border_color(Color::RGB(c));
        }
        f
    }
}

/// `B12` or `$B$12` as a 0-based (row, column).
fn parse_cell(cell: &str) -> Option<(u32, u16)> {
    let cell = cell.replace('$', "");
    let letters: String = cell.chars().take_while(char::is_ascii_alphabetic).collect();
    let digits = cell.get(letters.len()..)?;
    if letters.is_empty() || letters.len() > 3 || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut col: u32 = 0;
    for c in letters.chars() {
        col = col * 26 + (c.to_ascii_uppercase() as u32 - 'A' as u32 + 1);
    }
    let row: u32 = digits.parse().ok()?;
    if row == 0 || col == 0 || row > 1_048_576 || col > 16_384 {
        return None;
    }
    Some((row - 1, u16::try_from(col - 1).ok()?))
}

/// The index of a sheet by name: exact, else ignoring case.
fn sheet_index(names: &[String], sheet: &str) -> Option<usize> {
    names.iter().position(|n| n == sheet).or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(sheet)))
}

/// Text cut to what one Excel cell holds.
fn cell_text(s: &str) -> String {
    if s.chars().count() <= MAX_CELL_CHARS { s.to_string() } else { s.chars().take(MAX_CELL_CHARS).collect() }
}

/// A copy of the workbook at `src` with the findings' cells highlighted.
pub fn annotate(src: &Path, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let shown = src.display().to_string();
    let book: Xlsx<_> = calamine::open_workbook(src).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    annotate_book(book, &shown, findings)
}

/// [`annotate`] of a workbook held in memory; `name` names it in messages.
pub fn annotate_bytes(bytes: &[u8], name: &str, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let book = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| format!("cannot read `{name}`: {e}"))?;
    annotate_book(book, name, findings)
}

/// The annotated copy of an opened workbook.
fn annotate_book<RS: Read + Seek>(mut book: Xlsx<RS>, shown: &str, findings: &[&Finding]) -> Result<Vec<u8>, String> {
    let sheets = book.sheets_metadata().to_vec();
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    let is_1904 = book.has_1904_epoch();

    // Which cells are flagged, and which findings are about no cell of this workbook.
    let mut marks: BTreeMap<(usize, u32, u16), Mark> = BTreeMap::new();
    let mut unplaced: Vec<&Finding> = vec![];
    for f in findings {
        let line = format!("{}: {}", f.code, f.message);
        let mut mark = |loc: Option<&Location>| -> bool {
            let Some(Location::Cell { sheet, cell }) = loc else { return false };
            let (Some(s), Some((r, c))) = (sheet_index(&names, sheet), parse_cell(cell)) else { return false };
            let m = marks.entry((s, r, c)).or_default();
            m.severity = Some(m.severity.map_or(f.severity, |x| x.max(f.severity)));
            if !m.lines.contains(&line) {
                m.lines.push(line.clone());
            }
            true
        };
        let placed = mark(f.location.as_ref());
        for v in &f.values {
            mark(v.location.as_ref());
        }
        for r in &f.related {
            mark(r.location.as_ref());
            for v in &r.values {
                mark(v.location.as_ref());
            }
        }
        if !placed {
            unplaced.push(f);
        }
    }

    let write = |e: XlsxError| format!("cannot write the annotated copy of `{shown}`: {e}");
    let mut wb = Workbook::new();
    let mut formats: BTreeMap<Look, Format> = BTreeMap::new();
    let mut taken: BTreeSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    let first_visible = sheets.iter().position(|s| s.visible == SheetVisible::Visible);
    for (i, meta) in sheets.iter().enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(&meta.name).map_err(write)?;
        if meta.visible != SheetVisible::Visible && first_visible.is_some() {
            ws.set_hidden(true);
        }
        if Some(i) == first_visible {
            ws.set_active(true);
        }
        if meta.typ != SheetType::WorkSheet {
            continue;
        }
        let range =
            book.worksheet_range(&meta.name).map_err(|e| format!("cannot read sheet `{}` of `{shown}`: {e}", meta.name))?;
        let styles = book.worksheet_style(&meta.name).ok();
        let (top, left) = range.start().unwrap_or((0, 0));
        let mut written: BTreeSet<(u32, u16)> = BTreeSet::new();
        for (r, c, v) in range.used_cells() {
            let (Ok(r), Ok(c)) = (u32::try_from(r), u32::try_from(c)) else { continue };
            let Ok(col) = u16::try_from(left + c) else { continue };
            let row = top + r;
            let mut look = source_look(styles.as_ref(), row, left + c);
            look.mark = marks.get(&(i, row, col)).and_then(|m| m.severity);
            write_value(ws, row, col, v, &mut look, is_1904, &mut formats).map_err(write)?;
            written.insert((row, col));
        }
        for ((_, row, col), m) in marks.range((i, 0, 0)..=(i, u32::MAX, u16::MAX)) {
            if !written.contains(&(*row, *col)) {
                let mut look = source_look(styles.as_ref(), *row, u32::from(*col));
                look.mark = m.severity;
                let f = formats.entry(look.clone()).or_insert_with(|| look.format());
                ws.write_blank(*row, *col, f).map_err(write)?;
            }
            ws.insert_note(*row, *col, &note(&m.lines)).map_err(write)?;
        }
        ws.autofit_to_max_width(400);
    }

    let name = super::xlsx::sheet_name("fettle findings", &mut taken);
    let ws = wb.add_worksheet();
    ws.set_name(&name).map_err(write)?;
    if first_visible.is_none() {
        ws.set_active(true);
    }
    findings_sheet(ws, &unplaced).map_err(write)?;
    wb.save_to_buffer().map_err(write)
}

/// The parts of a source cell's style that are copied.
fn source_look(styles: Option<&calamine::StyleRange>, row: u32, col: u32) -> Look {
    let Some(st) = styles.and_then(|s| s.get((row, col))) else { return Look::default() };
    let num_format = st
        .number_format
        .as_ref()
        .map(|n| n.format_code.clone())
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("general"))
        .unwrap_or_default();
    let fill = st
        .fill
        .as_ref()
        .filter(|f| f.pattern == calamine::FillPattern::Solid)
        .and_then(calamine::Fill::get_color)
        .map(|c| c.to_argb() & 0x00FF_FFFF);
    Look {
        num_format,
        bold: st.font.as_ref().is_some_and(calamine::Font::is_bold),
        italic: st.font.as_ref().is_some_and(calamine::Font::is_italic),
        wrap: st.alignment.as_ref().is_some_and(|a| a.wrap_text),
        fill,
        mark: None,
    }
}

/// Writes one value with its look.
fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: &Data,
    look: &mut Look,
    is_1904: bool,
    formats: &mut BTreeMap<Look, Format>,
) -> Result<(), XlsxError> {
    // Dates and times are numbers with a date format, in the 1900 date system rust_xlsxwriter writes.
    if let Data::DateTime(d) = v
        && look.num_format.is_empty()
    {
        look.num_format = if d.is_duration() {
            "[h]:mm:ss"
        } else if d.as_f64().fract() == 0.0 {
            "yyyy-mm-dd"
        } else if d.as_f64() < 1.0 {
            "hh:mm:ss"
        } else {
            "yyyy-mm-dd hh:mm:ss"
        }
        .to_string();
    }
    let f = formats.entry(look.clone()).or_insert_with(|| look.format());
    match v {
        Data::Int(n) => ws.write_number_with_format(row, col, *n as f64, f)?,
        Data::Float(n) => ws.write_number_with_format(row, col, *n, f)?,
        Data::Bool(b) => ws.write_boolean_with_format(row, col, *b, f)?,
        Data::DateTime(d) => {
            let serial = if is_1904 && !d.is_duration() { d.as_f64() + EPOCH_1904 } else { d.as_f64() };
            ws.write_number_with_format(row, col, serial, f)?
        }
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
            ws.write_string_with_format(row, col, cell_text(s), f)?
        }
        Data::Error(e) => ws.write_string_with_format(row, col, e.to_string(), f)?,
        Data::Empty => ws.write_blank(row, col, f)?,
    };
    Ok(())
}

/// A cell's note: a `code: message` line per finding.
fn note(lines: &[String]) -> Note {
    let mut text: Vec<String> = lines.iter().take(MAX_NOTE_LINES).cloned().collect();
    if lines.len() > MAX_NOTE_LINES {
        text.push(format!("... and {} more", lines.len() - MAX_NOTE_LINES));
    }
    let chars: usize = text.iter().map(|l| l.chars().count() / 50 + 1).sum();
    let height = u32::try_from(chars.min(30)).unwrap_or(30) * 15 + 30;
    Note::new(cell_text(&text.join("\n"))).set_author("fettle").add_author_prefix(false).set_width(360).set_height(height)
}

/// The `fettle findings` sheet: findings that are about no cell of the workbook.
fn findings_sheet(ws: &mut Worksheet, list: &[&Finding]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let head = Format::new().set_bold().set_border(FormatBorder::Thin);
    ws.write_string_with_format(0, 0, "Findings that are not about one cell of this workbook", &bold)?;
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
    for (c, (h, w)) in cols.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(0);
        ws.write_string_with_format(2, c, *h, &head)?;
        ws.set_column_width(c, *w)?;
    }
    if list.is_empty() {
        ws.write_string(3, 0, "(none: every finding is noted on its cell)")?;
        return Ok(());
    }
    for (i, f) in list.iter().enumerate() {
        let r = 3 + u32::try_from(i).unwrap_or(u32::MAX - 3);
        let texts = [
            f.code.clone(),
            f.severity.as_str().to_string(),
            f.message.clone(),
            f.child.clone().unwrap_or_default(),
            f.table.clone().unwrap_or_default(),
            super::xlsx::location_text(f.location.as_ref()),
            super::xlsx::values_text(f),
            super::xlsx::related_text(f),
            f.explained.clone().unwrap_or_default(),
        ];
        for (c, t) in texts.iter().enumerate() {
            if !t.is_empty() {
                ws.write_string(r, u16::try_from(c).unwrap_or(0), cell_text(t))?;
            }
        }
    }
    let last = 3 + u32::try_from(list.len()).unwrap_or(0) - 1;
    ws.autofilter(2, 0, last, 8)?;
    ws.set_freeze_panes(3, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workbook held in memory is annotated as the same workbook on disk.
    #[test]
    fn bytes_annotated_as_the_file() {
        #![allow(clippy::unwrap_used)]
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/fgc/fgc-2024-25.xlsx");
        let f = Finding {
            code: "X1".into(),
            severity: Severity::Error,
            message: "m".into(),
            file: "fgc.xlsx".into(),
            table: None,
            fields: vec![],
            row: None,
            location: Some(Location::Cell { sheet: "Referrals".into(), cell: "B3".into() }),
            location_file: None,
            in_this_return: None,
            child: None,
            values: vec![],
            related: vec![],
            fix: None,
            rule: None,
            explained: None,
            table_order: 0,
        };
        let from_file = annotate(&src, &[&f]).unwrap();
        let from_bytes = annotate_bytes(&std::fs::read(&src).unwrap(), "fgc.xlsx", &[&f]).unwrap();
        assert!(from_bytes.starts_with(b"PK"));
        // Only the creation time inside can differ, and it has a fixed width.
        assert_eq!(from_file.len(), from_bytes.len());
        assert!(annotate_bytes(b"not a workbook", "x.xlsx", &[]).unwrap_err().contains("`x.xlsx`"));
    }

    #[test]
    fn cells_parse() {
        assert_eq!(parse_cell("A1"), Some((0, 0)));
        assert_eq!(parse_cell("B12"), Some((11, 1)));
        assert_eq!(parse_cell("$AA$3"), Some((2, 26)));
        assert_eq!(parse_cell("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_cell("XFE1"), None);
        assert_eq!(parse_cell("A0"), None);
        assert_eq!(parse_cell("12"), None);
        assert_eq!(parse_cell("B"), None);
        assert_eq!(parse_cell("B2:C3"), None);
    }
}
