//! `fettle check` on broken rule files: every diagnostic kind, rendered as users see it.

use super::{fettle, in_suite, rel};
use insta_cmd::assert_cmd_snapshot;

#[test]
fn rule_file_diagnostics() {
    in_suite("check", || {
        insta::glob!("../fixtures/check/err", "*.fettle", |path| {
            assert_cmd_snapshot!(fettle().arg("check").arg(rel(path)));
        });
    });
}

#[test]
fn shipped_rules_check_cleanly() {
    let out = fettle().arg("check").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("× "), "{text}");
}

#[test]
fn every_diagnostic_code_has_an_explanation() {
    let mut missing = vec![];
    for e in walkdir::WalkDir::new(super::root().join("src")).into_iter().flatten() {
        if e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        for prefix in ["\"check::", "\"syntax::", "\"input::", "\"explain::", "\"schema::"] {
            for (i, _) in text.match_indices(prefix) {
                let rest = &text[i + 1..];
                let code: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-').collect();
                if code.ends_with("::") || code == "input::invalid" {
                    continue;
                }
                if !fettle::tools::explain::DIAGNOSTICS.iter().any(|(c, _)| *c == code) && !missing.contains(&code) {
                    missing.push(code);
                }
            }
        }
    }
    assert!(missing.is_empty(), "codes without an explanation in src/tools/explain.rs: {missing:?}");
}

#[test]
fn explain_shows_rules_and_diagnostics() {
    in_suite("check", || {
        assert_cmd_snapshot!("explain_rule", fettle().args(["explain", "4016"]));
        assert_cmd_snapshot!("explain_diagnostic", fettle().args(["explain", "check::unknown-field"]));
        assert_cmd_snapshot!("explain_unknown", fettle().args(["explain", "8670"]));
    });
}
