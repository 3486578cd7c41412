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
}

/// All rule files of a run, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(Source { name: name.into(), text: text.into() });
        FileId((self.files.len() - 1) as u32)
    }
    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&Source> {
        self.files.get(id.0 as usize)
    }
    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file).and_then(|s| s.text.get(span.range())).unwrap_or("")
    }
    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        let Some(src) = self.get(span.file) else { return (0, 0) };
        let upto = src.text.get(..span.start as usize).unwrap_or("");
        let line = upto.matches('\n').count() + 1;
        let col = upto.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
    /// Every file.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &Source)> {
        self.files.iter().enumerate().map(|(i, s)| (FileId(i as u32), s))
    }
}
