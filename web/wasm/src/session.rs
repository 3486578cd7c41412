//! A validation session over files held in memory: what `fettle validate` does with paths, done with
//! `(name, bytes)` pairs, step by step for a page (add files, detect, validate, make reports).
//!
//! The steps are `fettle validate`'s, from [`fettle_io::pipeline`]: files are grouped into
//! submissions (an xml or xlsx file each; the CSV files of one folder together), each one's return
//! and year are picked, it is read and given the tables of the other returns it `uses`, and its
//! rules run, as for the command line; reports come from the same [`Run`] the command line builds. Last year's files, given apart,
//! are read the same way and given to this year's submission of their return as `fettle validate
//! --previous` gives them ([`submission::attach_previous_all`]). No IO, no clock, no threads.

use fettle_core::eval::{self, Finding};
use fettle_core::library::Compiled;
use fettle_io::input::Format;
use fettle_io::report::{self, PreviousUse, RuleKey, Run, Summary};
use fettle_io::input::Quiet;
use fettle_io::pipeline::{self, Group};
use fettle_io::submission::{self, Files, GivenBy, Loaded, Rulebook, Source, rule_infos};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A file held in memory: its name (a file name, or a path relative to a folder chosen) and contents.
pub type File = (String, Vec<u8>);

/// How far a long step has got: what is being done, and `done` of `total` units of it.
pub type Progress<'a> = &'a (dyn Fn(&Step) + Sync);

/// One progress report.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// What is being done (`Reading census.xml`).
    pub stage: String,
    /// Units done (rules run, files read).
    pub done: usize,
    /// Units in all (0: unknown).
    pub total: usize,
    /// Which submission (1-based) of how many.
    pub part: usize,
    /// How many submissions.
    pub parts: usize,
}

/// One submission: an XML or xlsx file, or the CSV files of one folder (its files are indexes into
/// the session's files of its year).
pub type Submission = Group;

/// The submission as the library reads it, given its files.
fn source<'a>(sub: &'a Submission, files: &'a [File]) -> Source<'a> {
    Source { format: sub.format, files: Files::Memory(files), display: &sub.display }
}

/// The name of a format, as the page shows it.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Xml => "xml",
        Format::Xlsx => "xlsx",
        Format::Csv => "csv",
    }
}

/// Groups files into submissions by their names, as `fettle validate` groups files on disk
/// ([`pipeline::group`]); returns the names of files that fettle does not read, too.
pub fn group(names: &[String]) -> (Vec<Submission>, Vec<String>) {
    pipeline::group(names)
}

/// What detection found for a submission.
#[derive(Clone, Debug, Serialize)]
pub struct Detected {
    /// The submission's name.
    pub display: String,
    /// `xml`, `xlsx` or `csv`.
    pub format: &'static str,
    /// Its files' names.
    pub files: Vec<String>,
    /// The return, when it could be told.
    #[serde(rename = "return")]
    pub ret: Option<String>,
    /// The rule year, when the return could be told.
    pub year: Option<String>,
    /// Notes about the year chosen.
    pub notes: Vec<String>,
    /// Why it cannot be read or its return cannot be told.
    pub error: Option<String>,
}

/// What the page asks for a submission: a return and a year, or `None` to detect them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Choice {
    /// The return.
    #[serde(rename = "return", default)]
    pub ret: Option<String>,
    /// The year.
    #[serde(default)]
    pub year: Option<String>,
}

/// A validation request.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Request {
    /// A choice per submission, in the order detection gave them (missing: detect).
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// The most findings one rule makes on one file (0: no limit; missing: fettle's default).
    #[serde(default)]
    pub max_per_rule: Option<usize>,
}

/// A rule as the page shows it: what reports show, its text without its examples, and its note.
#[derive(Clone, Debug, Serialize)]
pub struct RuleView {
    /// What reports show.
    #[serde(flatten)]
    pub info: report::RuleInfo,
    /// The rule as written, without its examples.
    pub text: String,
    /// Why it reads as it does.
    pub note: Option<String>,
}

/// A submission as validated.
#[derive(Clone, Debug, Serialize)]
pub struct Validated {
    /// Its name.
    pub display: String,
    /// `xml`, `xlsx` or `csv`.
    pub format: &'static str,
    /// The return.
    #[serde(rename = "return")]
    pub ret: String,
    /// The rule year.
    pub year: String,
    /// Its findings' counts.
    pub summary: Summary,
}

