//! The in-memory data model: tables of typed columns, each row linked to its parent row, and each
//! value's origin (sheet and cell, CSV line, XML element and line).
//!
//! Built by the readers (fettle-io's `input`, and [`records`] for rules' example rows) through
//! [`builder::Builder`], which types every cell with [`coerce`]; read by `eval` and `report`. Tables
//! are indexed by the schema's `TableId`; columns by `FieldId` (derived fields get their columns
//! from `eval`).

pub mod builder;
pub mod coerce;
pub mod records;

use crate::schema::{FieldId, Schema, TableId};
use std::sync::Arc;

/// "No row": a parent link that could not be made.
pub const NONE: u32 = u32::MAX;

/// A value. Dates are days from the common era (0001-01-01 is day 1).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Scalar {
    /// Missing (absent, empty, or not valid for its type).
    #[default]
    Null,
    /// Yes/no.
    Bool(bool),
    /// Whole number.
    Int(i64),
    /// Decimal.
    Dec(f64),
    /// Date.
    Date(i32),
    /// Text.
    Text(Arc<str>),
    /// A list of values.
    List(Arc<[Scalar]>),
}

impl Scalar {
    /// Whether the value is missing.
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }
    /// The value as it is shown to users: dates `YYYY-MM-DD`, lists comma-separated.
    pub fn display(&self) -> String {
        match self {
            Scalar::Null => String::new(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(n) => n.to_string(),
            Scalar::Dec(x) => {
                if x.fract() == 0.0 && x.abs() < 1e15 {
                    format!("{x:.0}")
                } else {
                    let s = format!("{x:.4}");
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                }
            }
            Scalar::Date(d) => date_string(*d),
            Scalar::Text(t) => t.to_string(),
            Scalar::List(xs) => xs.iter().map(Scalar::display).collect::<Vec<_>>().join(", "),
        }
    }
}

/// Spreadsheet column letters for a 0-based column.
pub fn col_letters(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(char::from(b'A' + (c % 26) as u8));
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.iter().rev().collect()
}

/// A date as `YYYY-MM-DD`.
pub fn date_string(days: i32) -> String {
    chrono::NaiveDate::from_num_days_from_ce_opt(days).map_or_else(|| format!("day {days}"), |d| d.format("%Y-%m-%d").to_string())
}

/// One column: a value per row, the raw text of values that did not fit the type, and per-cell lines.
#[derive(Clone, Debug, Default)]
pub struct Column {
    /// A value per row.
    pub values: Vec<Scalar>,
    /// `(row, raw text)` of values that did not fit the field's type (they are `Null` in `values`).
    pub invalid: Vec<(u32, Arc<str>)>,
    /// Source line of each cell (XML), 0 when absent.
    pub lines: Option<Vec<u32>>,
    /// Whether the file had this column at all.
    pub present: bool,
}

impl Column {
    /// The raw text of an invalid value in `row`.
    pub fn raw(&self, row: u32) -> Option<&Arc<str>> {
        self.invalid.binary_search_by_key(&row, |(r, _)| *r).ok().and_then(|i| self.invalid.get(i)).map(|(_, t)| t)
    }
    /// The value in `row`; `None` when the column has no such row (every column of a table has a
    /// value per row, so the caller's lookup was wrong: `eval` makes that an engine fault).
    pub fn get(&self, row: u32) -> Option<&Scalar> {
        self.values.get(row as usize)
    }
}

/// Where a table's rows came from.
#[derive(Clone, Debug, Default)]
pub enum Origin {
    /// Built in memory (examples).
    #[default]
    Memory,
    /// A worksheet: its name and the 0-based sheet column of each field.
    Sheet {
        /// The sheet's name.
        sheet: String,
        /// Column of each field.
        cols: Vec<Option<u32>>,
    },
    /// A CSV file: its name and the 0-based column of each field.
    Csv {
        /// The file's name.
        file: String,
        /// Column of each field.
        cols: Vec<Option<u32>>,
    },
    /// XML elements: the path of the row elements.
    Xml {
        /// Element path of a row (`Message/Children/Child/CINdetails`).
        path: String,
        /// Element path of each field below the row's element.
        fields: Vec<String>,
    },
}

