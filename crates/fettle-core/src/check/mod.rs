//! AST to a resolved, typed [`Program`]: every name becomes an id, every expression gets a type.
//! No IO. Returns the program (when there were no errors) and every diagnostic.

pub mod analysis;
pub mod builtins;
mod examples;
mod layout;
pub mod merge;
mod plan;
pub mod previous;
pub mod program;
mod resolve;
mod rule_plan;
#[cfg(test)]
mod rule_plan_tests;
mod schema_build;

pub use merge::Decls;
pub use program::*;

use crate::diag::{Diag, Level, did_you_mean};
use crate::schema::*;
use crate::syntax::ast::{self, CodeEntry, TypeExpr};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Checks merged declarations. The program is `None` when any error was found.
pub fn check(decls: &Decls, file_names: &dyn Fn(crate::span::Span) -> (String, usize)) -> (Option<Program>, Vec<Diag>) {
    check_with(decls, file_names, &[])
}

/// Checks merged declarations, with the schemas of other returns that `uses` may name.
pub fn check_with(
    decls: &Decls,
    file_names: &dyn Fn(crate::span::Span) -> (String, usize),
    foreign: &[(String, Schema)],
) -> (Option<Program>, Vec<Diag>) {
    let (program, diags) = check_tolerant(decls, file_names, foreign);
    if diags.iter().any(|d| d.level == Level::Error) {
        return (None, diags);
    }
    (Some(program), diags)
}

/// Checks merged declarations and returns what resolved even when there are errors, for editors (as
/// rust-analyzer does): the schema as declared, every param and derivation, and every rule whose
/// `on` table exists, broken ones included (their broken expressions have the error type). The
/// diagnostics are exactly [`check_with`]'s. Such a program must never be evaluated: only a program
/// from [`check_with`] keeps `eval`'s invariants.
pub fn check_tolerant(
    decls: &Decls,
    file_names: &dyn Fn(crate::span::Span) -> (String, usize),
    foreign: &[(String, Schema)],
) -> (Program, Vec<Diag>) {
    let mut cx = resolve::Checker::new(decls);
    cx.code_lists();
    cx.tables();
    cx.layout();
    let previous = previous::import(decls, &mut cx.schema, &mut cx.diags);
    cx.foreign(foreign);
    cx.derived_slots();
    cx.all_globals();
    cx.all_derived();
    let detect = cx.detect();
    let checked = cx.rules(file_names);
    cx.unused_warnings();
    let resolve::Checker { schema, diags, globals_done, derived_done, order, .. } = cx;
    let mut diags = diags;
    // The analyses see only rules without errors, as they always have; broken ones go back in place.
    let (mut rules, mut broken) = (vec![], vec![]);
    for (i, (r, bad)) in checked.into_iter().enumerate() {
        if bad { broken.push((i, r)) } else { rules.push(r) }
    }
    diags.extend(analysis::rules(&schema, &rules));
    diags.extend(analysis::unused_derivations(&globals_done, &derived_done, &rules, &schema));
    // Files in load order; files a library did not load (tests, one file) by their ids.
    let rank = |f: crate::span::FileId| decls.files.iter().position(|x| x.0 == f.0).unwrap_or(decls.files.len() + f.0 as usize);
    diags.sort_by_key(|d| (rank(d.span.file), d.span.start));
    for (i, r) in broken {
        rules.insert(i.min(rules.len()), r);
    }
    let mut holidays: Vec<i32> = decls.holidays.iter().map(|(d, _)| chrono::Datelike::num_days_from_ce(d)).collect();
    holidays.sort_unstable();
    holidays.dedup();
    let mut program = Program {
        ret: decls.ret.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
        year: decls.year.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
        extends: decls.extends.as_ref().map(|r| r.name.clone()),
        title: decls.title.clone().unwrap_or_default(),
        schema,
        detect_year: detect,
        globals: globals_done,
        derived: derived_done,
        order,
        holidays: Arc::new(holidays),
        rules,
        fixture: decls.fixture.clone(),
        previous,
    };
    // Each rule planned once the program is whole: its plan reads through derived fields and values.
    let plans: Vec<RulePlan> = program.rules.iter().map(|r| rule_plan::plan(&program, r)).collect();
    for (r, p) in program.rules.iter_mut().zip(plans) {
        r.plan = p;
    }
    (program, diags)
}

