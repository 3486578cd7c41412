//! Hover, go to definition and references, answered from a [`Program`] of a document's set (one kept
//! through errors, see [`super::workspace`]) and the document's current text.
//!
//! Names are found in the text around the cursor (`Table.Field`, `alias.Field`, a bare name). A bare
//! field name prefers the table in context: an example row's, the rule's `on` table, or the table a
//! `table` or `derive` declaration names, and that table's ancestors.

use super::text::{self, LineIndex};
use super::workspace::location;
use crate::check::builtins::Builtin;
use crate::check::{Program, Type};
use crate::library::Compiled;
use crate::schema::{CodeListId, FieldId, Schema, TableId};
use crate::span::Span;
use crate::syntax::ast::AggFn;
use lsp_types::{GotoDefinitionResponse, Hover, HoverContents, Location, MarkupContent, MarkupKind};
use std::collections::HashMap;

/// Aggregates and what they compute.
pub(super) const AGGREGATES: [(AggFn, &str); 10] = [
    (AggFn::Count, "number of related rows or list items"),
    (AggFn::Exists, "at least one related row or list item"),
    (AggFn::None, "no related row or list item"),
    (AggFn::All, "every related row or list item satisfies the second argument"),
    (AggFn::Min, "smallest value of the second argument (or of the items)"),
    (AggFn::Max, "largest value of the second argument (or of the items)"),
    (AggFn::Sum, "sum of the second argument over related rows (or of the items)"),
    (AggFn::Distinct, "number of distinct present values"),
    (AggFn::Share, "share of related rows or items for which the second argument is true"),
    (AggFn::List, "the present values, as a list"),
];

/// Tables of this return (not those of returns it `uses`).
pub(super) fn own_tables(s: &Schema) -> Vec<TableId> {
    s.table_ids().filter(|t| s.table(*t).foreign.is_none()).collect()
}

