//! Lowers pest pairs into the owned AST. The only place that touches pest's tree.

use super::Rule;
use super::ast::*;
use crate::diag::Diag;
use crate::span::{FileId, Span};
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_not_in, Assoc::Left))
        .op(Op::infix(Rule::op_range_incl, Assoc::Left) | Op::infix(Rule::op_range_excl, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

struct Cx<'d> {
    file: FileId,
    offset: usize,
    diags: &'d mut Vec<Diag>,
}

impl Cx<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.file, s.start() + self.offset, s.end() + self.offset)
    }
    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident { name: p.as_str().to_string(), span: self.span(&p) }
    }
}

pub(super) fn file(fid: FileId, pair: Pair<Rule>, diags: &mut Vec<Diag>) -> File {
    let mut cx = Cx { file: fid, offset: 0, diags };
    let mut header = None;
    let mut items = vec![];
    for p in pair.into_inner() {
        match p.as_rule() {
            Rule::header => header = Some(lower_header(&cx, p)),
            Rule::EOI => {}
            _ => {
                if let Some(i) = item(&mut cx, p) {
                    items.push(i);
                }
            }
        }
    }
    let header = header.unwrap_or_else(|| Header {
        ret: Ident { name: String::new(), span: Span::default() },
        year: Ident { name: String::new(), span: Span::default() },
        extends: None,
    });
    File { header, items }
}

pub(super) fn expr_at(fid: FileId, pair: Pair<Rule>, offset: usize, diags: &mut Vec<Diag>) -> Expr {
    let mut cx = Cx { file: fid, offset, diags };
    expr(&mut cx, pair)
}

fn lower_header(cx: &Cx, p: Pair<Rule>) -> Header {
    let mut ret = None;
    let mut years = vec![];
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident => ret = Some(cx.ident(q)),
            Rule::year => years.push(cx.ident(q)),
            _ => {}
        }
    }
    let mut years = years.into_iter();
    Header {
        ret: ret.unwrap_or_else(|| Ident { name: String::new(), span: Span::default() }),
        year: years.next().unwrap_or_else(|| Ident { name: String::new(), span: Span::default() }),
        extends: years.next(),
    }
}

