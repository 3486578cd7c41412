//! Conformance of an XML document to the return's declared layout (`layout xml`), checked while the
//! document is read, as the DfE's XSD checks it: element names, order, occurrences, and the facets
//! of each element's text (xs:date, integers, enumerations, patterns, lengths). Every violation is
//! reported, not only the first; an element's text is typed strictly here (no trimming, no other
//! date forms), so a value the schema refuses is never read as something else. A misspelt element
//! (`<Ethnicit>`) is one finding, "is not an element ... (did you mean `<Ethnicity>`?)": the
//! absence of the element it stands for is not reported again (one problem, one finding).
//!
//! One deliberate difference from libxml2 (`xmllint --schema`): surrounding whitespace around an
//! xs:date, xs:dateTime or xs:gYear is accepted, as the XSD standard's `whiteSpace collapse` says
//! (libxml2 refuses it).

use super::coerce::Interner;
use crate::codes::Schema as SchemaCheck;
use crate::layout::{Elem, Layout, ValueRule};
use crate::schema::Booleans;
use crate::syntax::ast::TextKind;
use crate::table::Scalar;
use chrono::{Datelike, NaiveDate};

/// The tail of every schema message.
pub const REJECTS: &str = "the DfE portal rejects a file with this";

/// One violation of the layout.
#[derive(Clone, Debug)]
pub struct Violation {
    /// `schema::unknown-element`, ...
    pub code: SchemaCheck,
    /// What is wrong.
    pub message: String,
    /// Line of the element it is about.
    pub line: u32,
    /// Depth of that element (1: the root), for its path.
    pub depth: usize,
    /// That element's name.
    pub element: String,
}

struct Frame {
    /// The element in the layout; `None` for an element the layout does not have.
    elem: Option<usize>,
    /// Position in its own children's sequence: the furthest child seen.
    pos: usize,
    /// Where its children's occurrences so far start in [`Validator::seen`] (one count per child).
    seen_at: usize,
    /// Mandatory children skipped over: (child, line and depth of the element that skipped it, that
    /// element's child index).
    skips: Vec<(usize, u32, usize, usize)>,
    /// Line of its start tag.
    line: u32,
    /// Whether stray text inside it was reported.
    text_told: bool,
    /// Children named by a misspelt element inside it (`<Ethnicit>`: `Ethnicity`), by index: the
    /// unknown element's finding says "did you mean", so their absence is not said again.
    misspelt: Vec<usize>,
}

/// The verdict on an element's text: the typed value, or that the schema refuses it.
pub enum Typed {
    /// The value (text and codes exactly as written).
    Value(Scalar),
    /// Refused; a date, number or yes/no that is refused is missing for the rules.
    Refused {
        /// For text and codes, the text as written (kept so rules see it).
        keep: Option<Scalar>,
    },
}

/// Validates one document (or a part of one) against a layout.
pub struct Validator<'l> {
    layout: &'l Layout,
    bools: &'l Booleans,
    /// For each element of the layout, whether its values are yes/no spellings (read as booleans).
    yes_no: Vec<bool>,
    /// The interned name of each element of the layout (the reader's ids, compared instead of names).
    ids: &'l [u32],
    frames: Vec<Frame>,
    /// The open elements' children's occurrence counts, one run per frame (see `Frame::seen_at`),
    /// kept in one vector so that opening an element allocates nothing.
    seen: Vec<u32>,
    text: String,
    /// Violations so far, in document order.
    pub found: Vec<Violation>,
}

fn name_of(layout: &Layout, i: usize) -> &str {
    layout.get(i).map_or("?", |e| e.name.as_str())
}

impl<'l> Validator<'l> {
    /// A validator at the start of a document.
    /// `ids` are the ids the reader gives element names, one per element of the layout, in order.
    pub fn new(layout: &'l Layout, bools: &'l Booleans, ids: &'l [u32]) -> Self {
        let yes_no = layout.elements.iter().map(|e| is_yes_no(&e.value, bools)).collect();
        Validator { layout, bools, yes_no, ids, frames: vec![], seen: vec![], text: String::new(), found: vec![] }
    }

