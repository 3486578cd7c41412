//! Findings and diagnostics to output formats, one file per format. Only this module knows them.

pub mod export;
pub mod human;
pub mod json;
pub mod template;

use crate::eval::Finding;
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;

/// Counts for a summary.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Files validated.
    pub files: usize,
    /// Findings that are errors.
    pub errors: usize,
    /// Findings that are queries.
    pub queries: usize,
    /// Info findings.
    pub info: usize,
    /// Findings per rule code.
    pub by_rule: BTreeMap<String, usize>,
}

impl Summary {
    /// Counts findings.
    pub fn of(findings: &[Finding], files: usize) -> Summary {
        let mut s = Summary { files, ..Summary::default() };
        for f in findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Query => s.queries += 1,
                Severity::Info => s.info += 1,
            }
            *s.by_rule.entry(f.code.clone()).or_insert(0) += 1;
        }
        s
    }
}

/// Writes a file through a temporary file renamed into place, so an interrupted run leaves no
/// half-written output.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = dir.join(format!(".{name}.fettle-tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