/// Unquotes a string literal, resolving `\"`, `\\`, `\n` and `\t`.
pub(super) fn unquote(s: &str) -> String {
    let inner = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn item(cx: &mut Cx, p: Pair<Rule>) -> Option<Item> {
    let span = cx.span(&p);
    Some(match p.as_rule() {
        Rule::title_decl => {
            let s = p.into_inner().find(|q| q.as_rule() == Rule::string)?;
            Item::Title(unquote(s.as_str()), span)
        }
        Rule::detect_decl => {
            let path = p.into_inner().find(|q| q.as_rule() == Rule::path)?;
            Item::Detect(lower_path(cx, path))
        }
        Rule::uses_decl => Item::Uses(cx.ident(p.into_inner().find(|q| q.as_rule() == Rule::ident)?)),
        Rule::uses_previous_decl => {
            // The declaration ends at its last token, not at the blank after an omitted `{ ... }`.
            let end = p.clone().into_inner().last().map_or(span.end, |q| cx.span(&q).end);
            let end = if p.as_str().trim_end().ends_with('}') { span.start + p.as_str().trim_end().len() as u32 } else { end };
            let span = Span::new(span.file, span.start as usize, end as usize);
            let mut idents = vec![];
            let mut maps = vec![];
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::ident => idents.push(cx.ident(q)),
                    Rule::previous_map => maps.push(previous_map(cx, q)?),
                    _ => {}
                }
            }
            let mut it = idents.into_iter();
            Item::UsesPrevious(UsesPrevious { ret: it.next()?, alias: it.next(), maps, span })
        }
        Rule::booleans_decl => {
            let mut yes = vec![];
            let mut no = vec![];
            let mut in_false = false;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::kw_false_lit => in_false = true,
                    Rule::string if in_false => no.push(unquote(q.as_str())),
                    Rule::string => yes.push(unquote(q.as_str())),
                    _ => {}
                }
            }
            Item::Booleans(yes, no, span)
        }
        Rule::codes_decl => {
            let mut replace = false;
            let mut name = None;
            let mut label = None;
            let mut entries = vec![];
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::replace => replace = true,
                    Rule::ident => name = Some(cx.ident(q)),
                    Rule::string => label = Some(unquote(q.as_str())),
                    Rule::code_entry => {
                        if let Some(e) = code_entry(cx, q) {
                            entries.push(e);
                        }
                    }
                    _ => {}
                }
            }
            Item::Codes(CodesDecl { replace, name: name?, label, entries, span })
        }
        Rule::table_decl | Rule::extend_decl => {
            let extend = p.as_rule() == Rule::extend_decl;
            let t = table(cx, p);
            if extend { Item::Extend(t) } else { Item::Table(t) }
        }
        Rule::param_decl => {
            let mut replace = false;
            let mut name = None;
            let mut value = None;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::replace => replace = true,
                    Rule::ident => name = Some(cx.ident(q)),
                    Rule::expr => value = Some(expr(cx, q)),
                    _ => {}
                }
            }
            Item::Param(ParamDecl { replace, name: name?, value: value?, span })
        }
        Rule::holidays_decl => {
            let mut dates = vec![];
            for q in p.into_inner() {
                if q.as_rule() == Rule::date_lit {
                    let s = cx.span(&q);
                    match parse_date(q.as_str()) {
                        Some(d) => dates.push((d, s)),
                        None => cx.diags.push(bad_date(s, q.as_str())),
                    }
                }
            }
            Item::Holidays(dates, span)
        }
        Rule::derive_decl => {
            let mut replace = false;
            let mut table = None;
            let mut name = None;
            let mut value = None;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::replace => replace = true,
                    Rule::ident => name = Some(cx.ident(q)),
                    Rule::qualified => {
                        let mut it = q.into_inner();
                        table = it.next().map(|x| cx.ident(x));
                        name = it.next().map(|x| cx.ident(x));
                    }
                    Rule::expr => value = Some(expr(cx, q)),
                    _ => {}
                }
            }
            Item::Derive(DeriveDecl { replace, table, name: name?, value: value?, span })
        }
        Rule::rule_decl => Item::Rule(Box::new(rule(cx, p)?)),
        Rule::layout_decl => Item::Layout(element(cx, p.into_inner().find(|q| q.as_rule() == Rule::element_decl)?)),
        Rule::extend_layout_decl => {
            let mut edits = vec![];
            for q in p.into_inner().filter(|q| q.as_rule() == Rule::layout_edit).filter_map(|q| q.into_inner().next()) {
                let espan = cx.span(&q);
                let rule = q.as_rule();
                let mut path = String::new();
                let mut el = None;
                for r in q.into_inner() {
                    match r.as_rule() {
                        Rule::string => path = unquote(r.as_str()),
                        Rule::element_decl => el = Some(element(cx, r)),
                        _ => {}
                    }
                }
                match (rule, el) {
                    (Rule::layout_replace, Some(el)) => edits.push(LayoutEdit::Replace(path, el, espan)),
                    (Rule::layout_remove, _) => edits.push(LayoutEdit::Remove(path, espan)),
                    _ => {}
                }
            }
            Item::ExtendLayout(edits, span)
        }
        Rule::fixture_decl => {
            let recs = p.into_inner().filter(|q| q.as_rule() == Rule::record).map(|q| record(cx, q)).collect();
            Item::Fixture(recs, span)
        }
        Rule::remove_decl => {
            let mut kind = RemoveKind::Rule;
            let mut name = String::new();
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::remove_kind => {
                        kind = match q.into_inner().next().map(|k| k.as_rule()) {
                            Some(Rule::kw_codes) => RemoveKind::Codes,
                            Some(Rule::kw_derive) => RemoveKind::Derive,
                            Some(Rule::kw_param) => RemoveKind::Param,
                            Some(Rule::kw_table) => RemoveKind::Table,
                            _ => RemoveKind::Rule,
                        }
                    }
                    Rule::rule_code | Rule::ident | Rule::qualified => name = q.as_str().split_whitespace().collect(),
                    _ => {}
                }
            }
            Item::Remove(RemoveDecl { kind, name, span })
        }
        _ => return None,
    })
}

