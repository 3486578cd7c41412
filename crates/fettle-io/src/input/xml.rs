//! The DfE CIN census XML message, read by the schema's `xml` paths in one streaming pass.
//!
//! A table's `xml` path is relative to its parent row's element (top tables: from the document root,
//! root included); a field's path is relative to its row's element, `.` meaning the element's own
//! text. A field element that repeats fills a list field item by item; for other fields the first
//! non-empty value counts. Unknown elements and stray text are ignored. DTDs are not processed and
//! entities other than the five XML ones are left as written, so no file can expand or fetch
//! anything.

use super::builder::{self, Builder};
use super::conform::{Typed, Validator, Violation};
use super::{InputError, Progress, Sniff};
use crate::schema::{FieldId, FieldType, Schema, TableId};
use crate::table::{Dataset, NONE, Origin, Raw, Scalar};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::path::Path;

/// An element id that no element has (derived fields).
const NEVER: u32 = u32::MAX - 1;
/// The id of every element name the schema does not mention.
const OTHER: u32 = u32::MAX;

/// Element names the schema mentions, as ids.
#[derive(Default)]
struct Names {
    ids: rustc_hash::FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn intern(&mut self, n: &str) -> u32 {
        if let Some(i) = self.ids.get(n) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(n.to_string(), i);
        self.names.push(n.to_string());
        i
    }
    fn path(&mut self, p: &str) -> Vec<u32> {
        p.split('/').filter(|s| !s.is_empty()).map(|s| self.intern(s)).collect()
    }
    fn id(&self, n: &str) -> u32 {
        self.ids.get(n).copied().unwrap_or(OTHER)
    }
    fn name(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("?", String::as_str)
    }
}

struct Open {
    table: TableId,
    row: u32,
    depth: usize,
}

/// What the schema asks of a document: element paths as ids.
struct Plan {
    names: Names,
    /// Each table's row element path (relative to its parent row's element).
    table_paths: Vec<Option<Vec<u32>>>,
    /// Each field's element path below its row's element (empty: the element's own text).
    field_paths: Vec<Vec<Vec<u32>>>,
    /// The document's root element, when the schema names one.
    root: Option<String>,
    /// Tables whose row path ends in an element, by the element's id, in table order.
    tables_by_last: Vec<Vec<TableId>>,
    /// Fields whose path ends in an element, by the element's id, in table and field order.
    fields_by_last: Vec<Vec<(TableId, FieldId)>>,
    /// The id of each element of the schema's layout, in the layout's order.
    layout_ids: Vec<u32>,
}

impl Plan {
    fn new(schema: &Schema) -> Plan {
        let mut names = Names::default();
        let table_paths: Vec<Option<Vec<u32>>> = schema.tables.iter().map(|t| t.xml.as_ref().map(|p| names.path(p))).collect();
        let field_paths: Vec<Vec<Vec<u32>>> = schema
            .tables
            .iter()
            .map(|t| {
                t.fields
                    .iter()
                    .map(|f| {
                        if f.derived {
                            return vec![NEVER];
                        }
                        let p = f.xml.clone().unwrap_or_else(|| f.name.clone());
                        if p == "." { vec![] } else { names.path(&p) }
                    })
                    .collect()
            })
            .collect();
        let layout_ids =
            schema.layout.as_ref().map(|l| l.elements.iter().map(|e| names.intern(&e.name)).collect()).unwrap_or_default();
        let root =
            schema.tables.iter().filter_map(|t| t.xml.as_ref()).next().and_then(|p| p.split('/').next()).map(str::to_string);
        let mut tables_by_last: Vec<Vec<TableId>> = vec![vec![]; names.names.len()];
        let mut fields_by_last: Vec<Vec<(TableId, FieldId)>> = vec![vec![]; names.names.len()];
        for t in schema.table_ids() {
            if let Some(Some(last)) = table_paths.get(t.0 as usize).map(|p| p.as_ref().and_then(|p| p.last()))
                && let Some(list) = tables_by_last.get_mut(*last as usize)
            {
                list.push(t);
            }
            for (fi, path) in field_paths.get(t.0 as usize).into_iter().flatten().enumerate() {
                if let Some(list) = path.last().and_then(|l| fields_by_last.get_mut(*l as usize)) {
                    list.push((t, FieldId(fi as u32)));
                }
            }
        }
        Plan { names, table_paths, field_paths, root, tables_by_last, fields_by_last, layout_ids }
    }

    /// The element at which a large document can be cut into parts read side by side: the last
    /// element of the path of the top table with the deepest path (`Child` in
    /// `Message/Children/Child`), with the path above it. None when a table's rows are elements above
    /// it (a part would then start inside one of that table's rows).
    fn cut(&self, schema: &Schema) -> Option<(String, Vec<u32>)> {
        let (t, path) = schema
            .table_ids()
            .filter(|t| schema.table(*t).parent.is_none())
            .filter_map(|t| self.table_paths.get(t.0 as usize).and_then(Option::as_ref).map(|p| (t, p)))
            .max_by_key(|(_, p)| p.len())?;
        let (last, above) = path.split_last()?;
        if above.is_empty() {
            return None;
        }
        let clash = schema
            .table_ids()
            .filter(|u| *u != t && schema.table(*u).parent.is_none())
            .any(|u| self.table_paths.get(u.0 as usize).and_then(Option::as_ref).is_some_and(|p| above.starts_with(p)));
        (!clash).then(|| (self.names.name(*last).to_string(), above.to_vec()))
    }
}

