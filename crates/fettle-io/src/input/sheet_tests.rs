#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use super::*;
use crate::schema::{FieldSchema, FieldType, TableSchema};
use fettle_core::span::Span;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use std::sync::atomic::{AtomicU32, Ordering};

// ---- schema -------------------------------------------------------------------------------------

fn field(name: &str, ty: FieldType, required: bool, headers: &[&str]) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        ty,
        required,
        label: None,
        headers: headers.iter().map(|h| h.to_string()).collect(),
        xml: None,
        derived: false,
        span: Span::default(),
    }
}

fn table(name: &str, parent: Option<u32>, key: &[u32], ordinal: bool, sheets: &[&str], fields: Vec<FieldSchema>) -> TableSchema {
    TableSchema {
        name: name.into(),
        label: None,
        singleton: false,
        parent: parent.map(TableId),
        key: key.iter().map(|k| FieldId(*k)).collect(),
        ordinal,
        sheets: std::iter::once(name).chain(sheets.iter().copied()).map(str::to_string).collect(),
        xml: None,
        fields,
        span: Span::default(),
        foreign: None,
    }
}

/// Child (key LAchildID) > CINdetails (key CINdetailsID) > Assessments (ordinal key AssessmentID).
fn schema() -> Schema {
    let mut age = field("Age", FieldType::Int, false, &[]);
    age.derived = true;
    let child = table(
        "Child",
        None,
        &[0],
        false,
        &["Children"],
        vec![
            field("LAchildID", FieldType::Text, true, &["Child ID"]),
            field("PersonBirthDate", FieldType::Date, false, &["Date of birth", "DOB"]),
            field("Gender", FieldType::Text, false, &[]),
            age,
        ],
    );
    let cin = table(
        "CINdetails",
        Some(0),
        &[0],
        false,
        &["CIN details"],
        vec![field("CINdetailsID", FieldType::Int, true, &[]), field("ReferralDate", FieldType::Date, true, &["Referral date"])],
    );
    let asmt = table(
        "Assessments",
        Some(1),
        &[0],
        true,
        &[],
        vec![field("AssessmentID", FieldType::Int, false, &[]), field("AssessmentStart", FieldType::Date, false, &[])],
    );
    Schema { tables: vec![child, cin, asmt], ..Schema::default() }
}

const CHILD: TableId = TableId(0);
const CIN: TableId = TableId(1);
const ASMT: TableId = TableId(2);

// ---- fixtures -----------------------------------------------------------------------------------

/// A scratch folder, removed (with what the test wrote in it) when the test lets go of it.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir() -> Scratch {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("fettle-sheet-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A file in its own scratch folder, removed with it.
struct Saved(#[allow(dead_code, reason = "held for its drop")] Scratch, PathBuf);

impl std::ops::Deref for Saved {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.1
    }
}

/// A cell written into a test sheet.
enum C<'a> {
    S(&'a str),
    N(f64),
    D(u16, u8, u8),
    B,
}

/// Writes rows of cells starting at 0-based `(row, col)`.
fn put(ws: &mut Worksheet, row: u32, col: u16, rows: &[&[C]]) {
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (r, cells) in rows.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (row + r as u32, col + c as u16);
            match cell {
                C::S(s) => ws.write_string(r, c, *s).map(|_| ()).unwrap(),
                C::N(x) => ws.write_number(r, c, *x).map(|_| ()).unwrap(),
                C::D(y, m, d) => {
                    ws.write_datetime_with_format(r, c, ExcelDateTime::from_ymd(*y, *m, *d).unwrap(), &date).map(|_| ()).unwrap()
                }
                C::B => {}
            }
        }
    }
}

fn save(wb: &mut Workbook, name: &str) -> Saved {
    let dir = temp_dir();
    let path = dir.join(name);
    wb.save(&path).unwrap();
    Saved(dir, path)
}

