//! Text helpers for the language server: UTF-16 positions, `file:` URIs, and the word at the cursor.
//!
//! LSP positions count UTF-16 code units within a line; fettle spans are byte offsets. Identifiers
//! are ASCII, so scanning bytes for them never splits a character.

use lsp_types::{Position, Range, Uri};
use std::path::{Path, PathBuf};

/// Line starts of a text, for converting between byte offsets and LSP positions.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The 0-based line and UTF-16 character of a byte offset (clamped to the text).
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character = self.text.get(start..offset).map_or(0, |s| s.encode_utf16().count());
        (line as u32, character as u32)
    }

    /// The byte offset of a 0-based line and UTF-16 character (clamped to the line and the text).
    pub fn offset(&self, line: u32, character: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else { return self.text.len() };
        let end = self.starts.get(line as usize + 1).map_or(self.text.len(), |e| e.saturating_sub(1));
        let content = self.text.get(start..end).unwrap_or("");
        let mut units = 0u32;
        for (i, c) in content.char_indices() {
            if units >= character || c == '\r' {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        start + content.len()
    }

    /// The LSP position of a byte offset.
    pub fn lsp_position(&self, offset: usize) -> Position {
        let (line, character) = self.position(offset);
        Position { line, character }
    }

    /// The LSP range of a byte range.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range { start: self.lsp_position(start), end: self.lsp_position(end.max(start)) }
    }
}

/// A URI as lsp-types holds it (`None` when the text is not a URI).
pub fn lsp_uri(uri: &str) -> Option<Uri> {
    uri.parse().ok()
}

/// The path of a `file:` URI (`None` for other schemes or a malformed URI).
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // An authority (`file://localhost/x`) is dropped; only local files are served.
    let rest = rest.get(rest.find('/')?..)?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut it = rest.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next()?, it.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    let path = String::from_utf8(bytes).ok()?;
    // `/C:/dir` on Windows.
    let b = path.as_bytes();
    if cfg!(windows) && b.len() > 2 && b.get(2) == Some(&b':') && b.get(1).is_some_and(u8::is_ascii_alphabetic) {
        return Some(PathBuf::from(path.get(1..)?));
    }
    Some(PathBuf::from(path))
}

/// The `file:` URI of a path.
pub fn path_to_uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a byte can be part of an identifier (or a rule code).
pub fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The byte range of the identifier at or just before `offset` (empty when there is none).
pub fn word_at(text: &str, offset: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut start = offset;
    while start > 0 && b.get(start - 1).is_some_and(|&c| is_ident(c)) {
        start -= 1;
    }
    let mut end = offset;
    while b.get(end).is_some_and(|&c| is_ident(c)) {
        end += 1;
    }
    (start, end)
}

/// The dotted path written just before `start` (`Table` in `Table.Fi`, `cin.Child` in `cin.Child.X`).
pub fn qualifier(text: &str, start: usize) -> Option<&str> {
    let b = text.as_bytes();
    let mut s = start;
    if s == 0 || b.get(s - 1) != Some(&b'.') {
        return None;
    }
    let end = s - 1;
    s = end;
    while s > 0 && b.get(s - 1).is_some_and(|&c| is_ident(c) || c == b'.') {
        s -= 1;
    }
    text.get(s..end).filter(|q| !q.is_empty() && !q.starts_with('.'))
}

/// The text of the line before `offset`.
pub fn line_before(text: &str, offset: usize) -> &str {
    let upto = text.get(..offset).unwrap_or("");
    upto.rsplit('\n').next().unwrap_or("")
}

/// Whether the end of `line` is inside a string, and whether it is inside a comment.
pub fn string_or_comment(line: &str) -> (bool, bool) {
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return (false, true),
            _ => {}
        }
    }
    (in_string, false)
}

/// The table the declaration around `offset` is about: `on T` of the enclosing rule, `table T`,
/// `extend table T`, or `derive T.F`.
pub fn context_table(text: &str, offset: usize) -> Option<String> {
    let upto = text.get(..offset)?;
    for line in upto.rsplit('\n') {
        let words: Vec<&str> = line.split_whitespace().collect();
        let first = line.chars().next().filter(|c| !c.is_whitespace());
        let words = match words.as_slice() {
            ["replace", rest @ ..] => rest,
            w => w,
        };
        match (first, words) {
            (None, _) | (_, []) => continue,
            (_, ["rule", ..]) => {
                // The scope follows the message, after its closing quote.
                let tail = line.rsplit('"').next().unwrap_or("");
                let mut it = tail.split_whitespace();
                return (it.next() == Some("on")).then(|| it.next()).flatten().map(clean).filter(|t| t != "return");
            }
            (_, ["table", name, ..] | ["extend", "table", name, ..]) => return Some(clean(name)),
            (_, ["derive", name, ..]) => return name.split_once('.').map(|(t, _)| t.to_string()),
            (Some('#' | '}'), _) => continue,
            _ => return None,
        }
    }
    None
}

