//! Completion: the tables, fields, codes, params, derived values, functions, aggregates and keywords
//! of the last good [`Program`](crate::check::Program) of a document's set, narrowed by the text
//! before the cursor (`Table.` offers that table's fields, a string only codes, a comment nothing).

use super::ide::{AGGREGATES, global_text, own_tables, signature, type_text};
use super::text;
use crate::check::builtins::ALL;
use crate::library::Compiled;
use crate::schema::{FieldId, Schema, TableId};
use lsp_types::{CompletionItem, CompletionItemKind as Kind, CompletionList, CompletionResponse, Documentation};
use std::collections::BTreeMap;

/// Keywords of the rule language.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "return", "extends", "title", "detect", "year", "from", "uses", "booleans", "codes", "table", "extend", "singleton",
    "parent", "key", "ordinal", "sheet", "xml", "field", "required", "header", "remove", "replace", "list", "of",
    "code", "text", "int", "decimal", "date", "bool", "param", "holidays", "derive", "rule", "error", "query", "info",
    "on", "by", "fields", "note", "fix", "when", "let", "require", "forbid", "report", "example", "pass", "fail",
    "fixture", "not", "or", "and", "in", "where", "if", "then", "else", "true", "false", "this", "days", "working days",
    "weeks", "months", "years",
];

/// Most code values offered at once.
const MAX_CODES: usize = 2000;

fn item(label: &str, kind: Kind, detail: String, doc: Option<&str>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail),
        documentation: doc.filter(|d| !d.is_empty()).map(|d| Documentation::String(d.to_string())),
        ..CompletionItem::default()
    }
}

/// The reply: every item, and whether the list was cut.
fn list(items: Vec<CompletionItem>, is_incomplete: bool) -> CompletionResponse {
    CompletionResponse::List(CompletionList { is_incomplete, items })
}

/// Completion items at `offset` of `text`, from the first of `models` (best first) that knows the
/// table before a `.`, else from the first.
pub fn completion(models: &[&Compiled], text: &str, offset: usize) -> CompletionResponse {
    let (start, _) = text::word_at(text, offset);
    let knows = |c: &&Compiled| {
        let (Some(p), Some(q)) = (c.program.as_deref(), text::qualifier(text, start.min(offset))) else { return false };
        p.schema.table_id(q).or_else(|| text::alias_table(text, start, q).and_then(|t| p.schema.table_id(&t))).is_some()
    };
    let compiled = models.iter().find(|c| knows(c)).or(models.first()).copied();
    let program = compiled.and_then(|c| c.program.as_deref());
    let line = text::line_before(text, offset);
    let (in_string, in_comment) = text::string_or_comment(line);
    let mut items = vec![];
    if in_comment {
        return list(items, false);
    }
    let qualifier = text::qualifier(text, start.min(offset));
    if let (None, Some(_)) = (program, qualifier) {
        return list(items, false);
    }
    if let (Some(p), Some(q)) = (program, qualifier) {
        let s = &p.schema;
        let table = s.table_id(q).or_else(|| text::alias_table(text, start, q).and_then(|t| s.table_id(&t)));
        match table {
            Some(t) => items.extend(fields_of(s, &[t])),
            None if s.tables.iter().any(|t| t.name.starts_with(&format!("{q}."))) => {
                for t in s.tables.iter().filter_map(|t| t.name.strip_prefix(&format!("{q}."))) {
                    items.push(item(t, Kind::CLASS, format!("table of `{q}`"), None));
                }
            }
            None => items.extend(fields_of(s, &own_tables(s))),
        }
        return list(items, false);
    }
    if let (Some(p), Some(c)) = (program, compiled) {
        let s = &p.schema;
        let mut codes = 0;
        for l in &s.code_lists {
            for (code, label) in &l.codes {
                if codes < MAX_CODES {
                    let it = item(code, Kind::ENUM_MEMBER, l.name.clone(), label.as_deref());
                    items.push(CompletionItem { sort_text: Some(format!("~{code}")), ..it });
                    codes += 1;
                }
            }
        }
        if in_string {
            return list(items, codes >= MAX_CODES);
        }
        for t in s.tables.iter().filter(|t| t.foreign.is_none()) {
            items.push(item(&t.name, Kind::CLASS, "table".into(), t.label.as_deref()));
        }
        for l in s.code_lists.iter().filter(|l| !l.name.contains('.')) {
            items.push(item(&l.name, Kind::ENUM, format!("codes ({})", l.codes.len()), l.label.as_deref()));
        }
        items.extend(fields_of(s, &own_tables(s)));
        for (i, g) in p.globals.iter().enumerate() {
            let (kind, word) = if g.is_param { (Kind::CONSTANT, "param") } else { (Kind::VARIABLE, "derive") };
            let def = global_text(p, i, &c.sources);
            items.push(item(&g.name, kind, format!("{word}: {}", type_text(&g.expr.ty, s)), def.as_deref()));
        }
    } else if in_string {
        return list(items, false);
    }
    for (name, b) in ALL {
        let it = item(name, Kind::FUNCTION, signature(*b), Some(b.describe()));
        items.push(CompletionItem { insert_text: Some(format!("{name}(")), ..it });
    }
    for (a, doc) in AGGREGATES {
        let it = item(a.as_str(), Kind::FUNCTION, format!("{}(x in Table where ..., value)", a.as_str()), Some(doc));
        items.push(CompletionItem { insert_text: Some(format!("{}(", a.as_str())), ..it });
    }
    items.extend(KEYWORDS.iter().map(|k| CompletionItem {
        label: k.to_string(),
        kind: Some(Kind::KEYWORD),
        ..CompletionItem::default()
    }));
    list(items, false)
}

/// One item per field name of the tables; the detail lists the tables that have it.
fn fields_of(s: &Schema, tables: &[TableId]) -> Vec<CompletionItem> {
    let mut by_name: BTreeMap<&str, Vec<(TableId, FieldId)>> = BTreeMap::new();
    for &t in tables {
        for (i, f) in s.table(t).fields.iter().enumerate() {
            by_name.entry(f.name.as_str()).or_default().push((t, FieldId(i as u32)));
        }
    }
    let mut out = vec![];
    for (name, places) in by_name {
        let detail: Vec<String> =
            places.iter().map(|&(t, f)| format!("{}: {}", s.table(t).name, s.field(t, f).ty.describe(s))).collect();
        let doc = places.iter().find_map(|&(t, f)| s.field(t, f).label.as_deref());
        out.push(item(name, Kind::FIELD, detail.join("; "), doc));
    }
    out
}
