//! `fettle validate PATH...`: find submissions, pick their return and year, read, run, report.

use super::{FailOn, err, library, previous, progress, timing, try_out};
use crate::eval::{self, Finding};
use crate::input::Format;
use crate::library::Library;
use crate::pipeline::{self, Submission, discover};
use crate::report;
use crate::submission::{GivenBy, Loaded, Rulebook};
use crate::syntax::ast::Severity;
use std::path::{Path, PathBuf};

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
            err(&format!("error: {}\n", pipeline::nothing_found(&a.paths)));
            return 2;
        }
        Ok(s) => s,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let book = Rulebook::new(lib);
    let timing = std::env::var_os("FETTLE_TIMING").is_some();
    let progress = progress::Display::new(!a.no_progress, subs.len(), progress::total_size(subs.iter().flat_map(|s| &s.files)));
    // Read every submission first (in parallel, order kept): a return may read another's tables.
    let t0 = std::time::Instant::now();
    // Last year's files (`--previous`) are read alongside.
    let (results, last_year) = rayon::join(
        || pipeline::read_all(&book, &subs, a.ret.as_deref(), a.year.as_deref(), &progress),
        || pipeline::read_previous(&book, a.previous.as_slice(), a.ret.as_deref()),
    );
    let mut failed_tool = false;
    let mut loaded: Vec<Loaded> = vec![];
    let mut validated: Vec<(String, String, String)> = vec![];
    for (r, sub) in results.into_iter().zip(&subs) {
        match r {
            Ok(l) => {
                validated.push((sub.display.clone(), l.ret.clone(), l.year.clone()));
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
    pipeline::attach_foreign(&book, &mut loaded);
    let (previous, run_notes) = match previous::attach(&book, last_year, &mut loaded) {
        Ok(x) => x,
        Err(e) => {
            progress.finish();
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let sets = match pipeline::rule_sets(&book, &loaded) {
        Ok(s) => s,
        Err(c) => {
            progress.finish();
            err(&c.diagnostics());
            return 2;
        }
    };
    progress.start_rules(sets.rule_count());
    let t1 = std::time::Instant::now();
    let around = |_: usize, go: &mut dyn FnMut(&dyn crate::input::Progress)| {
        let timed = timing::Timed::new(&progress, timing);
        go(&timed);
        if let Some(slowest) = timed.slowest(5) {
            progress.suspend(|| err(&format!("timing: slowest rules: {slowest}\n")));
        }
    };
    let found = pipeline::run_all(loaded, &sets, a.max_per_rule, &around);
    progress.finish();
    // An engine fault is a bug in fettle: no report is written from a run that met one.
    let findings = match found {
        Ok(ran) => ran.findings,
        Err(fault) => {
            err(&format!("error: {fault}\n"));
            return 2;
        }
    };
    if timing {
        err(&format!("timing: validate {:?}\n", t1.elapsed()));
    }
    let fail_on = match a.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Query => Some(Severity::Query),
        FailOn::Never => None,
    };
    let mut run = pipeline::report(findings, &validated, sets.rules);
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
    let result = pipeline::read(&book, &sub.source(), None, None, (GivenBy::Option, false), &crate::input::Quiet).and_then(|l| {
        let ret = l.ret.clone();
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
