//! Worksheets and CSV files: a sheet (or file) per table, a header row, then a row per record.
//!
//! Both formats become a [`Grid`] (rows of cells, each with its 1-based sheet row or CSV line), and
//! one path reads every table from it: find the table's sheet by name, find the header row among
//! the first rows, map columns to fields by header text, link each row to its parent row by the
//! parent's full key, and type every cell through the [`Builder`].
//!
//! Invariants: all names are matched through [`norm_name`]; tables are read in schema order, so a
//! parent is complete before its children are linked to it; `Origin` columns are absolute 0-based
//! sheet columns with one entry per schema field; nothing here panics or changes the input files.

use super::builder::Builder;
use super::coerce::clean;
use super::scan::{self, Merge};
use super::{InputError, norm_name};
use crate::codes::Input;
use crate::schema::{FieldId, Schema, TableId};
use crate::syntax::ast::Severity;
use crate::table::{Dataset, InputIssue, NONE, Origin, Raw, Scalar, Table, col_letters};
use calamine::{Data, DataRef, Reader, SheetVisible, Xlsx};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

/// How many non-empty rows at the top of a sheet may hold the header.
const HEADER_SCAN: usize = 30;

/// Sheet names of a workbook, or none when it cannot be opened or goes over a limit.
pub fn sheet_names(path: &Path) -> Vec<String> {
    open_scanned(path).map(|(wb, _)| wb.sheet_names()).unwrap_or_default()
}

/// A workbook on disk opened after [`scan::workbook`] passed it, with what the scan learnt; `None`
/// when it cannot be opened or goes over a limit (for sniffing; [`read_xlsx`] says why).
fn open_scanned(path: &Path) -> Option<(Xlsx<BufReader<File>>, scan::Workbook)> {
    let facts = scan::workbook(BufReader::new(File::open(path).ok()?), "").ok()?;
    Some((calamine::open_workbook::<Xlsx<_>, _>(path).ok()?, facts))
}

/// [`open_scanned`] of a workbook held in memory.
fn scanned_bytes(bytes: &[u8]) -> Option<(Xlsx<Cursor<&[u8]>>, scan::Workbook)> {
    let facts = scan::workbook(Cursor::new(bytes), "").ok()?;
    Some((Xlsx::new(Cursor::new(bytes)).ok()?, facts))
}

/// Sheet names and [`heads`] of a workbook on disk, from one scan and one opening (each of which
/// reads the whole workbook).
pub fn sniff_xlsx(path: &Path) -> (Vec<String>, Vec<String>) {
    let Some((mut wb, _)) = open_scanned(path) else { return (vec![], vec![]) };
    let mut words = vec![];
    workbook_heads(&mut wb, &mut words);
    (wb.sheet_names(), words)
}

/// [`sniff_xlsx`] of a workbook held in memory.
pub fn sniff_xlsx_bytes(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let Some((mut wb, _)) = scanned_bytes(bytes) else { return (vec![], vec![]) };
    let mut words = vec![];
    workbook_heads(&mut wb, &mut words);
    (wb.sheet_names(), words)
}

/// [`heads`] of CSV files held in memory: `(name, contents)` pairs.
pub fn heads_bytes(files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut words = vec![];
    for (name, bytes) in files {
        let head = bytes.get(..bytes.len().min(HEAD_BYTES)).unwrap_or_default();
        if let Ok(records) = records(whole_lines(head), name) {
            record_heads(&records, &mut words);
        }
    }
    words
}

/// The texts in the first rows of a CSV file.
fn record_heads(records: &[(u32, csv::StringRecord)], words: &mut Vec<String>) {
    for (_, r) in records.iter().take(HEADER_SCAN) {
        words.extend(r.iter().map(str::to_string));
    }
}

/// The words in the first rows of each CSV file, for telling returns apart ([`sniff_xlsx`] for
/// workbooks).
pub fn heads(files: &[PathBuf]) -> Vec<String> {
    let mut words = vec![];
    for f in files {
        if let Ok(records) = head_records(f, &file_name(f)) {
            record_heads(&records, &mut words);
        }
    }
    words
}

/// The texts in the first rows of every sheet of a workbook.
fn workbook_heads<RS: Read + Seek>(wb: &mut Xlsx<RS>, words: &mut Vec<String>) {
    // Stream each sheet's first rows only: the whole workbook is read once, later.
    for name in wb.sheet_names() {
        let Ok(mut cells) = wb.worksheet_cells_reader(&name) else { continue };
        while let Ok(Some(cell)) = cells.next_cell() {
            if cell.get_position().0 as usize >= HEADER_SCAN {
                break;
            }
            match cell.get_value() {
                calamine::DataRef::String(s) => words.push(s.clone()),
                calamine::DataRef::SharedString(s) => words.push((*s).to_string()),
                _ => {}
            }
        }
    }
}

/// Reads an xlsx workbook, one worksheet per table.
pub fn read_xlsx(schema: &Schema, path: &Path, display: &str) -> Result<Dataset, InputError> {
    let (wb, facts) = open_xlsx(path, display)?;
    read_workbook(schema, wb, &facts, display)
}

/// Reads an xlsx workbook held in memory, one worksheet per table (as [`read_xlsx`]).
pub fn read_xlsx_bytes(schema: &Schema, bytes: &[u8], display: &str) -> Result<Dataset, InputError> {
    check_head(bytes.get(..bytes.len().min(8)).unwrap_or_default(), display)?;
    let facts = scan::workbook(Cursor::new(bytes), display)?;
    let wb = Xlsx::new(Cursor::new(bytes)).map_err(|e| malformed(display, lower_first(&e.to_string())))?;
    read_workbook(schema, wb, &facts, display)
}

