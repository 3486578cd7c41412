//! The JSON report: `{"version": 1, "findings": [...], "summary": {...}}`. A stable contract: fields
//! are only ever added, with `version` raised when one changes meaning. A finding's `kind` says which
//! kind of check made it (`rule`, `schema`, `input`, `explain`); a value's `type` what it is (`text`,
//! `integer`, `decimal`, `date`, `bool`, `list`, `missing`, `unfit`, `redacted`), beside its `value`
//! as shown.

use super::{PreviousUse, Run, Summary};
use crate::eval::Finding;
use serde::Serialize;

/// Version of the JSON contract.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    /// Last year's submissions used (`--previous`); absent when none.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    previous: &'a [PreviousUse],
    /// What the run did not do (continuity rules without `--previous`); absent when nothing.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notes: &'a [String],
    findings: &'a [Finding],
    summary: Summary,
}

/// Renders a run as pretty JSON.
pub fn render(run: &Run) -> String {
    let doc =
        Doc { version: VERSION, previous: &run.previous, notes: &run.notes, findings: &run.findings, summary: run.summary() };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
