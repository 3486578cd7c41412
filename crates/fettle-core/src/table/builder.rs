//! Builds a [`Dataset`] row by row for the readers, typing every cell on the way in. A cell read
//! with a repair (spaces trimmed, a date in another form...) is counted, and each kind of repair in
//! a column becomes one finding (an info; a query for a time of day) that counts the cells and
//! shows the first ones.

use super::coerce::{Interner, Repair, Repairs, coerce};
use crate::codes::Schema as SchemaCheck;
use crate::schema::{FieldId, FieldType, Schema, TableId};
use crate::syntax::ast::Severity;
use crate::table::{Dataset, InputIssue, NONE, Raw, Scalar};
use std::sync::Arc;

/// Accumulates rows of every table of one submission.
pub struct Builder<'s> {
    schema: &'s Schema,
    data: Dataset,
    strings: Interner,
    /// Rows so far per table and parent row (the next ordinal), and for rows without a parent.
    seen: Vec<(Vec<u32>, u32)>,
    /// Cells read with a repair, per table, field and kind of repair.
    repairs: std::collections::BTreeMap<(TableId, FieldId, Repair), Repaired>,
}

/// The cells of one column read with one kind of repair.
#[derive(Default)]
struct Repaired {
    /// How many.
    count: u64,
    /// The first few: where (`D2`, `line 5`), what the cell held, the value read.
    first: Vec<(String, String, String)>,
    /// The first one's column (0-based, sheets and CSV) and row or line.
    cell: Option<(u32, u32)>,
    /// The first one's XML line.
    line: u32,
}

/// How many repaired cells a finding shows.
const REPAIRS_SHOWN: usize = 3;