/// Documents smaller than this are read in one pass.
const PART_MIN_BYTES: usize = 4 << 20;

/// Reads a CIN census XML message. A large document is cut before repeated top-level rows (each
/// `Child`) into parts read side by side and joined; the result is the same as one pass, and any
/// doubt (a part that does not end where it should, an error in a part) falls back to one pass, so
/// errors are always reported as one pass finds them.
pub fn read(schema: &Schema, bytes: &[u8], display: &str) -> Result<Dataset, InputError> {
    read_in_parts(schema, bytes, display, parts_for(bytes.len()))
}

/// The bytes read between two reports to a progress display.
const PROGRESS_STEP: usize = 1 << 20;

/// [`read`] of a document it may drop as soon as it is parsed, before the parts are joined, so the
/// file's bytes and the whole dataset are never held at once. `progress` is told the bytes parsed.
pub fn read_owned(schema: &Schema, bytes: Vec<u8>, display: &str, progress: &dyn Progress) -> Result<Dataset, InputError> {
    let parsed = parse(schema, &bytes, display, parts_for(bytes.len()), progress)?;
    drop(bytes);
    Ok(assemble(schema, parsed))
}

/// The bytes of a part when a file is read a block at a time ([`read_file`]).
const BLOCK_BYTES: usize = 32 << 20;

/// [`read`] of a document in a file. A large UTF-8 document is read a block at a time, each block
/// cut before a repeated top-level row (`<Child>`) and parsed as a part, a few side by side, so the
/// file's bytes are never held whole beside the tables (650,000 children: an 800 MB file). Anything
/// else (a small file, another encoding, any doubt about a cut) is read whole as [`read_owned`]
/// reads it, so what is found, and where, is what one pass finds.
pub fn read_file(schema: &Schema, path: &std::path::Path, display: &str, progress: &dyn Progress) -> Result<Dataset, InputError> {
    let io = |source| InputError::Io { path: display.into(), source };
    let len = usize::try_from(std::fs::metadata(path).map_err(io)?.len()).unwrap_or(usize::MAX);
    // A block per thread for a document of a few blocks (each thread gets its share, and a little
    // more so that no small last part is left over), BLOCK_BYTES at most.
    let block = len.div_ceil(rayon::current_num_threads().max(1)).saturating_add(64 << 10).clamp(PART_MIN_BYTES, BLOCK_BYTES);
    if parts_for(len) > 1
        && let Some(parsed) = read_blocks(schema, path, display, block, progress).map_err(io)?
    {
        let data = assemble(schema, parsed);
        release_freed_memory();
        return Ok(data);
    }
    let bytes = std::fs::read(path).map_err(io)?;
    read_owned(schema, bytes, display, progress)
}

/// The parts of a UTF-8 document read a block of about `block` bytes at a time, a block per
/// thread and two more held at once at most; None when the document is not plainly UTF-8 (a byte-order mark
/// of UTF-16, a declaration of another encoding), has no rows to cut before, or a part fails (the
/// caller then reads it whole, in one pass).
fn read_blocks(
    schema: &Schema,
    path: &std::path::Path,
    display: &str,
    block: usize,
    progress: &dyn Progress,
) -> std::io::Result<Option<Parsed>> {
    use rayon::prelude::*;
    use std::io::{Read, Seek};
    let mut file = std::fs::File::open(path)?;
    let plan = Plan::new(schema);
    let Some((element, above)) = plan.cut(schema) else { return Ok(None) };
    let mut head = vec![];
    (&mut file).take(256).read_to_end(&mut head)?;
    // Borrowed: the bytes are read as they are (UTF-8, with or without its byte-order mark).
    if !matches!(decode(&head, false), Ok(std::borrow::Cow::Borrowed(_))) {
        return Ok(None);
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    file.seek(std::io::SeekFrom::Start(bom))?;
    // A thread reads the blocks, in order, while the pool parses the ones read: at most one block
    // waiting and one being read beside those being parsed.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>, u32, bool)>(1);
    let element = element.as_str();
    let (parsed, reading) = std::thread::scope(|scope| {
        let reader = std::thread::Builder::new().name("fettle-read".into()).spawn_scoped(scope, move || {
            // The bytes after the last cut, the start of the next part.
            let mut carry: Vec<u8> = vec![];
            let mut line = 1u32;
            for k in 0usize.. {
                // Each part ends just before a row's start tag, the last at the end.
                let mut buf = std::mem::take(&mut carry);
                let mut done = false;
                let cut = loop {
                    let from = buf.len();
                    let want = block.saturating_sub(from).max(block / 4).max(1);
                    let got = (&mut file).take(want as u64).read_to_end(&mut buf)?;
                    if got == 0 {
                        done = true;
                        break buf.len();
                    }
                    // The last row start in what was read (not at the part's own start).
                    if let Some(at) = last_row_start(&buf, from.saturating_sub(element.len() + 1).max(1), element) {
                        break at;
                    }
                };
                carry = buf.get(cut..).map(<[u8]>::to_vec).unwrap_or_default();
                buf.truncate(cut);
                let first = line;
                line = line.saturating_add(memchr::memchr_iter(b'\n', &buf).count() as u32);
                // The parsing side stops taking parts only when it is gone.
                if tx.send((k, buf, first, done)).is_err() || done {
                    break;
                }
            }
            Ok::<(), std::io::Error>(())
        });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => return (vec![], Err(e)),
        };
        let parsed: Vec<(usize, Option<Dataset>)> = rx
            .into_iter()
            .par_bridge()
            .map(|(k, bytes, first, last)| {
                let start = if k == 0 { &[][..] } else { &above[..] };
                let end = if last { &[][..] } else { &above[..] };
                let part = std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|text| read_part(schema, &plan, text, display, first, start, end, progress).ok());
                (k, part)
            })
            .collect();
        let reading = reader.join().unwrap_or_else(|_| Err(std::io::Error::other("the thread reading the file stopped")));
        (parsed, reading)
    });
    reading?;
    let mut parsed = parsed;
    parsed.sort_by_key(|(k, _)| *k);
    let parts: Option<Parsed> = parsed.into_iter().map(|(_, p)| p).collect();
    Ok(parts.filter(|p| !p.is_empty()))
}