/// A rule's table: `CINdetails`, or last year's `last.CINdetails` (one name, as the schema has it).
fn scope_name(cx: &Cx, q: Pair<Rule>) -> Option<Ident> {
    if q.as_rule() == Rule::qualified {
        let span = cx.span(&q);
        let (a, b) = qualified(cx, q)?;
        return Some(Ident { name: format!("{}.{}", a.name, b.name), span });
    }
    Some(cx.ident(q))
}

fn code_text(q: &Pair<Rule>) -> String {
    let s = q.as_str();
    if s.starts_with('"') { unquote(s) } else { s.to_string() }
}

fn qualified(cx: &Cx, q: Pair<Rule>) -> Option<(Ident, Ident)> {
    let mut it = q.into_inner().filter(|x| x.as_rule() == Rule::ident);
    Some((cx.ident(it.next()?), cx.ident(it.next()?)))
}

fn previous_map(cx: &Cx, p: Pair<Rule>) -> Option<PreviousMap> {
    let span = cx.span(&p);
    let mut target = None;
    let mut from = None;
    let mut pairs = vec![];
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::qualified => target = qualified(cx, q),
            Rule::ident => from = Some(cx.ident(q)),
            Rule::map_pair => {
                let pspan = cx.span(&q);
                let mut it = q.into_inner();
                let (a, b) = (it.next()?, it.next()?);
                pairs.push((code_text(&a), code_text(&b), pspan));
            }
            _ => {}
        }
    }
    let (table, field) = target?;
    Some(PreviousMap { table, field, from: from?, pairs, span })
}

fn code_entry(cx: &Cx, p: Pair<Rule>) -> Option<CodeEntry> {
    let span = cx.span(&p);
    let inner = p.into_inner().next()?;
    let code_text = |q: Pair<Rule>| -> String {
        let s = q.as_str();
        if s.starts_with('"') { unquote(s) } else { s.to_string() }
    };
    match inner.as_rule() {
        Rule::code_range => {
            let mut it = inner.into_inner();
            let from = code_text(it.next()?);
            let to = code_text(it.next()?);
            Some(CodeEntry::Range { from, to, span })
        }
        Rule::code_single => {
            let mut it = inner.into_inner();
            let code = code_text(it.next()?);
            let label = it.next().map(|l| unquote(l.as_str()));
            Some(CodeEntry::Single { code, label, span })
        }
        _ => None,
    }
}

fn table(cx: &mut Cx, p: Pair<Rule>) -> TableDecl {
    let span = cx.span(&p);
    let mut t = TableDecl {
        name: Ident { name: String::new(), span },
        label: None,
        singleton: false,
        parent: None,
        key: vec![],
        ordinal: false,
        sheets: vec![],
        xml: None,
        fields: vec![],
        removed: vec![],
        span,
    };
    let mut named = false;
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident if !named => {
                t.name = cx.ident(q);
                named = true;
            }
            Rule::string => t.label = Some(unquote(q.as_str())),
            Rule::singleton => t.singleton = true,
            Rule::parent_decl => t.parent = q.into_inner().find(|x| x.as_rule() == Rule::ident).map(|x| cx.ident(x)),
            Rule::key_decl => {
                for x in q.into_inner() {
                    match x.as_rule() {
                        Rule::ident => t.key.push(cx.ident(x)),
                        Rule::ordinal => t.ordinal = true,
                        _ => {}
                    }
                }
            }
            Rule::sheet_decl => {
                t.sheets.extend(q.into_inner().filter(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())))
            }
            Rule::xml_decl => t.xml = q.into_inner().find(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())),
            Rule::field_decl => {
                if let Some(f) = field(cx, q) {
                    t.fields.push(f);
                }
            }
            Rule::remove_field => {
                if let Some(x) = q.into_inner().find(|x| x.as_rule() == Rule::ident) {
                    t.removed.push(cx.ident(x));
                }
            }
            _ => {}
        }
    }
    t
}

