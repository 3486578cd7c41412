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