/// Reads an opened workbook, one worksheet per table: the sheet a person sees (see [`pick_sheet`]),
/// read cell by cell in memory proportional to the cells that hold values.
fn read_workbook<RS: Read + Seek>(
    schema: &Schema,
    mut wb: Xlsx<RS>,
    facts: &scan::Workbook,
    display: &str,
) -> Result<Dataset, InputError> {
    let sheets: Vec<(String, bool)> =
        wb.sheets_metadata().iter().map(|s| (s.name.clone(), s.visible == SheetVisible::Visible)).collect();
    let names: Vec<String> = sheets.iter().map(|(n, _)| n.clone()).collect();
    let mut b = Builder::new(schema, display);
    for t in schema.table_ids() {
        let (pick, note) = pick_sheet(&schema.table(t).sheets, &sheets);
        let Some(i) = pick else {
            if let Some((reason, _)) = note {
                return Err(InputError::Missing { path: display.into(), reason });
            }
            missing(&mut b, t, Kind::Sheet, &names, display)?;
            continue;
        };
        if let Some((message, _)) = note {
            b.issue(InputIssue::of_table(Input::HiddenSheet, t, Severity::Query, message));
        }
        let Some(name) = names.get(i) else { continue };
        loose_name(&mut b, t, name, Kind::Sheet, name);
        let shown: Vec<String> = sheets.iter().map(|(n, v)| if *v { n.clone() } else { String::from("\u{0}") }).collect();
        for j in also_named(&schema.table(t).sheets, &shown, i) {
            if let Some(other) = names.get(j) {
                not_read(&mut b, t, Kind::Sheet, name, other);
            }
        }
        let rows = sheet_rows(&mut wb, name, display)?;
        let lines = rows.iter().map(|(r, cells)| (*r, Line::Xlsx(cells))).collect();
        let merges = facts.merges.get(name).cloned().unwrap_or_default();
        read_table(&mut b, t, &Grid { name: name.clone(), col0: 0, rows: lines, kind: Kind::Sheet, merges });
    }
    Ok(b.finish())
}

/// The rows of a sheet that hold values: each row's 1-based number and its cells with their
/// 0-based columns, in order. A cell given twice keeps its last value, as spreadsheet programs do.
fn sheet_rows<RS: Read + Seek>(wb: &mut Xlsx<RS>, name: &str, display: &str) -> Result<Vec<(u32, Cells)>, InputError> {
    let cannot = |e: calamine::XlsxError| {
        malformed(display, format!("the sheet `{name}` cannot be read ({})", lower_first(&e.to_string())))
    };
    let mut reader = wb.worksheet_cells_reader(name).map_err(cannot)?;
    // Cells come row by row, left to right, as spreadsheet programs write them: they go straight
    // into rows. Out of order, they are gathered again and sorted.
    let mut rows: Vec<(u32, Cells)> = vec![];
    let mut ordered = true;
    while let Some(cell) = reader.next_cell().map_err(cannot)? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        let v = Data::from(cell.get_value().clone());
        match rows.last_mut() {
            Some((last, row)) if *last == r + 1 => match row.last_mut() {
                Some((lc, lv)) if *lc == c => *lv = v,
                Some((lc, _)) if *lc > c => {
                    ordered = false;
                    row.push((c, v));
                }
                _ => row.push((c, v)),
            },
            Some((last, _)) if *last > r + 1 => {
                ordered = false;
                rows.push((r + 1, vec![(c, v)]));
            }
            _ => rows.push((r + 1, vec![(c, v)])),
        }
    }
    drop(reader);
    if ordered {
        return Ok(rows);
    }
    // In the order given, sorted stably, so a cell given twice keeps its last value.
    let mut cells: Vec<(u32, u32, Data)> =
        rows.into_iter().flat_map(|(r, row)| row.into_iter().map(move |(c, v)| (r, c, v))).collect();
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let mut rows: Vec<(u32, Cells)> = vec![];
    for (r, c, v) in cells {
        match rows.last_mut() {
            Some((last, row)) if *last == r => match row.last_mut() {
                Some((lc, lv)) if *lc == c => *lv = v,
                _ => row.push((c, v)),
            },
            _ => rows.push((r, vec![(c, v)])),
        }
    }
    Ok(rows)
}

/// A row's cells that hold values: `(0-based column, value)`, by column.
type Cells = Vec<(u32, Data)>;

/// Picks a table's sheet among `(name, visible)` sheets: a visible sheet with one of the table's
/// names; else, when the sheet of that name is hidden, its one visible copy (`Referrals (2)`, as
/// Excel names a copy), else the hidden sheet itself. The note says what was done about a hidden
/// sheet (`true`: nothing could be read).
fn pick_sheet(wanted: &[String], sheets: &[(String, bool)]) -> (Option<usize>, Option<(String, bool)>) {
    let masked = |visible: bool| -> Vec<String> {
        sheets.iter().map(|(n, v)| if *v == visible { n.clone() } else { String::from("\u{0}") }).collect()
    };
    let (shown, hidden) = (masked(true), masked(false));
    let hidden_name = |h: usize| sheets.get(h).map(|(n, _)| n.clone()).unwrap_or_default();
    if let Some(i) = find_name(wanted, &shown) {
        let note = find_name(wanted, &hidden).map(|h| {
            (
                format!(
                    "the workbook also has a hidden sheet `{}`; the visible sheet `{}` was read",
                    hidden_name(h),
                    hidden_name(i)
                ),
                false,
            )
        });
        return (Some(i), note);
    }
    let Some(h) = find_name(wanted, &hidden) else { return (None, None) };
    let name = hidden_name(h);
    let copies: Vec<usize> = sheets
        .iter()
        .enumerate()
        .filter(|(_, (n, v))| {
            *v && n.trim_end().strip_suffix(')').and_then(|n| n.rsplit_once(" (")).is_some_and(|(base, k)| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) && norm_name(base) == norm_name(&name)
            })
        })
        .map(|(i, _)| i)
        .collect();
    match copies.as_slice() {
        [] => (Some(h), Some((format!("the sheet `{name}` is hidden; it was read, as no visible sheet has its name"), false))),
        [c] => {
            let copy = hidden_name(*c);
            let note = format!("the sheet `{name}` is hidden; its visible copy `{copy}` was read in its place");
            (Some(*c), Some((note, false)))
        }
        many => {
            let list = many.iter().map(|c| format!("`{}`", hidden_name(*c))).collect::<Vec<_>>().join(", ");
            let note = format!(
                "the sheet `{name}` is hidden, and the visible sheets {list} could each be its current copy; rename the one to read `{name}`"
            );
            (None, Some((note, true)))
        }
    }
}

/// Reads CSV files, one per table, each named after its table (or one of its sheet names).
pub fn read_csv(schema: &Schema, files: &[PathBuf], display: &str) -> Result<Dataset, InputError> {
    let files: Vec<CsvFile> = files.iter().map(|f| CsvFile { path: f, shown: csv_name(display, f), bytes: None }).collect();
    read_csv_files(schema, &files, display)
}

/// Reads CSV files held in memory, one per table (as [`read_csv`]): `(name, contents)` pairs, each
/// name a file name or a relative path (`csv/Header.csv`), shown as given in findings.
pub fn read_csv_bytes(schema: &Schema, files: &[(String, Vec<u8>)], display: &str) -> Result<Dataset, InputError> {
    let files: Vec<CsvFile> = files
        .iter()
        .map(|(name, bytes)| CsvFile { path: Path::new(name), shown: name.clone(), bytes: Some(bytes.as_slice()) })
        .collect();
    read_csv_files(schema, &files, display)
}

