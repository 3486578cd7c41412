//! Rule sets: the shipped ones compiled into the binary, or rule files given (a folder given with
//! `--rules` is read by fettle-io's `rules::read`).
//!
//! Layout: `<dir>/<return>/<year>/*.fettle`. A year whose files say `extends Y` starts from year Y's
//! declarations. Compiling a set parses its files (and its base years'), merges them and checks the
//! result; every diagnostic of every file is kept.

use crate::check::{self, Decls, Program};
use crate::diag::{Diag, Level};
use crate::span::{FileId, Sources, Span};
use crate::syntax;
use crate::syntax::ast;
use std::collections::BTreeMap;
use std::sync::Arc;

static SHIPPED: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules");

/// Rule files by return and year.
#[derive(Debug, Default)]
pub struct Library {
    /// `(return, year)` to `(file name, text)` pairs, files sorted by name.
    pub sets: BTreeMap<(String, String), Vec<(String, String)>>,
    /// Each file parsed once, however many sets load it (a year loads the years it extends, and a
    /// return that `uses` another loads that one's files).
    parsed: ParseCache,
}

impl Clone for Library {
    /// The same rule files; the copy parses them again (a library edited after cloning, as the
    /// language server's are, never keeps the texts of every edit).
    fn clone(&self) -> Self {
        Library { sets: self.sets.clone(), parsed: ParseCache::default() }
    }
}

/// Parsed rule files by id, name and text. A file's [`FileId`] is its place among all the library's
/// files (1 for the first, in `sets` order; 0 is no file), the same in every set that loads it, so
/// its syntax tree's spans are right in each.
#[derive(Debug, Default)]
struct ParseCache {
    files: std::sync::Mutex<std::collections::HashMap<(u32, String, String), Arc<Parsed>>>,
}

/// A file's id, and its parse once made.
#[derive(Debug)]
struct Parsed {
    id: FileId,
    result: std::sync::OnceLock<(Option<ast::File>, Vec<Diag>)>,
}

impl ParseCache {
    /// The parse of file `id` (made now if no set loaded it before).
    fn get(&self, id: FileId, name: &str, text: &str) -> Arc<Parsed> {
        let entry = {
            // A poisoned lock means a parse panicked elsewhere; the map itself is still whole.
            let mut files = self.files.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            files
                .entry((id.0, name.to_string(), text.to_string()))
                .or_insert_with(|| Arc::new(Parsed { id, result: std::sync::OnceLock::new() }))
                .clone()
        };
        // Parsed outside the lock: sets compiled side by side parse different files at once.
        entry.result.get_or_init(|| syntax::parse(entry.id, text));
        entry
    }
}

/// A compiled rule set with its sources (for rendering diagnostics and rule text).
pub struct Compiled {
    /// The program, when the rules have no errors.
    pub program: Option<std::sync::Arc<Program>>,
    /// Every diagnostic.
    pub diags: Vec<Diag>,
    /// The rule files.
    pub sources: Sources,
}

impl Compiled {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.level == Level::Error)
    }

    /// Every diagnostic rendered as plain text for a terminal or a page.
    pub fn diagnostics(&self) -> String {
        crate::diag::render(&self.diags, &self.sources, true, 100)
    }
}

impl Library {
    /// The rule sets compiled into the binary.
    pub fn shipped() -> Library {
        let mut lib = Library::default();
        for ret in SHIPPED.dirs() {
            for year in ret.dirs() {
                let (Some(r), Some(y)) = (name_of(ret.path()), name_of(year.path())) else { continue };
                let mut files: Vec<(String, String)> = year
                    .files()
                    .filter(|f| f.path().extension().is_some_and(|e| e == "fettle"))
                    .filter_map(|f| Some((format!("rules/{}", f.path().display()), f.contents_utf8()?.to_string())))
                    .collect();
                files.sort();
                lib.sets.insert((r, y), files);
            }
        }
        lib
    }

    /// Rule sets from rule files given as `(name, text)` pairs: each file's header (`return R YEAR`)
    /// names its set; a file without one goes to the set `("?", "?")`. Reading a folder of them is
    /// fettle-io's (`rules::read`).
    pub fn from_files(files: impl IntoIterator<Item = (String, String)>) -> Library {
        let mut lib = Library::default();
        for (name, text) in files {
            // The header names the return and year.
            let (ret, year) = header_of(&text).unwrap_or_else(|| ("?".into(), "?".into()));
            lib.sets.entry((ret, year)).or_default().push((name, text));
        }
        for v in lib.sets.values_mut() {
            v.sort();
        }
        lib
    }

    /// Returns and their years.
    pub fn years(&self, ret: &str) -> Vec<String> {
        self.sets.keys().filter(|(r, _)| r == ret).map(|(_, y)| y.clone()).collect()
    }

    /// Names of the returns.
    pub fn returns(&self) -> Vec<String> {
        let mut v: Vec<String> = self.sets.keys().map(|(r, _)| r.clone()).collect();
        v.dedup();
        v
    }

    /// Compiles the rule set of a return and year.
    pub fn compile(&self, ret: &str, year: &str) -> Compiled {
        self.compile_with(ret, year, false)
    }

