//! The declared shape of a return: tables, fields, types, code lists, keys and file mappings.
//!
//! Produced by `check`, read by `input` (to find tables and fields in files), `eval` and `report`.
//! Ids are indexes: [`TableId`] into [`Schema::tables`], [`FieldId`] into [`TableSchema::fields`].

use crate::span::Span;
use std::collections::HashSet;

pub mod layout;

/// Index of a table in [`Schema::tables`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);
/// Index of a field in [`TableSchema::fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);
/// Index of a code list in [`Schema::code_lists`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeListId(pub u32);

/// The declared tables and code lists of a return.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// Tables, parents before children.
    pub tables: Vec<TableSchema>,
    /// Code lists.
    pub code_lists: Vec<CodeList>,
    /// Accepted spellings of yes and no, lower case.
    pub booleans: Booleans,
    /// The XML document's declared layout (`layout xml`), when the return has one.
    pub layout: Option<layout::Layout>,
}

/// The spellings a return accepts for yes/no values (compared in lower case).
#[derive(Clone, Debug)]
pub struct Booleans {
    /// Spellings of yes.
    pub yes: Vec<String>,
    /// Spellings of no.
    pub no: Vec<String>,
}

impl Default for Booleans {
    fn default() -> Self {
        Booleans {
            yes: ["true", "1", "yes", "y"].map(String::from).to_vec(),
            no: ["false", "0", "no", "n"].map(String::from).to_vec(),
        }
    }
}

impl Booleans {
    /// The value of a spelling, if accepted.
    pub fn parse(&self, t: &str) -> Option<bool> {
        let l = t.to_lowercase();
        if self.yes.contains(&l) {
            Some(true)
        } else if self.no.contains(&l) {
            Some(false)
        } else {
            None
        }
    }
    /// The accepted spellings, for messages.
    pub fn describe(&self) -> String {
        format!("yes/no ({} or {})", self.yes.join(", "), self.no.join(", "))
    }
}

impl Schema {
    /// The table with this id.
    pub fn table(&self, id: TableId) -> &TableSchema {
        // INVARIANT: ids are only made by `check` from this schema's own tables.
        #[expect(clippy::indexing_slicing, reason = "ids index the vector they came from")]
        &self.tables[id.0 as usize]
    }
    /// The code list with this id.
    pub fn code_list(&self, id: CodeListId) -> &CodeList {
        #[expect(clippy::indexing_slicing, reason = "ids index the vector they came from")]
        &self.code_lists[id.0 as usize]
    }
    /// Finds a table by name.
    pub fn table_id(&self, name: &str) -> Option<TableId> {
        self.tables.iter().position(|t| t.name == name).map(|i| TableId(i as u32))
    }
    /// Table ids.
    pub fn table_ids(&self) -> impl Iterator<Item = TableId> + '_ {
        (0..self.tables.len()).map(|i| TableId(i as u32))
    }
    /// The chain of ancestors of `t`, nearest first.
    pub fn ancestors(&self, t: TableId) -> Vec<TableId> {
        let mut out = vec![];
        let mut cur = self.table(t).parent;
        while let Some(p) = cur {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cur = self.table(p).parent;
        }
        out
    }
    /// Whether `a` is `t` or one of its ancestors.
    pub fn is_ancestor_or_self(&self, a: TableId, t: TableId) -> bool {
        a == t || self.ancestors(t).contains(&a)
    }
    /// The top table of `t`'s hierarchy (`t` itself when it has no parent).
    pub fn root(&self, t: TableId) -> TableId {
        self.ancestors(t).last().copied().unwrap_or(t)
    }
    /// The field `t.f`.
    pub fn field(&self, t: TableId, f: FieldId) -> &FieldSchema {
        #[expect(clippy::indexing_slicing, reason = "ids index the vector they came from")]
        &self.table(t).fields[f.0 as usize]
    }
}

/// One table.
#[derive(Clone, Debug)]
pub struct TableSchema {
    /// Its name (`CINdetails`).
    pub name: String,
    /// Its description.
    pub label: Option<String>,
    /// Exactly one row.
    pub singleton: bool,
    /// The table its rows belong to.
    pub parent: Option<TableId>,
    /// Fields that identify a row within its parent.
    pub key: Vec<FieldId>,
    /// Whether the last key field is numbered 1, 2, ... within the parent when a file lacks it.
    pub ordinal: bool,
    /// Sheet or CSV file names that hold it (its name first).
    pub sheets: Vec<String>,
    /// Path of its rows' element below the parent's element (or the document root).
    pub xml: Option<String>,
    /// Fields: data fields first, then derived fields.
    pub fields: Vec<FieldSchema>,
    /// Where it was declared.
    pub span: Span,
    /// For a table of another return (`uses`): that return and the table's id there.
    pub foreign: Option<(String, TableId)>,
}

impl TableSchema {
    /// Finds a field by name.
    pub fn field_id(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.name == name).map(|i| FieldId(i as u32))
    }
    /// Data fields (read from files), with their ids.
    pub fn data_fields(&self) -> impl Iterator<Item = (FieldId, &FieldSchema)> {
        self.fields.iter().enumerate().filter(|(_, f)| !f.derived).map(|(i, f)| (FieldId(i as u32), f))
    }
}

/// One field.
#[derive(Clone, Debug)]
pub struct FieldSchema {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// The column must be present in a submission.
    pub required: bool,
    /// Its description.
    pub label: Option<String>,
    /// Other column headers meaning this field.
    pub headers: Vec<String>,
    /// Path of its element below the row's element (its name when not given).
    pub xml: Option<String>,
    /// Computed by a `derive`, not read from files.
    pub derived: bool,
    /// Where it was declared.
    pub span: Span,
}

/// Field types.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Free text.
    Text,
    /// Whole number.
    Int,
    /// Decimal number.
    Decimal,
    /// Calendar date.
    Date,
    /// Yes/no.
    Bool,
    /// A code from a list.
    Code(CodeListId),
    /// A list of values (cells separated by `,` or `;`, or repeated XML elements).
    List(Box<FieldType>),
}

impl FieldType {
    /// How the type is written in rule files.
    pub fn describe(&self, schema: &Schema) -> String {
        match self {
            FieldType::Text => "text".into(),
            FieldType::Int => "int".into(),
            FieldType::Decimal => "decimal".into(),
            FieldType::Date => "date".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Code(c) => format!("code {}", schema.code_list(*c).name),
            FieldType::List(t) => format!("list of {}", t.describe(schema)),
        }
    }
}

/// A code list.
#[derive(Clone, Debug)]
pub struct CodeList {
    /// Its name.
    pub name: String,
    /// Its description.
    pub label: Option<String>,
    /// Codes in declared order, with labels.
    pub codes: Vec<(String, Option<String>)>,
    /// The same codes for fast lookup.
    pub set: HashSet<String>,
    /// Where it was declared.
    pub span: Span,
}

impl CodeList {
    /// Whether `code` is in the list (exact match).
    pub fn contains(&self, code: &str) -> bool {
        self.set.contains(code)
    }
}
