//! Differential test of fettle's XML schema check against libxml2's (`xmllint --schema`): several
//! hundred mutants of census files (elements renamed, removed, repeated, reordered; values padded
//! and retyped), each refused by fettle (a `schema::` finding) exactly when xmllint refuses it, with
//! xmllint's first complaint on a line fettle names. The mutants come from [`mutants`], kept here so
//! a failure can be reproduced. Needs `xmllint` (Debian `libxml2-utils`; `.ci/run` installs it).

use super::{fettle, root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A copy of the shared specification's schema, so the test needs nothing outside the repository.
const XSD: &str = "tests/fixtures/xsd/CIN_schema_2024-25.xsd";

/// A leaf line `<Name>value</Name>` of a file written one element per line: (indent, name, value).
fn leaf(line: &str) -> Option<(&str, &str, &str)> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let t = line.trim_start();
    let rest = t.strip_prefix('<')?;
    let (name, rest) = rest.split_once('>')?;
    if name.contains(['/', ' ']) {
        return None;
    }
    let value = rest.strip_suffix(&format!("</{name}>"))?;
    (!value.contains('<')).then_some((indent, name, value))
}

/// A value of another type for an element: a date in other forms, a code that is not one, a word
/// for a number or yes/no.
fn retyped(name: &str, value: &str, k: usize) -> Option<String> {
    let is_date = value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    if is_date {
        let (y, m, d) = (&value[..4], &value[5..7], &value[8..]);
        return Some(match k % 6 {
            0 => format!("{d}/{m}/{y}"),
            1 => format!("{y}/{m}/{d}"),
            2 => format!("{d}.{m}.{y}"),
            3 => format!("{value}T00:00:00"),
            4 => format!("{value}Z"),
            _ => format!("{y}-{m}-32"),
        });
    }
    Some(match name {
        "ReferralNFA" | "ICPCnotRequired" => ["yes", "True", "TRUE", "2"][k % 4].to_string(),
        "NumberOfPreviousCPP" | "Year" => ["x", "-1", "+2", "1.5"][k % 4].to_string(),
        "LAchildID" | "SoftwareCode" | "Release" => String::new(),
        _ => format!("{}X", value.get(..value.len().saturating_sub(1)).unwrap_or("")),
    })
}

/// The mutants of a file: (label, text). Deterministic.
pub fn mutants(text: &str, every: usize) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = vec![];
    let with = |i: usize, new: Vec<String>| -> String {
        let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        v.splice(i..=i, new);
        v.join("\n") + "\n"
    };
    let mut n = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let Some((indent, name, value)) = leaf(line) else { continue };
        n += 1;
        if !n.is_multiple_of(every) {
            continue;
        }
        let k = n / every;
        let el = |nm: &str, v: &str| format!("{indent}<{nm}>{v}</{nm}>");
        match k % 7 {
            0 => {
                let renamed = if k.is_multiple_of(2) { name.to_lowercase() } else { name[..name.len() - 1].to_string() };
                out.push((format!("rename {name} line {}", i + 1), with(i, vec![el(&renamed, value)])));
            }
            1 => out.push((format!("remove {name} line {}", i + 1), with(i, vec![]))),
            2 => out.push((format!("repeat {name} line {}", i + 1), with(i, vec![line.to_string(), line.to_string()]))),
            3 => {
                if let Some(next) = lines.get(i + 1).filter(|l| leaf(l).is_some()) {
                    let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
                    v.swap(i, i + 1);
                    out.push((format!("reorder {name} line {}", i + 1), v.join("\n") + "\n"));
                    let _ = next;
                }
            }
            4 => out.push((format!("pad {name} line {}", i + 1), with(i, vec![el(name, &format!(" {value} "))]))),
            _ => {
                if let Some(v) = retyped(name, value, k) {
                    out.push((format!("retype {name} line {}", i + 1), with(i, vec![el(name, &v)])));
                }
            }
        }
    }
    out
}

