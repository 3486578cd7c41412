//! A finding: which rule failed, where in the data, on which values, and how to fix it.

pub use crate::codes::Code;
use crate::syntax::ast::Severity;
use serde::Serialize;

/// Where a value sits in a submitted file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// A worksheet cell.
    Cell {
        /// The sheet.
        sheet: String,
        /// 1-based row, as Excel numbers it.
        row: u32,
        /// 0-based column (`A` is 0).
        col: u32,
    },
    /// A line of a CSV file.
    Line {
        /// The CSV file.
        file: String,
        /// 1-based line.
        line: u32,
    },
    /// An XML element.
    Xml {
        /// `Message/Children/Child[2]/CINdetails[1]/CINreferralDate`.
        path: String,
        /// 1-based line.
        line: u32,
    },
}

impl Location {
    /// A cell from its sheet and reference (`B12`); `None` when the reference is not one.
    pub fn cell(sheet: &str, reference: &str) -> Option<Location> {
        let digits = reference.find(|c: char| c.is_ascii_digit())?;
        let (letters, row) = reference.split_at(digits);
        if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let col = letters.bytes().fold(0u32, |n, b| n * 26 + u32::from(b - b'A' + 1)) - 1;
        let row: u32 = row.parse().ok().filter(|r| *r > 0)?;
        Some(Location::Cell { sheet: sheet.to_string(), row, col })
    }
    /// A cell's reference as Excel writes it (`B12`); `None` for other places.
    pub fn cell_ref(&self) -> Option<String> {
        match self {
            Location::Cell { row, col, .. } => Some(format!("{}{row}", crate::table::col_letters(*col))),
            _ => None,
        }
    }
}

/// Reports read a cell as `{"kind": "cell", "sheet": "Referrals", "cell": "B12"}`.
impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Location", 3)?;
        match self {
            Location::Cell { sheet, .. } => {
                st.serialize_field("kind", "cell")?;
                st.serialize_field("sheet", sheet)?;
                st.serialize_field("cell", &self.cell_ref().unwrap_or_default())?;
            }
            Location::Line { file, line } => {
                st.serialize_field("kind", "line")?;
                st.serialize_field("file", file)?;
                st.serialize_field("line", line)?;
            }
            Location::Xml { path, line } => {
                st.serialize_field("kind", "xml")?;
                st.serialize_field("path", path)?;
                st.serialize_field("line", line)?;
            }
        }
        st.end()
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Cell { sheet, row, col } => write!(f, "{sheet}!{}{row}", crate::table::col_letters(*col)),
            Location::Line { file, line } => write!(f, "{file}:{line}"),
            Location::Xml { path, line } => write!(f, "line {line} {path}"),
        }
    }
}

/// A field's value in a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FieldValue {
    /// `Table.Field`, or a `let` name.
    pub field: String,
    /// The value as shown (empty when missing; the raw text when it did not fit its type).
    pub value: String,
    /// Where the value sits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Another row involved in a finding (the overlapping plan, the episode of an assessment).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Related {
    /// Its table.
    pub table: String,
    /// Its 0-based row.
    pub row: u32,
    /// Where it sits.
    pub location: Option<Location>,
    /// The file it sits in, when it is not the finding's own (a row of last year's return).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its values of the rule's fields.
    pub values: Vec<FieldValue>,
}

/// A value shown in a message: its byte range in the message and the field it is a value of (a
/// `Table.Field` name), so that redaction replaces values and never look-alike text (`C1` inside
/// `C12`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quote {
    /// Its first byte in the message.
    pub start: usize,
    /// The byte after it.
    pub end: usize,
    /// The field whose value it is.
    pub field: String,
}

/// A problem met while reading, folded into a rule's finding about the same cell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Merged {
    /// Its code (`schema::invalid-code`, `input::invalid-date`).
    pub code: Code,
    /// Its message.
    pub message: String,
    /// The cell it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The values its message shows.
    #[serde(skip)]
    pub quotes: Vec<Quote>,
}

impl Merged {
    /// A finding folded into another.
    pub fn of(f: &Finding) -> Merged {
        Merged { code: f.code.clone(), message: f.message.clone(), location: f.location.clone(), quotes: f.quotes.clone() }
    }
}

/// Where the rule is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleRef {
    /// The rule file.
    pub file: String,
    /// 1-based line of the rule.
    pub line: usize,
}

/// One failed check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Which check made it: a rule (`8500`), a schema check (`schema::pattern`) or an input check
    /// (`input::invalid-date`).
    pub code: Code,
    /// Error, query or info.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// The values its message shows, where they are in it (for redaction).
    #[serde(skip)]
    pub quotes: Vec<Quote>,
    /// The submission.
    pub file: String,
    /// The table (module, sheet), if the finding is about one.
    pub table: Option<String>,
    /// The fields the rule concerns.
    pub fields: Vec<String>,
    /// 0-based row in the table.
    pub row: Option<u32>,
    /// Where the first concerned value sits.
    pub location: Option<Location>,
    /// The file `location` is in, when it is not `file`: the row is last year's (`--previous`), and
    /// is not in this return.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_file: Option<String>,
    /// For a row of last year's return: whether its child is in this return (then `related` holds
    /// the child's row here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_this_return: Option<bool>,
    /// The child's LAchildID, if the row belongs to one.
    pub child: Option<String>,
    /// Which child record the row belongs to when that record has no LAchildID (`the 2nd <Child>
    /// element, line 40`, `row 3 of sheet ChildIdentifiers`), so a finding without a child id still
    /// says whose it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Problems met while reading the same cell, for the same cause, folded into this rule's finding
    /// (an invalid boolean and the DfE rule that asks for a valid one): one problem, one finding.
    #[serde(rename = "also", skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<Merged>,
    /// The values that made it fail.
    pub values: Vec<FieldValue>,
    /// Other rows involved.
    pub related: Vec<Related>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The rule's place in the rule files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleRef>,
    /// Explanation given for a query (`--explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained: Option<String>,
    /// Order of the table in the schema (for sorting).
    #[serde(skip)]
    pub table_order: u32,
}

impl Finding {
    /// The message, followed by the problems met while reading that were folded into it.
    pub fn message_with_also(&self) -> String {
        let mut m = self.message.clone();
        for a in &self.merged {
            m.push_str(&format!("; also {}: {}", a.code, a.message));
        }
        m
    }

    /// The deterministic order of findings: file, table, row, code.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (&self.file, self.table_order, self.row.unwrap_or(0), self.code.as_str(), &self.message)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Location;

    #[test]
    fn a_cell_is_its_sheet_row_and_column_and_reads_as_excel_writes_it() {
        let b12 = Location::cell("Referrals", "B12").unwrap();
        assert_eq!(b12, Location::Cell { sheet: "Referrals".into(), row: 12, col: 1 });
        assert_eq!(b12.to_string(), "Referrals!B12");
        assert_eq!(serde_json::to_string(&b12).unwrap(), r#"{"kind":"cell","sheet":"Referrals","cell":"B12"}"#);
        for r in ["A1", "Z9", "AA3", "XFD1048576"] {
            assert_eq!(Location::cell("S", r).and_then(|l| l.cell_ref()).as_deref(), Some(r));
        }
        for bad in ["", "12", "B", "b2", "A0", "ABCD1", "B2:C3"] {
            assert_eq!(Location::cell("S", bad), None, "{bad}");
        }
    }
}
