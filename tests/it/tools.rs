//! The rule author's toolkit: `fettle rules` (the catalogue), `fettle diff` and `fettle coverage`.

use super::{fettle, in_suite};
use calamine::{Data, Reader, Xlsx};
use insta_cmd::assert_cmd_snapshot;
use std::path::PathBuf;

/// A fresh folder under the target's temporary folder.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tools-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn catalogue_markdown() {
    in_suite("tools", || {
        assert_cmd_snapshot!(
            "rules_cin_2024_25_md",
            fettle().args(["rules", "--return", "cin", "--year", "2024-25", "--format", "md"])
        );
    });
}

#[test]
fn catalogue_json() {
    in_suite("tools", || {
        assert_cmd_snapshot!("rules_fgc_json", fettle().args(["rules", "--return", "fgc", "--format", "json"]));
    });
}

#[test]
fn catalogue_json_is_an_array_in_declared_order() {
    let out = fettle().args(["rules", "--return", "cin", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    let years: Vec<&str> = rows.iter().map(|r| r["year"].as_str().unwrap()).collect();
    let mut sorted = years.clone();
    sorted.sort();
    assert_eq!(years, sorted, "grouped by year");
    let first = rows.iter().find(|r| r["year"] == "2024-25").unwrap();
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 10);
    assert_eq!(first["code"], "8500");
    assert_eq!(first["check"], "Fails unless present(LAchildID).");
}

#[test]
fn catalogue_xlsx() {
    let dir = temp_dir("xlsx");
    let path = dir.join("catalogue.xlsx");
    let out = fettle()
        .args(["rules", "--return", "cin", "--year", "2024-25", "--format", "xlsx", "--output"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let names = wb.sheet_names();
    assert_eq!(names, ["cin 2024-25"]);
    let range = wb.worksheet_range(&names[0]).unwrap();
    // The 109 DfE rules and fettle's own year-on-year rules (CINY..).
    let rules = fettle::library::Library::shipped().compile("cin", "2024-25").program.unwrap().rules.len();
    assert!(rules > 109);
    assert_eq!(range.height(), 1 + rules, "a header and a row per rule");
    let text: String = range
        .rows()
        .take(5)
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    in_suite("tools", || insta::assert_snapshot!("rules_cin_xlsx_first_rows", text));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn catalogue_xlsx_needs_an_output_file() {
    let out = fettle().args(["rules", "--format", "xlsx"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
}

#[test]
fn diff_between_years() {
    in_suite("tools", || {
        assert_cmd_snapshot!("diff_cin_2023_24_2024_25", fettle().args(["diff", "--return", "cin", "2023-24", "2024-25"]));
        assert_cmd_snapshot!("diff_cin_2024_25_2025_26", fettle().args(["diff", "--return", "cin", "2024-25", "2025-26"]));
    });
}

#[test]
fn diff_json_names_the_changes() {
    let out = fettle().args(["diff", "--return", "cin", "2023-24", "2024-25", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes =
        |k: &str| -> Vec<String> { v[k].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_string()).collect() };
    assert_eq!(codes("added"), ["1570", "1580", "8945Q", "8950Q"]);
    assert!(codes("removed").is_empty());
    let mut changed = codes("changed");
    changed.sort();
    // CINY08Q compares GenderCurrent in 2023-24 and Sex from 2024-25.
    assert_eq!(changed, ["2886Q", "4180", "8750", "8770Q", "CINY08Q"]);
    assert_eq!(v["schema"]["fields_added"], serde_json::json!(["ChildIdentifiers.Sex"]));
    assert_eq!(v["schema"]["fields_removed"], serde_json::json!(["ChildIdentifiers.GenderCurrent"]));
    assert_eq!(v["schema"]["code_lists_added"], serde_json::json!(["Sex"]));
    assert_eq!(v["schema"]["code_lists_removed"], serde_json::json!(["Gender"]));
}

#[test]
fn diff_of_an_unknown_year_is_a_usage_error() {
    let out = fettle().args(["diff", "--return", "cin", "2019-20", "2024-25"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("2019-20"));
}

#[test]
fn coverage_reports() {
    in_suite("tools", || {
        assert_cmd_snapshot!("coverage_cin", fettle().args(["coverage", "--return", "cin"]));
        assert_cmd_snapshot!(
            "coverage_disability_sample",
            fettle().args(["coverage", "--return", "disability", "samples/disability/disability-2024-25.xlsx"])
        );
    });
}

#[test]
fn coverage_json_counts_findings_of_the_sample() {
    let out = fettle()
        .args(["coverage", "--return", "disability", "--format", "json", "samples/disability/disability-2024-25.xlsx"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["triggered"];
    let triggered = t["findings"].as_array().unwrap().len();
    let never = t["never_triggered"].as_array().unwrap().len();
    assert_eq!(triggered + never, v["rules"].as_u64().unwrap() as usize);
}

#[test]
fn layout_does_not_change_the_check_text() {
    use fettle::tools::catalogue::normalise;
    assert_eq!(normalise("present(X)   and\n  # why\n  ( Y == \"a  b\" )"), "present(X) and (Y == \"a  b\")");
    assert_eq!(normalise("f(a ,\n b)"), "f(a, b)");
}

/// Coverage reads submissions as `fettle validate` does: a disability workbook given with the CIN
/// census it `uses` gets the census's tables, so a rule that reads them (DIS090) can fire; without
/// the census it is never triggered.
#[test]
fn coverage_attaches_the_returns_the_rules_use() {
    let run = |paths: &[&str]| {
        let mut args = vec!["coverage", "--return", "disability", "--format", "json"];
        args.extend(paths);
        let out = fettle().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let fired =
        |v: &serde_json::Value, code: &str| v["triggered"]["findings"].as_array().unwrap().iter().any(|r| r["code"] == code);
    let alone = run(&["samples/disability/disability-2024-25.xlsx"]);
    assert!(!fired(&alone, "DIS090"));
    assert!(alone["triggered"]["never_triggered"].as_array().unwrap().iter().any(|c| c == "DIS090 (needs cin)"));
    let with_cin = run(&["samples/disability/disability-2024-25.xlsx", "samples/cin/census-2024-25.xml"]);
    assert!(fired(&with_cin, "DIS090"), "{with_cin}");
    in_suite("tools", || {
        assert_cmd_snapshot!(
            "coverage_disability_with_cin",
            fettle().args([
                "coverage",
                "--return",
                "disability",
                "samples/disability/disability-2024-25.xlsx",
                "samples/cin/census-2024-25.xml"
            ])
        );
    });
}

/// A submission of another year than the coverage's, or of a return the rules do not use, is an
/// error: its findings would not be those of the rules asked for.
#[test]
fn coverage_refuses_other_years_and_returns() {
    in_suite("tools", || {
        assert_cmd_snapshot!(
            "coverage_other_year",
            fettle().args(["coverage", "--return", "cin", "--year", "2024-25", "tests/fixtures/previous/census-2023-24.xml"])
        );
        assert_cmd_snapshot!(
            "coverage_other_return",
            fettle().args(["coverage", "--return", "disability", "samples/fgc/fgc-2024-25.xlsx"])
        );
        assert_cmd_snapshot!(
            "coverage_no_submission_of_the_return",
            fettle().args(["coverage", "--return", "disability", "samples/cin/census-2024-25.xml"])
        );
    });
    let out = fettle()
        .args(["coverage", "--return", "cin", "--year", "2023-24", "tests/fixtures/previous/census-2023-24.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}
