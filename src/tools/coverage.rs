//! `fettle coverage --return R [PATHS...]`: what a return's rules leave uncovered.
//!
//! - **Fields no rule reads**: data fields that no rule's steps, message holes, group key or
//!   `fields` read, directly or through the derived fields and values the rules use.
//! - **Codes no rule or example uses**: a code is used when a rule (or a derivation it uses)
//!   compares with it as text (`Sex == "U"`, `x in ("A", "B")`) or an example writes it in a field of
//!   its list; `x in List` does not use any particular code.
//! - **Rules whose examples never fail**: no `example fail`.
//! - Given submissions: findings per rule, and the rules never triggered.
//!
//! Tables and code lists of other returns (`uses`) are left out.

use crate::check::program::{IExpr, IKind, IPart, IStep, Program, RuleDef, RuleScope, Type};
use crate::pipeline;
use crate::schema::{CodeListId, FieldId, FieldType, TableId};
use crate::span::Sources;
use crate::submission::{self, GivenBy, Loaded, Rulebook};
use crate::syntax::ast::{Lit, Record, Value, ValueKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

/// The codes of one list that nothing uses.
#[derive(Clone, Debug, Serialize)]
pub struct UnusedCodes {
    /// The list.
    pub list: String,
    /// Its number of codes.
    pub total: usize,
    /// The unused codes, in declared order.
    pub codes: Vec<String>,
}

/// A rule without a failing example.
#[derive(Clone, Debug, Serialize)]
pub struct NeverFails {
    /// Its code.
    pub code: String,
    /// Its number of examples.
    pub examples: usize,
}

/// The number of findings of one rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleCount {
    /// The rule's code.
    pub code: String,
    /// Its findings on all the submissions.
    pub findings: usize,
}

/// Findings of the given submissions.
#[derive(Clone, Debug, Serialize)]
pub struct Triggered {
    /// The submissions, as named in reports.
    pub submissions: Vec<String>,
    /// Submissions of the returns the rules `uses`, read for their tables (not counted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used: Vec<String>,
    /// Findings per rule code (rules with findings only), in declaration order.
    pub findings: Vec<RuleCount>,
    /// Rules with no finding, in declaration order (with the other returns they need, if any).
    pub never_triggered: Vec<String>,
}

/// The coverage report.
#[derive(Clone, Debug, Serialize)]
pub struct Coverage {
    /// The return.
    #[serde(rename = "return")]
    pub ret: String,
    /// The year.
    pub year: String,
    /// Number of rules.
    pub rules: usize,
    /// Number of data fields.
    pub fields_total: usize,
    /// `Table.Field` of data fields no rule reads.
    pub fields_unread: Vec<String>,
    /// Number of codes of all lists.
    pub codes_total: usize,
    /// Lists with codes nothing uses.
    pub codes_unused: Vec<UnusedCodes>,
    /// Rules none of whose examples fails.
    pub rules_never_failing: Vec<NeverFails>,
    /// Findings on the given submissions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggered: Option<Triggered>,
}

type Key = (u32, u32, u32);

fn key(e: &IExpr) -> Key {
    (e.span.file.0, e.span.start, e.span.end)
}

/// Reads and code uses collected from expressions.
#[derive(Default)]
struct Uses {
    fields: BTreeSet<(TableId, FieldId)>,
    codes: HashSet<(CodeListId, String)>,
    loose: HashSet<String>,
    handled: HashSet<Key>,
    seen_globals: HashSet<usize>,
    seen_derived: HashSet<(TableId, FieldId)>,
}

