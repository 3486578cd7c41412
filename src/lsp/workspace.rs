//! Open documents and the rule sets they belong to: building a [`Library`] from disk with the open
//! documents' text in place of their files, compiling it, and turning diagnostics into LSP ones.
//!
//! A document's set is every `.fettle` file of its folder with the same `return X YEAR` header. When
//! the folder is laid out as `<return>/<year>/`, its sibling years (for `extends`) and the returns it
//! `uses` (at `../../<return>/<year>/`) are loaded too.
//!
//! Completion, hover, definitions and references read a semantic model kept through errors, as
//! rust-analyzer does: the set's diagnostics are [`Library::compile`]'s, and when it has errors the
//! set is compiled again for the editor ([`Library::compile_for_editor`]), which keeps every name
//! that resolves. The last set compiled without errors is kept as well, for names the broken text
//! has lost (a table whose declaration is being typed). A file whose set declares no tables (a copy
//! of one file, opened on its own) gets one diagnostic saying where its schema is, and its model is
//! built with the shipped set of its return and year.

use super::text::{self, LineIndex};
use crate::diag::{Diag, Level};
use crate::library::{Compiled, Library};
use crate::span::{Sources, Span};
use lsp_types::{Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// An open document.
pub struct Doc {
    /// Its text as the editor has it.
    pub text: String,
    /// Its file, for a `file:` URI.
    pub path: Option<PathBuf>,
}

/// A rule set: its folder (none for a document that is not a file), return and year.
pub type SetKey = (Option<PathBuf>, String, String);

/// A compiled set and the URI of each of its file names.
pub type Model = (Compiled, HashMap<String, String>);

/// What is remembered about a set between compilations.
#[derive(Default)]
pub struct SetState {
    /// The last compilation without errors.
    pub good: Option<Model>,
    /// The editor's compilation of the current text, when it has errors.
    pub broken: Option<Model>,
    /// URIs that were sent diagnostics last time.
    published: BTreeSet<String>,
}

/// Open documents and compiled sets.
#[derive(Default)]
pub struct Workspace {
    /// Open documents by URI.
    pub docs: HashMap<String, Doc>,
    /// Sets by key.
    pub sets: HashMap<SetKey, SetState>,
    /// The set each document was last compiled in.
    doc_sets: HashMap<String, SetKey>,
}

impl Workspace {
    /// Opens or replaces a document.
    pub fn open(&mut self, uri: &str, text: String) {
        self.docs.insert(uri.to_string(), Doc { text, path: text::uri_to_path(uri) });
    }

    /// Whether a document is a rule file: a `.fettle` file, or a document that is not a file. Editors
    /// without a `fettle` language send other plain-text files too; they are left alone.
    pub fn is_rules(&self, uri: &str) -> bool {
        self.docs.get(uri).is_some_and(|d| d.path.as_ref().is_none_or(|p| p.extension().is_some_and(|x| x == "fettle")))
    }

    /// The models of a document's set to answer from, best first: the current text's (kept through
    /// its errors), then the last one without errors.
    pub fn models(&self, uri: &str) -> Vec<&Model> {
        let Some(state) = self.doc_sets.get(uri).and_then(|k| self.sets.get(k)) else { return vec![] };
        state.broken.iter().chain(state.good.iter()).filter(|(c, _)| c.program.is_some()).collect()
    }

    /// The library a document's set is compiled from (with the open documents' text when `live`,
    /// else as saved), and the set's key.
    fn library_for(&self, uri: &str, live: bool) -> Option<(Library, SetKey, HashMap<String, String>)> {
        let doc = self.docs.get(uri)?;
        let (ret, year) = text::header_of(&doc.text).unwrap_or_else(|| ("?".into(), "?".into()));
        let mut lib = Library::default();
        let mut uris = HashMap::new();
        let Some(folder) = doc.path.as_deref().and_then(Path::parent) else {
            lib.sets.insert((ret.clone(), year.clone()), vec![(uri.to_string(), doc.text.clone())]);
            uris.insert(uri.to_string(), uri.to_string());
            return Some((lib, (None, ret, year), uris));
        };
        self.add_folder(&mut lib, &mut uris, folder, live, &|r, y| r == ret && y == year);
        let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
        if let Some(parent) = folder.parent().filter(|p| name(folder) == Some(year.clone()) && name(p) == Some(ret.clone())) {
            // Other years of the return, for `extends`.
            for dir in subfolders(parent).into_iter().filter(|d| d != folder) {
                self.add_folder(&mut lib, &mut uris, &dir, live, &|r, y| r == ret && y != year);
            }
            // Returns this one `uses`, beside it.
            let used: BTreeSet<String> = lib
                .sets
                .get(&(ret.clone(), year.clone()))
                .into_iter()
                .flatten()
                .flat_map(|(_, t)| text::uses_of(t))
                .map(str::to_string)
                .collect();
            for u in used.iter().filter(|u| **u != ret && !u.contains(['/', '\\', '.'])) {
                for dir in parent.parent().map(|g| subfolders(&g.join(u))).unwrap_or_default() {
                    self.add_folder(&mut lib, &mut uris, &dir, live, &|r, _| r == u);
                }
            }
        }
        for files in lib.sets.values_mut() {
            files.sort();
        }
        Some((lib, (Some(folder.to_path_buf()), ret, year), uris))
    }

    /// Adds the `.fettle` files directly in `dir` whose header passes `keep`, open documents' text
    /// in place of the file's when `live`.
    fn add_folder(
        &self,
        lib: &mut Library,
        uris: &mut HashMap<String, String>,
        dir: &Path,
        live: bool,
        keep: &dyn Fn(&str, &str) -> bool,
    ) {
        let mut files: BTreeMap<PathBuf, (String, String)> = BTreeMap::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "fettle")
                && p.is_file()
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                files.insert(p.clone(), (text::path_to_uri(&p), t));
            }
        }
        for (uri, d) in &self.docs {
            if let Some(p) = d.path.as_ref().filter(|p| p.parent() == Some(dir) && p.extension().is_some_and(|x| x == "fettle")) {
                match files.get_mut(p) {
                    Some(f) if !live => f.0.clone_from(uri),
                    _ if !live => {}
                    _ => {
                        files.insert(p.clone(), (uri.clone(), d.text.clone()));
                    }
                }
            }
        }
        for (path, (uri, t)) in files {
            let (r, y) = text::header_of(&t).unwrap_or_else(|| ("?".into(), "?".into()));
            if keep(&r, &y) {
                let name = path.display().to_string();
                uris.insert(name.clone(), uri);
                lib.sets.entry((r, y)).or_default().push((name, t));
            }
        }
    }

    /// Compiles a document's set; returns `(uri, diagnostics)` for every file of the set, and empty
    /// lists for files that have left it.
    pub fn refresh(&mut self, uri: &str) -> Vec<(String, Vec<Diagnostic>)> {
        if !self.is_rules(uri) {
            return vec![];
        }
        let Some((lib, key, uris)) = self.library_for(uri, true) else { return vec![] };
        let compiled = lib.compile(&key.1, &key.2);
        let names = lib.sets.get(&(key.1.clone(), key.2.clone())).map(|v| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let mut by_file: BTreeMap<String, Vec<Diagnostic>> = names.unwrap_or_default().into_iter().map(|n| (n, vec![])).collect();
        let uri_of = |name: &str| uris.get(name).cloned();
        for d in &compiled.diags {
            let Some(src) = compiled.sources.get(d.span.file) else { continue };
            if let Some(list) = by_file.get_mut(&src.name) {
                list.push(to_lsp(d, &compiled.sources, &uri_of));
            }
        }
        let lone = lone_file(&lib, &key, &compiled);
        if let Some((diag, _)) = &lone {
            // The unknown names all follow from the missing schema: one diagnostic says so.
            for list in by_file.values_mut() {
                list.retain(|d| matches!(&d.code, Some(NumberOrString::String(c)) if !c.starts_with("check::")));
            }
            let file = compiled.sources.get(diag.span.file).map(|s| s.name.clone()).unwrap_or_default();
            if let Some(list) = by_file.get_mut(&file) {
                list.insert(0, to_lsp(diag, &compiled.sources, &uri_of));
            }
        }
        let mut out: Vec<(String, Vec<Diagnostic>)> =
            by_file.into_iter().filter_map(|(name, diags)| Some((uri_of(&name)?, diags))).collect();
        let now: BTreeSet<String> = out.iter().map(|(u, _)| u.clone()).collect();
        let broken = if let Some((_, shipped)) = lone {
            Some((shipped.compile_for_editor(&key.1, &key.2), uris.clone()))
        } else if compiled.has_errors() {
            Some((lib.compile_for_editor(&key.1, &key.2), uris.clone()))
        } else {
            None
        };
        let state = self.sets.entry(key.clone()).or_default();
        for gone in state.published.difference(&now) {
            out.push((gone.clone(), vec![]));
        }
        state.published = now;
        state.broken = broken.filter(|(c, _)| c.program.is_some());
        if compiled.program.is_some() {
            state.good = Some((compiled, uris));
        } else if state.good.is_none() && state.broken.is_none() {
            // Nothing to answer from yet: try the files as saved.
            let saved = self.library_for(uri, false).map(|(lib, _, uris)| (lib.compile(&key.1, &key.2), uris));
            if let Some(state) = self.sets.get_mut(&key) {
                state.good = saved.filter(|(c, _)| c.program.is_some());
            }
        }
        self.doc_sets.insert(uri.to_string(), key);
        out
    }
}