/// A CSV file to read: on disk, or held in memory.
struct CsvFile<'a> {
    /// Its path (its stem names its table).
    path: &'a Path,
    /// Its name as shown in findings.
    shown: String,
    /// Its contents, when held in memory (else read from `path`).
    bytes: Option<&'a [u8]>,
}

/// Reads CSV files, one per table, each named after its table (or one of its sheet names).
fn read_csv_files(schema: &Schema, files: &[CsvFile], display: &str) -> Result<Dataset, InputError> {
    let stems: Vec<String> =
        files.iter().map(|f| f.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()).collect();
    let mut b = Builder::new(schema, display);
    for t in schema.table_ids() {
        let found = find_name(&schema.table(t).sheets, &stems);
        let Some((file, stem)) = found.and_then(|i| files.get(i).zip(stems.get(i))) else {
            let found: Vec<String> = files.iter().map(|f| file_name(f.path)).collect();
            missing(&mut b, t, Kind::Csv, &found, display)?;
            continue;
        };
        let name = file.shown.clone();
        loose_name(&mut b, t, stem, Kind::Csv, &name);
        for j in found.map(|i| also_named(&schema.table(t).sheets, &stems, i)).unwrap_or_default() {
            if let Some(other) = files.get(j) {
                not_read(&mut b, t, Kind::Csv, &name, &other.shown);
            }
        }
        let records = match file.bytes {
            Some(bytes) => records(bytes, &name)?,
            None => read_records(file.path, &name)?,
        };
        let rows = records.iter().map(|(line, r)| (*line, Line::Csv(r))).collect();
        read_table(&mut b, t, &Grid { name, col0: 0, rows, kind: Kind::Csv, merges: vec![] });
    }
    Ok(b.finish())
}

/// Which kind of file a grid came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sheet,
    Csv,
}

/// One row of cells as the file holds them.
enum Line<'a> {
    /// The cells that hold values, by 0-based column.
    Xlsx(&'a [(u32, Data)]),
    Csv(&'a csv::StringRecord),
}

impl Line<'_> {
    /// The cell in 0-based column `i` of the row; a cell without a value, or past the end of a
    /// ragged row, is empty.
    fn cell(&self, i: usize) -> Raw<'_> {
        match self {
            Line::Xlsx(cells) => u32::try_from(i)
                .ok()
                .and_then(|i| cells.binary_search_by_key(&i, |(c, _)| *c).ok())
                .and_then(|k| cells.get(k))
                .map_or(Raw::Empty, |(_, d)| raw_of(d)),
            Line::Csv(r) => r.get(i).map_or(Raw::Empty, Raw::Text),
        }
    }
    /// The columns that may hold a value.
    fn cols(&self) -> Vec<usize> {
        match self {
            Line::Xlsx(cells) => cells.iter().map(|(c, _)| *c as usize).collect(),
            Line::Csv(r) => (0..r.len()).collect(),
        }
    }
    /// Whether every cell is empty.
    fn is_blank(&self) -> bool {
        self.cols().into_iter().all(|i| text(&self.cell(i)).is_empty())
    }
}

/// One worksheet or CSV file.
struct Grid<'a> {
    /// The sheet's name, or the CSV file's name as shown to users.
    name: String,
    /// Absolute 0-based column of each row's first cell.
    col0: u32,
    /// Each row's 1-based sheet row (or CSV line) and cells.
    rows: Vec<(u32, Line<'a>)>,
    kind: Kind,
    /// Merged ranges of a sheet (near its top).
    merges: Vec<Merge>,
}

/// An xlsx cell as a raw value.
fn raw_of(d: &Data) -> Raw<'_> {
    match d {
        Data::Empty => Raw::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Raw::Text(s),
        Data::Float(x) => Raw::Number(*x),
        Data::Int(n) => Raw::Number(*n as f64),
        Data::Bool(b) => Raw::Bool(*b),
        Data::Error(e) => Raw::Error(e.to_string()),
        Data::DateTime(x) => {
            let (y, m, d, h, min, s, milli) = x.to_ymd_hms_milli();
            let at = chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
                .and_then(|date| date.and_hms_milli_opt(u32::from(h), u32::from(min), u32::from(s), u32::from(milli)));
            match at {
                Some(at) if x.is_datetime() && x.as_f64() >= 1.0 => Raw::Date(at),
                _ => Raw::Number(x.as_f64()),
            }
        }
    }
}

/// A cell's text as it is matched against names and keys (trimmed; numbers without a trailing `.0`).
fn text<'r>(raw: &'r Raw) -> Cow<'r, str> {
    match raw {
        Raw::Empty => Cow::Borrowed(""),
        Raw::Text(s) => Cow::Borrowed(clean(s)),
        Raw::Number(x) => Cow::Owned(Scalar::Dec(*x).display()),
        // The date alone, as the parent's key is matched (a time in a date cell is said when the
        // cell is read as a field: `input::repaired-time-of-day`).
        Raw::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
        Raw::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        Raw::Error(e) => Cow::Borrowed(e.as_str()),
    }
}

/// The index of the first of `found` whose name matches one of `wanted`, trying `wanted` in order:
/// a name spelt exactly first, else one that matches through [`norm_name`].
fn find_name(wanted: &[String], found: &[String]) -> Option<usize> {
    if let Some(i) = wanted.iter().find_map(|w| found.iter().position(|f| f == w)) {
        return Some(i);
    }
    let found: Vec<String> = found.iter().map(|s| norm_name(s)).collect();
    wanted.iter().find_map(|w| {
        let w = norm_name(w);
        found.iter().position(|f| *f == w)
    })
}

/// Says that a table's sheet (or CSV file, by its name without `.csv`) was found under a name
/// `found` that spells none of the table's sheet names exactly, but matches one loosely (another
/// case, spaces around it, a space or hyphen for an underscore): an info, as
/// `input::repaired-header` is for a column header, so that nothing is read otherwise without a
/// word. `shown` is the sheet's name, or the CSV file's as shown in findings.
fn loose_name(b: &mut Builder, t: TableId, found: &str, kind: Kind, shown: &str) {
    let ts = b.schema().table(t);
    if ts.sheets.iter().any(|w| w == found) {
        return;
    }
    let n = norm_name(found);
    let Some(meant) = ts.sheets.iter().find(|w| norm_name(w) == n) else { return };
    let message = match kind {
        Kind::Sheet => format!(
            "the sheet `{}` was read as the sheet `{meant}` (table `{}`), a name not written as the template writes it",
            super::builder::shown_spaces(shown),
            ts.name
        ),
        Kind::Csv => format!(
            "the file `{}` was read as `{meant}.csv` (table `{}`), a name not written as the template writes it",
            super::builder::shown_spaces(shown),
            ts.name
        ),
    };
    b.issue(InputIssue::of_table(Input::RepairedSheetName, t, Severity::Info, message));
}