/// What a name refers to.
#[derive(PartialEq)]
enum Sym {
    Fields(Vec<(TableId, FieldId)>),
    Table(TableId),
    Codes(CodeListId),
    Global(usize),
    Rule(usize),
    Builtin(Builtin),
    Agg(AggFn, &'static str),
    Code(CodeListId, usize),
}

/// The name at `offset`, what it refers to and its byte range.
fn resolve(p: &Program, text: &str, offset: usize) -> Option<(Sym, usize, usize)> {
    let s = &p.schema;
    let (start, end) = text::word_at(text, offset);
    let word = text.get(start..end).filter(|w| !w.is_empty())?;
    let called = text.get(end..).is_some_and(|r| r.trim_start().starts_with('('));
    let field_in = |t: TableId| std::iter::once(t).chain(s.ancestors(t)).find_map(|a| s.table(a).field_id(word).map(|f| (a, f)));
    // The table the name is most likely about: an example row's, the rule's, the declaration's.
    let context = text::open_braces(text, start)
        .into_iter()
        .find_map(|w| s.table_id(w))
        .or_else(|| text::context_table(text, start).and_then(|t| s.table_id(&t)));
    let sym = if let Some(q) = text::qualifier(text, start) {
        let t = s.table_id(q).or_else(|| text::alias_table(text, start, q).and_then(|t| s.table_id(&t)));
        match t.and_then(field_in) {
            Some(tf) => Sym::Fields(vec![tf]),
            None => s.table_id(&format!("{q}.{word}")).map(Sym::Table).or_else(|| all_fields(s, word).map(Sym::Fields))?,
        }
    } else if let Some(b) = Builtin::lookup(word).filter(|_| called) {
        Sym::Builtin(b)
    } else if let Some((a, d)) = AGGREGATES.iter().find(|(a, _)| a.as_str() == word).filter(|_| called) {
        Sym::Agg(*a, d)
    } else if let Some(c) =
        s.code_lists.iter().position(|c| c.name == word).filter(|_| matches!(text::previous_word(text, start), "code" | "in"))
    {
        Sym::Codes(CodeListId(c as u32))
    } else if let Some(f) = context.and_then(|ct| near_fields(s, word, ct)) {
        Sym::Fields(f)
    } else if let Some(t) = s.table_id(word) {
        Sym::Table(t)
    } else if let Some(c) = s.code_lists.iter().position(|c| c.name == word) {
        Sym::Codes(CodeListId(c as u32))
    } else if let Some(g) = p.globals.iter().position(|g| g.name == word) {
        Sym::Global(g)
    } else if let Some(r) = p.rules.iter().position(|r| r.code == word) {
        Sym::Rule(r)
    } else if let Some(f) = all_fields(s, word) {
        Sym::Fields(f)
    } else if let Some((l, i)) =
        s.code_lists.iter().enumerate().find_map(|(l, c)| c.codes.iter().position(|(code, _)| code == word).map(|i| (l, i)))
    {
        Sym::Code(CodeListId(l as u32), i)
    } else {
        Sym::Builtin(Builtin::lookup(word)?)
    };
    Some((sym, start, end))
}

/// Fields named `name` in any table of the return.
fn all_fields(s: &Schema, name: &str) -> Option<Vec<(TableId, FieldId)>> {
    let all: Vec<(TableId, FieldId)> =
        own_tables(s).into_iter().filter_map(|t| s.table(t).field_id(name).map(|f| (t, f))).collect();
    (!all.is_empty()).then_some(all)
}

/// Fields named `name` in `context` or its ancestors.
fn near_fields(s: &Schema, name: &str, context: TableId) -> Option<Vec<(TableId, FieldId)>> {
    let near: Vec<(TableId, FieldId)> =
        all_fields(s, name)?.into_iter().filter(|(t, _)| s.is_ancestor_or_self(*t, context)).collect();
    (!near.is_empty()).then_some(near)
}

/// Hover text at `offset`.
pub fn hover(c: &Compiled, text: &str, offset: usize) -> Option<Hover> {
    let p = c.program.as_deref()?;
    let s = &p.schema;
    let (sym, start, end) = resolve(p, text, offset)?;
    let md = match sym {
        Sym::Fields(fs) => fs
            .iter()
            .map(|&(t, f)| {
                let fd = s.field(t, f);
                let mut h = format!("**{}.{}**: `{}`", s.table(t).name, fd.name, fd.ty.describe(s));
                h.push_str(if fd.derived {
                    " (derived)"
                } else if fd.required {
                    " (required)"
                } else {
                    ""
                });
                if let Some(l) = &fd.label {
                    h.push_str(&format!("\n\n{l}"));
                }
                h
            })
            .collect::<Vec<_>>()
            .join("\n\n---\n\n"),
        Sym::Table(t) => {
            let ts = s.table(t);
            let mut h = format!("**table {}**{}", ts.name, if ts.singleton { " (one row)" } else { "" });
            if let Some(l) = &ts.label {
                h.push_str(&format!("\n\n{l}"));
            }
            if let Some(pt) = ts.parent {
                h.push_str(&format!("\n\nrows belong to `{}`", s.table(pt).name));
            }
            h.push('\n');
            for f in &ts.fields {
                h.push_str(&format!(
                    "\n- `{}`: {}{}",
                    f.name,
                    f.ty.describe(s),
                    f.label.as_ref().map(|l| format!(" — {l}")).unwrap_or_default()
                ));
            }
            h
        }
        Sym::Codes(l) => {
            let cl = s.code_list(l);
            let mut h = format!("**codes {}**{}\n", cl.name, cl.label.as_ref().map(|l| format!("\n\n{l}")).unwrap_or_default());
            for (code, label) in cl.codes.iter().take(60) {
                h.push_str(&format!("\n- `{code}`{}", label.as_ref().map(|l| format!(" {l}")).unwrap_or_default()));
            }
            if cl.codes.len() > 60 {
                h.push_str(&format!("\n- … and {} more", cl.codes.len() - 60));
            }
            h
        }
        Sym::Global(i) => {
            let g = p.globals.get(i)?;
            let word = if g.is_param { "param" } else { "derive" };
            let def = global_text(p, i, &c.sources).unwrap_or_default();
            format!("**{word} {}**: {}\n\n```fettle\n{def}\n```", g.name, type_text(&g.expr.ty, s))
        }
        Sym::Rule(i) => {
            let r = p.rules.get(i)?;
            format!("**rule {}** ({})\n\n{}", r.code, r.severity.as_str(), r.message)
        }
        Sym::Builtin(b) => format!("**{}**\n\n{}", signature(b), b.describe()),
        Sym::Agg(a, d) => format!("**{}**(x in Table where ..., value)\n\n{d}", a.as_str()),
        Sym::Code(l, i) => {
            let cl = s.code_list(l);
            let (code, label) = cl.codes.get(i)?;
            format!("code `{code}` of **{}**{}", cl.name, label.as_ref().map(|l| format!(": {l}")).unwrap_or_default())
        }
    };
    let ix = LineIndex::new(text);
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
        range: Some(ix.range(start, end)),
    })
}