fn a1(col: u32, row: u32) -> String {
    let mut s = String::new();
    let mut c = col + 1;
    while c > 0 {
        s.insert(0, char::from(b'A' + ((c - 1) % 26) as u8));
        c = (c - 1) / 26;
    }
    format!("{s}{row}")
}

/// The sheet cell of `t.f` in row `r`, from the table's origin and positions.
fn cell_of(d: &Dataset, t: TableId, f: u32, r: usize) -> String {
    let tbl = &d.tables[t.0 as usize];
    let Origin::Sheet { cols, .. } = &tbl.origin else { panic!("not a sheet: {:?}", tbl.origin) };
    a1(cols[f as usize].unwrap(), tbl.pos[r])
}

fn value(d: &Dataset, t: TableId, f: u32, r: u32) -> Scalar {
    d.tables[t.0 as usize].columns[f as usize].get(r).unwrap().clone()
}

fn date(y: i32, m: u32, d: u32) -> Scalar {
    Scalar::Date(chrono::Datelike::num_days_from_ce(&chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()))
}

fn text_of(s: &str) -> Scalar {
    Scalar::Text(s.into())
}

/// The codes of the issues a reader reports for itself (not the optional columns it lacks, said
/// at info for `eval::fold` to keep only when a rule needs them).
fn codes(d: &Dataset) -> Vec<&'static str> {
    said(d).iter().map(|i| i.code.as_str()).collect()
}

/// The issues a reader reports for itself (see [`codes`]).
fn said(d: &Dataset) -> Vec<&crate::table::InputIssue> {
    d.issues.iter().filter(|i| !(i.code == crate::codes::Input::MissingColumn.into() && i.severity == Severity::Info)).collect()
}

// ---- xlsx ---------------------------------------------------------------------------------------

/// A Child sheet from B2: a title, a blank row, then the header on row 4, columns shuffled and an
/// extra `Notes` column; dates as a real date, text `31/03/2024`, ISO text and a serial number.
fn child_workbook() -> Saved {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("children").unwrap();
    put(
        ws,
        1,
        1,
        &[
            &[C::S("Children in need 2024-25")],
            &[],
            &[C::S("Date of birth"), C::S("Notes"), C::S(" gender "), C::S("child_id")],
            &[C::D(2015, 3, 31), C::S("first"), C::S("M"), C::S("C1")],
            &[C::S("31/03/2024"), C::B, C::S("F"), C::N(2.0)],
            &[C::B, C::S("a note on a blank row"), C::S("  "), C::B],
            &[C::S("2016-01-02"), C::B, C::S("F"), C::S("C3")],
            &[C::N(45382.0), C::B, C::B, C::S("C4")],
        ],
    );
    save(&mut wb, "children.xlsx")
}

#[test]
fn xlsx_header_below_title_with_shuffled_extra_and_synonym_columns() {
    let s = schema();
    let path = child_workbook();
    let d = read_xlsx(&s, &path, "children.xlsx").unwrap();
    let child = &d.tables[0];
    assert_eq!(child.len, 4, "the blank row is skipped");
    assert_eq!(child.pos, vec![5, 6, 8, 9]);
    assert_eq!(value(&d, CHILD, 0, 0), text_of("C1"));
    assert_eq!(value(&d, CHILD, 0, 1), text_of("2"), "a number in a text column reads as its text");
    assert_eq!(value(&d, CHILD, 2, 0), text_of("M"));
    let Origin::Sheet { sheet, cols } = &child.origin else { panic!() };
    assert_eq!(sheet, "children");
    assert_eq!(cols, &vec![Some(4), Some(1), Some(3), None], "absolute columns; derived field has none");
    assert_eq!(cell_of(&d, CHILD, 1, 0), "B5");
    assert_eq!(cell_of(&d, CHILD, 0, 3), "E9");
    assert!(child.columns[0].present && child.columns[1].present && !child.columns[3].present);
}

