//! Every report format on one shared fixture of findings: snapshots of each (the xlsx report read
//! back as text), structural checks of JUnit and SARIF, the annotated copy of a workbook, and the
//! CLI writing an HTML report and an annotated copy of a sample.

use super::{fettle, in_suite, root};
use calamine::{Data, Reader, Xlsx};
use fettle::eval::finding::Value;
use fettle::eval::{Code, FieldValue, Finding, Location, Merged, Related, RuleRef};
use fettle::report::{RuleInfo, RuleKey, Run};
use fettle::syntax::ast::Severity;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const XLSX: &str = "returns/fgc-2024-25.xlsx";
const XML: &str = "returns/census-2024-25.xml";

fn cell(sheet: &str, cell: &str) -> Option<Location> {
    Location::cell(sheet, cell)
}

fn xml(path: &str, line: u32) -> Option<Location> {
    Some(Location::Xml { path: path.into(), line })
}

fn value(field: &str, value: Value, location: Option<Location>) -> FieldValue {
    FieldValue { field: field.into(), value, location }
}

fn text(t: &str) -> Value {
    Value::Text(t.into())
}

/// A date written `YYYY-MM-DD`.
fn date(d: &str) -> Value {
    let p = |r: std::ops::Range<usize>| d[r].parse::<i64>().unwrap();
    Value::Date(fettle::eval::dates::make(p(0..4), p(5..7), p(8..10)).unwrap())
}

fn finding(code: &str, severity: Severity, message: &str, file: &str) -> Finding {
    Finding {
        code: Code::parse(code),
        severity,
        message: message.into(),
        quotes: vec![],
        file: file.into(),
        table: None,
        fields: vec![],
        row: None,
        location: None,
        location_file: None,
        in_this_return: None,
        child: None,
        record: None,
        merged: vec![],
        values: vec![],
        related: vec![],
        fix: None,
        rule: None,
        explained: None,
        table_order: 0,
    }
}

/// A rule as reports see it; `at` is its file and line.
fn rule(code: &str, severity: Severity, message: &str, ret: &str, at: (&str, usize), check: &str, fields: &[&str]) -> RuleInfo {
    let (file, line) = at;
    // The plain title: each `{...}` hole shown as `…`.
    let (mut title, mut depth) = (String::new(), 0);
    for c in message.chars() {
        match c {
            '{' if depth == 0 => {
                title.push('…');
                depth += 1;
            }
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth == 0 => title.push(c),
            _ => {}
        }
    }
    RuleInfo {
        code: code.into(),
        severity,
        message: message.into(),
        title,
        ret: ret.into(),
        year: "2024-25".into(),
        file: file.into(),
        line,
        check: check.into(),
        fields: fields.iter().map(|f| (*f).to_string()).collect(),
        fix: None,
    }
}

