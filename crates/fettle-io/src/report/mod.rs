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
pub mod shorten;
pub mod template;
pub mod xlsx;

use crate::eval::Finding;
use crate::syntax::ast::Severity;
use std::collections::BTreeMap;

/// How the reports for people (terminal, HTML, workbook, the page) show a missing value among a
/// finding's values; the reports for programs (JSON, CSV, JUnit, SARIF) show it as empty text, and
/// JSON says its `"type"` is `missing`.
pub const MISSING: &str = "(missing)";

/// What a rule is, for reports: its code, severity, message and where it is written.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleInfo {
    /// Its code.
    pub code: String,
    /// Error, query or info.
    pub severity: Severity,
    /// Its message as written (with `{...}` holes).
    pub message: String,
    /// Its message with each hole shown as `…`: a plain title for lists of rules.
    pub title: String,
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

/// A rule's key in a run: its return, year and code. Two years of one return in one run (a
/// 2023-24 and a 2024-25 census) each keep their own rule text, which may differ under one code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey {
    /// The return.
    pub ret: String,
    /// The collection year.
    pub year: String,
    /// The rule's code.
    pub code: String,
}

impl RuleKey {
    /// The key of a rule.
    pub fn of(r: &RuleInfo) -> RuleKey {
        RuleKey { ret: r.ret.clone(), year: r.year.clone(), code: r.code.clone() }
    }
}

/// One validation run, as every report format sees it.
#[derive(Clone, Debug)]
pub struct Run {
    /// Findings in their deterministic order.
    pub findings: Vec<Finding>,
    /// The submissions validated, in order.
    pub files: Vec<String>,
    /// The rules that ran, by return, year and code.
    pub rules: BTreeMap<RuleKey, RuleInfo>,
    /// Each submission's return and year, by its name in `files`.
    pub returns: BTreeMap<String, (String, String)>,
    /// The lowest severity that fails the run (`--fail-on`); `None` when nothing does.
    pub fail_on: Option<Severity>,
    /// Whether the rule files are on disk (`--rules DIR`) rather than inside the binary.
    pub rules_on_disk: bool,
    /// Last year's submission each submission was checked against (`--previous`).
    pub previous: Vec<PreviousUse>,
    /// What the run did not do, said once (continuity rules without `--previous`).
    pub notes: Vec<String>,
}

impl Default for Run {
    fn default() -> Run {
        Run {
            findings: vec![],
            files: vec![],
            rules: BTreeMap::new(),
            returns: BTreeMap::new(),
            fail_on: Some(Severity::Error),
            rules_on_disk: false,
            previous: vec![],
            notes: vec![],
        }
    }
}

/// A submission checked against last year's (`fettle validate THIS --previous LAST`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct PreviousUse {
    /// This year's submission.
    pub file: String,
    /// Last year's.
    pub previous: String,
    /// Last year's collection year.
    pub year: String,
}

impl Run {
    /// A run of sorted findings, with long values shortened for every report ([`shorten`]).
    pub fn new(findings: Vec<Finding>, files: Vec<String>, rules: BTreeMap<RuleKey, RuleInfo>) -> Run {
        let mut run = Run { findings, files, rules, ..Run::default() };
        shorten::apply(&mut run);
        run
    }

    /// Whether a finding fails the run, exactly as the exit code counts it: at or above `fail_on`,
    /// and not explained.
    pub fn fails(&self, f: &Finding) -> bool {
        self.fail_on.is_some_and(|s| f.severity >= s) && f.explained.is_none()
    }
    /// The rule of a code as a submission's own return and year have it (none for input, schema
    /// and explanation checks, or when the submission's return is not known).
    pub fn rule(&self, file: &str, code: &str) -> Option<&RuleInfo> {
        let (ret, year) = self.returns.get(file)?;
        self.rules.get(&RuleKey { ret: ret.clone(), year: year.clone(), code: code.to_string() })
    }
    /// The rule a finding is about, in its own file's return and year.
    pub fn rule_of(&self, f: &Finding) -> Option<&RuleInfo> {
        self.rule(&f.file, f.code.rule()?)
    }
    /// The rules of a code, one per return and year that has it.
    pub fn rules_with_code<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a RuleInfo> + 'a {
        self.rules.values().filter(move |r| r.code == code)
    }
    /// The rules of a submission's own return and year (all rules when its return is not known).
    pub fn rules_of<'a>(&'a self, file: &str) -> impl Iterator<Item = &'a RuleInfo> + 'a {
        let ret = self.returns.get(file).cloned();
        self.rules.values().filter(move |r| ret.as_ref().is_none_or(|(n, y)| &r.ret == n && &r.year == y))
    }
    /// Counts of the whole run.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.findings, self.files.len())
    }
    /// Findings of one submission.
    pub fn of_file<'a>(&'a self, file: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.file == file)
    }
}

/// Where a finding is, as one line of text for the reports that give a place in a column: its
/// location (`Sheet!B12`, `file.csv:12`, `line 40 Message/...`); for a row of last year's return
/// (`--previous`), `last year at <location> in `<file>``, after `not in this return; ` when its
/// child is not in this return.
pub fn place_text(f: &Finding) -> String {
    let Some(l) = &f.location else { return String::new() };
    match &f.location_file {
        Some(file) => {
            let gone = if f.in_this_return == Some(false) { "not in this return; " } else { "" };
            format!("{gone}last year at {l} in `{file}`")
        }
        None => l.to_string(),
    }
}

