//! Findings and diagnostics to output formats, one file per format. Only this module knows them.

pub mod human;
pub mod json;

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
