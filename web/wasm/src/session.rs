//! A validation session over files held in memory: what `fettle validate` does with paths, done with
//! `(name, bytes)` pairs, step by step for a page (add files, detect, validate, make reports).
//!
//! The steps mirror `src/cli/validate.rs`: files are grouped into submissions (an xml or xlsx file
//! each; the CSV files of one folder together), each submission's return is picked by matching its
//! structure against each return's latest schema, its year by the `detect year from` field (XML: from
//! its first lines; other formats: by reading it with the latest year's schema, then again with the
//! year found if that differs), submissions of one run see each other's tables (`uses`), and reports
//! come from the same [`Run`] the command line builds. No IO, no clock, no threads.

use fettle::check::program::{Program, RuleDef};
use fettle::eval::{self, Finding};
use fettle::input::{self, Format};
use fettle::library::{Compiled, Library};
use fettle::report::{self, RuleInfo, Run, Summary};
use fettle::table::{Column, Dataset, Scalar};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

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

/// Compiled rule sets, each compiled on first use.
pub struct Book {
    lib: Library,
    compiled: RefCell<BTreeMap<(String, String), Arc<Compiled>>>,
}

impl Book {
    /// A book over a library.
    pub fn new(lib: Library) -> Book {
        Book { lib, compiled: RefCell::new(BTreeMap::new()) }
    }

    /// The shipped rules.
    pub fn shipped() -> Book {
        Book::new(Library::shipped())
    }

    /// The compiled set of a return and year.
    pub fn get(&self, ret: &str, year: &str) -> Arc<Compiled> {
        let key = (ret.to_string(), year.to_string());
        if let Some(c) = self.compiled.borrow().get(&key) {
            return c.clone();
        }
        let c = Arc::new(self.lib.compile(ret, year));
        self.compiled.borrow_mut().insert(key, c.clone());
        c
    }

    /// The returns, in name order.
    pub fn returns(&self) -> Vec<String> {
        self.lib.returns()
    }

    /// A return's years, in order.
    pub fn years(&self, ret: &str) -> Vec<String> {
        self.lib.years(ret)
    }

    fn latest(&self, ret: &str) -> Option<String> {
        self.years(ret).into_iter().max()
    }

    fn has(&self, ret: &str, year: &str) -> bool {
        self.lib.sets.contains_key(&(ret.to_string(), year.to_string()))
    }

    fn program(&self, ret: &str, year: &str) -> Result<Arc<Program>, String> {
        let c = self.get(ret, year);
        match &c.program {
            Some(p) => Ok(p.clone()),
            None => Err(format!("the {ret} {year} rules have errors:\n{}", fettle::cli::diagnostics(&c))),
        }
    }
}

/// One submission: an XML or xlsx file, or the CSV files of one folder.
#[derive(Clone, Debug)]
pub struct Submission {
    /// How it is read.
    pub format: Format,
    /// Its files (indexes into the session's files).
    pub files: Vec<usize>,
    /// How it is named in findings and reports.
    pub display: String,
}

/// The name of a format, as the page shows it.
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Xml => "xml",
        Format::Xlsx => "xlsx",
        Format::Csv => "csv",
    }
}