impl Uses {
    /// Visits an expression and, once each, the derivations it uses.
    fn expr(&mut self, p: &Program, sources: &Sources, e: &IExpr) {
        let mut pending: Vec<IExpr> = vec![e.clone()];
        while let Some(e) = pending.pop() {
            let mut consts: Vec<(Key, String)> = vec![];
            e.walk(&mut |x| {
                match &x.kind {
                    IKind::Field { table, field, .. } | IKind::Single { table, field } => {
                        self.fields.insert((*table, *field));
                        if self.seen_derived.insert((*table, *field))
                            && let Some(d) = p.derived.iter().find(|d| d.table == *table && d.field == *field)
                        {
                            pending.push(d.expr.clone());
                        }
                    }
                    IKind::Global(i) => {
                        if self.seen_globals.insert(*i)
                            && let Some(g) = p.globals.get(*i)
                        {
                            pending.push(g.expr.clone());
                        }
                    }
                    IKind::Const(crate::check::program::Const::Text(s)) => consts.push((key(x), s.to_string())),
                    IKind::Binary(_, a, b) => {
                        self.typed(&a.ty, b);
                        self.typed(&b.ty, a);
                    }
                    IKind::InTuple(a, items, _) => items.iter().for_each(|i| self.typed(&a.ty, i)),
                    IKind::InList(a, b, _) => {
                        if let Type::List(inner) = &b.ty {
                            self.typed(inner, a);
                        }
                    }
                    IKind::InSet(a, set, _) => {
                        // A tuple of text constants, not a code list: `x in ("A", "B")`.
                        let after = sources.snippet(x.span).get((a.span.end.saturating_sub(x.span.start)) as usize..);
                        let skip = |t: &str| t.trim_start_matches(|c: char| c.is_whitespace() || c == ')').to_string();
                        let tuple = after.map(skip).is_some_and(|t| {
                            skip(t.strip_prefix("not").unwrap_or(&t))
                                .strip_prefix("in")
                                .is_some_and(|t| t.trim_start().starts_with('('))
                        });
                        if tuple {
                            match &a.ty {
                                Type::Code(l) => set.iter().for_each(|c| {
                                    self.codes.insert((*l, c.clone()));
                                }),
                                _ => self.loose.extend(set.iter().cloned()),
                            }
                        }
                    }
                    _ => {}
                }
            });
            for (k, s) in consts {
                if !self.handled.contains(&k) {
                    self.loose.insert(s);
                }
            }
        }
    }

    /// A text constant `c` compared with, or among the values of, a value of type `ty`: a code
    /// of that list only (other text constants are codes of any list that has them).
    fn typed(&mut self, ty: &Type, c: &IExpr) {
        let IKind::Const(crate::check::program::Const::Text(s)) = &c.kind else { return };
        if let Type::Code(l) = ty {
            self.codes.insert((*l, s.to_string()));
            self.handled.insert(key(c));
        }
    }

    fn rule(&mut self, p: &Program, sources: &Sources, r: &RuleDef) {
        if let RuleScope::Group(_, k) = &r.scope {
            self.expr(p, sources, k);
        }
        for s in &r.steps {
            let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
            self.expr(p, sources, e);
        }
        for part in &r.template {
            if let IPart::Expr(e) = part {
                self.expr(p, sources, e);
            }
        }
        self.fields.extend(r.fields.iter().copied());
        for ex in &r.examples {
            ex.records.iter().for_each(|rec| self.record(p, sources, rec));
        }
    }

    /// Codes written in example rows.
    fn record(&mut self, p: &Program, sources: &Sources, rec: &Record) {
        if let Some(t) = p.schema.table_id(&rec.table.name) {
            for (name, v) in &rec.values {
                let Some(f) = p.schema.table(t).field_id(&name.name) else { continue };
                let list = match &p.schema.field(t, f).ty {
                    FieldType::Code(l) => *l,
                    FieldType::List(inner) => match inner.as_ref() {
                        FieldType::Code(l) => *l,
                        _ => continue,
                    },
                    _ => continue,
                };
                self.value(sources, list, v);
            }
        }
        rec.children.iter().for_each(|c| self.record(p, sources, c));
    }

    fn value(&mut self, sources: &Sources, list: CodeListId, v: &Value) {
        let text = match &v.kind {
            ValueKind::List(items) => return items.iter().for_each(|i| self.value(sources, list, i)),
            ValueKind::Code(c) | ValueKind::Lit(Lit::Str(c)) => c.clone(),
            ValueKind::Lit(Lit::Int(n)) => n.to_string(),
            ValueKind::Lit(other) => crate::syntax::print::lit(other),
        };
        self.codes.insert((list, text));
        let raw = sources.snippet(v.span).trim().trim_matches('"').to_string();
        self.codes.insert((list, raw));
    }
}