/// The others of `found` than `picked` whose names also match one of `wanted` (see [`find_name`]).
fn also_named(wanted: &[String], found: &[String], picked: usize) -> Vec<usize> {
    let wanted: Vec<String> = wanted.iter().map(|w| norm_name(w)).collect();
    found.iter().enumerate().filter(|(j, f)| *j != picked && wanted.contains(&norm_name(f))).map(|(j, _)| j).collect()
}

/// Says that a sheet (or CSV file) that also names table `t` was not read, as `read` was: an error,
/// since its rows are not in the return that fettle checked (a run is not clean with a file unread).
fn not_read(b: &mut Builder, t: TableId, kind: Kind, read: &str, other: &str) {
    let what = if kind == Kind::Sheet { "sheet" } else { "file" };
    let message = format!(
        "the {what} `{}` was not read: its name also matches the table `{}` (case and spaces aside), whose {what} `{}` was read; keep one of them",
        super::builder::shown_spaces(other),
        b.schema().table(t).name,
        super::builder::shown_spaces(read),
    );
    b.issue(InputIssue::of_table(Input::DuplicateSheet, t, Severity::Error, message));
}

/// Reports a table whose sheet (or file) is absent: an error for a top table with required fields,
/// an issue for a child table with required fields, nothing otherwise.
fn missing(b: &mut Builder, t: TableId, kind: Kind, found: &[String], display: &str) -> Result<(), InputError> {
    let ts = b.schema().table(t);
    if !ts.data_fields().any(|(_, f)| f.required) {
        return Ok(());
    }
    let (what, ext) = if kind == Kind::Sheet { ("sheet", "") } else { ("file", ".csv") };
    if ts.parent.is_none() {
        let have = match (found.is_empty(), kind) {
            (true, Kind::Sheet) => "the workbook has no sheets".to_string(),
            (true, Kind::Csv) => "no CSV files were given".to_string(),
            (false, Kind::Sheet) => format!("the workbook has sheets {}", found.join(", ")),
            (false, Kind::Csv) => format!("the files given are {}", found.join(", ")),
        };
        return Err(InputError::Missing {
            path: display.into(),
            reason: format!("the {what} `{}{ext}` is missing; {have}", ts.name),
        });
    }
    let expected = ts.sheets.iter().map(|s| format!("`{s}{ext}`")).collect::<Vec<_>>().join(", ");
    let message = format!("the {what} `{}{ext}` is missing (expected one of: {expected})", ts.name);
    b.issue(InputIssue::of_table(Input::MissingSheet, t, Severity::Error, message));
    Ok(())
}

/// Normalised header names a table's sheet may use.
struct Names {
    /// Data fields, by their names and header synonyms.
    fields: HashMap<String, FieldId>,
    /// Parts of the parent's full key, by their field names and header synonyms.
    links: HashMap<String, usize>,
}

impl Names {
    fn of(schema: &Schema, t: TableId) -> Names {
        let mut fields = HashMap::new();
        for (f, fs) in schema.table(t).data_fields() {
            for n in std::iter::once(&fs.name).chain(&fs.headers) {
                fields.entry(norm_name(n)).or_insert(f);
            }
        }
        let mut links = HashMap::new();
        if let Some(p) = schema.table(t).parent {
            for (i, (kt, kf)) in full_key(schema, p).into_iter().enumerate() {
                let fs = schema.field(kt, kf);
                for n in std::iter::once(&fs.name).chain(&fs.headers) {
                    links.entry(norm_name(n)).or_insert(i);
                }
            }
        }
        Names { fields, links }
    }
    /// Whether a header cell names a field or a key part.
    fn knows(&self, n: &str) -> bool {
        self.fields.contains_key(n) || self.links.contains_key(n)
    }
    /// The name of the field (else the key part) that the header `written` (normalised: `n`) is
    /// read as, when `written` spells none of its names exactly; `None` when it does.
    fn loose(&self, schema: &Schema, t: TableId, n: &str, written: &str) -> Option<String> {
        let spelt = |fs: &crate::schema::FieldSchema| {
            let exact = std::iter::once(&fs.name).chain(&fs.headers).any(|h| h == written);
            (!exact).then(|| fs.name.clone())
        };
        if let Some(f) = self.fields.get(n) {
            return spelt(schema.field(t, *f));
        }
        let p = schema.table(t).parent?;
        let k = *self.links.get(n)?;
        let (kt, kf) = full_key(schema, p).into_iter().nth(k)?;
        spelt(schema.field(kt, kf))
    }
}

/// The key fields that identify a row of `t` in the whole file: its root's key first, then each
/// table's key down to `t`'s own.
fn full_key(schema: &Schema, t: TableId) -> Vec<(TableId, FieldId)> {
    let mut chain = schema.ancestors(t);
    chain.reverse();
    chain.push(t);
    chain.into_iter().flat_map(|a| schema.table(a).key.iter().map(move |f| (a, *f))).collect()
}

/// The header row: among the first non-empty rows, the one naming the most fields (the first of
/// equals). `None` when no row names any.
fn find_header<'g>(grid: &'g Grid, names: &Names) -> Option<(usize, &'g Line<'g>)> {
    let mut best: Option<(usize, &Line, usize)> = None;
    for (i, (_, line)) in grid.rows.iter().enumerate().filter(|(_, (_, l))| !l.is_blank()).take(HEADER_SCAN) {
        let hits = line.cols().into_iter().filter(|c| names.knows(&norm_name(&text(&line.cell(*c))))).count();
        if hits > 0 && best.is_none_or(|(.., h)| hits > h) {
            best = Some((i, line, hits));
        }
    }
    best.map(|(i, line, _)| (i, line))
}

/// Which column holds each field and each part of the parent's key.
struct Columns {
    /// Column of each schema field (relative to the grid's first column).
    fields: Vec<Option<usize>>,
    /// Column of each part of the parent's full key.
    links: Vec<Option<usize>>,
    /// Header cells that name no field and no key part: `(column, text)`.
    unknown: Vec<(usize, String)>,
    /// Header cells read as a field or key part whose name they do not spell exactly (another
    /// case, spaces around, a space or hyphen for an underscore): `(column, text as written, the
    /// name read)`.
    loose: Vec<(usize, String, String)>,
}

