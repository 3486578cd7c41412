//! SARIF 2.1.0: every finding is a result located in the submitted file (a CSV or XML line as a
//! region; a worksheet cell as a logical location that names its sheet, `Referrals!D5`). Every code
//! that appears has a rule entry (input checks too), described by the rule's plain title. The rule
//! file is a related location when the rules were read from a folder (`--rules DIR`); shipped rules
//! live inside the binary, so they are a logical location (`fgc/2024-25/FGC010`). Last year's return
//! (`--previous`) is an artifact of the run and in its properties; a finding on one of its rows is
//! located in it, and its rows related to a finding are located in it.

use super::{RuleInfo, Run};
use crate::eval::Location;
use crate::syntax::ast::Severity;
use serde_json::{Value, json};

/// The SARIF version written.
pub const VERSION: &str = "2.1.0";
/// The schema it follows.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Query => "warning",
        Severity::Info => "note",
    }
}

fn uri(path: &str) -> String {
    path.replace('\\', "/").split('/').map(|seg| seg.replace(' ', "%20").replace('#', "%23")).collect::<Vec<_>>().join("/")
}

/// Where a finding sits in the submitted file. A CSV or XML line is a region of the file; a
/// worksheet cell is not a line of anything, so it is a logical location that names its sheet
/// (`Referrals!D5`), with the workbook as the artifact and no region.
fn location(file: &str, loc: Option<&Location>, message: Option<String>) -> Value {
    let artifact = match loc {
        Some(Location::Line { file: f, .. }) => f.clone(),
        _ => file.to_string(),
    };
    let mut physical = json!({ "artifactLocation": { "uri": uri(&artifact) } });
    if let (Some(Location::Line { line, .. } | Location::Xml { line, .. }), Some(obj)) = (loc, physical.as_object_mut())
        && *line > 0
    {
        obj.insert("region".into(), json!({ "startLine": line }));
    }
    let mut out = json!({ "physicalLocation": physical });
    let logical = match loc {
        Some(l @ Location::Cell { .. }) => {
            Some(json!({ "name": l.cell_ref(), "fullyQualifiedName": l.to_string(), "kind": "value" }))
        }
        Some(Location::Xml { path, .. }) => {
            let name = path.rsplit('/').next().unwrap_or(path);
            Some(json!({ "name": name, "fullyQualifiedName": path, "kind": "element" }))
        }
        _ => None,
    };
    if let Some(obj) = out.as_object_mut() {
        if let Some(l) = logical {
            obj.insert("logicalLocations".into(), json!([l]));
        }
        if let Some(m) = message {
            obj.insert("message".into(), json!({ "text": m }));
        }
    }
    out
}

/// A rule entry for a code no rule file has (an input check such as `input::missing-table`): its
/// explanation from `fettle explain`, else its code.
fn input_rule(code: &str, severity: Severity) -> Value {
    let text = crate::codes::DIAGNOSTICS.iter().find(|(c, _)| *c == code).map_or(code, |(_, t)| t);
    let short = text.split_inclusive(". ").next().unwrap_or(text).trim_end();
    json!({
        "id": code,
        "shortDescription": { "text": short },
        "fullDescription": { "text": text },
        "defaultConfiguration": { "level": level(severity) },
        "properties": { "severity": severity.as_str(), "kind": "input" },
    })
}

