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
#[grammar = "../../../grammar/fettle.pest"]
pub(crate) struct FettleParser;

/// Parses one rule file. On a syntax error the file is split at top-level declarations and each is
/// parsed on its own, so errors in several declarations are all reported.
pub fn parse(file: FileId, text: &str) -> (Option<ast::File>, Vec<Diag>) {
    let unsafe_text = scan(file, text, 0);
    if !unsafe_text.is_empty() {
        return (None, unsafe_text);
    }
    match FettleParser::parse(Rule::file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => {
                if let Some(d) = too_deep(file, &pair, 0) {
                    return (None, vec![d]);
                }
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

/// For editors: the declarations of a file that does not parse, without the broken ones. Each
/// top-level declaration where a syntax error falls is blanked (its bytes become spaces, its line
/// breaks stay, so every span is where it was) and the file parsed again, until it parses. `None`
/// when the header is broken or nothing parses; the diagnostics are [`parse`]'s, not these.
pub fn recover(file: FileId, text: &str) -> Option<ast::File> {
    if !scan(file, text, 0).is_empty() {
        return None;
    }
    let chunks = chunks(text);
    let mut bytes = text.as_bytes().to_vec();
    let blank = |bytes: &mut Vec<u8>, (start, end): (usize, usize)| {
        for b in bytes.get_mut(start..end).into_iter().flatten().filter(|b| **b != b'\n') {
            *b = b' ';
        }
    };
    // First the declarations that do not parse on their own, then wherever the error still falls.
    for &c in &chunks {
        if text.get(c.0..c.1).is_some_and(|t| FettleParser::parse(Rule::item_only, t).is_err()) {
            blank(&mut bytes, c);
        }
    }
    for _ in 0..=chunks.len() {
        let current = std::str::from_utf8(&bytes).ok()?;
        let e = match FettleParser::parse(Rule::file, current) {
            Ok(mut pairs) => {
                let pair = pairs.next()?;
                if too_deep(file, &pair, 0).is_some() {
                    return None;
                }
                return Some(lower::file(file, pair, &mut vec![]));
            }
            Err(e) => e,
        };
        let at = error_offset(&e);
        // An error at the very end belongs to the last declaration.
        let &c = chunks.iter().find(|(s, e)| at >= *s && (at < *e || (at == *e && *e == text.len())))?;
        if bytes.get(c.0..c.1)?.iter().all(|b| b.is_ascii_whitespace()) {
            return None;
        }
        blank(&mut bytes, c);
    }
    None
}

/// Parses a single expression (message holes, `fettle explain`). `offset` is its place in `file`.
pub fn parse_expr(file: FileId, text: &str, offset: usize) -> Result<ast::Expr, Box<Diag>> {
    if let Some(d) = scan(file, text, offset).into_iter().next() {
        return Err(Box::new(d));
    }
    match FettleParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let inner = pairs.next().and_then(|p| p.into_inner().next());
            match inner {
                Some(p) if let Some(d) = too_deep(file, &p, offset) => Err(Box::new(d)),
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

/// How deep brackets (`(`, `[`, `{`) and `if`s may nest in rule text. Real rule files nest a few
/// levels; the bound keeps the parser's recursion, and everything after it, far from the end of the
/// stack.
pub const MAX_NESTING: usize = 64;

/// How deep an expression may nest: operators and brackets inside one another (`not not x` is 3,
/// `a + b + c` is 3, `(a + (b))` is 4). The checker and evaluator walk expressions recursively.
pub const MAX_DEPTH: usize = 200;

/// Rule text that must not reach the parser: brackets and `if`s nested deeper than [`MAX_NESTING`]
/// (the first such), and invisible characters (zero-width spaces and joiners, a byte-order mark after
/// the start, direction marks, soft hyphens) anywhere but in a comment: in a name they make a name
/// that looks right and is not, in a string a code that never matches. An `if` counts as open until
/// the bracket around it closes, so `if`s chained with `else if` count one each.
fn scan(file: FileId, text: &str, offset: usize) -> Vec<Diag> {
    let mut diags = vec![];
    let (mut in_string, mut escaped, mut in_comment) = (false, false, false);
    // The number of `if`s opened inside each open bracket (the first entry: outside any bracket).
    let mut frames: Vec<usize> = vec![0];
    let mut depth = 0usize;
    let mut prev = ' ';
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let before = std::mem::replace(&mut prev, c);
        if let Some(name) = invisible(c).filter(|_| !(in_comment || (i == 0 && c == '\u{feff}'))) {
            let at = Span::new(file, offset + i, offset + i + c.len_utf8());
            diags.push(
                Diag::error(
                    "syntax::invisible",
                    at,
                    format!("an invisible character, {name} (U+{:04X}), is in the rule text", u32::from(c)),
                )
                .label("here")
                .help("delete it: it makes a name or a code that looks right and is not"),
            );
            continue;
        }
        let opened = match c {
            '\n' if in_comment => {
                in_comment = false;
                false
            }
            _ if in_comment => false,
            _ if in_string && escaped => {
                escaped = false;
                false
            }
            '\\' if in_string => {
                escaped = true;
                false
            }
            '"' => {
                in_string = !in_string;
                false
            }
            _ if in_string => false,
            '#' => {
                in_comment = true;
                false
            }
            '(' | '[' | '{' => {
                frames.push(0);
                true
            }
            ')' | ']' | '}' => {
                if frames.len() > 1
                    && let Some(ifs) = frames.pop()
                {
                    depth = depth.saturating_sub(ifs + 1);
                }
                false
            }
            'i' if !word_char(before)
                && bytes.get(i + 1) == Some(&b'f')
                && !bytes.get(i + 2).is_some_and(|b| word_char(char::from(*b))) =>
            {
                if let Some(ifs) = frames.last_mut() {
                    *ifs += 1;
                }
                true
            }
            _ => false,
        };
        if opened {
            depth += 1;
            if depth > MAX_NESTING {
                let at = Span::new(file, offset + i, offset + i + 1);
                diags.push(
                    Diag::error("syntax::too-deep", at, format!("brackets and `if`s are nested more than {MAX_NESTING} deep"))
                        .label("too deep")
                        .help("close the brackets opened before this one, or split the expression with `let`"),
                );
                break;
            }
        }
    }
    diags
}

/// The name of a character that shows as nothing, if `c` is one.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{200b}' => "a zero-width space",
        '\u{200c}' => "a zero-width non-joiner",
        '\u{200d}' => "a zero-width joiner",
        '\u{2060}' => "a word joiner",
        '\u{feff}' => "a byte-order mark",
        '\u{00ad}' => "a soft hyphen",
        '\u{200e}' | '\u{200f}' | '\u{061c}' => "a direction mark",
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => "a direction control",
        _ => return None,
    })
}

/// The first expression nested deeper than [`MAX_DEPTH`], as a diagnostic. The recursion here
/// follows the parse tree, whose depth [`scan`] has already bounded through the brackets.
fn too_deep(file: FileId, pair: &pest::iterators::Pair<Rule>, offset: usize) -> Option<Diag> {
    fn depth(pair: &pest::iterators::Pair<Rule>) -> Result<usize, usize> {
        let mut ops = 0;
        let mut deepest = 0;
        for child in pair.clone().into_inner() {
            if matches!(
                child.as_rule(),
                Rule::op_not
                    | Rule::op_neg
                    | Rule::op_or
                    | Rule::op_and
                    | Rule::op_eq
                    | Rule::op_ne
                    | Rule::op_le
                    | Rule::op_ge
                    | Rule::op_lt
                    | Rule::op_gt
                    | Rule::op_not_in
                    | Rule::op_in
                    | Rule::op_range_incl
                    | Rule::op_range_excl
                    | Rule::op_coalesce
                    | Rule::op_add
                    | Rule::op_sub
                    | Rule::op_mul
                    | Rule::op_div
            ) {
                ops += 1;
            } else {
                deepest = deepest.max(depth(&child)?);
            }
        }
        let own = usize::from(matches!(pair.as_rule(), Rule::expr));
        let d = ops + deepest + own;
        if d > MAX_DEPTH { Err(pair.as_span().start()) } else { Ok(d) }
    }
    let at = match depth(pair) {
        Ok(_) => return None,
        Err(at) => at,
    };
    Some(
        Diag::error(
            "syntax::too-deep",
            Span::new(file, offset + at, offset + at + 1),
            format!("an expression is nested more than {MAX_DEPTH} deep"),
        )
        .label("too deep")
        .help("split it into smaller parts with `let`, or `derive` a value"),
    )
}

fn error_offset(e: &pest::error::Error<Rule>) -> usize {
    match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    }
}