impl Columns {
    /// Maps the header row's cells, reporting duplicate columns.
    fn of(b: &mut Builder, t: TableId, names: &Names, header: &Line, sheet: &str) -> Columns {
        let schema = b.schema();
        let mut cols = Columns {
            fields: vec![None; schema.table(t).fields.len()],
            links: vec![None; names.links.values().max().map_or(0, |m| m + 1)],
            unknown: vec![],
            loose: vec![],
        };
        for c in header.cols() {
            let cell = header.cell(c);
            let said = text(&cell);
            let n = norm_name(&said);
            if !n.is_empty() && !names.knows(&n) {
                cols.unknown.push((c, said.into_owned()));
                continue;
            }
            if let Raw::Text(written) = cell
                && let Some(name) = names.loose(schema, t, &n, written)
            {
                cols.loose.push((c, written.to_string(), name));
            }
            if let Some(k) = names.links.get(&n).and_then(|k| cols.links.get_mut(*k))
                && k.is_none()
            {
                *k = Some(c);
            }
            let Some(f) = names.fields.get(&n).copied() else {
                continue;
            };
            match cols.fields.get_mut(f.0 as usize) {
                Some(slot @ None) => *slot = Some(c),
                Some(Some(_)) => b.issue(InputIssue {
                    line: 0,
                    path: None,
                    code: Input::DuplicateColumn.into(),
                    table: Some(t),
                    field: Some(f),
                    row: None,
                    message: format!(
                        "the column `{}` appears twice in sheet `{sheet}`; only the first is read",
                        schema.field(t, f).name
                    ),
                    severity: Severity::Query,
                    cause: None,
                    cell: None,
                }),
                None => {}
            }
        }
        cols
    }
    /// Whether `line` is the header row again: every column this table reads (at least two) holds
    /// its header's name.
    fn repeats(&self, line: &Line, header: &Line) -> bool {
        let read: Vec<usize> = self.fields.iter().flatten().copied().collect();
        read.len() >= 2 && read.iter().all(|c| norm_name(&text(&line.cell(*c))) == norm_name(&text(&header.cell(*c))))
    }
    /// Whether every cell this table reads is empty in `line`.
    fn is_blank(&self, line: &Line) -> bool {
        self.fields.iter().chain(&self.links).flatten().all(|c| text(&line.cell(*c)).is_empty())
    }
}

/// Reads one table from its grid.
fn read_table(b: &mut Builder, t: TableId, grid: &Grid) {
    let schema = b.schema();
    let ts = schema.table(t);
    let names = Names::of(schema, t);
    let Some((h, header)) = find_header(grid, &names) else {
        let message = format!("no header row naming the columns of `{}` was found in `{}`", ts.name, grid.name);
        b.issue(InputIssue::of_table(Input::NoHeader, t, Severity::Error, message));
        return;
    };
    let cols = Columns::of(b, t, &names, header, &grid.name);
    let hint = merged_header(b, t, grid, h, &names);
    let abs: Vec<Option<u32>> = cols.fields.iter().map(|c| c.map(|c| grid.col0 + c as u32)).collect();
    if let Some(tbl) = b.data_mut().tables.get_mut(t.0 as usize) {
        tbl.origin = match grid.kind {
            Kind::Sheet => Origin::Sheet { sheet: grid.name.clone(), cols: abs },
            Kind::Csv => Origin::Csv { file: grid.name.clone(), cols: abs },
        };
    }
    let link = ts.parent.map(|p| Link::new(b, t, p, &cols, &grid.name));
    // The length and patterns the return's XML schema gives each field's element (the CIN census:
    // LAchildID, UPN, FormerUPN, LEA, SerialNo), checked here as the DfE checks the XML.
    let mut shapes: Vec<Option<(&crate::layout::ValueRule, &str)>> = vec![None; ts.fields.len()];
    for e in schema.layout.iter().flat_map(|l| &l.elements) {
        if let Some((et, ef)) = e.field
            && et == t
            && (e.value.length.is_some() || !e.value.patterns.is_empty())
            && let Some(slot @ None) = shapes.get_mut(ef.0 as usize)
        {
            *slot = Some((&e.value, e.name.as_str()));
        }
    }
    for (pos, line) in grid.rows.iter().skip(h + 1) {
        if cols.is_blank(line) {
            continue;
        }
        if cols.repeats(line, header) {
            let place = match grid.kind {
                Kind::Sheet => format!("row {pos} of sheet `{}`", grid.name),
                Kind::Csv => format!("line {pos} of `{}`", grid.name),
            };
            let message = format!("{place} repeats the header row (were two files joined?); it is not read as data");
            b.issue(InputIssue::of_table(Input::RepeatedHeader, t, Severity::Error, message));
            continue;
        }
        let (parent, unknown) = link.as_ref().map_or((NONE, None), |l| l.find(line, &cols));
        let row = b.add_row(t, parent, *pos);
        if let Some((message, cause)) = unknown {
            b.issue(InputIssue {
                line: 0,
                path: None,
                code: Input::UnknownParent.into(),
                table: Some(t),
                field: None,
                row: Some(row),
                message,
                severity: Severity::Error,
                cause: Some(cause),
                cell: None,
            });
        }
        for (f, c) in cols.fields.iter().enumerate() {
            let raw = c.map_or(Raw::Empty, |c| line.cell(c));
            if !matches!(raw, Raw::Empty) {
                b.set(t, row, FieldId(f as u32), &raw, *pos);
                if let Some(Some((rule, elem))) = shapes.get(f) {
                    b.check_shape(t, row, FieldId(f as u32), rule, elem);
                }
            }
        }
    }
    let header_pos = grid.rows.get(h).map_or(1, |(pos, _)| *pos);
    present_columns(b, t, &cols, grid, &hint, header_pos);
}

