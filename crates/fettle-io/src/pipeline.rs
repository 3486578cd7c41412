//! The one validation pipeline: discover submissions -> pick each one's return and year -> read ->
//! attach the tables of the returns it `uses` ([`attach_foreign`]) -> attach last year's
//! ([`crate::submission::attach_previous_all`]) -> the rule sets compiled -> prepare and run the
//! rules -> sort -> a [`Run`]. `fettle validate`, `fettle export`, `fettle coverage` and the browser
//! page (web/wasm) call these steps and only parse their arguments and move bytes.
//!
//! Progress and timing are callbacks the caller passes ([`Progress`], and the `around` function of
//! [`run_all`] that wraps each submission's run): nothing here reads the environment, a clock or
//! the terminal. Files on disk are found by [`discover`]; files held in memory are grouped by
//! [`group`], by name, the same way.

use crate::check::program::{Program, RuleDef};
use crate::eval::{self, Fault, Finding};
use crate::input::{Format, Progress};
use crate::library::Compiled;
use crate::report::{RuleInfo, RuleKey, Run, Summary};
use crate::submission::{self, Files, GivenBy, Loaded, Rulebook, Source, read_submission_with, rule_infos};
use crate::table::Dataset;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One submission on disk: an XML or xlsx file, or the CSV files of one folder.
#[derive(Clone, Debug)]
pub struct Submission {
    /// How to read it.
    pub format: Format,
    /// Its files.
    pub files: Vec<PathBuf>,
    /// How it is named in reports.
    pub display: String,
}

impl Submission {
    /// The submission as the library reads it.
    pub fn source(&self) -> Source<'_> {
        Source { format: self.format, files: Files::Disk(&self.files), display: &self.display }
    }
}

/// Whether a file name is skipped when a folder is walked or files are dropped: hidden files and
/// the lock files Excel leaves beside an open workbook (`~$name.xlsx`).
pub fn skipped_name(name: &str) -> bool {
    name.starts_with("~$") || name.starts_with('.')
}

/// Finds submissions under the given paths, in sorted order: each xml or xlsx file, and the CSV
/// files of each folder together (CSV files named on the command line too). Folders are walked
/// without following links to folders; a link to a regular file counts as the file; hidden and
/// `~$` files are skipped; a named pipe, a device or a broken link named like a file fettle reads is
/// an error (opening a pipe would block).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Submission>, String> {
    let mut subs = vec![];
    for p in paths {
        if p.is_dir() {
            let mut csv: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
            for e in walkdir::WalkDir::new(p).follow_links(false).sort_by_file_name() {
                let e = e.map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                // A link to a regular file counts as the file; links to folders are not followed
                // (no loops), and pipes and devices are never read.
                let is_file = e.file_type().is_file() || (e.path_is_symlink() && e.path().is_file());
                let path = e.path();
                if path.file_name().and_then(|n| n.to_str()).is_some_and(skipped_name) {
                    continue;
                }
                if !is_file {
                    // Named as a file fettle reads but not one (a named pipe, a device, a broken
                    // link): say so, instead of leaving its table to be reported missing. Only its
                    // metadata is looked at: opening a pipe would block.
                    if !e.file_type().is_dir() && !path.is_dir() && Format::of(path).is_some() {
                        return Err(format!(
                            "`{}` is not a regular file (a named pipe, a device or a broken link); fettle reads only regular files",
                            path.display()
                        ));
                    }
                    continue;
                }
                match Format::of(path) {
                    Some(Format::Csv) => {
                        csv.entry(path.parent().unwrap_or(Path::new(".")).to_path_buf()).or_default().push(path.to_path_buf())
                    }
                    Some(f) => {
                        subs.push(Submission { format: f, files: vec![path.to_path_buf()], display: path.display().to_string() })
                    }
                    None => {}
                }
            }
            for (dir, files) in csv {
                subs.push(Submission { format: Format::Csv, files, display: dir.display().to_string() });
            }
        } else if p.exists() && !p.is_file() {
            // A pipe or a device would block, or never end.
            return Err(format!("`{}` is not a regular file", p.display()));
        } else if p.exists() {
            match Format::of(p) {
                Some(f) => subs.push(Submission { format: f, files: vec![p.clone()], display: p.display().to_string() }),
                None => return Err(format!("`{}` is not a file fettle reads (xml, xlsx or csv)", p.display())),
            }
        } else {
            return Err(format!("`{}` does not exist", p.display()));
        }
    }
    // CSV files named on the command line together form one submission per folder.
    let mut merged: Vec<Submission> = vec![];
    for s in subs {
        if s.format == Format::Csv
            && let Some(prev) = merged.iter_mut().find(|m| m.format == Format::Csv && same_dir(&m.files, &s.files))
        {
            prev.files.extend(s.files);
            prev.display = prev.files.first().and_then(|f| f.parent()).map(|d| d.display().to_string()).unwrap_or_default();
            continue;
        }
        merged.push(s);
    }
    Ok(merged)
}

