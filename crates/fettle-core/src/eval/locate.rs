//! Turns failing items into findings: the row, its child, its place in the file, the values.

use super::expr::Ctx;
use super::fault::{Checked, Fault};
use super::finding::*;
use super::frame::{Bind, Frame, Val};
use crate::check::program::{Program, RuleDef, RuleScope};
use crate::schema::{FieldId, TableId};
use crate::table::{Dataset, InputIssue, NONE, Origin, Scalar};

/// A value as shown in messages: as a finding's [`Value`] shows it (decimals rounded), missing as
/// `missing`.
pub fn show(v: &Scalar) -> String {
    match v {
        Scalar::Null => "missing".into(),
        other => Value::of(other).text(),
    }
}

fn xml_path(data: &Dataset, prog: &Program, t: TableId, row: u32, depth: usize) -> String {
    let ts = prog.schema.table(t);
    let Some(tbl) = data.table(t) else { return String::new() };
    let seg = match &tbl.origin {
        Origin::Xml { path, .. } => path.clone(),
        _ => ts.name.clone(),
    };
    let seg = if ts.singleton { seg } else { format!("{seg}[{}]", tbl.ordinal.get(row as usize).copied().unwrap_or(0)) };
    match ts.parent {
        Some(p) if depth < 32 => {
            let pr = tbl.parent.get(row as usize).copied().unwrap_or(NONE);
            if pr == NONE { seg } else { format!("{}/{seg}", xml_path(data, prog, p, pr, depth + 1)) }
        }
        _ => seg,
    }
}

/// Where a row's field (or the row) sits in its file.
pub fn location(data: &Dataset, prog: &Program, t: TableId, row: u32, field: Option<FieldId>) -> Option<Location> {
    let tbl = data.table(t)?;
    let pos = tbl.pos.get(row as usize).copied().unwrap_or(0);
    match &tbl.origin {
        Origin::Memory => None,
        Origin::Sheet { sheet, cols } => {
            let c =
                field.and_then(|f| cols.get(f.0 as usize).copied().flatten()).or_else(|| cols.iter().flatten().copied().min())?;
            Some(Location::Cell { sheet: sheet.clone(), row: pos, col: c })
        }
        Origin::Csv { file, .. } => Some(Location::Line { file: file.clone(), line: pos }),
        Origin::Xml { fields, .. } => {
            let mut path = xml_path(data, prog, t, row, 0);
            let mut line = pos;
            if let Some(f) = field {
                let fp = fields.get(f.0 as usize).cloned().unwrap_or_default();
                let fl = tbl.col(f).and_then(|c| c.lines.as_ref()).and_then(|l| l.get(row as usize)).copied().unwrap_or(0);
                if !fp.is_empty() && fl > 0 {
                    path = format!("{path}/{fp}");
                    line = fl;
                }
            }
            Some(Location::Xml { path, line })
        }
    }
}

/// The row holding the LAchildID of the child a row belongs to (in its own table or an ancestor),
/// with that field: `None` when no table on the way up has the field or a parent is missing.
fn child_row(data: &Dataset, prog: &Program, t: TableId, row: u32) -> Option<(TableId, u32, FieldId)> {
    let mut cur = (t, row);
    for _ in 0..32 {
        if let Some(f) = prog.schema.table(cur.0).field_id("LAchildID") {
            return Some((cur.0, cur.1, f));
        }
        let p = prog.schema.table(cur.0).parent?;
        let pr = *data.table(cur.0)?.parent.get(cur.1 as usize)?;
        if pr == NONE {
            return None;
        }
        cur = (p, pr);
    }
    None
}

/// The LAchildID of the child a row belongs to, if its table or an ancestor has that field.
pub fn child_id(data: &Dataset, prog: &Program, t: TableId, row: u32) -> Option<String> {
    let (t, r, f) = child_row(data, prog, t, row)?;
    let v = data.table(t)?.col(f)?.get(r)?;
    (!v.is_null()).then(|| v.display())
}

