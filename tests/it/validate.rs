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