fn xmllint() -> bool {
    std::process::Command::new("xmllint").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// xmllint's verdict on each file: its complaints' lines and messages, empty when it validates.
fn xmllint_verdicts(files: &[std::path::PathBuf]) -> BTreeMap<String, Vec<(u32, String)>> {
    let mut out: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for chunk in files.chunks(200) {
        let o = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(root().join(XSD))
            .args(chunk)
            .output()
            .unwrap();
        for f in chunk {
            out.entry(f.display().to_string()).or_default();
        }
        for line in String::from_utf8_lossy(&o.stderr).lines() {
            // `path:LINE: element X: Schemas validity error : ...`
            let Some((file, rest)) = line.split_once(".xml:") else { continue };
            let Some((n, msg)) = rest.split_once(':') else { continue };
            let Ok(n) = n.parse::<u32>() else { continue };
            out.entry(format!("{file}.xml")).or_default().push((n, msg.to_string()));
        }
    }
    out
}

/// fettle's schema findings on each file: the lines they name.
fn fettle_verdicts(dir: &Path) -> BTreeMap<String, BTreeSet<u32>> {
    let o = fettle().args(["validate", "--format", "json", "--max-per-rule", "100000"]).arg(dir).output().unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let mut out: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let file = f["file"].as_str().unwrap().to_string();
        let entry = out.entry(file).or_default();
        if f["code"].as_str().unwrap().starts_with("schema::")
            && let Some(l) = f["location"]["line"].as_u64()
        {
            entry.insert(l as u32);
        }
        // A schema finding folded into the DfE rule's finding on the same cell keeps its own line.
        for a in f["also"].as_array().into_iter().flatten() {
            if a["code"].as_str().unwrap_or("").starts_with("schema::")
                && let Some(l) = a["location"]["line"].as_u64()
            {
                entry.insert(l as u32);
            }
        }
    }
    out
}

#[test]
fn schema_findings_agree_with_xmllint() {
    if !xmllint() {
        assert!(std::env::var_os("CI").is_none(), "xmllint is missing: apt-get install -y libxml2-utils");
        eprintln!("xmllint is not installed: the differential schema test is skipped (apt-get install -y libxml2-utils)");
        return;
    }
    let dir = tempfile_dir("schema-diff");
    let generated = fettle::generate::cin_xml(25, 11, 0.0, 2025);
    let sample = std::fs::read_to_string(root().join("samples/cin/census-2024-25.xml")).unwrap();
    let mut files = vec![];
    let mut labels = BTreeMap::new();
    for (base, text, every) in [("generated", generated.as_str(), 2), ("sample", sample.as_str(), 5)] {
        let p = dir.join(format!("{base}-original.xml"));
        std::fs::write(&p, text).unwrap();
        files.push(p.clone());
        labels.insert(p.display().to_string(), format!("{base}: original"));
        for (i, (label, m)) in mutants(text, every).into_iter().enumerate() {
            let p = dir.join(format!("{base}-{i:04}.xml"));
            std::fs::write(&p, m).unwrap();
            labels.insert(p.display().to_string(), format!("{base}: {label}"));
            files.push(p);
        }
    }
    assert!(files.len() >= 300, "only {} mutants", files.len());
    let lint = xmllint_verdicts(&files);
    let ours = fettle_verdicts(&dir);
    let (mut refused, mut accepted, mut deviations) = (0, 0, vec![]);
    let mut disagreements = vec![];
    for f in &files {
        let key = f.display().to_string();
        let label = &labels[&key];
        let theirs = &lint[&key];
        let mine = ours.get(&key).cloned().unwrap_or_default();
        // libxml2 does not collapse whitespace around xs:date values, which the XSD standard
        // says to do; fettle follows the standard (see src/input/conform.rs).
        let padded_date =
            |m: &str| m.contains("atomic type 'xs:date'") && (m.contains("': ' ") || m.contains(" ' is not a valid value"));
        let theirs: Vec<(u32, String)> = theirs.iter().filter(|(_, m)| !padded_date(m)).cloned().collect();
        if theirs.len() < lint[&key].len() {
            deviations.push(label.clone());
        }
        match (theirs.first(), mine.is_empty()) {
            (None, true) => accepted += 1,
            (Some((line, _)), false) if mine.contains(line) => refused += 1,
            _ => disagreements.push(format!("{label}: xmllint {theirs:?}, fettle lines {mine:?}")),
        }
    }
    eprintln!(
        "{} files: {refused} refused by both on the same line, {accepted} accepted by both, {} padded dates \
         (libxml2 refuses, the XSD standard and fettle accept)",
        files.len(),
        deviations.len()
    );
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n"));
    assert!(refused > 100 && accepted > 10, "the mutants should include both kinds: {refused} refused, {accepted} accepted");
    assert!(deviations.iter().all(|l| l.contains(": pad ")), "{deviations:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fettle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
