//! A finding: which rule failed, where in the data, on which values, and how to fix it.

pub use crate::codes::Code;
use crate::syntax::ast::Severity;
use crate::table::Scalar;
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

/// A value in a finding, typed, so that reports tell a missing value from empty text, and the raw
/// text of a cell that did not fit its type from a value read. Reports show it as its text
/// ([`Value::text`], `Display`); a missing value's text is empty, and each report says how it shows
/// one (`(missing)`).
#[derive(Clone, Debug)]
pub enum Value {
    /// No value: absent, or empty.
    Missing,
    /// Text (a code is text).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A decimal.
    Decimal(f64),
    /// A date, as [`Scalar::Date`] holds it (days from the Common Era).
    Date(i32),
    /// Yes/no.
    Bool(bool),
    /// The values of a `list of` field or expression.
    List(Vec<Value>),
    /// The raw text of a cell that did not fit its field's type (`31/02/2024` in a date column,
    /// `#REF!`): not a value of the type, and not missing either.
    Unfit(String),
    /// Replaced by `--redact` (a date of birth).
    Redacted,
}

impl Value {
    /// The value of a scalar as the rules computed it.
    pub fn of(v: &Scalar) -> Value {
        match v {
            Scalar::Null => Value::Missing,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(n) => Value::Int(*n),
            Scalar::Dec(x) => Value::Decimal(*x),
            Scalar::Date(d) => Value::Date(*d),
            Scalar::Text(t) => Value::Text(t.to_string()),
            Scalar::List(xs) => Value::List(xs.iter().map(Value::of).collect()),
        }
    }
    /// Whether there is no value.
    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing)
    }
    /// The value as reports show it: dates `YYYY-MM-DD`, decimals to three places, lists
    /// comma-separated; empty when missing.
    pub fn text(&self) -> String {
        self.to_string()
    }
    /// Its type as the JSON report names it (`"type"`): `missing`, `text`, `integer`, `decimal`,
    /// `date`, `bool`, `list`, `unfit`, `redacted`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Missing => "missing",
            Value::Text(_) => "text",
            Value::Int(_) => "integer",
            Value::Decimal(_) => "decimal",
            Value::Date(_) => "date",
            Value::Bool(_) => "bool",
            Value::List(_) => "list",
            Value::Unfit(_) => "unfit",
            Value::Redacted => "redacted",
        }
    }
    /// Its place in the order of kinds, for [`Ord`].
    fn rank(&self) -> u8 {
        match self {
            Value::Missing => 0,
            Value::Text(_) => 1,
            Value::Int(_) => 2,
            Value::Decimal(_) => 3,
            Value::Date(_) => 4,
            Value::Bool(_) => 5,
            Value::List(_) => 6,
            Value::Unfit(_) => 7,
            Value::Redacted => 8,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Missing => Ok(()),
            Value::Text(t) | Value::Unfit(t) => f.write_str(t),
            Value::Int(n) => write!(f, "{n}"),
            Value::Decimal(x) => {
                let s = format!("{x:.3}");
                f.write_str(s.trim_end_matches('0').trim_end_matches('.'))
            }
            Value::Date(d) => f.write_str(&crate::table::date_string(*d)),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                Ok(())
            }
            Value::Redacted => f.write_str("(redacted)"),
        }
    }
}