impl<'s> Builder<'s> {
    /// An empty dataset for `schema`, read from `file`.
    pub fn new(schema: &'s Schema, file: impl Into<String>) -> Builder<'s> {
        let data = Dataset::empty(schema, file);
        Builder {
            schema,
            data,
            strings: Interner::default(),
            seen: vec![(vec![], 0); schema.tables.len()],
            repairs: std::collections::BTreeMap::new(),
        }
    }

    /// The schema being filled.
    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// The dataset so far.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Mutable access for readers that set origins.
    pub fn data_mut(&mut self) -> &mut Dataset {
        &mut self.data
    }

    /// Adds a row to `t` below `parent` (or [`NONE`]), starting at `pos` (line or sheet row).
    pub fn add_row(&mut self, t: TableId, parent: u32, pos: u32) -> u32 {
        let ordinal = match self.seen.get_mut(t.0 as usize) {
            Some((_, top)) if parent == NONE => {
                *top += 1;
                *top
            }
            Some((per_parent, _)) => {
                let i = parent as usize;
                if per_parent.len() <= i {
                    per_parent.resize(i + 1, 0);
                }
                match per_parent.get_mut(i) {
                    Some(c) => {
                        *c += 1;
                        *c
                    }
                    None => 1,
                }
            }
            None => 1,
        };
        let has_parent = self.schema.table(t).parent.is_some();
        let Some(tbl) = self.data.tables.get_mut(t.0 as usize) else { return NONE };
        let row = tbl.len as u32;
        tbl.len += 1;
        for c in &mut tbl.columns {
            c.values.push(Scalar::Null);
            if let Some(l) = &mut c.lines {
                l.push(0);
            }
        }
        if has_parent {
            tbl.parent.push(parent);
        }
        tbl.ordinal.push(ordinal);
        tbl.pos.push(pos);
        row
    }

    /// Marks a field's column as present in the file.
    pub fn mark_present(&mut self, t: TableId, f: FieldId) {
        if let Some(c) = self.data.tables.get_mut(t.0 as usize).and_then(|x| x.columns.get_mut(f.0 as usize)) {
            c.present = true;
        }
    }

    /// Keeps per-cell source lines for a field (XML).
    pub fn track_lines(&mut self, t: TableId, f: FieldId) {
        if let Some(c) = self.data.tables.get_mut(t.0 as usize).and_then(|x| x.columns.get_mut(f.0 as usize))
            && c.lines.is_none()
        {
            c.lines = Some(vec![0; c.values.len()]);
        }
    }

    /// Sets a cell, typing it; a value that does not fit becomes missing and an issue.
    pub fn set(&mut self, t: TableId, row: u32, f: FieldId, raw: &Raw, line: u32) {
        let schema = self.schema;
        let ty = &schema.field(t, f).ty;
        let value = match coerce(raw, ty, &schema.booleans, &mut self.strings) {
            Ok((v, repairs)) => {
                if !repairs.is_empty() {
                    self.repaired(t, row, f, repairs, raw, &v, line);
                }
                v
            }
            Err((text, why)) => {
                self.misfit_issue(t, row, f, &text, why);
                if let Some(c) = self.data.tables.get_mut(t.0 as usize).and_then(|x| x.columns.get_mut(f.0 as usize)) {
                    c.invalid.push((row, Arc::from(text.as_str())));
                }
                Scalar::Null
            }
        };
        self.put(t, row, f, value, line, false);
    }

    /// Checks a spreadsheet or CSV cell's text against the length and patterns that the return's
    /// XML schema gives the element it becomes (`rule`, of the element `elem`): the DfE portal
    /// refuses the census file written from a UPN of 12 characters as it refuses the XML. A value
    /// that fails is kept (the rules see it as written) and is a `schema::length` or
    /// `schema::pattern` error, which `eval::fold` folds into the DfE rule's finding on the cell.
    pub fn check_shape(&mut self, t: TableId, row: u32, f: FieldId, rule: &crate::layout::ValueRule, elem: &str) {
        let Some(Scalar::Text(text)) =
            self.data.table(t).and_then(|x| x.columns.get(f.0 as usize)).and_then(|c| c.values.get(row as usize))
        else {
            return;
        };
        let n = text.chars().count() as u32;
        let (code, what) = match rule.length {
            Some((lo, hi)) if n < lo || hi.is_some_and(|h| n > h) => {
                let want = match hi {
                    Some(h) if h == lo => format!("exactly {lo}"),
                    Some(h) => format!("{lo} to {h}"),
                    None => format!("at least {lo}"),
                };
                (SchemaCheck::Length, format!("has {n} characters; the DfE's schema asks for {want} in `<{elem}>`"))
            }
            _ if !rule.patterns.is_empty() && !rule.patterns.iter().any(|(_, re)| re.is_match(text)) => {
                let pats: Vec<String> = rule.patterns.iter().map(|(p, _)| format!("`{p}`")).collect();
                (
                    SchemaCheck::Pattern,
                    format!("does not match the pattern {} that the DfE's schema gives `<{elem}>`", pats.join(" or ")),
                )
            }
            _ => return,
        };
        let message =
            format!("{} `{}` {what}; the DfE portal rejects a census file with this", self.schema.field(t, f).name, shown(text));
        self.cell_error(t, row, f, code.into(), message);
    }

    /// Sets a cell to a value typed by the reader (XML, by the layout). Text should come from
    /// [`Builder::strings`], so that equal values share one copy; it is not looked up again here.
    pub fn set_value(&mut self, t: TableId, row: u32, f: FieldId, value: Scalar, line: u32) {
        let list = matches!(self.schema.field(t, f).ty, FieldType::List(_));
        if list && value.is_null() {
            return;
        }
        self.put(t, row, f, value, line, list);
    }

    /// The shared copies of the text values read so far.
    pub fn strings(&mut self) -> &mut Interner {
        &mut self.strings
    }

    /// Marks a cell's value as refused (XML, by the layout): missing for the rules, its raw text
    /// kept for findings. The caller reports why.
    pub fn set_refused(&mut self, t: TableId, row: u32, f: FieldId, raw: &str, line: u32) {
        if let Some(c) = self.data.tables.get_mut(t.0 as usize).and_then(|x| x.columns.get_mut(f.0 as usize))
            && c.invalid.last().is_none_or(|(r, _)| *r != row)
            && c.values.get(row as usize).is_some_and(Scalar::is_null)
        {
            c.invalid.push((row, Arc::from(raw)));
        }
        let list = matches!(self.schema.field(t, f).ty, FieldType::List(_));
        if !list {
            self.put(t, row, f, Scalar::Null, line, false);
        }
    }

    /// Adds one item to a list field (an XML element that repeats).
    pub fn push_item(&mut self, t: TableId, row: u32, f: FieldId, raw: &Raw, line: u32) {
        let inner = match &self.schema.field(t, f).ty {
            FieldType::List(i) => (**i).clone(),
            other => other.clone(),
        };
        match coerce(raw, &inner, &self.schema.booleans, &mut self.strings) {
            Ok((v, repairs)) => {
                if !repairs.is_empty() {
                    self.repaired(t, row, f, repairs, raw, &v, line);
                }
                if !v.is_null() {
                    self.put(t, row, f, v, line, true);
                }
            }
            Err((text, why)) => {
                self.misfit_issue(t, row, f, &text, why);
            }
        }
    }

    /// Counts a cell read with `repairs`, keeping the first few to show.
    #[expect(clippy::too_many_arguments, reason = "the cell, what it held and what was read")]
    fn repaired(&mut self, t: TableId, row: u32, f: FieldId, repairs: Repairs, raw: &Raw, read: &Scalar, line: u32) {
        for r in repairs.iter() {
            let log = self.repairs.entry((t, f, r)).or_default();
            log.count += 1;
            if log.first.len() >= REPAIRS_SHOWN {
                continue;
            }
            let (place, cell) = place(&self.data, t, row, f, line);
            if log.first.is_empty() {
                log.cell = cell;
                log.line = line;
            }
            let held = match raw {
                // Spaces that do not show are named.
                Raw::Text(s) => shown_spaces(s),
                Raw::Number(x) => super::coerce::format_number(*x),
                Raw::Date(d) => super::coerce::format_date_time(d),
                Raw::Bool(b) => b.to_string(),
                Raw::Empty | Raw::Error(_) => String::new(),
            };
            let read = if read.is_null() { "empty".to_string() } else { format!("`{}`", shown(&read.display())) };
            log.first.push((place, held, read));
        }
    }

    /// The findings of the cells read with a repair: one per table, field and kind.
    fn repairs_said(&mut self) {
        let schema = self.schema;
        for ((t, f, r), log) in std::mem::take(&mut self.repairs) {
            let place = match self.data.table(t).map(|x| &x.origin) {
                Some(crate::table::Origin::Sheet { sheet, .. }) => format!(" in sheet `{sheet}`"),
                Some(crate::table::Origin::Csv { file, .. }) => format!(" in `{file}`"),
                _ => String::new(),
            };
            let n = log.count;
            let cells = if n == 1 { "cell" } else { "cells" };
            let what = r.describe();
            let what = if n == 1 { what.replace("were read", "was read") } else { what.to_string() };
            let shown: Vec<String> = log.first.iter().map(|(at, raw, read)| format!("{at} `{raw}` read as {read}")).collect();
            let more =
                if n > log.first.len() as u64 { format!(" and {} more", n - log.first.len() as u64) } else { String::new() };
            let message = format!("{n} {cells} of `{}`{place} {what}: {}{more}", schema.field(t, f).name, shown.join(", "));
            self.data.issues.push(InputIssue {
                code: r.code().into(),
                table: Some(t),
                field: Some(f),
                row: None,
                message,
                severity: r.severity(),
                line: if log.cell.is_none() { log.line } else { 0 },
                path: None,
                cause: None,
                cell: log.cell,
            });
        }
    }

    fn expected(&self, why: super::coerce::Misfit) -> String {
        match why {
            super::coerce::Misfit::Bool => self.schema.booleans.describe(),
            other => other.expected().to_string(),
        }
    }

    /// The message for a value that does not fit: the raw text (shortened) and what was expected.
    fn misfit(&self, field: &str, text: &str, why: super::coerce::Misfit) -> String {
        let shown = shown(text);
        match why {
            super::coerce::Misfit::CellError => {
                format!("{field} holds the spreadsheet error `{shown}`, not a value (check the formula)")
            }
            super::coerce::Misfit::Date if super::coerce::looks_like_date(text) => {
                format!("{field} `{shown}` names a day that does not exist")
            }
            _ => format!("{field} `{shown}` is not {}", self.expected(why)),
        }
    }

    /// Reports a value that does not fit its field's type.
    fn misfit_issue(&mut self, t: TableId, row: u32, f: FieldId, text: &str, why: super::coerce::Misfit) {
        let fname = &self.schema.field(t, f).name;
        let message = self.misfit(fname, text, why);
        self.cell_error(t, row, f, why.code().into(), message);
    }

    /// Reports an error about one cell of a row (its place is the row's, found when it is shown).
    fn cell_error(&mut self, t: TableId, row: u32, f: FieldId, code: crate::codes::Check, message: String) {
        self.data.issues.push(InputIssue {
            line: 0,
            path: None,
            code,
            table: Some(t),
            field: Some(f),
            row: Some(row),
            message,
            severity: Severity::Error,
            cause: None,
            cell: None,
        });
    }

    fn put(&mut self, t: TableId, row: u32, f: FieldId, value: Scalar, line: u32, append: bool) {
        let Some(c) = self.data.tables.get_mut(t.0 as usize).and_then(|x| x.columns.get_mut(f.0 as usize)) else { return };
        let Some(slot) = c.values.get_mut(row as usize) else { return };
        if append {
            let mut items: Vec<Scalar> = match std::mem::take(slot) {
                Scalar::List(xs) => xs.to_vec(),
                Scalar::Null => vec![],
                other => vec![other],
            };
            items.push(value);
            *slot = Scalar::List(Arc::from(items));
        } else if slot.is_null() || !value.is_null() {
            // A repeated element keeps its first non-empty value.
            if slot.is_null() {
                *slot = value;
            }
        }
        if let Some(l) = c.lines.as_mut().and_then(|l| l.get_mut(row as usize))
            && *l == 0
        {
            *l = line;
        }
    }

    /// Records a problem with the structure of the file.
    pub fn issue(&mut self, issue: InputIssue) {
        self.data.issues.push(issue);
    }

    /// The rows so far, unfinished: for a reader that builds parts of one file side by side and
    /// joins them with [`join`] before [`finish`].
    pub fn into_part(mut self) -> Dataset {
        self.repairs_said();
        self.data
    }

    /// Finishes: numbers ordinal keys that the file did not give, sorts invalid-value lists.
    pub fn finish(mut self) -> Dataset {
        self.repairs_said();
        finish(self.schema, self.data)
    }
}

/// [`shown`], with spaces that do not show named (`<NBSP>`, `<BOM>`, `<TAB>`).
pub fn shown_spaces(text: &str) -> String {
    shown(&text.replace('\u{a0}', "<NBSP>").replace('\u{feff}', "<BOM>").replace('\t', "<TAB>"))
}

/// A cell's text as shown in a message: control characters dropped, at most 60 characters.
fn shown(text: &str) -> String {
    let s: String = text.chars().filter(|c| !c.is_control()).take(60).collect();
    if text.chars().count() > 60 { format!("{s}...") } else { s }
}

/// Where a cell is, for messages (`D2` in a sheet, `line 5` of a CSV file or an XML document), and
/// its column and row (sheets and CSV).
fn place(data: &Dataset, t: TableId, row: u32, f: FieldId, line: u32) -> (String, Option<(u32, u32)>) {
    let Some(tbl) = data.table(t) else { return (format!("line {line}"), None) };
    let pos = tbl.pos.get(row as usize).copied().unwrap_or(line);
    match &tbl.origin {
        crate::table::Origin::Sheet { cols, .. } => match cols.get(f.0 as usize).copied().flatten() {
            Some(c) => (format!("{}{pos}", crate::table::col_letters(c)), Some((c, pos))),
            None => (format!("row {pos}"), None),
        },
        crate::table::Origin::Csv { cols, .. } => {
            (format!("line {pos}"), cols.get(f.0 as usize).copied().flatten().map(|c| (c, pos)))
        }
        _ => (format!("line {line}"), None),
    }
}

/// Numbers the ordinal keys that the file did not give and sorts invalid-value lists.
pub fn finish(schema: &Schema, mut data: Dataset) -> Dataset {
    for t in schema.table_ids() {
        let ts = schema.table(t);
        let Some(tbl) = data.tables.get_mut(t.0 as usize) else { continue };
        if ts.ordinal
            && let Some(k) = ts.key.last()
            && let Some(col) = tbl.columns.get_mut(k.0 as usize)
        {
            for (v, o) in col.values.iter_mut().zip(&tbl.ordinal) {
                if v.is_null() {
                    *v = Scalar::Int(i64::from(*o));
                }
            }
        }
        for c in &mut tbl.columns {
            c.invalid.sort_by_key(|(r, _)| *r);
        }
    }
    data
}

/// Joins parts of one file read side by side, in file order, into the dataset that reading the
/// whole file in one pass builds. A row's parent must be in the same part as the row; rows of top
/// tables are numbered on from the parts before.
pub fn join(schema: &Schema, parts: Vec<Dataset>) -> Option<Dataset> {
    let mut parts = parts.into_iter();
    let mut all = parts.next()?;
    let mut rest: Vec<Dataset> = parts.collect();
    // Rows of each table before each part (the first part's, then the parts before it), for parent
    // links, ordinals and issues.
    let mut offsets: Vec<Vec<u32>> = Vec::with_capacity(rest.len());
    let mut before: Vec<u32> = all.tables.iter().map(|t| t.len as u32).collect();
    for part in &rest {
        offsets.push(before.clone());
        for (b, t) in before.iter_mut().zip(&part.tables) {
            *b += t.len as u32;
        }
    }
    let at = |k: usize, t: usize| offsets.get(k).and_then(|o| o.get(t)).copied().unwrap_or(0);
    // A column at a time, each sized once for all parts and each part's buffer freed as it is
    // moved: the join holds one column twice at most, and leaves no spare capacity behind.
    for t in schema.table_ids() {
        let ti = t.0 as usize;
        let Some(into) = all.tables.get_mut(ti) else { continue };
        let total = before.get(ti).copied().unwrap_or(0) as usize;
        let parent = schema.table(t).parent;
        into.parent.reserve_exact(total.saturating_sub(into.parent.len()));
        into.ordinal.reserve_exact(total.saturating_sub(into.ordinal.len()));
        into.pos.reserve_exact(total.saturating_sub(into.pos.len()));
        for (k, part) in rest.iter_mut().enumerate() {
            let Some(from) = part.tables.get_mut(ti) else { continue };
            match parent {
                Some(p) => {
                    let base = at(k, p.0 as usize);
                    into.parent.extend(from.parent.iter().map(|&r| if r == NONE { NONE } else { r + base }));
                    into.ordinal.extend(std::mem::take(&mut from.ordinal));
                }
                None => {
                    let before = into.ordinal.len() as u32;
                    into.ordinal.extend(from.ordinal.iter().map(|o| o + before));
                }
            }
            from.parent = vec![];
            from.ordinal = vec![];
            into.pos.extend(std::mem::take(&mut from.pos));
        }
        for (c, a) in into.columns.iter_mut().enumerate() {
            a.values.reserve_exact(total.saturating_sub(a.values.len()));
            if let Some(x) = &mut a.lines {
                x.reserve_exact(total.saturating_sub(x.len()));
            }
            for (k, part) in rest.iter_mut().enumerate() {
                let Some(from) = part.tables.get_mut(ti) else { continue };
                let (own, len) = (at(k, ti), from.len);
                let Some(b) = from.columns.get_mut(c) else { continue };
                a.present |= b.present;
                match (&mut a.lines, b.lines.take()) {
                    (Some(x), Some(y)) => x.extend(y),
                    (Some(x), None) => x.resize(x.len() + len, 0),
                    (None, Some(y)) => {
                        let mut x = Vec::with_capacity(total);
                        x.resize(own as usize, 0);
                        x.extend(y);
                        a.lines = Some(x);
                    }
                    (None, None) => {}
                }
                a.values.extend(std::mem::take(&mut b.values));
                a.invalid.extend(b.invalid.drain(..).map(|(r, text)| (r + own, text)));
            }
        }
        into.len = total;
    }
    for (k, part) in rest.into_iter().enumerate() {
        all.issues.extend(part.issues.into_iter().map(|mut i| {
            if let (Some(t), Some(r)) = (i.table, i.row.as_mut()) {
                *r += at(k, t.0 as usize);
            }
            i
        }));
    }
    Some(all)
}
