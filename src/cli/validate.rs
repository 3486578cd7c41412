//! `fettle validate PATH...`: find submissions, pick their return and year, read, run, report.

use super::{FailOn, err, library, previous, progress, timing, try_out};
use crate::eval::{self, Finding};
use crate::input::Format;
use crate::library::{Compiled, Library};
use crate::report;
use crate::submission::{
    self, Files, Loaded, Rulebook, Source, attach_foreign, read_submission, read_submission_with, rule_infos,
};
use crate::syntax::ast::Severity;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Output formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum OutFormat {
    /// Readable text grouped by rule.
    Human,
    /// The stable JSON document.
    Json,
    /// One finding per line.
    Csv,
    /// JUnit XML: a test case per rule and file.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
    /// An Excel workbook: summary, findings, a sheet per child.
    Xlsx,
    /// One self-contained HTML page.
    Html,
    /// Explained queries as text for the DfE portal.
    CollectNotes,
}

impl OutFormat {
    /// The file name used with `--out DIR`.
    pub fn file_name(self) -> &'static str {
        match self {
            OutFormat::Human => "fettle-report.txt",
            OutFormat::Json => "fettle-report.json",
            OutFormat::Csv => "fettle-findings.csv",
            OutFormat::Junit => "fettle-junit.xml",
            OutFormat::Sarif => "fettle-report.sarif",
            OutFormat::Xlsx => "fettle-report.xlsx",
            OutFormat::Html => "fettle-report.html",
            OutFormat::CollectNotes => "fettle-collect-notes.txt",
        }
    }
}

/// `fettle validate` arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files or folders to validate (folders are walked in sorted order).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Rules folder (default: the shipped rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// The return (`cin`, `fgc`, `disability`), when it cannot be told from the file.
    #[arg(long = "return")]
    ret: Option<String>,
    /// The collection year (`2024-25`), when it cannot be told from the file.
    #[arg(long)]
    year: Option<String>,
    /// Output format; repeat for several (with --out DIR).
    #[arg(long, value_enum)]
    format: Vec<OutFormat>,
    /// Write each format to a file in this folder.
    #[arg(long, conflicts_with = "output")]
    out: Option<PathBuf>,
    /// Write the (single) format to this file.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Explanations of queries: a CSV or xlsx file with columns code, key (LAchildID or location), reason.
    #[arg(long)]
    explain: Option<PathBuf>,
    /// Replace child ids and dates of birth in every report by stable pseudonyms.
    #[arg(long)]
    redact: bool,
    /// The most findings one rule makes on one file (0: no limit); the rest are counted.
    #[arg(long, default_value_t = eval::DEFAULT_LIMIT)]
    max_per_rule: usize,
    /// Write a copy of the (xlsx) submission with every cell that has a finding highlighted.
    #[arg(long)]
    annotate: Option<PathBuf>,
    /// Findings at or above this severity make the exit code 1.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Last year's return (a file or folder) of the same return, for the year-on-year rules
    /// (`uses previous`); repeat for several returns.
    #[arg(long, value_name = "LAST")]
    previous: Vec<PathBuf>,
    /// Raises a limit on what one input may hold, NAME=N (repeatable): input-mb, zip-entry-mb, zip-ratio,
    /// shared-strings, shared-strings-mb, sheet-rows, sheet-cells, xml-elements, xml-depth,
    /// field-mb (defaults in src/input/limits.rs).
    #[arg(long = "limit", value_name = "NAME=N", value_parser = crate::input::limits::parse)]
    limit: Vec<(crate::input::limits::Limit, u64)>,
    /// No progress display on stderr (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// One submission: a file, or the CSV files of one folder.
#[derive(Clone, Debug)]
pub struct Submission {
    /// How to read it.
    pub format: Format,
    /// Its files.
    pub files: Vec<PathBuf>,
    /// How it is named in reports.
    pub display: String,
}

/// Finds submissions under the given paths, in sorted order.
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
                if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("~$") || n.starts_with('.')) {
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

impl Submission {
    /// The submission as the library reads it.
    pub(super) fn source(&self) -> Source<'_> {
        Source { format: self.format, files: Files::Disk(&self.files), display: &self.display }
    }
}