#[test]
fn xlsx_dates_in_every_form() {
    let s = schema();
    let d = read_xlsx(&s, &child_workbook(), "children.xlsx").unwrap();
    assert_eq!(value(&d, CHILD, 1, 0), date(2015, 3, 31), "a real Excel date");
    assert_eq!(value(&d, CHILD, 1, 1), date(2024, 3, 31), "text 31/03/2024");
    assert_eq!(value(&d, CHILD, 1, 2), date(2016, 1, 2), "ISO text");
    assert_eq!(value(&d, CHILD, 1, 3), date(2024, 3, 31), "a serial number without a date format");
    assert_eq!(
        codes(&d),
        vec![
            "input::repaired-sheet-name",
            "input::repaired-header",
            "input::repaired-header",
            "input::unknown-column",
            "input::missing-sheet",
            "input::repaired-date-form",
            "input::repaired-excel-serial"
        ],
        "{:?}",
        d.issues
    );
    assert_eq!(
        d.issues[1].message,
        "the column headed ` gender ` (column D) in sheet `children` was read as `Gender`, a header not written as the template writes it"
    );
    assert_eq!(d.issues[1].cell, Some((3, 4)), "the loose header's cell, D4");
    assert_eq!(
        d.issues[0].message,
        "the sheet `children` was read as the sheet `Children` (table `Child`), a name not written as the template writes it"
    );
    assert_eq!(
        d.issues[2].message,
        "the column headed `child_id` (column E) in sheet `children` was read as `LAchildID`, a header not written as the template writes it"
    );
    assert_eq!(d.issues[3].cell, Some((2, 4)), "the unknown column's header cell, C4");
    assert_eq!(
        d.issues[5].message,
        "1 cell of `PersonBirthDate` in sheet `children` held a date not written YYYY-MM-DD (the DfE's form): B6 `31/03/2024` read as `2024-03-31`"
    );
    assert_eq!(
        d.issues[6].message,
        "1 cell of `PersonBirthDate` in sheet `children` held a number, read as an Excel date (days since 1900): B9 `45382` read as `2024-03-31`"
    );
    assert_eq!(
        d.issues[3].message,
        "the column `Notes` (column C) in sheet `children` is not a column of `Child`, so what is under it is not read"
    );
}

#[test]
fn xlsx_missing_top_sheet_is_an_error_naming_the_sheets() {
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Summary").unwrap();
    wb.add_worksheet().set_name("Other").unwrap();
    let path = save(&mut wb, "nochild.xlsx");
    let e = read_xlsx(&schema(), &path, "nochild.xlsx").unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, InputError::Missing { .. }), "{e:?}");
    assert!(msg.contains("the sheet `Child` is missing; the workbook has sheets Summary, Other"), "{msg}");
}

#[test]
fn xlsx_missing_child_sheet_and_column_are_issues() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Child").unwrap();
    put(ws, 0, 0, &[&[C::S("Gender"), C::S("DOB")], &[C::S("F"), C::S("2020-01-01")]]);
    let path = save(&mut wb, "nocin.xlsx");
    let d = read_xlsx(&schema(), &path, "nocin.xlsx").unwrap();
    assert_eq!(codes(&d), vec!["input::missing-column", "input::missing-sheet"]);
    assert_eq!(said(&d)[0].message, "the column `LAchildID` is missing from sheet `Child`, so its one row has no value for it");
    assert_eq!(said(&d)[0].field, Some(FieldId(0)));
    assert!(said(&d)[1].message.starts_with("the sheet `CINdetails` is missing (expected one of: "), "{}", said(&d)[1].message);
    assert!(d.issues.iter().all(|i| i.severity == crate::syntax::ast::Severity::Error));
    assert_eq!(d.tables[0].len, 1);
    assert!(!d.tables[0].columns[0].present);
    assert_eq!(d.tables[2].len, 0, "a table without required fields and without a sheet stays empty");
}