/// Groups files into submissions, in name order: an xml or xlsx file each, and the CSV files of one
/// folder together (files given without a folder form one group). Returns the names of files that
/// fettle does not read, too.
pub fn group(names: &[String]) -> (Vec<Submission>, Vec<String>) {
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|a, b| names.get(*a).cmp(&names.get(*b)));
    let mut subs = vec![];
    let mut csv: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut skipped = vec![];
    for i in order {
        let Some(name) = names.get(i) else { continue };
        let path = Path::new(name);
        let base = path.file_name().and_then(|n| n.to_str()).unwrap_or(name);
        if base.starts_with("~$") || base.starts_with('.') {
            skipped.push(name.clone());
            continue;
        }
        match Format::of(path) {
            Some(Format::Csv) => {
                let dir = path.parent().map(|d| d.display().to_string()).unwrap_or_default();
                csv.entry(dir).or_default().push(i);
            }
            Some(format) => subs.push(Submission { format, files: vec![i], display: name.clone() }),
            None => skipped.push(name.clone()),
        }
    }
    for (dir, files) in csv {
        let display = match (dir.is_empty(), files.as_slice()) {
            (false, _) => dir,
            (true, [one]) => names.get(*one).cloned().unwrap_or_default(),
            (true, _) => "CSV files".to_string(),
        };
        subs.push(Submission { format: Format::Csv, files, display });
    }
    (subs, skipped)
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
    pub info: RuleInfo,
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
    /// Notes (years chosen).
    pub notes: Vec<String>,
    /// Submissions that could not be read, and why.
    pub errors: Vec<String>,
}

/// A submission read: its return, rule year, tables, and notes about the year.
struct Loaded {
    ret: String,
    year: String,
    data: Dataset,
    notes: Vec<String>,
}

/// Files, their submissions, what was read of them, and the last run.
pub struct Session {
    book: Book,
    files: Vec<File>,
    subs: Vec<Submission>,
    skipped: Vec<String>,
    /// Datasets read during detection, kept for validation (taken by it).
    cache: Vec<Option<Loaded>>,
    /// The last run.
    run: Option<Run>,
    rule_views: BTreeMap<String, RuleView>,
}

impl Session {
    /// A session over a rule book.
    pub fn new(book: Book) -> Session {
        Session { book, files: vec![], subs: vec![], skipped: vec![], cache: vec![], run: None, rule_views: BTreeMap::new() }
    }

    /// The rule book.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Adds a file (replacing one of the same name); forgets what was detected and validated.
    pub fn add_file(&mut self, name: String, bytes: Vec<u8>) {
        self.files.retain(|(n, _)| *n != name);
        self.files.push((name, bytes));
        self.forget();
    }

    /// Removes a file by name.
    pub fn remove_file(&mut self, name: &str) {
        self.files.retain(|(n, _)| n != name);
        self.forget();
    }

    /// Removes every file.
    pub fn clear(&mut self) {
        self.files.clear();
        self.forget();
    }

    fn forget(&mut self) {
        self.subs.clear();
        self.skipped.clear();
        self.cache.clear();
        self.run = None;
        self.rule_views.clear();
    }

    /// The files of a submission.
    fn files_of(&self, sub: &Submission) -> Vec<File> {
        sub.files.iter().filter_map(|i| self.files.get(*i)).cloned().collect()
    }