/// Decimals compare by [`f64::total_cmp`], so that findings sort the same every run.
impl Ord for Value {
    fn cmp(&self, other: &Value) -> std::cmp::Ordering {
        use Value::*;
        match (self, other) {
            (Text(a), Text(b)) | (Unfit(a), Unfit(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Decimal(a), Decimal(b)) => a.total_cmp(b),
            (Date(a), Date(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            (List(a), List(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Value {}

/// A field's value in a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldValue {
    /// `Table.Field`, or a `let` name.
    pub field: String,
    /// The value.
    pub value: Value,
    /// Where the value sits.
    pub location: Option<Location>,
}

/// Reports read `{"field": "Child.PersonBirthDate", "value": "31/02/2020", "type": "unfit",
/// "location": ...}`: `value` is the text shown (empty when missing), `type` says what it is
/// ([`Value::type_name`]).
impl Serialize for FieldValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FieldValue", 4)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("value", &self.value.text())?;
        st.serialize_field("type", self.value.type_name())?;
        match &self.location {
            Some(l) => st.serialize_field("location", l)?,
            None => st.skip_field("location")?,
        }
        st.end()
    }
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
    /// Its code (`schema::invalid-code`, `input::invalid-date`), and its kind.
    #[serde(flatten, serialize_with = "code_and_kind")]
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

/// A code as reports read it: `"code": "input::invalid-date", "kind": "input"`, so that a reader
/// decides by the kind of check ([`Code::kind`]), never by the code's text.
fn code_and_kind<S: serde::Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry("code", code)?;
    m.serialize_entry("kind", code.kind())?;
    m.end()
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
    /// (`input::invalid-date`). Reports read it with its kind: `"code": "8500", "kind": "rule"`.
    #[serde(flatten, serialize_with = "code_and_kind")]
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
    use super::{Code, FieldValue, Location, Merged, Value};
    use crate::codes::Input;
    use crate::table::Scalar;
    use std::sync::Arc;

    fn json(v: Value) -> String {
        serde_json::to_string(&FieldValue { field: "T.F".into(), value: v, location: None }).unwrap()
    }

    #[test]
    fn a_value_shows_as_reports_have_always_shown_it_and_says_its_type() {
        let day = crate::eval::dates::make(2024, 2, 29).unwrap();
        let cases = [
            (Value::Missing, "", "missing"),
            (Value::Text(String::new()), "", "text"),
            (Value::Text("C1".into()), "C1", "text"),
            (Value::Int(-12), "-12", "integer"),
            (Value::Decimal(0.05), "0.05", "decimal"),
            (Value::Decimal(2.0), "2", "decimal"),
            (Value::Decimal(1.0 / 3.0), "0.333", "decimal"),
            (Value::Date(day), "2024-02-29", "date"),
            (Value::Bool(true), "true", "bool"),
            (Value::List(vec![Value::Text("A".into()), Value::Missing, Value::Int(3)]), "A, , 3", "list"),
            (Value::Unfit("31/02/2024".into()), "31/02/2024", "unfit"),
            (Value::Redacted, "(redacted)", "redacted"),
        ];
        for (v, text, ty) in cases {
            assert_eq!(v.text(), text, "{v:?}");
            assert_eq!(v.type_name(), ty, "{v:?}");
            assert_eq!(json(v), format!(r#"{{"field":"T.F","value":"{text}","type":"{ty}"}}"#));
        }
    }

    #[test]
    fn a_missing_value_and_empty_text_are_told_apart() {
        assert_ne!(Value::Missing, Value::Text(String::new()));
        assert!(Value::Missing.is_missing() && !Value::Text(String::new()).is_missing());
        assert_ne!(json(Value::Missing), json(Value::Text(String::new())));
        // A cell's raw text that did not fit is not the text it would be as a value.
        assert_ne!(Value::Unfit("x".into()), Value::Text("x".into()));
    }

    #[test]
    fn a_scalar_becomes_its_typed_value() {
        assert_eq!(Value::of(&Scalar::Null), Value::Missing);
        assert_eq!(Value::of(&Scalar::Int(4)), Value::Int(4));
        assert_eq!(Value::of(&Scalar::Text(Arc::from("x"))), Value::Text("x".into()));
        let list = Scalar::List(Arc::from(vec![Scalar::Date(738_000), Scalar::Null]));
        assert_eq!(Value::of(&list), Value::List(vec![Value::Date(738_000), Value::Missing]));
        assert_eq!(Value::of(&list).text(), list.display());
    }

    #[test]
    fn values_order_and_compare_totally() {
        let mut vs =
            [Value::Decimal(f64::NAN), Value::Decimal(1.5), Value::Missing, Value::Text("b".into()), Value::Decimal(-0.5)];
        vs.sort();
        assert_eq!(vs.first(), Some(&Value::Missing));
        assert_eq!(vs.get(2), Some(&Value::Decimal(-0.5)));
        assert_eq!(Value::Decimal(f64::NAN), Value::Decimal(f64::NAN));
    }

    #[test]
    fn a_finding_and_what_is_folded_into_it_say_their_kind_of_check() {
        let m = Merged { code: Code::Input(Input::InvalidDate), message: "m".into(), location: None, quotes: vec![] };
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"code":"input::invalid-date","kind":"input","message":"m"}"#);
        for (code, kind) in [
            (Code::Rule("8500".into()), "rule"),
            (Code::parse("schema::pattern"), "schema"),
            (Code::parse("input::cell-error"), "input"),
            (Code::UnusedExplanation, "explain"),
        ] {
            assert_eq!(code.kind(), kind);
        }
    }

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
