//! Child data never leaves the machine and input files are never changed.

use super::{fettle, root};

/// Crates that open network connections (HTTP clients, TLS, async network runtimes).
const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "surf",
    "attohttpc",
    "h2",
    "h3",
    "quinn",
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
    "tokio",
    "async-std",
    "mio",
    "socket2",
    "tungstenite",
    "websocket",
    "lettre",
    "ldap3",
];

#[test]
fn no_networking_crate_in_the_dependency_tree() {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let names: Vec<&str> = lock.lines().filter_map(|l| l.strip_prefix("name = \"")).map(|l| l.trim_end_matches('"')).collect();
    assert!(names.contains(&"calamine"), "Cargo.lock was read");
    let found: Vec<&&str> = NETWORK_CRATES.iter().filter(|n| names.contains(n)).collect();
    assert!(found.is_empty(), "networking crates in Cargo.lock: {found:?}");
}

#[test]
fn inputs_are_never_changed_or_overwritten() {
    let dir = std::env::temp_dir().join(format!("fettle-privacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("return.xlsx");
    std::fs::copy(root().join("samples/fgc/fgc-2024-25.xlsx"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    // An output that would overwrite the input is refused.
    for args in [
        vec!["validate", input.to_str().unwrap(), "--format", "xlsx", "--output", input.to_str().unwrap()],
        vec!["validate", input.to_str().unwrap(), "--annotate", input.to_str().unwrap()],
        vec!["export", input.to_str().unwrap(), "--out", input.to_str().unwrap()],
    ] {
        let out = fettle().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("never overwrites an input file"));
    }
    // A normal run with every report leaves the input as it was, and no temporary files behind.
    let reports = dir.join("reports");
    let out = fettle()
        .args(["validate", input.to_str().unwrap(), "--out", reports.to_str().unwrap()])
        .args(["--format", "json", "--format", "xlsx", "--format", "html", "--format", "sarif"])
        .arg("--annotate")
        .arg(dir.join("marked.xlsx"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("fettle-tmp"))
        .collect();
    assert!(leftovers.is_empty());
    assert_eq!(std::fs::read_dir(&reports).unwrap().count(), 4);
    let _ = std::fs::remove_dir_all(dir);
}