    /// Groups the files into submissions and tells each one's return and year (reading it).
    pub fn detect(&mut self, progress: Progress) -> (Vec<Detected>, Vec<String>) {
        let names: Vec<String> = self.files.iter().map(|(n, _)| n.clone()).collect();
        let (subs, skipped) = group(&names);
        let parts = subs.len();
        let mut out = vec![];
        let mut cache = vec![];
        for (i, sub) in subs.iter().enumerate() {
            progress(&Step { stage: format!("Reading {}", sub.display), done: 0, total: 0, part: i + 1, parts });
            let files = self.files_of(sub);
            let found = pick_return(&self.book, sub.format, &files, &sub.display)
                .and_then(|ret| read_submission(&self.book, sub, &files, &ret, None));
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
        self.subs = subs;
        self.skipped = skipped.clone();
        self.cache = cache;
        self.run = None;
        (out, skipped)
    }

    /// Validates every submission with the return and year chosen (or detected).
    pub fn validate(&mut self, req: &Request, progress: Progress) -> Result<Outcome<'_>, String> {
        if self.subs.is_empty() {
            self.detect(progress);
        }
        if self.subs.is_empty() {
            return Err("no xml, xlsx or csv files to validate".into());
        }
        let parts = self.subs.len();
        let mut loaded: Vec<(usize, Loaded)> = vec![];
        let mut errors = vec![];
        let mut notes = vec![];
        for (i, sub) in self.subs.clone().iter().enumerate() {
            let choice = req.choices.get(i).cloned().unwrap_or_default();
            let cached = self.cache.get_mut(i).and_then(Option::take);
            let reuse = cached
                .filter(|l| choice.ret.as_ref().is_none_or(|r| *r == l.ret) && choice.year.as_ref().is_none_or(|y| *y == l.year));
            let l = match reuse {
                Some(l) => Ok(l),
                None => {
                    progress(&Step { stage: format!("Reading {}", sub.display), done: 0, total: 0, part: i + 1, parts });
                    let files = self.files_of(sub);
                    let ret = match &choice.ret {
                        Some(r) => Ok(r.clone()),
                        None => pick_return(&self.book, sub.format, &files, &sub.display),
                    };
                    ret.and_then(|ret| read_submission(&self.book, sub, &files, &ret, choice.year.as_deref()))
                }
            };
            match l {
                Ok(l) => {
                    notes.extend(l.notes.iter().cloned());
                    loaded.push((i, l));
                }
                Err(e) => errors.push(e),
            }
        }
        attach_foreign(&self.book, &mut loaded);
        let limit = req.max_per_rule.unwrap_or(eval::DEFAULT_LIMIT);
        let mut rules = BTreeMap::new();
        let mut views = BTreeMap::new();
        let mut findings: Vec<Finding> = vec![];
        let mut validated = vec![];
        for (i, l) in loaded {
            let Some(sub) = self.subs.get(i) else { continue };
            let c = self.book.get(&l.ret, &l.year);
            let Some(prog) = c.program.clone() else {
                errors.push(format!("the {} {} rules have errors:\n{}", l.ret, l.year, fettle::cli::diagnostics(&c)));
                continue;
            };
            rules.extend(rule_infos(&c));
            views.extend(rule_views(&c));
            let total = prog.rules.len();
            let stage = format!("Checking {} ({} {})", sub.display, l.ret, l.year);
            progress(&Step { stage: stage.clone(), done: 0, total, part: i + 1, parts });
            let prepared = eval::prepare(&prog, l.data);
            let done = std::sync::atomic::AtomicUsize::new(0);
            let tick = |_: &RuleDef| {
                let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if k.is_multiple_of(4) || k == total {
                    progress(&Step { stage: stage.clone(), done: k, total, part: i + 1, parts });
                }
                true
            };
            let found = run_rules(&prog, &prepared, &tick, limit);
            validated.push(Validated {
                display: sub.display.clone(),
                format: format_name(sub.format),
                ret: l.ret,
                year: l.year,
                summary: Summary::of(&found, 1),
            });
            findings.extend(found);
        }
        eval::sort(&mut findings);
        let files: Vec<String> = validated.iter().map(|v| v.display.clone()).collect();
        let run = Run { findings, files, rules };
        self.rule_views = views;
        self.run = Some(run);
        let Some(run) = &self.run else { return Err("no run".into()) };
        notes.extend(self.skipped.iter().map(|s| format!("note: `{s}` is not a file fettle reads (xml, xlsx or csv); skipped")));
        Ok(Outcome {
            version: 1,
            submissions: validated,
            summary: run.summary(),
            findings: &run.findings,
            rules: self.rule_views.clone(),
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
                    submission.and_then(|i| self.subs.get(i)).ok_or_else(|| "say which submission to annotate".to_string())?;
                if sub.format != Format::Xlsx {
                    return Err(format!("`{}` is not an xlsx workbook; only workbooks are annotated", sub.display));
                }
                let (_, bytes) = sub.files.first().and_then(|i| self.files.get(*i)).ok_or("the workbook is gone")?;
                let findings: Vec<&Finding> = run.of_file(&sub.display).collect();
                report::annotate::annotate_bytes(bytes, &sub.display, &findings)
            }
            other => Err(format!("there is no report `{other}`; use xlsx, json, html, csv or annotated")),
        }
    }
}