fn field(cx: &Cx, p: Pair<Rule>) -> Option<FieldDecl> {
    let span = cx.span(&p);
    let mut name = None;
    let mut ty = None;
    let mut f_required = false;
    let mut label = None;
    let mut headers = vec![];
    let mut xml = None;
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident => name = Some(cx.ident(q)),
            Rule::type_expr => ty = type_expr(cx, q),
            Rule::required => f_required = true,
            Rule::string => label = Some(unquote(q.as_str())),
            Rule::header_attr => {
                headers.extend(q.into_inner().filter(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())))
            }
            Rule::xml_decl => xml = q.into_inner().find(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())),
            _ => {}
        }
    }
    Some(FieldDecl { name: name?, ty: ty?, required: f_required, label, headers, xml, span })
}

fn type_expr(cx: &Cx, p: Pair<Rule>) -> Option<TypeExpr> {
    let inner = p.into_inner().next()?;
    match inner.as_rule() {
        Rule::list_type => {
            let el = inner.into_inner().find(|x| matches!(x.as_rule(), Rule::code_type | Rule::scalar_type))?;
            Some(TypeExpr::List(Box::new(simple_type(cx, el)?)))
        }
        _ => simple_type(cx, inner),
    }
}

fn simple_type(cx: &Cx, p: Pair<Rule>) -> Option<TypeExpr> {
    match p.as_rule() {
        Rule::code_type => p.into_inner().find(|x| x.as_rule() == Rule::ident).map(|x| TypeExpr::Code(cx.ident(x))),
        Rule::scalar_type => Some(match p.into_inner().next()?.as_rule() {
            Rule::kw_int => TypeExpr::Int,
            Rule::kw_decimal => TypeExpr::Decimal,
            Rule::kw_date => TypeExpr::Date,
            Rule::kw_bool => TypeExpr::Bool,
            _ => TypeExpr::Text,
        }),
        _ => None,
    }
}

