//! Workbooks in LibreOffice, the spreadsheet program councils have:
//! - a workbook opened and saved by LibreOffice still validates, with the same findings: the FGC and
//!   disability samples and the blank FGC template, round-tripped through `soffice --convert-to xlsx`;
//! - the annotated copy (`--annotate`) opens as the council's own workbook: LibreOffice reads the
//!   same column widths, row heights, hidden rows, columns and sheets and shows every cell as it
//!   shows the original's (dates as dates, not `###`), and each note it reads is true of its cell.
//!   Both workbooks are converted by `soffice --convert-to fods` (the flat XML of what LibreOffice
//!   loaded) and compared;
//! - the annotated copy of a workbook with the council's own notes keeps them word for word, with
//!   fettle's lines joined to them, and calamine reads its cells unchanged.
//!
//! CI installs LibreOffice (`.ci/run`). Without `soffice` on the PATH the tests fail, unless they are
//! skipped on purpose with a reason: `FETTLE_SKIP_LIBREOFFICE="no LibreOffice on this laptop"`.

use super::{fettle, root};
use fettle::eval::finding::Value;
use fettle::eval::{Code, FieldValue, Finding, Location, Related};
use fettle::syntax::ast::Severity;
use quick_xml::Reader;
use quick_xml::events::Event;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Whether LibreOffice tests run: false (with a message) when skipped on purpose.
fn libreoffice_here() -> bool {
    if let Some(reason) = std::env::var("FETTLE_SKIP_LIBREOFFICE").ok().filter(|r| !r.trim().is_empty()) {
        eprintln!("LibreOffice test skipped on purpose: {reason}");
        return false;
    }
    let Ok(status) = Command::new("soffice").arg("--version").output() else {
        panic!(
            "soffice (LibreOffice) is not on the PATH: install it (CI does, in .ci/run), or skip this test on purpose with \
             FETTLE_SKIP_LIBREOFFICE=\"the reason\""
        );
    };
    assert!(status.status.success());
    true
}

/// Converts workbooks with LibreOffice headless into `out` (`to` is the target format).
fn convert(dir: &Path, to: &str, out: &Path, files: &[&Path]) {
    let profile = format!("-env:UserInstallation=file://{}", dir.join("profile").display());
    let conv = Command::new("soffice")
        .args([profile.as_str(), "--headless", "--convert-to", to, "--outdir"])
        .arg(out)
        .args(files)
        .output()
        .unwrap();
    assert!(conv.status.success(), "{}", String::from_utf8_lossy(&conv.stderr));
}

fn by_rule(path: &std::path::Path) -> String {
    let out = fettle().args(["validate", "--format", "json"]).arg(path).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["summary"]["by_rule"].to_string()
}

