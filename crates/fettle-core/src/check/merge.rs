//! Merges the files of a rule set, and a year onto the year it extends, at the level of declarations.
//!
//! A later year states only what changes: `replace` swaps a declaration, `remove` drops one, `extend
//! table` adds or removes fields. Declaring a name twice without `replace` is an error.

use crate::diag::{Diag, did_you_mean};
use crate::span::Span;
use crate::syntax::ast::*;

/// All declarations of a rule set after merging.
#[derive(Clone, Debug, Default)]
pub struct Decls {
    /// The rule files in the order they were loaded (the set's own, then the years it extends):
    /// diagnostics are listed in this order. Empty when the files were not loaded by a library.
    pub files: Vec<crate::span::FileId>,
    /// `return NAME`.
    pub ret: Option<Ident>,
    /// The year.
    pub year: Option<Ident>,
    /// The year it extends.
    pub extends: Option<Ident>,
    /// `title`.
    pub title: Option<String>,
    /// `detect year from`.
    pub detect: Option<Path>,
    /// Other returns whose tables the rules read.
    pub uses: Vec<Ident>,
    /// `uses previous`, with the year that declared it (a later year's replaces an earlier one's).
    pub previous: Option<(UsesPrevious, String)>,
    /// Accepted yes/no spellings.
    pub booleans: Option<(Vec<String>, Vec<String>)>,
    /// The XML layout (its root element), after the later years' edits.
    pub layout: Option<Element>,
    /// Code lists.
    pub codes: Vec<CodesDecl>,
    /// Tables.
    pub tables: Vec<TableDecl>,
    /// Parameters.
    pub params: Vec<ParamDecl>,
    /// Derivations.
    pub derives: Vec<DeriveDecl>,
    /// Rules.
    pub rules: Vec<RuleDecl>,
    /// Holidays.
    pub holidays: Vec<(chrono::NaiveDate, Span)>,
    /// Fixture rows of the year being applied.
    pub fixture: Vec<Record>,
    /// The fixture each rule's examples run with: that of the year that declared the rule.
    pub rule_fixtures: std::collections::HashMap<String, Vec<Record>>,
}

fn dup(kind: &str, name: &str, span: Span, first: Span) -> Diag {
    Diag::error("check::duplicate", span, format!("{kind} `{name}` is declared twice"))
        .label("declared again here")
        .related(first, "first declared here")
        .help(format!("write `replace {kind} {name} ...` to change it in a later year, or remove one"))
}

fn nothing_to_replace<'a>(kind: &str, name: &str, span: Span, names: impl IntoIterator<Item = &'a str>) -> Diag {
    let mut d = Diag::error("check::nothing-to-replace", span, format!("there is no {kind} `{name}` to replace"))
        .label("replaces nothing");
    d.help = did_you_mean(name, names).or_else(|| Some(format!("drop `replace` to declare a new {kind}")));
    d
}

/// The element at `path` (names from the root, `/`-separated) and, when the path is wrong, the
/// names that could have been meant at the first step that fails.
fn find_element<'a>(root: &'a mut Element, path: &str) -> Result<&'a mut Element, Vec<String>> {
    let mut parts = path.split('/').filter(|s| !s.is_empty());
    if parts.next() != Some(root.name.name.as_str()) {
        return Err(vec![root.name.name.clone()]);
    }
    let mut cur = root;
    for part in parts {
        let names: Vec<String> = cur.children.iter().flatten().map(|c| c.name.name.clone()).collect();
        match cur.children.as_mut().and_then(|cs| cs.iter_mut().find(|c| c.name.name == part)) {
            Some(next) => cur = next,
            None => return Err(names),
        }
    }
    Ok(cur)
}