/// Byte ranges of top-level declarations: each starts at a line that begins with a declaration keyword.
fn chunks(text: &str) -> Vec<(usize, usize)> {
    const STARTS: [&str; 14] = [
        "layout ",
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
        | Rule::uses_previous_decl
        | Rule::previous_map
        | Rule::map_pair
        | Rule::codes_decl
        | Rule::table_decl
        | Rule::extend_decl
        | Rule::param_decl
        | Rule::holidays_decl
        | Rule::derive_decl
        | Rule::rule_decl
        | Rule::fixture_decl
        | Rule::remove_decl
        | Rule::layout_decl
        | Rule::extend_layout_decl
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
        Rule::element_decl => "an element",
        Rule::occurs => "occurrences like `0..1`",
        Rule::facet | Rule::facet_kind | Rule::facet_enum | Rule::facet_codes | Rule::facet_pattern | Rule::facet_length => {
            "a facet (`date`, `enum`, `codes`, `pattern`, `length`...)"
        }
        Rule::layout_edit | Rule::layout_replace | Rule::layout_remove => "`replace` or `remove`",
        Rule::kw_xml => "`xml`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_keeps_the_declarations_that_parse_where_they_were() {
        let text = "return demo 2024-25\n\nrule A error \"a\" on T {\n  require X > > 1\n}\n\nrule B error \"b\" on T {\n  require Y > 1\n}\n\nrule C error \"c\" on T {\n  require Z > 1 and\n";
        let (parsed, diags) = parse(FileId(0), text);
        assert!(parsed.is_none() && !diags.is_empty());
        let rules: Vec<(String, usize)> = recover(FileId(0), text)
            .into_iter()
            .flat_map(|f| f.items)
            .filter_map(|i| match i {
                ast::Item::Rule(r) => Some((r.code.name.clone(), r.code.span.start as usize)),
                _ => None,
            })
            .collect();
        assert_eq!(rules, [("B".to_string(), text.find("B error").unwrap_or(0))]);
        // A broken header leaves nothing to recover.
        assert!(recover(FileId(0), "return demo\nrule B error \"b\" on T {\n  require Y > 1\n}\n").is_none());
    }
}
