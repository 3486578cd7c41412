//! JUnit XML for CI: a test suite per file, a test case per rule that ran on it; a rule's findings
//! at or above query level are its failure (info findings are reported as system output).

use super::Run;
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text for XML content and attributes (the HTML report's escaping, valid XML too).
fn esc(s: &str) -> String {
    super::html::esc(s)
}

/// Renders the run as JUnit XML.
pub fn render(run: &Run) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total_cases: usize = run.files.len() * run.rules.len();
    let failing: usize = run
        .files
        .iter()
        .map(|f| {
            let mut codes: Vec<&str> = run
                .of_file(f)
                .filter(|x| x.severity != Severity::Info && x.explained.is_none())
                .map(|x| x.code.as_str())
                .collect();
            codes.sort_unstable();
            codes.dedup();
            codes.len()
        })
        .sum();
    let _ = writeln!(out, "<testsuites name=\"fettle\" tests=\"{total_cases}\" failures=\"{failing}\">");
    for file in &run.files {
        let mut by_rule: BTreeMap<&str, Vec<&crate::eval::Finding>> = BTreeMap::new();
        for f in run.of_file(file) {
            by_rule.entry(f.code.as_str()).or_default().push(f);
        }
        let codes: Vec<&str> = run
            .rules
            .keys()
            .map(String::as_str)
            .chain(by_rule.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let fails = codes
            .iter()
            .filter(|c| by_rule.get(*c).is_some_and(|v| v.iter().any(|f| f.severity != Severity::Info && f.explained.is_none())))
            .count();
        let _ = writeln!(out, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\">", esc(file), codes.len());
        for code in codes {
            let name = run.rules.get(code).map_or_else(|| code.to_string(), |r| format!("{code} {}", r.message));
            let class = run.rules.get(code).map_or("input".to_string(), |r| format!("{}.{}", r.ret, r.year));
            let list = by_rule.get(code).cloned().unwrap_or_default();
            let failing: Vec<_> = list.iter().filter(|f| f.severity != Severity::Info && f.explained.is_none()).collect();
            if failing.is_empty() && list.is_empty() {
                let _ = writeln!(out, "    <testcase classname=\"{}\" name=\"{}\"/>", esc(&class), esc(&name));
                continue;
            }
            let _ = writeln!(out, "    <testcase classname=\"{}\" name=\"{}\">", esc(&class), esc(&name));
            if !failing.is_empty() {
                let sev = failing.first().map_or("error", |f| f.severity.as_str());
                let _ = writeln!(
                    out,
                    "      <failure type=\"{sev}\" message=\"{} finding{}\">",
                    failing.len(),
                    if failing.len() == 1 { "" } else { "s" }
                );
                for f in &failing {
                    let place = f.location.as_ref().map(ToString::to_string).unwrap_or_default();
                    let vals: Vec<String> = f.values.iter().map(|v| format!("{}={}", v.field, v.value)).collect();
                    let _ = writeln!(
                        out,
                        "{}",
                        esc(&format!(
                            "{} | child {} | {} | {} | {}",
                            f.code,
                            f.child.as_deref().unwrap_or("-"),
                            place,
                            vals.join(", "),
                            f.message
                        ))
                    );
                }
                let _ = writeln!(out, "      </failure>");
            }
            let other: Vec<_> = list.iter().filter(|f| f.severity == Severity::Info || f.explained.is_some()).collect();
            if !other.is_empty() {
                let _ = writeln!(out, "      <system-out>");
                for f in other {
                    let why = f.explained.as_deref().map(|e| format!(" (explained: {e})")).unwrap_or_default();
                    let _ = writeln!(out, "{}", esc(&format!("{}{why}", f.message)));
                }
                let _ = writeln!(out, "      </system-out>");
            }
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}