fn rule(cx: &mut Cx, p: Pair<Rule>) -> Option<RuleDecl> {
    let span = cx.span(&p);
    let mut replace = false;
    let mut code = None;
    let mut severity = Severity::Error;
    let mut message = None;
    let mut scope = None;
    let mut r = RuleDecl {
        replace: false,
        code: Ident { name: String::new(), span },
        severity,
        message: Template { parts: vec![], span },
        scope: Scope::Return(span),
        fields: vec![],
        note: None,
        fix: None,
        report: vec![],
        steps: vec![],
        examples: vec![],
        span,
    };
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::replace => replace = true,
            Rule::rule_code => code = Some(cx.ident(q)),
            Rule::severity => {
                severity = match q.into_inner().next().map(|x| x.as_rule()) {
                    Some(Rule::kw_query) => Severity::Query,
                    Some(Rule::kw_info) => Severity::Info,
                    _ => Severity::Error,
                }
            }
            Rule::string => message = Some(template(cx, &q)),
            Rule::rule_scope => {
                let s = q.into_inner().next()?;
                let sspan = cx.span(&s);
                scope = Some(match s.as_rule() {
                    Rule::scope_return => Scope::Return(sspan),
                    Rule::scope_group => {
                        let mut it = s.into_inner();
                        let t = scope_name(cx, it.next()?)?;
                        let e = it.find(|x| x.as_rule() == Rule::expr).map(|x| expr(cx, x))?;
                        Scope::Group(t, e)
                    }
                    _ => Scope::Table(scope_name(cx, s.into_inner().next()?)?),
                });
            }
            Rule::fields_decl => r.fields.extend(q.into_inner().filter(|x| x.as_rule() == Rule::path).map(|x| lower_path(cx, x))),
            Rule::note_decl => r.note = q.into_inner().find(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())),
            Rule::fix_decl => r.fix = q.into_inner().find(|x| x.as_rule() == Rule::string).map(|x| unquote(x.as_str())),
            Rule::report_decl => r.report.extend(q.into_inner().filter(|x| x.as_rule() == Rule::ident).map(|x| cx.ident(x))),
            Rule::when_decl | Rule::require_decl | Rule::forbid_decl => {
                let kind = q.as_rule();
                let e = q.into_inner().find(|x| x.as_rule() == Rule::expr).map(|x| expr(cx, x))?;
                r.steps.push(match kind {
                    Rule::when_decl => Step::When(e),
                    Rule::require_decl => Step::Require(e),
                    _ => Step::Forbid(e),
                });
            }
            Rule::let_decl => {
                let mut it = q.into_inner().filter(|x| matches!(x.as_rule(), Rule::ident | Rule::expr));
                let name = cx.ident(it.next()?);
                let e = expr(cx, it.next()?);
                r.steps.push(Step::Let(name, e));
            }
            Rule::example_decl => {
                let espan = cx.span(&q);
                let mut ex = Example { fail: false, label: None, records: vec![], span: espan };
                for x in q.into_inner() {
                    match x.as_rule() {
                        Rule::outcome => ex.fail = x.into_inner().next().map(|o| o.as_rule()) == Some(Rule::kw_fail),
                        Rule::string => ex.label = Some(unquote(x.as_str())),
                        Rule::record => ex.records.push(record(cx, x)),
                        _ => {}
                    }
                }
                r.examples.push(ex);
            }
            _ => {}
        }
    }
    r.replace = replace;
    r.code = code?;
    r.severity = severity;
    r.message = message?;
    r.scope = scope?;
    Some(r)
}

fn record(cx: &mut Cx, p: Pair<Rule>) -> Record {
    let span = cx.span(&p);
    let mut table = Ident { name: String::new(), span };
    let mut values = vec![];
    let mut children = vec![];
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident | Rule::qualified => table = cx.ident(q),
            Rule::assign => {
                let mut it = q.into_inner();
                if let (Some(n), Some(v)) = (it.next(), it.next()) {
                    let name = cx.ident(n);
                    values.push((name, value(cx, v)));
                }
            }
            Rule::record => children.push(record(cx, q)),
            _ => {}
        }
    }
    Record { table, values, children, span }
}

fn value(cx: &mut Cx, p: Pair<Rule>) -> Value {
    let span = cx.span(&p);
    let Some(inner) = p.into_inner().next() else {
        return Value { kind: ValueKind::Code(String::new()), span };
    };
    let kind = match inner.as_rule() {
        Rule::list_value => ValueKind::List(inner.into_inner().map(|x| value(cx, x)).collect()),
        Rule::bare_code => ValueKind::Code(inner.as_str().to_string()),
        Rule::neg_number => {
            let t = inner.as_str();
            if t.contains('.') {
                ValueKind::Lit(Lit::Dec(t.parse().unwrap_or(0.0)))
            } else {
                ValueKind::Lit(Lit::Int(t.parse().unwrap_or(0)))
            }
        }
        _ => match literal(cx, inner) {
            ExprKind::Lit(l) => ValueKind::Lit(l),
            _ => ValueKind::Code(String::new()),
        },
    };
    Value { kind, span }
}