fn same_dir(a: &[PathBuf], b: &[PathBuf]) -> bool {
    a.first().and_then(|x| x.parent()) == b.first().and_then(|x| x.parent())
}

/// What to say when the paths given hold no submission.
pub fn nothing_found(paths: &[PathBuf]) -> String {
    let named: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    format!("no xml, xlsx or csv files found in {}", named.join(", "))
}

/// A submission of files held in memory: their indexes among the names given to [`group`].
#[derive(Clone, Debug)]
pub struct Group {
    /// How it is read.
    pub format: Format,
    /// Its files (indexes into the names grouped).
    pub files: Vec<usize>,
    /// How it is named in findings and reports.
    pub display: String,
}

/// Groups files held in memory into submissions by their names, in name order, as [`discover`] does
/// on disk: an xml or xlsx file each, and the CSV files of one folder together (files given without
/// a folder form one group). Returns the names of files that fettle does not read (or skips), too.
pub fn group(names: &[String]) -> (Vec<Group>, Vec<String>) {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|a, b| names.get(*a).cmp(&names.get(*b)));
    let mut subs = vec![];
    let mut csv: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut skipped = vec![];
    for i in order {
        let Some(name) = names.get(i) else { continue };
        let path = Path::new(name);
        let base = path.file_name().and_then(|n| n.to_str()).unwrap_or(name);
        if skipped_name(base) {
            skipped.push(name.clone());
            continue;
        }
        match Format::of(path) {
            Some(Format::Csv) => {
                let dir = path.parent().map(|d| d.display().to_string()).unwrap_or_default();
                csv.entry(dir).or_default().push(i);
            }
            Some(format) => subs.push(Group { format, files: vec![i], display: name.clone() }),
            None => skipped.push(name.clone()),
        }
    }
    for (dir, files) in csv {
        let display = match (dir.is_empty(), files.as_slice()) {
            (false, _) => dir,
            (true, [one]) => names.get(*one).cloned().unwrap_or_default(),
            (true, _) => "CSV files".to_string(),
        };
        subs.push(Group { format: Format::Csv, files, display });
    }
    (subs, skipped)
}

/// Picks the return of a submission by its structure ([`submission::pick_return`]); when none
/// matches, says why: on the command line, the reader's own words if a reader refuses the files,
/// else what they hold and how to name the return (`--return`); on the page, that the user chooses
/// it, or for last year's files (`last_year`), whose return is told from the files alone, that it
/// cannot be told (the files are not read again).
pub fn pick_return(book: &Rulebook, src: &Source, by: GivenBy, last_year: bool) -> Result<String, String> {
    let sniff = src.sniff();
    if let Some(ret) = submission::pick_return(book, src.format, &sniff) {
        return Ok(ret);
    }
    if by == GivenBy::Page {
        return Err(if last_year {
            format!("cannot tell which return last year's `{}` is", src.display)
        } else {
            format!("cannot tell which return `{}` is; choose it", src.display)
        });
    }
    if let Some(e) = submission::unreadable(book, src) {
        return Err(e);
    }
    let found = if sniff.sheets.is_empty() { String::new() } else { format!(" (it has {})", sniff.sheets.join(", ")) };
    Err(format!("cannot tell which return `{}` is{found}; name it with --return", src.display))
}