/// Child, CINdetails and Assessments sheets linked by key, one CIN row with an unknown child.
fn linked_workbook() -> Saved {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Child").unwrap();
    put(ws, 0, 0, &[&[C::S("LAchildID")], &[C::S("C1")], &[C::S("C2")]]);
    let ws = wb.add_worksheet();
    ws.set_name("cin_details").unwrap();
    put(
        ws,
        0,
        0,
        &[
            &[C::S("CINdetailsID"), C::S("LAchildID"), C::S("Referral date")],
            &[C::N(1.0), C::S("C1"), C::S("2024-01-01")],
            &[C::S("2"), C::S(" C1 "), C::S("2024-02-01")],
            &[C::N(1.0), C::S("C2"), C::S("2024-03-01")],
            &[C::N(1.0), C::S("C9"), C::S("2024-04-01")],
        ],
    );
    let ws = wb.add_worksheet();
    ws.set_name("Assessments").unwrap();
    put(
        ws,
        0,
        0,
        &[
            &[C::S("LAchildID"), C::S("CINdetailsID"), C::S("AssessmentStart")],
            &[C::S("C1"), C::N(2.0), C::S("2024-02-02")],
            &[C::S("C1"), C::S("2.0"), C::S("2024-02-03")],
            &[C::S("C2"), C::S("1"), C::S("2024-03-02")],
        ],
    );
    save(&mut wb, "linked.xlsx")
}

#[test]
fn xlsx_links_rows_by_full_parent_key() {
    let d = read_xlsx(&schema(), &linked_workbook(), "linked.xlsx").unwrap();
    let cin = &d.tables[1];
    assert_eq!(cin.len, 4);
    assert_eq!(cin.parent, vec![0, 0, 1, NONE]);
    assert_eq!(value(&d, CIN, 0, 1), Scalar::Int(2), "an int stored as text");
    let asmt = &d.tables[2];
    assert_eq!(asmt.parent, vec![1, 1, 2], "1, \"1\" and 2.0 match their parents' keys");
    assert_eq!(value(&d, ASMT, 0, 0), Scalar::Int(1), "ordinal key numbered within the parent");
    assert_eq!(value(&d, ASMT, 0, 1), Scalar::Int(2));
    assert_eq!(value(&d, ASMT, 0, 2), Scalar::Int(1));
    assert_eq!(codes(&d), vec!["input::repaired-sheet-name", "input::unknown-parent"]);
    let i = &said(&d)[1];
    assert_eq!((i.table, i.row, i.severity), (Some(CIN), Some(3), crate::syntax::ast::Severity::Error));
    assert_eq!(i.message, "no `Child` row has LAchildID `C9`");
    assert_eq!(cell_of(&d, CIN, 1, 3), "C5");
}

#[test]
fn xlsx_unknown_grandparent_names_the_whole_key() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Child").unwrap();
    put(ws, 0, 0, &[&[C::S("LAchildID")], &[C::S("C1")]]);
    let ws = wb.add_worksheet();
    ws.set_name("CINdetails").unwrap();
    put(
        ws,
        0,
        0,
        &[&[C::S("LAchildID"), C::S("CINdetailsID"), C::S("ReferralDate")], &[C::S("C1"), C::N(1.0), C::S("2024-01-01")]],
    );
    let ws = wb.add_worksheet();
    ws.set_name("Assessments").unwrap();
    put(ws, 0, 0, &[&[C::S("LAchildID"), C::S("CINdetailsID"), C::S("AssessmentID")], &[C::S("C1"), C::N(2.0), C::N(7.0)]]);
    let path = save(&mut wb, "grand.xlsx");
    let d = read_xlsx(&schema(), &path, "grand.xlsx").unwrap();
    assert_eq!(d.tables[2].parent, vec![NONE]);
    assert_eq!(said(&d)[0].message, "no `CINdetails` row has LAchildID `C1`, CINdetailsID `2`");
    assert_eq!(value(&d, ASMT, 0, 0), Scalar::Int(7), "a given ordinal key is kept");
}

