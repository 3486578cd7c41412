//! What a council sees when its census file breaks the DfE's schema or is read with a repair
//! (issue 13): one CLI run per case of `tests/fixtures/conform/` (`xml/` written by `make.py` from
//! `base.xml`, one clean child with one change; `csv/` one folder of CSV files per case), each
//! snapshotted with its exit code in `snapshots/conform/`.

use super::{fettle, in_suite, rel, root};
use insta_cmd::assert_cmd_snapshot;
use std::path::PathBuf;

fn cases(folder: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(root().join("tests/fixtures/conform").join(folder)).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn run_all(folder: &str) {
    let list = cases(folder);
    assert!(!list.is_empty(), "no cases in {folder}");
    for p in list {
        let name = format!("{folder}__{}", p.file_stem().unwrap().to_string_lossy());
        in_suite("conform", || {
            assert_cmd_snapshot!(name, fettle().arg("validate").arg(rel(&p)));
        });
    }
}

/// Every XML case: unknown, repeated and misspelt elements, dates in other forms, padded codes, an
/// invalid boolean, two children sharing a UPN.
#[test]
fn xml_cases() {
    run_all("xml");
}

/// The same census as XML with a schema finding is one finding per cell: the DfE rule keeps its code
/// and says what the schema check met (an invalid boolean and 8568).
#[test]
fn an_input_finding_folds_into_the_dfe_rule_on_the_same_cell() {
    let p = root().join("tests/fixtures/conform/xml/invalid-referral-nfa.xml");
    let o = fettle().args(["validate", "--format", "json"]).arg(rel(&p)).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"8568"), "{codes:?}");
    assert!(!codes.iter().any(|c| c.starts_with("schema::")), "{codes:?}");
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["code"] == "8568").unwrap();
    assert_eq!(f["also"][0]["code"], "schema::invalid-code");
    assert_eq!(f["severity"], "error");
}

/// A code the schema refuses as written (spaces around it: Sex ` F `, Ethnicity ` WBRI `, ReferralNFA
/// ` false `) is one finding: the DfE rule's (4180, 4220, 8568), carrying the schema's finding in
/// `also`, also when the rule shows the cell as a related row's value (4220 on the child).
#[test]
fn a_refused_code_folds_into_the_dfe_rule_on_the_same_cell() {
    for (case, code, field) in
        [("padded-sex", "4180", "Sex"), ("padded-ethnicity", "4220", "Ethnicity"), ("padded-referral-nfa", "8568", "ReferralNFA")]
    {
        let found = findings(&root().join(format!("tests/fixtures/conform/xml/{case}.xml")));
        let codes: Vec<&str> = found.iter().map(|f| f["code"].as_str().unwrap()).collect();
        assert!(!codes.iter().any(|c| c.starts_with("schema::")), "{case}: {codes:?}");
        let f = found.iter().find(|f| f["code"] == code).unwrap_or_else(|| panic!("{case}: no {code} in {codes:?}"));
        assert_eq!(f["also"][0]["code"], "schema::invalid-code", "{case}");
        let said = f["also"][0]["message"].as_str().unwrap();
        assert!(said.contains(&format!("`<{field}>`")) && said.contains("spaces around a code count"), "{case}: {said}");
    }
}

/// A finding is its own row's: of two children sharing a UPN, the one without LAchildID shows no
/// child id, says which record it is, and the other child is named once.
#[test]
fn a_finding_names_its_own_rows_child() {
    let p = root().join("tests/fixtures/conform/xml/shared-upn-one-without-id.xml");
    let o = fettle().args(["validate", "--format", "json"]).arg(rel(&p)).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let dup: Vec<&serde_json::Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "1520").collect();
    assert_eq!(dup.len(), 2);
    assert_eq!(dup[0]["child"], "C0000001");
    assert!(dup[1]["child"].is_null(), "{}", dup[1]);
    assert_eq!(dup[1]["record"], "the 2nd `<Child>` element, line 52");
}

/// Every CSV case: a misspelt header, a column the template does not have, a missing column, a
/// child without LAchildID in every file, rows of a child that is not in the file.
#[test]
fn csv_cases() {
    run_all("csv");
}

/// The JSON findings of one validate run.
fn findings(p: &std::path::Path) -> Vec<serde_json::Value> {
    let o = fettle().args(["validate", "--format", "json"]).arg(rel(p)).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["findings"].as_array().unwrap().clone()
}

