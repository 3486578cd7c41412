//! `fettle fmt`: one canonical layout for rule files.
//!
//! The file is parsed and printed back from its AST, so formatting never changes meaning (the
//! round trip `parse(format(f)) == parse(f)` is tested on every shipped file and on generated ones).
//! Comments are not in the AST: they are collected from the text with their offsets and printed,
//! each on its own line, before the first declaration, field, step or example that follows them.
//! Layout: two spaces per level, one declaration per paragraph, a table's parts and a rule's parts
//! in a fixed order, example rows on one line when they fit in 100 columns.

use super::ast::*;
use super::print::{expr, lit, quote};
use std::fmt::Write;

/// Widest line the printer aims for.
const WIDTH: usize = 100;

/// Comments of a source text: byte offset and text (from `#`, trailing spaces removed).
fn comments(text: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut in_str = false;
    let mut escaped = false;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '#' => {
                let end = text.get(i..).and_then(|r| r.find('\n')).map_or(text.len(), |n| i + n);
                out.push((i, text.get(i..end).unwrap_or("").trim_end().to_string()));
                while iter.peek().is_some_and(|(j, _)| *j < end) {
                    iter.next();
                }
            }
            _ => {}
        }
    }
    out
}

struct Printer {
    out: String,
    indent: usize,
    comments: Vec<(usize, String)>,
    next: usize,
}

impl Printer {
    fn line(&mut self, s: &str) {
        if s.is_empty() {
            self.out.push('\n');
            return;
        }
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Prints the comments that come before `offset`.
    fn flush(&mut self, offset: usize) {
        while let Some((at, text)) = self.comments.get(self.next).cloned() {
            if at >= offset {
                break;
            }
            self.line(&text);
            self.next += 1;
        }
    }

    fn room(&self) -> usize {
        WIDTH.saturating_sub(self.indent * 2)
    }
}

fn code_token(c: &str) -> String {
    if !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
        c.to_string()
    } else {
        quote(c)
    }
}

fn type_text(t: &TypeExpr) -> String {
    match t {
        TypeExpr::Text => "text".into(),
        TypeExpr::Int => "int".into(),
        TypeExpr::Decimal => "decimal".into(),
        TypeExpr::Date => "date".into(),
        TypeExpr::Bool => "bool".into(),
        TypeExpr::Code(c) => format!("code {}", c.name),
        TypeExpr::List(i) => format!("list of {}", type_text(i)),
    }
}

fn template(t: &Template) -> String {
    let mut s = String::from("\"");
    for p in &t.parts {
        match p {
            TemplatePart::Text(x) => {
                let q = quote(x);
                let inner = q.get(1..q.len().saturating_sub(1)).unwrap_or("");
                s.push_str(&inner.replace('{', "{{").replace('}', "}}"));
            }
            TemplatePart::Expr(e) => {
                s.push('{');
                s.push_str(&expr(e));
                s.push('}');
            }
        }
    }
    s.push('"');
    s
}