#[test]
fn xlsx_duplicate_column_uses_the_first_and_no_header_is_reported() {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Child").unwrap();
    put(
        ws,
        0,
        0,
        &[&[C::S("LAchildID"), C::S("DOB"), C::S("Date of Birth")], &[C::S("C1"), C::S("2020-01-01"), C::S("2021-01-01")]],
    );
    let ws = wb.add_worksheet();
    ws.set_name("CINdetails").unwrap();
    put(ws, 0, 0, &[&[C::S("nothing"), C::S("here")], &[C::S("x"), C::S("y")]]);
    let path = save(&mut wb, "dup.xlsx");
    let d = read_xlsx(&schema(), &path, "dup.xlsx").unwrap();
    assert_eq!(value(&d, CHILD, 1, 0), date(2020, 1, 1));
    // `Date of Birth` is the synonym `Date of birth` written in another case.
    assert_eq!(codes(&d), vec!["input::duplicate-column", "input::repaired-header", "input::no-header"]);
    assert!(
        said(&d)[0].severity != crate::syntax::ast::Severity::Error
            && said(&d)[2].severity == crate::syntax::ast::Severity::Error
    );
    assert_eq!(d.tables[1].len, 0);
}

#[test]
fn xlsx_files_that_are_not_workbooks_are_malformed() {
    let dir = temp_dir();
    let cases: [(&str, &[u8]); 3] = [
        ("garbage.xlsx", b"this is not a zip"),
        ("old.xlsx", &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]),
        ("empty.xlsx", b""),
    ];
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        match read_xlsx(&schema(), &path, name) {
            Err(InputError::Malformed { format: "xlsx", reason, .. }) => {
                assert!(reason.chars().next().unwrap().is_lowercase(), "{reason}")
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(sheet_names(&path).is_empty());
    }
    let path = dir.join("broken.xlsx");
    std::fs::write(&path, b"PK\x03\x04 truncated").unwrap();
    assert!(matches!(read_xlsx(&schema(), &path, "broken.xlsx"), Err(InputError::Malformed { .. })));
    assert!(matches!(read_xlsx(&schema(), &dir.join("absent.xlsx"), "absent.xlsx"), Err(InputError::Io { .. })));
}

#[test]
fn xlsx_sheet_names_lists_sheets() {
    assert_eq!(sheet_names(&linked_workbook()), vec!["Child", "cin_details", "Assessments"]);
}

#[test]
fn xlsx_cells_become_raw_values() {
    assert!(matches!(raw_of(&Data::Error(calamine::CellErrorType::Ref)), Raw::Error(e) if e == "#REF!"));
    assert!(matches!(raw_of(&Data::Int(3)), Raw::Number(x) if x == 3.0));
    assert!(matches!(raw_of(&Data::Bool(true)), Raw::Bool(true)));
    assert!(matches!(raw_of(&Data::DateTimeIso("2024-03-31T00:00:00".into())), Raw::Text("2024-03-31T00:00:00")));
    let day = chrono::NaiveDate::from_ymd_opt(2024, 3, 31).unwrap();
    let dt = calamine::ExcelDateTime::new(45382.5, calamine::ExcelDateTimeType::DateTime, false);
    assert!(matches!(raw_of(&Data::DateTime(dt)), Raw::Date(d) if d == day.and_hms_opt(12, 0, 0).unwrap()), "the time is kept");
    let dt = calamine::ExcelDateTime::new(43920.0, calamine::ExcelDateTimeType::DateTime, true);
    assert!(matches!(raw_of(&Data::DateTime(dt)), Raw::Date(d) if d == day.and_hms_opt(0, 0, 0).unwrap()), "1904 epoch");
}

// ---- CSV ----------------------------------------------------------------------------------------

fn csv_files(files: &[(&str, &[u8])]) -> (Scratch, Vec<PathBuf>) {
    let dir = temp_dir();
    let paths = files
        .iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    (dir, paths)
}