/// Where the name at `offset` is declared: a location, several, or none.
pub fn definition(c: &Compiled, uris: &HashMap<String, String>, text: &str, offset: usize) -> Option<GotoDefinitionResponse> {
    let p = c.program.as_deref()?;
    let (sym, _, _) = resolve(p, text, offset)?;
    let mut locations: Vec<Location> =
        declarations(p, &sym).into_iter().filter_map(|sp| location(&c.sources, uris, sp)).collect();
    match locations.len() {
        0 => None,
        1 => locations.pop().map(GotoDefinitionResponse::Scalar),
        _ => Some(GotoDefinitionResponse::Array(locations)),
    }
}

/// Every place in the set's files (those with a URI) where a name refers to what the name at
/// `offset` refers to; the declarations too when `declaration`. `None` when the name does not resolve.
pub fn references(
    c: &Compiled,
    uris: &HashMap<String, String>,
    text: &str,
    offset: usize,
    declaration: bool,
) -> Option<Vec<Location>> {
    let p = c.program.as_deref()?;
    let (sym, start, end) = resolve(p, text, offset)?;
    let word = text.get(start..end)?;
    let declared: Vec<Span> = declarations(p, &sym);
    let mut out = vec![];
    for (id, src) in c.sources.iter() {
        let Some(uri) = uris.get(&src.name).and_then(|u| text::lsp_uri(u)) else { continue };
        let ix = LineIndex::new(&src.text);
        let b = src.text.as_bytes();
        for (at, _) in src.text.match_indices(word) {
            let after = at + word.len();
            let whole = (at == 0 || b.get(at - 1).is_some_and(|&x| !text::is_ident(x)))
                && b.get(after).is_none_or(|&x| !text::is_ident(x));
            if !whole || text::string_or_comment(text::line_before(&src.text, at)) != (false, false) {
                continue;
            }
            let Some((other, _, _)) = resolve(p, &src.text, at) else { continue };
            if !same(&sym, &other) {
                continue;
            }
            let is_decl = declared.iter().any(|d| d.file == id && (d.start as usize..=d.end as usize).contains(&at));
            if is_decl && !declaration {
                continue;
            }
            out.push(Location { uri: uri.clone(), range: ix.range(at, after) });
        }
    }
    Some(out)
}

/// Whether two names refer to the same thing: a field written bare may be one of several tables'.
fn same(a: &Sym, b: &Sym) -> bool {
    match (a, b) {
        (Sym::Fields(x), Sym::Fields(y)) => x.iter().any(|f| y.contains(f)),
        _ => a == b,
    }
}

/// Where what a name refers to is declared.
fn declarations(p: &Program, sym: &Sym) -> Vec<Span> {
    let s = &p.schema;
    match sym {
        Sym::Fields(fs) => fs.iter().filter(|(t, _)| s.table(*t).foreign.is_none()).map(|&(t, f)| s.field(t, f).span).collect(),
        Sym::Table(t) if s.table(*t).foreign.is_none() => vec![s.table(*t).span],
        Sym::Codes(l) | Sym::Code(l, _) if !s.code_list(*l).name.contains('.') => vec![s.code_list(*l).span],
        Sym::Global(i) => p.globals.get(*i).map(|g| g.span).into_iter().collect(),
        Sym::Rule(i) => p.rules.get(*i).map(|r| r.span).into_iter().collect(),
        _ => vec![],
    }
}

/// `name(text, whole number) → text`.
pub(super) fn signature(b: Builtin) -> String {
    let (params, result) = b.signature();
    let params: Vec<String> = params.iter().map(|p| p.as_ref().map_or("any".into(), Type::describe)).collect();
    format!("{}({}) → {}", b.name(), params.join(", "), result.describe())
}

/// A value type as rule files write it.
pub(super) fn type_text(t: &Type, s: &Schema) -> String {
    match t {
        Type::Duration(_) | Type::Set(_) | Type::Range(_) | Type::Row(_) | Type::Error => t.describe(),
        _ => crate::check::type_to_field_type(t).describe(s),
    }
}

/// The text of a param or derive declaration, from the start of its line to the end of its value.
pub(super) fn global_text(p: &Program, i: usize, sources: &crate::span::Sources) -> Option<String> {
    let g = p.globals.get(i)?;
    let src = sources.get(g.span.file)?;
    let start = src.text.get(..g.span.start as usize)?.rfind('\n').map_or(0, |n| n + 1);
    let end = if g.expr.span.file == g.span.file && g.expr.span.end > g.span.start {
        g.expr.span.end as usize
    } else {
        g.span.end as usize
    };
    let t = src.text.get(start..end)?;
    let mut cut = t.len().min(600);
    while !t.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(if cut < t.len() { format!("{} …", t.get(..cut).unwrap_or("")) } else { t.to_string() })
}