/// Computes the coverage of a compiled rule set (without submissions).
pub fn coverage(p: &Program, sources: &Sources) -> Coverage {
    let mut u = Uses::default();
    p.rules.iter().for_each(|r| u.rule(p, sources, r));
    let mut fields_total = 0;
    let mut fields_unread = vec![];
    for t in p.schema.table_ids().filter(|t| p.schema.table(*t).foreign.is_none()) {
        for (f, fs) in p.schema.table(t).data_fields() {
            fields_total += 1;
            if !u.fields.contains(&(t, f)) {
                fields_unread.push(format!("{}.{}", p.schema.table(t).name, fs.name));
            }
        }
    }
    let mut codes_total = 0;
    let mut codes_unused = vec![];
    for (i, l) in p.schema.code_lists.iter().enumerate().filter(|(_, l)| !l.name.contains('.')) {
        let id = CodeListId(i as u32);
        codes_total += l.codes.len();
        let codes: Vec<String> = l
            .codes
            .iter()
            .filter(|(c, _)| !u.codes.contains(&(id, c.clone())) && !u.loose.contains(c))
            .map(|(c, _)| c.clone())
            .collect();
        if !codes.is_empty() {
            codes_unused.push(UnusedCodes { list: l.name.clone(), total: l.codes.len(), codes });
        }
    }
    let rules_never_failing = p
        .rules
        .iter()
        .filter(|r| !r.examples.iter().any(|e| e.fail))
        .map(|r| NeverFails { code: r.code.clone(), examples: r.examples.len() })
        .collect();
    Coverage {
        ret: p.ret.clone(),
        year: p.year.clone(),
        rules: p.rules.len(),
        fields_total,
        fields_unread,
        codes_total,
        codes_unused,
        rules_never_failing,
        triggered: None,
    }
}

/// Runs the return's rules on the submissions, read as `fettle validate` reads them (the
/// [`crate::pipeline`]: each one's return and year detected, the tables of the returns its rules
/// `uses` attached from the other submissions given), and counts findings per rule. A submission of
/// the return for another rule year, or of a return its rules do not use, is an error: its findings
/// would not be this year's rules'. Notes (a year without rules) are said on stderr.
fn triggered(book: &Rulebook, p: &Program, paths: &[PathBuf]) -> Result<Triggered, String> {
    let subs = pipeline::discover(paths)?;
    if subs.is_empty() {
        return Err(pipeline::nothing_found(paths));
    }
    let (ret, year) = (p.ret.as_str(), p.year.as_str());
    let read: Vec<Result<Loaded, String>> = subs
        .iter()
        .map(|sub| {
            let src = sub.source();
            // A submission whose return cannot be told is read as the return asked for.
            let picked = submission::pick_return(book, sub.format, &src.sniff()).unwrap_or_else(|| ret.to_string());
            pipeline::read(book, &src, Some(&picked), None, (GivenBy::Option, false), &crate::input::Quiet)
        })
        .collect();
    let mut loaded = vec![];
    for r in read {
        let l = r?;
        l.notes.iter().for_each(|n| crate::term::err_line(n));
        loaded.push(l);
    }
    let used: Vec<&str> = p.schema.tables.iter().filter_map(|t| t.foreign.as_ref().map(|(other, _)| other.as_str())).collect();
    let mut submissions = vec![];
    let mut used_files = vec![];
    for (sub, l) in subs.iter().zip(&loaded) {
        if l.ret == ret && l.year != year {
            return Err(format!(
                "`{}` is read with the {ret} {} rules (its year); this coverage is of the {ret} {year} rules: give --year {} or {year} submissions",
                sub.display, l.year, l.year
            ));
        }
        if l.ret == ret {
            submissions.push(sub.display.clone());
        } else if used.contains(&l.ret.as_str()) {
            used_files.push(format!("{} ({}, whose tables the {ret} rules use)", sub.display, l.ret));
        } else {
            return Err(format!(
                "`{}` is the {} return, which the {ret} rules do not use; coverage of {ret} runs its rules on {ret} submissions (and the returns they use)",
                sub.display, l.ret
            ));
        }
    }
    if submissions.is_empty() {
        return Err(format!("none of the submissions given is the {ret} return"));
    }
    pipeline::attach_foreign(book, &mut loaded);
    let prog = book.program(ret, year)?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for l in loaded.into_iter().filter(|l| l.ret == ret) {
        for f in pipeline::run_one(&prog, l.data, &|_| true, crate::eval::DEFAULT_LIMIT, &crate::input::Quiet)
            .map_err(|e| e.to_string())?
        {
            if let Some(r) = p.rules.iter().find(|r| f.code.rule() == Some(r.code.as_str())) {
                *counts.entry(r.code.as_str()).or_default() += 1;
            }
        }
    }
    let findings = p
        .rules
        .iter()
        .filter_map(|r| counts.get(r.code.as_str()).map(|n| RuleCount { code: r.code.clone(), findings: *n }))
        .collect();
    let never_triggered = p
        .rules
        .iter()
        .filter(|r| !counts.contains_key(r.code.as_str()))
        .map(|r| if r.needs.is_empty() { r.code.clone() } else { format!("{} (needs {})", r.code, r.needs.join(", ")) })
        .collect();
    Ok(Triggered { submissions, used: used_files, findings, never_triggered })
}

