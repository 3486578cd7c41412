//! Source spans and the map of loaded rule files.
//!
//! A [`Span`] is a small `Copy` value (file id and byte range). Equality between spans is always true,
//! so AST equality ignores layout.

use std::sync::Arc;

/// Index of a source file in a [`Sources`] map.
#[derive(Clone, Copy, Debug, Default, PartialOrd, Ord)]
pub struct FileId(pub u32);

impl PartialEq for FileId {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for FileId {}

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// Start byte.
    pub start: u32,
    /// End byte (exclusive).
    pub end: u32,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Span {
    /// A span in `file` from `start` to `end`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span { file, start: start as u32, end: end as u32 }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
    /// Byte range as `usize`.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    /// Whether this span is the same place as `other` (spans compare equal otherwise).
    pub fn same(self, other: Span) -> bool {
        self.file.0 == other.file.0 && self.start == other.start && self.end == other.end
    }
}

/// One loaded rule file.
#[derive(Debug)]
pub struct Source {
    /// Its display name (`rules/cin/2024-25/child.fettle`).
    pub name: String,
    /// Its text.
    pub text: Arc<str>,
    /// The offset of each line's start, made when a line is first asked for.
    line_starts: std::sync::OnceLock<Vec<u32>>,
}

impl Source {
    /// A file named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Source {
        Source { name: name.into(), text: text.into(), line_starts: std::sync::OnceLock::new() }
    }

    /// 1-based line and column (in characters) of byte `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        if !self.text.is_char_boundary(at) {
            return (1, 1);
        }
        let starts = self.line_starts.get_or_init(|| std::iter::once(0).chain(line_breaks(&self.text)).collect());
        let line = starts.partition_point(|&s| s as usize <= at).max(1);
        let start = starts.get(line - 1).map_or(0, |&s| s as usize);
        let col = self.text.get(start..at.max(start)).map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

/// The offsets just after each line break.
fn line_breaks(text: &str) -> impl Iterator<Item = u32> + '_ {
    text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| (i + 1) as u32)
}

/// All rule files of a run, indexed by [`FileId`]. Ids need not be consecutive: a library gives
/// each file it parses one id for all the sets that load it ([`Sources::insert`]).
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<Option<Source>>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(Some(Source::new(name, text)));
        FileId((self.files.len() - 1) as u32)
    }
    /// Adds a file under an id given elsewhere (replacing a file with that id).
    pub fn insert(&mut self, id: FileId, name: impl Into<String>, text: impl Into<Arc<str>>) {
        let i = id.0 as usize;
        if self.files.len() <= i {
            self.files.resize_with(i + 1, || None);
        }
        if let Some(slot) = self.files.get_mut(i) {
            *slot = Some(Source::new(name, text));
        }
    }
    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&Source> {
        self.files.get(id.0 as usize).and_then(Option::as_ref)
    }
    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file).and_then(|s| s.text.get(span.range())).unwrap_or("")
    }
    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let Some(src) = self.get(span.file) else { return (0, 0) };
        src.line_col(span.start as usize)
    }
    /// Every file.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &Source)> {
        self.files.iter().enumerate().filter_map(|(i, s)| Some((FileId(i as u32), s.as_ref()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line index gives what counting line breaks before the byte gives, at every byte.
    #[test]
    fn line_col_by_index_is_line_col_by_counting() {
        let text = "rule A {\n  é = 1\n\n}\nlast";
        let src = Source::new("f", text);
        for at in 0..text.len() + 3 {
            let counted = match text.get(..at) {
                Some(upto) => (upto.matches('\n').count() + 1, upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1),
                None => (1, 1),
            };
            assert_eq!(src.line_col(at), counted, "byte {at}");
        }
    }
}