    /// A validator for a part of a document that starts inside the elements `path` (names from the
    /// root), each of which has already had its child on the path once.
    pub fn resume(layout: &'l Layout, bools: &'l Booleans, ids: &'l [u32], path: &[&str]) -> Self {
        let mut v = Validator::new(layout, bools, ids);
        for name in path {
            let elem = match v.frames.last_mut() {
                None => layout.root().filter(|r| r.name == *name).map(|_| 0),
                Some(f) => match f.elem.and_then(|p| v_child_index(layout, p, name).map(|k| (p, k))) {
                    Some((p, k)) => {
                        f.pos = k;
                        if let Some(c) = v.seen.get_mut(f.seen_at + k) {
                            *c = 1;
                        }
                        layout.get(p).and_then(|e| e.children.as_ref()).and_then(|c| c.get(k)).copied()
                    }
                    None => None,
                },
            };
            v.push(elem, 0);
        }
        v
    }

    fn children(&self, i: usize) -> &'l [usize] {
        self.layout.get(i).and_then(|e| e.children.as_deref()).unwrap_or(&[])
    }

    /// The element that is open innermost, when the layout has it.
    fn top(&self) -> Option<&'l Elem> {
        self.frames.last().and_then(|f| f.elem).and_then(|i| self.layout.get(i))
    }

    /// Whether the innermost open element holds text (its text is wanted by [`Validator::text`]).
    pub fn wants_text(&self) -> bool {
        self.top().is_some_and(|e| e.children.is_none())
    }

    fn report(&mut self, code: SchemaCheck, message: String, line: u32, depth: usize, element: &str) {
        self.found.push(Violation { code, message, line, depth, element: element.to_string() });
    }

    fn push(&mut self, elem: Option<usize>, line: u32) {
        let n = elem.map_or(0, |e| self.children(e).len());
        let seen_at = self.seen.len();
        self.seen.resize(seen_at + n, 0);
        self.frames.push(Frame { elem, pos: 0, seen_at, skips: vec![], line, text_told: false, misspelt: vec![] });
    }

    /// An element starts; `id` is its name's id (see [`Validator::new`]).
    pub fn open(&mut self, name: &str, id: u32, line: u32) {
        let depth = self.frames.len() + 1;
        let Some(parent) = self.frames.last() else {
            let root = self.layout.root().filter(|r| r.name == name).map(|_| 0);
            self.push(root, line);
            return;
        };
        let Some(p) = parent.elem else {
            self.push(None, line);
            return;
        };
        let layout = self.layout;
        let pname = name_of(layout, p);
        if layout.get(p).is_some_and(|e| e.children.is_none()) {
            self.report(
                SchemaCheck::UnknownElement,
                format!("`<{pname}>` holds a value, not elements, but has `<{name}>` inside it; {REJECTS}"),
                line,
                depth,
                name,
            );
            self.push(None, line);
            return;
        }
        let children = self.children(p);
        let Some(k) = children.iter().position(|c| self.ids.get(*c) == Some(&id)) else {
            let names: Vec<&str> = children.iter().map(|c| name_of(self.layout, *c)).collect();
            let meant = suggest(name, &names);
            let hint = meant.map(|s| format!(" (did you mean `<{s}>`?)")).unwrap_or_default();
            if let (Some(j), Some(f)) = (meant.and_then(|m| names.iter().position(|n| *n == m)), self.frames.last_mut()) {
                f.misspelt.push(j);
            }
            self.report(
                SchemaCheck::UnknownElement,
                format!("`<{name}>` is not an element of `<{pname}>`{hint}; {REJECTS}"),
                line,
                depth,
                name,
            );
            self.push(None, line);
            return;
        };
        let elem = children.get(k).copied();
        let max = elem.and_then(|c| self.layout.get(c)).and_then(|e| e.max);
        let pos = parent.pos;
        let had = self.seen.get(parent.seen_at + k).copied().unwrap_or(0);
        let mut found: Vec<(SchemaCheck, String, u32, usize, String)> = vec![];
        if max.is_some_and(|m| had >= m) {
            let times = match max {
                Some(1) => "once".to_string(),
                Some(m) => format!("{m} times"),
                None => String::new(),
            };
            found.push((
                SchemaCheck::RepeatedElement,
                format!("`<{name}>` is repeated in `<{pname}>`; the schema allows it {times}; {REJECTS}"),
                line,
                depth,
                name.to_string(),
            ));
        } else if k < pos {
            // An element the sequence had skipped: the element that skipped it is the one out of place.
            let skipped = parent.skips.iter().position(|s| s.0 == k);
            match skipped.and_then(|i| parent.skips.get(i)) {
                Some(&(_, at, jumped, jdepth)) => {
                    let jname = children.get(jumped).map_or("?", |c| name_of(self.layout, *c));
                    found.push((
                        SchemaCheck::MisplacedElement,
                        format!("`<{jname}>` comes before `<{name}>` in `<{pname}>`, but the schema puts it after; {REJECTS}"),
                        at,
                        jdepth,
                        jname.to_string(),
                    ));
                }
                None => {
                    let next = children.get(pos).map_or("?", |c| name_of(self.layout, *c));
                    found.push((
                        SchemaCheck::MisplacedElement,
                        format!("`<{name}>` is out of order in `<{pname}>`: the schema puts it before `<{next}>`; {REJECTS}"),
                        line,
                        depth,
                        name.to_string(),
                    ));
                }
            }
            if let (Some(i), Some(f)) = (skipped, self.frames.last_mut()) {
                f.skips.remove(i);
            }
        } else if k > pos {
            let mut skips = vec![];
            for (j, c) in children.iter().enumerate().take(k).skip(pos) {
                let min = self.layout.get(*c).map_or(0, |e| e.min);
                if self.seen.get(parent.seen_at + j).copied().unwrap_or(0) < min {
                    skips.push((j, line, k, depth));
                }
            }
            if let Some(f) = self.frames.last_mut() {
                f.skips.extend(skips);
            }
        }
        if let Some(f) = self.frames.last_mut() {
            if k > f.pos {
                f.pos = k;
            }
            if let Some(c) = self.seen.get_mut(f.seen_at + k) {
                *c += 1;
            }
        }
        for (code, message, at, d, el) in found {
            self.report(code, message, at, d, &el);
        }
        self.text.clear();
        self.push(elem, line);
    }

    /// Text inside the innermost element (unescaped).
    pub fn text(&mut self, t: &str) {
        if self.wants_text() {
            self.text.push_str(t);
        }
    }

    /// Raw text inside the innermost element: reported when that element holds elements and the
    /// text is not whitespace.
    #[inline]
    pub fn raw_text(&mut self, raw: &str, line: u32) {
        // Indentation between elements, the usual case, is a byte test per byte.
        if raw.bytes().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            return;
        }
        self.stray_text(line);
    }

    #[cold]
    fn stray_text(&mut self, line: u32) {
        let depth = self.frames.len();
        let Some(f) = self.frames.last_mut() else { return };
        let Some(e) = f.elem.and_then(|i| self.layout.get(i)) else { return };
        if e.children.is_none() || f.text_told {
            return;
        }
        f.text_told = true;
        let name = e.name.clone();
        self.report(
            SchemaCheck::UnexpectedText,
            format!("`<{name}>` holds elements, not text, but has text in it; {REJECTS}"),
            line,
            depth,
            &name,
        );
    }

    /// The innermost element ends. For an element that holds a value, its text typed (or refused).
    /// Text values are shared through `strings`.
    pub fn close(&mut self, strings: &mut Interner) -> Option<Typed> {
        let depth = self.frames.len();
        let f = self.frames.pop()?;
        let Some(e) = f.elem.and_then(|i| self.layout.get(i)) else {
            self.seen.truncate(f.seen_at);
            return None;
        };
        match &e.children {
            Some(children) => {
                for &(j, at, jumped, jdepth) in f.skips.iter().filter(|s| !f.misspelt.contains(&s.0)) {
                    let m = children.get(j).map_or("?", |c| name_of(self.layout, *c));
                    let jname = children.get(jumped).map_or("?", |c| name_of(self.layout, *c));
                    self.report(
                        SchemaCheck::MissingElement,
                        format!("`<{}>` has no `<{m}>` before `<{jname}>`; the schema requires it; {REJECTS}", e.name),
                        at,
                        jdepth,
                        jname,
                    );
                }
                for (j, c) in children.iter().enumerate().skip(f.pos) {
                    let min = self.layout.get(*c).map_or(0, |x| x.min);
                    if self.seen.get(f.seen_at + j).copied().unwrap_or(0) < min
                        && !f.skips.iter().any(|s| s.0 == j)
                        && !f.misspelt.contains(&j)
                    {
                        let m = name_of(self.layout, *c);
                        self.report(
                            SchemaCheck::MissingElement,
                            format!("`<{}>` has no `<{m}>`; the schema requires it; {REJECTS}", e.name),
                            f.line,
                            depth,
                            &e.name,
                        );
                    }
                }
                self.seen.truncate(f.seen_at);
                None
            }
            None => {
                let yes_no = f.elem.and_then(|i| self.yes_no.get(i)).copied().unwrap_or(false);
                let typed = match typed(&e.value, &self.text, self.bools, yes_no, strings) {
                    Ok(v) => Typed::Value(v),
                    Err((code, why, keep)) => {
                        let shown = shown(&self.text);
                        self.report(code, format!("`<{}>` `{shown}` {why}; {REJECTS}", e.name), f.line, depth, &e.name);
                        Typed::Refused { keep }
                    }
                };
                self.text.clear();
                Some(typed)
            }
        }
    }
}