/// `1st`, `2nd`, `13th`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Which child record a row belongs to, when that record has no LAchildID: the row of the table
/// holding LAchildID, as its place in the file (`the 2nd <Child> element, line 40`).
pub fn child_record(data: &Dataset, prog: &Program, t: TableId, row: u32) -> Option<String> {
    let (t, r, f) = child_row(data, prog, t, row)?;
    let tbl = data.table(t)?;
    if !tbl.col(f)?.get(r)?.is_null() {
        return None;
    }
    let pos = tbl.pos.get(r as usize).copied().unwrap_or(0);
    match &tbl.origin {
        Origin::Memory => None,
        Origin::Sheet { sheet, .. } => Some(format!("row {pos} of sheet `{sheet}`")),
        Origin::Csv { file, .. } => Some(format!("line {pos} of `{file}`")),
        Origin::Xml { .. } => {
            let path = xml_path(data, prog, t, r, 0);
            let last = path.rsplit('/').next().unwrap_or(&path);
            let el = match last.split_once('[') {
                Some((name, n)) => match n.trim_end_matches(']').parse::<u32>() {
                    Ok(n) => format!("the {} `<{name}>` element", ordinal(n)),
                    Err(_) => format!("the `<{name}>` element"),
                },
                None => format!("the `<{last}>` element"),
            };
            Some(format!("{el}, line {pos}"))
        }
    }
}

/// A row's value of a field: its raw text when it did not fit the field's type; missing when that
/// text is empty (an empty XML element the schema refuses is no value either).
fn cell_value(data: &Dataset, t: TableId, row: u32, f: FieldId) -> Value {
    let Some(col) = data.table(t).and_then(|x| x.col(f)) else { return Value::Missing };
    match col.get(row) {
        Some(Scalar::Null) | None => {
            col.raw(row).filter(|r| !r.is_empty()).map_or(Value::Missing, |r| Value::Unfit(r.to_string()))
        }
        Some(v) => Value::of(v),
    }
}

fn ancestor_row(cx: &Ctx, t: TableId, row: u32, a: TableId) -> Option<u32> {
    if a == t {
        return Some(row);
    }
    let r = *cx.index.ancestor(t, a)?.get(row as usize)?;
    (r != NONE).then_some(r)
}

fn field_name(prog: &Program, t: TableId, f: FieldId) -> String {
    format!("{}.{}", prog.schema.table(t).name, prog.schema.field(t, f).name)
}

/// Builds the finding for item `i` of a rule's frame.
pub fn finding(cx: &Ctx, rule: &RuleDef, f: &Frame, i: usize, message: String, rel: &[(TableId, u32)]) -> Checked<Finding> {
    let prog = cx.prog;
    let data = cx.data;
    let mut fd = Finding {
        code: Code::Rule(rule.code.clone()),
        severity: rule.severity,
        message,
        quotes: vec![],
        file: data.file.clone(),
        table: None,
        fields: rule.fields.iter().map(|(t, fid)| field_name(prog, *t, *fid)).collect(),
        row: None,
        location: None,
        location_file: None,
        in_this_return: None,
        child: None,
        record: None,
        merged: vec![],
        values: vec![],
        related: vec![],
        fix: rule.fix.clone(),
        rule: Some(RuleRef { file: rule.file.clone(), line: rule.line }),
        explained: None,
        table_order: 0,
    };
    // A check's findings show the `let`s evaluated before it (those after it have no value yet);
    // INVARIANT: the values an info rule reports are all evaluated (its findings come last).
    let lets = |fd: &mut Finding, which: &mut dyn Iterator<Item = usize>| -> Checked<()> {
        for li in which {
            let (Some(name), Some(v)) = (rule.lets.get(li), f.lets.get(li)) else {
                return Err(Fault::new(format!("`let` {li} of rule {} has no value when its finding is made", rule.code)));
            };
            fd.values.push(FieldValue { field: name.clone(), value: Value::of(v.at(i)?), location: None });
        }
        Ok(())
    };
    match &rule.scope {
        RuleScope::Table(t) => {
            // INVARIANT: a table rule's frame binds variable 0 to a row per item (scope_frame).
            let row = match f.var(0) {
                Bind::Rows { rows, .. } => rows.get(i).copied(),
                _ => None,
            }
            .ok_or_else(|| Fault::new(format!("item {i} of rule {} has no row", rule.code)))?;
            fd.table = Some(prog.schema.table(*t).name.clone());
            fd.table_order = t.0;
            fd.row = Some(row);
            fd.child = child_id(data, prog, *t, row);
            if fd.child.is_none() {
                fd.record = child_record(data, prog, *t, row);
            }
            for (ft, ff) in &rule.fields {
                if let Some(ar) = ancestor_row(cx, *t, row, *ft) {
                    let loc = location(data, prog, *ft, ar, Some(*ff));
                    if fd.location.is_none() {
                        fd.location = loc.clone();
                    }
                    fd.values.push(FieldValue {
                        field: field_name(prog, *ft, *ff),
                        value: cell_value(data, *ft, ar, *ff),
                        location: loc,
                    });
                }
            }
            if fd.location.is_none() {
                fd.location = location(data, prog, *t, row, None);
            }
            fd.location_file = data.table(*t).and_then(|x| x.source.clone());
            lets(&mut fd, &mut rule.report.iter().copied())?;
        }
        RuleScope::Group(t, _) => {
            fd.table = Some(prog.schema.table(*t).name.clone());
            fd.table_order = t.0;
            if let Some(k) = &f.key {
                fd.values.push(FieldValue { field: "group".into(), value: Value::of(k.at(i)?), location: None });
            }
            lets(&mut fd, &mut (0..rule.lets.len().min(f.lets.len())))?;
        }
        RuleScope::Return => {
            fd.table_order = 0;
            lets(&mut fd, &mut (0..rule.lets.len().min(f.lets.len())))?;
        }
    }
    for (rt, rr) in rel {
        let vals: Vec<FieldValue> = rule
            .fields
            .iter()
            .filter(|(ft, _)| ft == rt)
            .filter_map(|(ft, ff)| {
                let ar = ancestor_row(cx, *rt, *rr, *ft)?;
                Some(FieldValue {
                    field: field_name(prog, *ft, *ff),
                    value: cell_value(data, *ft, ar, *ff),
                    location: location(data, prog, *ft, ar, Some(*ff)),
                })
            })
            .collect();
        let first_field = rule.fields.iter().find(|(ft, _)| ft == rt).map(|(_, ff)| *ff);
        fd.related.push(Related {
            table: prog.schema.table(*rt).name.clone(),
            row: *rr,
            location: location(data, prog, *rt, *rr, first_field),
            file: data.table(*rt).and_then(|x| x.source.clone()),
            values: vals,
        });
    }
    // A row's finding names that row's child only (a related row's child is innocent). A group or
    // return finding names a child only when every related row belongs to the same one.
    if !matches!(rule.scope, RuleScope::Table(_)) && !rel.is_empty() {
        let mut kids = rel.iter().map(|(rt, rr)| child_id(data, prog, *rt, *rr));
        let first = kids.next().flatten();
        if first.is_some() && kids.all(|k| k == first) {
            fd.child = first;
        }
    }
    fd.related.sort();
    Ok(fd)
}