/// Renders the run as a SARIF log.
pub fn render(run: &Run) -> String {
    // A rule's id is its code; when two returns or years of one run share a code (a 2023-24 and a
    // 2024-25 census), each is qualified by its return and year so that ids stay unique.
    let shared = |code: &str| run.rules_with_code(code).nth(1).is_some();
    let id_of = |r: &RuleInfo| if shared(&r.code) { format!("{}/{}/{}", r.ret, r.year, r.code) } else { r.code.clone() };
    let mut ids: Vec<String> = run.rules.values().map(id_of).collect();
    let mut rules: Vec<Value> = run
        .rules
        .values()
        .map(|r| {
            json!({
                "id": id_of(r),
                "shortDescription": { "text": r.title },
                "fullDescription": { "text": format!("{} ({} {}): {}", r.title, r.ret, r.year, r.check) },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "severity": r.severity.as_str(), "fields": r.fields, "return": r.ret, "year": r.year },
            })
        })
        .collect();
    // Every code that appears has its rule entry, input checks too.
    let mut extra: std::collections::BTreeMap<&str, Severity> = std::collections::BTreeMap::new();
    for f in run.findings.iter().filter(|f| run.rule_of(f).is_none()) {
        let s = extra.entry(f.code.as_str()).or_insert(f.severity);
        *s = (*s).max(f.severity);
    }
    for (code, severity) in extra {
        ids.push(code.to_string());
        rules.push(input_rule(code, severity));
    }
    let index: std::collections::BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let results: Vec<Value> = run
        .findings
        .iter()
        .map(|f| {
            let info = run.rule_of(f);
            let id = info.map_or_else(|| f.code.to_string(), id_of);
            let place = match (super::place_text(f), &f.location_file) {
                (p, _) if p.is_empty() => p,
                (p, Some(_)) => format!(", {p}"),
                (p, None) => format!(" at {p}"),
            };
            let child = f.child.as_ref().map(|c| format!(" (child {c})")).unwrap_or_default();
            let vals: Vec<String> = f.values.iter().map(|v| format!("{} = {}", v.field, v.value)).collect();
            let text = format!(
                "{}{child}{place}{}",
                f.message_with_also(),
                if vals.is_empty() { String::new() } else { format!(": {}", vals.join(", ")) }
            );
            let mut related: Vec<Value> = vec![];
            if let Some(r) = &f.rule {
                // The rule file is a place in the user's repository only when the rules were read
                // from a folder; shipped rules are inside the binary, named logically.
                let mut at = if run.rules_on_disk {
                    json!({ "physicalLocation": { "artifactLocation": { "uri": uri(&r.file) }, "region": { "startLine": r.line } } })
                } else {
                    let name = info.map_or_else(|| f.code.to_string(), |i| format!("{}/{}/{}", i.ret, i.year, f.code));
                    json!({ "logicalLocations": [{ "name": f.code, "fullyQualifiedName": name, "kind": "resource" }] })
                };
                if let Some(obj) = at.as_object_mut() {
                    obj.insert("id".into(), json!(0));
                    let shipped = if run.rules_on_disk { String::new() } else { format!(", shipped with fettle ({} line {})", r.file, r.line) };
                    obj.insert("message".into(), json!({ "text": format!("rule {}{shipped}", f.code) }));
                }
                related.push(at);
            }
            for (i, r) in f.related.iter().enumerate() {
                let (file, last) = match &r.file {
                    Some(file) => (file, " (last year's return)"),
                    None => (&f.file, ""),
                };
                let mut at = location(file, r.location.as_ref(), Some(format!("{} row {}{last}", r.table, r.row + 1)));
                if let Some(obj) = at.as_object_mut() {
                    obj.insert("id".into(), json!(i + 1));
                }
                related.push(at);
            }
            let mut res = json!({
                "ruleId": id,
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [location(
                    f.location_file.as_ref().unwrap_or(&f.file),
                    f.location.as_ref(),
                    f.location_file.as_ref().map(|_| match f.in_this_return {
                        Some(false) => "a row of last year's return; the child is not in this return".to_string(),
                        _ => "a row of last year's return".to_string(),
                    }),
                )],
                "relatedLocations": related,
                "properties": {
                    "child": f.child,
                    "table": f.table,
                    "row": f.row,
                    "location": f.location.as_ref().map(ToString::to_string),
                },
            });
            if let (Some(i), Some(obj)) = (index.get(id.as_str()), res.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            if let (Some(file), Some(props)) = (&f.location_file, res.get_mut("properties").and_then(Value::as_object_mut)) {
                props.insert("locationFile".into(), json!(file));
                props.insert("inThisReturn".into(), json!(f.in_this_return));
            }
            if let (Some(e), Some(obj)) = (&f.explained, res.as_object_mut()) {
                obj.insert("suppressions".into(), json!([{ "kind": "external", "justification": e }]));
            }
            res
        })
        .collect();
    let mut sarif_run = json!({
        "tool": { "driver": { "name": "fettle", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
        "results": results,
    });
    // Last year's returns the run compared with (`--previous`): artifacts given on the command line,
    // and the pairs in the run's properties.
    if let (false, Some(obj)) = (run.previous.is_empty(), sarif_run.as_object_mut()) {
        let artifacts: Vec<Value> = run
            .previous
            .iter()
            .map(|p| {
                json!({
                    "location": { "uri": uri(&p.previous) },
                    "roles": ["referencedOnCommandLine"],
                    "description": { "text": format!("last year's return ({}), compared with `{}`", p.year, p.file) },
                })
            })
            .collect();
        obj.insert("artifacts".into(), json!(artifacts));
        obj.insert("properties".into(), json!({ "previous": run.previous }));
    }
    let doc = json!({ "$schema": SCHEMA, "version": VERSION, "runs": [sarif_run] });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
