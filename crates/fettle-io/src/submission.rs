//! A submission read with the right rules: which return it is, which year's rules read it, its
//! tables, and the tables of the other returns it `uses`. One implementation for `fettle validate`
//! and `fettle export` (files on disk) and the browser page (files held in memory, `web/wasm`).
//!
//! The return is the one whose latest schema best matches the files' structure (XML root and paths;
//! sheet or file names, then column names). The year is the one given, else the year of the
//! `detect year from` date (an XML file says it in its first lines; other files are read with the
//! latest year's rules, then again with the year found if that differs), else the latest; a year
//! without rules falls back to the nearest earlier one, with a note. Compiled rule sets are kept in
//! a [`Rulebook`], compiled once each and shared by the threads reading files.

use crate::check::Program;
use crate::eval::dates;
use crate::input::{self, Format, InputError, Sniff};
use crate::library::{Compiled, Library};
use crate::report::{PreviousUse, RuleInfo, RuleKey};
use crate::schema::Schema;
use crate::table::{Column, Dataset, Scalar};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Compiled rule sets over a library, compiled once each on first use and shared by the threads
/// reading and validating files.
pub struct Rulebook {
    lib: Library,
    /// Each set's compilation, made once: the lock is held only to find a set's cell, so sets are
    /// compiled side by side (a thread that wants a set another is compiling waits for that one).
    compiled: Mutex<BTreeMap<(String, String), Arc<OnceCompiled>>>,
}

/// A set's compilation, once made.
type OnceCompiled = std::sync::OnceLock<Arc<Compiled>>;

impl Rulebook {
    /// A rulebook over a library.
    pub fn new(lib: Library) -> Rulebook {
        Rulebook { lib, compiled: Mutex::new(BTreeMap::new()) }
    }

    /// The compiled set of a return and year (compiling it on first use).
    pub fn get(&self, ret: &str, year: &str) -> Arc<Compiled> {
        let key = (ret.to_string(), year.to_string());
        let cell = {
            let mut map = match self.compiled.lock() {
                Ok(m) => m,
                Err(poisoned) => poisoned.into_inner(),
            };
            map.entry(key).or_default().clone()
        };
        cell.get_or_init(|| Arc::new(self.lib.compile(ret, year))).clone()
    }

    /// The program of a return and year, or its rules' diagnostics rendered when they have errors.
    pub fn program(&self, ret: &str, year: &str) -> Result<Arc<Program>, String> {
        let c = self.get(ret, year);
        match &c.program {
            Some(p) => Ok(p.clone()),
            None => Err(format!("the {ret} {year} rules have errors:\n{}", c.diagnostics())),
        }
    }

    /// The returns, in name order.
    pub fn returns(&self) -> Vec<String> {
        self.lib.returns()
    }

    /// A return's years, in order.
    pub fn years(&self, ret: &str) -> Vec<String> {
        self.lib.years(ret)
    }

    /// A return's latest year.
    pub fn latest(&self, ret: &str) -> Option<String> {
        self.lib.years(ret).into_iter().max()
    }

    fn has(&self, ret: &str, year: &str) -> bool {
        self.lib.sets.contains_key(&(ret.to_string(), year.to_string()))
    }
}

/// A submission's files: paths on disk (the command line), or `(name, contents)` pairs held in
/// memory (the browser), each name a file name or a relative path (`csv/Header.csv`).
#[derive(Clone, Copy, Debug)]
pub enum Files<'a> {
    /// Paths, read when needed.
    Disk(&'a [PathBuf]),
    /// Names and contents.
    Memory(&'a [(String, Vec<u8>)]),
}

/// A submission to read: an XML or xlsx file, or the CSV files of one folder.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    /// How it is read.
    pub format: Format,
    /// Its files.
    pub files: Files<'a>,
    /// How it is named in notes, errors, findings and reports.
    pub display: &'a str,
}

impl Source<'_> {
    /// Just enough of the files to pick the return and year ([`input::sniff`]).
    pub fn sniff(&self) -> Sniff {
        match self.files {
            Files::Disk(f) => input::sniff(self.format, f),
            Files::Memory(f) => input::sniff_bytes(self.format, f),
        }
    }

    /// The files read into tables of a schema ([`input::read`]).
    pub fn read(&self, schema: &Schema) -> Result<Dataset, InputError> {
        self.read_with(schema, &input::Quiet)
    }

    /// [`Source::read`], telling `progress` the bytes read (of files on disk).
    pub fn read_with(&self, schema: &Schema, progress: &dyn input::Progress) -> Result<Dataset, InputError> {
        match self.files {
            Files::Disk(f) => input::read_with(schema, self.format, f, self.display, progress),
            Files::Memory(f) => input::read_bytes(schema, self.format, f, self.display),
        }
    }
}

