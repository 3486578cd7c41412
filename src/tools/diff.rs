//! `fettle diff --return R FROM TO`: how a return's rules and schema changed between two years.
//!
//! Rules are matched by code. A rule is changed when its severity, message, module, fields or the
//! text of its steps differ; the text is compared as written, without comments and with whitespace
//! collapsed, so that a layout change is not a change. The schema part lists tables and fields added
//! or removed (and fields whose type changed), and code lists added, removed or with other codes.
//! Tables and code lists of other returns (`uses`) are left out.

use super::catalogue::{check_text, compile, field_names, module, source_text};
use crate::check::program::{IStep, Program, RuleDef, RuleScope};
use crate::schema::{Schema, TableSchema};
use crate::span::Sources;
use serde::Serialize;
use std::path::PathBuf;

/// A rule as the diff shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RuleView {
    /// Its code.
    pub code: String,
    /// `error`, `query` or `info`.
    pub severity: String,
    /// The message as written.
    pub message: String,
    /// The table it runs on, or `return`.
    pub module: String,
    /// The fields its findings point at.
    pub fields: Vec<String>,
    /// The check in words.
    pub check: String,
    #[serde(skip)]
    steps: Vec<String>,
}

/// A rule of both years that differs.
#[derive(Clone, Debug, Serialize)]
pub struct Changed {
    /// Its code.
    pub code: String,
    /// Which parts differ: `severity`, `message`, `module`, `fields`, `check`.
    pub parts: Vec<&'static str>,
    /// The rule in the earlier year.
    pub from: RuleView,
    /// The rule in the later year.
    pub to: RuleView,
}

/// A code list whose codes differ.
#[derive(Clone, Debug, Serialize)]
pub struct CodesChanged {
    /// The list.
    pub name: String,
    /// Codes only in the later year.
    pub added: Vec<String>,
    /// Codes only in the earlier year.
    pub removed: Vec<String>,
}

/// A field whose type differs.
#[derive(Clone, Debug, Serialize)]
pub struct Retyped {
    /// `Table.Field`.
    pub field: String,
    /// Its type in the earlier year.
    pub from: String,
    /// Its type in the later year.
    pub to: String,
}

/// Schema differences.
#[derive(Clone, Debug, Serialize, Default)]
pub struct SchemaDiff {
    /// Tables only in the later year.
    pub tables_added: Vec<String>,
    /// Tables only in the earlier year.
    pub tables_removed: Vec<String>,
    /// `Table.Field` only in the later year (of tables in both).
    pub fields_added: Vec<String>,
    /// `Table.Field` only in the earlier year (of tables in both).
    pub fields_removed: Vec<String>,
    /// Fields of both years whose type differs.
    pub fields_retyped: Vec<Retyped>,
    /// Code lists only in the later year.
    pub code_lists_added: Vec<String>,
    /// Code lists only in the earlier year.
    pub code_lists_removed: Vec<String>,
    /// Code lists of both years whose codes differ.
    pub code_lists_changed: Vec<CodesChanged>,
}

/// The whole difference.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// The return.
    #[serde(rename = "return")]
    pub ret: String,
    /// The earlier year.
    pub from: String,
    /// The later year.
    pub to: String,
    /// Rules only in the later year, in its order.
    pub added: Vec<RuleView>,
    /// Rules only in the earlier year, in its order.
    pub removed: Vec<RuleView>,
    /// Rules of both years that differ, in the later year's order.
    pub changed: Vec<Changed>,
    /// Rules of both years that are the same.
    pub unchanged: usize,
    /// Schema differences.
    pub schema: SchemaDiff,
}

fn view(p: &Program, sources: &Sources, r: &RuleDef) -> RuleView {
    let mut steps: Vec<String> = vec![];
    if let RuleScope::Group(_, key) = &r.scope {
        steps.push(format!("by {}", source_text(sources, key.span)));
    }
    for s in &r.steps {
        steps.push(match s {
            IStep::When(e) => format!("when {}", source_text(sources, e.span)),
            IStep::Let(i, e) => format!("let {} = {}", r.lets.get(*i).map_or("?", String::as_str), source_text(sources, e.span)),
            IStep::Require(e) => format!("require {}", source_text(sources, e.span)),
            IStep::Forbid(e) => format!("forbid {}", source_text(sources, e.span)),
        });
    }
    RuleView {
        code: r.code.clone(),
        severity: r.severity.as_str().into(),
        message: r.message.clone(),
        module: module(p, r),
        fields: field_names(p, r),
        check: check_text(p, sources, r),
        steps,
    }
}