/// Runs the rules with a callback before each (its progress).
fn run_rules(prog: &Program, p: &eval::Prepared, tick: &(dyn Fn(&RuleDef) -> bool + Sync), limit: usize) -> Vec<Finding> {
    eval::run_limited(prog, p, tick, limit)
}

/// Picks the return of a submission by matching its structure against each return's latest schema
/// (as `fettle validate` does).
pub fn pick_return(book: &Book, format: Format, files: &[File], display: &str) -> Result<String, String> {
    let sniff = input::sniff_bytes(format, files);
    let mut best: Option<(usize, String)> = None;
    for ret in book.returns() {
        let Some(year) = book.latest(&ret) else { continue };
        let c = book.get(&ret, &year);
        let Some(p) = &c.program else { continue };
        let score = match format {
            Format::Xml => {
                let root = sniff.xml_paths.first().and_then(|p| p.split(['/', '=']).next()).unwrap_or("");
                let tops: Vec<&str> =
                    p.schema.tables.iter().filter_map(|t| t.xml.as_deref()).filter_map(|x| x.split('/').next()).collect();
                if tops.contains(&root) {
                    1 + p
                        .schema
                        .tables
                        .iter()
                        .filter(|t| t.xml.as_ref().is_some_and(|x| sniff.xml_paths.iter().any(|s| s.contains(x.as_str()))))
                        .count()
                } else {
                    0
                }
            }
            _ => {
                // Sheets named like the return's tables count most; its column names break ties.
                let names: Vec<String> = sniff.sheets.iter().map(|s| input::norm_name(s)).collect();
                let heads: HashSet<String> = sniff.heads.iter().map(|s| input::norm_name(s)).collect();
                let sheets =
                    p.schema.tables.iter().filter(|t| t.sheets.iter().any(|s| names.contains(&input::norm_name(s)))).count();
                let columns = p
                    .schema
                    .tables
                    .iter()
                    .filter(|t| t.foreign.is_none())
                    .flat_map(|t| t.data_fields().map(|(_, f)| f))
                    .filter(|f| heads.contains(&input::norm_name(&f.name)))
                    .count();
                if sheets == 0 { 0 } else { sheets * 1000 + columns }
            }
        };
        if score > 0 && best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, ret));
        }
    }
    best.map(|(_, r)| r).ok_or_else(|| format!("cannot tell which return `{display}` is; choose it"))
}

/// Reads a submission with the right year's rules: the year given, else the year of its
/// `detect year from` date, else the latest.
fn read_submission(book: &Book, sub: &Submission, files: &[File], ret: &str, year: Option<&str>) -> Result<Loaded, String> {
    let mut notes = vec![];
    let latest = book.latest(ret).ok_or_else(|| format!("there are no rules for the return `{ret}`"))?;
    let first_year = year.map(str::to_string).unwrap_or(latest.clone());
    if !book.has(ret, &first_year) {
        return Err(format!("there are no `{ret}` rules for {first_year} (rules exist for {})", book.years(ret).join(", ")));
    }
    let read = |prog: &Program| input::read_bytes(&prog.schema, sub.format, files, &sub.display).map_err(|e| e.to_string());
    let mut prog = book.program(ret, &first_year)?;
    let mut chosen = first_year;
    // XML says its date in its first lines: pick the year before reading the whole file.
    let sniffed = if year.is_none() && sub.format == Format::Xml { sniff_year(&prog, files) } else { None };
    if let Some(det) = &sniffed {
        let y = choose_year(book, ret, det, &latest, &sub.display, &mut notes);
        if y != chosen {
            prog = book.program(ret, &y)?;
            chosen = y;
        }
    }
    let data = read(&prog)?;
    if year.is_some() || sniffed.is_some() {
        return Ok(Loaded { ret: ret.into(), year: chosen, data, notes });
    }
    let detected = prog.detect_year.and_then(|(t, f)| match data.table(t).and_then(|x| x.col(f)).map(|c| c.get(0).clone()) {
        Some(Scalar::Date(d)) => eval::dates::collection_year(d),
        _ => None,
    });
    let Some(det) = detected else { return Ok(Loaded { ret: ret.into(), year: chosen, data, notes }) };
    let y = choose_year(book, ret, &det, &latest, &sub.display, &mut notes);
    if y == chosen {
        return Ok(Loaded { ret: ret.into(), year: chosen, data, notes });
    }
    let prog = book.program(ret, &y)?;
    let data = read(&prog)?;
    Ok(Loaded { ret: ret.into(), year: y, data, notes })
}

