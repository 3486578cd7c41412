//! A workbook opened and saved by LibreOffice still validates, with the same findings: the FGC and
//! disability samples and the blank FGC template, round-tripped through `soffice --convert-to xlsx`.
//! CI installs LibreOffice (`.ci/run`). Without `soffice` on the PATH the test fails, unless it is
//! skipped on purpose with a reason: `FETTLE_SKIP_LIBREOFFICE="no LibreOffice on this laptop"`.

use super::{fettle, root};
use std::process::Command;

fn by_rule(path: &std::path::Path) -> String {
    let out = fettle().args(["validate", "--format", "json"]).arg(path).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["summary"]["by_rule"].to_string()
}

#[test]
fn workbooks_saved_by_libreoffice_still_validate() {
    if let Some(reason) = std::env::var("FETTLE_SKIP_LIBREOFFICE").ok().filter(|r| !r.trim().is_empty()) {
        eprintln!("LibreOffice round trip skipped on purpose: {reason}");
        return;
    }
    let Ok(status) = Command::new("soffice").arg("--version").output() else {
        panic!(
            "soffice (LibreOffice) is not on the PATH: install it (CI does, in .ci/run), or skip this test on purpose with \
             FETTLE_SKIP_LIBREOFFICE=\"the reason\""
        );
    };
    assert!(status.status.success());
    let dir = std::env::temp_dir().join(format!("fettle-lo-{}", std::process::id()));
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let fgc = dir.join("fgc.xlsx");
    let dis = dir.join("dis.xlsx");
    let tmpl = dir.join("template.xlsx");
    std::fs::copy(root().join("samples/fgc/fgc-2024-25.xlsx"), &fgc).unwrap();
    std::fs::copy(root().join("samples/disability/disability-2024-25.xlsx"), &dis).unwrap();
    assert!(fettle().args(["template", "fgc", "--out"]).arg(&tmpl).status().unwrap().success());
    let profile = format!("-env:UserInstallation=file://{}", dir.join("profile").display());
    let conv = Command::new("soffice")
        .args([profile.as_str(), "--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&out)
        .args([&fgc, &dis, &tmpl])
        .output()
        .unwrap();
    assert!(conv.status.success(), "{}", String::from_utf8_lossy(&conv.stderr));
    assert_eq!(by_rule(&out.join("fgc.xlsx")), by_rule(&fgc));
    assert_eq!(by_rule(&out.join("dis.xlsx")), by_rule(&dis));
    // The blank template is read as an FGC return with no data: the period is missing, and the
    // About and Summary sheets have headers but no row.
    let blank = by_rule(&out.join("template.xlsx"));
    assert!(blank.contains("FGC022") && blank.contains(r#""input::missing-table":2"#), "{blank}");
    let _ = std::fs::remove_dir_all(dir);
}