/// The outcome of a validation, for the page.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome<'a> {
    /// Version of this document.
    pub version: u32,
    /// The submissions validated, in order.
    pub submissions: Vec<Validated>,
    /// Counts of the whole run.
    pub summary: Summary,
    /// Findings, in fettle's deterministic order.
    pub findings: &'a [Finding],
    /// The rules that ran, by code.
    pub rules: BTreeMap<String, RuleView>,
    /// Last year's submission each submission was checked against (none when none was given).
    pub previous: Vec<PreviousUse>,
    /// Notes (years chosen, fields of last year's read through a map, year-on-year rules not run).
    pub notes: Vec<String>,
    /// Submissions that could not be read, and why.
    pub errors: Vec<String>,
}

/// What detection found: this year's submissions, last year's, and the files fettle does not read.
#[derive(Clone, Debug, Serialize)]
pub struct Found {
    /// This year's submissions, in order.
    pub submissions: Vec<Detected>,
    /// Last year's submissions (the files given as last year's return), in order.
    pub previous: Vec<Detected>,
    /// Files of either year that fettle does not read.
    pub skipped: Vec<String>,
}

/// The files of one year (this year's, or last year's return), their submissions and what was read.
#[derive(Default)]
struct Year {
    files: Vec<File>,
    subs: Vec<Submission>,
    skipped: Vec<String>,
    /// Datasets read during detection, kept for validation (taken by it).
    cache: Vec<Option<Loaded>>,
    /// What detection found, until the files change.
    detected: Option<Vec<Detected>>,
}

impl Year {
    fn names(&self) -> Vec<String> {
        self.files.iter().map(|(n, _)| n.clone()).collect()
    }

    fn add(&mut self, name: String, bytes: Vec<u8>) {
        self.files.retain(|(n, _)| *n != name);
        self.files.push((name, bytes));
    }

    fn forget(&mut self) {
        self.subs.clear();
        self.skipped.clear();
        self.cache.clear();
        self.detected = None;
    }

    /// The files of a submission.
    fn files_of(&self, sub: &Submission) -> Vec<File> {
        sub.files.iter().filter_map(|i| self.files.get(*i)).cloned().collect()
    }
}

/// Files, their submissions, what was read of them, and the last run.
pub struct Session {
    book: Rulebook,
    /// This year's files.
    this: Year,
    /// Last year's (`fettle validate --previous`): none unless the page was given some.
    last: Year,
    /// The last run.
    run: Option<Run>,
    rule_views: BTreeMap<String, RuleView>,
}

impl Session {
    /// A session over a rule book.
    pub fn new(book: Rulebook) -> Session {
        Session { book, this: Year::default(), last: Year::default(), run: None, rule_views: BTreeMap::new() }
    }

    /// The rule book.
    pub fn book(&self) -> &Rulebook {
        &self.book
    }

    /// Adds a file of this year's return (replacing one of the same name); forgets what was detected
    /// of this year's files and the last run.
    pub fn add_file(&mut self, name: String, bytes: Vec<u8>) {
        self.this.add(name, bytes);
        self.forget(false);
    }

    /// Adds a file of last year's return (what `fettle validate --previous` is given), replacing one
    /// of the same name; forgets what was detected of last year's files and the last run.
    pub fn add_previous_file(&mut self, name: String, bytes: Vec<u8>) {
        self.last.add(name, bytes);
        self.forget(true);
    }

    /// Removes a file of this year's by name.
    pub fn remove_file(&mut self, name: &str) {
        self.this.files.retain(|(n, _)| n != name);
        self.forget(false);
    }

    /// Removes a file of last year's by name.
    pub fn remove_previous_file(&mut self, name: &str) {
        self.last.files.retain(|(n, _)| n != name);
        self.forget(true);
    }

    /// Removes every file of this year's.
    pub fn clear(&mut self) {
        self.this.files.clear();
        self.forget(false);
    }

    /// Removes every file of last year's: the next run is of this year's files alone.
    pub fn clear_previous(&mut self) {
        self.last.files.clear();
        self.forget(true);
    }

    fn forget(&mut self, last: bool) {
        if last { &mut self.last } else { &mut self.this }.forget();
        self.run = None;
        self.rule_views.clear();
    }