impl Decls {
    /// Applies a change to the layout.
    fn edit_layout(&mut self, edit: &LayoutEdit, span: Span, diags: &mut Vec<Diag>) {
        let Some(root) = self.layout.as_mut() else {
            diags.push(
                Diag::error("check::nothing-to-replace", span, "there is no XML layout to change")
                    .label("changes nothing")
                    .help("declare `layout xml { ... }` in this year or the year it extends"),
            );
            return;
        };
        let (path, espan) = match edit {
            LayoutEdit::Replace(p, _, s) | LayoutEdit::Remove(p, s) => (p.as_str(), *s),
        };
        let missing = |names: Vec<String>, diags: &mut Vec<Diag>| {
            let last = path.rsplit('/').next().unwrap_or(path);
            let mut d = Diag::error("check::nothing-to-replace", espan, format!("the layout has no element `{path}`"))
                .label("no such element");
            d.help = did_you_mean(last, names.iter().map(String::as_str));
            diags.push(d);
        };
        match edit {
            LayoutEdit::Replace(_, el, _) => match find_element(root, path) {
                Ok(slot) => *slot = el.clone(),
                Err(names) => missing(names, diags),
            },
            LayoutEdit::Remove(..) => {
                let (parent, last) = path.rsplit_once('/').unwrap_or(("", path));
                match find_element(root, parent) {
                    Ok(p) if p.children.as_ref().is_some_and(|cs| cs.iter().any(|c| c.name.name == last)) => {
                        if let Some(cs) = p.children.as_mut() {
                            cs.retain(|c| c.name.name != last);
                        }
                    }
                    Ok(p) => missing(p.children.iter().flatten().map(|c| c.name.name.clone()).collect(), diags),
                    Err(names) => missing(names, diags),
                }
            }
        }
    }

    /// Applies the files of one year: fixtures first (a table given replaces that table's earlier
    /// fixture rows), then every other declaration in file order.
    pub fn apply_year(&mut self, files: &[File], diags: &mut Vec<Diag>) {
        for f in files {
            for item in &f.items {
                if let Item::Fixture(recs, _) = item {
                    let tables: Vec<&str> = recs.iter().map(|r| r.table.name.as_str()).collect();
                    self.fixture.retain(|r| !tables.contains(&r.table.name.as_str()));
                    self.fixture.extend(recs.iter().cloned());
                }
            }
        }
        for f in files {
            self.apply(f, diags);
        }
    }

    /// Applies one file's declarations.
    pub fn apply(&mut self, file: &File, diags: &mut Vec<Diag>) {
        let h = &file.header;
        match &self.ret {
            Some(r) if r.name != h.ret.name && self.year.as_ref().map(|y| &y.name) == Some(&h.year.name) => {
                diags.push(
                    Diag::error(
                        "check::mixed-returns",
                        h.ret.span,
                        format!("this file is for `{}`, the others for `{}`", h.ret.name, r.name),
                    )
                    .related(r.span, "declared here"),
                );
            }
            _ => {}
        }
        self.ret = Some(h.ret.clone());
        self.year = Some(h.year.clone());
        if h.extends.is_some() {
            self.extends = h.extends.clone();
        }
        for item in &file.items {
            self.item(item, diags);
        }
    }