/// The shared fixture: two submissions (an xlsx and an XML census) with an error on a cell of a
/// child, a query on an XML element with a related row, an explained query, a query about the whole
/// return and an info figure of a group. Some values hold markup, to show escaping.
fn fixture() -> Run {
    let fgc_rules = "rules/fgc/2024-25/10-fields.fettle";
    let cin_rules = "rules/cin/2024-25/20-child.fettle";
    let child2 = "Message/Children/Child[2]";

    let mut error = finding("FGC010", Severity::Error, "PersonBirthDate 2031-02-15 is after ReferralDate 2024-05-01", XLSX);
    error.table = Some("Referrals".into());
    error.fields = vec!["Referrals.PersonBirthDate".into(), "Referrals.ReferralDate".into()];
    error.row = Some(3);
    error.location = cell("Referrals", "D5");
    error.child = Some("CH0001".into());
    error.values = vec![
        value("Referrals.PersonBirthDate", date("2031-02-15"), cell("Referrals", "D5")),
        value("Referrals.ReferralDate", date("2024-05-01"), cell("Referrals", "E5")),
        value("Referrals.Notes", text("<script>alert('x')</script> & \"more\""), cell("Referrals", "H5")),
    ];
    // A problem met while reading the same cell, folded into the rule's finding: every format shows it.
    error.merged = vec![Merged {
        code: Code::parse("input::invalid-date"),
        message: "PersonBirthDate `31/02/2031` names a day that does not exist".into(),
        location: cell("Referrals", "D5"),
        quotes: vec![],
    }];
    error.fix = Some("Correct the date of birth or the referral date".into());
    error.rule = Some(RuleRef { file: fgc_rules.into(), line: 12 });

    let mut info = finding("FGC900", Severity::Info, "Referrals of cohort CL: 20", XLSX);
    info.table = Some("Referrals".into());
    info.fields = vec!["Referrals.Cohort".into()];
    info.values = vec![value("group", text("CL"), None), value("total", Value::Int(20), None)];
    info.rule = Some(RuleRef { file: fgc_rules.into(), line: 90 });
    info.table_order = 1;

    let mut query = finding("2887Q", Severity::Query, "Referral 2024-03-01 is within 5 days of another referral", XML);
    query.table = Some("CINdetails".into());
    query.fields = vec!["CINdetails.CINreferralDate".into()];
    query.row = Some(1);
    query.location = xml(&format!("{child2}/CINdetails[1]/CINreferralDate"), 40);
    query.child = Some("C0002".into());
    query.values = vec![value("CINdetails.CINreferralDate", date("2024-03-01"), query.location.clone())];
    query.related = vec![Related {
        table: "CINdetails".into(),
        row: 2,
        location: xml(&format!("{child2}/CINdetails[2]/CINreferralDate"), 58),
        file: None,
        values: vec![
            value("CINdetails.CINreferralDate", date("2024-03-05"), xml(&format!("{child2}/CINdetails[2]/CINreferralDate"), 58)),
            value("CINdetails.CINclosureDate", Value::Missing, None),
        ],
    }];
    query.fix = Some("Merge the two referrals, or explain why they are separate".into());
    query.rule = Some(RuleRef { file: cin_rules.into(), line: 40 });

    let mut explained = finding("8825Q", Severity::Query, "Child C0003 was referred 3 times in 12 months", XML);
    explained.table = Some("CINdetails".into());
    explained.fields = vec!["CINdetails.CINreferralDate".into()];
    explained.row = Some(4);
    explained.location = xml("Message/Children/Child[3]/CINdetails[3]/CINreferralDate", 77);
    explained.child = Some("C0003".into());
    explained.values = vec![value("CINdetails.CINreferralDate", date("2024-09-30"), explained.location.clone())];
    explained.rule = Some(RuleRef { file: cin_rules.into(), line: 77 });
    explained.explained = Some("Moved in from <Leeds> & was re-referred by the new school".into());

    let mut whole = finding("1105Q", Severity::Query, "Only 2 of 40 children (5.0%) have a disability recorded, below 10%", XML);
    whole.values = vec![value("rate", Value::Decimal(0.05), None), value("threshold", Value::Decimal(0.1), None)];
    whole.rule = Some(RuleRef { file: "rules/cin/2024-25/50-return.fettle".into(), line: 3 });
    whole.table_order = u32::MAX;

    let mut rules = BTreeMap::new();
    let mut r = rule(
        "FGC010",
        Severity::Error,
        "PersonBirthDate {PersonBirthDate} is after ReferralDate {ReferralDate}",
        "fgc",
        (fgc_rules, 12),
        "PersonBirthDate <= ReferralDate",
        &["Referrals.PersonBirthDate", "Referrals.ReferralDate"],
    );
    r.fix = error.fix.clone();
    rules.insert(RuleKey::of(&r), r);
    let r = rule(
        "FGC900",
        Severity::Info,
        "Referrals of cohort {this}: {total}",
        "fgc",
        (fgc_rules, 90),
        "false",
        &["Referrals.Cohort"],
    );
    rules.insert(RuleKey::of(&r), r);
    let mut r = rule(
        "2887Q",
        Severity::Query,
        "Referral {CINreferralDate} is within 5 days of another referral",
        "cin",
        (cin_rules, 40),
        "not exists(o in others where days(o.CINreferralDate, CINreferralDate) < 5)",
        &["CINdetails.CINreferralDate"],
    );
    r.fix = query.fix.clone();
    rules.insert(RuleKey::of(&r), r);
    let r = rule(
        "8825Q",
        Severity::Query,
        "Child {LAchildID} was referred {n} times in 12 months",
        "cin",
        (cin_rules, 77),
        "n < 3",
        &["CINdetails.CINreferralDate"],
    );
    rules.insert(RuleKey::of(&r), r);
    let r = rule(
        "1105Q",
        Severity::Query,
        "Only {with_n} of {total} children ({percent(rate)}) have a disability recorded, below {percent(threshold, 0)}",
        "cin",
        ("rules/cin/2024-25/50-return.fettle", 3),
        "rate >= threshold",
        &[],
    );
    rules.insert(RuleKey::of(&r), r);

    let mut findings = vec![error, info, query, explained, whole];
    // In the deterministic order validate gives them: file, table, row, code.
    fettle::eval::sort(&mut findings);
    let returns = [(XLSX, "fgc"), (XML, "cin")].map(|(f, r)| (f.to_string(), (r.to_string(), "2024-25".to_string()))).into();
    Run {
        findings,
        files: vec![XLSX.into(), XML.into()],
        rules,
        returns,
        fail_on: Some(Severity::Error),
        rules_on_disk: false,
        ..Run::default()
    }
}

/// Every sheet of an xlsx file as text: its name, then each row's cells separated by tabs.
pub(crate) fn xlsx_text(bytes: &[u8]) -> String {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    for name in wb.sheet_names() {
        out.push_str(&format!("== {name}\n"));
        let range = wb.worksheet_range(&name).unwrap();
        assert_eq!(range.start().unwrap_or((0, 0)), (0, 0), "sheet {name} starts at A1");
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(ToString::to_string).collect();
            out.push_str(cells.join("\t").trim_end_matches('\t'));
            out.push('\n');
        }
    }
    out
}

#[test]
fn human() {
    in_suite("reports", || insta::assert_snapshot!("human", fettle::report::human::render(&fixture())));
}

#[test]
fn json() {
    in_suite("reports", || insta::assert_snapshot!("json", fettle::report::json::render(&fixture())));
}

#[test]
fn csv() {
    in_suite("reports", || insta::assert_snapshot!("csv", fettle::report::csv::render(&fixture())));
}

#[test]
fn junit() {
    in_suite("reports", || insta::assert_snapshot!("junit", fettle::report::junit::render(&fixture())));
}

#[test]
fn sarif() {
    in_suite("reports", || insta::assert_snapshot!("sarif", fettle::report::sarif::render(&fixture())));
}

#[test]
fn collect_notes() {
    in_suite("reports", || insta::assert_snapshot!("collect_notes", fettle::report::explain::collect_notes(&fixture())));
}

#[test]
fn html() {
    let html = fettle::report::html::render(&fixture());
    in_suite("reports", || insta::assert_snapshot!("html", html));
}