/// Says which columns each header cell merged over several columns spans (only its first column
/// has the header's text), and returns a hint for messages about missing columns.
fn merged_header(b: &mut Builder, t: TableId, grid: &Grid, h: usize, names: &Names) -> String {
    let Some((pos, header)) = grid.rows.get(h) else { return String::new() };
    let at = pos.saturating_sub(1);
    let spans: Vec<Merge> = grid.merges.iter().copied().filter(|m| m.0 <= at && at <= m.2 && m.3 > m.1).collect();
    for &(r0, c0, _, c1) in &spans {
        let head = if r0 == at { text(&header.cell(c0 as usize)).into_owned() } else { String::new() };
        let (first, last) = (col_letters(c0), col_letters(c1));
        let rest =
            if c1 == c0 + 1 { format!("column {last} has") } else { format!("columns {} to {last} have", col_letters(c0 + 1)) };
        let field = names.fields.get(&norm_name(&head)).map(|f| b.schema().field(t, *f).name.clone());
        let message = match field {
            Some(f) => format!(
                "the header `{head}` in sheet `{}` is one cell merged over columns {first} to {last}: column {first} is read as `{f}`, and {rest} no header of its own, so what is under it is not read",
                grid.name
            ),
            None => {
                let said = if head.is_empty() { String::new() } else { format!(" (`{head}`)") };
                format!(
                    "the header row of sheet `{}` has a cell merged over columns {first} to {last}{said}: {rest} no header of its own, so what is under it is not read",
                    grid.name
                )
            }
        };
        b.issue(InputIssue::of_table(Input::MergedHeader, t, Severity::Query, message));
    }
    if spans.is_empty() {
        return String::new();
    }
    let list: Vec<String> =
        spans.iter().map(|&(r0, c0, r1, c1)| format!("{}{}:{}{}", col_letters(c0), r0 + 1, col_letters(c1), r1 + 1)).collect();
    format!(
        " (the header row has cells merged over several columns, {}, and a merged cell keeps only its first column's header)",
        list.join(", ")
    )
}

/// Marks the fields found as present; reports columns that are absent, once each with the rows it
/// leaves without a value (an error when the column is required; else an info that `eval::fold`
/// keeps only when a rule needs the column, raised to that rule's severity, and the rules that need
/// it do not run), and header
/// cells that name no column of the table, with the column they may have meant. A misspelt header
/// of a missing column is said in that column's finding, not again on its own. `hint` ends the
/// message about a missing column. `header_pos` is the header row's sheet row (CSV line), where
/// the findings about header cells point.
fn present_columns(b: &mut Builder, t: TableId, cols: &Columns, grid: &Grid, hint: &str, header_pos: u32) {
    let schema = b.schema();
    let ts = schema.table(t);
    let place = match grid.kind {
        Kind::Sheet => format!("sheet `{}`", grid.name),
        Kind::Csv => format!("file `{}`", grid.name),
    };
    let rows = b.data().table(t).map_or(0, |x| x.len);
    // The builder numbers an ordinal key that the file lacks.
    let numbered = if ts.ordinal { ts.key.last().copied() } else { None };
    // What each unknown header may have meant: a field or key part of the table, by name.
    let mut known: Vec<&str> = vec![];
    for (_, fs) in ts.data_fields() {
        known.push(&fs.name);
        known.extend(fs.headers.iter().map(String::as_str));
    }
    if let Some(p) = ts.parent {
        known.extend(full_key(schema, p).into_iter().map(|(kt, kf)| schema.field(kt, kf).name.as_str()));
    }
    let meant = |head: &str| -> Option<&str> {
        let lower = head.to_lowercase();
        let mut best: Option<(f64, &str)> = None;
        for c in &known {
            let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
            if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, c));
            }
        }
        best.map(|(_, c)| c)
    };
    for (c, written, name) in &cols.loose {
        let at = col_letters(grid.col0 + *c as u32);
        let message = format!(
            "the column headed `{}` (column {at}) in {place} was read as `{name}`, a header not written as the template writes it",
            super::builder::shown_spaces(written)
        );
        let cell = Some((grid.col0 + *c as u32, header_pos));
        b.issue(InputIssue { cell, ..InputIssue::of_table(Input::RepairedHeader, t, Severity::Info, message) });
    }
    let mut said = vec![false; cols.unknown.len()];
    for (f, fs) in ts.data_fields() {
        if cols.fields.get(f.0 as usize).copied().flatten().is_some() {
            b.mark_present(t, f);
        } else if numbered != Some(f) {
            let names: Vec<String> = std::iter::once(&fs.name).chain(&fs.headers).map(|n| norm_name(n)).collect();
            let misspelt = cols.unknown.iter().position(|(_, head)| meant(head).is_some_and(|m| names.contains(&norm_name(m))));
            let mut cell = None;
            let also = match misspelt.and_then(|i| cols.unknown.get(i).map(|u| (i, u))) {
                Some((i, (c, head))) => {
                    if let Some(s) = said.get_mut(i) {
                        *s = true;
                    }
                    cell = Some((grid.col0 + *c as u32, header_pos));
                    format!(
                        "; column {} is headed `{head}`: did you mean `{}`? (the DfE's name is needed for it to be read)",
                        col_letters(grid.col0 + *c as u32),
                        fs.name
                    )
                }
                None => String::new(),
            };
            let none = match rows {
                0 => String::new(),
                1 => ", so its one row has no value for it".to_string(),
                n => format!(", so none of its {n} rows has a value for it"),
            };
            let message = format!("the column `{}` is missing from {place}{hint}{none}{also}", fs.name);
            b.issue(InputIssue {
                line: 0,
                path: None,
                code: Input::MissingColumn.into(),
                table: Some(t),
                field: Some(f),
                row: None,
                message,
                // An optional column is said only when a rule needs it (`eval::fold`).
                severity: if fs.required { Severity::Error } else { Severity::Info },
                cause: None,
                cell,
            });
        }
    }
    // A header that may be a misspelling is said on its own; the others are one finding per sheet.
    let mut plain: Vec<String> = vec![];
    let mut first_plain = None;
    let at_header = |c: &usize| Some((grid.col0 + *c as u32, header_pos));
    for ((c, head), _) in cols.unknown.iter().zip(&said).filter(|(_, s)| !**s) {
        let at = col_letters(grid.col0 + *c as u32);
        let Some(m) = meant(head) else {
            plain.push(format!("`{head}` (column {at})"));
            first_plain = first_plain.or(at_header(c));
            continue;
        };
        let message = format!(
            "the column `{head}` (column {at}) in {place} is not a column of `{}`, so what is under it is not read; did you mean `{m}`?",
            ts.name
        );
        b.issue(InputIssue { cell: at_header(c), ..InputIssue::of_table(Input::UnknownColumn, t, Severity::Query, message) });
    }
    let message = match plain.as_slice() {
        [] => return,
        [one] => format!("the column {one} in {place} is not a column of `{}`, so what is under it is not read", ts.name),
        many => {
            let shown: Vec<&str> = many.iter().take(5).map(String::as_str).collect();
            let more = if many.len() > 5 { format!(" and {} more", many.len() - 5) } else { String::new() };
            format!(
                "{} columns in {place} are not columns of `{}`, so what is under them is not read: {}{more}",
                many.len(),
                ts.name,
                shown.join(", ")
            )
        }
    };
    b.issue(InputIssue { cell: first_plain, ..InputIssue::of_table(Input::UnknownColumn, t, Severity::Query, message) });
}