    fn item(&mut self, item: &Item, diags: &mut Vec<Diag>) {
        match item {
            Item::Title(t, _) => self.title = Some(t.clone()),
            Item::Detect(p) => self.detect = Some(p.clone()),
            Item::Uses(u) => {
                if !self.uses.iter().any(|x| x.name == u.name) {
                    self.uses.push(u.clone());
                }
            }
            Item::UsesPrevious(u) => {
                let year = self.year.as_ref().map(|y| y.name.clone()).unwrap_or_default();
                match &self.previous {
                    Some((first, y)) if *y == year => diags.push(
                        Diag::error("check::duplicate", u.span, "`uses previous` is declared twice")
                            .label("declared again here")
                            .related(first.span, "first declared here")
                            .help("declare it once; a later year's `uses previous` replaces the one it extends"),
                    ),
                    _ => self.previous = Some((u.clone(), year)),
                }
            }
            Item::Booleans(y, n, _) => self.booleans = Some((y.clone(), n.clone())),
            Item::Layout(el) => match &self.layout {
                Some(first) => diags.push(
                    Diag::error("check::duplicate", el.span, "the XML layout is declared twice")
                        .label("declared again here")
                        .related(first.span, "first declared here")
                        .help("write `extend layout xml { replace \"path\" = ... }` to change it in a later year"),
                ),
                None => self.layout = Some(el.clone()),
            },
            Item::ExtendLayout(edits, span) => {
                for e in edits {
                    self.edit_layout(e, *span, diags);
                }
            }
            Item::Codes(c) => {
                let pos = self.codes.iter().position(|x| x.name.name == c.name.name);
                match (pos, c.replace) {
                    (Some(i), true) => {
                        if let Some(slot) = self.codes.get_mut(i) {
                            *slot = c.clone();
                        }
                    }
                    (Some(i), false) => {
                        let first = self.codes.get(i).map_or(c.span, |x| x.name.span);
                        diags.push(dup("codes", &c.name.name, c.name.span, first));
                    }
                    (None, true) => diags.push(nothing_to_replace(
                        "codes",
                        &c.name.name,
                        c.name.span,
                        self.codes.iter().map(|x| x.name.name.as_str()),
                    )),
                    (None, false) => self.codes.push(c.clone()),
                }
            }
            Item::Table(t) => match self.tables.iter().find(|x| x.name.name == t.name.name) {
                Some(first) => diags.push(
                    Diag::error("check::duplicate", t.name.span, format!("table `{}` is declared twice", t.name.name))
                        .label("declared again here")
                        .related(first.name.span, "first declared here")
                        .help(format!("write `extend table {} {{ ... }}` to change it in a later year", t.name.name)),
                ),
                None => self.tables.push(t.clone()),
            },
            Item::Extend(ext) => {
                let names: Vec<String> = self.tables.iter().map(|x| x.name.name.clone()).collect();
                let Some(t) = self.tables.iter_mut().find(|x| x.name.name == ext.name.name) else {
                    let mut d = Diag::error(
                        "check::unknown-table",
                        ext.name.span,
                        format!("there is no table `{}` to extend", ext.name.name),
                    )
                    .label("unknown table");
                    d.help = did_you_mean(&ext.name.name, names.iter().map(String::as_str));
                    diags.push(d);
                    return;
                };
                for r in &ext.removed {
                    match t.fields.iter().position(|f| f.name.name == r.name) {
                        Some(i) => {
                            t.fields.remove(i);
                        }
                        None => {
                            let mut d = Diag::error(
                                "check::unknown-field",
                                r.span,
                                format!("table `{}` has no field `{}`", t.name.name, r.name),
                            )
                            .label("unknown field");
                            d.help = did_you_mean(&r.name, t.fields.iter().map(|f| f.name.name.as_str()));
                            diags.push(d);
                        }
                    }
                }
                for f in &ext.fields {
                    match t.fields.iter_mut().find(|x| x.name.name == f.name.name) {
                        Some(first) => {
                            diags.push(
                                Diag::error(
                                    "check::duplicate",
                                    f.name.span,
                                    format!("field `{}` is declared twice", f.name.name),
                                )
                                .label("declared again here")
                                .related(first.name.span, "first declared here")
                                .help(format!("write `remove field {}` first to redeclare it", f.name.name)),
                            );
                        }
                        None => t.fields.push(f.clone()),
                    }
                }
                if ext.parent.is_some() {
                    t.parent = ext.parent.clone();
                }
                if !ext.key.is_empty() {
                    t.key = ext.key.clone();
                    t.ordinal = ext.ordinal;
                }
                if !ext.sheets.is_empty() {
                    t.sheets = ext.sheets.clone();
                }
                if ext.xml.is_some() {
                    t.xml = ext.xml.clone();
                }
                t.singleton |= ext.singleton;
            }
            Item::Param(p) => {
                let pos = self.params.iter().position(|x| x.name.name == p.name.name);
                match (pos, p.replace) {
                    (Some(i), true) => {
                        if let Some(slot) = self.params.get_mut(i) {
                            *slot = p.clone();
                        }
                    }
                    (Some(i), false) => {
                        let first = self.params.get(i).map_or(p.span, |x| x.name.span);
                        diags.push(dup("param", &p.name.name, p.name.span, first));
                    }
                    (None, true) => diags.push(nothing_to_replace(
                        "param",
                        &p.name.name,
                        p.name.span,
                        self.params.iter().map(|x| x.name.name.as_str()),
                    )),
                    (None, false) => self.params.push(p.clone()),
                }
            }
            Item::Holidays(ds, _) => self.holidays.extend(ds.iter().copied()),
            Item::Derive(d) => {
                let key = derive_key(d);
                let pos = self.derives.iter().position(|x| derive_key(x) == key);
                match (pos, d.replace) {
                    (Some(i), true) => {
                        if let Some(slot) = self.derives.get_mut(i) {
                            *slot = d.clone();
                        }
                    }
                    (Some(i), false) => {
                        let first = self.derives.get(i).map_or(d.span, |x| x.name.span);
                        diags.push(dup("derive", &key, d.name.span, first));
                    }
                    (None, true) => {
                        let keys: Vec<String> = self.derives.iter().map(derive_key).collect();
                        diags.push(nothing_to_replace("derive", &key, d.name.span, keys.iter().map(String::as_str)))
                    }
                    (None, false) => self.derives.push(d.clone()),
                }
            }
            Item::Rule(r) => {
                let pos = self.rules.iter().position(|x| x.code.name == r.code.name);
                match (pos, r.replace) {
                    (Some(i), true) => {
                        if let Some(slot) = self.rules.get_mut(i) {
                            *slot = (**r).clone();
                        }
                        self.rule_fixtures.insert(r.code.name.clone(), self.fixture.clone());
                    }
                    (Some(i), false) => {
                        let first = self.rules.get(i).map_or(r.span, |x| x.code.span);
                        diags.push(
                            Diag::error(
                                "check::duplicate-rule",
                                r.code.span,
                                format!("rule code `{}` is used twice", r.code.name),
                            )
                            .label("used again here")
                            .related(first, "first used here")
                            .help("give each rule its own code, or write `replace rule` to change it in a later year"),
                        );
                    }
                    (None, true) => diags.push(nothing_to_replace(
                        "rule",
                        &r.code.name,
                        r.code.span,
                        self.rules.iter().map(|x| x.code.name.as_str()),
                    )),
                    (None, false) => {
                        self.rules.push((**r).clone());
                        self.rule_fixtures.insert(r.code.name.clone(), self.fixture.clone());
                    }
                }
            }
            Item::Fixture(recs, _) => {
                for r in recs {
                    if !self.fixture.iter().any(|x| std::ptr::eq(x, r) || (x.table.name == r.table.name && x.span.same(r.span))) {
                        self.fixture.push(r.clone());
                    }
                }
            }
            Item::Remove(rm) => self.remove(rm, diags),
        }
    }