    /// Groups the files into submissions and tells each one's return and year (reading it), this
    /// year's and last year's; a year whose files have not changed since it was last detected is not
    /// read again.
    pub fn detect(&mut self, progress: Progress) -> Found {
        let Session { book, this, last, .. } = self;
        let parts: usize = [&*this, &*last].iter().filter(|y| y.detected.is_none()).map(|y| group(&y.names()).0.len()).sum();
        let mut part = 0;
        for (year, whose) in [(this, ""), (last, "last year's ")] {
            if year.detected.is_some() {
                continue;
            }
            let (subs, skipped) = group(&year.names());
            let mut out = vec![];
            let mut cache = vec![];
            for sub in &subs {
                part += 1;
                progress(&Step { stage: format!("Reading {whose}{}", sub.display), done: 0, total: 0, part, parts });
                let files = year.files_of(sub);
                let src = source(sub, &files);
                let found = pipeline::read(book, &src, None, None, (GivenBy::Page, !whose.is_empty()), &Quiet);
                let mut d = Detected {
                    display: sub.display.clone(),
                    format: format_name(sub.format),
                    files: files.iter().map(|(n, _)| n.clone()).collect(),
                    ret: None,
                    year: None,
                    notes: vec![],
                    error: None,
                };
                match found {
                    Ok(l) => {
                        d.ret = Some(l.ret.clone());
                        d.year = Some(l.year.clone());
                        d.notes = l.notes.clone();
                        cache.push(Some(l));
                    }
                    Err(e) => {
                        d.error = Some(e);
                        cache.push(None);
                    }
                }
                out.push(d);
            }
            year.subs = subs;
            year.skipped = skipped;
            year.cache = cache;
            year.detected = Some(out);
        }
        self.run = None;
        Found {
            submissions: self.this.detected.clone().unwrap_or_default(),
            previous: self.last.detected.clone().unwrap_or_default(),
            skipped: self.this.skipped.iter().chain(&self.last.skipped).cloned().collect(),
        }
    }