/// The rule year for a detected collection year: itself, or the nearest earlier one (with a note).
fn choose_year(book: &Book, ret: &str, det: &str, latest: &str, display: &str, notes: &mut Vec<String>) -> String {
    let years = book.years(ret);
    if years.iter().any(|y| y == det) {
        return det.to_string();
    }
    let below = years.iter().filter(|y| y.as_str() <= det).max().cloned();
    let y = below.or_else(|| years.iter().min().cloned()).unwrap_or(latest.to_string());
    notes.push(format!("note: `{display}` is for {det}; there are no {ret} rules for it, so the {y} rules are used"));
    y
}

/// The collection year from the detect field in an XML file's first lines.
fn sniff_year(prog: &Program, files: &[File]) -> Option<String> {
    let (t, f) = prog.detect_year?;
    let table = prog.schema.table(t);
    let field = prog.schema.field(t, f);
    let path = format!("{}/{}", table.xml.as_deref()?, field.xml.clone().unwrap_or_else(|| field.name.clone()));
    let sniff = input::sniff_bytes(Format::Xml, files);
    let value = sniff.xml_paths.iter().find_map(|p| p.strip_prefix(path.as_str()).and_then(|r| r.strip_prefix('=')))?;
    let d = input::coerce::parse_date(value)?;
    eval::dates::collection_year(chrono_days(d))
}

/// Days from the common era of a date, as fettle's date values count them.
fn chrono_days(d: chrono::NaiveDate) -> i32 {
    chrono::Datelike::num_days_from_ce(&d)
}

/// Gives each submission the tables of the other returns it `uses`, from another submission of the
/// same run (the first of that return).
fn attach_foreign(book: &Book, loaded: &mut [(usize, Loaded)]) {
    let sources: Vec<(String, Dataset)> = loaded.iter().map(|(_, l)| (l.ret.clone(), l.data.clone())).collect();
    for (_, l) in loaded.iter_mut() {
        let c = book.get(&l.ret, &l.year);
        let Some(prog) = &c.program else { continue };
        for (i, t) in prog.schema.tables.iter().enumerate() {
            let Some((other, orig)) = &t.foreign else { continue };
            let Some((_, src)) = sources.iter().find(|(r, _)| r == other) else { continue };
            let Some(table) = src.table(*orig) else { continue };
            let mut table = table.clone();
            table.columns.resize(t.fields.len(), Column::default());
            if let Some(slot) = l.data.tables.get_mut(i) {
                *slot = table;
            }
            if !l.data.attached.contains(other) {
                l.data.attached.push(other.clone());
            }
        }
    }
}