    fn remove(&mut self, rm: &RemoveDecl, diags: &mut Vec<Diag>) {
        let (kind, names, pos): (&str, Vec<String>, Option<usize>) = match rm.kind {
            RemoveKind::Rule => (
                "rule",
                self.rules.iter().map(|x| x.code.name.clone()).collect(),
                self.rules.iter().position(|x| x.code.name == rm.name),
            ),
            RemoveKind::Codes => (
                "codes",
                self.codes.iter().map(|x| x.name.name.clone()).collect(),
                self.codes.iter().position(|x| x.name.name == rm.name),
            ),
            RemoveKind::Derive => (
                "derive",
                self.derives.iter().map(derive_key).collect(),
                self.derives.iter().position(|x| derive_key(x) == rm.name),
            ),
            RemoveKind::Param => (
                "param",
                self.params.iter().map(|x| x.name.name.clone()).collect(),
                self.params.iter().position(|x| x.name.name == rm.name),
            ),
            RemoveKind::Table => (
                "table",
                self.tables.iter().map(|x| x.name.name.clone()).collect(),
                self.tables.iter().position(|x| x.name.name == rm.name),
            ),
        };
        let Some(i) = pos else {
            let mut d = Diag::error("check::nothing-to-remove", rm.span, format!("there is no {kind} `{}` to remove", rm.name))
                .label("removes nothing");
            d.help = did_you_mean(&rm.name, names.iter().map(String::as_str));
            diags.push(d);
            return;
        };
        match rm.kind {
            RemoveKind::Rule => {
                self.rules.remove(i);
            }
            RemoveKind::Codes => {
                self.codes.remove(i);
            }
            RemoveKind::Derive => {
                self.derives.remove(i);
            }
            RemoveKind::Param => {
                self.params.remove(i);
            }
            RemoveKind::Table => {
                self.tables.remove(i);
            }
        }
    }
}

/// `Table.Name` for a derived field, `Name` for a derived value.
pub fn derive_key(d: &DeriveDecl) -> String {
    match &d.table {
        Some(t) => format!("{}.{}", t.name, d.name.name),
        None => d.name.name.clone(),
    }
}