#[test]
fn csv_bom_quotes_newlines_and_ragged_rows() {
    let child = "\u{feff}LAchildID,Gender,DOB\nC1,\"M, mostly\",31/03/2024\n\"C\n2\",F\nC3,\"F\",2020-01-01,extra\n,,\nC4,,\"2021-\n01-01\"\nC5,F,2019-05-06\n";
    let cin = "la child id,LAchildID,CINdetailsID,ReferralDate\nx,C1,1,2024-01-01\ny,C9,1,2024-01-01\n";
    let (dir, files) = csv_files(&[("Child.csv", child.as_bytes()), ("CIN-details.csv", cin.as_bytes())]);
    let display = dir.display().to_string();
    let d = read_csv(&schema(), &files, &display).unwrap();
    let t = &d.tables[0];
    assert_eq!(t.len, 5);
    assert_eq!(t.pos, vec![2, 3, 5, 7, 9], "lines where each record starts");
    assert_eq!(value(&d, CHILD, 0, 0), text_of("C1"), "the BOM is not part of the header");
    assert_eq!(value(&d, CHILD, 2, 0), text_of("M, mostly"));
    assert_eq!(value(&d, CHILD, 0, 1), text_of("C\n2"));
    assert_eq!(value(&d, CHILD, 1, 1), Scalar::Null, "a ragged row's missing cells are empty");
    assert_eq!(value(&d, CHILD, 1, 0), date(2024, 3, 31));
    let Origin::Csv { file, cols } = &t.origin else { panic!() };
    assert_eq!(file, &dir.join("Child.csv").display().to_string());
    assert_eq!(cols, &vec![Some(0), Some(2), Some(1), None]);
    assert_eq!(d.tables[1].parent, vec![0, NONE]);
    assert_eq!(
        codes(&d),
        vec![
            "input::invalid-date",
            "input::repaired-sheet-name",
            "input::unknown-parent",
            "input::unknown-column",
            "input::repaired-date-form"
        ]
    );
    assert!(said(&d)[3].message.starts_with("the column `la child id` (column A) in file"), "{}", said(&d)[3].message);
    assert_eq!(said(&d)[3].cell, Some((0, 1)), "the unknown column's header cell, line 1");
    assert_eq!(said(&d)[0].row, Some(3), "the date broken by a newline");
}

#[test]
fn csv_missing_top_file_is_an_error_and_single_file_keeps_its_name() {
    let (_dir, files) = csv_files(&[("Other.csv", b"a,b\n1,2\n")]);
    let e = read_csv(&schema(), &files, "in").unwrap_err();
    assert!(e.to_string().contains("the file `Child.csv` is missing; the files given are Other.csv"), "{e}");
    let (_dir, files) = csv_files(&[("children.csv", b"LAchildID\nC1\n")]);
    let shown = files[0].display().to_string();
    let d = read_csv(&schema(), &files, &shown).unwrap();
    assert!(matches!(&d.tables[0].origin, Origin::Csv { file, .. } if *file == shown));
    assert_eq!(codes(&d), vec!["input::repaired-sheet-name", "input::missing-sheet"]);
    assert_eq!(
        said(&d)[1].message,
        "the file `CINdetails.csv` is missing (expected one of: `CINdetails.csv`, `CIN details.csv`)"
    );
}

#[test]
fn csv_other_encodings_are_decoded() {
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("LAchildID,Gender\r\nC1,Zoë\r\n".encode_utf16().flat_map(u16::to_le_bytes));
    let (_dir, files) = csv_files(&[("Child.csv", &utf16)]);
    let d = read_csv(&schema(), &files, "in").unwrap();
    assert_eq!(value(&d, CHILD, 2, 0), text_of("Zoë"));
    assert_eq!(d.tables[0].pos, vec![2]);
    let (_dir, files) = csv_files(&[("Child.csv", b"LAchildID,Gender\rC0,\"a\r\nb\"\r\rC1,Zo\xeb \x93q\x94\r")]);
    let d = read_csv(&schema(), &files, "in").unwrap();
    assert_eq!(value(&d, CHILD, 2, 1), text_of("Zoë “q”"));
    assert_eq!(d.tables[0].pos, vec![2, 5], "lone carriage returns end lines too");
    let mut be = vec![0xFE, 0xFF];
    be.extend("LAchildID\nC7\n".encode_utf16().flat_map(u16::to_be_bytes));
    let (_dir, files) = csv_files(&[("Child.csv", &be)]);
    assert_eq!(value(&read_csv(&schema(), &files, "in").unwrap(), CHILD, 0, 0), text_of("C7"));
}