#[test]
fn workbooks_saved_by_libreoffice_still_validate() {
    if !libreoffice_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fettle-lo-{}", std::process::id()));
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let fgc = dir.join("fgc.xlsx");
    let dis = dir.join("dis.xlsx");
    let tmpl = dir.join("template.xlsx");
    std::fs::copy(root().join("samples/fgc/fgc-2024-25.xlsx"), &fgc).unwrap();
    std::fs::copy(root().join("samples/disability/disability-2024-25.xlsx"), &dis).unwrap();
    assert!(fettle().args(["template", "fgc", "--out"]).arg(&tmpl).status().unwrap().success());
    convert(&dir, "xlsx", &out, &[&fgc, &dis, &tmpl]);
    assert_eq!(by_rule(&out.join("fgc.xlsx")), by_rule(&fgc));
    assert_eq!(by_rule(&out.join("dis.xlsx")), by_rule(&dis));
    // The blank template is read as an FGC return with no data: the period is missing, and the
    // About and Summary sheets have headers but no row.
    let blank = by_rule(&out.join("template.xlsx"));
    assert!(blank.contains("FGC022") && blank.contains(r#""input::missing-table":2"#), "{blank}");
    let _ = std::fs::remove_dir_all(dir);
}

/// What LibreOffice loaded of one sheet.
#[derive(Debug, Default, PartialEq)]
struct Table {
    name: String,
    /// Shown (false: a hidden sheet).
    shown: bool,
    /// Each column's width and whether it is hidden.
    columns: Vec<(String, bool)>,
    /// Each row: its height, whether it is hidden, and its cells.
    rows: Vec<Row>,
}

#[derive(Debug, Default, PartialEq)]
struct Row {
    height: String,
    hidden: bool,
    cells: Vec<Shown>,
}

/// One cell as LibreOffice shows it: its text and its note's text.
#[derive(Debug, Default, PartialEq, Clone)]
struct Shown {
    text: String,
    note: String,
}

const MAX_ROWS: usize = 300;
const MAX_COLS: usize = 60;

fn attr(e: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.into_inner() == name).map(|a| a.value.to_string())
}

/// The sheets of a flat ODS file as LibreOffice wrote it, up to [`MAX_ROWS`] rows and
/// [`MAX_COLS`] columns each.
fn read_fods(path: &Path) -> Vec<Table> {
    let xml = std::fs::read_to_string(path).unwrap();
    // Styles first: table display, column widths, row heights.
    let mut style_prop: BTreeMap<String, String> = BTreeMap::new();
    let mut reader = Reader::from_str(&xml);
    let mut style = String::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().into_inner() {
                "style:style" => style = attr(&e, "style:name").unwrap_or_default(),
                "style:table-properties" => {
                    style_prop.insert(style.clone(), attr(&e, "table:display").unwrap_or_else(|| "true".into()));
                }
                "style:table-column-properties" => {
                    style_prop.insert(style.clone(), attr(&e, "style:column-width").unwrap_or_default());
                }
                "style:table-row-properties" => {
                    style_prop.insert(style.clone(), attr(&e, "style:row-height").unwrap_or_default());
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    let mut tables = vec![];
    let mut reader = Reader::from_str(&xml);
    let (mut t, mut cell, mut repeat, mut cell_repeat) = (Table::default(), None::<Shown>, 1usize, 1usize);
    let (mut in_note, mut in_p) = (false, false);
    loop {
        let ev = reader.read_event().unwrap();
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let n = |k: &str| attr(e, k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(1);
                match e.name().into_inner() {
                    "table:table" => {
                        let name = attr(e, "table:name").unwrap_or_default();
                        let style = attr(e, "table:style-name").unwrap_or_default();
                        t = Table { name, shown: style_prop.get(&style).is_none_or(|d| d != "false"), ..Table::default() };
                    }
                    "table:table-column" => {
                        let width = style_prop.get(&attr(e, "table:style-name").unwrap_or_default()).cloned().unwrap_or_default();
                        let hidden = attr(e, "table:visibility").is_some_and(|v| v != "visible");
                        for _ in 0..n("table:number-columns-repeated").min(MAX_COLS) {
                            if t.columns.len() < MAX_COLS {
                                t.columns.push((width.clone(), hidden));
                            }
                        }
                    }
                    "table:table-row" => {
                        repeat = n("table:number-rows-repeated");
                        t.rows.push(Row {
                            height: style_prop.get(&attr(e, "table:style-name").unwrap_or_default()).cloned().unwrap_or_default(),
                            hidden: attr(e, "table:visibility").is_some_and(|v| v != "visible"),
                            cells: vec![],
                        });
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        let c = Shown::default();
                        let times = n("table:number-columns-repeated");
                        if empty {
                            if let Some(r) = t.rows.last_mut() {
                                for _ in 0..times.min(MAX_COLS) {
                                    r.cells.push(c.clone());
                                }
                            }
                        } else {
                            cell = Some(c);
                            cell_repeat = times;
                        }
                    }
                    "office:annotation" => in_note = true,
                    "text:p" if !empty => {
                        in_p = true;
                        if let Some(c) = cell.as_mut() {
                            let s = if in_note { &mut c.note } else { &mut c.text };
                            if !s.is_empty() {
                                s.push('\n');
                            }
                        }
                    }
                    "text:s" => {
                        if let Some(c) = cell.as_mut().filter(|_| in_p) {
                            let s = if in_note { &mut c.note } else { &mut c.text };
                            s.push_str(&" ".repeat(n("text:c")));
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(x) if in_p => {
                if let Some(c) = cell.as_mut() {
                    let s = if in_note { &mut c.note } else { &mut c.text };
                    s.push_str(&x.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_p => {
                if let Some(c) = cell.as_mut() {
                    let s = if in_note { &mut c.note } else { &mut c.text };
                    let name = r.xml10_content();
                    let code = name
                        .strip_prefix("#x")
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                        .and_then(char::from_u32)
                        .map(String::from);
                    s.push_str(code.as_deref().unwrap_or(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => other,
                    }));
                }
            }
            Event::End(e) => match e.name().into_inner() {
                "text:p" => in_p = false,
                "office:annotation" => in_note = false,
                "table:table-cell" | "table:covered-table-cell" => {
                    if let (Some(c), Some(r)) = (cell.take(), t.rows.last_mut()) {
                        for _ in 0..cell_repeat.min(MAX_COLS) {
                            r.cells.push(c.clone());
                        }
                    }
                }
                "table:table-row" => {
                    if let Some(r) = t.rows.pop() {
                        let mut r = Some(r);
                        for i in 0..repeat.min(MAX_ROWS) {
                            if t.rows.len() >= MAX_ROWS {
                                break;
                            }
                            let this = if i + 1 == repeat.min(MAX_ROWS) { r.take() } else { None };
                            let row = this.unwrap_or_else(|| {
                                let src = r.as_ref().unwrap();
                                Row { height: src.height.clone(), hidden: src.hidden, cells: src.cells.clone() }
                            });
                            t.rows.push(row);
                        }
                    }
                }
                "table:table" => {
                    // Trailing empty cells and rows are LibreOffice's filler, not content.
                    for r in &mut t.rows {
                        while r.cells.last().is_some_and(|c| *c == Shown::default()) {
                            r.cells.pop();
                        }
                    }
                    tables.push(std::mem::take(&mut t));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    tables
}

fn cell_at(sheet: &str, c: &str) -> Option<Location> {
    Location::cell(sheet, c)
}

fn finding(code: &str, severity: Severity, message: &str) -> Finding {
    Finding {
        code: Code::parse(code),
        severity,
        message: message.into(),
        quotes: vec![],
        file: "council.xlsx".into(),
        table: Some("Children".into()),
        fields: vec![],
        row: Some(0),
        location: None,
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

/// A council's workbook with the things a rewrite loses: narrow date columns with their own
/// format, a hidden row, a hidden column, a tall row, a merged title and a hidden sheet.
fn council_workbook(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd mmm yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Children").unwrap();
    ws.merge_range(0, 0, 0, 3, "Children in need, 2024-25", &Format::new().set_bold()).unwrap();
    for (c, h) in ["LAchildID", "FamilyID", "StartDate", "Notes"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let rows = [("C1", "F1", (2024, 10, 5)), ("C2", "F1", (2024, 9, 8)), ("C3", "F2", (2024, 4, 1)), ("C4", "F3", (2025, 1, 31))];
    for (i, (child, fam, (y, m, d))) in rows.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_string(r, 0, *child).unwrap();
        ws.write_string(r, 1, *fam).unwrap();
        ws.write_datetime_with_format(r, 2, ExcelDateTime::from_ymd(*y, *m, *d).unwrap(), &date).unwrap();
    }
    ws.set_column_width(0, 7.5).unwrap();
    ws.set_column_width(2, 12.25).unwrap();
    ws.set_column_width(3, 40).unwrap();
    ws.set_column_hidden(4).unwrap();
    ws.set_row_hidden(4).unwrap();
    ws.set_row_height(5, 33).unwrap();
    let lists = wb.add_worksheet();
    lists.set_name("Lists").unwrap();
    lists.write_string(0, 0, "a code list").unwrap();
    lists.set_hidden(true);
    wb.save(path).unwrap();
}

/// Asserts that LibreOffice loads `copy` as it loads `original`, but for the highlights, notes and
/// the added findings sheet; returns the copy's sheets.
fn same_workbook(original: &Path, copy: &Path) -> Vec<Table> {
    let (a, b) = (read_fods(original), read_fods(copy));
    assert_eq!(b.last().map(|t| t.name.as_str()), Some("fettle findings"), "the findings sheet comes last");
    assert_eq!(a.len() + 1, b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.name, x.shown), (&y.name, y.shown), "sheet name and visibility");
        assert_eq!(x.columns, y.columns, "column widths and hidden columns of {}", x.name);
        assert_eq!(x.rows.len(), y.rows.len(), "rows of {}", x.name);
        for (i, (rx, ry)) in x.rows.iter().zip(&y.rows).enumerate() {
            assert_eq!((&rx.height, rx.hidden), (&ry.height, ry.hidden), "height and hiding of {} row {}", x.name, i + 1);
            let texts = |r: &Row| r.cells.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
            let (tx, mut ty) = (texts(rx), texts(ry));
            // A flagged blank cell is added to the copy: shown as blank.
            while ty.len() > tx.len() && ty.last().is_some_and(String::is_empty) {
                ty.pop();
            }
            assert_eq!(tx, ty, "cells of {} row {} as shown", x.name, i + 1);
            assert!(rx.cells.iter().all(|c| c.note.is_empty()), "the original has no notes");
        }
    }
    b
}

#[test]
fn annotated_copy_opens_as_the_workbook_in_libreoffice() {
    if !libreoffice_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fettle-lo-annotate-{}", std::process::id()));
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();

    // The FGC sample, through the command line.
    let fgc = dir.join("fgc.xlsx");
    std::fs::copy(root().join("samples/fgc/fgc-2024-25.xlsx"), &fgc).unwrap();
    let fgc_before = std::fs::read(&fgc).unwrap();
    let fgc_copy = dir.join("fgc-annotated.xlsx");
    let run = fettle().args(["validate", "--format", "json"]).arg(&fgc).arg("--annotate").arg(&fgc_copy).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::read(&fgc).unwrap(), fgc_before, "the input is never written");

    // A council's own workbook, with what a rewrite would lose.
    let council = dir.join("council.xlsx");
    council_workbook(&council);
    let council_before = std::fs::read(&council).unwrap();
    let mut own = finding("T001", Severity::Error, "StartDate 2024-10-05 here, 2024-09-08 for another child");
    own.location = cell_at("Children", "A3");
    own.values = vec![FieldValue {
        field: "Children.StartDate".into(),
        value: Value::Text("2024-10-05".into()),
        location: cell_at("Children", "C3"),
    }];
    own.related = vec![Related {
        table: "Children".into(),
        row: 1,
        location: cell_at("Children", "A4"),
        file: None,
        values: vec![FieldValue {
            field: "Children.StartDate".into(),
            value: Value::Text("2024-09-08".into()),
            location: cell_at("Children", "C4"),
        }],
    }];
    let mut blank = finding("T002", Severity::Query, "Notes are blank");
    blank.location = cell_at("Children", "D6");
    let mut hidden = finding("T003", Severity::Info, "On a hidden row");
    hidden.location = cell_at("Children", "B5");
    let whole = finding("T900", Severity::Query, "Only 4 children");
    let bytes = fettle::report::annotate::annotate(&council, &[&own, &blank, &hidden, &whole]).unwrap();
    assert_eq!(std::fs::read(&council).unwrap(), council_before, "the input is never written");
    let council_copy = dir.join("council-annotated.xlsx");
    std::fs::write(&council_copy, bytes).unwrap();

    convert(&dir, "fods", &out, &[&fgc, &fgc_copy, &council, &council_copy]);

    // The FGC sample: every sheet as the original, PlanDate shown as dates.
    let fgc_tables = same_workbook(&out.join("fgc.fods"), &out.join("fgc-annotated.fods"));
    let referrals = fgc_tables.iter().find(|t| t.name == "Referrals").unwrap();
    let header = referrals.rows.iter().position(|r| r.cells.iter().any(|c| c.text == "ConferenceDate")).unwrap();
    let col = |name: &str| referrals.rows[header].cells.iter().position(|c| c.text == name).unwrap();
    let (plan, conf) = (col("PlanDate"), col("ConferenceDate"));
    let widths: std::collections::BTreeSet<_> = referrals.columns.iter().take(20).map(|(w, _)| w.clone()).collect();
    assert!(widths.len() >= 3, "the sheet's own widths were read: {widths:?}");
    let dates = referrals
        .rows
        .iter()
        .filter_map(|r| r.cells.get(plan))
        .filter(|c| c.text.len() == 10 && c.text.starts_with("20"))
        .count();
    assert!(dates >= 41, "PlanDate cells shown as dates: {dates}");
    // Each note is true of its cell: every "X here" is the cell's own value or its row's
    // ConferenceDate (the value the finding's message is about), never another row's.
    let mut notes = 0;
    for r in &referrals.rows {
        let conference = r.cells.get(conf).map(|c| c.text.clone()).unwrap_or_default();
        for c in r.cells.iter().filter(|c| !c.note.is_empty()) {
            notes += 1;
            for line in c.note.lines().filter(|l| l.starts_with("FGC052")) {
                let here = line.split(" here").next().unwrap().rsplit(' ').next().unwrap();
                assert!(
                    here == c.text || here == conference,
                    "note `{line}` on a cell of `{}` (row's ConferenceDate {conference})",
                    c.text
                );
            }
        }
    }
    assert!(notes >= 10, "notes read by LibreOffice: {notes}");
    let a5 = &referrals.rows[header + 4].cells[0];
    assert!(a5.note.contains("2024-10-05 here, 2024-09-08 for another child"), "{}", a5.note);
    assert!(!a5.note.contains("2024-09-08 here"), "{}", a5.note);

    // The council's workbook: widths, hidden row, column and sheet, merged title, tall row kept.
    let tables = same_workbook(&out.join("council.fods"), &out.join("council-annotated.fods"));
    let children = &tables[0];
    assert!(!tables[1].shown, "the hidden sheet stays hidden");
    assert!(children.rows[4].hidden && children.columns[4].1, "the hidden row and column stay hidden");
    assert_ne!(children.columns[0].0, children.columns[3].0, "the columns' own widths were read");
    assert_eq!(children.rows[2].cells[2].text, "05 Oct 2024", "the date keeps its own format");
    let note = |r: usize, c: usize| children.rows[r].cells[c].note.clone();
    assert_eq!(note(2, 0), "T001: StartDate 2024-10-05 here, 2024-09-08 for another child");
    assert_eq!(note(2, 2), "T001: StartDate 2024-10-05 here, 2024-09-08 for another child");
    assert_eq!(note(3, 0), "T001: this row is related to the finding at Children!A3");
    assert_eq!(note(3, 2), "T001: StartDate 2024-09-08 here is compared with the finding at Children!C3, which has 2024-10-05");
    assert_eq!(note(5, 3), "T002: Notes are blank", "a blank cell is noted");
    assert_eq!(note(4, 1), "T003: On a hidden row");
    let list = &tables[2];
    assert!(list.rows.iter().any(|r| r.cells.first().is_some_and(|c| c.text == "T900")), "{list:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A council's workbook whose sheet already carries the council's own notes: one on a cell fettle
/// flags, one (with Excel's bold author line) on another flagged cell, one on a cell fettle does
/// not flag.
fn noted_workbook(path: &Path) {
    use rust_xlsxwriter::{Note, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Children").unwrap();
    for (c, h) in ["LAchildID", "FamilyID", "StartDate"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (child, fam, date)) in [("C1", "F1", "2024-10-05"), ("C2", "F1", "2024-09-08")].iter().enumerate() {
        let r = 1 + r as u32;
        ws.write_string(r, 0, *child).unwrap();
        ws.write_string(r, 1, *fam).unwrap();
        ws.write_string(r, 2, *date).unwrap();
    }
    ws.set_column_width(2, 9.5).unwrap();
    ws.insert_note(1, 2, &Note::new("Date checked with the social worker").add_author_prefix(false)).unwrap();
    ws.insert_note(2, 1, &Note::new("Family moved in from Kent").set_author("Council")).unwrap();
    ws.insert_note(2, 0, &Note::new("Second child of F1").add_author_prefix(false)).unwrap();
    wb.save(path).unwrap();
}

/// Every sheet's cells as calamine reads them.
fn calamine_cells(path: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    use calamine::Reader as _;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let names = wb.sheet_names();
    names
        .iter()
        .map(|n| {
            let range = wb.worksheet_range(n).unwrap();
            (n.clone(), range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect())
        })
        .collect()
}

/// The annotated copy of a workbook that has notes of its own keeps every one of them word for
/// word; fettle's note on a cell the council already noted follows the council's, marked
/// `--- fettle ---`; fettle's notes on other cells are its own. LibreOffice reads all of them
/// on their cells, and calamine reads the council's cells unchanged.
#[test]
fn annotated_copy_keeps_the_councils_own_notes() {
    if !libreoffice_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fettle-lo-notes-{}", std::process::id()));
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let council = dir.join("noted.xlsx");
    noted_workbook(&council);
    let before = std::fs::read(&council).unwrap();
    // Findings on the noted cells C2 and B3, and on A2, which has no note.
    let mut dated = finding("T001", Severity::Error, "StartDate is after the census");
    dated.location = cell_at("Children", "C2");
    let mut family = finding("T003", Severity::Info, "FamilyID F1 has two children");
    family.location = cell_at("Children", "B3");
    let mut id = finding("T002", Severity::Query, "LAchildID is short");
    id.location = cell_at("Children", "A2");
    let bytes = fettle::report::annotate::annotate(&council, &[&dated, &family, &id]).unwrap();
    assert_eq!(std::fs::read(&council).unwrap(), before, "the input is never written");
    let copy = dir.join("noted-annotated.xlsx");
    std::fs::write(&copy, bytes).unwrap();

    let (a, b) = (calamine_cells(&council), calamine_cells(&copy));
    assert_eq!(b.len(), a.len() + 1, "the findings sheet is added");
    assert_eq!(a[..], b[..a.len()], "calamine reads the council's cells unchanged");

    convert(&dir, "fods", &out, &[&council, &copy]);
    let (a, b) = (read_fods(&out.join("noted.fods")), read_fods(&out.join("noted-annotated.fods")));
    assert_eq!(a[0].columns, b[0].columns, "the column widths are kept");
    let note = |t: &[Table], r: usize, c: usize| t[0].rows[r].cells.get(c).map(|x| x.note.clone()).unwrap_or_default();
    assert_eq!(note(&a, 1, 2), "Date checked with the social worker", "LibreOffice reads the council's note");
    assert_eq!(note(&a, 2, 1), "Council:\nFamily moved in from Kent");
    assert_eq!(note(&b, 1, 2), "Date checked with the social worker\n\n--- fettle ---\nT001: StartDate is after the census");
    assert_eq!(note(&b, 2, 1), "Council:\nFamily moved in from Kent\n\n--- fettle ---\nT003: FamilyID F1 has two children");
    assert_eq!(note(&b, 1, 0), "T002: LAchildID is short", "fettle's own note on a cell without one");
    assert_eq!(note(&b, 2, 0), "Second child of F1", "the council's note on a cell fettle does not flag is untouched");
    assert_eq!(note(&b, 2, 2), "", "no note where neither has one");
    for (r, c) in [(0, 0), (1, 1), (1, 2), (2, 2)] {
        assert_eq!(a[0].rows[r].cells[c].text, b[0].rows[r].cells[c].text, "cell ({r}, {c}) as shown");
    }
    let list = b.last().unwrap();
    assert_eq!(list.name, "fettle findings");
    assert!(
        !list.rows.iter().any(|r| r.cells.first().is_some_and(|c| c.text.starts_with("T00"))),
        "every finding is on its cell: {list:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A blank template as LibreOffice opens it: LibreOffice's own saved copy opens on the main data
/// sheet with the Lists sheet hidden, and the Notes sheet it loads has the title above its header row.
#[test]
fn templates_open_on_the_data_sheet_in_libreoffice() {
    if !libreoffice_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fettle-lo-templates-{}", std::process::id()));
    let (xlsx, fods) = (dir.join("xlsx"), dir.join("fods"));
    std::fs::create_dir_all(&dir).unwrap();
    let returns = [("fgc", "Referrals"), ("disability", "Children")];
    let paths: Vec<std::path::PathBuf> = returns.iter().map(|(ret, _)| dir.join(format!("{ret}.xlsx"))).collect();
    for ((ret, _), p) in returns.iter().zip(&paths) {
        assert!(fettle().args(["template", ret, "--out"]).arg(p).status().unwrap().success());
    }
    let files: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    convert(&dir, "xlsx", &xlsx, &files);
    convert(&dir, "fods", &fods, &files);
    for (ret, main) in returns {
        use std::io::Read;
        let mut zip = zip::ZipArchive::new(std::fs::File::open(xlsx.join(format!("{ret}.xlsx"))).unwrap()).unwrap();
        let mut book = String::new();
        zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut book).unwrap();
        let names: Vec<&str> = book.split("<sheet name=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
        let active: usize = book.split("activeTab=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("0").parse().unwrap();
        assert_eq!(names.get(active), Some(&main), "{ret}: LibreOffice opens it on {:?} of {names:?}", names.get(active));
        let tables = read_fods(&fods.join(format!("{ret}.fods")));
        let shown = |name: &str| tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{ret}: no {name}")).shown;
        assert!(!shown("Lists") && shown(main), "{ret}: Lists hidden, {main} shown");
        let notes = tables.iter().find(|t| t.name == "Notes").unwrap();
        let text =
            |r: usize, c: usize| notes.rows.get(r).and_then(|r| r.cells.get(c)).map(|c| c.text.clone()).unwrap_or_default();
        assert!(text(0, 0).contains(&format!("({ret} 2024-25)")), "{ret}: the title first: {:?}", text(0, 0));
        assert_eq!([text(2, 0), text(2, 1)], ["Sheet", "Column"], "{ret}: the header under the title");
        assert!(!text(3, 0).is_empty(), "{ret}: columns explained under the header");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The JSON findings about repairs of one validate run, without the file's name.
fn repairs_of(path: &Path) -> Vec<(String, String, String)> {
    let out = fettle().args(["validate", "--format", "json"]).arg(path).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().is_some_and(|c| c.starts_with("input::repaired")))
        .map(|f| (f["code"].to_string(), f["severity"].to_string(), f["message"].to_string()))
        .collect()
}

/// Date cells holding a time of day, in a workbook saved by LibreOffice: the time is said as a
/// query, as in the workbook before LibreOffice saved it (`repairs::date_cells_with_a_time_of_day_are_said`).
#[test]
fn date_time_cells_saved_by_libreoffice_are_said() {
    if !libreoffice_here() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("fettle-lo-date-time-{}", std::process::id()));
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let book = dir.join("fgc.xlsx");
    super::repairs::date_time_workbook(&book);
    convert(&dir, "xlsx", &out, &[&book]);
    let (before, after) = (repairs_of(&book), repairs_of(&out.join("fgc.xlsx")));
    assert!(
        before.iter().any(|(code, severity, _)| code.contains("repaired-time-of-day") && severity == "\"query\""),
        "{before:?}"
    );
    assert_eq!(after, before);
    let _ = std::fs::remove_dir_all(dir);
}