/// Finds parent rows by the parent's full key.
struct Link {
    /// The parent table's name, for messages.
    parent: String,
    /// The names of the key's parts, for messages.
    parts: Vec<String>,
    /// Parent rows by joined key text.
    rows: HashMap<String, u32>,
    /// Every leading part of those keys (`C1`, `C1\u{1f}2`), to say which part matched no row.
    prefixes: std::collections::HashSet<String>,
    /// The parent's only row, when its key is empty.
    single: Option<u32>,
    /// Whether every key column is present (otherwise no row is linked and no row is reported).
    usable: bool,
}

impl Link {
    /// Indexes the rows already read into `p`; reports key columns that `t`'s sheet lacks.
    fn new(b: &mut Builder, t: TableId, p: TableId, cols: &Columns, sheet: &str) -> Link {
        let schema = b.schema();
        let key = full_key(schema, p);
        let parts: Vec<String> = key.iter().map(|(kt, kf)| schema.field(*kt, *kf).name.clone()).collect();
        let mut rows = HashMap::new();
        let len = b.data().table(p).map_or(0, |x| x.len) as u32;
        let mut dups: Vec<(String, u32)> = vec![];
        for r in 0..len {
            // A row with a missing key value cannot be told apart from others: it is never linked.
            if let Some(k) = row_key(schema, b.data(), p, r).filter(|k| !key.is_empty() && !k.split('\u{1f}').any(str::is_empty))
            {
                match rows.entry(k) {
                    std::collections::hash_map::Entry::Occupied(e) => dups.push((e.key().clone(), r)),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(r);
                    }
                }
            }
        }
        for (k, r) in dups {
            let said = parts.iter().zip(k.split('\u{1f}')).map(|(n, v)| format!("{n} `{v}`")).collect::<Vec<_>>().join(", ");
            b.issue(InputIssue {
                line: 0,
                path: None,
                code: Input::DuplicateKey.into(),
                table: Some(p),
                field: None,
                row: Some(r),
                message: format!(
                    "another `{}` row has {said}; rows of `{}` are linked to the first",
                    schema.table(p).name,
                    schema.table(t).name
                ),
                severity: Severity::Error,
                cause: None,
                cell: None,
            });
        }
        let mut usable = true;
        for (name, c) in parts.iter().zip(&cols.links) {
            if c.is_none() {
                usable = false;
                let message = format!(
                    "the column `{name}` is missing from sheet `{sheet}`, so its rows cannot be linked to `{}`",
                    schema.table(p).name
                );
                b.issue(InputIssue::of_table(Input::MissingColumn, t, Severity::Error, message));
            }
        }
        let single = (key.is_empty() && len > 0).then_some(0);
        let mut prefixes = std::collections::HashSet::new();
        for k in rows.keys() {
            let mut at = 0;
            while let Some(i) = k.get(at..).and_then(|rest| rest.find('\u{1f}')) {
                prefixes.insert(k.get(..at + i).unwrap_or_default().to_string());
                at += i + 1;
            }
        }
        Link { parent: schema.table(p).name.clone(), parts, rows, prefixes, single, usable }
    }

    /// The parent row of `line`, or [`NONE`] and why: a message, and the cause that rows of any
    /// table unlinked for the same reason share (`no LAchildID`, ``LAchildID `C9` ``).
    fn find(&self, line: &Line, cols: &Columns) -> (u32, Option<(String, String)>) {
        if self.parts.is_empty() {
            return (self.single.unwrap_or(NONE), None);
        }
        if !self.usable {
            return (NONE, None);
        }
        let values: Vec<String> =
            cols.links.iter().map(|c| c.map_or_else(String::new, |c| key_text(&text(&line.cell(c))))).collect();
        if let Some((n, _)) = self.parts.iter().zip(&values).find(|(_, v)| v.is_empty()) {
            return (
                NONE,
                Some((format!("the row has no {n}, so it cannot be linked to its `{}` row", self.parent), format!("no {n}"))),
            );
        }
        if let Some(r) = self.rows.get(&values.join("\u{1f}")) {
            return (*r, None);
        }
        let said =
            |k: usize| self.parts.iter().zip(&values).take(k).map(|(n, v)| format!("{n} `{v}`")).collect::<Vec<_>>().join(", ");
        // The cause is the first leading part of the key that no row has: rows of a child that is
        // not in the file share it whatever their own parts.
        let known =
            (1..values.len()).take_while(|k| self.prefixes.contains(&values.get(..*k).unwrap_or_default().join("\u{1f}")));
        let cause = said(known.last().map_or(1, |k| k + 1));
        (NONE, Some((format!("no `{}` row has {}", self.parent, said(values.len())), cause)))
    }
}

/// The joined full key of row `r` of `p`, walking up its parent links; `None` when unlinked.
fn row_key(schema: &Schema, data: &Dataset, p: TableId, r: u32) -> Option<String> {
    let mut parts: Vec<String> = vec![];
    let (mut t, mut row) = (p, r);
    for _ in 0..=schema.tables.len() {
        let tbl = data.table(t)?;
        let ts = schema.table(t);
        let numbered = if ts.ordinal { ts.key.last().copied() } else { None };
        let mut own: Vec<String> = ts.key.iter().map(|f| key_value(tbl, *f, row, numbered == Some(*f))).collect();
        own.append(&mut parts);
        parts = own;
        let Some(up) = ts.parent else {
            return Some(parts.join("\u{1f}"));
        };
        row = *tbl.parent.get(row as usize)?;
        if row == NONE {
            return None;
        }
        t = up;
    }
    None
}

/// One key value of a row as text: its value, else its invalid raw text, else its ordinal.
fn key_value(tbl: &Table, f: FieldId, row: u32, numbered: bool) -> String {
    match (tbl.col(f).map(|c| (c.get(row).unwrap_or(&Scalar::Null), c.raw(row))), numbered) {
        (Some((Scalar::Null, Some(raw))), _) => key_text(raw),
        (Some((Scalar::Null, None)) | None, true) => tbl.ordinal.get(row as usize).map(u32::to_string).unwrap_or_default(),
        (Some((Scalar::Null, None)) | None, false) => String::new(),
        (Some((v, _)), _) => key_text(&v.display()),
    }
}

/// Key text as compared: trimmed, and `1.0` written `1` so numbers and text match.
fn key_text(s: &str) -> String {
    let s = clean(s);
    match s.parse::<f64>() {
        Ok(x) if s.contains('.') && x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        _ => s.to_string(),
    }
}