/// Findings on rows of last year's return (`uses previous`) say whether their child is in this
/// return, and if so add the child's row here as a related row: the row this year and the row last
/// year, side by side. Children are matched by `LAchildID` on the root table of the row's own table.
pub fn link_this_year(prog: &Program, data: &Dataset, findings: &mut [Finding]) {
    use std::collections::HashMap;
    /// A root table, its LAchildID field, and the row of each child.
    type Children = Option<(TableId, FieldId, HashMap<String, u32>)>;
    let mut roots: HashMap<u32, Children> = HashMap::new();
    for fd in findings.iter_mut() {
        if fd.location_file.is_none() || fd.table.is_none() {
            continue;
        }
        let Some(child) = fd.child.clone() else { continue };
        let Some((kind, own)) = prog.schema.tables.get(fd.table_order as usize).and_then(|t| t.foreign.clone()) else { continue };
        if kind != crate::check::previous::PREVIOUS {
            continue;
        }
        let root = roots.entry(own.0).or_insert_with(|| {
            let mut t = own;
            for _ in 0..32 {
                match prog.schema.table(t).parent {
                    Some(p) => t = p,
                    None => break,
                }
            }
            let f = prog.schema.table(t).field_id("LAchildID")?;
            let col = data.table(t)?.col(f)?;
            let mut ids = HashMap::new();
            for r in 0..data.table(t)?.len as u32 {
                if let Some(v) = col.get(r)
                    && !v.is_null()
                {
                    ids.entry(v.display()).or_insert(r);
                }
            }
            Some((t, f, ids))
        });
        let Some((t, f, ids)) = root else { continue };
        let row = ids.get(&child).copied();
        fd.in_this_return = Some(row.is_some());
        if let Some(r) = row {
            let loc = location(data, prog, *t, r, Some(*f));
            fd.related.push(Related {
                table: prog.schema.table(*t).name.clone(),
                row: r,
                location: loc.clone(),
                file: None,
                values: vec![FieldValue { field: field_name(prog, *t, *f), value: Value::Text(child), location: loc }],
            });
            fd.related.sort();
        }
    }
}

