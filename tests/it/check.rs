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
    for e in sources() {
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
    assert!(missing.is_empty(), "codes without an explanation in crates/fettle-core/src/codes.rs: {missing:?}");
}

/// The other way round: the explanations are a catalogue of the codes fettle emits. Each explained
/// code is written somewhere in the source outside the catalogue itself (a code renamed or dropped
/// would leave an explanation of a diagnostic that no one can meet), and none is explained twice.
#[test]
fn every_explained_code_is_one_fettle_emits() {
    let mut source = String::new();
    for e in sources() {
        if e.path().extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            // The catalogue's own entries do not count as emitting their codes.
            let text = match (text.find("pub const DIAGNOSTICS"), e.path().ends_with("fettle-core/src/codes.rs")) {
                (Some(start), true) => {
                    let end = start + text[start..].find("\n];").expect("the catalogue ends");
                    format!("{}{}", &text[..start], &text[end..])
                }
                _ => text,
            };
            source.push_str(&text);
        }
    }
    let codes: Vec<&str> = fettle::tools::explain::DIAGNOSTICS.iter().map(|(c, _)| *c).collect();
    assert!(codes.len() > 50, "the catalogue was read: {codes:?}");
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<&&str> = codes.iter().filter(|c| !seen.insert(**c)).collect();
    assert!(twice.is_empty(), "explained twice: {twice:?}");
    let stale: Vec<&&str> = codes.iter().filter(|c| !source.contains(&format!("\"{c}\""))).collect();
    assert!(stale.is_empty(), "explained in crates/fettle-core/src/codes.rs but emitted nowhere in src/ or crates/: {stale:?}");
}

/// Every file under `src/` and `crates/` (the fettle package and the crates below it).
fn sources() -> impl Iterator<Item = walkdir::DirEntry> {
    ["src", "crates"].into_iter().flat_map(|d| walkdir::WalkDir::new(super::root().join(d)).into_iter().flatten())
}

#[test]
fn explain_shows_rules_and_diagnostics() {
    in_suite("check", || {
        assert_cmd_snapshot!("explain_rule", fettle().args(["explain", "4016"]));
        assert_cmd_snapshot!("explain_diagnostic", fettle().args(["explain", "check::unknown-field"]));
        assert_cmd_snapshot!("explain_unknown", fettle().args(["explain", "8670"]));
    });
}