    /// Validates every submission with the return and year chosen (or detected), each checked against
    /// last year's submission of its return when one was given (as `fettle validate --previous`: a
    /// file of another return, or not one year earlier, is an error and nothing is validated).
    pub fn validate(&mut self, req: &Request, progress: Progress) -> Result<Outcome<'_>, String> {
        if self.this.detected.is_none() || self.last.detected.is_none() {
            self.detect(progress);
        }
        if self.this.subs.is_empty() {
            return Err("no xml, xlsx or csv files to validate".into());
        }
        let parts = self.this.subs.len();
        // The submissions read, and the index of each.
        let mut loaded: Vec<Loaded> = vec![];
        let mut which: Vec<usize> = vec![];
        let mut errors = vec![];
        let mut notes = vec![];
        for (i, sub) in self.this.subs.clone().iter().enumerate() {
            let choice = req.choices.get(i).cloned().unwrap_or_default();
            let cached = self.this.cache.get_mut(i).and_then(Option::take);
            let reuse = cached
                .filter(|l| choice.ret.as_ref().is_none_or(|r| *r == l.ret) && choice.year.as_ref().is_none_or(|y| *y == l.year));
            let l = match reuse {
                Some(l) => Ok(l),
                None => {
                    progress(&Step { stage: format!("Reading {}", sub.display), done: 0, total: 0, part: i + 1, parts });
                    let files = self.this.files_of(sub);
                    let src = source(sub, &files);
                    let (ret, year) = (choice.ret.as_deref(), choice.year.as_deref());
                    pipeline::read(&self.book, &src, ret, year, (GivenBy::Page, false), &Quiet)
                }
            };
            match l {
                Ok(l) => {
                    notes.extend(l.notes.iter().cloned());
                    loaded.push(l);
                    which.push(i);
                }
                Err(e) => errors.push(e),
            }
        }
        // Last year's submissions, as detected (read again when validation took them).
        let mut last_year = vec![];
        for (i, sub) in self.last.subs.clone().iter().enumerate() {
            let read = match self.last.cache.get_mut(i).and_then(Option::take) {
                Some(l) => Ok(l),
                None => {
                    progress(&Step { stage: format!("Reading last year's {}", sub.display), done: 0, total: 0, part: 1, parts });
                    let files = self.last.files_of(sub);
                    let src = source(sub, &files);
                    pipeline::read(&self.book, &src, None, None, (GivenBy::Page, true), &Quiet)
                }
            };
            last_year.push((sub.display.clone(), read));
        }
        pipeline::attach_foreign(&self.book, &mut loaded);
        let previous = submission::attach_previous_all(&self.book, last_year, &mut loaded, GivenBy::Page, &mut |n| notes.push(n))
            .map_err(|e| errors.iter().chain([&e]).cloned().collect::<Vec<_>>().join("\n"))?;
        let run_notes: Vec<String> = submission::previous_not_run(&self.book, &loaded, GivenBy::Page).into_iter().collect();
        let limit = req.max_per_rule.unwrap_or(eval::DEFAULT_LIMIT);
        // Rules with errors refuse the run, as `fettle validate` refuses it (exit 2).
        let sets = pipeline::rule_sets(&self.book, &loaded)
            .map_err(|c| errors.iter().cloned().chain([format!("the rules have errors:\n{}", c.diagnostics())]).collect::<Vec<_>>().join("\n"))?;
        let mut views = BTreeMap::new();
        for c in &sets.sets {
            views.extend(rule_views(c));
        }
        // What the page shows of each submission run: its name and format, return and year.
        let shown: Vec<(String, &'static str, String, String)> = which
            .iter()
            .zip(&loaded)
            .filter_map(|(&i, l)| self.this.subs.get(i).map(|sub| (sub.display.clone(), format_name(sub.format), l.ret.clone(), l.year.clone())))
            .collect();
        let around = |i: usize, go: &mut dyn FnMut(&dyn fettle_io::input::Progress)| {
            let Some((display, _, ret, year)) = shown.get(i) else { return };
            let total = sets.sets.get(i).and_then(|c| c.program.as_ref()).map_or(0, |p| p.rules.len());
            let stage = format!("Checking {display} ({ret} {year})");
            let part = which.get(i).map_or(1, |w| w + 1);
            progress(&Step { stage: stage.clone(), done: 0, total, part, parts });
            let tick = Ticks { done: AtomicUsize::new(0), total, tell: &|k| {
                progress(&Step { stage: stage.clone(), done: k, total, part, parts })
            } };
            go(&tick);
        };
        // An engine fault is a bug in fettle: the page shows it, never a run without it.
        let ran = pipeline::run_all(loaded, &sets, limit, &around).map_err(|e| e.to_string())?;
        let validated: Vec<Validated> = shown
            .into_iter()
            .zip(ran.each)
            .map(|((display, format, ret, year), summary)| Validated { display, format, ret, year, summary })
            .collect();
        let (findings, rules) = (ran.findings, sets.rules);
        let names: Vec<(String, String, String)> =
            validated.iter().map(|v| (v.display.clone(), v.ret.clone(), v.year.clone())).collect();
        let mut run = pipeline::report(findings, &names, rules);
        run.previous = previous.clone();
        run.notes = run_notes.clone();
        self.rule_views = views;
        self.run = Some(run);
        let Some(run) = &self.run else { return Err("no run".into()) };
        let skipped = self.this.skipped.iter().chain(&self.last.skipped);
        notes.extend(skipped.map(|s| format!("note: `{s}` is not a file fettle reads (xml, xlsx or csv); skipped")));
        notes.extend(run_notes);
        Ok(Outcome {
            version: 1,
            submissions: validated,
            summary: run.summary(),
            findings: &run.findings,
            rules: self.rule_views.clone(),
            previous,
            notes,
            errors,
        })
    }

    /// The last run, if any.
    pub fn run(&self) -> Option<&Run> {
        self.run.as_ref()
    }