#[test]
fn csv_unreadable_file_is_an_io_error() {
    let dir = temp_dir();
    let e = read_csv(&schema(), &[dir.join("Child.csv")], "in").unwrap_err();
    assert!(matches!(e, InputError::Io { .. }), "{e:?}");
}

#[test]
fn key_text_matches_numbers_and_text() {
    assert_eq!(key_text(" 1.0 "), "1");
    assert_eq!(key_text("01"), "01");
    assert_eq!(key_text("1.5"), "1.5");
    assert_eq!(a1(27, 3), "AB3");
}

/// Semicolon- and tab-separated files are read by their separator; quoted separators do not count,
/// and a comma file with a few semicolons in its values stays a comma file.
#[test]
fn csv_separators_are_sniffed() {
    assert_eq!(delimiter("FamilyID;LAchildID;ReferralDate\nF1;C1;01/05/2024\n"), b';');
    assert_eq!(delimiter("Title row\n\nFamilyID\tLAchildID\tReferralDate\n"), b'\t');
    assert_eq!(delimiter("FamilyID,LAchildID,Notes\nF1,C1,\"a; b; c; d; e\"\n"), b',');
    assert_eq!(delimiter("FamilyID,Notes\nF1,a;b\n"), b',');
    assert_eq!(delimiter("one column\nvalue\n"), b',');
    let recs = records(b"A;B\n\"x;y\";2\n", "t.csv").unwrap();
    assert_eq!(recs[1].1.iter().collect::<Vec<_>>(), ["x;y", "2"]);
}

/// A workbook of one sheet `S` with the given `<sheetData>` content, written by hand.
fn raw_workbook(sheet_data: &str) -> Vec<u8> {
    use std::io::Write;
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let rels = "http://schemas.openxmlformats.org/package/2006/relationships";
    let doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let parts = [
        (
            "[Content_Types].xml",
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_string(),
        ),
        ("_rels/.rels", format!(r#"<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#)),
        ("xl/workbook.xml", format!(r#"<workbook xmlns="{main}" xmlns:r="{doc}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#)),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<Relationships xmlns="{rels}"><Relationship Id="rId1" Type="{doc}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
        ),
        ("xl/worksheets/sheet1.xml", format!(r#"<worksheet xmlns="{main}"><sheetData>{sheet_data}</sheetData></worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
    for (name, text) in parts {
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn xlsx_cells_out_of_order_are_sorted_and_a_cell_given_twice_keeps_its_last_value() {
    let t = |r: &str, v: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>"#);
    let s = |v: &str| Data::String(v.into());
    let read = |data: String| {
        let bytes = raw_workbook(&data);
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        sheet_rows(&mut wb, "S", "x.xlsx").unwrap()
    };
    // In order, one cell given twice in a row.
    let ordered = read(format!(
        r#"<row r="1">{}{}{}</row><row r="3">{}</row>"#,
        t("A1", "old"),
        t("A1", "a1"),
        t("C1", "c1"),
        t("B3", "b3")
    ));
    assert_eq!(ordered, vec![(1, vec![(0, s("a1")), (2, s("c1"))]), (3, vec![(1, s("b3"))])]);
    // Rows and cells out of order, a row given twice, a cell given again later.
    let shuffled = read(format!(
        r#"<row r="2">{}{}</row><row r="1">{}</row><row r="2">{}</row>"#,
        t("B2", "b2"),
        t("A2", "a2"),
        t("A1", "a1"),
        t("B2", "b2 again")
    ));
    assert_eq!(shuffled, vec![(1, vec![(0, s("a1"))]), (2, vec![(0, s("a2")), (1, s("b2 again"))])]);
}