fn value(v: &Value) -> String {
    match &v.kind {
        ValueKind::Lit(l) => lit(l),
        ValueKind::Code(c) => code_token(c),
        ValueKind::List(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
    }
}

/// A record on one line.
fn record_flat(r: &Record) -> String {
    let mut parts: Vec<String> = r.values.iter().map(|(n, v)| format!("{}: {}", n.name, value(v))).collect();
    parts.extend(r.children.iter().map(record_flat));
    if parts.is_empty() { format!("{} {{ }}", r.table.name) } else { format!("{} {{ {} }}", r.table.name, parts.join(" ")) }
}

fn record(p: &mut Printer, r: &Record) {
    p.flush(r.span.start as usize);
    let flat = record_flat(r);
    if flat.len() <= p.room() || r.children.is_empty() {
        p.line(&flat);
        return;
    }
    let values: Vec<String> = r.values.iter().map(|(n, v)| format!("{}: {}", n.name, value(v))).collect();
    let head =
        if values.is_empty() { format!("{} {{", r.table.name) } else { format!("{} {{ {}", r.table.name, values.join(" ")) };
    p.line(&head);
    p.indent += 1;
    for c in &r.children {
        record(p, c);
    }
    p.flush(r.span.end as usize);
    p.indent -= 1;
    p.line("}");
}

fn item(p: &mut Printer, it: &Item) {
    match it {
        Item::Title(t, _) => p.line(&format!("title {}", quote(t))),
        Item::Detect(path) => p.line(&format!("detect year from {}", path.dotted())),
        Item::Uses(u) => p.line(&format!("uses {}", u.name)),
        Item::UsesPrevious(u) => {
            let alias = u.alias.as_ref().map(|a| format!(" as {}", a.name)).unwrap_or_default();
            if u.maps.is_empty() {
                p.line(&format!("uses previous {}{alias}", u.ret.name));
            } else {
                p.line(&format!("uses previous {}{alias} {{", u.ret.name));
                p.indent += 1;
                for m in &u.maps {
                    p.flush(m.span.start as usize);
                    let pairs: Vec<String> =
                        m.pairs.iter().map(|(a, b, _)| format!("{} = {}", code_token(a), code_token(b))).collect();
                    p.line(&format!("map {}.{} from {} {{ {} }}", m.table.name, m.field.name, m.from.name, pairs.join("  ")));
                }
                p.flush(u.span.end as usize);
                p.indent -= 1;
                p.line("}");
            }
        }
        Item::Booleans(y, n, _) => {
            let q = |v: &Vec<String>| v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" ");
            p.line(&format!("booleans {{ true {} false {} }}", q(y), q(n)));
        }
        Item::Codes(c) => {
            let label = c.label.as_ref().map(|l| format!(" {}", quote(l))).unwrap_or_default();
            p.line(&format!("{}codes {}{label} {{", if c.replace { "replace " } else { "" }, c.name.name));
            p.indent += 1;
            for e in &c.entries {
                match e {
                    CodeEntry::Single { code, label, span } => {
                        p.flush(span.start as usize);
                        let l = label.as_ref().map(|l| format!(" {}", quote(l))).unwrap_or_default();
                        p.line(&format!("{}{l}", code_token(code)));
                    }
                    CodeEntry::Range { from, to, span } => {
                        p.flush(span.start as usize);
                        p.line(&format!("{} ..= {}", code_token(from), code_token(to)));
                    }
                }
            }
            p.flush(c.span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
        Item::Table(t) | Item::Extend(t) => {
            let kw = if matches!(it, Item::Extend(_)) { "extend table" } else { "table" };
            let label = t.label.as_ref().map(|l| format!(" {}", quote(l))).unwrap_or_default();
            p.line(&format!("{kw} {}{label} {{", t.name.name));
            p.indent += 1;
            if t.singleton {
                p.line("singleton");
            }
            if let Some(par) = &t.parent {
                p.line(&format!("parent {}", par.name));
            }
            if !t.key.is_empty() {
                let keys: Vec<&str> = t.key.iter().map(|k| k.name.as_str()).collect();
                p.line(&format!("key {}{}", keys.join(", "), if t.ordinal { " ordinal" } else { "" }));
            }
            if !t.sheets.is_empty() {
                p.line(&format!("sheet {}", t.sheets.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")));
            }
            if let Some(x) = &t.xml {
                p.line(&format!("xml {}", quote(x)));
            }
            for r in &t.removed {
                p.flush(r.span.start as usize);
                p.line(&format!("remove field {}", r.name));
            }
            for f in &t.fields {
                p.flush(f.span.start as usize);
                let mut s = format!("field {}: {}", f.name.name, type_text(&f.ty));
                if f.required {
                    s.push_str(" required");
                }
                if let Some(l) = &f.label {
                    let _ = write!(s, " {}", quote(l));
                }
                if !f.headers.is_empty() {
                    let _ = write!(s, " header {}", f.headers.iter().map(|h| quote(h)).collect::<Vec<_>>().join(", "));
                }
                if let Some(x) = &f.xml {
                    let _ = write!(s, " xml {}", quote(x));
                }
                p.line(&s);
            }
            p.flush(t.span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
        Item::Param(d) => {
            p.line(&format!("{}param {} = {}", if d.replace { "replace " } else { "" }, d.name.name, expr(&d.value)))
        }
        Item::Holidays(dates, span) => {
            p.line("holidays {");
            p.indent += 1;
            for chunk in dates.chunks(8) {
                if let Some((_, s)) = chunk.first() {
                    p.flush(s.start as usize);
                }
                p.line(&chunk.iter().map(|(d, _)| d.format("%Y-%m-%d").to_string()).collect::<Vec<_>>().join(" "));
            }
            p.flush(span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
        Item::Derive(d) => {
            let name = match &d.table {
                Some(t) => format!("{}.{}", t.name, d.name.name),
                None => d.name.name.clone(),
            };
            p.line(&format!("{}derive {name} = {}", if d.replace { "replace " } else { "" }, expr(&d.value)));
        }
        Item::Rule(r) => rule(p, r),
        Item::Fixture(recs, span) => {
            p.line("fixture {");
            p.indent += 1;
            for r in recs {
                record(p, r);
            }
            p.flush(span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
        Item::Remove(rm) => {
            let kind = match rm.kind {
                RemoveKind::Rule => "rule",
                RemoveKind::Codes => "codes",
                RemoveKind::Derive => "derive",
                RemoveKind::Param => "param",
                RemoveKind::Table => "table",
            };
            p.line(&format!("remove {kind} {}", rm.name));
        }
        Item::Layout(el) => {
            p.line("layout xml {");
            p.indent += 1;
            element(p, el);
            p.indent -= 1;
            p.line("}");
        }
        Item::ExtendLayout(edits, span) => {
            p.line("extend layout xml {");
            p.indent += 1;
            for e in edits {
                match e {
                    LayoutEdit::Replace(path, el, sp) => {
                        p.flush(sp.start as usize);
                        let head = format!("replace {} = {}", quote(path), element_head(el));
                        element_with_head(p, el, &head);
                    }
                    LayoutEdit::Remove(path, sp) => {
                        p.flush(sp.start as usize);
                        p.line(&format!("remove {}", quote(path)));
                    }
                }
            }
            p.flush(span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
    }
}

/// An element's name, occurrences and facets.
fn element_head(el: &Element) -> String {
    let mut s = el.name.name.clone();
    match (el.min, el.max) {
        (1, Some(1)) => {}
        (a, Some(b)) if a == b => {
            let _ = write!(s, " {a}");
        }
        (a, Some(b)) => {
            let _ = write!(s, " {a}..{b}");
        }
        (a, None) => {
            let _ = write!(s, " {a}..*");
        }
    }
    let facets: Vec<String> = el
        .facets
        .iter()
        .map(|f| match f {
            Facet::Kind(k, _) => k.keyword().to_string(),
            Facet::Enum(vs, _) => format!("enum {}", vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(" ")),
            Facet::Codes(c) => format!("codes {}", c.name),
            Facet::Pattern(vs, _) => format!("pattern {}", vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(" ")),
            Facet::Length(a, Some(b), _) if a == b => format!("length {a}"),
            Facet::Length(a, Some(b), _) => format!("length {a}..{b}"),
            Facet::Length(a, None, _) => format!("length {a}.."),
        })
        .collect();
    if !facets.is_empty() {
        let _ = write!(s, ": {}", facets.join(" "));
    }
    s
}

/// An element of a layout, one line each, children indented.
fn element(p: &mut Printer, el: &Element) {
    p.flush(el.span.start as usize);
    element_with_head(p, el, &element_head(el));
}

/// An element's line (`head`, which may carry a `replace PATH =` prefix) and its children.
fn element_with_head(p: &mut Printer, el: &Element, head: &str) {
    match &el.children {
        None => p.line(head),
        Some(children) if children.is_empty() => p.line(&format!("{head} {{ }}")),
        Some(children) => {
            p.line(&format!("{head} {{"));
            p.indent += 1;
            for c in children {
                element(p, c);
            }
            p.flush(el.span.end as usize);
            p.indent -= 1;
            p.line("}");
        }
    }
}

fn rule(p: &mut Printer, r: &RuleDecl) {
    let scope = match &r.scope {
        Scope::Return(_) => "return".to_string(),
        Scope::Table(t) => t.name.clone(),
        Scope::Group(t, e) => format!("{} by {}", t.name, expr(e)),
    };
    p.line(&format!(
        "{}rule {} {} {} on {scope} {{",
        if r.replace { "replace " } else { "" },
        r.code.name,
        r.severity.as_str(),
        template(&r.message)
    ));
    p.indent += 1;
    if !r.fields.is_empty() {
        p.line(&format!("fields {}", r.fields.iter().map(Path::dotted).collect::<Vec<_>>().join(", ")));
    }
    if let Some(n) = &r.note {
        p.line(&format!("note {}", quote(n)));
    }
    if let Some(f) = &r.fix {
        p.line(&format!("fix {}", quote(f)));
    }
    for s in &r.steps {
        let (kw, e) = match s {
            Step::When(e) => ("when", e),
            Step::Require(e) => ("require", e),
            Step::Forbid(e) => ("forbid", e),
            Step::Let(n, e) => {
                p.flush(n.span.start as usize);
                p.line(&format!("let {} = {}", n.name, expr(e)));
                continue;
            }
        };
        p.flush(e.span.start as usize);
        let lines = expr_lines(e, p.room().saturating_sub(kw.len() + 1));
        for (i, l) in lines.iter().enumerate() {
            if i == 0 {
                p.line(&format!("{kw} {l}"));
            } else {
                p.line(&format!("  {l}"));
            }
        }
    }
    if !r.report.is_empty() {
        p.line(&format!("report {}", r.report.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")));
    }
    for ex in &r.examples {
        p.flush(ex.span.start as usize);
        let head = format!(
            "example {}{}",
            if ex.fail { "fail" } else { "pass" },
            ex.label.as_ref().map(|l| format!(" {}", quote(l))).unwrap_or_default()
        );
        let flat: Vec<String> = ex.records.iter().map(record_flat).collect();
        let one = format!("{head} {{ {} }}", flat.join(" "));
        if ex.records.len() <= 1 && one.len() <= p.room() {
            p.line(&one);
            continue;
        }
        p.line(&format!("{head} {{"));
        p.indent += 1;
        for rec in &ex.records {
            record(p, rec);
        }
        p.flush(ex.span.end as usize);
        p.indent -= 1;
        p.line("}");
    }
    p.flush(r.span.end as usize);
    p.indent -= 1;
    p.line("}");
}

/// Formats a parsed file; `text` is its source (for comments).
pub fn format(text: &str, file: &File) -> String {
    let mut p = Printer { out: String::new(), indent: 0, comments: comments(text), next: 0 };
    let first = file.items.iter().map(item_start).min().unwrap_or(text.len());
    // Comments before the header stay above it; the rest of the file's opening comments follow it.
    let header_at = file.header.ret.span.start as usize;
    p.flush(header_at);
    let mut h = format!("return {} {}", file.header.ret.name, file.header.year.name);
    if let Some(e) = &file.header.extends {
        let _ = write!(h, " extends {}", e.name);
    }
    p.line(&h);
    let mut prev_kind: Option<&'static str> = None;
    for (i, it) in file.items.iter().enumerate() {
        let start = item_start(it);
        let kind = kind_of(it);
        // Paragraphs: a blank line between declarations, except between runs of one-liners of a kind.
        let one_liner =
            matches!(it, Item::Param(_) | Item::Derive(_) | Item::Remove(_) | Item::Title(..) | Item::Detect(_) | Item::Uses(_));
        let has_comment = p.comments.get(p.next).is_some_and(|(at, _)| *at < start);
        if i == 0 || !(one_liner && prev_kind == Some(kind)) || has_comment {
            p.line("");
        }
        p.flush(start);
        item(&mut p, it);
        prev_kind = if one_liner { Some(kind) } else { None };
    }
    let _ = first;
    if p.next < p.comments.len() {
        p.line("");
        p.flush(usize::MAX);
    }
    p.out
}

fn kind_of(it: &Item) -> &'static str {
    match it {
        Item::Param(_) => "param",
        Item::Derive(_) => "derive",
        Item::Remove(_) => "remove",
        Item::Title(..) | Item::Detect(_) | Item::Uses(_) => "header",
        _ => "block",
    }
}

fn item_start(it: &Item) -> usize {
    let s = match it {
        Item::Title(_, s) | Item::Holidays(_, s) | Item::Fixture(_, s) | Item::Booleans(_, _, s) => *s,
        Item::Detect(p) => p.span,
        Item::Uses(u) => u.span,
        Item::UsesPrevious(u) => u.span,
        Item::Codes(c) => c.span,
        Item::Table(t) | Item::Extend(t) => t.span,
        Item::Param(p) => p.span,
        Item::Derive(d) => d.span,
        Item::Rule(r) => r.span,
        Item::Remove(r) => r.span,
        Item::Layout(el) => el.span,
        Item::ExtendLayout(_, s) => *s,
    };
    s.start as usize
}

/// An expression on as many lines as it needs: `if`/`then`/`else` and chains of `and`/`or` are
/// broken before their keywords; anything else stays on one line.
fn expr_lines(e: &Expr, width: usize) -> Vec<String> {
    let flat = expr(e);
    if flat.len() <= width {
        return vec![flat];
    }
    match &e.kind {
        ExprKind::If(c, a, b) => {
            let mut out = vec![format!("if {}", expr(c))];
            out.push(format!("then {}", expr(a)));
            out.push(format!("else {}", expr(b)));
            out
        }
        ExprKind::Binary(op @ (BinOp::And | BinOp::Or), _, _) => {
            let mut operands = vec![];
            chain(e, *op, &mut operands);
            let mut out = vec![];
            for (i, x) in operands.iter().enumerate() {
                // An operand that is itself an `or` inside an `and` chain keeps its brackets, and so
                // does a chain of the same operator bracketed on the right.
                let text = match &x.kind {
                    ExprKind::Binary(BinOp::Or, ..) if *op == BinOp::And => format!("({})", expr(x)),
                    ExprKind::Binary(o, ..) if o == op => format!("({})", expr(x)),
                    ExprKind::If(..) => format!("({})", expr(x)),
                    _ => expr(x),
                };
                out.push(if i == 0 { text } else { format!("{} {text}", op.as_str()) });
            }
            out
        }
        _ => vec![flat],
    }
}

/// The operands of a chain of one operator, from the left: `a and (b and c)` has the operands `a`
/// and `(b and c)`, whose brackets stay.
fn chain<'a>(e: &'a Expr, op: BinOp, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary(o, a, b) if *o == op => {
            chain(a, op, out);
            out.push(b);
        }
        _ => out.push(e),
    }
}