pub(crate) fn field_type_to_type(t: &FieldType) -> Type {
    match t {
        FieldType::Text => Type::Text,
        FieldType::Int => Type::Int,
        FieldType::Decimal => Type::Dec,
        FieldType::Date => Type::Date,
        FieldType::Bool => Type::Bool,
        FieldType::Code(c) => Type::Code(*c),
        FieldType::List(t) => Type::List(Box::new(field_type_to_type(t))),
    }
}

/// The field type of a checked type (the language server describes types as fields' types).
pub fn type_to_field_type(t: &Type) -> FieldType {
    match t {
        Type::Int => FieldType::Int,
        Type::Dec => FieldType::Decimal,
        Type::Date => FieldType::Date,
        Type::Bool => FieldType::Bool,
        Type::Code(c) => FieldType::Code(*c),
        Type::List(t) => FieldType::List(Box::new(type_to_field_type(t))),
        _ => FieldType::Text,
    }
}

/// Expands a code list declaration, reporting bad ranges.
pub(crate) fn expand_codes(c: &ast::CodesDecl, diags: &mut Vec<Diag>) -> Vec<(String, Option<String>)> {
    let mut out = vec![];
    let mut seen: HashSet<String> = HashSet::new();
    for e in &c.entries {
        match e {
            CodeEntry::Single { code, label, span } => {
                if !seen.insert(code.clone()) {
                    diags.push(Diag::warning(
                        "check::duplicate-code",
                        *span,
                        format!("code `{code}` is listed twice in `{}`", c.name.name),
                    ));
                }
                out.push((code.clone(), label.clone()));
            }
            CodeEntry::Range { from, to, span } => {
                let ok =
                    from.len() == to.len() && from.chars().all(|c| c.is_ascii_digit()) && to.chars().all(|c| c.is_ascii_digit());
                let (a, b) = (from.parse::<u64>().unwrap_or(0), to.parse::<u64>().unwrap_or(0));
                if !ok || a > b || b - a > 100_000 {
                    diags.push(
                        Diag::error("check::bad-code-range", *span, format!("`{from}` ..= `{to}` is not a range of codes"))
                            .label("not a range")
                            .help("a range joins two numeric codes of the same width, the first not above the second"),
                    );
                    continue;
                }
                for n in a..=b {
                    let code = format!("{n:0width$}", width = from.len());
                    seen.insert(code.clone());
                    out.push((code, None));
                }
            }
        }
    }
    out
}

pub(crate) fn lower_type(
    t: &TypeExpr,
    lists: &HashMap<String, CodeListId>,
    names: &[String],
    diags: &mut Vec<Diag>,
) -> FieldType {
    match t {
        TypeExpr::Text => FieldType::Text,
        TypeExpr::Int => FieldType::Int,
        TypeExpr::Decimal => FieldType::Decimal,
        TypeExpr::Date => FieldType::Date,
        TypeExpr::Bool => FieldType::Bool,
        TypeExpr::Code(id) => match lists.get(&id.name) {
            Some(c) => FieldType::Code(*c),
            None => {
                let mut d = Diag::error("check::unknown-codes", id.span, format!("there is no code list `{}`", id.name))
                    .label("unknown code list");
                d.help = did_you_mean(&id.name, names.iter().map(String::as_str));
                diags.push(d);
                FieldType::Text
            }
        },
        TypeExpr::List(inner) => FieldType::List(Box::new(lower_type(inner, lists, names, diags))),
    }
}