/// Reads one submission: its return (given, else picked: [`pick_return`]), its year (given, else
/// detected), telling `progress` the bytes read.
pub fn read(
    book: &Rulebook,
    src: &Source,
    ret: Option<&str>,
    year: Option<&str>,
    (by, last_year): (GivenBy, bool),
    progress: &dyn Progress,
) -> Result<Loaded, String> {
    let ret = match ret {
        Some(r) => r.to_string(),
        None => pick_return(book, src, by, last_year)?,
    };
    read_submission_with(book, src, &ret, year, progress)
}

/// Reads submissions on disk side by side (order kept), each as [`read`] does, telling `progress`
/// the bytes read and each submission read ([`Progress::submission_read`]).
pub fn read_all(
    book: &Rulebook,
    subs: &[Submission],
    ret: Option<&str>,
    year: Option<&str>,
    progress: &dyn Progress,
) -> Vec<Result<Loaded, String>> {
    subs.par_iter()
        .map(|sub| {
            let r = read(book, &sub.source(), ret, year, (GivenBy::Option, false), progress);
            progress.submission_read();
            r
        })
        .collect()
}

/// Last year's submissions as read (`--previous`), each with its reading's outcome, in order; `Err`
/// when the paths give none.
pub type PreviousRead = Result<Vec<(Submission, Result<Loaded, String>)>, String>;

/// Reads last year's submissions (`--previous` paths) side by side, with their detected years.
/// Errors are kept, to be said in order after this year's.
pub fn read_previous(book: &Rulebook, paths: &[PathBuf], ret: Option<&str>) -> PreviousRead {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let subs = discover(paths).map_err(|e| format!("--previous: {e}"))?;
    if subs.is_empty() {
        return Err(format!("--previous: {}", nothing_found(paths)));
    }
    let read: Vec<Result<Loaded, String>> =
        subs.par_iter().map(|sub| read(book, &sub.source(), ret, None, (GivenBy::Option, true), &crate::input::Quiet)).collect();
    Ok(subs.into_iter().zip(read).collect())
}

/// The compiled rule set of each submission read, in order, and what reports show of their rules;
/// `Err` is the first set whose rules have errors.
pub fn rule_sets(book: &Rulebook, loaded: &[Loaded]) -> Result<RuleSets, Arc<Compiled>> {
    let mut out = RuleSets { sets: vec![], rules: BTreeMap::new() };
    for l in loaded {
        let c = book.get(&l.ret, &l.year);
        if c.has_errors() {
            return Err(c);
        }
        out.rules.extend(rule_infos(&c));
        out.sets.push(c);
    }
    Ok(out)
}

/// The rule sets of a run ([`rule_sets`]).
pub struct RuleSets {
    /// One per submission, in order.
    pub sets: Vec<Arc<Compiled>>,
    /// What reports show of each rule.
    pub rules: BTreeMap<RuleKey, RuleInfo>,
}

impl RuleSets {
    /// How many rules run in all (for a progress display).
    pub fn rule_count(&self) -> u64 {
        self.sets.iter().map(|c| c.program.as_ref().map_or(0, |p| p.rules.len() as u64)).sum()
    }
}

