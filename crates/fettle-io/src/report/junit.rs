//! JUnit XML for CI: a test suite per file, a test case per rule of that file's own return and year
//! (and per input check that found something on it). A test case fails exactly when its findings
//! fail the run as the exit code counts them (`--fail-on`, explained queries never); its other
//! findings are written as system output. A file checked against last year's (`--previous`) names
//! that file in its suite's properties. Test names carry the rule's plain title; the lines of a
//! failure carry each finding's own message, its values filled in.

use super::Run;
use crate::eval::{Code, Finding};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Escapes text for XML content and attributes (the HTML report's escaping, valid XML too).
fn esc(s: &str) -> String {
    super::html::esc(s)
}

/// One test case: a rule (or input check) on one file.
struct Case<'a> {
    class: String,
    name: String,
    failing: Vec<&'a Finding>,
    other: Vec<&'a Finding>,
}

/// The test cases of one file, by code.
fn cases<'a>(run: &'a Run, file: &'a str) -> Vec<Case<'a>> {
    let mut by_rule: BTreeMap<&Code, Vec<&Finding>> = BTreeMap::new();
    for f in run.of_file(file) {
        by_rule.entry(&f.code).or_default().push(f);
    }
    let codes: BTreeSet<Code> =
        run.rules_of(file).map(|r| Code::Rule(r.code.clone())).chain(by_rule.keys().map(|c| (*c).clone())).collect();
    codes
        .into_iter()
        .map(|code| {
            let rule = code.rule().and_then(|c| run.rule(file, c));
            let list = by_rule.get(&code).cloned().unwrap_or_default();
            let (failing, other) = list.into_iter().partition(|f| run.fails(f));
            Case {
                class: rule.map_or_else(|| "input".to_string(), |r| format!("{}.{}", r.ret, r.year)),
                name: rule.map_or_else(|| code.to_string(), |r| format!("{code} {}", r.title)),
                failing,
                other,
            }
        })
        .collect()
}

/// One finding as a line of a failure or of system output.
fn line(f: &Finding) -> String {
    let place = super::place_text(f);
    let vals: Vec<String> = f.values.iter().map(|v| format!("{}={}", v.field, v.value)).collect();
    let related: Vec<String> = f.related.iter().map(|r| format!("with {} at {}", r.table, super::related_place(r))).collect();
    let why = f.explained.as_deref().map(|e| format!(" (explained: {e})")).unwrap_or_default();
    format!(
        "{} {} | child {} | {} | {} | {}{why}{}",
        f.code,
        f.severity.as_str(),
        f.child.as_deref().unwrap_or("-"),
        place,
        vals.join(", "),
        f.message_with_also(),
        if related.is_empty() { String::new() } else { format!(" | {}", related.join("; ")) }
    )
}

/// Renders the run as JUnit XML.
pub fn render(run: &Run) -> String {
    let suites: Vec<(&String, Vec<Case>)> = run.files.iter().map(|f| (f, cases(run, f))).collect();
    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failing: usize = suites.iter().map(|(_, c)| c.iter().filter(|c| !c.failing.is_empty()).count()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"fettle\" tests=\"{total}\" failures=\"{failing}\" errors=\"0\">");
    for (file, cases) in &suites {
        let fails = cases.iter().filter(|c| !c.failing.is_empty()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\" skipped=\"0\">",
            esc(file),
            cases.len()
        );
        // Last year's return this file was checked against (`--previous`), as a property of its suite.
        let prev: Vec<_> = run.previous.iter().filter(|p| &p.file == *file).collect();
        if !prev.is_empty() {
            let _ = writeln!(out, "    <properties>");
            for p in prev {
                let _ = writeln!(
                    out,
                    "      <property name=\"previous\" value=\"{}\"/>\n      <property name=\"previous-year\" value=\"{}\"/>",
                    esc(&p.previous),
                    esc(&p.year)
                );
            }
            let _ = writeln!(out, "    </properties>");
        }
        for c in cases {
            let (class, name) = (esc(&c.class), esc(&c.name));
            if c.failing.is_empty() && c.other.is_empty() {
                let _ = writeln!(out, "    <testcase classname=\"{class}\" name=\"{name}\"/>");
                continue;
            }
            let _ = writeln!(out, "    <testcase classname=\"{class}\" name=\"{name}\">");
            if let Some(first) = c.failing.first() {
                let n = c.failing.len();
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{n} finding{}: {}\">",
                    first.severity.as_str(),
                    if n == 1 { "" } else { "s" },
                    esc(&first.message)
                );
                for f in &c.failing {
                    let _ = writeln!(out, "{}", esc(&line(f)));
                }
                let _ = writeln!(out, "      </failure>");
            }
            if !c.other.is_empty() {
                let _ = writeln!(out, "      <system-out>");
                for f in &c.other {
                    let _ = writeln!(out, "{}", esc(&line(f)));
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
