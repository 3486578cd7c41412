//! Arguments, exit codes and wiring. Exit 0: clean; 1: findings at or above `--fail-on`; 2: broken
//! rules, an unreadable file, or a usage error.

mod previous;
mod progress;
mod timing;
mod validate;

use crate::diag;
use crate::library::{Compiled, Library};
use crate::term::{err, library, out, try_out};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// fettle: check statutory returns about children's social care before you submit them.
#[derive(Parser, Debug)]
#[command(name = "fettle", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate submissions (files or folders) against the rules.
    Validate(validate::Args),
    /// Check rule files and report their diagnostics.
    Check {
        /// A rules folder or file (default: the shipped rules).
        rules: Option<PathBuf>,
    },
    /// Run the examples written in rules.
    Test {
        /// A rules folder or file (default: the shipped rules).
        rules: Option<PathBuf>,
        /// Only rules whose code contains this.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Explain a rule (`8670Q`) or a diagnostic code (`check::unknown-field`).
    Explain {
        /// The code.
        code: String,
        /// A rules folder (default: the shipped rules).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Serve the Language Server Protocol on stdin and stdout, for editors.
    Lsp,
    /// Serve the browser page on 127.0.0.1: files chosen there are checked inside the page (fettle as
    /// WebAssembly) and never leave the machine.
    Serve {
        /// The port (0: any free port).
        #[arg(long, default_value_t = 8321)]
        port: u16,
    },
    /// Format rule files in the one canonical layout (in place), or check that they are.
    Fmt {
        /// Rule files or folders (default: `rules`).
        paths: Vec<PathBuf>,
        /// Do not write; exit 1 if any file is not formatted.
        #[arg(long)]
        check: bool,
    },
    /// The rule catalogue, in the shape of the DfE's validation-rules spreadsheet.
    Rules {
        /// A rules folder (default: the shipped rules).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Only this return.
        #[arg(long = "return")]
        ret: Option<String>,
        /// Only this year.
        #[arg(long)]
        year: Option<String>,
        /// Output format: md, json or xlsx.
        #[arg(long, default_value = "md")]
        format: String,
        /// Output file (required for xlsx).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Rules added, removed or changed between two years of a return.
    Diff {
        /// The return.
        #[arg(long = "return")]
        ret: String,
        /// The earlier year.
        from: String,
        /// The later year.
        to: String,
        /// A rules folder (default: the shipped rules).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Output format: md or json.
        #[arg(long, default_value = "md")]
        format: String,
    },
    /// What the rules of a return do not cover: fields no rule reads, codes no rule or example uses,
    /// rules whose examples never fail, and (given submissions) rules never triggered.
    Coverage {
        /// The return.
        #[arg(long = "return")]
        ret: String,
        /// The year (default: the latest).
        #[arg(long)]
        year: Option<String>,
        /// A rules folder (default: the shipped rules).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Submissions to count triggered rules on.
        paths: Vec<PathBuf>,
        /// Output format: md or json.
        #[arg(long, default_value = "md")]
        format: String,
    },
    /// Convert a submission to the spreadsheet layout: an xlsx workbook, or a folder of CSV files.
    Export {
        /// The submission.
        path: PathBuf,
        /// Write a folder of CSV files instead of a workbook.
        #[arg(long)]
        csv: bool,
        /// Output file (or folder with --csv).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the blank template of a return as an xlsx workbook.
    Template {
        /// The return (`fgc`, `disability`, `cin`).
        ret: String,
        /// The year (default: the latest).
        #[arg(long)]
        year: Option<String>,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a realistic, made-up return (deterministic for a seed): cin as XML, fgc and disability
    /// as xlsx, or any as a folder of CSV files with `--csv`.
    Generate {
        /// The return: cin, fgc or disability.
        ret: String,
        /// Number of children (families for fgc).
        #[arg(long, default_value_t = 100)]
        size: usize,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of children given one deliberate mistake (cin; default 0.05, none with --previous).
        #[arg(long)]
        error_rate: Option<f64>,
        /// The year the collection ends (2025 for 2024-25; cin, and with --previous every return).
        #[arg(long, default_value_t = 2025)]
        year: i32,
        /// Write a folder of CSV files instead (fgc, disability).
        #[arg(long)]
        csv: bool,
        /// Output file (or folder with --csv).
        #[arg(long)]
        out: PathBuf,
        /// Also write last year's return to this file (or folder with --csv): a consistent pair of
        /// years, without mistakes, in which the year-on-year rules find nothing.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// With --previous: make this many breaks in this year's return, one year-on-year rule
        /// after another (a child carried over from last year each, or the whole return's count
        /// once), and list the findings due on stdout.
        #[arg(long, requires = "previous")]
        breaks: Option<usize>,
    },
}

/// The severity from which findings fail a run.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FailOn {
    /// Errors fail the run.
    Error,
    /// Errors and queries fail the run.
    Query,
    /// Nothing fails the run.
    Never,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Validate(a) => validate::run(&a),
        Command::Check { rules } => check(rules.as_ref()),
        Command::Test { rules, filter } => test(rules.as_ref(), filter.as_deref()),
        Command::Template { ret, year, out: path } => template(&ret, year.as_deref(), &path),
        Command::Export { path, csv, out: to } => validate::export(&path, csv, &to),
        Command::Fmt { paths, check } => fmt(&paths, check),
        Command::Lsp => crate::lsp::serve(),
        Command::Serve { port } => crate::serve::command(port),
        Command::Explain { code, rules } => crate::tools::explain::command(rules.as_ref(), &code),
        Command::Rules { rules, ret, year, format, output } => {
            crate::tools::catalogue::command(rules.as_ref(), ret.as_deref(), year.as_deref(), &format, output.as_deref())
        }
        Command::Diff { ret, from, to, rules, format } => crate::tools::diff::command(rules.as_ref(), &ret, &from, &to, &format),
        Command::Coverage { ret, year, rules, paths, format } => {
            crate::tools::coverage::command(rules.as_ref(), &ret, year.as_deref(), &paths, &format)
        }
        Command::Generate { ret, size, seed, error_rate, year, csv, out: path, previous, breaks } => match previous {
            Some(last) => generate_pair(&ret, size, seed, error_rate, year, csv, &path, &last, breaks.unwrap_or(0)),
            None => generate(&ret, size, seed, error_rate.unwrap_or(0.05), year, csv, &path),
        },
    };
    if let Some(e) = crate::term::lost_output() {
        err(&format!("error: {e}\n"));
        return ExitCode::from(2);
    }
    ExitCode::from(code)
}

fn check(rules: Option<&PathBuf>) -> u8 {
    let lib = match library(rules) {
        Ok(l) => l,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    if lib.sets.is_empty() {
        let place = rules.map(|r| format!(" in `{}`", r.display())).unwrap_or_default();
        err(&format!("error: no rule files found{place}\n"));
        return 2;
    }
    let mut failed = false;
    let mut report = String::new();
    for (ret, year) in lib.sets.keys() {
        let c = lib.compile(ret, year);
        report.push_str(&c.diagnostics());
        let errors = c.diags.iter().filter(|d| d.level == diag::Level::Error).count();
        let warnings = c.diags.len() - errors;
        failed |= errors > 0;
        let rules = c.program.as_ref().map_or(0, |p| p.rules.len());
        report.push_str(&format!("{ret} {year}: {rules} rules, {errors} errors, {warnings} warnings\n"));
    }
    out(&report);
    if failed { 2 } else { 0 }
}

fn test(rules: Option<&PathBuf>, filter: Option<&str>) -> u8 {
    let lib = match library(rules) {
        Ok(l) => l,
        Err(e) => {
            err(&format!("error: {e}\n"));
            return 2;
        }
    };
    let mut passed = 0;
    let mut failed = 0;
    let mut report = String::new();
    for (ret, year) in lib.sets.keys() {
        let c = lib.compile(ret, year);
        let Some(p) = &c.program else {
            err(&c.diagnostics());
            return 2;
        };
        let outcomes = match crate::examples::run_all(p, filter) {
            Ok(o) => o,
            Err(fault) => {
                err(&format!("error: {fault}\n"));
                return 2;
            }
        };
        for o in outcomes {
            if o.ok {
                passed += 1;
                continue;
            }
            failed += 1;
            let (line, _) = c.sources.line_col(o.span);
            let file = c.sources.get(o.span.file).map(|s| s.name.clone()).unwrap_or_default();
            report.push_str(&format!(
                "FAIL {ret} {year} rule {} {}: expected to {}, {}\n  --> {file}:{line}\n",
                o.code,
                o.label,
                if o.expect_fail { "fail" } else { "pass" },
                if o.findings.is_empty() { "no finding".to_string() } else { format!("{} finding(s)", o.findings.len()) },
            ));
            for f in o.findings.iter().take(3) {
                report.push_str(&format!("  finding: {}\n", f.message));
            }
            report.push_str(&format!("{}\n", example_text(&c, o.span)));
        }
    }
    report.push_str(&format!("{passed} passed, {failed} failed\n"));
    out(&report);
    if failed > 0 { 1 } else { 0 }
}

fn example_text(c: &Compiled, span: crate::span::Span) -> String {
    c.sources.snippet(span).lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}

fn template(ret: &str, year: Option<&str>, path: &std::path::Path) -> u8 {
    let lib = Library::shipped();
    let Some(year) = year.map(str::to_string).or_else(|| lib.years(ret).into_iter().max()) else {
        err(&format!("error: there is no return `{ret}`; returns: {}\n", lib.returns().join(", ")));
        return 2;
    };
    let c = lib.compile(ret, &year);
    let Some(p) = &c.program else {
        err(&c.diagnostics());
        return 2;
    };
    match crate::report::template::workbook(p) {
        Ok(bytes) => match crate::report::write_atomic(path, &bytes) {
            Ok(()) => 0,
            Err(e) => {
                err(&format!("error: cannot write `{}`: {e}\n", path.display()));
                2
            }
        },
        Err(e) => {
            err(&format!("error: cannot build the template: {e}\n"));
            2
        }
    }
}

fn generate(ret: &str, size: usize, seed: u64, error_rate: f64, year: i32, csv: bool, path: &std::path::Path) -> u8 {
    use crate::generate::templates;
    let result: Result<(), String> = match (ret, csv) {
        ("cin", false) => write_generated(path, None, &crate::generate::cin_xml(size, seed, error_rate, year), false),
        ("fgc" | "disability", _) => {
            let sheets = if ret == "fgc" { templates::fgc(seed, size) } else { templates::disability(seed, size) };
            write_generated(path, Some(&sheets), "", csv)
        }
        ("cin", true) => Err("the CIN census is generated as XML".into()),
        _ => Err(format!("there is no generator for `{ret}`; use cin, fgc or disability")),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            err(&format!("error: cannot write `{}`: {e}\n", path.display()));
            2
        }
    }
}

/// Writes a generated return: XML text, an xlsx workbook, or a folder of CSV files (`csv`).
fn write_generated(
    path: &std::path::Path,
    sheets: Option<&[crate::generate::templates::Sheet]>,
    xml: &str,
    csv: bool,
) -> Result<(), String> {
    use crate::generate::templates;
    match sheets {
        None => crate::report::write_atomic(path, xml.as_bytes()).map_err(|e| e.to_string()),
        Some(sheets) if csv => std::fs::create_dir_all(path).map_err(|e| e.to_string()).and_then(|()| {
            templates::csv(sheets).iter().try_for_each(|(name, text)| {
                crate::report::write_atomic(&path.join(name), text.as_bytes()).map_err(|e| e.to_string())
            })
        }),
        Some(sheets) => templates::xlsx(sheets)
            .map_err(|e| e.to_string())
            .and_then(|b| crate::report::write_atomic(path, &b).map_err(|e| e.to_string())),
    }
}

/// The numeric `param`s declared by the shipped rules of `ret` for the collection year ending
/// `year` (else its latest year): the thresholds a generated pair's return-level breaks must cross.
fn declared_thresholds(ret: &str, year: i32) -> crate::generate::Thresholds {
    use crate::check::program::IKind;
    use crate::table::Scalar;
    let lib = Library::shipped();
    let label = format!("{}-{:02}", year - 1, year.rem_euclid(100));
    let years = lib.years(ret);
    let pick = if years.contains(&label) { Some(label) } else { years.into_iter().max() };
    let mut out = crate::generate::Thresholds::default();
    if let Some(program) = pick.and_then(|y| lib.compile(ret, &y).program) {
        for g in program.globals.iter().filter(|g| g.is_param) {
            if let IKind::Const(c) = &g.expr.kind {
                let v = match c.value() {
                    Scalar::Int(n) => n as f64,
                    Scalar::Dec(x) => x,
                    _ => continue,
                };
                out.0.insert(g.name.clone(), v);
            }
        }
    }
    out
}

/// `fettle generate RET --previous LAST --out THIS [--breaks N]`: a consistent pair of returns (the
/// census, or the FGC or disability return), this year's broken on purpose `N` times, once for each
/// year-on-year rule in turn; the findings due are listed on stdout, one a line: the rule's code and
/// the child's LAchildID (the code alone for a rule on the whole return).
#[expect(clippy::too_many_arguments, reason = "one argument per command-line option")]
fn generate_pair(
    ret: &str,
    size: usize,
    seed: u64,
    error_rate: Option<f64>,
    year: i32,
    csv: bool,
    path: &std::path::Path,
    last: &std::path::Path,
    breaks: usize,
) -> u8 {
    let usage = if !["cin", "fgc", "disability"].contains(&ret) {
        Some(format!("there is no generator for `{ret}`; use cin, fgc or disability"))
    } else if csv && ret == "cin" {
        Some("the CIN census is generated as XML".to_string())
    } else if error_rate.is_some() {
        Some(
            "--error-rate cannot be used with --previous: the pair has no mistakes, only the breaks asked for with --breaks"
                .to_string(),
        )
    } else if path == last {
        Some(format!("--previous and --out are the same file `{}`", path.display()))
    } else {
        None
    };
    if let Some(u) = usage {
        err(&format!("error: {u}\n"));
        return 2;
    }
    let limits = declared_thresholds(ret, year);
    let (before, now, due) = match ret {
        "cin" => {
            let (b, n, due) = crate::generate::cin_pair(size, seed, year, breaks, &limits);
            ((None, b), (None, n), due)
        }
        "fgc" => {
            let (b, n, due) = crate::generate::templates::fgc_pair(seed, size, year, breaks);
            ((Some(b), String::new()), (Some(n), String::new()), due)
        }
        _ => {
            let (b, n, due) = crate::generate::templates::disability_pair(seed, size, year, breaks, &limits);
            ((Some(b), String::new()), (Some(n), String::new()), due)
        }
    };
    for (p, (sheets, xml)) in [(last, &before), (path, &now)] {
        if let Err(e) = write_generated(p, sheets.as_deref(), xml, csv) {
            err(&format!("error: cannot write `{}`: {e}\n", p.display()));
            return 2;
        }
    }
    // A changed ID is one break that gives two findings (CINY06Q and the old ID's CINY01Q).
    let made = due.len().saturating_sub(due.iter().filter(|b| b.code == "CINY06Q").count());
    if made < breaks {
        err(&format!("note: {made} of the {breaks} breaks asked for were made: too few children fit (make the return larger)\n"));
    }
    let mut list = String::new();
    for b in &due {
        if b.child.is_empty() {
            list.push_str(&format!("{}\n", b.code));
        } else {
            list.push_str(&format!("{} {}\n", b.code, b.child));
        }
    }
    out(&list);
    0
}

fn fmt(paths: &[PathBuf], check_only: bool) -> u8 {
    let roots = if paths.is_empty() { vec![PathBuf::from("rules")] } else { paths.to_vec() };
    let mut files = vec![];
    for r in &roots {
        if r.is_file() {
            files.push(r.clone());
            continue;
        }
        for e in walkdir::WalkDir::new(r).follow_links(false).sort_by_file_name().into_iter().flatten() {
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "fettle") {
                files.push(e.path().to_path_buf());
            }
        }
    }
    if files.is_empty() {
        let named: Vec<String> = roots.iter().map(|p| format!("`{}`", p.display())).collect();
        err(&format!("error: no .fettle files found in {}\n", named.join(", ")));
        return 2;
    }
    let mut changed = 0;
    let mut broken = false;
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                err(&format!("error: cannot read `{}`: {e}\n", f.display()));
                broken = true;
                continue;
            }
        };
        let mut sources = crate::span::Sources::default();
        let id = sources.add(f.display().to_string(), text.as_str());
        let (parsed, diags) = crate::syntax::parse(id, &text);
        let Some(parsed) = parsed.filter(|_| diags.iter().all(|d| d.level != diag::Level::Error)) else {
            err(&diag::render(&diags, &sources, true, 100));
            broken = true;
            continue;
        };
        let formatted = crate::syntax::format::format(&text, &parsed);
        if formatted == text {
            continue;
        }
        changed += 1;
        if check_only {
            out(&format!("{} is not formatted\n", f.display()));
        } else if let Err(e) = crate::report::write_atomic(f, formatted.as_bytes()) {
            err(&format!("error: cannot write `{}`: {e}\n", f.display()));
            broken = true;
        }
    }
    if broken {
        return 2;
    }
    if check_only {
        out(&format!("{} of {} files need formatting\n", changed, files.len()));
        return u8::from(changed > 0);
    }
    out(&format!("formatted {changed} of {} files\n", files.len()));
    0
}
