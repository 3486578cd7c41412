//! SARIF 2.1.0: every finding is a result whose physical location is the place in the submitted
//! file (a CSV or XML line; a worksheet cell as a line plus the cell in the message), with the rule
//! file's line as a related location.

use super::Run;
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

fn physical(file: &str, loc: Option<&Location>) -> Value {
    let region = match loc {
        Some(Location::Line { line, .. } | Location::Xml { line, .. }) if *line > 0 => Some(json!({ "startLine": line })),
        Some(Location::Cell { cell, .. }) => {
            let digits: String = cell.chars().filter(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok().map(|l| json!({ "startLine": l }))
        }
        _ => None,
    };
    let artifact = match loc {
        Some(Location::Line { file: f, .. }) => f.clone(),
        _ => file.to_string(),
    };
    let mut p = json!({ "artifactLocation": { "uri": uri(&artifact) } });
    if let (Some(r), Some(obj)) = (region, p.as_object_mut()) {
        obj.insert("region".into(), r);
    }
    p
}

/// Renders the run as a SARIF log.
pub fn render(run: &Run) -> String {
    let rules: Vec<Value> = run
        .rules
        .values()
        .map(|r| {
            json!({
                "id": r.code,
                "shortDescription": { "text": r.message },
                "fullDescription": { "text": format!("{} ({} {}): {}", r.message, r.ret, r.year, r.check) },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "severity": r.severity.as_str(), "fields": r.fields },
            })
        })
        .collect();
    let index: std::collections::BTreeMap<&str, usize> = run.rules.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let results: Vec<Value> = run
        .findings
        .iter()
        .map(|f| {
            let place = f.location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default();
            let child = f.child.as_ref().map(|c| format!(" (child {c})")).unwrap_or_default();
            let vals: Vec<String> = f.values.iter().map(|v| format!("{} = {}", v.field, v.value)).collect();
            let text = format!(
                "{}{child}{place}{}",
                f.message,
                if vals.is_empty() { String::new() } else { format!(": {}", vals.join(", ")) }
            );
            let mut related: Vec<Value> = vec![];
            if let Some(r) = &f.rule {
                related.push(json!({
                    "id": 0,
                    "message": { "text": format!("rule {}", f.code) },
                    "physicalLocation": { "artifactLocation": { "uri": uri(&r.file) }, "region": { "startLine": r.line } },
                }));
            }
            for (i, r) in f.related.iter().enumerate() {
                related.push(json!({
                    "id": i + 1,
                    "message": { "text": format!("{} row {}", r.table, r.row + 1) },
                    "physicalLocation": physical(&f.file, r.location.as_ref()),
                }));
            }
            let mut res = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": { "text": text },
                "locations": [{ "physicalLocation": physical(&f.file, f.location.as_ref()) }],
                "relatedLocations": related,
                "properties": {
                    "child": f.child,
                    "table": f.table,
                    "row": f.row,
                    "location": f.location.as_ref().map(ToString::to_string),
                },
            });
            if let (Some(i), Some(obj)) = (index.get(f.code.as_str()), res.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            if let (Some(e), Some(obj)) = (&f.explained, res.as_object_mut()) {
                obj.insert("suppressions".into(), json!([{ "kind": "external", "justification": e }]));
            }
            res
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": { "driver": { "name": "fettle", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