#[test]
fn xlsx() {
    let bytes = fettle::report::xlsx::render(&fixture()).unwrap();
    assert_eq!(bytes, fettle::report::xlsx::render(&fixture()).unwrap(), "the same run gives the same bytes");
    in_suite("reports", || insta::assert_snapshot!("xlsx", xlsx_text(&bytes)));
}

#[test]
fn html_escapes_and_stays_offline() {
    let html = fettle::report::html::render(&fixture());
    assert!(!html.contains("<script>alert"), "data is escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;more&quot;"));
    assert!(html.contains("Moved in from &lt;Leeds&gt; &amp; was re-referred"));
    assert_eq!(html.matches("<script>").count(), 1, "one inline script, no other");
    for bad in ["src=\"http", "href=\"http", "<link", "@import", "url(", "<img", "<iframe", "fetch(", "XMLHttpRequest"] {
        assert!(!html.contains(bad), "the report must not contain `{bad}`");
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("<label for=\"filter\">"));
    assert!(html.contains("<svg id=\"chart-rules\"") && html.contains("<svg id=\"chart-fields\""));
}

#[test]
fn xlsx_child_sheets_are_capped_and_named() {
    let mut run = fixture();
    let base = run.findings.first().cloned().unwrap();
    run.findings.clear();
    for i in 0..205 {
        let mut f = base.clone();
        // Long ids with characters a sheet name cannot hold; the first 40 characters are shared.
        f.child = Some(format!("{}/{i:04}", "X".repeat(40)));
        run.findings.push(f);
    }
    let bytes = fettle::report::xlsx::render(&run).unwrap();
    let wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names.len(), 2 + fettle::report::xlsx::MAX_CHILD_SHEETS);
    let mut lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), names.len(), "sheet names are unique");
    for n in &names {
        assert!(n.chars().count() <= 31 && !n.contains('/'), "{n}");
    }
    let text = xlsx_text(&fettle::report::xlsx::render(&run).unwrap());
    assert!(text.contains("Child sheets are written for the first 200 of 205 children"), "{}", &text[..2000]);
}

/// A JUnit suite as a CI reporter reads it: its name, declared counts and test cases.
#[derive(Debug, Default)]
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    /// (classname, name, failed) of each test case.
    cases: Vec<(String, String, bool)>,
}

/// Parses JUnit XML with a real XML parser: the declared totals and every suite.
fn junit_suites(xml: &str) -> ((usize, usize), Vec<Suite>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let attr = |e: &quick_xml::events::BytesStart, k: &str| -> String {
        e.try_get_attribute(k).unwrap().map(|a| quick_xml::escape::unescape(&a.value).unwrap().to_string()).unwrap_or_default()
    };
    let mut declared = (0, 0);
    let mut suites: Vec<Suite> = vec![];
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuites" => declared = (attr(&e, "tests").parse().unwrap(), attr(&e, "failures").parse().unwrap()),
                "testsuite" => suites.push(Suite {
                    name: attr(&e, "name"),
                    tests: attr(&e, "tests").parse().unwrap(),
                    failures: attr(&e, "failures").parse().unwrap(),
                    cases: vec![],
                }),
                "testcase" => suites.last_mut().unwrap().cases.push((attr(&e, "classname"), attr(&e, "name"), false)),
                "failure" => suites.last_mut().unwrap().cases.last_mut().unwrap().2 = true,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    for s in &suites {
        assert_eq!(s.tests, s.cases.len(), "{}: declared tests", s.name);
        assert_eq!(s.failures, s.cases.iter().filter(|c| c.2).count(), "{}: declared failures", s.name);
    }
    let cases: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failed: usize = suites.iter().map(|s| s.failures).sum();
    assert_eq!(declared, (cases, failed), "declared totals");
    (declared, suites)
}

#[test]
fn junit_parses_with_counts() {
    let mut run = fixture();
    let (totals, suites) = junit_suites(&fettle::report::junit::render(&run));
    // Two files, each with its own return's rules only: FGC010 and FGC900 in the xlsx, 2887Q, 8825Q
    // and 1105Q in the census. With `--fail-on error` only FGC010 fails (8825Q is explained, FGC900
    // is info, the queries do not fail the run).
    assert_eq!(suites.len(), 2);
    assert_eq!(totals, (5, 1));
    // The census has only queries: its suite passes, as the run's exit code would.
    assert_eq!(suites[1].failures, 0);
    let names: Vec<Vec<&str>> = suites.iter().map(|s| s.cases.iter().map(|c| c.1.as_str()).collect()).collect();
    assert_eq!(
        names,
        [
            vec!["FGC010 PersonBirthDate … is after ReferralDate …", "FGC900 Referrals of cohort …: …"],
            vec![
                "1105Q Only … of … children (…) have a disability recorded, below …",
                "2887Q Referral … is within 5 days of another referral",
                "8825Q Child … was referred … times in 12 months",
            ],
        ]
    );
    // With `--fail-on query` the two unexplained queries fail too.
    run.fail_on = Some(Severity::Query);
    assert_eq!(junit_suites(&fettle::report::junit::render(&run)).0, (5, 3));
    run.fail_on = None;
    assert_eq!(junit_suites(&fettle::report::junit::render(&run)).0, (5, 0));
}