/// A submission read: its return, rule year, tables, and notes about the year chosen.
#[derive(Debug)]
pub struct Loaded {
    /// The return.
    pub ret: String,
    /// The rule year.
    pub year: String,
    /// Its tables.
    pub data: Dataset,
    /// Notes about the year chosen (`note: ...`).
    pub notes: Vec<String>,
}

/// The return whose latest schema best matches a submission's structure, from what [`Source::sniff`]
/// found: for XML, its root element and paths; otherwise sheets (or CSV files) named like the
/// return's tables count most and its column names break ties. `None` when no return matches.
pub fn pick_return(book: &Rulebook, format: Format, sniff: &Sniff) -> Option<String> {
    use rayon::prelude::*;
    let mut best: Option<(usize, String)> = None;
    // Every return's latest set is needed: compiled side by side, then scored in name order.
    let sets: Vec<(String, Arc<Compiled>)> = book
        .returns()
        .into_par_iter()
        .filter_map(|ret| {
            let year = book.latest(&ret)?;
            let c = book.get(&ret, &year);
            Some((ret, c))
        })
        .collect();
    for (ret, c) in sets {
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
    best.map(|(_, r)| r)
}

/// Why a submission that no return matches cannot be read, in the reader's own words (not a zip,
/// not UTF-8, the wrong root element): it is read with each return that takes its format. `None`
/// when no reader refuses it.
pub fn unreadable(book: &Rulebook, src: &Source) -> Option<String> {
    for ret in book.returns() {
        let Some(year) = book.latest(&ret) else { continue };
        let c = book.get(&ret, &year);
        let Some(p) = &c.program else { continue };
        let takes = match src.format {
            Format::Xml => p.schema.tables.iter().any(|t| t.xml.is_some()),
            _ => true,
        };
        if takes && let Err(e) = src.read(&p.schema) {
            // A workbook or CSV folder without a return's sheets is another return's.
            if matches!(e, InputError::Missing { .. }) && src.format != Format::Xml {
                continue;
            }
            return Some(e.to_string());
        }
    }
    None
}

/// Reads a submission of a return with the right year's rules: the year given, else the year of its
/// `detect year from` date (from an XML file's first lines, else from the tables read with the
/// latest year's rules, which are then read again with that year's when it differs), else the latest.
pub fn read_submission(book: &Rulebook, src: &Source, ret: &str, year: Option<&str>) -> Result<Loaded, String> {
    read_submission_with(book, src, ret, year, &input::Quiet)
}

/// [`read_submission`], telling `progress` the bytes read.
pub fn read_submission_with(
    book: &Rulebook,
    src: &Source,
    ret: &str,
    year: Option<&str>,
    progress: &dyn input::Progress,
) -> Result<Loaded, String> {
    let mut notes = vec![];
    let latest = book.latest(ret).ok_or_else(|| format!("there are no rules for the return `{ret}`"))?;
    let first_year = year.map(str::to_string).unwrap_or(latest.clone());
    if !book.has(ret, &first_year) {
        return Err(format!("there are no `{ret}` rules for {first_year} (rules exist for {})", book.years(ret).join(", ")));
    }
    let read = |prog: &Program| src.read_with(&prog.schema, progress).map_err(|e| e.to_string());
    let mut prog = book.program(ret, &first_year)?;
    let mut chosen = first_year;
    // XML says its date in its first lines: pick the year before reading the whole file.
    let sniffed = if year.is_none() && src.format == Format::Xml { sniff_year(&prog, src) } else { None };
    if let Some(det) = &sniffed {
        let y = choose_year(book, ret, det, &latest, src.display, &mut notes);
        if y != chosen {
            prog = book.program(ret, &y)?;
            chosen = y;
        }
    }
    let data = read(&prog)?;
    let loaded = |year: String, data: Dataset, notes: Vec<String>| Loaded { ret: ret.to_string(), year, data, notes };
    if year.is_some() || sniffed.is_some() {
        return Ok(loaded(chosen, data, notes));
    }
    let detected =
        prog.detect_year.and_then(|(t, f)| match data.table(t).and_then(|x| x.col(f)).and_then(|c| c.get(0).cloned()) {
            Some(Scalar::Date(d)) => dates::collection_year(d),
            _ => None,
        });
    let Some(det) = detected else { return Ok(loaded(chosen, data, notes)) };
    let y = choose_year(book, ret, &det, &latest, src.display, &mut notes);
    if y == chosen {
        return Ok(loaded(chosen, data, notes));
    }
    let prog = book.program(ret, &y)?;
    let data = read(&prog)?;
    Ok(loaded(y, data, notes))
}

/// The rule year for a detected collection year: itself, or the nearest earlier one (with a note).
fn choose_year(book: &Rulebook, ret: &str, det: &str, latest: &str, display: &str, notes: &mut Vec<String>) -> String {
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
fn sniff_year(prog: &Program, src: &Source) -> Option<String> {
    let (t, f) = prog.detect_year?;
    let table = prog.schema.table(t);
    let field = prog.schema.field(t, f);
    let path = format!("{}/{}", table.xml.as_deref()?, field.xml.clone().unwrap_or_else(|| field.name.clone()));
    let sniff = src.sniff();
    let value = sniff.xml_paths.iter().find_map(|p| p.strip_prefix(path.as_str()).and_then(|r| r.strip_prefix('=')))?;
    let d = input::coerce::parse_date(value)?;
    dates::collection_year(chrono::Datelike::num_days_from_ce(&d))
}

/// Gives each submission the tables of the other returns it `uses`, from another submission of the
/// same run (the first of that return). Only the tables a `uses` asks for are copied, and nothing at
/// all when no rule set uses another return.
pub fn attach_foreign(book: &Rulebook, loaded: &mut [Loaded]) {
    // (submission, table slot, the slot's field count, other return, its table).
    let mut wants = vec![];
    for (k, l) in loaded.iter().enumerate() {
        let c = book.get(&l.ret, &l.year);
        let Some(prog) = &c.program else { continue };
        for (i, t) in prog.schema.tables.iter().enumerate() {
            if let Some((other, orig)) = &t.foreign {
                wants.push((k, i, t.fields.len(), other.clone(), *orig));
            }
        }
    }
    for (k, i, fields, other, orig) in wants {
        let Some(mut table) = loaded.iter().find(|l| l.ret == other).and_then(|l| l.data.table(orig)).cloned() else {
            continue;
        };
        // Columns beyond the other return's own (never the case for data fields) stay empty.
        table.columns.resize(fields, Column::default());
        let Some(l) = loaded.get_mut(k) else { continue };
        if let Some(slot) = l.data.tables.get_mut(i) {
            *slot = table;
        }
        if !l.data.attached.contains(&other) {
            l.data.attached.push(other);
        }
    }
}

/// A rule's message with each hole shown as `…`, so that lists of rules never show `{...}`.
fn plain_title(template: &[crate::check::program::IPart]) -> String {
    use crate::check::program::IPart;
    template
        .iter()
        .map(|p| match p {
            IPart::Text(t) => t.as_str(),
            IPart::Expr(_) => "…",
        })
        .collect()
}

/// What reports show of each rule of a compiled set, by return, year and code.
pub fn rule_infos(c: &Compiled) -> BTreeMap<RuleKey, RuleInfo> {
    let mut m = BTreeMap::new();
    let Some(p) = &c.program else { return m };
    for r in &p.rules {
        let text =
            r.check_span.map(|s| c.sources.snippet(s).split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        let check = if text.chars().count() > 160 { format!("{}...", text.chars().take(157).collect::<String>()) } else { text };
        m.insert(
            RuleKey { ret: p.ret.clone(), year: p.year.clone(), code: r.code.clone() },
            RuleInfo {
                code: r.code.clone(),
                severity: r.severity,
                message: r.message.clone(),
                title: plain_title(&r.template),
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

/// The collection year a submission's data is for (from its `detect year from` date), which may
/// differ from the year of the rules that read it.
pub fn data_year(book: &Rulebook, l: &Loaded) -> Option<String> {
    let prog = book.program(&l.ret, &l.year).ok()?;
    let (t, f) = prog.detect_year?;
    match l.data.table(t)?.col(f)?.get(0)? {
        Scalar::Date(d) => dates::collection_year(*d),
        _ => None,
    }
}

/// The collection year before `2024-25`: `2023-24`.
pub fn year_before(year: &str) -> Option<String> {
    let start: i32 = year.get(..4)?.parse().ok()?;
    Some(format!("{}-{:02}", start - 1, start.rem_euclid(100)))
}

/// Fills the `last.T` tables of a submission whose rules say `uses previous` from last year's
/// submission of the same return: each table by name, each field by name, a field last year's
/// rules lack from its `map`, and otherwise left missing with a note (never silently). Returns the
/// notes. Does nothing when the rules do not say `uses previous`.
pub fn attach_previous(book: &Rulebook, this: &mut Loaded, mut prev: Loaded) -> Vec<String> {
    let mut notes = vec![];
    let Ok(prog) = book.program(&this.ret, &this.year) else { return notes };
    let Some(spec) = &prog.previous else { return notes };
    let Ok(pprog) = book.program(&prev.ret, &prev.year) else { return notes };
    let file = prev.data.file.clone();
    for (i, ts) in prog.schema.tables.iter().enumerate() {
        let Some((kind, orig)) = &ts.foreign else { continue };
        if kind != crate::check::previous::PREVIOUS {
            continue;
        }
        let own = prog.schema.table(*orig);
        let Some(pt) = pprog.schema.table_id(&own.name) else {
            notes.push(format!("note: `{file}` ({}) has no table `{}`; `{}` is empty", prev.year, own.name, ts.name));
            continue;
        };
        let pts = pprog.schema.table(pt);
        let Some(src) = prev.data.tables.get_mut(pt.0 as usize) else { continue };
        let mut table = std::mem::take(src);
        let old_cols = std::mem::take(&mut table.columns);
        let mut cols = Vec::with_capacity(ts.fields.len());
        let mut picks: Vec<Option<usize>> = Vec::with_capacity(ts.fields.len());
        for (fi, f) in ts.fields.iter().enumerate() {
            if let Some(pf) = pts.field_id(&f.name).filter(|x| !pprog.schema.field(pt, *x).derived) {
                cols.push(old_cols.get(pf.0 as usize).cloned().unwrap_or_default());
                picks.push(Some(pf.0 as usize));
                continue;
            }
            let map = spec.maps.iter().find(|m| m.table == *orig && m.field.0 as usize == fi);
            match map.and_then(|m| pts.field_id(&m.from).map(|pf| (m, pf))) {
                Some((m, pf)) => {
                    let from = old_cols.get(pf.0 as usize).cloned().unwrap_or_default();
                    let values = from
                        .values
                        .iter()
                        .map(|v| match v {
                            Scalar::Null => Scalar::Null,
                            v => match m.pairs.get(v.display().trim()) {
                                Some(c) => Scalar::Text(c.as_str().into()),
                                // A code the map does not name is kept as written: a rule comparing it
                                // with this year's code then reports the difference.
                                None => v.clone(),
                            },
                        })
                        .collect();
                    cols.push(Column { values, ..from });
                    picks.push(Some(pf.0 as usize));
                    notes.push(format!(
                        "note: `{file}` ({}) has no `{}.{}`; it is read from its `{}` through the map in the rules",
                        prev.year, own.name, f.name, m.from
                    ));
                }
                None => {
                    cols.push(Column { values: vec![Scalar::Null; table.len], ..Column::default() });
                    picks.push(None);
                    notes.push(format!(
                        "note: `{file}` ({}) has no `{}.{}`; rules reading `{}.{}` see it missing",
                        prev.year, own.name, f.name, ts.name, f.name
                    ));
                }
            }
        }
        table.columns = cols;
        // Where each field sits in the file follows the columns.
        table.origin = match std::mem::take(&mut table.origin) {
            input_origin @ crate::table::Origin::Memory => input_origin,
            crate::table::Origin::Sheet { sheet, cols } => crate::table::Origin::Sheet {
                sheet,
                cols: picks.iter().map(|p| p.and_then(|i| cols.get(i).copied().flatten())).collect(),
            },
            crate::table::Origin::Csv { file, cols } => crate::table::Origin::Csv {
                file,
                cols: picks.iter().map(|p| p.and_then(|i| cols.get(i).copied().flatten())).collect(),
            },
            crate::table::Origin::Xml { path, fields } => crate::table::Origin::Xml {
                path,
                fields: picks.iter().map(|p| p.and_then(|i| fields.get(i).cloned()).unwrap_or_default()).collect(),
            },
        };
        table.source = Some(file.clone());
        if let Some(slot) = this.data.tables.get_mut(i) {
            *slot = table;
        }
    }
    let name = crate::check::previous::PREVIOUS.to_string();
    if !this.data.attached.contains(&name) {
        this.data.attached.push(name);
    }
    notes
}

/// How last year's files were given, for the wording of what is said about them: `fettle validate
/// THIS --previous LAST`, or the browser page's area for last year's return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GivenBy {
    /// The command line's `--previous`.
    Option,
    /// The browser page's "Last year's return" area.
    Page,
}

/// Gives each of last year's submissions (`(name, read)`, in order) to this year's submission of the
/// same return (`uses previous`, [`attach_previous`]), after checking that it is that return, one
/// collection year earlier (the years of the data, else of the rules). What `fettle validate
/// --previous` and the browser page both do. Each note (the year chosen for last year's file, a field
/// read through a `map`) is given to `note` as it comes. Returns the submissions checked against last
/// year's, in order; `Err` is a usage error (the wrong return or year, two of one return) or the
/// first of last year's files that could not be read.
pub fn attach_previous_all(
    book: &Rulebook,
    prev: Vec<(String, Result<Loaded, String>)>,
    loaded: &mut [Loaded],
    by: GivenBy,
    note: &mut dyn FnMut(String),
) -> Result<Vec<PreviousUse>, String> {
    let name = match by {
        GivenBy::Option => "--previous",
        GivenBy::Page => "Last year's",
    };
    let mut uses = vec![];
    for (display, read) in prev {
        let prev = read?;
        for n in &prev.notes {
            note(n.clone());
        }
        let Some(this) = loaded.iter_mut().find(|l| l.ret == prev.ret) else {
            return Err(format!("{name} `{display}` is the {} return; no {} return is validated with it", prev.ret, prev.ret));
        };
        if this.data.attached.iter().any(|a| a == crate::check::previous::PREVIOUS) {
            return Err(match by {
                GivenBy::Option => format!("--previous gives two {} returns; give one for each return validated", prev.ret),
                GivenBy::Page => format!("Last year's files hold two {} returns; give one for each return validated", prev.ret),
            });
        }
        let this_year = data_year(book, this).unwrap_or_else(|| this.year.clone());
        let prev_year = data_year(book, &prev).unwrap_or_else(|| prev.year.clone());
        let want = year_before(&this_year).unwrap_or_default();
        if prev_year != want {
            return Err(format!(
                "{name} `{display}` is the {} return for {prev_year}; last year's return for `{}` ({this_year}) is for {want}",
                prev.ret, this.data.file
            ));
        }
        uses.push(PreviousUse { file: this.data.file.clone(), previous: display, year: prev_year });
        for n in attach_previous(book, this, prev) {
            note(n);
        }
    }
    Ok(uses)
}

/// Says once that the rules reading last year's return did not run for the submissions given none
/// (counted, with where to see them: listing their codes would change every report each time a
/// continuity rule is added). `None` when every rule ran.
pub fn previous_not_run(book: &Rulebook, loaded: &[Loaded], by: GivenBy) -> Option<String> {
    use crate::check::previous::PREVIOUS;
    let mut skipped: Vec<String> = vec![];
    let mut rets: Vec<String> = vec![];
    for l in loaded {
        if l.data.attached.iter().any(|a| a == PREVIOUS) {
            continue;
        }
        let Ok(prog) = book.program(&l.ret, &l.year) else { continue };
        let before = skipped.len();
        skipped.extend(prog.rules.iter().filter(|r| r.needs.iter().any(|n| n == PREVIOUS)).map(|r| r.code.clone()));
        if skipped.len() > before {
            rets.push(l.ret.clone());
        }
    }
    if skipped.is_empty() {
        return None;
    }
    skipped.sort();
    skipped.dedup();
    rets.sort();
    rets.dedup();
    let n = skipped.len();
    let rules = if n == 1 { "rule" } else { "rules" };
    Some(match by {
        GivenBy::Option => {
            let listed: Vec<String> = rets.iter().map(|r| format!("`fettle rules --return {r}`")).collect();
            format!(
                "{n} year-on-year {rules} did not run: give last year's return with --previous ({} list{} {})",
                listed.join(" and "),
                if listed.len() == 1 { "s" } else { "" },
                if n == 1 { "it" } else { "them" }
            )
        }
        GivenBy::Page => format!(
            "{n} year-on-year {rules} did not run: give last year's {} return under \"Last year's return\" to run {}",
            rets.join(" and "),
            if n == 1 { "it" } else { "them" }
        ),
    })
}