fn section(s: &mut String, title: &str, n: usize, of: usize, items: &[String]) {
    s.push_str(&format!("\n## {title} ({n} of {of})\n\n"));
    if items.is_empty() {
        s.push_str("None.\n");
    }
    items.iter().for_each(|i| s.push_str(&format!("- {i}\n")));
}

/// The report as Markdown.
pub fn markdown(c: &Coverage) -> String {
    let mut s = format!("# Coverage of {} {}\n", c.ret, c.year);
    let unused: usize = c.codes_unused.iter().map(|l| l.codes.len()).sum();
    section(&mut s, "Fields no rule reads", c.fields_unread.len(), c.fields_total, &c.fields_unread);
    let lists: Vec<String> =
        c.codes_unused.iter().map(|l| format!("{} ({} of {}): {}", l.list, l.codes.len(), l.total, l.codes.join(", "))).collect();
    section(&mut s, "Codes no rule or example uses", unused, c.codes_total, &lists);
    let never: Vec<String> = c
        .rules_never_failing
        .iter()
        .map(|r| match r.examples {
            0 => format!("{} (no examples)", r.code),
            1 => format!("{} (1 example)", r.code),
            n => format!("{} ({n} examples)", r.code),
        })
        .collect();
    section(&mut s, "Rules whose examples never fail", never.len(), c.rules, &never);
    if let Some(t) = &c.triggered {
        s.push_str(&format!("\n## Submissions ({})\n\n", t.submissions.len() + t.used.len()));
        t.submissions.iter().chain(&t.used).for_each(|x| s.push_str(&format!("- {x}\n")));
        let total: usize = t.findings.iter().map(|r| r.findings).sum();
        let counts: Vec<String> = t.findings.iter().map(|r| format!("{}: {}", r.code, r.findings)).collect();
        s.push_str(&format!("\n## Findings per rule ({} rules, {total} findings)\n\n", counts.len()));
        counts.iter().for_each(|x| s.push_str(&format!("- {x}\n")));
        section(&mut s, "Rules never triggered", t.never_triggered.len(), c.rules, &t.never_triggered);
    }
    s
}

/// Runs the command; returns the exit code.
pub fn command(rules: Option<&PathBuf>, ret: &str, year: Option<&str>, paths: &[PathBuf], format: &str) -> u8 {
    let result = (|| -> Result<String, String> {
        if !matches!(format, "md" | "json") {
            return Err(format!("unknown format `{format}`; use md or json"));
        }
        let lib = crate::term::library(rules)?;
        let years = lib.years(ret);
        let Some(year) = year.map(str::to_string).or_else(|| years.iter().max().cloned()) else {
            return Err(format!("there are no rules for the return `{ret}`; returns: {}", lib.returns().join(", ")));
        };
        if !years.contains(&year) {
            return Err(format!("there are no `{ret}` rules for {year} (rules exist for {})", years.join(", ")));
        }
        let (p, sources) = super::catalogue::compile(&lib, ret, &year)?;
        let mut c = coverage(&p, &sources);
        if !paths.is_empty() {
            c.triggered = Some(triggered(&Rulebook::new(lib), &p, paths)?);
        }
        if format == "json" {
            serde_json::to_string_pretty(&c).map(|t| format!("{t}\n")).map_err(|e| e.to_string())
        } else {
            Ok(markdown(&c))
        }
    })();
    match result {
        Ok(text) => {
            crate::term::out(&text);
            0
        }
        Err(e) => {
            crate::term::err_line(&format!("error: {e}"));
            2
        }
    }
}