/// Splits a message string into text and `{expr}` holes; `{{` and `}}` stand for braces.
fn template(cx: &mut Cx, p: &Pair<Rule>) -> Template {
    let span = cx.span(p);
    let raw = p.as_str();
    let text = unquote(raw);
    let mut parts = vec![];
    if !text.contains('{') && !text.contains('}') {
        parts.push(TemplatePart::Text(text));
        return Template { parts, span };
    }
    // Work on the raw literal so hole offsets map back to the file.
    let base = span.start as usize + 1;
    let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    let bytes = body.as_bytes();
    let mut lit = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(b' ');
        if c == b'{' && bytes.get(i + 1) == Some(&b'{') {
            lit.push('{');
            i += 2;
        } else if c == b'}' && bytes.get(i + 1) == Some(&b'}') {
            lit.push('}');
            i += 2;
        } else if c == b'{' {
            let Some(close) = body.get(i + 1..).and_then(|s| s.find('}')) else {
                cx.diags.push(
                    Diag::error("syntax::template", Span::new(cx.file, base + i, base + i + 1), "unclosed `{` in message")
                        .label("this `{` has no `}`")
                        .help("write `{{` for a literal brace"),
                );
                break;
            };
            if !lit.is_empty() {
                parts.push(TemplatePart::Text(unquote(&format!("\"{lit}\""))));
                lit.clear();
            }
            let hole = body.get(i + 1..i + 1 + close).unwrap_or("");
            match super::parse_expr(cx.file, hole, base + i + 1) {
                Ok(e) => parts.push(TemplatePart::Expr(e)),
                Err(d) => cx.diags.push(*d),
            }
            i += close + 2;
        } else {
            let ch_len = body.get(i..).and_then(|s| s.chars().next()).map_or(1, char::len_utf8);
            lit.push_str(body.get(i..i + ch_len).unwrap_or(""));
            i += ch_len;
        }
    }
    if !lit.is_empty() {
        parts.push(TemplatePart::Text(unquote(&format!("\"{lit}\""))));
    }
    Template { parts, span }
}

fn lower_path(cx: &Cx, p: Pair<Rule>) -> Path {
    let span = cx.span(&p);
    let segments = p.into_inner().map(|x| cx.ident(x)).collect();
    Path { segments, span }
}

pub(super) fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn bad_date(span: Span, s: &str) -> Diag {
    Diag::error("syntax::bad-date", span, format!("`{s}` is not a calendar date")).label("no such day")
}

fn literal(cx: &mut Cx, p: Pair<Rule>) -> ExprKind {
    let span = cx.span(&p);
    let s = p.as_str();
    match p.as_rule() {
        Rule::date_lit => match parse_date(s) {
            Some(d) => ExprKind::Lit(Lit::Date(d)),
            None => {
                cx.diags.push(bad_date(span, s));
                ExprKind::Lit(Lit::Str(s.to_string()))
            }
        },
        Rule::number => {
            if s.contains('.') {
                ExprKind::Lit(Lit::Dec(s.parse().unwrap_or(0.0)))
            } else {
                match s.parse() {
                    Ok(n) => ExprKind::Lit(Lit::Int(n)),
                    Err(_) => {
                        cx.diags.push(Diag::error("syntax::number", span, format!("`{s}` is too large")));
                        ExprKind::Lit(Lit::Int(0))
                    }
                }
            }
        }
        Rule::percent => ExprKind::Lit(Lit::Dec(s.trim_end_matches('%').parse::<f64>().unwrap_or(0.0) / 100.0)),
        Rule::string => ExprKind::Lit(Lit::Str(unquote(s))),
        Rule::kw_true_lit => ExprKind::Lit(Lit::Bool(true)),
        Rule::kw_false_lit => ExprKind::Lit(Lit::Bool(false)),
        Rule::duration => {
            let mut it = p.into_inner();
            let n: i64 = it.next().and_then(|x| x.as_str().parse().ok()).unwrap_or(0);
            let u = it.next().map(|x| x.as_str().to_string()).unwrap_or_default();
            let unit = if u.starts_with("working") {
                Unit::WorkingDays
            } else if u.starts_with("day") {
                Unit::Days
            } else if u.starts_with("week") {
                Unit::Weeks
            } else if u.starts_with("month") {
                Unit::Months
            } else {
                Unit::Years
            };
            ExprKind::Duration(n, unit)
        }
        _ => ExprKind::Lit(Lit::Str(s.to_string())),
    }
}

