//! `fettle validate` end to end: the shared CIN samples, in the terminal and JSON reports.

use super::{fettle, in_suite};
use insta_cmd::assert_cmd_snapshot;

#[test]
fn cin_samples_terminal() {
    in_suite("validate", || {
        for name in ["CIN_Census_2021", "CIN_Census_2024", "CIN_Census_2026"] {
            let path = format!("../shared/samples/cin/{name}.xml");
            if !super::root().join(&path).exists() {
                continue;
            }
            insta::with_settings!({ snapshot_suffix => name }, {
                assert_cmd_snapshot!("cin_human", fettle().args(["validate", &path]));
            });
        }
    });
}

#[test]
fn cin_sample_json() {
    in_suite("validate", || {
        let path = "../shared/samples/cin/CIN_Census_2024.xml";
        if !super::root().join(path).exists() {
            return;
        }
        assert_cmd_snapshot!("cin_json", fettle().args(["validate", "--format", "json", path]));
    });
}

#[test]
fn exit_codes() {
    let missing = fettle().args(["validate", "no/such/file.xml"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let path = "../shared/samples/cin/CIN_Census_2024.xml";
    if super::root().join(path).exists() {
        let never = fettle().args(["validate", "--fail-on", "never", path]).output().unwrap();
        assert_eq!(never.status.code(), Some(0));
        let err = fettle().args(["validate", path]).output().unwrap();
        assert_eq!(err.status.code(), Some(1));
    }
}

#[test]
fn template_returns_terminal_and_json() {
    in_suite("validate", || {
        assert_cmd_snapshot!("fgc_xlsx_human", fettle().args(["validate", "samples/fgc/fgc-2024-25.xlsx"]));
        assert_cmd_snapshot!("fgc_csv_json", fettle().args(["validate", "--format", "json", "samples/fgc/csv"]));
        assert_cmd_snapshot!(
            "disability_with_census_human",
            fettle().args(["validate", "samples/disability/disability-2024-25.xlsx", "samples/cin/census-2024-25.xml"])
        );
        assert_cmd_snapshot!("cin_csv_human", fettle().args(["validate", "samples/cin/csv"]));
    });
}

#[test]
fn the_same_census_as_xml_xlsx_and_csv() {
    // The spreadsheet forms are exports of the XML: the same rules fire, apart from the rows of
    // children without an LAchildID, which a spreadsheet cannot link (input::unknown-parent).
    let run = |p: &str| {
        let out = fettle().args(["validate", "--format", "json", p]).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let by_rule = |v: &serde_json::Value| v["summary"]["by_rule"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let count = |v: &serde_json::Value| v["findings"].as_array().unwrap().len();
    let (xlsx_run, csv_run, xml_run) =
        (run("samples/cin/census-2024-25.xlsx"), run("samples/cin/csv"), run("samples/cin/census-2024-25.xml"));
    let (xlsx, csv, xml) = (by_rule(&xlsx_run), by_rule(&csv_run), by_rule(&xml_run));
    assert_eq!(xlsx, csv);
    // Issue 16 saw 7 findings as XML and 24 as xlsx or CSV: the knock-on findings of the rows that
    // cannot be linked are now folded into one `input::unknown-parent`, so the spreadsheet forms have
    // exactly one finding more than the XML.
    assert_eq!((count(&xml_run), count(&xlsx_run), count(&csv_run)), (7, 8, 8));
    // The XML form is also checked against the DfE's XML schema (`schema::` findings).
    for code in xml.iter().filter(|c| !c.starts_with("schema::")) {
        assert!(xlsx.contains(code), "{code} fires on the XML but not on the xlsx");
    }
}

#[test]
fn year_is_picked_from_the_file() {
    let out = fettle().args(["validate", "--format", "json", "../shared/samples/cin/CIN_Census_2021.xml"]).output().unwrap();
    // ReferenceDate 2023-03-31 is in 2022-23: no rules for it, the earliest year is used, with a note.
    let err = String::from_utf8_lossy(&out.stderr);
    if super::root().join("../shared/samples/cin/CIN_Census_2021.xml").exists() {
        assert!(err.contains("2022-23") && err.contains("2023-24"), "{err}");
    }
}

#[test]
fn redact_replaces_child_ids_and_birth_dates() {
    let out = fettle().args(["validate", "--redact", "--format", "json", "samples/fgc/fgc-2024-25.xlsx"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("child-"), "{text}");
    assert!(!text.contains("CH01015"), "a child id survived redaction");
    assert!(!text.contains("31/02/2015"), "a date of birth survived redaction");
    // Stable: the same run gives the same pseudonyms.
    let again = fettle().args(["validate", "--redact", "--format", "json", "samples/fgc/fgc-2024-25.xlsx"]).output().unwrap();
    assert_eq!(out.stdout, again.stdout);
}

/// Redaction replaces values where messages show them, never look-alike text: a child `C1` does not
/// turn `C12` (another child's id in a message) into a pseudonym followed by `2`.
#[test]
fn redact_replaces_values_not_look_alike_text() {
    let dir = std::env::temp_dir().join(format!("fettle-redact-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(super::root().join("samples/cin/csv")).unwrap() {
        let e = e.unwrap();
        let mut text = std::fs::read_to_string(e.path()).unwrap().replace("C0000001,", "C1,");
        if e.file_name() == "ChildIdentifiers.csv" {
            // C1 gets a finding of its own (4180), so that it is an id the run knows.
            text = text.replacen("C1,,,UN1,2023-12-08,,F,", "C1,,,UN1,2023-12-08,,X,", 1);
        }
        if e.file_name() == "CINdetails.csv" {
            // An episode of a child the return does not have: a message that shows `C12`.
            text = text.replacen("C0000002,1,", "C12,1,", 1);
        }
        std::fs::write(dir.join(e.file_name()), text).unwrap();
    }
    let out = fettle().args(["validate", "--format", "json"]).arg(&dir).output().unwrap();
    let plain = String::from_utf8_lossy(&out.stdout);
    assert!(plain.contains("\"child\": \"C1\"") && plain.contains("`C12`"), "{plain}");
    let out = fettle().args(["validate", "--redact", "--format", "json"]).arg(&dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let (c1, c12) = (fettle::report::redact::pseudonym("C1", ""), fettle::report::redact::pseudonym("C12", ""));
    assert!(text.contains(&c1), "{text}");
    assert!(text.contains(&format!("`{c12}`")), "the other child's id in the message is its own pseudonym: {text}");
    assert!(!text.contains(&format!("{c1}2")), "C12 was redacted as C1 followed by 2: {text}");
    assert!(!text.contains("C12") && !text.contains("\"C1\""), "an id survived redaction: {text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explained_queries_stop_failing_and_are_written_as_notes() {
    in_suite("validate", || {
        let dir = std::env::temp_dir().join(format!("fettle-explain-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let reasons = dir.join("reasons.csv");
        std::fs::write(
            &reasons,
            "code,key,reason\n2887Q,,Small council: only three children have a disability this year\n8670Q,C9999999,No such child\n",
        )
        .unwrap();
        let path = "samples/cin/census-2024-25.xml";
        let out = fettle()
            .args(["validate", "--fail-on", "query", "--format", "collect-notes", "--explain"])
            .arg(&reasons)
            .arg(path)
            .output()
            .unwrap();
        let notes = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(notes.contains("2887Q") && notes.contains("Small council"), "{notes}");
        // The unused explanation is reported.
        let json = fettle().args(["validate", "--format", "json", "--explain"]).arg(&reasons).arg(path).output().unwrap();
        let text = String::from_utf8_lossy(&json.stdout);
        assert!(text.contains("explain::unused") && text.contains("C9999999"), "{text}");
        insta::assert_snapshot!("collect_notes", notes);
        let _ = std::fs::remove_dir_all(dir);
    });
}