fn v_child_index(layout: &Layout, parent: usize, name: &str) -> Option<usize> {
    layout.get(parent)?.children.as_ref()?.iter().position(|c| name_of(layout, *c) == name)
}

/// The text as shown in a message: control characters dropped, at most 60 characters.
fn shown(text: &str) -> String {
    let s: String = text.chars().map(|c| if c == '\n' || c == '\t' || c == '\r' { ' ' } else { c }).take(60).collect();
    if text.chars().count() > 60 { format!("{s}...") } else { s }
}

/// The element name meant by a misspelt one: the same name in another case, else the nearest by
/// edit distance.
fn suggest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) {
        return Some(n);
    }
    names
        .iter()
        .map(|n| (strsim::levenshtein(&n.to_lowercase(), &name.to_lowercase()), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// XML whitespace collapse for the atomic types: surrounding spaces, tabs and line breaks dropped.
fn collapse(t: &str) -> &str {
    t.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

type Refusal = (SchemaCheck, String, Option<Scalar>);

/// Whether an element's values are all yes/no spellings: its valid values are read as booleans.
fn is_yes_no(rule: &ValueRule, bools: &Booleans) -> bool {
    rule.kind == TextKind::Text && rule.enums.as_ref().is_some_and(|(values, _)| values.iter().all(|v| bools.parse(v).is_some()))
}

/// Types an element's text by its facets; `yes_no` is [`is_yes_no`] of the rule.
/// Text is shared through `strings` (the reader's), so a code read a thousand times is held once.
pub fn typed(rule: &ValueRule, text: &str, bools: &Booleans, yes_no: bool, strings: &mut Interner) -> Result<Scalar, Refusal> {
    let mut keep = |t: &str| if t.is_empty() { None } else { Some(Scalar::Text(strings.get(t))) };
    let value = match rule.kind {
        TextKind::Text => keep(text).unwrap_or(Scalar::Null),
        TextKind::Date => match xs_date(collapse(text)) {
            Some(d) => Scalar::Date(d.num_days_from_ce()),
            None => return Err((SchemaCheck::InvalidDate, "is not a date in the form YYYY-MM-DD (xs:date)".into(), None)),
        },
        TextKind::DateTime => {
            if !xs_datetime(collapse(text)) {
                return Err((
                    SchemaCheck::InvalidDate,
                    "is not a date and time in the form YYYY-MM-DDThh:mm:ss (xs:dateTime)".into(),
                    keep(text),
                ));
            }
            keep(text).unwrap_or(Scalar::Null)
        }
        TextKind::GYear => match xs_gyear(collapse(text)) {
            Some(y) => Scalar::Int(y),
            None => return Err((SchemaCheck::InvalidNumber, "is not a year of four digits (xs:gYear)".into(), None)),
        },
        TextKind::Integer | TextKind::NonNegative => {
            let t = collapse(text);
            let digits =
                t.strip_prefix('+').or_else(|| t.strip_prefix('-').filter(|_| rule.kind == TextKind::Integer)).unwrap_or(t);
            let ok = !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit());
            let zero = t.strip_prefix('-').is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c == b'0'));
            match (ok || zero).then(|| t.parse::<i64>().ok()).flatten() {
                Some(n) => Scalar::Int(n),
                None => {
                    let what = if rule.kind == TextKind::NonNegative { "a whole number of 0 or more" } else { "a whole number" };
                    return Err((SchemaCheck::InvalidNumber, format!("is not {what}"), None));
                }
            }
        }
    };
    if let Some((values, list)) = &rule.enums
        && !values.iter().any(|v| v == text)
    {
        let from = match list {
            Some(l) => format!("one of the codes of `{l}`"),
            None if values.len() <= 8 => {
                format!("one of {}", values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "))
            }
            None => "one of the values the schema lists".to_string(),
        };
        let spaces = if collapse(text) != text && values.iter().any(|v| v == collapse(text)) {
            " (spaces around a code count: the schema compares it exactly)"
        } else {
            ""
        };
        let keep = match value {
            Scalar::Text(_) | Scalar::Null => keep(text),
            _ => None,
        };
        return Err((SchemaCheck::InvalidCode, format!("is not {from}{spaces}"), keep));
    }
    if yes_no && matches!(value, Scalar::Text(_)) {
        // A yes/no element: its spelling is one the schema lists.
        if let Some(b) = bools.parse(text) {
            return Ok(Scalar::Bool(b));
        }
    }
    if let Some((lo, hi)) = rule.length {
        let n = text.chars().count() as u32;
        if n < lo || hi.is_some_and(|h| n > h) {
            let want = match hi {
                Some(h) if h == lo => format!("exactly {lo}"),
                Some(h) => format!("{lo} to {h}"),
                None => format!("at least {lo}"),
            };
            return Err((SchemaCheck::Length, format!("has {n} characters; the schema asks for {want}"), keep(text)));
        }
    }
    if !rule.patterns.is_empty() && !rule.patterns.iter().any(|(_, re)| re.is_match(text)) {
        let pats: Vec<String> = rule.patterns.iter().map(|(p, _)| format!("`{p}`")).collect();
        return Err((SchemaCheck::Pattern, format!("does not match the pattern {}", pats.join(" or ")), keep(text)));
    }
    Ok(value)
}

/// An optional time zone: `Z`, or `+hh:mm` / `-hh:mm` up to 14:00.
fn timezone(t: &str) -> bool {
    if t.is_empty() || t == "Z" {
        return true;
    }
    let b = t.as_bytes();
    if b.len() != 6 || !matches!(b.first(), Some(b'+' | b'-')) || b.get(3) != Some(&b':') {
        return false;
    }
    let num = |s: &str| s.parse::<u32>().ok().filter(|_| s.bytes().all(|c| c.is_ascii_digit()));
    match (t.get(1..3).and_then(num), t.get(4..6).and_then(num)) {
        (Some(h), Some(m)) => m < 60 && (h < 14 || (h == 14 && m == 0)),
        _ => false,
    }
}

/// The year part of an xs:date or xs:gYear: four or more digits (no leading zero beyond four),
/// optionally negative; returns it and the rest.
fn year_part(t: &str) -> Option<(i64, &str)> {
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let n = body.bytes().take_while(u8::is_ascii_digit).count();
    let digits = body.get(..n)?;
    if n < 4 || (n > 4 && digits.starts_with('0')) {
        return None;
    }
    let y: i64 = digits.parse().ok()?;
    if y == 0 {
        return None;
    }
    Some((if neg { -y } else { y }, body.get(n..)?))
}

/// An xs:date: `YYYY-MM-DD` with an optional time zone.
pub fn xs_date(t: &str) -> Option<NaiveDate> {
    let (y, rest) = year_part(t)?;
    let b = rest.as_bytes();
    if b.len() < 6 || b.first() != Some(&b'-') || b.get(3) != Some(&b'-') {
        return None;
    }
    let two = |s: Option<&str>| s.filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse::<u32>().ok());
    let m = two(rest.get(1..3))?;
    let d = two(rest.get(4..6))?;
    if !timezone(rest.get(6..)?) {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// An xs:gYear: a year with an optional time zone.
fn xs_gyear(t: &str) -> Option<i64> {
    let (y, rest) = year_part(t)?;
    timezone(rest).then_some(y)
}

/// An xs:dateTime: `YYYY-MM-DDThh:mm:ss` with optional fractional seconds and time zone.
fn xs_datetime(t: &str) -> bool {
    let Some((date, time)) = t.split_once('T') else { return false };
    if xs_date(date).is_none() || date.len() < 10 || !date.get(date.len().saturating_sub(6)..).is_some_and(|s| s.starts_with('-'))
    {
        return false;
    }
    let b = time.as_bytes();
    if b.len() < 8 || b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return false;
    }
    let two = |s: Option<&str>| s.filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse::<u32>().ok());
    let (Some(h), Some(mi), Some(s)) = (two(time.get(0..2)), two(time.get(3..5)), two(time.get(6..8))) else { return false };
    let mut rest = time.get(8..).unwrap_or("");
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = frac.get(n..).unwrap_or("");
    }
    let ok_time = (h < 24 && mi < 60 && s < 60) || (h == 24 && mi == 0 && s == 0);
    ok_time && timezone(rest)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_are_xs_dates() {
        for ok in [
            "2024-11-29",
            "2024-11-29Z",
            "2024-11-29+01:00",
            "2024-11-29-00:00",
            "2024-11-29+14:00",
            "-2024-11-29",
            "12024-11-29",
        ] {
            assert!(xs_date(ok).is_some(), "{ok}");
        }
        for bad in [
            "14/03/2025",
            "2025/03/14",
            "14.03.2025",
            "2025-03-14T00:00:00",
            "2024-02-30",
            "2024-11-29+14:01",
            "0000-01-01",
            "02024-11-29",
            "2024-1-29",
            "2024-11-29 Z",
            "",
        ] {
            assert!(xs_date(bad).is_none(), "{bad}");
        }
        assert!(xs_datetime("2025-01-01T10:00:00.5Z") && xs_datetime("2025-01-01T24:00:00") && !xs_datetime("2025-01-01T10:00"));
        assert_eq!(xs_gyear("2025Z"), Some(2025));
        assert!(xs_gyear("25").is_none() && xs_gyear("02025").is_none());
    }
}