/// Prepares a submission's tables for its program and runs the rules `keep` accepts, at most
/// `limit` findings per rule, telling `progress` of every rule. The prepared tables are freed on a
/// thread of their own where there are threads: freeing millions of values takes a noticeable time,
/// and a process need not wait for it.
pub fn run_one(
    prog: &Program,
    data: Dataset,
    keep: &(dyn Fn(&RuleDef) -> bool + Sync),
    limit: usize,
    progress: &dyn Progress,
) -> Result<Vec<Finding>, Fault> {
    let prepared = eval::prepare(prog, data)?;
    let found = eval::run_with(prog, &prepared, keep, limit, progress)?;
    // Where no thread can be made (wasm32), the closure is dropped here, and the tables with it.
    let _ = std::thread::Builder::new().name("fettle-free".into()).spawn(move || drop(prepared));
    Ok(found)
}

/// What wraps each submission's run ([`run_all`]): given the submission's place in the list run
/// and the function that runs it, calls that function with the progress to tell, and may do more
/// before and after.
pub type Around<'a> = dyn Fn(usize, &mut dyn FnMut(&dyn Progress)) + Sync + 'a;

/// What [`run_all`] found.
pub struct Ran {
    /// Every finding, in fettle's deterministic order.
    pub findings: Vec<Finding>,
    /// Each submission's count of its own run's findings, in the order run.
    pub each: Vec<Summary>,
}

/// Runs every submission's rules side by side ([`run_one`]). `around` is called once per
/// submission with its place in `loaded` and the function that runs it, which it calls with the
/// progress to tell (the CLI wraps its display to time the rules, and says the slowest after each;
/// the page tells which submission is being checked). An engine fault in any submission fails the
/// run: no report is made from a run that met one.
pub fn run_all(loaded: Vec<Loaded>, sets: &RuleSets, limit: usize, around: &Around<'_>) -> Result<Ran, Fault> {
    let per_file: Vec<Result<Vec<Finding>, Fault>> = loaded
        .into_par_iter()
        .zip(sets.sets.par_iter())
        .enumerate()
        .map(|(i, (l, c))| match &c.program {
            Some(prog) => {
                let mut data = Some(l.data);
                let mut out: Result<Vec<Finding>, Fault> = Ok(vec![]);
                around(i, &mut |progress| {
                    if let Some(data) = data.take() {
                        out = run_one(prog, data, &|_| true, limit, progress);
                    }
                });
                out
            }
            None => Ok(vec![]),
        })
        .collect();
    let mut ran = Ran { findings: vec![], each: vec![] };
    for f in per_file {
        let f = f?;
        ran.each.push(Summary::of(&f, 1));
        ran.findings.extend(f);
    }
    eval::sort(&mut ran.findings);
    Ok(ran)
}

/// The report of a run: its findings (sorted), the submissions validated (`(name, return, year)`, in
/// order) and the rules that ran. The caller adds what only it knows (last year's files, notes,
/// what fails the run).
pub fn report(findings: Vec<Finding>, validated: &[(String, String, String)], rules: BTreeMap<RuleKey, RuleInfo>) -> Run {
    let files: Vec<String> = validated.iter().map(|(d, _, _)| d.clone()).collect();
    let mut run = Run::new(findings, files, rules);
    run.returns = validated.iter().map(|(d, r, y)| (d.clone(), (r.clone(), y.clone()))).collect();
    run
}

pub use crate::submission::attach_foreign;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    #[test]
    fn groups_files() {
        let names: Vec<String> =
            ["b.xlsx", "csv/Header.csv", "a.xml", "csv/Reviews.csv", "notes.txt", "~$b.xlsx", "x.csv"].map(String::from).to_vec();
        let (subs, skipped) = group(&names);
        let shown: Vec<(&str, usize)> = subs.iter().map(|s| (s.display.as_str(), s.files.len())).collect();
        assert_eq!(shown, vec![("a.xml", 1), ("b.xlsx", 1), ("x.csv", 1), ("csv", 2)]);
        assert_eq!(skipped, vec!["notes.txt", "~$b.xlsx"]);
    }
}