/// What reports show of each rule of a compiled set (as `fettle validate` gives them).
pub fn rule_infos(c: &Compiled) -> BTreeMap<String, RuleInfo> {
    let mut m = BTreeMap::new();
    let Some(p) = &c.program else { return m };
    for r in &p.rules {
        let text =
            r.check_span.map(|s| c.sources.snippet(s).split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        let check = if text.chars().count() > 160 { format!("{}...", text.chars().take(157).collect::<String>()) } else { text };
        m.insert(
            r.code.clone(),
            RuleInfo {
                code: r.code.clone(),
                severity: r.severity,
                message: r.message.clone(),
                ret: p.ret.clone(),
                year: p.year.clone(),
                file: r.file.clone(),
                line: r.line,
                check,
                fields: r
                    .fields
                    .iter()
                    .map(|(t, f)| format!("{}.{}", p.schema.table(*t).name, p.schema.field(*t, *f).name))
                    .collect(),
                fix: r.fix.clone(),
            },
        );
    }
    m
}

/// The page's view of each rule of a compiled set.
fn rule_views(c: &Compiled) -> BTreeMap<String, RuleView> {
    let infos = rule_infos(c);
    let mut m = BTreeMap::new();
    let Some(p) = &c.program else { return m };
    for r in &p.rules {
        let Some(info) = infos.get(&r.code) else { continue };
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

    fn sample(rel: &str) -> File {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        (name, std::fs::read(&path).unwrap())
    }

    fn quiet(_: &Step) {}

    #[test]
    fn groups_files() {
        let names: Vec<String> =
            ["b.xlsx", "csv/Header.csv", "a.xml", "csv/Reviews.csv", "notes.txt", "~$b.xlsx", "x.csv"].map(String::from).to_vec();
        let (subs, skipped) = group(&names);
        let shown: Vec<(&str, usize)> = subs.iter().map(|s| (s.display.as_str(), s.files.len())).collect();
        assert_eq!(shown, vec![("a.xml", 1), ("b.xlsx", 1), ("x.csv", 1), ("csv", 2)]);
        assert_eq!(skipped, vec!["notes.txt", "~$b.xlsx"]);
    }

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
            let mut s = Session::new(Book::shipped());
            let (name, bytes) = sample(rel);
            s.add_file(name.clone(), bytes);
            let (found, _) = s.detect(&quiet);
            assert_eq!(found.len(), 1);
            assert!(found[0].error.is_none(), "{rel}: {:?}", found[0].error);
            assert!(found[0].ret.is_some() && found[0].year.is_some());
            let out = s.validate(&Request::default(), &quiet).unwrap();
            assert!(out.errors.is_empty(), "{:?}", out.errors);
            assert!(!out.findings.is_empty(), "{rel} has findings");
            for f in out.findings {
                assert!(f.code.starts_with("input::") || out.rules.contains_key(&f.code), "{rel}: rule {} shown", f.code);
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
        let mut s = Session::new(Book::shipped());
        for rel in ["samples/disability/disability-2024-25.xlsx", "samples/cin/census-2024-25.xml"] {
            let (n, b) = sample(rel);
            s.add_file(n, b);
        }
        let (found, _) = s.detect(&quiet);
        let rets: Vec<Option<String>> = found.iter().map(|d| d.ret.clone()).collect();
        assert_eq!(rets, vec![Some("cin".into()), Some("disability".into())]);
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert_eq!(out.submissions.len(), 2);
    }

    /// CSV files held in memory read as the folder does.
    #[test]
    fn csv_folder() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/fgc/csv");
        let mut s = Session::new(Book::shipped());
        let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        names.sort();
        for p in names {
            let name = format!("csv/{}", p.file_name().unwrap().to_string_lossy());
            s.add_file(name, std::fs::read(&p).unwrap());
        }
        let (found, _) = s.detect(&quiet);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ret.as_deref(), Some("fgc"));
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert!(out.findings.iter().any(|f| matches!(f.location, Some(fettle::eval::Location::Line { .. }))));
    }

    #[test]
    fn unknown_files_are_explained() {
        let mut s = Session::new(Book::shipped());
        s.add_file("x.xlsx".into(), b"not a zip".to_vec());
        let (found, _) = s.detect(&quiet);
        assert!(found[0].error.is_some());
        let out = s.validate(&Request::default(), &quiet).unwrap();
        assert_eq!(out.errors.len(), 1);
    }
}
