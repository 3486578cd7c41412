//! Runs the examples written in rules: each must pass (no finding of its rule) or fail (at least one).

use crate::check::program::{Program, RuleDef};
use crate::eval;
use crate::syntax::ast::{Example, Record};
use std::collections::HashSet;

/// The outcome of one example.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The rule's code.
    pub code: String,
    /// The example's label, or its number.
    pub label: String,
    /// Whether it was meant to fail.
    pub expect_fail: bool,
    /// Findings of the rule on the example.
    pub findings: Vec<eval::Finding>,
    /// Whether the outcome is as expected.
    pub ok: bool,
    /// Where the example is written.
    pub span: crate::span::Span,
}

/// The rows of an example, with fixture rows for the tables it does not give.
pub fn example_records<'a>(rule: &'a RuleDef, ex: &'a Example) -> Vec<&'a Record> {
    let given: HashSet<&str> = ex.records.iter().map(|r| r.table.name.as_str()).collect();
    let mut recs: Vec<&Record> = rule.fixture.iter().filter(|r| !given.contains(r.table.name.as_str())).collect();
    recs.extend(ex.records.iter());
    recs
}

/// Runs one rule's examples; an engine fault in any of them is an error, not an outcome.
pub fn run_rule(prog: &Program, rule: &RuleDef) -> Result<Vec<Outcome>, eval::Fault> {
    rule.examples
        .iter()
        .enumerate()
        .map(|(i, ex)| {
            let recs = example_records(rule, ex);
            let mut data = crate::table::records::read(&prog.schema, &recs, "example");
            data.attached = rule.needs.clone();
            let prepared = eval::prepare(prog, data)?;
            let code = rule.code.clone();
            let findings: Vec<eval::Finding> = eval::run(prog, &prepared, &|r| r.code == code)?
                .into_iter()
                .filter(|f| f.code.rule() == Some(rule.code.as_str()))
                .collect();
            let ok = ex.fail != findings.is_empty();
            Ok(Outcome {
                code: rule.code.clone(),
                label: ex.label.clone().unwrap_or_else(|| format!("example {}", i + 1)),
                expect_fail: ex.fail,
                findings,
                ok,
                span: ex.span,
            })
        })
        .collect()
}

/// Runs every example of every rule whose code contains `filter`.
pub fn run_all(prog: &Program, filter: Option<&str>) -> Result<Vec<Outcome>, eval::Fault> {
    use rayon::prelude::*;
    let per_rule: Vec<Vec<Outcome>> = prog
        .rules
        .par_iter()
        .filter(|r| filter.is_none_or(|f| r.code.contains(f)))
        .map(|r| run_rule(prog, r))
        .collect::<Result<_, _>>()?;
    Ok(per_rule.into_iter().flatten().collect())
}
