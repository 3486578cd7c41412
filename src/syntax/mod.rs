//! Text to spanned AST. Knows nothing of schemas or data; pest types never leave this module.
//!
//! [`parse`] always returns what it could read and every syntax error it met: a file with a broken
//! declaration still yields its other declarations, so one run reports every problem.

pub mod ast;
pub mod format;
mod lower;
pub mod print;

use crate::diag::Diag;
use crate::span::{FileId, Span};
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/fettle.pest"]
pub(crate) struct FettleParser;

/// Parses one rule file. On a syntax error the file is split at top-level declarations and each is
/// parsed on its own, so errors in several declarations are all reported.
pub fn parse(file: FileId, text: &str) -> (Option<ast::File>, Vec<Diag>) {
    match FettleParser::parse(Rule::file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => {
                let mut diags = vec![];
                let f = lower::file(file, pair, &mut diags);
                (Some(f), diags)
            }
            None => (None, vec![]),
        },
        Err(e) => {
            let mut diags = vec![syntax_error(file, &e, 0)];
            // Recover: report errors in the other top-level declarations too.
            let first = error_offset(&e);
            for (start, end) in chunks(text) {
                if first >= start && first < end {
                    continue;
                }
                let Some(chunk) = text.get(start..end) else { continue };
                if let Err(e) = FettleParser::parse(Rule::item_only, chunk) {
                    diags.push(syntax_error(file, &e, start));
                }
            }
            diags.sort_by_key(|d| d.span.start);
            (None, diags)
        }
    }
}

/// Parses a single expression (message holes, `fettle explain`). `offset` is its place in `file`.
pub fn parse_expr(file: FileId, text: &str, offset: usize) -> Result<ast::Expr, Box<Diag>> {
    match FettleParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let inner = pairs.next().and_then(|p| p.into_inner().next());
            match inner {
                Some(p) => {
                    let mut diags = vec![];
                    let e = lower::expr_at(file, p, offset, &mut diags);
                    match diags.into_iter().next() {
                        Some(d) => Err(Box::new(d)),
                        None => Ok(e),
                    }
                }
                None => Err(Box::new(Diag::error("syntax::expected", Span::new(file, offset, offset), "empty expression"))),
            }
        }
        Err(e) => Err(Box::new(syntax_error(file, &e, offset))),
    }
}

fn error_offset(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// Byte ranges of top-level declarations: each starts at a line that begins with a declaration keyword.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    const STARTS: [&str; 13] = [
        "rule ",
        "replace ",
        "table ",
        "extend ",
        "codes ",
        "param ",
        "derive ",
        "fixture ",
        "remove ",
        "holidays ",
        "detect ",
        "booleans ",
        "uses ",
    ];
    let mut starts = vec![];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if STARTS.iter().any(|k| line.starts_with(k)) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut out = vec![];
    for (i, s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        out.push((*s, e));
    }
    out
}

fn syntax_error(file: FileId, e: &pest::error::Error<Rule>, offset: usize) -> Diag {
    use pest::error::ErrorVariant;
    let pos = error_offset(e) + offset;
    let (message, label) = match &e.variant {
        ErrorVariant::ParsingError { positives, negatives } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| token_name(*r)).collect();
            names.sort_unstable();
            names.dedup();
            if names.is_empty() && !negatives.is_empty() {
                ("unexpected token".to_string(), "not expected here".to_string())
            } else if names.is_empty() {
                ("unexpected input".to_string(), "not expected here".to_string())
            } else {
                let list = match names.as_slice() {
                    [one] => one.to_string(),
                    [init @ .., last] => format!("{} or {}", init.join(", "), last),
                    [] => String::new(),
                };
                (format!("expected {list}"), format!("expected {list}"))
            }
        }
        ErrorVariant::CustomError { message } => (message.clone(), String::new()),
    };
    Diag::error("syntax::expected", Span::new(file, pos, pos), message).label(label)
}

/// User-facing names of grammar rules in "expected ..." messages; `None` hides a rule.
fn token_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::header | Rule::kw_return => "`return`",
        Rule::year => "a year like `2024-25`",
        Rule::ident | Rule::path | Rule::qualified => "a name",
        Rule::string => "a string",
        Rule::code_token | Rule::bare_code | Rule::code_entry | Rule::code_single => "a code",
        Rule::type_expr | Rule::scalar_type | Rule::code_type | Rule::list_type => "a type",
        Rule::expr | Rule::primary => "an expression",
        Rule::infix => "an operator",
        Rule::severity => "`error`, `query` or `info`",
        Rule::rule_code => "a rule code",
        Rule::rule_scope | Rule::scope_table | Rule::scope_group | Rule::scope_return => "a table name or `return`",
        Rule::item
        | Rule::title_decl
        | Rule::detect_decl
        | Rule::booleans_decl
        | Rule::uses_decl
        | Rule::codes_decl
        | Rule::table_decl
        | Rule::extend_decl
        | Rule::param_decl
        | Rule::holidays_decl
        | Rule::derive_decl
        | Rule::rule_decl
        | Rule::fixture_decl
        | Rule::remove_decl
        | Rule::replace
        | Rule::kw_replace => "a declaration",
        Rule::rule_part
        | Rule::fields_decl
        | Rule::note_decl
        | Rule::fix_decl
        | Rule::when_decl
        | Rule::let_decl
        | Rule::require_decl
        | Rule::forbid_decl
        | Rule::report_decl
        | Rule::example_decl => "a rule part",
        Rule::table_part
        | Rule::field_decl
        | Rule::parent_decl
        | Rule::key_decl
        | Rule::sheet_decl
        | Rule::xml_decl
        | Rule::singleton => "a table part",
        Rule::field_attr | Rule::required | Rule::header_attr => "a field attribute",
        Rule::value | Rule::list_value | Rule::literal => "a value",
        Rule::record | Rule::assign => "a row",
        Rule::date_lit => "a date",
        Rule::number | Rule::int_lit | Rule::percent => "a number",
        Rule::duration_unit => "a unit",
        Rule::outcome | Rule::kw_pass | Rule::kw_fail => "`pass` or `fail`",
        Rule::set_expr => "related rows",
        Rule::agg_name => "an aggregate",
        Rule::remove_kind => "`rule`, `codes`, `derive`, `param` or `table`",
        Rule::kw_on => "`on`",
        Rule::kw_by => "`by`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_in => "`in`",
        Rule::kw_where => "`where`",
        Rule::kw_of => "`of`",
        Rule::kw_from => "`from`",
        Rule::kw_year => "`year`",
        Rule::kw_field => "`field`",
        Rule::kw_table => "`table`",
        Rule::kw_extends => "`extends`",
        _ => return None,
    })
}