/// The finding that stands for the failures of a rule beyond the limit.
pub fn more(cx: &Ctx, rule: &RuleDef, more: usize, limit: usize) -> Finding {
    Finding {
        code: Code::Rule(rule.code.clone()),
        severity: rule.severity,
        message: format!(
            "{more} more items fail this rule; only the first {limit} are listed (raise the limit with --max-per-rule)"
        ),
        quotes: vec![],
        file: cx.data.file.clone(),
        table: None,
        fields: vec![],
        row: None,
        location: None,
        location_file: None,
        in_this_return: None,
        child: None,
        record: None,
        merged: vec![],
        values: vec![FieldValue {
            field: "more".into(),
            value: Value::Int(i64::try_from(more).unwrap_or(i64::MAX)),
            location: None,
        }],
        related: vec![],
        fix: None,
        rule: Some(RuleRef { file: rule.file.clone(), line: rule.line }),
        explained: None,
        table_order: u32::MAX,
    }
}

/// The finding for one problem met while reading the data.
pub fn input_finding(prog: &Program, data: &Dataset, is: &InputIssue) -> Finding {
    let table = is.table.map(|t| prog.schema.table(t).name.clone());
    // An issue about one XML element: its own line, its path below the row's element.
    let at = |t: Option<(TableId, u32)>| {
        let rel = is.path.as_deref().filter(|_| is.line > 0)?;
        let path = match t {
            Some((t, r)) if rel.is_empty() => xml_path(data, prog, t, r, 0),
            Some((t, r)) => format!("{}/{rel}", xml_path(data, prog, t, r, 0)),
            None => rel.to_string(),
        };
        Some(Location::Xml { path, line: is.line })
    };
    let (location, child, values): (_, _, Vec<FieldValue>) = match (is.table, is.row) {
        (Some(t), Some(r)) => {
            let loc = at(Some((t, r))).or_else(|| location(data, prog, t, r, is.field));
            let vals = is
                .field
                .map(|f| {
                    vec![FieldValue { field: field_name(prog, t, f), value: cell_value(data, t, r, f), location: loc.clone() }]
                })
                .unwrap_or_default();
            (loc, child_id(data, prog, t, r), vals)
        }
        (Some(t), None) => (at(None).or_else(|| cell_location(data, t, is.cell)), None, vec![]),
        _ => (at(None), None, vec![]),
    };
    let record = match (is.table, is.row, &child) {
        (Some(t), Some(r), None) => child_record(data, prog, t, r),
        _ => None,
    };
    Finding {
        code: is.code.into(),
        severity: is.severity,
        message: is.message.clone(),
        quotes: input_quotes(&is.message, values.first()),
        file: data.file.clone(),
        table,
        fields: match (is.table, is.field) {
            (Some(t), Some(f)) => vec![field_name(prog, t, f)],
            _ => vec![],
        },
        row: is.row,
        location,
        location_file: None,
        in_this_return: None,
        child,
        record,
        merged: vec![],
        values,
        related: vec![],
        fix: None,
        rule: None,
        explained: None,
        table_order: is.table.map_or(0, |t| t.0),
    }
}

/// The values an input problem's message shows. By the input layer's convention a value is quoted
/// in backticks: the problem's own value, and a key of another row after its field's name
/// (``no `Child` row has LAchildID `C9` ``).
fn input_quotes(message: &str, own: Option<&FieldValue>) -> Vec<Quote> {
    let mut quotes = vec![];
    let mut rest = 0;
    while let Some(open) = message[rest..].find('`').map(|i| rest + i) {
        let Some(close) = message[open + 1..].find('`').map(|i| open + 1 + i) else { break };
        let (start, end) = (open + 1, close);
        let token = &message[start..end];
        let before = message[..open].trim_end();
        let named = before.rsplit(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or("");
        match own {
            Some(v) if !token.is_empty() && token == v.value.text() => {
                quotes.push(Quote { start, end, field: v.field.clone() });
            }
            _ if !named.is_empty() && named.chars().next().is_some_and(char::is_uppercase) => {
                quotes.push(Quote { start, end, field: named.to_string() });
            }
            _ => {}
        }
        rest = close + 1;
    }
    quotes
}

/// Where a sheet's or CSV file's cell is, from its column and row (line).
fn cell_location(data: &Dataset, t: TableId, cell: Option<(u32, u32)>) -> Option<Location> {
    let (c, r) = cell?;
    match &data.table(t)?.origin {
        Origin::Sheet { sheet, .. } => Some(Location::Cell { sheet: sheet.clone(), row: r, col: c }),
        Origin::Csv { file, .. } => Some(Location::Line { file: file.clone(), line: r }),
        _ => None,
    }
}

#[allow(dead_code)]
fn _val(_: &Val) {}