    /// Compiles for an editor: the program is what resolved even where there are errors
    /// ([`check::check_tolerant`]; declarations with syntax errors are left out, [`syntax::recover`]).
    /// It serves hover, completion and definitions, and must never be evaluated. Report
    /// [`compile`](Self::compile)'s diagnostics, not these: a recovered file can add some.
    pub fn compile_for_editor(&self, ret: &str, year: &str) -> Compiled {
        self.compile_with(ret, year, true)
    }

    fn compile_with(&self, ret: &str, year: &str, tolerant: bool) -> Compiled {
        let mut sources = Sources::default();
        let mut diags = vec![];
        let mut decls = Decls::default();
        self.load(ret, year, &mut decls, &mut sources, &mut diags, 0, tolerant);
        let names = |s: Span| {
            let name = sources.get(s.file).map(|x| x.name.clone()).unwrap_or_default();
            (name, sources.line_col(s).0)
        };
        // Schemas of the returns this one `uses` (their latest year).
        let mut foreign = vec![];
        for u in &decls.uses {
            if u.name == ret {
                continue;
            }
            // A rules folder without the used return borrows it from the shipped rules.
            let shipped;
            let lib = if self.years(&u.name).is_empty() {
                shipped = Library::shipped();
                &shipped
            } else {
                self
            };
            if let Some(y) = lib.years(&u.name).into_iter().max() {
                let mut fsrc = Sources::default();
                let mut fdiags = vec![];
                let mut fdecls = Decls::default();
                lib.load(&u.name, &y, &mut fdecls, &mut fsrc, &mut fdiags, 0, false);
                let fnames = |_: Span| (String::new(), 0);
                if let (Some(p), _) = check::check(&fdecls, &fnames) {
                    foreign.push((u.name.clone(), p.schema));
                }
            }
        }
        let (program, mut more) = match (diags.iter().any(|d| d.level == Level::Error), tolerant) {
            (true, false) => (None, vec![]),
            (false, false) => check::check_with(&decls, &names, &foreign),
            // Syntax errors: only they are reported, as in `compile`; the rest still resolves.
            (true, true) => (Some(check::check_tolerant(&decls, &names, &foreign).0), vec![]),
            (false, true) => {
                let (p, d) = check::check_tolerant(&decls, &names, &foreign);
                (Some(p), d)
            }
        };
        diags.append(&mut more);
        Compiled { program: program.map(std::sync::Arc::new), diags, sources }
    }

    #[expect(clippy::too_many_arguments, reason = "the recursion carries the whole loading state")]
    fn load(
        &self,
        ret: &str,
        year: &str,
        decls: &mut Decls,
        sources: &mut Sources,
        diags: &mut Vec<Diag>,
        depth: usize,
        tolerant: bool,
    ) {
        let Some(files) = self.sets.get(&(ret.to_string(), year.to_string())) else { return };
        let first: usize = self.sets.range(..(ret.to_string(), year.to_string())).map(|(_, f)| f.len()).sum();
        let mut parsed = vec![];
        for (i, (name, text)) in files.iter().enumerate() {
            let id = FileId((first + i + 1) as u32);
            let entry = self.parsed.get(id, name, text);
            sources.insert(id, name.clone(), text.as_str());
            decls.files.push(id);
            let (file, d) = entry.result.get().map_or((None, &[][..]), |(f, d)| (f.clone(), d.as_slice()));
            diags.extend(d.iter().cloned());
            if let Some(f) = file.or_else(|| tolerant.then(|| syntax::recover(id, text)).flatten()) {
                parsed.push(f);
            }
        }
        if let Some(base) = parsed.iter().find_map(|f| f.header.extends.clone()) {
            if depth > 8 || base.name == year {
                diags.push(Diag::error("check::extends-cycle", base.span, format!("year `{}` extends itself", base.name)));
            } else if !self.sets.contains_key(&(ret.to_string(), base.name.clone())) {
                let mut d = Diag::error(
                    "check::unknown-year",
                    base.span,
                    format!("there are no `{ret}` rules for `{}` to extend", base.name),
                )
                .label("unknown year");
                let others: Vec<String> = self.years(ret).into_iter().filter(|y| y != year).collect();
                d.help = crate::diag::did_you_mean(&base.name, others.iter().map(String::as_str))
                    .or_else(|| (!others.is_empty()).then(|| format!("`{ret}` rules exist for {}", others.join(", "))));
                diags.push(d);
            } else {
                self.load(ret, &base.name, decls, sources, diags, depth + 1, tolerant);
            }
        }
        decls.apply_year(&parsed, diags);
    }
}

fn name_of(p: &std::path::Path) -> Option<String> {
    p.file_name()?.to_str().map(str::to_string)
}

/// `return cin 2024-25` from the start of a rule file.
fn header_of(text: &str) -> Option<(String, String)> {
    // A byte-order mark at the start is allowed (the grammar skips it there).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line = text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).find(|l| !l.is_empty())?;
    let mut it = line.split_whitespace();
    (it.next()? == "return").then_some(())?;
    Some((it.next()?.to_string(), it.next()?.to_string()))
}