/// Compares two compiled years of a return.
pub fn diff(from: (&Program, &Sources), to: (&Program, &Sources)) -> Diff {
    let old: Vec<RuleView> = from.0.rules.iter().map(|r| view(from.0, from.1, r)).collect();
    let new: Vec<RuleView> = to.0.rules.iter().map(|r| view(to.0, to.1, r)).collect();
    let find = |list: &[RuleView], code: &str| list.iter().find(|r| r.code == code).cloned();
    let mut d = Diff {
        ret: to.0.ret.clone(),
        from: from.0.year.clone(),
        to: to.0.year.clone(),
        added: new.iter().filter(|r| find(&old, &r.code).is_none()).cloned().collect(),
        removed: old.iter().filter(|r| find(&new, &r.code).is_none()).cloned().collect(),
        changed: vec![],
        unchanged: 0,
        schema: schema_diff(&from.0.schema, &to.0.schema),
    };
    for n in &new {
        let Some(o) = find(&old, &n.code) else { continue };
        let parts: Vec<&'static str> = [
            ("severity", o.severity != n.severity),
            ("message", o.message != n.message),
            ("module", o.module != n.module),
            ("fields", o.fields != n.fields),
            ("check", o.steps != n.steps),
        ]
        .into_iter()
        .filter_map(|(k, differs)| differs.then_some(k))
        .collect();
        if parts.is_empty() {
            d.unchanged += 1;
        } else {
            d.changed.push(Changed { code: n.code.clone(), parts, from: o, to: n.clone() });
        }
    }
    d
}

fn own_tables(s: &Schema) -> impl Iterator<Item = &TableSchema> {
    s.tables.iter().filter(|t| t.foreign.is_none())
}

fn schema_diff(a: &Schema, b: &Schema) -> SchemaDiff {
    let mut d = SchemaDiff::default();
    let table = |s: &'_ Schema, name: &str| own_tables(s).find(|t| t.name == name).cloned();
    for t in own_tables(b) {
        let Some(old) = table(a, &t.name) else {
            d.tables_added.push(t.name.clone());
            continue;
        };
        for f in &t.fields {
            match old.fields.iter().find(|x| x.name == f.name) {
                None => d.fields_added.push(format!("{}.{}", t.name, f.name)),
                Some(o) => {
                    let (ot, nt) = (o.ty.describe(a), f.ty.describe(b));
                    if ot != nt {
                        d.fields_retyped.push(Retyped { field: format!("{}.{}", t.name, f.name), from: ot, to: nt });
                    }
                }
            }
        }
        for f in old.fields.iter().filter(|f| t.field_id(&f.name).is_none()) {
            d.fields_removed.push(format!("{}.{}", t.name, f.name));
        }
    }
    d.tables_removed = own_tables(a).filter(|t| table(b, &t.name).is_none()).map(|t| t.name.clone()).collect();
    let own = |s: &Schema| s.code_lists.iter().filter(|c| !c.name.contains('.')).cloned().collect::<Vec<_>>();
    let (la, lb) = (own(a), own(b));
    for l in &lb {
        let Some(o) = la.iter().find(|x| x.name == l.name) else {
            d.code_lists_added.push(l.name.clone());
            continue;
        };
        let added: Vec<String> = l.codes.iter().filter(|(c, _)| !o.contains(c)).map(|(c, _)| c.clone()).collect();
        let removed: Vec<String> = o.codes.iter().filter(|(c, _)| !l.contains(c)).map(|(c, _)| c.clone()).collect();
        if !added.is_empty() || !removed.is_empty() {
            d.code_lists_changed.push(CodesChanged { name: l.name.clone(), added, removed });
        }
    }
    d.code_lists_removed = la.iter().filter(|l| !lb.iter().any(|x| x.name == l.name)).map(|l| l.name.clone()).collect();
    d
}

fn rule_line(r: &RuleView) -> String {
    format!("- **{}** {} on {}: {}\n", r.code, r.severity, r.module, r.message)
}

fn list(s: &mut String, title: &str, items: &[String]) {
    if !items.is_empty() {
        s.push_str(&format!("\n### {title} ({})\n\n", items.len()));
        items.iter().for_each(|i| s.push_str(&format!("- {i}\n")));
    }
}