/// A child without LAchildID in a CSV census is one problem: its 8500 carries what follows from it
/// (no characteristics, no episode: nothing could be linked to it), and its rows in the other
/// files are one finding listing them, not a finding per row.
#[test]
fn an_unlinkable_row_is_one_finding_with_its_consequences() {
    let f = findings(&root().join("tests/fixtures/conform/csv/no-la-child-id"));
    let codes: Vec<&str> = f.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["2887Q", "2888Q", "8500", "input::unknown-parent"], "{f:?}");
    let also: Vec<&str> = f[2]["also"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(also, ["4220", "8590"]);
    assert_eq!(f[3]["related"].as_array().unwrap().len(), 4);
}

/// The shipped census as CSV: what the XML form reports, plus one finding for the rows that cannot
/// be linked; the consequences of the two children without LAchildID are kept in `also`.
#[test]
fn the_shipped_csv_census_reports_each_problem_once() {
    let f = findings(&root().join("samples/cin/csv"));
    let codes: Vec<&str> = f.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes.len(), 8, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == "input::unknown-parent").count(), 1);
    let also: Vec<&str> =
        f.iter().flat_map(|f| f["also"].as_array().into_iter().flatten()).map(|a| a["code"].as_str().unwrap()).collect();
    for c in ["4220", "8590", "2885", "2991Q"] {
        assert!(also.contains(&c), "{c} not kept: {also:?}");
    }
}

/// A missing column is one finding counting its rows and naming the rules that needed it; those
/// rules do not fire on every row.
#[test]
fn a_missing_column_is_one_finding_and_its_rules_do_not_run() {
    let f = findings(&root().join("tests/fixtures/conform/csv/missing-column"));
    let missing: Vec<&serde_json::Value> = f.iter().filter(|f| f["code"] == "input::missing-column").collect();
    assert_eq!(missing.len(), 1);
    let m = missing[0]["message"].as_str().unwrap();
    assert!(m.contains("`Sex`") && m.contains("ChildIdentifiers.csv") && m.contains("2 rows") && m.contains("4180"), "{m}");
    assert!(!f.iter().any(|f| f["code"] == "4180"));
}

/// The schema and its findings of each case, for the same file as a 2025-26 return (which the DfE
/// checks with the 2024-25 schema): `(code, message, line)` of every schema finding, folded or not.
fn schema_findings(p: &std::path::Path, year: &str) -> std::collections::BTreeSet<(String, String, u64)> {
    let o = fettle().args(["validate", "--format", "json", "--year", year]).arg(p).output().unwrap();
    assert!(o.status.code().is_some_and(|c| c < 2), "{}: {}", p.display(), String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out = std::collections::BTreeSet::new();
    for f in v["findings"].as_array().unwrap() {
        for s in std::iter::once(f).chain(f["also"].as_array().into_iter().flatten()) {
            let code = s["code"].as_str().unwrap_or("");
            if code.starts_with("schema::") {
                let line = s["location"]["line"].as_u64().or(f["location"]["line"].as_u64()).unwrap_or(0);
                out.insert((code.to_string(), s["message"].as_str().unwrap_or("").to_string(), line));
            }
        }
    }
    out
}

/// A 2025-26 census file is checked against the same schema as a 2024-25 one (the DfE's
/// CIN_schema_2024-25.xsd serves both years): each XML case, its header moved to 2026, has the same
/// schema findings at the same lines.
#[test]
fn a_2025_26_file_is_schema_checked_as_2024_25() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conform-2025-26-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut refused = 0;
    for p in cases("xml") {
        let text = std::fs::read_to_string(&p).unwrap();
        let moved = text
            .replace("<Year>2025</Year>", "<Year>2026</Year>")
            .replace("<ReferenceDate>2025-03-31</ReferenceDate>", "<ReferenceDate>2026-03-31</ReferenceDate>");
        assert_ne!(moved, text, "{}: the header was not moved", p.display());
        let q = dir.join(p.file_name().unwrap());
        std::fs::write(&q, moved).unwrap();
        let (old, new) = (schema_findings(&p, "2024-25"), schema_findings(&q, "2025-26"));
        assert_eq!(old, new, "{}", p.display());
        refused += usize::from(!new.is_empty());
    }
    assert!(refused >= 10, "only {refused} cases refused by the schema");
}