/// For a set that declares no tables of its own and so knows none of the tables its rules name (a
/// copy of one rule file, opened on its own): one diagnostic, on the first unknown table, saying
/// which shipped rule set declares it and how a rule set is found; and the library to build its
/// model from (the shipped set, with this set's files in place of those of the same name).
fn lone_file(lib: &Library, key: &SetKey, compiled: &Compiled) -> Option<(Diag, Library)> {
    let (_, ret, year) = key;
    let files = lib.sets.get(&(ret.clone(), year.clone()))?;
    let declares = |t: &str| {
        t.lines().any(|l| {
            l.starts_with("table ") || l.starts_with("extend table ") || (l.starts_with("return ") && l.contains(" extends "))
        })
    };
    if files.iter().any(|(_, t)| declares(t)) {
        return None;
    }
    let unknown: Vec<&Diag> = compiled
        .diags
        .iter()
        .filter(|d| d.code == "check::unknown-table" && d.message.starts_with("there is no table `"))
        .collect();
    let first = unknown.first()?;
    let table = first.message.split('`').nth(1)?;
    let shipped = Library::shipped();
    let declared = |t: &str| {
        t.lines().any(|l| l.strip_prefix("table ").and_then(|r| r.split([' ', '{']).next()).is_some_and(|n| n == table))
    };
    // The set of the same return and year first, then any other.
    let mut homes: Vec<(&(String, String), &String)> =
        shipped.sets.iter().flat_map(|(k, fs)| fs.iter().filter(|(_, t)| declared(t)).map(move |(n, _)| (k, n))).collect();
    homes.sort_by_key(|((r, y), _)| (r != ret || y != year, r != ret, std::cmp::Reverse(y.clone())));
    let errors = compiled.diags.iter().filter(|d| d.level == Level::Error && d.code.starts_with("check::")).count();
    let folder = format!("rules/{ret}/{year}/");
    let mut d = Diag::error(
        "check::no-schema",
        first.span,
        match homes.first() {
            Some(((r, y), file)) => {
                format!("this file's rule set declares no tables: `{table}` is declared in the shipped `{r} {y}` rules ({file})")
            }
            None => format!("this file's rule set declares no tables, and no shipped rule set declares `{table}`"),
        },
    )
    .label("no schema for this name");
    d.help = Some(format!(
        "a rule set is every `.fettle` file with the header `return {ret} {year}` in one folder, laid out as \
         `{folder}`; put this file in the folder that holds the set's schema (`table` declarations), or copy \
         the schema beside it ({errors} errors about names are hidden until then)"
    ));
    // The model: the shipped set, this set's files replacing those of the same name.
    let name = |p: &str| Path::new(p).file_name().map(|n| n.to_os_string());
    let mine: BTreeSet<_> = files.iter().filter_map(|(n, _)| name(n)).collect();
    let mut all: Vec<(String, String)> = shipped
        .sets
        .get(&(ret.clone(), year.clone()))
        .into_iter()
        .flatten()
        .filter(|(n, _)| name(n).is_none_or(|n| !mine.contains(&n)))
        .cloned()
        .collect();
    all.extend(files.iter().cloned());
    let mut model = shipped;
    model.sets.insert((ret.clone(), year.clone()), all);
    Some((d, model))
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    v.sort();
    v
}