/// One table's rows.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Number of rows.
    pub len: usize,
    /// A column per schema field.
    pub columns: Vec<Column>,
    /// The parent row of each row ([`NONE`] when not linked); empty for top tables.
    pub parent: Vec<u32>,
    /// 1-based position of each row within its parent (XML element index).
    pub ordinal: Vec<u32>,
    /// Where each row starts: 1-based sheet row, CSV line or XML line.
    pub pos: Vec<u32>,
    /// Where the table came from.
    pub origin: Origin,
    /// The file its rows were read from, when it is another submission's (last year's return,
    /// `uses previous`); `None` for the submission's own tables.
    pub source: Option<String>,
}

impl Table {
    /// The column of a field.
    pub fn col(&self, f: FieldId) -> Option<&Column> {
        self.columns.get(f.0 as usize)
    }
}

/// A problem with a value or a structure of a submission, found while reading it.
#[derive(Clone, Debug)]
pub struct InputIssue {
    /// Which check found it (`input::invalid-date`, `schema::pattern`).
    pub code: crate::codes::Check,
    /// The table.
    pub table: Option<TableId>,
    /// The field.
    pub field: Option<FieldId>,
    /// The row.
    pub row: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// Error (the data cannot be trusted), query, or info (a value read with a repair, said out loud).
    pub severity: crate::syntax::ast::Severity,
    /// XML: the line of the element it is about (0: the row's or cell's own line).
    pub line: u32,
    /// XML: the path of that element below the row's element (from the root when there is no row).
    pub path: Option<String>,
    /// What issues of one cause share (`no LAchildID`, `LAchildID `C9``): such issues are one problem
    /// and become one finding (`eval::fold`).
    pub cause: Option<String>,
    /// Spreadsheet and CSV: the cell an issue about no row is about (a header cell, the first of
    /// the cells read with a repair): its 0-based column and its 1-based sheet row or CSV line.
    pub cell: Option<(u32, u32)>,
}

impl InputIssue {
    /// An issue about a whole table (a sheet, a file, a header): no field, row, line or cause.
    pub fn of_table(
        code: impl Into<crate::codes::Check>,
        table: TableId,
        severity: crate::syntax::ast::Severity,
        message: String,
    ) -> InputIssue {
        InputIssue {
            code: code.into(),
            table: Some(table),
            field: None,
            row: None,
            message,
            severity,
            line: 0,
            path: None,
            cause: None,
            cell: None,
        }
    }
}

/// One submission read into tables.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// A table per schema table.
    pub tables: Vec<Table>,
    /// The file (or folder) it came from, as given.
    pub file: String,
    /// Problems found while reading.
    pub issues: Vec<InputIssue>,
    /// Other returns whose tables were attached from the same run (`uses`).
    pub attached: Vec<String>,
}

impl Dataset {
    /// Empty tables for a schema.
    pub fn empty(schema: &Schema, file: impl Into<String>) -> Dataset {
        let tables = schema
            .tables
            .iter()
            .map(|t| Table { columns: vec![Column::default(); t.fields.len()], ..Table::default() })
            .collect();
        Dataset { tables, file: file.into(), issues: vec![], attached: vec![] }
    }
    /// The table with this id.
    pub fn table(&self, t: TableId) -> Option<&Table> {
        self.tables.get(t.0 as usize)
    }
}

/// A cell as a reader found it, before it is typed.
#[derive(Clone, Debug)]
pub enum Raw<'a> {
    /// Nothing.
    Empty,
    /// Text.
    Text(&'a str),
    /// A number (xlsx).
    Number(f64),
    /// A date (xlsx date cell), with the time of day the cell holds (midnight for a plain date).
    Date(chrono::NaiveDateTime),
    /// A yes/no cell (xlsx).
    Bool(bool),
    /// A spreadsheet error value such as `#REF!`.
    Error(String),
}