/// Gives the memory freed by joining parts back to the system. glibc keeps what the reading
/// threads freed (each part's columns, moved into the joined tables) in their own arenas, where the
/// rules' evaluation on other threads cannot reuse it: 650,000 children then peak 0.4 GB higher.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's own arenas to the system; it
    // touches no memory in use and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The offset of the last `<element` start tag in `bytes` at or after `from`.
fn last_row_start(bytes: &[u8], from: usize, element: &str) -> Option<usize> {
    let name = element.as_bytes();
    let mut end = bytes.len();
    while end > from {
        let i = memchr::memrchr(b'<', bytes.get(from..end)?)? + from;
        let tag = bytes.get(i + 1..).unwrap_or(&[]);
        if tag.starts_with(name) && matches!(tag.get(name.len()), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')) {
            return Some(i);
        }
        end = i;
    }
    None
}

/// [`read`] with the number of parts to aim for (1: one pass).
pub fn read_in_parts(schema: &Schema, bytes: &[u8], display: &str, parts: usize) -> Result<Dataset, InputError> {
    Ok(assemble(schema, parse(schema, bytes, display, parts, &super::Quiet)?))
}

/// How many parts to read a document of `len` bytes in: one per thread, none under 4 MB.
fn parts_for(len: usize) -> usize {
    rayon::current_num_threads().min(len / PART_MIN_BYTES).max(1)
}

/// Parts of a document in file order, not yet joined.
type Parsed = Vec<Dataset>;

fn parse(schema: &Schema, bytes: &[u8], display: &str, parts: usize, progress: &dyn Progress) -> Result<Parsed, InputError> {
    let malformed = |reason: String| InputError::Malformed { path: display.into(), format: "XML", reason };
    let decoded = decode(bytes, false).map_err(malformed)?;
    let bytes: &[u8] = &decoded;
    let plan = Plan::new(schema);
    if parts > 1
        && let Some((element, above)) = plan.cut(schema)
    {
        let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let starts = cut_points(body, &element, parts);
        if starts.len() > 1
            && let Some(parts) = read_parts(schema, &plan, body, display, &starts, &above, progress)
        {
            return Ok(parts);
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(not_utf8(bytes, e)))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Ok(vec![read_part(schema, &plan, text, display, 1, &[], &[], progress).map_err(malformed)?])
}

/// Joins parsed parts and finishes the dataset.
fn assemble(schema: &Schema, parts: Parsed) -> Dataset {
    let data = builder::join(schema, parts).unwrap_or_else(|| Dataset::empty(schema, ""));
    with_origins(schema, builder::finish(schema, data))
}

/// Byte offsets where parts start: 0, then the start of a `<element>` or `<element ` tag near each
/// equal share of the document. Each is the position of an ASCII `<`, so in a UTF-8 document
/// every part is UTF-8 text on its own.
fn cut_points(body: &[u8], element: &str, parts: usize) -> Vec<usize> {
    let mut starts = vec![0];
    let share = body.len() / parts;
    let name = element.as_bytes();
    for k in 1..parts {
        let mut at = (k * share).max(starts.last().copied().unwrap_or(0) + 1);
        let found = loop {
            let Some(rest) = body.get(at..) else { break None };
            let Some(i) = rest.iter().position(|&c| c == b'<') else { break None };
            let tag = rest.get(i + 1..).unwrap_or(&[]);
            if tag.starts_with(name) && matches!(tag.get(name.len()), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')) {
                break Some(at + i);
            }
            at += i + 1;
        };
        match found {
            Some(i) => starts.push(i),
            None => break,
        }
    }
    starts.dedup();
    starts
}

/// Reads the parts starting at `starts` side by side; None when a part is not UTF-8, fails, or
/// does not end with the elements above the cut open (the cut was not where rows start).
fn read_parts(
    schema: &Schema,
    plan: &Plan,
    body: &[u8],
    display: &str,
    starts: &[usize],
    above: &[u32],
    progress: &dyn Progress,
) -> Option<Parsed> {
    use rayon::prelude::*;
    let bounds: Vec<(usize, usize)> =
        starts.iter().enumerate().map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(body.len()))).collect();
    // Each part as text, with its number of lines.
    let pieces: Vec<Option<(&str, u32)>> = bounds
        .par_iter()
        .map(|&(s, e)| {
            let piece = std::str::from_utf8(body.get(s..e)?).ok()?;
            Some((piece, memchr::memchr_iter(b'\n', piece.as_bytes()).count() as u32))
        })
        .collect();
    let pieces: Vec<(&str, u32)> = pieces.into_iter().collect::<Option<_>>()?;
    let first_lines: Vec<u32> =
        pieces.iter().scan(1u32, |line, (_, n)| Some(std::mem::replace(line, line.saturating_add(*n)))).collect();
    let last = pieces.len() - 1;
    let parts: Vec<Option<Dataset>> = pieces
        .par_iter()
        .zip(first_lines.par_iter())
        .enumerate()
        .map(|(i, (&(piece, _), &line))| {
            let start = if i == 0 { &[][..] } else { above };
            let end = if i == last { &[][..] } else { above };
            read_part(schema, plan, piece, display, line, start, end, progress).ok()
        })
        .collect();
    parts.into_iter().collect()
}