/// Several returns in one run: each suite holds its own return's rules, no test name shows a `{hole}`,
/// and the suite fails exactly when the exit code says the run failed.
#[test]
fn junit_suites_follow_returns_and_fail_on() {
    let samples =
        ["samples/cin/census-2024-25.xml", "samples/fgc/fgc-2024-25.xlsx", "samples/disability/disability-2024-25.xlsx"];
    for fail_on in ["error", "query", "never"] {
        let out = fettle().arg("validate").args(samples).args(["--format", "junit", "--fail-on", fail_on]).output().unwrap();
        let (totals, suites) = junit_suites(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(suites.len(), 3);
        for (s, ret) in suites.iter().zip(["cin.", "fgc.", "disability."]) {
            for (class, name, _) in &s.cases {
                assert!(class.starts_with(ret) || class == "input", "{}: {class} {name}", s.name);
                assert!(!name.contains('{'), "{name}");
            }
        }
        assert_eq!(out.status.code(), Some(if totals.1 > 0 { 1 } else { 0 }), "--fail-on {fail_on}: {totals:?}");
        if fail_on == "never" {
            assert_eq!(totals.1, 0);
        }
    }
}

/// Two years of one return in one run (a 2023-24 and a 2024-25 census): each file's findings and test
/// cases carry its own year's rule text, where a rule changed between the years (8770Q), and SARIF
/// rule ids stay unique.
#[test]
fn two_years_of_one_return_keep_their_own_rules() {
    let files = ["tests/fixtures/previous/census-2023-24.xml", "samples/cin/census-2024-25.xml"];
    let old = "8770Q Please check and either amend data or provide a reason: UPN or reason UPN missing expected for a child who is more than 5 years old";
    let new = "8770Q Please check and either amend data or provide a reason: UPN is missing or reason UPN is missing or is UN1 for a child who is of school age.";
    let out = fettle().arg("validate").args(files).args(["--format", "junit"]).output().unwrap();
    let (_, suites) = junit_suites(&String::from_utf8_lossy(&out.stdout));
    let case = |s: &Suite| s.cases.iter().find(|c| c.1.starts_with("8770Q ")).cloned().unwrap();
    assert_eq!(case(&suites[0]), ("cin.2023-24".to_string(), old.to_string(), false));
    assert_eq!(case(&suites[1]), ("cin.2024-25".to_string(), new.to_string(), false));

    let out = fettle().arg("validate").args(files).args(["--format", "sarif"]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "SARIF rule ids repeat");
    assert!(ids.contains(&"cin/2023-24/8770Q") && ids.contains(&"cin/2024-25/8770Q"), "{ids:?}");
    // A rule of one year only keeps its plain code (1570 did not exist in 2023-24).
    assert!(ids.contains(&"1570"), "{ids:?}");
    for res in doc["runs"][0]["results"].as_array().unwrap() {
        let rule = &rules[res["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], res["ruleId"]);
        if res["ruleId"] == "cin/2023-24/8770Q" {
            assert!(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().contains("2023-24"));
        }
    }
    assert!(doc["runs"][0]["results"].as_array().unwrap().iter().any(|r| r["ruleId"] == "cin/2023-24/8770Q"));

    // The HTML report says whose rule each group of a shared code is.
    let out = fettle().arg("validate").args(files).args(["--format", "html"]).output().unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    // What a user sees of a code the two years share: the SARIF rule entries and the HTML headings.
    let shared: Vec<String> = rules
        .iter()
        .filter(|r| r["id"].as_str().is_some_and(|id| id.contains('/')))
        .map(|r| format!("{}: {}", r["id"].as_str().unwrap_or(""), r["shortDescription"]["text"].as_str().unwrap_or("")))
        .chain(html.lines().filter(|l| l.starts_with("<summary>") && l.contains("<span class=\"meta\">(cin ")).map(String::from))
        .collect();
    in_suite("reports", || insta::assert_snapshot!("two-years-shared-codes", shared.join("\n")));
    assert!(html.contains("<code>8770Q</code> <span class=\"meta\">(cin 2023-24)</span> Please check and either amend data or provide a reason: UPN or reason UPN missing expected"), "no 2023-24 group of 8770Q");
}

/// The structure a SARIF viewer relies on: every result points at its rule entry (input checks have
/// entries too), a worksheet cell is a logical location naming its sheet (never a bare row number),
/// and a rule is a place in a file only when the rules were read from a folder.
#[test]
fn sarif_has_required_structure() {
    use serde_json::Value;
    let mut run = fixture();
    let mut missing = finding("input::missing-column", Severity::Error, "the sheet `Referrals` has no column `Sex`", XLSX);
    missing.location = cell("Referrals", "A1");
    run.findings.push(missing);
    let check = |run: &Run| {
        let doc: Value = serde_json::from_str(&fettle::report::sarif::render(run)).unwrap();
        assert_eq!(doc["version"], "2.1.0");
        assert!(doc["$schema"].as_str().is_some_and(|s| s.contains("sarif")));
        let runs = doc["runs"].as_array().expect("runs is an array");
        assert_eq!(runs.len(), 1);
        let r0 = &runs[0];
        assert_eq!(r0["tool"]["driver"]["name"], "fettle");
        let rules = r0["tool"]["driver"]["rules"].as_array().expect("rules is an array").clone();
        for r in &rules {
            assert!(r["id"].as_str().is_some_and(|s| !s.is_empty()), "rule without id: {r}");
            assert!(!r["shortDescription"]["text"].as_str().unwrap().contains('{'), "{r}");
            assert!(!r["fullDescription"]["text"].as_str().unwrap().contains("{with_n}"), "{r}");
        }
        let results = r0["results"].as_array().expect("results is an array").clone();
        assert_eq!(results.len(), run.findings.len());
        for res in &results {
            let id = res["ruleId"].as_str().expect("ruleId");
            assert!(["error", "warning", "note"].contains(&res["level"].as_str().expect("level")), "{res}");
            assert!(res["message"]["text"].as_str().is_some_and(|t| !t.is_empty()), "{res}");
            let loc = &res["locations"][0];
            let uri = loc["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(!uri.is_empty());
            let i = res["ruleIndex"].as_u64().unwrap_or_else(|| panic!("{id} has no rule entry"));
            assert_eq!(rules[i as usize]["id"], id, "ruleIndex points at its rule");
            if let Some(line) = loc["physicalLocation"]["region"]["startLine"].as_u64() {
                assert!(line >= 1);
            }
            if uri.ends_with(".xlsx") && !loc["logicalLocations"].is_null() {
                let name = loc["logicalLocations"][0]["fullyQualifiedName"].as_str().unwrap();
                assert!(name.starts_with("Referrals!"), "{res}");
                assert!(loc["physicalLocation"]["region"].is_null(), "a cell is not a line: {res}");
            }
        }
        let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["warning", "warning", "warning", "error", "note", "error"]);
        results
    };
    let results = check(&run);
    assert_eq!(results[3]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "Referrals!D5");
    // Shipped rules: a logical location.
    let rule_at = &results[3]["relatedLocations"][0];
    assert!(rule_at["physicalLocation"].is_null(), "{rule_at}");
    assert_eq!(rule_at["logicalLocations"][0]["fullyQualifiedName"], "fgc/2024-25/FGC010");
    // Rules from a folder: the rule file and line.
    run.rules_on_disk = true;
    let results = check(&run);
    let rule_at = &results[3]["relatedLocations"][0];
    assert_eq!(rule_at["physicalLocation"]["artifactLocation"]["uri"], "rules/fgc/2024-25/10-fields.fettle");
    assert_eq!(rule_at["physicalLocation"]["region"]["startLine"], 12);
}

/// SARIF from the shared fixture and from real runs (CIN XML, FGC workbook) is valid against the
/// OASIS SARIF 2.1.0 schema (committed in `tests/fixtures/sarif/`, so the test runs offline).
#[test]
fn sarif_is_valid_against_the_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let check = |name: &str, text: &str| {
        let doc: serde_json::Value = serde_json::from_str(text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {} schema errors:\n{}", errors.len(), errors.join("\n"));
    };
    check("fixture", &fettle::report::sarif::render(&fixture()));
    for sample in
        ["samples/cin/census-2024-25.xml", "samples/cin/census-2024-25.xlsx", "samples/fgc/fgc-2024-25.xlsx", "samples/fgc/csv"]
    {
        for rules in [None, Some("rules")] {
            let mut cmd = fettle();
            cmd.args(["validate", sample, "--format", "sarif"]);
            if let Some(r) = rules {
                cmd.args(["--rules", r]);
            }
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{sample}: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            check(sample, &text);
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            // Rule descriptions are plain titles, never messages with unfilled `{holes}`.
            for rule in doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
                for d in ["shortDescription", "fullDescription"] {
                    assert!(!rule[d]["text"].as_str().unwrap_or("").contains('{'), "{sample}: {rule}");
                }
            }
            for res in doc["runs"][0]["results"].as_array().unwrap() {
                assert!(res["ruleIndex"].is_u64(), "{sample}: {} has no rule entry", res["ruleId"]);
                // A rule file named as a place exists on disk.
                for rel in res["relatedLocations"].as_array().unwrap() {
                    if let Some(uri) = rel["physicalLocation"]["artifactLocation"]["uri"].as_str()
                        && uri.ends_with(".fettle")
                    {
                        assert!(rules.is_some() && root().join(uri).is_file(), "{sample}: {uri}");
                    }
                }
            }
        }
    }
    // A run checked against last year's (`--previous`): last year's file is an artifact, and findings
    // are located in it.
    let out = fettle()
        .args(["validate", "--format", "sarif", "tests/fixtures/previous/census-2024-25.xml"])
        .args(["--previous", "tests/fixtures/previous/census-2023-24.xml"])
        .output()
        .unwrap();
    check("previous", &String::from_utf8_lossy(&out.stdout));
    // The validator does catch a broken document.
    let mut broken: serde_json::Value = serde_json::from_str(&fettle::report::sarif::render(&fixture())).unwrap();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

/// A fresh folder under the target's temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Used cells by sheet, each with its absolute (row, column).
type Cells = BTreeMap<String, Vec<((u32, u32), Data)>>;

/// Every used cell of every sheet, with its absolute position.
fn cells(path: &Path) -> Cells {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let mut out = BTreeMap::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        let (top, left) = range.start().unwrap_or((0, 0));
        let list = range.used_cells().map(|(r, c, v)| ((top + r as u32, left + c as u32), v.clone())).collect::<Vec<_>>();
        out.insert(name, list);
    }
    out
}

#[test]
fn annotate_preserves_values() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = temp_dir("annotate");
    let src = dir.join("council.xlsx");
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Sheet1").unwrap();
    ws.write_string(0, 0, "LAchildID").unwrap();
    ws.write_string(0, 1, "PersonBirthDate").unwrap();
    ws.write_string(0, 2, "Hours").unwrap();
    ws.write_string(0, 3, "Disabled").unwrap();
    ws.write_string(1, 0, "C0001").unwrap();
    ws.write_datetime_with_format(1, 1, ExcelDateTime::from_ymd(2031, 2, 15).unwrap(), &date).unwrap();
    ws.write_number(1, 2, 7.5).unwrap();
    ws.write_boolean(1, 3, true).unwrap();
    ws.write_string(2, 0, "C0002").unwrap();
    ws.write_datetime(2, 1, ExcelDateTime::from_ymd(2015, 6, 1).unwrap()).unwrap();
    ws.write_number(2, 2, 12).unwrap();
    ws.write_formula(2, 3, "=1+1").unwrap().set_formula_result(2, 3, "2");
    let ws = wb.add_worksheet();
    ws.set_name("Notes & más").unwrap();
    ws.write_string(4, 2, "away from A1").unwrap();
    wb.save(&src).unwrap();
    let before = std::fs::read(&src).unwrap();

    let mut on_cell = finding("FGC010", Severity::Error, "PersonBirthDate is in the future", &src.display().to_string());
    on_cell.location = cell("Sheet1", "B2");
    on_cell.values = vec![value("Sheet1.Hours", Value::Decimal(7.5), cell("Sheet1", "C2"))];
    let mut second = finding("FGC011", Severity::Query, "Hours are unusual", &src.display().to_string());
    second.location = cell("Sheet1", "C2");
    let mut related = finding("FGC012", Severity::Info, "Another child's row", &src.display().to_string());
    related.location = cell("Sheet1", "A3");
    related.related =
        vec![Related { table: "Sheet1".into(), row: 2, location: cell("Sheet1", "E9"), file: None, values: vec![] }];
    let whole = finding("FGC900", Severity::Query, "Only 2 children", &src.display().to_string());
    let findings = [&on_cell, &second, &related, &whole];

    let bytes = fettle::report::annotate::annotate(&src, &findings).unwrap();
    assert_eq!(std::fs::read(&src).unwrap(), before, "the input is never written");
    let out = dir.join("annotated.xlsx");
    std::fs::write(&out, &bytes).unwrap();

    let (a, b) = (cells(&src), cells(&out));
    let mut copy: Xlsx<_> = calamine::open_workbook(&out).unwrap();
    assert_eq!(copy.sheet_names(), ["Sheet1", "Notes & más", "fettle findings"]);
    for (name, list) in &a {
        // E9 is flagged (by a related row) and so written as a blank highlighted cell.
        let copied: Vec<_> = b[name].iter().filter(|(_, v)| *v != Data::Empty).cloned().collect();
        assert_eq!(&copied, list, "values of {name}");
    }
    assert!(matches!(b["Sheet1"].iter().find(|(p, _)| *p == (1, 1)), Some((_, Data::DateTime(_)))), "dates stay dates");
    assert_eq!(b["Notes & más"][0].0, (4, 2), "positions are kept");

    // Highlights: B2 red (error), C2 red (an error's value and a query), A3 blue (info).
    let styles = copy.worksheet_style("Sheet1").unwrap();
    let fill = |r: u32, c: u32| {
        styles.get((r, c)).and_then(|s| s.fill.as_ref()).and_then(calamine::Fill::get_color).map(|c| (c.red, c.green, c.blue))
    };
    assert_eq!(fill(1, 1), Some((0xF4, 0xA6, 0xA0)));
    assert_eq!(fill(1, 2), Some((0xF4, 0xA6, 0xA0)));
    assert_eq!(fill(2, 0), Some((0xA6, 0xC8, 0xEA)));
    assert_eq!(fill(8, 4), Some((0xA6, 0xC8, 0xEA)));
    assert_eq!(fill(2, 1), None);
    let number_format = styles.get((1, 1)).and_then(|s| s.number_format.clone()).map(|n| n.format_code);
    assert_eq!(number_format.as_deref(), Some("dd/mm/yyyy"), "the date keeps its format");

    let list = copy.worksheet_range("fettle findings").unwrap();
    let text: Vec<String> = list.rows().map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>().join("\t")).collect();
    assert!(text.iter().any(|l| l.starts_with("FGC900\tquery\tOnly 2 children")), "{text:#?}");
    assert!(!text.iter().any(|l| l.starts_with("FGC010")), "cell findings are noted on their cells");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn annotate_rejects_what_is_not_xlsx() {
    let dir = temp_dir("annotate-bad");
    let src = dir.join("not.xlsx");
    std::fs::write(&src, b"not a workbook").unwrap();
    let err = fettle::report::annotate::annotate(&src, &[]).unwrap_err();
    assert!(err.contains("cannot read"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cli_writes_html_and_annotated_copy() {
    let dir = temp_dir("cli");
    let input = root().join("samples/fgc/fgc-2024-25.xlsx");
    let before = std::fs::read(&input).unwrap();
    let (copy, html) = (dir.join("copy.xlsx"), dir.join("r.html"));
    let out = fettle()
        .args(["validate", "samples/fgc/fgc-2024-25.xlsx", "--annotate"])
        .arg(&copy)
        .args(["--format", "html", "--output"])
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "errors make the exit code 1: {}", String::from_utf8_lossy(&out.stderr));
    assert!(copy.is_file() && html.is_file());
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input is unchanged");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("samples/fgc/fgc-2024-25.xlsx"));
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    assert!(!page.contains("<link") && !page.contains("url("));
    let (a, b) = (cells(&input), cells(&copy));
    for (name, list) in &a {
        let copied: Vec<_> = b[name].iter().filter(|(_, v)| *v != Data::Empty).cloned().collect();
        assert_eq!(&copied, list, "values of {name}");
    }
    assert!(b.contains_key("fettle findings"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A report written to a device or through a symbolic link leaves the device and the link in place:
/// replacing `/dev/null` with a regular file (as a rename would, when run as root) breaks every
/// later program that reads it.
#[cfg(unix)]
#[test]
fn output_to_devices_and_links_keeps_them() {
    use std::os::unix::fs::FileTypeExt;
    let out = fettle()
        .args(["validate", "samples/cin/census-2024-25.xml", "--format", "json", "--output", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let null = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(null.file_type().is_char_device(), "/dev/null is still a device");

    let dir = temp_dir("links");
    let real = dir.join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = fettle()
        .args(["validate", "samples/cin/census-2024-25.xml", "--format", "json", "--output"])
        .arg(&link)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert!(std::fs::read_to_string(&real).unwrap().contains("\"version\""), "the file it points at is replaced");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A blank template opens on its main data sheet, with the code lists behind the drop-downs hidden,
/// and its Notes sheet has the title above the header row (read from the workbook's own XML and
/// cells, as a spreadsheet program reads them).
#[test]
fn templates_open_on_the_data_sheet_with_lists_hidden() {
    use std::io::Read;
    for (ret, main) in [("fgc", "Referrals"), ("disability", "Children")] {
        let dir = temp_dir(&format!("template-{ret}"));
        let path = dir.join("t.xlsx");
        assert!(fettle().args(["template", ret, "--out"]).arg(&path).status().unwrap().success());
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut book = String::new();
        zip.by_name("xl/workbook.xml").unwrap().read_to_string(&mut book).unwrap();
        let names: Vec<&str> = book.split("<sheet name=\"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
        let active: usize = book.split("activeTab=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("0").parse().unwrap();
        assert_eq!(names.get(active), Some(&main), "{ret}: opens on {:?} of {names:?}", names.get(active));
        let lists = book.split("<sheet ").find(|s| s.starts_with("name=\"Lists\"")).unwrap();
        assert!(lists.contains("state=\"hidden\""), "{ret}: {lists}");
        let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
        let notes = wb.worksheet_range("Notes").unwrap();
        let at = |r: u32, c: u32| notes.get_value((r, c)).map(ToString::to_string).unwrap_or_default();
        assert!(at(0, 0).contains(ret), "{ret}: title first: {}", at(0, 0));
        assert_eq!([at(2, 0), at(2, 1)], ["Sheet", "Column"], "{ret}: header under the title");
        assert!(!at(3, 0).is_empty(), "{ret}: columns explained under the header");
    }
}

/// The Excel report read back as a spreadsheet program reads it (calamine): its Findings sheet lists
/// errors, then queries, then info (issue 16), on a sample with more info than errors.
#[test]
fn xlsx_findings_sheet_lists_errors_then_queries_then_info() {
    let dir = temp_dir("xlsx-order");
    let out = dir.join("report.xlsx");
    let run =
        fettle().args(["validate", "samples/fgc/fgc-2024-25.xlsx", "--format", "xlsx", "--output"]).arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let mut wb: Xlsx<_> = calamine::open_workbook(&out).unwrap();
    let sheet = wb.worksheet_range("Findings").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(ToString::to_string).collect()).collect();
    let col = rows[0].iter().position(|h| h == "Severity").unwrap();
    let severities: Vec<&str> = rows[1..].iter().map(|r| r[col].as_str()).collect();
    let rank = |s: &str| ["error", "query", "info"].iter().position(|x| *x == s).unwrap();
    for s in ["error", "query", "info"] {
        assert!(severities.contains(&s), "the sample has {s} findings: {severities:?}");
    }
    assert!(rank(severities[0]) == 0 && severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{severities:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The notes fettle writes into an annotated copy, by comment part and cell (`xl/fettle-notes1.xml`,
/// `K2`), read from the package as any spreadsheet program reads them.
fn annotated_notes(path: &Path) -> BTreeMap<(String, String), String> {
    use quick_xml::events::Event;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let names: Vec<String> =
        zip.file_names().filter_map(Result::ok).filter(|n| n.starts_with("xl/fettle-notes")).map(|n| n.into_owned()).collect();
    let mut notes = BTreeMap::new();
    for name in names {
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(&name).unwrap(), &mut xml).unwrap();
        let mut reader = quick_xml::Reader::from_str(&xml);
        let (mut at, mut text, mut inside) = (String::new(), String::new(), false);
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.name().as_ref() == "comment" => {
                    let r = e.attributes().flatten().find(|a| a.key.as_ref() == "ref").unwrap();
                    at = r.value.to_string();
                    text.clear();
                }
                Event::Start(e) if e.name().as_ref() == "t" => inside = true,
                Event::End(e) if e.name().as_ref() == "t" => inside = false,
                Event::Text(t) if inside => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if inside => {
                    let entity = format!("&{};", r.xml10_content());
                    text.push_str(&quick_xml::escape::unescape(&entity).unwrap());
                }
                Event::End(e) if e.name().as_ref() == "comment" => {
                    notes.insert((name.clone(), at.clone()), text.clone());
                }
                Event::Eof => break,
                _ => {}
            }
        }
    }
    notes
}

/// A problem met while reading a cell that the DfE's rule also reports is one finding, and the
/// annotated copy's note on that cell says both: the rule's message, then what was met while
/// reading (`also`). The FGC sample as a workbook whose first referral date is a day that does not
/// exist (`input::invalid-date`, folded into the rule that needs the referral date).
#[test]
fn annotated_notes_say_what_was_folded() {
    let dir = temp_dir("annotate-also");
    let book = dir.join("fgc.xlsx");
    super::repairs::sample_workbook(&book, &|ws, (r, c), head, row, _| {
        if head != "ReferralDate" || row != 1 {
            return false;
        }
        ws.write_string(r, c, "31/02/2025").unwrap();
        true
    });
    let copy = dir.join("annotated.xlsx");
    let out = fettle().arg("validate").arg(&book).arg("--annotate").arg(&copy).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let folded: Vec<&serde_json::Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["also"].as_array().is_some_and(|a| !a.is_empty())).collect();
    assert!(
        folded.iter().any(|f| f["also"][0]["code"] == "input::invalid-date"),
        "the invalid date is folded into a rule's finding: {folded:#?}"
    );
    assert!(
        !report["findings"].as_array().unwrap().iter().any(|f| f["code"] == "input::invalid-date"),
        "and is not a finding of its own"
    );
    let notes = annotated_notes(&copy);
    // The sample's own folds (birth dates that do not exist) and the referral date's.
    let folded: Vec<String> = notes
        .iter()
        .filter(|(_, text)| text.contains("; also "))
        .map(|((part, at), text)| format!("{part} {at}:\n{text}"))
        .collect();
    assert!(
        folded.iter().any(|n| n.contains(" K2:\n") && n.contains("also input::invalid-date: ReferralDate `31/02/2025`")),
        "the referral date's note (Referrals!K2) says what was folded: {notes:#?}"
    );
    in_suite("reports", || insta::assert_snapshot!("annotate-also", folded.join("\n\n")));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Values are typed: a missing value, empty text and the raw text of a cell that did not fit its
/// type read differently in every report (the terminal says `(missing)` only of a missing value;
/// JSON gives each its `type`), and `--redact` and shortening keep each value's type.
#[test]
fn missing_empty_and_unfit_values_are_told_apart() {
    let mut f = finding("T001", Severity::Error, "Dates do not agree", XLSX);
    f.values = vec![
        value("Referrals.ReferralDate", Value::Missing, None),
        value("Referrals.Notes", text(""), None),
        value("Referrals.PersonBirthDate", Value::Unfit("31/02/2031".into()), cell("Referrals", "D5")),
        value("Referrals.LAchildID", text("C1"), None),
        value("Referrals.Codes", Value::List(vec![text("A"); 2_000]), None),
    ];
    let mut run = fixture();
    run.findings = vec![f];
    let human = fettle::report::human::render(&run);
    assert!(
        human.contains(
            "values: Referrals.ReferralDate = (missing), Referrals.Notes = ``, Referrals.PersonBirthDate = `31/02/2031`, Referrals.LAchildID = `C1`"
        ),
        "{human}"
    );
    let types = |run: &Run| -> Vec<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(&fettle::report::json::render(run)).unwrap();
        doc["findings"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().chars().take(20).collect(), v["type"].as_str().unwrap().to_string()))
            .collect()
    };
    let pairs = |xs: &[(&str, &str)]| -> Vec<(String, String)> { xs.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect() };
    assert_eq!(
        types(&run),
        pairs(&[("", "missing"), ("", "text"), ("31/02/2031", "unfit"), ("C1", "text"), ("A, A, A, A, A, A, A,", "list")])
    );
    // Shortened: the list keeps its type, and its first items, and says how long it was.
    fettle::report::shorten::apply(&mut run);
    let list = run.findings[0].values[4].value.text();
    assert!(list.starts_with("A, A, ") && list.ends_with(", … (5,998 characters, shortened)"), "{list}");
    assert!(list.chars().count() < 1_100, "{list}");
    assert_eq!(run.findings[0].values[4].value.type_name(), "list");
    // Redacted: the date of birth that did not fit is redacted, the child id a pseudonym, the
    // missing value still missing.
    fettle::report::redact::apply(&mut run, "");
    let after = types(&run);
    assert_eq!(after[0], ("".into(), "missing".into()));
    assert_eq!(after[2], ("(redacted)".into(), "redacted".into()));
    assert_eq!(after[3], (fettle::report::redact::pseudonym("C1", ""), "text".into()));
}

/// The page titles a group of findings "values that do not fit their column's type" by the JSON's
/// typed fields: an input check's finding (`kind`) on a value of `type` `unfit`. Over files with
/// such values that is exactly the findings whose typed code says so ([`Code::is_misfit`]), and every
/// finding's `kind` is its code's.
#[test]
fn a_value_that_does_not_fit_is_told_by_kind_and_type() {
    let mut misfits = 0;
    for case in [
        "tests/fixtures/bad-input/csv/numbers-as-text",
        "tests/fixtures/bad-input/csv/formulas-as-text",
        "tests/fixtures/bad-input/csv/impossible-dates",
        "tests/fixtures/bad-input/csv/dates-as-text",
        "samples/fgc/csv",
        "samples/cin",
    ] {
        let out = fettle().current_dir(root()).args(["validate", case, "--format", "json"]).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{case}: {}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for f in doc["findings"].as_array().unwrap() {
            let code = Code::parse(f["code"].as_str().unwrap());
            assert_eq!(f["kind"], code.kind(), "{case}: {f}");
            for a in f["also"].as_array().into_iter().flatten() {
                assert_eq!(a["kind"], Code::parse(a["code"].as_str().unwrap()).kind(), "{case}: {a}");
            }
            let unfit = f["values"].as_array().unwrap().iter().any(|v| v["type"] == "unfit");
            assert_eq!(f["kind"] == "input" && unfit, code.is_misfit(), "{case}: {f}");
            misfits += usize::from(code.is_misfit());
        }
    }
    assert!(misfits >= 3, "the cases have values that do not fit: {misfits}");
}