    /// A report of the last run: `xlsx`, `json`, `html` or `csv`; or `annotated` with the index of an
    /// xlsx submission (its copy with every cell that has a finding highlighted).
    pub fn report(&self, kind: &str, submission: Option<usize>) -> Result<Vec<u8>, String> {
        let Some(run) = &self.run else { return Err("validate first".into()) };
        match kind {
            "xlsx" => report::xlsx::render(run).map_err(|e| format!("cannot build the xlsx report: {e}")),
            "json" => Ok(format!("{}\n", report::json::render(run)).into_bytes()),
            "html" => Ok(report::html::render(run).into_bytes()),
            "csv" => Ok(report::csv::render(run).into_bytes()),
            "annotated" => {
                let sub =
                    submission.and_then(|i| self.this.subs.get(i)).ok_or_else(|| "say which submission to annotate".to_string())?;
                if sub.format != Format::Xlsx {
                    return Err(format!("`{}` is not an xlsx workbook; only workbooks are annotated", sub.display));
                }
                let (_, bytes) = sub.files.first().and_then(|i| self.this.files.get(*i)).ok_or("the workbook is gone")?;
                let findings: Vec<&Finding> = run.of_file(&sub.display).collect();
                report::annotate::annotate_bytes(bytes, &sub.display, &findings)
            }
            other => Err(format!("there is no report `{other}`; use xlsx, json, html, csv or annotated")),
        }
    }
}

/// The page's progress while a submission's rules run: every fourth rule, and the last, tell the page.
struct Ticks<'a> {
    done: AtomicUsize,
    total: usize,
    tell: &'a (dyn Fn(usize) + Sync),
}

impl fettle_io::input::Progress for Ticks<'_> {
    fn rule(&self) {
        let k = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if k.is_multiple_of(4) || k == self.total {
            (self.tell)(k);
        }
    }
}

/// The page's view of each rule of a compiled set.
fn rule_views(c: &Compiled) -> BTreeMap<String, RuleView> {
    let infos = rule_infos(c);
    let mut m = BTreeMap::new();
    let Some(p) = &c.program else { return m };
    for r in &p.rules {
        let key = RuleKey { ret: p.ret.clone(), year: p.year.clone(), code: r.code.clone() };
        let Some(info) = infos.get(&key) else { continue };
        m.insert(
            r.code.clone(),
            RuleView { info: info.clone(), text: rule_text(c.sources.snippet(r.span)), note: r.note.clone() },
        );
    }
    m
}