/// Where a related row is: its location (else `row N`), and the file it is in when that is not the
/// finding's own (`line 62 Message/... in `last.xml``, a row of last year's return).
pub fn related_place(r: &crate::eval::Related) -> String {
    let place = r.location.as_ref().map_or_else(|| format!("row {}", r.row + 1), ToString::to_string);
    match &r.file {
        Some(file) => format!("{place} in `{file}`"),
        None => place,
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
            *s.by_rule.entry(f.code.to_string()).or_insert(0) += 1;
            s.explained += usize::from(f.explained.is_some());
        }
        s
    }
}

/// Writes a file through a temporary file renamed into place, so an interrupted run leaves no
/// half-written output: [`stage`] then [`Staged::commit`].
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    stage(path, bytes)?.commit()
}

/// An output written in full beside its target and not yet moved into place. Dropping it without
/// [`Staged::commit`] removes the temporary file, so a failed run leaves nothing behind and the
/// previous output untouched.
#[derive(Debug)]
pub struct Staged {
    /// Where the output goes.
    target: std::path::PathBuf,
    /// How it gets there.
    how: Stage,
}

#[derive(Debug)]
enum Stage {
    /// A temporary file in the target's folder, renamed over the target on commit.
    Temp(std::path::PathBuf),
    /// A device or named pipe: written in place on commit.
    InPlace(Vec<u8>),
    /// Committed or discarded: nothing left to clean up.
    Done,
}

/// Writes `bytes` to a temporary file beside `path`, to be moved into place by [`Staged::commit`].
/// A temporary file that cannot be written in full (a full disk) is removed before the error is
/// returned.
///
/// Only regular files are replaced. A path that names something else (`/dev/null`, `/dev/stdout`,
/// a named pipe) is written to directly on commit: renaming over it would swap a device for a regular
/// file, which as root breaks every later program that reads `/dev/null`. A symbolic link is followed,
/// so the link stays and the file it points at is replaced.
pub fn stage(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<Staged> {
    let target = match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(std::io::Error::other("it is a folder")),
        Ok(meta) if !meta.is_file() => {
            return Ok(Staged { target: path.to_path_buf(), how: Stage::InPlace(bytes.to_vec()) });
        }
        Ok(_) if path.is_symlink() => std::fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = dir.join(format!(".{name}.fettle-tmp-{}", std::process::id()));
    // From here on the temporary file belongs to `staged`, whose drop removes it on any error.
    let staged = Staged { target, how: Stage::Temp(tmp.clone()) };
    std::fs::write(&tmp, bytes)?;
    Ok(staged)
}

impl Staged {
    /// Moves the output into place (renames the temporary file, or writes the device).
    pub fn commit(mut self) -> std::io::Result<()> {
        match std::mem::replace(&mut self.how, Stage::Done) {
            Stage::Temp(tmp) => std::fs::rename(&tmp, &self.target).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            }),
            Stage::InPlace(bytes) => std::fs::write(&self.target, bytes),
            Stage::Done => Ok(()),
        }
    }

    /// Where the output goes.
    pub fn target(&self) -> &std::path::Path {
        &self.target
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Stage::Temp(tmp) = &self.how {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use crate::codes::{Input, Schema};
    use crate::eval::{Code, Finding};
    use crate::generate::templates::{self, Cell};

    /// The findings of the shipped rules of a return on a dataset.
    fn run(ret: &str, read: impl FnOnce(&crate::schema::Schema) -> crate::table::Dataset) -> Vec<Finding> {
        let prog = crate::library::Library::shipped().compile(ret, "2024-25").program.unwrap();
        let prepared = crate::eval::prepare(&prog, read(&prog.schema)).unwrap();
        crate::eval::run(&prog, &prepared, &|_| true).unwrap()
    }

    /// A finding's code says which kind of check made it, where it was made: a rule's (eval), the
    /// schema's (reading XML), the input's (reading sheets); its text is the code reports show.
    #[test]
    fn findings_say_which_kind_of_check_made_them() {
        let xml = crate::generate::cin_xml(20, 3, 0.3, 2025).replacen("<LAchildID>", "<Stray>x</Stray><LAchildID>", 1);
        let cin = run("cin", |s| crate::input::xml::read(s, xml.as_bytes(), "cin.xml").unwrap());
        let stray = cin.iter().find(|f| f.message.contains("Stray")).unwrap();
        assert_eq!(stray.code, Code::Schema(Schema::UnknownElement));
        assert_eq!(stray.code.to_string(), "schema::unknown-element");
        let rule = cin.iter().find(|f| f.rule.is_some()).unwrap();
        assert!(matches!(&rule.code, Code::Rule(c) if c.chars().all(|c| c.is_ascii_alphanumeric())), "{}", rule.code);
        assert!(cin.iter().all(|f| f.code.is_rule() == f.rule.is_some()), "only rules' findings have a rule's code");

        let mut sheets = templates::fgc(3, 4);
        let first = &mut sheets[0];
        first.headers.push("Stray".into());
        for r in &mut first.rows {
            r.push(Cell::Text("x".into()));
        }
        let files: Vec<(String, Vec<u8>)> = templates::csv(&sheets).into_iter().map(|(n, t)| (n, t.into_bytes())).collect();
        let fgc = run("fgc", |s| crate::input::sheet::read_csv_bytes(s, &files, "fgc").unwrap());
        let column = fgc.iter().find(|f| f.message.contains("Stray")).unwrap();
        assert_eq!(column.code, Code::Input(Input::UnknownColumn));
        assert_eq!(column.code.to_string(), "input::unknown-column");
        assert!(column.code.is_check() && column.code.rule().is_none());
    }
}