/// The names written just before each `{` still open at `offset`, innermost first (`Header` in
/// `example pass { Header { Year: 2026 ...`, the scope table in `... on CINdetails {`).
pub fn open_braces(text: &str, offset: usize) -> Vec<&str> {
    let b = text.as_bytes();
    let mut stack = vec![];
    let mut i = 0;
    while i < offset.min(b.len()) {
        match b.get(i) {
            Some(b'"') => {
                i += 1;
                while i < b.len() && b.get(i) != Some(&b'"') {
                    i += if b.get(i) == Some(&b'\\') { 2 } else { 1 };
                }
            }
            Some(b'#') => {
                while i < b.len() && b.get(i) != Some(&b'\n') {
                    i += 1;
                }
            }
            Some(b'{') => stack.push(i),
            Some(b'}') => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack
        .iter()
        .rev()
        .filter_map(|&at| {
            let before = text.get(..at)?.trim_end();
            let (s, e) = word_at(before, before.len());
            before.get(s..e).filter(|w| !w.is_empty())
        })
        .collect()
}

/// The word before `start` on its line (`code` in `code Sex`).
pub fn previous_word(text: &str, start: usize) -> &str {
    let before = line_before(text, start).trim_end();
    let (s, e) = word_at(before, before.len());
    before.get(s..e).unwrap_or("")
}

fn clean(s: &str) -> String {
    s.trim_end_matches('{').to_string()
}

/// The table an aggregate variable ranges over: `Children` for `c` in `count(c in Children where ...)`.
pub fn alias_table(text: &str, before: usize, alias: &str) -> Option<String> {
    let upto = text.get(..before)?;
    let pat = format!("{alias} in ");
    let mut search = upto.len();
    while let Some(i) = upto.get(..search)?.rfind(&pat) {
        search = i;
        if i > 0 && upto.as_bytes().get(i - 1).is_some_and(|&c| is_ident(c)) {
            continue;
        }
        let rest = upto.get(i + pat.len()..)?.trim_start();
        let path: String = rest.bytes().take_while(|&c| is_ident(c) || c == b'.').map(char::from).collect();
        return path.rsplit('.').next().filter(|s| !s.is_empty()).map(str::to_string);
    }
    None
}

/// The return and year a rule file's header names (`return cin 2024-25`), if it has one.
pub fn header_of(text: &str) -> Option<(String, String)> {
    let line = text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).find(|l| !l.is_empty())?;
    let mut it = line.split_whitespace();
    (it.next()? == "return").then_some(())?;
    Some((it.next()?.to_string(), it.next()?.to_string()))
}

/// Returns named by `uses` lines.
pub fn uses_of(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|l| l.strip_prefix("uses ")).filter_map(|r| r.split_whitespace().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "ab\né😀x\r\nlast";
        let ix = LineIndex::new(text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(ix.position(x), (1, 3));
        assert_eq!(ix.offset(1, 3), x);
        assert_eq!(ix.offset(1, 99), x + 1);
        assert_eq!(ix.offset(9, 0), text.len());
        assert_eq!(ix.position(text.len() + 5), (2, 4));
        // Inside the emoji: back to a character boundary.
        assert_eq!(ix.position(x - 1), (1, 1));
    }

    #[test]
    fn uris_round_trip() {
        let p = Path::new("/tmp/a b/r%s.fettle");
        let uri = path_to_uri(p);
        assert_eq!(uri, "file:///tmp/a%20b/r%25s.fettle");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
        assert_eq!(uri_to_path("untitled:1"), None);
        assert_eq!(uri_to_path("file:///x/%zz"), None);
    }

    #[test]
    fn words_and_contexts() {
        let text = "rule R1 error \"x on y\" on Child {\n  require count(c in Visit where c.Count > 0) > Child.Bi";
        let end = text.len();
        assert_eq!(word_at(text, end), (end - 2, end));
        assert_eq!(qualifier(text, end - 2), Some("Child"));
        assert_eq!(context_table(text, end).as_deref(), Some("Child"));
        let c = text.find("c.Count").unwrap_or(0);
        assert_eq!(alias_table(text, c, "c").as_deref(), Some("Visit"));
        assert_eq!(string_or_comment("a \"b # c"), (true, false));
        assert_eq!(string_or_comment("a \"b\" # c"), (false, true));
        assert_eq!(header_of("# c\nreturn cin 2024-25\n"), Some(("cin".into(), "2024-25".into())));
        let ex = "rule R error \"{x}\" on Child { # {\n  example pass { Header { Year: 1 } Visit { Count: 2";
        assert_eq!(open_braces(ex, ex.len()), ["Visit", "pass", "Child"]);
        assert_eq!(previous_word("field A: code Sex", 14), "code");
    }
}
