//! `fettle explain CODE`: a rule (message, severity, fields, derived values it uses, its text, its
//! examples) or a diagnostic or input code (`check::unknown-field`, `input::invalid-date`) explained
//! at length.

use crate::check::program::{IExpr, IKind, IPart, IStep, Program, RuleDef};
use crate::library::{Compiled, Library};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Long explanations of diagnostic and input codes (the core's catalogue, which the SARIF report
/// reads too).
pub use crate::codes::DIAGNOSTICS;

fn uses(e: &IExpr, p: &Program, out: &mut BTreeSet<String>) {
    e.walk(&mut |x| match &x.kind {
        IKind::Global(i) => {
            if let Some(g) = p.globals.get(*i) {
                out.insert(format!("{} ({})", g.name, if g.is_param { "param" } else { "derive" }));
            }
        }
        IKind::Field { table, field, .. } | IKind::Single { table, field } => {
            let f = p.schema.field(*table, *field);
            if f.derived {
                out.insert(format!("{}.{} (derive)", p.schema.table(*table).name, f.name));
            }
        }
        _ => {}
    });
}

fn rule_text(c: &Compiled, r: &RuleDef) -> String {
    c.sources.snippet(r.span).to_string()
}

fn explain_rule(c: &Compiled, p: &Program, r: &RuleDef) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} ({}, {} {})", r.code, r.severity.as_str(), p.ret, p.year);
    let _ = writeln!(o, "  message: {}", r.message);
    let on = match &r.scope {
        crate::check::program::RuleScope::Return => "the whole return".to_string(),
        crate::check::program::RuleScope::Table(t) => format!("each row of {}", p.schema.table(*t).name),
        crate::check::program::RuleScope::Group(t, _) => format!("each group of {} rows", p.schema.table(*t).name),
    };
    let _ = writeln!(o, "  runs on: {on}");
    if !r.fields.is_empty() {
        let f: Vec<String> =
            r.fields.iter().map(|(t, f)| format!("{}.{}", p.schema.table(*t).name, p.schema.field(*t, *f).name)).collect();
        let _ = writeln!(o, "  fields: {}", f.join(", "));
    }
    let mut used = BTreeSet::new();
    for s in &r.steps {
        let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
        uses(e, p, &mut used);
    }
    for part in &r.template {
        if let IPart::Expr(e) = part {
            uses(e, p, &mut used);
        }
    }
    if !used.is_empty() {
        let _ = writeln!(o, "  uses: {}", used.into_iter().collect::<Vec<_>>().join(", "));
    }
    if let Some(n) = &r.note {
        let _ = writeln!(o, "  note: {n}");
    }
    if let Some(f) = &r.fix {
        let _ = writeln!(o, "  fix: {f}");
    }
    let fails = r.examples.iter().filter(|e| e.fail).count();
    let _ = writeln!(o, "  examples: {} passing, {fails} failing", r.examples.len() - fails);
    let _ = writeln!(o, "  written at {}:{}", r.file, r.line);
    o.push('\n');
    for l in rule_text(c, r).lines() {
        let _ = writeln!(o, "  | {l}");
    }
    o
}

/// Explains a rule or a diagnostic code; `None` when nothing has this code.
pub fn explain(lib: &Library, code: &str) -> Option<String> {
    if let Some((c, text)) = DIAGNOSTICS.iter().find(|(c, _)| *c == code) {
        return Some(format!("{c}\n\n{text}\n"));
    }
    // The rule in its latest year, and the years it appears in.
    let mut found: Option<String> = None;
    let mut years: Vec<String> = vec![];
    for (ret, year) in lib.sets.keys().rev() {
        let c = lib.compile(ret, year);
        let Some(p) = &c.program else { continue };
        if let Some(r) = p.rules.iter().find(|r| r.code == code) {
            years.push(format!("{ret} {year}"));
            if found.is_none() {
                found = Some(explain_rule(&c, p, r));
            }
        }
    }
    found.map(|mut s| {
        years.reverse();
        let _ = writeln!(s, "\n  in: {}", years.join(", "));
        s
    })
}

/// `fettle explain CODE`.
pub fn command(rules: Option<&std::path::PathBuf>, code: &str) -> u8 {
    let lib = match crate::term::library(rules) {
        Ok(l) => l,
        Err(e) => {
            crate::term::err_line(&format!("error: {e}"));
            return 2;
        }
    };
    match explain(&lib, code) {
        Some(text) => {
            crate::term::out(&text);
            0
        }
        None => {
            let mut names: Vec<String> = DIAGNOSTICS.iter().map(|(c, _)| c.to_string()).collect();
            for (ret, year) in lib.sets.keys() {
                if let Some(p) = lib.compile(ret, year).program {
                    names.extend(p.rules.iter().map(|r| r.code.clone()));
                }
            }
            let help =
                crate::diag::did_you_mean(code, names.iter().map(String::as_str)).map(|h| format!(" ({h})")).unwrap_or_default();
            crate::term::err_line(&format!("error: no rule or diagnostic has the code `{code}`{help}"));
            2
        }
    }
}