/// The LSP range of a span in its file.
pub fn range_of(sources: &Sources, span: Span) -> Option<Range> {
    let src = sources.get(span.file)?;
    Some(LineIndex::new(&src.text).range(span.start as usize, span.end as usize))
}

/// An LSP location of a span, when its file has a URI.
pub fn location(sources: &Sources, uris: &HashMap<String, String>, span: Span) -> Option<Location> {
    let src = sources.get(span.file)?;
    Some(Location { uri: text::lsp_uri(uris.get(&src.name)?)?, range: range_of(sources, span)? })
}

/// Converts a diagnostic.
fn to_lsp(d: &Diag, sources: &Sources, uri_of: &dyn Fn(&str) -> Option<String>) -> Diagnostic {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|(span, label)| {
            let uri = text::lsp_uri(&uri_of(&sources.get(span.file)?.name)?)?;
            let msg = if label.is_empty() { d.message.as_str() } else { label.as_str() };
            Some(DiagnosticRelatedInformation {
                location: Location { uri, range: range_of(sources, *span)? },
                message: msg.to_string(),
            })
        })
        .collect();
    Diagnostic {
        range: range_of(sources, d.span).unwrap_or_default(),
        severity: Some(if d.level == Level::Error { DiagnosticSeverity::ERROR } else { DiagnosticSeverity::WARNING }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("fettle".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}