fn expr(cx: &mut Cx, p: Pair<Rule>) -> Expr {
    // `cx` is shared by the Pratt closures through a RefCell-free trick: collect diags afterwards.
    let mut diags = vec![];
    let file = cx.file;
    let offset = cx.offset;
    let e = {
        let mut inner = Cx { file, offset, diags: &mut diags };
        pratt(&mut inner, p)
    };
    cx.diags.extend(diags);
    e
}

fn pratt(cx: &mut Cx, p: Pair<Rule>) -> Expr {
    let cell = std::cell::RefCell::new(cx);
    PRATT
        .map_primary(|q| {
            let mut cx = cell.borrow_mut();
            primary(&mut cx, q)
        })
        .map_prefix(|op, rhs| {
            let cx = cell.borrow();
            let span = cx.span(&op).to(rhs.span);
            let op = if op.as_rule() == Rule::op_not { UnOp::Not } else { UnOp::Neg };
            Expr { kind: ExprKind::Unary(op, Box::new(rhs)), span }
        })
        .map_infix(|lhs, op, rhs| {
            let span = lhs.span.to(rhs.span);
            let kind = match op.as_rule() {
                Rule::op_range_incl | Rule::op_range_excl => {
                    ExprKind::Range { inclusive: op.as_rule() == Rule::op_range_incl, lo: Box::new(lhs), hi: Box::new(rhs) }
                }
                r => {
                    let b = match r {
                        Rule::op_or => BinOp::Or,
                        Rule::op_and => BinOp::And,
                        Rule::op_eq => BinOp::Eq,
                        Rule::op_ne => BinOp::Ne,
                        Rule::op_lt => BinOp::Lt,
                        Rule::op_le => BinOp::Le,
                        Rule::op_gt => BinOp::Gt,
                        Rule::op_ge => BinOp::Ge,
                        Rule::op_in => BinOp::In,
                        Rule::op_not_in => BinOp::NotIn,
                        Rule::op_coalesce => BinOp::Coalesce,
                        Rule::op_add => BinOp::Add,
                        Rule::op_sub => BinOp::Sub,
                        Rule::op_mul => BinOp::Mul,
                        _ => BinOp::Div,
                    };
                    ExprKind::Binary(b, Box::new(lhs), Box::new(rhs))
                }
            };
            Expr { kind, span }
        })
        .parse(p.into_inner())
}

fn primary(cx: &mut Cx, p: Pair<Rule>) -> Expr {
    let span = cx.span(&p);
    let kind = match p.as_rule() {
        Rule::paren => {
            let mut parts = p.into_inner();
            let first = parts.next().map(|e| expr(cx, e));
            match (first, parts.next()) {
                (Some(first), Some(rest)) => {
                    ExprKind::Tuple(std::iter::once(first).chain(rest.into_inner().map(|x| expr(cx, x))).collect())
                }
                (Some(mut inner), None) => {
                    // The brackets belong to the expression's text (rule text in findings).
                    inner.span = span;
                    return inner;
                }
                (None, _) => ExprKind::Tuple(vec![]),
            }
        }
        Rule::if_expr => {
            let mut es = p.into_inner().filter(|x| x.as_rule() == Rule::expr).map(|x| expr(cx, x)).collect::<Vec<_>>();
            if es.len() == 3 {
                let e = es.pop().map(Box::new);
                let t = es.pop().map(Box::new);
                let c = es.pop().map(Box::new);
                match (c, t, e) {
                    (Some(c), Some(t), Some(e)) => ExprKind::If(c, t, e),
                    _ => ExprKind::Tuple(vec![]),
                }
            } else {
                ExprKind::Tuple(vec![])
            }
        }
        Rule::aggregate => {
            let mut it = p.into_inner();
            let func = match it.next().map(|x| x.as_str().to_string()).as_deref() {
                Some("count") => AggFn::Count,
                Some("exists") => AggFn::Exists,
                Some("none") => AggFn::None,
                Some("all") => AggFn::All,
                Some("min") => AggFn::Min,
                Some("max") => AggFn::Max,
                Some("sum") => AggFn::Sum,
                Some("distinct") => AggFn::Distinct,
                Some("list") => AggFn::List,
                _ => AggFn::Share,
            };
            let mut set = SetExpr { var: None, source: Path { segments: vec![], span }, filter: None };
            let mut arg = None;
            for x in it {
                match x.as_rule() {
                    Rule::set_expr => {
                        for y in x.into_inner() {
                            match y.as_rule() {
                                Rule::ident => set.var = Some(cx.ident(y)),
                                Rule::path => set.source = lower_path(cx, y),
                                Rule::expr => set.filter = Some(Box::new(expr(cx, y))),
                                _ => {}
                            }
                        }
                    }
                    Rule::expr => arg = Some(Box::new(expr(cx, x))),
                    _ => {}
                }
            }
            ExprKind::Agg { func, set, arg }
        }
        Rule::call => {
            let mut it = p.into_inner();
            let name = it.next().map(|x| cx.ident(x)).unwrap_or(Ident { name: String::new(), span });
            ExprKind::Call(name, it.map(|x| expr(cx, x)).collect())
        }
        Rule::path => ExprKind::Path(lower_path(cx, p)),
        _ => literal(cx, p),
    };
    Expr { kind, span }
}