/// Sets each table's origin: its row element path and its fields' element paths.
fn with_origins(schema: &Schema, mut data: Dataset) -> Dataset {
    for t in schema.table_ids() {
        let path = schema.table(t).xml.clone().unwrap_or_default();
        let fields = schema
            .table(t)
            .fields
            .iter()
            .map(|f| match (&f.xml, f.derived) {
                (_, true) => String::new(),
                (Some(x), _) if x == "." => String::new(),
                (Some(x), _) => x.clone(),
                (None, _) => f.name.clone(),
            })
            .collect();
        if let Some(tbl) = data.tables.get_mut(t.0 as usize) {
            tbl.origin = Origin::Xml { path, fields };
        }
    }
    data
}

/// Reads `text`, a whole document or a part of one that starts on line `first_line` with the
/// elements `start` open and must end with the elements `end` open, into unfinished tables;
/// `progress` is told the bytes read, a megabyte at a time.
#[expect(clippy::too_many_arguments, reason = "the part, where it sits in the document, and the progress callback")]
fn read_part(
    schema: &Schema,
    plan: &Plan,
    text: &str,
    display: &str,
    first_line: u32,
    start: &[u32],
    end: &[u32],
    progress: &dyn Progress,
) -> Result<Dataset, String> {
    let mut told = 0usize;
    let names = &plan.names;
    let mut b = Builder::new(schema, display);
    for t in schema.table_ids() {
        for (f, _) in schema.table(t).data_fields() {
            b.track_lines(t, f);
        }
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    // A part that starts inside elements closes them without having seen them open: it checks end
    // tags itself (names of the elements it opened, then the local names of those it started in).
    let own_check = !start.is_empty();
    reader.config_mut().check_end_names = !own_check;
    reader.config_mut().allow_unmatched_ends = own_check;
    // The names of the elements it opened, one after another in `opened_names`, each starting at
    // its offset in `opened` (no allocation per element).
    let mut opened: Vec<usize> = vec![];
    let mut opened_names = String::new();
    let mut stack: Vec<u32> = start.to_vec();
    let mut open: Vec<Open> = vec![];
    let mut capture: Option<Capture> = None;
    // The text of the field being captured (one buffer, reused).
    let mut buf = String::new();
    let mut line: u32 = first_line;
    let mut lines = Lines::new(text, first_line);
    let mut seen_root = !start.is_empty();
    let mut v = schema.layout.as_ref().map(|l| {
        if start.is_empty() {
            Validator::new(l, &schema.booleans, &plan.layout_ids)
        } else {
            Validator::resume(l, &schema.booleans, &plan.layout_ids, &start.iter().map(|i| names.name(*i)).collect::<Vec<_>>())
        }
    });
    // Deeper documents are refused rather than walked.
    let max_depth = super::limits::Limit::XmlDepth.get();
    loop {
        let ev = reader.read_event().map_err(|e| {
            let at = reader.error_position() as usize;
            let (l, c) = line_col(text, at);
            format!("{e}, at line {}, column {c} (byte {at})", l + first_line - 1)
        })?;
        let pos = reader.buffer_position() as usize;
        if pos - told.min(pos) >= PROGRESS_STEP || matches!(ev, Event::Eof) {
            progress.read(pos.saturating_sub(told) as u64);
            told = pos;
        }
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                let name: &str = local.as_ref();
                // Line of this tag's start.
                let tag_start = text.as_bytes().get(..pos).and_then(|s| s.iter().rposition(|&c| c == b'<')).unwrap_or(0);
                line = lines.at(text, tag_start);
                if seen_root && stack.is_empty() {
                    return Err(format!(
                        "it has a second root element `<{name}>` after the first one closed; an XML file has one root"
                    ));
                }
                if !seen_root {
                    seen_root = true;
                    if let Some(root) = &plan.root
                        && root != name
                    {
                        return Err(format!("its root element is `{name}`, expected `{root}`"));
                    }
                }
                let id = names.id(name);
                stack.push(id);
                if let Some(v) = v.as_mut() {
                    v.open(name, id, line);
                    report(&mut b, v, &stack, names, &open, capture.as_ref(), name);
                }
                if own_check && !is_empty {
                    opened.push(opened_names.len());
                    opened_names.push_str(e.name().into_inner());
                }
                let depth = stack.len();
                if depth as u64 > max_depth {
                    return Err(format!(
                        "elements are nested more than {max_depth} deep, fettle's limit `xml-depth`; if the file is genuine, raise it with `--limit xml-depth=N`"
                    ));
                }
                on_open(schema, plan, &mut b, &stack, &mut open, &mut capture, &mut buf, line);
                // After the row (or field) the element opens, so that an attribute of `<Child>` is
                // said on that child's row, not on the return.
                if let Some(v) = v.as_mut()
                    && !e.attributes_raw().trim().is_empty()
                {
                    attributes(v, e, name, line, depth);
                    report(&mut b, v, &stack, names, &open, capture.as_ref(), name);
                }
                if is_empty {
                    let typed = close(&mut b, v.as_mut(), &stack, names, &open, capture.as_ref());
                    on_close(&mut b, &mut stack, &mut open, &mut capture, &buf, typed);
                }
            }
            Event::End(ref e) => {
                if own_check {
                    let closes = match opened.pop() {
                        Some(at) => {
                            let same = opened_names.get(at..) == Some(e.name().into_inner());
                            opened_names.truncate(at);
                            same
                        }
                        None => stack.last().is_some_and(|i| names.name(*i) == e.local_name().into_inner()),
                    };
                    if !closes {
                        return Err("an end tag does not match".into());
                    }
                }
                let typed = close(&mut b, v.as_mut(), &stack, names, &open, capture.as_ref());
                on_close(&mut b, &mut stack, &mut open, &mut capture, &buf, typed);
            }
            Event::Text(t) => {
                let wanted = v.as_ref().is_some_and(Validator::wants_text);
                if capture.is_some() || wanted {
                    let s = t.xml10_content();
                    if capture.is_some() {
                        buf.push_str(&s);
                    }
                    if let Some(v) = v.as_mut().filter(|_| wanted) {
                        v.text(&s);
                    }
                } else if let Some(v) = v.as_mut() {
                    v.raw_text(t.as_ref(), line);
                    report(&mut b, v, &stack, names, &open, None, stack.last().map_or("", |i| names.name(*i)));
                }
            }
            Event::CData(t) => {
                let s = t.xml10_content();
                if capture.is_some() {
                    buf.push_str(&s);
                }
                if let Some(v) = v.as_mut() {
                    if v.wants_text() {
                        v.text(&s);
                    } else {
                        v.raw_text(&s, line);
                        report(&mut b, v, &stack, names, &open, None, stack.last().map_or("", |i| names.name(*i)));
                    }
                }
            }
            Event::GeneralRef(r) if capture.is_some() || v.as_ref().is_some_and(Validator::wants_text) => {
                let name = r.xml10_content().into_owned();
                let s = match name.as_str() {
                    "amp" => "&".to_string(),
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    other => match r.resolve_char_ref() {
                        Ok(Some(ch)) => ch.to_string(),
                        _ => format!("&{other};"),
                    },
                };
                if capture.is_some() {
                    buf.push_str(&s);
                }
                if let Some(v) = v.as_mut() {
                    v.text(&s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err("it has no elements".into());
    }
    if stack != end || capture.is_some() || !open.is_empty() {
        let open_path: Vec<&str> = stack.iter().map(|i| names.name(*i)).collect();
        return Err(format!("it ends inside `<{}>`", open_path.join("/")));
    }
    Ok(b.into_part())
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
fn line_col(text: &str, at: usize) -> (u32, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = text.get(..at).unwrap_or("");
    let line = before.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The line of a byte of a text, asked in document order: the count moves forward only, one
/// vectorised search per line break.
struct Lines {
    /// The line of the bytes up to `next_break`.
    line: u32,
    /// The offset of the next line break (`usize::MAX`: none).
    next_break: usize,
}

impl Lines {
    fn new(text: &str, first_line: u32) -> Self {
        Lines { line: first_line, next_break: memchr::memchr(b'\n', text.as_bytes()).unwrap_or(usize::MAX) }
    }

    /// The line of byte `at`; earlier bytes than asked before give the line asked before.
    fn at(&mut self, text: &str, at: usize) -> u32 {
        while self.next_break < at {
            self.line = self.line.saturating_add(1);
            let from = self.next_break + 1;
            self.next_break =
                text.as_bytes().get(from..).and_then(|rest| memchr::memchr(b'\n', rest)).map_or(usize::MAX, |i| from + i);
        }
        self.line
    }
}

/// The field whose element is open, its text being gathered.
struct Capture {
    table: TableId,
    row: u32,
    field: FieldId,
    /// Depth of its element.
    depth: usize,
    line: u32,
    is_list: bool,
}

#[allow(clippy::too_many_arguments)]
fn on_open(
    schema: &Schema,
    plan: &Plan,
    b: &mut Builder,
    stack: &[u32],
    open: &mut Vec<Open>,
    capture: &mut Option<Capture>,
    buf: &mut String,
    line: u32,
) {
    let depth = stack.len();
    let Some(&last) = stack.last() else { return };
    if capture.is_some() {
        return;
    }
    let mut start = |b: &mut Builder, table: TableId, row: u32, field: FieldId| {
        let is_list = matches!(schema.field(table, field).ty, FieldType::List(_));
        b.mark_present(table, field);
        buf.clear();
        *capture = Some(Capture { table, row, field, depth, line, is_list });
    };
    // A new row of some table?
    for &t in plan.tables_by_last.get(last as usize).into_iter().flatten() {
        let Some(Some(tp)) = plan.table_paths.get(t.0 as usize) else { continue };
        let (base, parent_row) = match schema.table(t).parent {
            None => (0, NONE),
            Some(p) => match open.iter().rev().find(|o| o.table == p) {
                Some(o) => (o.depth, o.row),
                None => continue,
            },
        };
        if depth != base + tp.len() || stack.get(base..) != Some(tp.as_slice()) {
            continue;
        }
        let row = b.add_row(t, parent_row, line);
        open.push(Open { table: t, row, depth });
        // A field that is the element's own text.
        if let Some(fps) = plan.field_paths.get(t.0 as usize)
            && let Some(fi) = fps.iter().position(|p| p.is_empty())
        {
            start(b, t, row, FieldId(fi as u32));
        }
        return;
    }
    // A field of the innermost open row that matches.
    let candidates = plan.fields_by_last.get(last as usize).map_or(&[][..], Vec::as_slice);
    if candidates.is_empty() {
        return;
    }
    for o in open.iter().rev() {
        let Some(rel) = stack.get(o.depth..) else { continue };
        for &(t, f) in candidates.iter().filter(|(t, _)| *t == o.table) {
            if plan.field_paths.get(t.0 as usize).and_then(|fps| fps.get(f.0 as usize)).is_some_and(|p| p.as_slice() == rel) {
                start(b, o.table, o.row, f);
                return;
            }
        }
    }
}

fn on_close(
    b: &mut Builder,
    stack: &mut Vec<u32>,
    open: &mut Vec<Open>,
    capture: &mut Option<Capture>,
    buf: &str,
    typed: Option<Typed>,
) {
    let depth = stack.len();
    if let Some(c) = capture.take_if(|c| c.depth == depth) {
        // Text the layout kept is only a value for a text or code field; others read it as usual
        // (a valid value) or as missing (a refused one).
        let texty = |b: &Builder| {
            let ty = &b.schema().field(c.table, c.field).ty;
            let inner = if let FieldType::List(i) = ty { i.as_ref() } else { ty };
            matches!(inner, FieldType::Text | FieldType::Code(_))
        };
        let typed = match typed {
            Some(Typed::Value(Scalar::Text(_))) if !texty(b) => None,
            Some(Typed::Refused { keep: Some(_) }) if !texty(b) => Some(Typed::Refused { keep: None }),
            other => other,
        };
        match typed {
            // Typed by the layout: set exactly as the schema reads it.
            Some(Typed::Value(v) | Typed::Refused { keep: Some(v) }) => b.set_value(c.table, c.row, c.field, v, c.line),
            Some(Typed::Refused { keep: None }) => b.set_refused(c.table, c.row, c.field, buf, c.line),
            None if c.is_list => b.push_item(c.table, c.row, c.field, &Raw::Text(buf), c.line),
            None => b.set(c.table, c.row, c.field, &Raw::Text(buf), c.line),
        }
    }
    while open.last().is_some_and(|o| o.depth == depth) {
        open.pop();
    }
    stack.pop();
}

/// Closes the innermost element in the validator: its text typed, and what it found reported.
fn close(
    b: &mut Builder,
    v: Option<&mut Validator>,
    stack: &[u32],
    names: &Names,
    open: &[Open],
    capture: Option<&Capture>,
) -> Option<Typed> {
    let v = v?;
    let typed = v.close(b.strings());
    let last = stack.last().map_or("", |i| names.name(*i));
    report(b, v, stack, names, open, capture, last);
    typed
}

/// Attributes: the census schema declares none (namespace declarations aside).
fn attributes(v: &mut Validator, e: &quick_xml::events::BytesStart, name: &str, line: u32, depth: usize) {
    for a in e.attributes().with_checks(false).flatten() {
        let key: String = a.key.as_ref().to_string();
        if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
            continue;
        }
        v.found.push(Violation {
            element: name.to_string(),
            code: crate::codes::Schema::UnknownAttribute,
            message: format!("`<{name}>` has an attribute `{key}` that the schema does not declare; {}", super::conform::REJECTS),
            line,
            depth,
        });
    }
}

/// Turns what the validator found into issues: each on the innermost row open at its element (the
/// field's cell when it is about a field's value), with the element's path below that row.
#[inline(always)]
fn report(
    b: &mut Builder,
    v: &mut Validator,
    stack: &[u32],
    names: &Names,
    open: &[Open],
    capture: Option<&Capture>,
    last: &str,
) {
    // Called after every tag: nothing found is the case to make cheap.
    if !v.found.is_empty() {
        report_found(b, v, stack, names, open, capture, last);
    }
}

#[cold]
fn report_found(
    b: &mut Builder,
    v: &mut Validator,
    stack: &[u32],
    names: &Names,
    open: &[Open],
    capture: Option<&Capture>,
    last: &str,
) {
    for found in v.found.drain(..) {
        let d = found.depth;
        let name_at = |i: usize| {
            if i + 1 == d {
                found.element.as_str()
            } else if i + 1 == stack.len() {
                last
            } else {
                stack.get(i).map_or("?", |n| names.name(*n))
            }
        };
        let row = open.iter().rev().find(|o| o.depth <= d);
        let from = row.map_or(0, |o| o.depth);
        let path: Vec<&str> = (from..d).map(name_at).collect();
        let field = capture.filter(|c| c.depth == d);
        let (table, row) = match (field, row) {
            (Some(c), _) => (Some(c.table), Some(c.row)),
            (None, Some(o)) => (Some(o.table), Some(o.row)),
            (None, None) => (None, None),
        };
        b.issue(crate::table::InputIssue {
            code: found.code.into(),
            table,
            field: field.map(|c| c.field),
            row,
            message: found.message.clone(),
            severity: crate::syntax::ast::Severity::Error,
            cause: None,
            cell: None,
            line: found.line,
            path: Some(path.join("/")),
        });
    }
}

/// The document as UTF-8: UTF-16 with a byte-order mark and encodings named in the XML declaration
/// (`encoding="windows-1252"`, `ISO-8859-1`...) are decoded; anything else must already be UTF-8.
/// `lossy` replaces what does not decode (for sniffing a file's first bytes).
fn decode(bytes: &[u8], lossy: bool) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    use std::borrow::Cow;
    let encoding = match bytes {
        [0xFF, 0xFE, ..] => Some(encoding_rs::UTF_16LE),
        [0xFE, 0xFF, ..] => Some(encoding_rs::UTF_16BE),
        [0xEF, 0xBB, 0xBF, ..] => None,
        // A declaration readable as ASCII rules out UTF-16, whatever it says.
        _ => declared_encoding(bytes).filter(|e| e.is_ascii_compatible() && *e != encoding_rs::UTF_8),
    };
    let Some(encoding) = encoding else { return Ok(Cow::Borrowed(bytes)) };
    if lossy {
        let (text, _, _) = encoding.decode(bytes);
        return Ok(Cow::Owned(text.into_owned().into_bytes()));
    }
    let body = match bytes {
        [0xFF, 0xFE, rest @ ..] | [0xFE, 0xFF, rest @ ..] => rest,
        _ => bytes,
    };
    match encoding.decode_without_bom_handling_and_without_replacement(body) {
        Some(text) => Ok(Cow::Owned(text.into_owned().into_bytes())),
        None => Err(format!("it is not valid {} text, the encoding it says it is in", encoding.name())),
    }
}

/// The encoding named by an XML declaration at the start of the document, when it names one that
/// is known.
fn declared_encoding(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = bytes.get(..bytes.len().min(256))?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let decl = head.get(..head.windows(2).position(|w| w == b"?>")?)?;
    let at = decl.windows(8).position(|w| w == b"encoding")? + 8;
    let rest = decl.get(at..)?;
    let rest = rest.get(rest.iter().position(|&c| c == b'=')? + 1..)?;
    let rest = rest.get(rest.iter().position(|&c| c == b'"' || c == b'\'')?..)?;
    let (&quote, rest) = rest.split_first()?;
    let label = rest.get(..rest.iter().position(|&c| c == quote)?)?;
    encoding_rs::Encoding::for_label(label)
}

/// The message for a document that is not UTF-8, with where the first bad byte is.
fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    let before = std::str::from_utf8(bytes.get(..at).unwrap_or(&[])).unwrap_or("");
    let (line, col) = line_col(before, at);
    format!(
        "it is not UTF-8 text: the byte at line {line}, column {col} (byte {at}) is not UTF-8. Save the file as UTF-8, \
         or name its encoding in the XML declaration, e.g. <?xml version=\"1.0\" encoding=\"windows-1252\"?>"
    )
}

/// The root element and a few paths, from the first 64 KB of the file only.
pub fn sniff(path: &Path) -> Sniff {
    use std::io::Read;
    let mut head = Vec::with_capacity(64 * 1024);
    let Ok(file) = std::fs::File::open(path) else { return Sniff::default() };
    if file.take(64 * 1024).read_to_end(&mut head).is_err() {
        return Sniff::default();
    }
    sniff_bytes(&head)
}

/// The root element and the first element paths (with their text) of an XML document's first 64 KB.
pub fn sniff_bytes(bytes: &[u8]) -> Sniff {
    let head = bytes.get(..bytes.len().min(64 * 1024)).unwrap_or(&[]);
    let Ok(head) = decode(head, true) else { return Sniff::default() };
    let text = String::from_utf8_lossy(&head);
    let mut reader = Reader::from_str(&text);
    let mut stack: Vec<String> = vec![];
    let mut paths = vec![];
    let mut last_text = String::new();
    while paths.len() < 64 {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                stack.push(e.local_name().as_ref().to_string());
                last_text.clear();
            }
            Ok(Event::Text(t)) => last_text = t.xml10_content().trim().to_string(),
            Ok(Event::End(_)) => {
                if last_text.is_empty() {
                    paths.push(stack.join("/"));
                } else {
                    paths.push(format!("{}={}", stack.join("/"), last_text));
                    last_text.clear();
                }
                stack.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Sniff { xml_paths: paths, ..Sniff::default() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn schema() -> Schema {
        let lib = crate::library::Library::shipped();
        lib.compile("cin", "2024-25").program.unwrap().schema.clone()
    }

    /// Everything a reader builds, for comparing two reads.
    fn shown(r: Result<Dataset, InputError>) -> String {
        match r {
            Ok(d) => format!("{d:?}"),
            Err(e) => format!("error: {e}"),
        }
    }

    /// A document read in parts is the document read in one pass: values, parent links, ordinals,
    /// lines, invalid values and issues alike.
    #[test]
    fn parts_read_as_one_pass() {
        let schema = schema();
        let xml = crate::generate::cin_xml(600, 3, 0.2, 2025);
        let one = shown(read_in_parts(&schema, xml.as_bytes(), "x.xml", 1));
        assert!(one.contains("input::invalid-date") || one.contains("invalid"), "the sample has misfits");
        let plan = Plan::new(&schema);
        let (element, above) = plan.cut(&schema).unwrap();
        assert_eq!(element, "Child");
        let starts = cut_points(xml.as_bytes(), &element, 7);
        assert_eq!(starts.len(), 7);
        assert!(
            read_parts(&schema, &plan, xml.as_bytes(), "x.xml", &starts, &above, &crate::input::Quiet).is_some(),
            "the parts are read, not the fallback"
        );
        for parts in [2, 3, 7, 40] {
            assert_eq!(shown(read_in_parts(&schema, xml.as_bytes(), "x.xml", parts)), one, "{parts} parts");
        }
    }

    /// A document read from its file a block at a time is the document read in one pass, for
    /// blocks of every size (a block smaller than a row is read on until a row starts), and a
    /// document that a cut would misread, or another encoding, is read whole as one pass reads it.
    #[test]
    fn blocks_read_as_one_pass() {
        let schema = schema();
        let dir = std::env::temp_dir().join(format!("fettle-blocks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let xml = crate::generate::cin_xml(300, 3, 0.2, 2025);
        let mid = xml.len() / 2;
        let at = mid + xml[mid..].find("<Child>").unwrap();
        let latin = format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n{xml}");
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(&latin);
        let mut bad = xml.clone().into_bytes();
        bad[at + 20] = 0xff;
        // Whether the document is read in parts: yes, no (read whole), or either (a row tag in a
        // comment is only misread when a block ends at it).
        let cases: Vec<(Vec<u8>, Option<bool>)> = vec![
            (xml.clone().into_bytes(), Some(true)),
            (format!("\u{feff}{xml}").into_bytes(), Some(true)),
            (xml.replace("<Child>", "<Child  >").replace('\n', "\r\n").into_bytes(), Some(true)),
            (format!("{}<!-- <Child> --><![CDATA[<Child>]]>{}", &xml[..at], &xml[at..]).into_bytes(), None),
            (format!("{}</Child>{}", &xml[..at], &xml[at..]).into_bytes(), Some(false)),
            (xml.as_bytes()[..xml.len() - 30].to_vec(), Some(false)),
            (latin.into_owned(), Some(false)),
            (bad, Some(false)),
        ];
        for (i, (doc, cut)) in cases.iter().enumerate() {
            let path = dir.join(format!("case-{i}.xml"));
            std::fs::write(&path, doc).unwrap();
            let one = shown(read_in_parts(&schema, doc, "x.xml", 1));
            for block in [1usize, 700, 9_000, 100_000, 10_000_000] {
                let parts = read_blocks(&schema, &path, "x.xml", block, &crate::input::Quiet).unwrap();
                if *cut == Some(true) && block < 100_000 {
                    assert!(parts.as_ref().is_some_and(|p| p.len() > 2), "case {i}, block {block}: read in parts");
                }
                if *cut == Some(false) {
                    assert!(parts.is_none(), "case {i}, block {block}: the doubtful document is read whole");
                }
                let read = match parts {
                    Some(p) => Ok(assemble(&schema, p)),
                    None => read_in_parts(&schema, doc, "x.xml", 1),
                };
                assert_eq!(shown(read), one, "case {i}, block {block}");
            }
            assert_eq!(shown(read_file(&schema, &path, "x.xml", &crate::input::Quiet)), one, "case {i}, whole");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Legacy encodings named in the declaration and UTF-16 with a byte-order mark are decoded;
    /// a wrong declaration of UTF-16 in an ASCII file is ignored.
    #[test]
    fn encodings_are_decoded() {
        let schema = schema();
        let doc = |decl: &str| {
            format!(
                "<?xml version=\"1.0\"{decl}?>\n<Message><Header><Collection><CollectionName>CIN</CollectionName>\
                 <Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate></Collection></Header><Children><Child>\
                 <ChildIdentifiers><LAchildID>Zoë</LAchildID></ChildIdentifiers></Child></Children></Message>"
            )
        };
        let id = |d: &Dataset| {
            let t = schema.table_ids().find(|t| schema.table(*t).name == "ChildIdentifiers").unwrap();
            let f = schema.table(t).fields.iter().position(|f| f.name == "LAchildID").unwrap();
            d.tables[t.0 as usize].columns[f].values[0].display()
        };
        let latin_text = doc(" encoding=\"ISO-8859-1\"");
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(&latin_text);
        assert_eq!(id(&read(&schema, &latin, "x.xml").unwrap()), "Zoë");
        let mut utf16 = vec![0xFE, 0xFF];
        utf16.extend(doc("").encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(id(&read(&schema, &utf16, "x.xml").unwrap()), "Zoë");
        let said16 = doc(" encoding=\"UTF-16\"");
        assert_eq!(id(&read(&schema, said16.as_bytes(), "x.xml").unwrap()), "Zoë");
        let mut bad = doc("").into_bytes();
        let at = bad.iter().position(|&b| b == 0xC3).unwrap();
        bad[at] = 0xE9;
        let e = read(&schema, &bad, "x.xml").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("Save the file as UTF-8"), "{e}");
    }

    /// Documents that a cut would misread (a row tag inside a comment or CDATA, a broken end tag,
    /// an unclosed element) are read, or refused, exactly as in one pass.
    #[test]
    fn doubtful_cuts_fall_back_to_one_pass() {
        let schema = schema();
        let xml = crate::generate::cin_xml(200, 5, 0.0, 2025);
        let mid = xml.len() / 2;
        let at = mid + xml[mid..].find("<Child>").unwrap();
        let cases = [
            format!("{}<!-- <Child> --><![CDATA[<Child>]]>{}", &xml[..at], &xml[at..]),
            format!("{}<!-- {}", &xml[..at], &xml[at..]),
            format!("{}</Child>{}", &xml[..at], &xml[at..]),
            xml[..xml.len() - 30].to_string(),
            xml.replacen("</Children>", "</Childs>", 1),
            format!("{}<Other/>", xml),
            format!("\u{feff}{xml}"),
        ];
        let mut cases: Vec<Vec<u8>> = cases.into_iter().map(String::into_bytes).collect();
        let mut bad = xml.clone().into_bytes();
        bad[at + 20] = 0xff;
        cases.push(bad);
        for (i, doc) in cases.iter().enumerate() {
            let one = shown(read_in_parts(&schema, doc, "x.xml", 1));
            for parts in [2, 5, 17] {
                assert_eq!(shown(read_in_parts(&schema, doc, "x.xml", parts)), one, "case {i}, {parts} parts");
            }
        }
    }
}