/// Picks the return of a submission by its structure; when none matches, says why: the reader's own
/// words if a reader refuses it, else what it has and how to name the return.
pub(super) fn pick_return(book: &Rulebook, sub: &Submission) -> Result<String, String> {
    let src = sub.source();
    let sniff = src.sniff();
    if let Some(ret) = submission::pick_return(book, sub.format, &sniff) {
        return Ok(ret);
    }
    if let Some(e) = submission::unreadable(book, &src) {
        return Err(e);
    }
    let found = if sniff.sheets.is_empty() { String::new() } else { format!(" (it has {})", sniff.sheets.join(", ")) };
    Err(format!("cannot tell which return `{}` is{found}; name it with --return", sub.display))
}

/// Runs `fettle validate`.
pub fn run(a: &Args) -> u8 {
    if let Err(e) = crate::input::limits::check_env() {
        err(&format!("error: {e}\n"));
        return 2;
    }
    crate::input::limits::set(&a.limit);
    let lib = match library(a.rules.as_ref()) {
        Ok(l) => l,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let subs = match discover(&a.paths) {
        Ok(s) if s.is_empty() => {
            let named: Vec<String> = a.paths.iter().map(|p| format!("`{}`", p.display())).collect();
            err(&format!("error: no xml, xlsx or csv files found in {}\n", named.join(", ")));
            return 2;
        }
        Ok(s) => s,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let book = Rulebook::new(lib);
    let mut texts = BTreeMap::new();
    let timing = std::env::var_os("FETTLE_TIMING").is_some();
    let progress = progress::Display::new(!a.no_progress, subs.len(), progress::total_size(subs.iter().flat_map(|s| &s.files)));
    // Read every submission first (in parallel, order kept): a return may read another's tables.
    let t0 = std::time::Instant::now();
    // Last year's files (`--previous`) are read alongside.
    let (results, last_year): (Vec<Result<Loaded, String>>, previous::Read) = rayon::join(
        || {
            subs.par_iter()
                .map(|sub| {
                    let ret = match &a.ret {
                        Some(r) => r.clone(),
                        None => pick_return(&book, sub)?,
                    };
                    let read = read_submission_with(&book, &sub.source(), &ret, a.year.as_deref(), &progress);
                    progress.file_read();
                    read
                })
                .collect()
        },
        || previous::read(&book, a.previous.as_slice(), a.ret.as_deref()),
    );
    let mut failed_tool = false;
    let mut loaded: Vec<Loaded> = vec![];
    let mut files: Vec<String> = vec![];
    let mut returns = BTreeMap::new();
    for (r, sub) in results.into_iter().zip(&subs) {
        match r {
            Ok(l) => {
                files.push(sub.display.clone());
                returns.insert(sub.display.clone(), (l.ret.clone(), l.year.clone()));
                for n in &l.notes {
                    progress.suspend(|| err(&format!("{n}\n")));
                }
                loaded.push(l);
            }
            Err(e) => {
                progress.suspend(|| err(&format!("error: {e}\n")));
                failed_tool = true;
            }
        }
    }
    if timing {
        progress.suspend(|| err(&format!("timing: read {:?}\n", t0.elapsed())));
    }
    if loaded.is_empty() && failed_tool {
        // Nothing could be read: no report (an empty one would read like a pass).
        return 2;
    }
    attach_foreign(&book, &mut loaded);
    let (previous, run_notes) = match previous::attach(&book, last_year, &mut loaded) {
        Ok(x) => x,
        Err(e) => {
            progress.finish();
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let mut sets: Vec<Arc<Compiled>> = vec![];
    for l in &loaded {
        let c = book.get(&l.ret, &l.year);
        if c.has_errors() {
            progress.finish();
            err(&c.diagnostics());
            return 2;
        }
        texts.extend(rule_infos(&c));
        sets.push(c);
    }
    progress.start_rules(sets.iter().map(|c| c.program.as_ref().map_or(0, |p| p.rules.len() as u64)).sum());
    let t1 = std::time::Instant::now();
    let per_file: Vec<Result<Vec<Finding>, eval::Fault>> = loaded
        .into_par_iter()
        .zip(sets.into_par_iter())
        .map(|(l, c)| {
            match &c.program {
                Some(prog) => {
                    let prepared = eval::prepare(prog, l.data)?;
                    let timed = timing::Timed::new(&progress, timing);
                    let found = eval::run_with(prog, &prepared, &|_| true, a.max_per_rule, &timed)?;
                    if let Some(slowest) = timed.slowest(5) {
                        progress.suspend(|| err(&format!("timing: slowest rules: {slowest}\n")));
                    }
                    // Freeing millions of values takes a noticeable time: a thread of its own does it,
                    // and the process does not wait for it to finish before exiting.
                    let _ = std::thread::Builder::new().name("fettle-free".into()).spawn(move || drop(prepared));
                    Ok(found)
                }
                None => Ok(vec![]),
            }
        })
        .collect();
    progress.finish();
    // An engine fault is a bug in fettle: no report is written from a run that met one.
    let per_file = match per_file.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(v) => v,
        Err(fault) => {
            err(&format!("error: {fault}\n"));
            return 2;
        }
    };
    if timing {
        err(&format!("timing: validate {:?}\n", t1.elapsed()));
    }
    let mut findings: Vec<Finding> = per_file.into_iter().flatten().collect();
    eval::sort(&mut findings);
    let fail_on = match a.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Query => Some(Severity::Query),
        FailOn::Never => None,
    };
    let mut run = report::Run::new(findings, files, texts);
    run.returns = returns;
    run.fail_on = fail_on;
    run.rules_on_disk = a.rules.is_some();
    run.previous = previous.uses.clone();
    run.notes = run_notes;
    if let Some(path) = &a.explain {
        match report::explain::load(path) {
            Ok(ex) => report::explain::apply(&mut run, &ex, &path.display().to_string()),
            Err(e) => {
                err(&format!("error: {e}\n"));
                return 2;
            }
        }
    }
    if let Some(to) = &a.annotate
        && let Err(e) = annotate(&subs, &run, to)
    {
        err(&format!("error: {e}\n"));
        return 2;
    }
    if a.redact {
        report::redact::apply(&mut run, &std::env::var("FETTLE_REDACT_SALT").unwrap_or_default());
    }
    let mut inputs: Vec<PathBuf> = subs.iter().flat_map(|s| s.files.clone()).collect();
    inputs.extend(previous.files.iter().cloned());
    if let Err(e) = write_reports(a, &run, &inputs) {
        err(&format!("error: {e}\n"));
        return 2;
    }
    if failed_tool {
        return 2;
    }
    if run.findings.iter().any(|f| run.fails(f)) { 1 } else { 0 }
}

/// Renders one format.
fn render(format: OutFormat, run: &report::Run) -> Result<Vec<u8>, String> {
    Ok(match format {
        OutFormat::Human => report::human::render(run).into_bytes(),
        OutFormat::Json => format!("{}\n", report::json::render(run)).into_bytes(),
        OutFormat::Csv => report::csv::render(run).into_bytes(),
        OutFormat::Junit => report::junit::render(run).into_bytes(),
        OutFormat::Sarif => format!("{}\n", report::sarif::render(run)).into_bytes(),
        OutFormat::Xlsx => report::xlsx::render(run).map_err(|e| format!("cannot build the xlsx report: {e}"))?,
        OutFormat::Html => report::html::render(run).into_bytes(),
        OutFormat::CollectNotes => report::explain::collect_notes(run).into_bytes(),
    })
}

/// Writes every requested format: to stdout, to `--output FILE`, or to files in `--out DIR`.
fn write_reports(a: &Args, run: &report::Run, inputs: &[PathBuf]) -> Result<(), String> {
    let formats: Vec<OutFormat> = if a.format.is_empty() { vec![OutFormat::Human] } else { a.format.clone() };
    let targets: Vec<(OutFormat, Option<PathBuf>)> = match (&a.out, &a.output) {
        (Some(dir), _) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            formats.iter().map(|f| (*f, Some(dir.join(f.file_name())))).collect()
        }
        (None, Some(file)) => {
            if formats.len() > 1 {
                return Err("--output takes one format; use --out DIR for several".into());
            }
            formats.iter().map(|f| (*f, Some(file.clone()))).collect()
        }
        (None, None) => {
            if formats.len() > 1 {
                return Err("several formats need --out DIR".into());
            }
            formats.iter().map(|f| (*f, None)).collect()
        }
    };
    // Every report is built and written beside its target before any is moved into place, so a run
    // that fails part way (a full disk, a format that cannot be built) leaves the previous reports as
    // they were and no temporary file behind (dropping a staged file removes it).
    let several = targets.len() > 1;
    let mut staged = vec![];
    for (format, target) in targets {
        match target {
            None if format == OutFormat::Xlsx => return Err("the xlsx report is a file: give --output FILE or --out DIR".into()),
            None => try_out(&render(format, run)?)?,
            Some(path) => {
                if paths_clash(inputs, &path) {
                    return Err(format!("`{}` is an input; fettle never overwrites an input file", path.display()));
                }
                let bytes = render(format, run)?;
                let s = report::stage(&path, &bytes).map_err(|e| {
                    let nothing = if several { "; no report was written" } else { "" };
                    format!("cannot write `{}`: {e}{nothing}", path.display())
                })?;
                staged.push((path, s));
            }
        }
    }
    let mut written: Vec<String> = vec![];
    for (path, s) in staged {
        s.commit().map_err(|e| {
            let done = if written.is_empty() { String::new() } else { format!("; already replaced: {}", written.join(", ")) };
            format!("cannot write `{}`: {e}{done}", path.display())
        })?;
        written.push(format!("`{}`", path.display()));
    }
    Ok(())
}

/// Writes the annotated copy of the (first) xlsx submission.
fn annotate(subs: &[Submission], run: &report::Run, to: &Path) -> Result<(), String> {
    let Some(sub) = subs.iter().find(|s| s.format == Format::Xlsx) else {
        return Err("--annotate needs an xlsx submission".into());
    };
    let Some(src) = sub.files.first() else { return Err("--annotate needs an xlsx submission".into()) };
    if paths_clash(&sub.files, to) {
        return Err(format!("`{}` is an input; fettle never overwrites an input file", to.display()));
    }
    let findings: Vec<&Finding> = run.of_file(&sub.display).collect();
    let bytes = report::annotate::annotate(src, &findings)?;
    report::write_atomic(to, &bytes).map_err(|e| format!("cannot write `{}`: {e}", to.display()))
}

/// `fettle export`: reads a submission (return and year picked as for validate) and writes its tables
/// in the spreadsheet layout.
pub fn export(path: &Path, csv: bool, to: &Path) -> u8 {
    let subs = match discover(&[path.to_path_buf()]) {
        Ok(s) => s,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let Some(sub) = subs.first() else {
        err("error: nothing to export\n");
        return 2;
    };
    if paths_clash(&sub.files, to) {
        err(&format!("error: `{}` is an input; fettle never overwrites an input file\n", to.display()));
        return 2;
    }
    let book = Rulebook::new(Library::shipped());
    let result = pick_return(&book, sub).and_then(|ret| {
        let l = read_submission(&book, &sub.source(), &ret, None)?;
        let prog = book.program(&ret, &l.year)?;
        let sheets = report::export::sheets(&prog.schema, &l.data);
        if csv {
            std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
            for (name, text) in report::export::csv(&sheets) {
                report::write_atomic(&to.join(name), text.as_bytes()).map_err(|e| e.to_string())?;
            }
            Ok(())
        } else {
            let bytes = report::export::xlsx(&sheets).map_err(|e| e.to_string())?;
            report::write_atomic(to, &bytes).map_err(|e| e.to_string())
        }
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            err(&format!("error: {e}\n"));
            2
        }
    }
}

/// Whether an output path is one of the input files.
pub fn paths_clash(inputs: &[PathBuf], out: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let Some(o) = canon(out) else { return false };
    inputs.iter().any(|i| canon(i).is_some_and(|c| c == o))
}