fn int(p: &Pair<Rule>) -> u32 {
    p.as_str().parse().unwrap_or(u32::MAX)
}

/// An element of an XML layout, with the elements inside it.
fn element(cx: &mut Cx, p: Pair<Rule>) -> Element {
    let span = cx.span(&p);
    let mut name = Ident { name: String::new(), span };
    let (mut min, mut max) = (1, Some(1));
    let mut facets = vec![];
    let mut children = None;
    // An element with a `{ }` block holds elements, even when the block is empty.
    let block = p.as_str().trim_end().ends_with('}');
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::ident => name = cx.ident(q),
            Rule::occurs => {
                let text = q.as_str().to_string();
                let mut parts = q.into_inner();
                min = parts.next().map_or(1, |n| int(&n));
                max = match parts.next() {
                    Some(m) if m.as_rule() == Rule::occurs_many => None,
                    Some(m) => Some(int(&m)),
                    None if text.contains("..") => None,
                    None => Some(min),
                };
            }
            Rule::facet => {
                let Some(f) = q.into_inner().next() else { continue };
                let fspan = cx.span(&f);
                facets.push(match f.as_rule() {
                    Rule::facet_kind => Facet::Kind(
                        match f.as_str() {
                            "date" => TextKind::Date,
                            "datetime" => TextKind::DateTime,
                            "gyear" => TextKind::GYear,
                            "integer" => TextKind::Integer,
                            "nonnegative" => TextKind::NonNegative,
                            _ => TextKind::Text,
                        },
                        fspan,
                    ),
                    Rule::facet_enum => Facet::Enum(f.into_inner().map(|s| unquote(s.as_str())).collect(), fspan),
                    Rule::facet_pattern => Facet::Pattern(f.into_inner().map(|s| unquote(s.as_str())).collect(), fspan),
                    Rule::facet_codes => match f.into_inner().next() {
                        Some(i) => Facet::Codes(cx.ident(i)),
                        None => continue,
                    },
                    Rule::facet_length => {
                        let open = f.as_str().contains("..");
                        let nums: Vec<u32> = f.into_inner().map(|n| int(&n)).collect();
                        let lo = nums.first().copied().unwrap_or(0);
                        let hi = if open { nums.get(1).copied() } else { Some(lo) };
                        Facet::Length(lo, hi, fspan)
                    }
                    _ => continue,
                });
            }
            Rule::element_decl => {
                children.get_or_insert_with(Vec::new).push(element(cx, q));
            }
            _ => {}
        }
    }
    if children.is_none() && block {
        children = Some(vec![]);
    }
    Element { name, min, max, facets, children, span }
}