/// A rule's text without its examples (which follow its checks): the lines up to the first
/// `example`, and the closing brace.
pub fn rule_text(snippet: &str) -> String {
    const MAX: usize = 6000;
    let mut out: Vec<&str> = vec![];
    let mut cut = false;
    for line in snippet.lines() {
        if line.trim_start().starts_with("example ") || line.trim_start() == "example" {
            cut = true;
            break;
        }
        out.push(line);
    }
    let mut text = out.join("\n");
    if cut {
        text.push_str("\n}");
    }
    if text.chars().count() > MAX {
        text = text.chars().take(MAX).collect::<String>() + "\n...";
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use fettle_core::library::Library;
    use std::path::Path;

    fn sample(rel: &str) -> File {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        (name, std::fs::read(&path).unwrap())
    }

    fn quiet(_: &Step) {}

    #[test]
    fn rule_text_drops_examples() {
        let t = rule_text("rule X error \"m\" on T {\n  require present(A)\n  example pass {\n    T { A: 1 }\n  }\n}");
        assert_eq!(t, "rule X error \"m\" on T {\n  require present(A)\n}");
    }

    /// Each shipped sample: detected, validated, and every report made.
    #[test]
    fn samples_validate_with_every_report() {
        for rel in
            ["samples/cin/census-2024-25.xml", "samples/fgc/fgc-2024-25.xlsx", "samples/disability/disability-2024-25.xlsx"]
        {
            let mut s = Session::new(Rulebook::new(Library::shipped()));
            let (name, bytes) = sample(rel);
            s.add_file(name.clone(), bytes);
            let found = s.detect(&quiet).submissions;
            assert_eq!(found.len(), 1);
            assert!(found[0].error.is_none(), "{rel}: {:?}", found[0].error);
            assert!(found[0].ret.is_some() && found[0].year.is_some());
            let out = s.validate(&Request::default(), &quiet).unwrap();
            assert!(out.errors.is_empty(), "{:?}", out.errors);
            assert!(!out.findings.is_empty(), "{rel} has findings");
            for f in out.findings {
                assert!(f.code.rule().is_none_or(|c| out.rules.contains_key(c)), "{rel}: rule {} shown", f.code);
            }
            let json = s.report("json", None).unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(doc["findings"].as_array().unwrap().len(), s.run().unwrap().findings.len());
            let xlsx = s.report("xlsx", None).unwrap();
            assert!(xlsx.starts_with(b"PK"));
            if rel.ends_with(".xlsx") {
                let copy = s.report("annotated", Some(0)).unwrap();
                assert!(copy.starts_with(b"PK"));
            } else {
                assert!(s.report("annotated", Some(0)).is_err());
            }
        }
    }

    /// A disability return checked against the CIN census given with it.
    #[test]
    fn returns_see_each_other() {
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        for rel in ["samples/disability/disability-2024-25.xlsx", "samples/cin/census-2024-25.xml"] {
            let (n, b) = sample(rel);
            s.add_file(n, b);
        }
        let found = s.detect(&quiet).submissions;
        let rets: Vec<Option<String>> = found.iter().map(|d| d.ret.clone()).collect();
        assert_eq!(rets, vec![Some("cin".into()), Some("disability".into())]);
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert_eq!(out.submissions.len(), 2);
    }

    /// CSV files held in memory read as the folder does.
    #[test]
    fn csv_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/fgc/csv");
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        for p in names {
            let name = format!("csv/{}", p.file_name().unwrap().to_string_lossy());
            s.add_file(name, std::fs::read(&p).unwrap());
        }
        let found = s.detect(&quiet).submissions;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ret.as_deref(), Some("fgc"));
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert!(out.findings.iter().any(|f| matches!(f.location, Some(fettle_core::eval::Location::Line { .. }))));
    }

    #[test]
    fn unknown_files_are_explained() {
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        s.add_file("x.xlsx".into(), b"not a zip".to_vec());
        let found = s.detect(&quiet).submissions;
        assert!(found[0].error.is_some());
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert_eq!(out.errors.len(), 1);
    }

    /// Last year's census given apart: this year's is checked against it as `fettle validate
    /// --previous` checks it (the year-on-year rules run, a finding on last year's row names its
    /// file), and the outcome and every report say which file was used.
    #[test]
    fn last_years_return_is_the_previous_submission() {
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        let (this, b) = sample("tests/fixtures/previous/census-2024-25.xml");
        s.add_file(this.clone(), b);
        let (last, b) = sample("tests/fixtures/previous/census-2023-24.xml");
        s.add_previous_file(last.clone(), b);
        let found = s.detect(&quiet);
        assert_eq!(found.submissions.len(), 1);
        assert_eq!(found.previous.len(), 1);
        assert_eq!((found.previous[0].ret.as_deref(), found.previous[0].year.as_deref()), (Some("cin"), Some("2023-24")));
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let used: Vec<(&str, &str, &str)> =
            out.previous.iter().map(|p| (p.file.as_str(), p.previous.as_str(), p.year.as_str())).collect();
        assert_eq!(used, vec![(this.as_str(), last.as_str(), "2023-24")]);
        // Every year-on-year rule of the census fires on this pair (as the command line's snapshot shows).
        let book = Rulebook::new(Library::shipped());
        let prog = book.program("cin", "2024-25").unwrap();
        let mut want: Vec<&str> = prog
            .rules
            .iter()
            .filter(|r| r.needs.iter().any(|n| n == fettle_core::check::previous::PREVIOUS))
            .map(|r| r.code.as_str())
            .collect();
        want.sort();
        let mut got: Vec<&str> = out.findings.iter().map(|f| f.code.as_str()).filter(|c| want.contains(c)).collect();
        got.sort();
        got.dedup();
        assert_eq!(got, want);
        // A child missing now: found on last year's row, in last year's file.
        let missing = out.findings.iter().find(|f| f.code.rule() == Some("CINY01Q")).unwrap();
        assert_eq!((missing.location_file.as_deref(), missing.in_this_return), (Some(last.as_str()), Some(false)));
        assert!(out.notes.iter().any(|n| n.contains("through the map in the rules")), "{:?}", out.notes);
        assert!(!out.notes.iter().any(|n| n.contains("did not run")), "{:?}", out.notes);
        let json: serde_json::Value = serde_json::from_slice(&s.report("json", None).unwrap()).unwrap();
        assert_eq!(json["previous"][0]["previous"], last.as_str());
        let html = String::from_utf8(s.report("html", None).unwrap()).unwrap();
        assert!(html.contains(&format!("{this} against {last} (2023-24)")));
    }

    /// Without last year's files nothing changes but a note that the year-on-year rules did not run;
    /// removing last year's files goes back to that.
    #[test]
    fn no_previous_file_runs_this_year_alone() {
        let (this, b) = sample("tests/fixtures/previous/census-2024-25.xml");
        let mut alone = Session::new(Rulebook::new(Library::shipped()));
        alone.add_file(this.clone(), b.clone());
        let found = alone.detect(&quiet);
        assert!(found.previous.is_empty());
        let out = alone.validate(&Request::default(), &quiet).unwrap();
        assert!(out.previous.is_empty());
        assert!(!out.findings.iter().any(|f| f.code.rule().is_some_and(|c| c.starts_with("CINY")) || f.location_file.is_some()));
        let note = "14 year-on-year rules did not run: give last year's cin return under \"Last year's return\" to run them";
        assert_eq!(out.notes, vec![note.to_string()]);
        let codes: Vec<String> = out.findings.iter().map(|f| f.code.to_string()).collect();

        let mut s = Session::new(Rulebook::new(Library::shipped()));
        s.add_file(this, b);
        let (last, lb) = sample("tests/fixtures/previous/census-2023-24.xml");
        s.add_previous_file(last.clone(), lb);
        assert!(!s.validate(&Request::default(), &quiet).unwrap().previous.is_empty());
        s.remove_previous_file(&last);
        let again = s.validate(&Request::default(), &quiet).unwrap();
        assert!(again.previous.is_empty());
        assert_eq!(again.findings.iter().map(|f| f.code.to_string()).collect::<Vec<_>>(), codes);
        assert_eq!(again.notes, vec![note.to_string()]);
        // Clearing last year's files does the same, and this year's stay.
        s.add_previous_file(last, std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/previous/census-2023-24.xml")).unwrap());
        assert_eq!(s.detect(&quiet).previous.len(), 1);
        s.clear_previous();
        let found = s.detect(&quiet);
        assert_eq!((found.submissions.len(), found.previous.len()), (1, 0));
    }

    /// Last year's file of the wrong year or return: validation fails with the command line's usage
    /// error, worded for the page, and no run is kept.
    #[test]
    fn a_wrong_previous_file_is_refused() {
        let (this, b) = sample("tests/fixtures/previous/census-2024-25.xml");
        let (last, lb) = sample("tests/fixtures/previous/census-2023-24.xml");
        let (fgc, fb) = sample("samples/fgc/fgc-2024-25.xlsx");
        let cases = [
            // The same year as this year's.
            ((this.clone(), b.clone()), (this.clone(), b.clone()), format!(
                "Last year's `{this}` is the cin return for 2024-25; last year's return for `{this}` (2024-25) is for 2023-24"
            )),
            // The years swapped.
            ((last.clone(), lb.clone()), (this.clone(), b.clone()), format!(
                "Last year's `{this}` is the cin return for 2024-25; last year's return for `{last}` (2023-24) is for 2022-23"
            )),
            // Another return.
            ((this.clone(), b.clone()), (fgc.clone(), fb.clone()), format!(
                "Last year's `{fgc}` is the fgc return; no fgc return is validated with it"
            )),
        ];
        for ((tn, tb), (pn, pb), want) in cases {
            let mut s = Session::new(Rulebook::new(Library::shipped()));
            s.add_file(tn, tb);
            s.add_previous_file(pn, pb);
            assert_eq!(s.validate(&Request::default(), &quiet).err(), Some(want));
            assert!(s.run().is_none());
            assert!(s.report("json", None).is_err());
        }
        // Two of last year's census: one for each return validated.
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        s.add_file(this, b);
        s.add_previous_file(last.clone(), lb.clone());
        s.add_previous_file(format!("copy/{last}"), lb);
        assert_eq!(
            s.validate(&Request::default(), &quiet).err().as_deref(),
            Some("Last year's files hold two cin returns; give one for each return validated")
        );
        // A file whose return cannot be told.
        let mut s = Session::new(Rulebook::new(Library::shipped()));
        s.add_previous_file("notes.csv".into(), b"a,b\n1,2\n".to_vec());
        let found = s.detect(&quiet);
        assert_eq!(found.previous[0].error.as_deref(), Some("cannot tell which return last year's `notes.csv` is"));
    }
}
