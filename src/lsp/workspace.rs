//! Open documents and the rule sets they belong to: building a [`Library`] from disk with the open
//! documents' text in place of their files, compiling it, and turning diagnostics into LSP ones.
//!
//! A document's set is every `.fettle` file of its folder with the same `return X YEAR` header. When
//! the folder is laid out as `<return>/<year>/`, its sibling years (for `extends`) and the returns it
//! `uses` (at `../../<return>/<year>/`) are loaded too. The last set compiled without errors is kept
//! for completion, hover and definitions, since the text being typed often does not parse.

use super::text::{self, LineIndex};
use crate::diag::{Diag, Level};
use crate::library::{Compiled, Library};
use crate::span::{Sources, Span};
use serde_json::{Value, json};
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

/// What is remembered about a set between compilations.
#[derive(Default)]
pub struct SetState {
    /// The last compilation without errors, with the URI of each file name.
    pub good: Option<(Compiled, HashMap<String, String>)>,
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

    /// The last good compilation of a document's set, with the URI of each file name.
    pub fn good(&self, uri: &str) -> Option<&(Compiled, HashMap<String, String>)> {
        self.sets.get(self.doc_sets.get(uri)?)?.good.as_ref()
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
    pub fn refresh(&mut self, uri: &str) -> Vec<(String, Vec<Value>)> {
        if !self.is_rules(uri) {
            return vec![];
        }
        let Some((lib, key, uris)) = self.library_for(uri, true) else { return vec![] };
        let compiled = lib.compile(&key.1, &key.2);
        let names = lib.sets.get(&(key.1.clone(), key.2.clone())).map(|v| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
        let mut by_file: BTreeMap<String, Vec<Value>> = names.unwrap_or_default().into_iter().map(|n| (n, vec![])).collect();
        let uri_of = |name: &str| uris.get(name).cloned();
        for d in &compiled.diags {
            let Some(src) = compiled.sources.get(d.span.file) else { continue };
            if let Some(list) = by_file.get_mut(&src.name) {
                list.push(to_lsp(d, &compiled.sources, &uri_of));
            }
        }
        let mut out: Vec<(String, Vec<Value>)> =
            by_file.into_iter().filter_map(|(name, diags)| Some((uri_of(&name)?, diags))).collect();
        let now: BTreeSet<String> = out.iter().map(|(u, _)| u.clone()).collect();
        let state = self.sets.entry(key.clone()).or_default();
        for gone in state.published.difference(&now) {
            out.push((gone.clone(), vec![]));
        }
        state.published = now;
        if compiled.program.is_some() {
            state.good = Some((compiled, uris));
        } else if state.good.is_none() {
            // Nothing to complete from yet: try the files as saved.
            let saved = self.library_for(uri, false).map(|(lib, _, uris)| (lib.compile(&key.1, &key.2), uris));
            if let Some(state) = self.sets.get_mut(&key) {
                state.good = saved.filter(|(c, _)| c.program.is_some());
            }
        }
        self.doc_sets.insert(uri.to_string(), key);
        out
    }
}

fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    v.sort();
    v
}

/// The LSP range of a span in its file.
pub fn range_of(sources: &Sources, span: Span) -> Option<Value> {
    let src = sources.get(span.file)?;
    Some(LineIndex::new(&src.text).json_range(span.start as usize, span.end as usize))
}

/// An LSP location of a span, when its file has a URI.
pub fn location(sources: &Sources, uris: &HashMap<String, String>, span: Span) -> Option<Value> {
    let src = sources.get(span.file)?;
    Some(json!({ "uri": uris.get(&src.name)?, "range": range_of(sources, span)? }))
}

/// Converts a diagnostic.
fn to_lsp(d: &Diag, sources: &Sources, uri_of: &dyn Fn(&str) -> Option<String>) -> Value {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let related: Vec<Value> = d
        .related
        .iter()
        .filter_map(|(span, label)| {
            let uri = uri_of(&sources.get(span.file)?.name)?;
            let msg = if label.is_empty() { d.message.as_str() } else { label.as_str() };
            Some(json!({ "location": { "uri": uri, "range": range_of(sources, *span)? }, "message": msg }))
        })
        .collect();
    let mut v = json!({
        "range": range_of(sources, d.span),
        "severity": if d.level == Level::Error { 1 } else { 2 },
        "code": d.code,
        "source": "fettle",
        "message": message,
    });
    if !related.is_empty()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("relatedInformation".into(), Value::Array(related));
    }
    v
}