/// The difference as Markdown.
pub fn markdown(d: &Diff) -> String {
    let mut s = format!("# {}: {} to {}\n\n", d.ret, d.from, d.to);
    let sc = &d.schema;
    let schema_changes = sc.tables_added.len()
        + sc.tables_removed.len()
        + sc.fields_added.len()
        + sc.fields_removed.len()
        + sc.fields_retyped.len()
        + sc.code_lists_added.len()
        + sc.code_lists_removed.len()
        + sc.code_lists_changed.len();
    s.push_str(&format!(
        "Rules: {} added, {} removed, {} changed, {} unchanged. Schema: {} change{}.\n",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged,
        schema_changes,
        if schema_changes == 1 { "" } else { "s" }
    ));
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() && schema_changes == 0 {
        s.push_str("\nNo differences.\n");
        return s;
    }
    for (title, rules) in [("Rules added", &d.added), ("Rules removed", &d.removed)] {
        if !rules.is_empty() {
            s.push_str(&format!("\n## {title} ({})\n\n", rules.len()));
            rules.iter().for_each(|r| s.push_str(&rule_line(r)));
        }
    }
    if !d.changed.is_empty() {
        s.push_str(&format!("\n## Rules changed ({})\n", d.changed.len()));
        for c in &d.changed {
            s.push_str(&format!("\n### {} ({} changed)\n\n", c.code, c.parts.join(", ")));
            let pair = |s: &mut String, what: &str, a: &str, b: &str| {
                s.push_str(&format!("- {what}:\n  - {}: {a}\n  - {}: {b}\n", d.from, d.to));
            };
            for part in &c.parts {
                match *part {
                    "severity" => pair(&mut s, "severity", &c.from.severity, &c.to.severity),
                    "message" => pair(&mut s, "message", &c.from.message, &c.to.message),
                    "module" => pair(&mut s, "module", &c.from.module, &c.to.module),
                    "fields" => pair(&mut s, "fields", &c.from.fields.join(", "), &c.to.fields.join(", ")),
                    _ => pair(&mut s, "check", &c.from.check, &c.to.check),
                }
            }
        }
    }
    if schema_changes > 0 {
        s.push_str("\n## Schema\n");
        list(&mut s, "Tables added", &sc.tables_added);
        list(&mut s, "Tables removed", &sc.tables_removed);
        list(&mut s, "Fields added", &sc.fields_added);
        list(&mut s, "Fields removed", &sc.fields_removed);
        let retyped: Vec<String> = sc.fields_retyped.iter().map(|r| format!("{}: {} to {}", r.field, r.from, r.to)).collect();
        list(&mut s, "Fields whose type changed", &retyped);
        list(&mut s, "Code lists added", &sc.code_lists_added);
        list(&mut s, "Code lists removed", &sc.code_lists_removed);
        let codes: Vec<String> = sc
            .code_lists_changed
            .iter()
            .map(|c| {
                let mut parts = vec![];
                if !c.added.is_empty() {
                    parts.push(format!("added {}", c.added.join(", ")));
                }
                if !c.removed.is_empty() {
                    parts.push(format!("removed {}", c.removed.join(", ")));
                }
                format!("{}: {}", c.name, parts.join("; "))
            })
            .collect();
        list(&mut s, "Code lists changed", &codes);
    }
    s
}

/// Runs the command; returns the exit code.
pub fn command(rules: Option<&PathBuf>, ret: &str, from: &str, to: &str, format: &str) -> u8 {
    let result = (|| -> Result<String, String> {
        if !matches!(format, "md" | "json") {
            return Err(format!("unknown format `{format}`; use md or json"));
        }
        let lib = crate::term::library(rules)?;
        let years = lib.years(ret);
        if years.is_empty() {
            return Err(format!("there are no rules for the return `{ret}`; returns: {}", lib.returns().join(", ")));
        }
        for y in [from, to] {
            if !years.iter().any(|x| x == y) {
                return Err(format!("there are no `{ret}` rules for {y} (rules exist for {})", years.join(", ")));
            }
        }
        let (a, sa) = compile(&lib, ret, from)?;
        let (b, sb) = compile(&lib, ret, to)?;
        let d = diff((&a, &sa), (&b, &sb));
        if format == "json" {
            serde_json::to_string_pretty(&d).map(|t| format!("{t}\n")).map_err(|e| e.to_string())
        } else {
            Ok(markdown(&d))
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
