//! Findings and diagnostics to output formats, one file per format. Only this module knows them.

pub mod annotate;
pub mod csv;
pub mod explain;
pub mod export;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod redact;
pub mod sarif;
pub mod template;
pub mod xlsx;

use crate::eval::Finding;
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;

/// What a rule is, for reports: its code, severity, message and where it is written.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleInfo {
    /// Its code.
    pub code: String,
    /// Error, query or info.
    pub severity: Severity,
    /// Its message as written (with `{...}` holes).
    pub message: String,
    /// The return and year whose rules it belongs to.
    pub ret: String,
    /// The collection year.
    pub year: String,
    /// The rule file.
    pub file: String,
    /// The rule's line.
    pub line: usize,
    /// Its check as written.
    pub check: String,
    /// The fields it concerns.
    pub fields: Vec<String>,
    /// How to fix the data.
    pub fix: Option<String>,
}

/// One validation run, as every report format sees it.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Findings in their deterministic order.
    pub findings: Vec<Finding>,
    /// The submissions validated, in order.
    pub files: Vec<String>,
    /// The rules that ran, by code.
    pub rules: BTreeMap<String, RuleInfo>,
}

impl Run {
    /// Counts of the whole run.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.findings, self.files.len())
    }
    /// Findings of one submission.
    pub fn of_file<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.file == file)
    }
}

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
    /// Queries explained with `--explain` (included in `queries`).
    pub explained: usize,
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
            s.explained += usize::from(f.explained.is_some());
        }
        s
    }
}

/// Writes a file through a temporary file renamed into place, so an interrupted run leaves no
/// half-written output.
///
/// Only regular files are replaced. A path that names something else (`/dev/null`, `/dev/stdout`,
/// a named pipe) is written to directly: renaming over it would swap a device for a regular file,
/// which as root breaks every later program that reads `/dev/null`. A symbolic link is followed, so
/// the link stays and the file it points at is replaced.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return std::fs::write(path, bytes),
        Ok(_) if path.is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = dir.join(format!(".{name}.fettle-tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &target).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