/// Opens a workbook once [`scan::workbook`] has passed it, explaining files that are not xlsx
/// workbooks.
fn open_xlsx(path: &Path, display: &str) -> Result<(Xlsx<BufReader<File>>, scan::Workbook), InputError> {
    let io = |source| InputError::Io { path: display.into(), source };
    let mut file = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut head).map_err(io)?;
    check_head(&head, display)?;
    file.rewind().map_err(io)?;
    let facts = scan::workbook(BufReader::new(file), display)?;
    let wb = calamine::open_workbook::<Xlsx<_>, _>(path).map_err(|e| malformed(display, lower_first(&e.to_string())))?;
    Ok((wb, facts))
}

/// Explains, from its first bytes, a file that is not an xlsx workbook.
fn check_head(head: &[u8], display: &str) -> Result<(), InputError> {
    if head.is_empty() {
        return Err(malformed(display, "the file is empty".into()));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let why = "it is an old .xls workbook or a password-protected one; save it as an unprotected .xlsx workbook";
        return Err(malformed(display, why.into()));
    }
    if !head.starts_with(b"PK") {
        return Err(malformed(display, "it is not a zip archive, as xlsx workbooks are".into()));
    }
    Ok(())
}

fn malformed(display: &str, reason: String) -> InputError {
    InputError::Malformed { path: display.into(), format: "xlsx", reason }
}

/// `Zip error: ...` as `zip error: ...`.
fn lower_first(s: &str) -> String {
    let mut cs = s.chars();
    cs.next().map(|c| c.to_lowercase().chain(cs).collect()).unwrap_or_default()
}

/// A file's name (its last path component).
fn file_name(f: &Path) -> String {
    f.file_name().map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// A CSV file's name as shown to users: the folder given joined with the file's name, or the file
/// itself when a CSV file was given.
fn csv_name(display: &str, file: &Path) -> String {
    let given = Path::new(display);
    if given.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        file.display().to_string()
    } else {
        given.join(file_name(file)).display().to_string()
    }
}

/// A CSV file's records with their 1-based line numbers. The file is checked in chunks first
/// ([`scan::csv`]), so one that fettle refuses is never read whole.
fn read_records(file: &Path, name: &str) -> Result<Vec<(u32, csv::StringRecord)>, InputError> {
    let io = |source| InputError::Io { path: name.into(), source };
    let head = read_head(file).map_err(io)?;
    scan::csv(BufReader::new(File::open(file).map_err(io)?), name, delimiter(&decode(&head)))?;
    let bytes = std::fs::read(file).map_err(io)?;
    records(&bytes, name)
}

/// The first 64 KB of a file.
fn read_head(file: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD_BYTES);
    File::open(file)?.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Bytes read from the start of a CSV file to pick its separator and, when sniffing, its headers.
const HEAD_BYTES: usize = 64 * 1024;

/// The records in the first 64 KB of a CSV file (its complete lines), for sniffing.
fn head_records(file: &Path, name: &str) -> Result<Vec<(u32, csv::StringRecord)>, InputError> {
    let head = read_head(file).map_err(|source| InputError::Io { path: name.into(), source })?;
    records(whole_lines(&head), name)
}

/// The bytes up to the last line break, when a file's head was cut (all of them when there is none).
fn whole_lines(head: &[u8]) -> &[u8] {
    if head.len() < HEAD_BYTES {
        return head;
    }
    memchr::memrchr(b'\n', head).and_then(|i| head.get(..=i)).unwrap_or(head)
}

/// The records of a CSV file's contents with their 1-based line numbers, once [`scan::csv`] has
/// passed them.
fn records(bytes: &[u8], name: &str) -> Result<Vec<(u32, csv::StringRecord)>, InputError> {
    let head = bytes.get(..bytes.len().min(HEAD_BYTES)).unwrap_or_default();
    scan::csv(bytes, name, delimiter(&decode(head)))?;
    let text = decode(bytes);
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter(&text)).from_reader(text.as_bytes());
    let bytes = text.as_bytes();
    let (mut out, mut at, mut line) = (vec![], 0, 1);
    for rec in rdr.records() {
        let rec =
            rec.map_err(|e| InputError::Malformed { path: name.into(), format: "CSV", reason: lower_first(&e.to_string()) })?;
        // The csv crate's own line numbers lag a line after `\r\n`: count from the record's byte.
        let mut start = rec.position().map_or(at, |p| p.byte() as usize).max(at);
        while let Some(b'\r' | b'\n') = bytes.get(start) {
            start += 1;
        }
        line += bytes.get(at..start).map_or(0, line_breaks);
        at = start;
        out.push((line, rec));
    }
    Ok(out)
}

/// The separator of a CSV file: `,`, or `;` or a tab when the first lines hold more of those (Excel
/// in many European locales saves "CSV" with semicolons). Quoted text is not counted.
fn delimiter(text: &str) -> u8 {
    let (mut comma, mut semicolon, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for line in text.lines().filter(|l| !l.trim().is_empty()).take(10) {
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => comma += 1,
                ';' if !quoted => semicolon += 1,
                '\t' if !quoted => tab += 1,
                _ => {}
            }
        }
    }
    if semicolon > comma && semicolon >= tab {
        b';'
    } else if tab > comma && tab > semicolon {
        b'\t'
    } else {
        b','
    }
}

/// Line breaks in `s`: `\n`, `\r\n` or a lone `\r`.
fn line_breaks(s: &[u8]) -> u32 {
    let next = s.iter().skip(1).map(Some).chain([None]);
    s.iter().zip(next).filter(|(b, n)| **b == b'\n' || (**b == b'\r' && *n != Some(&b'\n'))).count() as u32
}

/// Text of a CSV file: UTF-8 (BOM dropped), UTF-16 with a BOM, or else Windows-1252.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return Cow::Owned(utf16(rest, u16::from_le_bytes));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return Cow::Owned(utf16(rest, u16::from_be_bytes));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|b| windows_1252(*b)).collect()),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|c| match c {
        [a, b] => unit([*a, *b]),
        _ => 0,
    });
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// Windows-1252 characters for bytes 0x80 to 0x9F (undefined ones kept as C1 controls).
const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘', '’', '“', '”',
    '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

fn windows_1252(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252.get(usize::from(b - 0x80)).copied().unwrap_or(char::REPLACEMENT_CHARACTER),
        _ => char::from(b),
    }
}

#[cfg(test)]
#[path = "sheet_tests.rs"]
mod tests;
