//! The DfE CIN census XML message, read by the schema's `xml` paths in one streaming pass.
//!
//! A table's `xml` path is relative to its parent row's element (top tables: from the document root,
//! root included); a field's path is relative to its row's element, `.` meaning the element's own
//! text. A field element that repeats fills a list field item by item; for other fields the first
//! non-empty value counts. Unknown elements and stray text are ignored. DTDs are not processed and
//! entities other than the five XML ones are left as written, so no file can expand or fetch
//! anything.

use super::builder::{self, Builder};
use super::{InputError, Sniff};
use crate::schema::{FieldId, FieldType, Schema, TableId};
use crate::table::{Dataset, NONE, Origin, Raw};
use quick_xml::Reader;
use quick_xml::events::Event;
use std::path::Path;

/// Depth limit: deeper documents are refused rather than walked.
const MAX_DEPTH: usize = 256;

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
}

impl Plan {
    fn new(schema: &Schema) -> Plan {
        let mut names = Names::default();
        let table_paths = schema.tables.iter().map(|t| t.xml.as_ref().map(|p| names.path(p))).collect();
        let field_paths = schema
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
        let root =
            schema.tables.iter().filter_map(|t| t.xml.as_ref()).next().and_then(|p| p.split('/').next()).map(str::to_string);
        Plan { names, table_paths, field_paths, root }
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
    let parts = rayon::current_num_threads().min(bytes.len() / PART_MIN_BYTES).max(1);
    read_in_parts(schema, bytes, display, parts)
}

/// [`read`] with the number of parts to aim for (1: one pass).
pub fn read_in_parts(schema: &Schema, bytes: &[u8], display: &str, parts: usize) -> Result<Dataset, InputError> {
    let malformed = |reason: String| InputError::Malformed { path: display.into(), format: "XML", reason };
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(format!("it is not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let plan = Plan::new(schema);
    if parts > 1
        && let Some((element, above)) = plan.cut(schema)
    {
        let starts = cut_points(text, &element, parts);
        if starts.len() > 1
            && let Some(data) = read_parts(schema, &plan, text, display, &starts, &above)
        {
            return Ok(with_origins(schema, builder::finish(schema, data)));
        }
    }
    let part = read_part(schema, &plan, text, display, 1, &[], &[]).map_err(malformed)?;
    Ok(with_origins(schema, builder::finish(schema, part)))
}

/// Byte offsets where parts start: 0, then the start of a `<element>` or `<element ` tag near each
/// equal share of the text.
fn cut_points(text: &str, element: &str, parts: usize) -> Vec<usize> {
    let mut starts = vec![0];
    let share = text.len() / parts;
    let (open, spaced) = (format!("<{element}>"), format!("<{element} "));
    for k in 1..parts {
        let from = (k * share).max(starts.last().copied().unwrap_or(0) + 1);
        let Some(rest) = text.get(from..) else { break };
        let found = [rest.find(&open), rest.find(&spaced)].into_iter().flatten().min();
        match found {
            Some(i) => starts.push(from + i),
            None => break,
        }
    }
    starts.dedup();
    starts
}

/// Reads the parts starting at `starts` side by side and joins them; None when a part fails or
/// does not end with the elements above the cut open (the cut was not where rows start).
fn read_parts(schema: &Schema, plan: &Plan, text: &str, display: &str, starts: &[usize], above: &[u32]) -> Option<Dataset> {
    use rayon::prelude::*;
    let bounds: Vec<(usize, usize)> =
        starts.iter().enumerate().map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(text.len()))).collect();
    // The line each part starts on.
    let newlines: Vec<u32> = bounds
        .par_iter()
        .map(|&(s, e)| text.as_bytes().get(s..e).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count() as u32))
        .collect();
    let first_lines: Vec<u32> =
        newlines.iter().scan(1u32, |line, n| Some(std::mem::replace(line, line.saturating_add(*n)))).collect();
    let last = bounds.len() - 1;
    let parts: Vec<Option<Dataset>> = bounds
        .par_iter()
        .zip(first_lines.par_iter())
        .enumerate()
        .map(|(i, (&(s, e), &line))| {
            let piece = text.get(s..e)?;
            let start = if i == 0 { &[][..] } else { above };
            let end = if i == last { &[][..] } else { above };
            read_part(schema, plan, piece, display, line, start, end).ok()
        })
        .collect();
    let parts: Option<Vec<Dataset>> = parts.into_iter().collect();
    builder::join(schema, parts?)
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
/// elements `start` open and must end with the elements `end` open, into unfinished tables.
fn read_part(
    schema: &Schema,
    plan: &Plan,
    text: &str,
    display: &str,
    first_line: u32,
    start: &[u32],
    end: &[u32],
) -> Result<Dataset, String> {
    let (names, table_paths, field_paths) = (&plan.names, &plan.table_paths, &plan.field_paths);
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
    let mut opened: Vec<u32> = vec![];
    let mut qnames = Names::default();
    let mut stack: Vec<u32> = start.to_vec();
    let mut open: Vec<Open> = vec![];
    // (table, row, field, depth, text, line, is_list)
    let mut capture: Option<(TableId, u32, FieldId, usize, String, u32, bool)> = None;
    let mut line: u32 = first_line;
    let mut last_pos: usize = 0;
    let mut seen_root = !start.is_empty();
    loop {
        let ev = reader.read_event().map_err(|e| format!("{e} near byte {}", reader.error_position()))?;
        let pos = reader.buffer_position() as usize;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let local = e.local_name();
                let name: &str = local.as_ref();
                // Line of this tag's start.
                let tag_start = text.get(..pos).and_then(|s| s.rfind('<')).unwrap_or(last_pos);
                line += count_newlines(text, last_pos, tag_start);
                last_pos = tag_start.max(last_pos);
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
                stack.push(names.id(name));
                if own_check && !is_empty {
                    opened.push(qnames.intern(e.name().into_inner()));
                }
                let depth = stack.len();
                if depth > MAX_DEPTH {
                    return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
                }
                on_open(schema, table_paths, field_paths, &mut b, &stack, &mut open, &mut capture, line);
                if is_empty {
                    on_close(&mut b, &mut stack, &mut open, &mut capture);
                }
            }
            Event::End(ref e) => {
                if own_check {
                    let closes = match opened.pop() {
                        Some(q) => q == qnames.intern(e.name().into_inner()),
                        None => stack.last().is_some_and(|i| names.name(*i) == e.local_name().into_inner()),
                    };
                    if !closes {
                        return Err("an end tag does not match".into());
                    }
                }
                on_close(&mut b, &mut stack, &mut open, &mut capture);
            }
            Event::Text(t) => {
                if let Some(c) = capture.as_mut() {
                    c.4.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(c) = capture.as_mut() {
                    c.4.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = capture.as_mut() {
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
                    c.4.push_str(&s);
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

fn count_newlines(text: &str, from: usize, to: usize) -> u32 {
    if to <= from {
        return 0;
    }
    text.as_bytes().get(from..to).map_or(0, |s| s.iter().filter(|&&c| c == b'\n').count() as u32)
}

#[allow(clippy::too_many_arguments)]
fn on_open(
    schema: &Schema,
    table_paths: &[Option<Vec<u32>>],
    field_paths: &[Vec<Vec<u32>>],
    b: &mut Builder,
    stack: &[u32],
    open: &mut Vec<Open>,
    capture: &mut Option<(TableId, u32, FieldId, usize, String, u32, bool)>,
    line: u32,
) {
    let depth = stack.len();
    if capture.is_some() {
        return;
    }
    // A new row of some table?
    for t in schema.table_ids() {
        let Some(Some(tp)) = table_paths.get(t.0 as usize) else { continue };
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
        if let Some(fps) = field_paths.get(t.0 as usize)
            && let Some(fi) = fps.iter().position(|p| p.is_empty())
        {
            let f = FieldId(fi as u32);
            let is_list = matches!(schema.field(t, f).ty, FieldType::List(_));
            b.mark_present(t, f);
            *capture = Some((t, row, f, depth, String::new(), line, is_list));
        }
        return;
    }
    // A field of the innermost open row that matches.
    for o in open.iter().rev() {
        let Some(rel) = stack.get(o.depth..) else { continue };
        let Some(fps) = field_paths.get(o.table.0 as usize) else { continue };
        if let Some(fi) = fps.iter().position(|p| !p.is_empty() && p.as_slice() == rel) {
            let f = FieldId(fi as u32);
            let is_list = matches!(schema.field(o.table, f).ty, FieldType::List(_));
            b.mark_present(o.table, f);
            *capture = Some((o.table, o.row, f, depth, String::new(), line, is_list));
            return;
        }
    }
}

fn on_close(
    b: &mut Builder,
    stack: &mut Vec<u32>,
    open: &mut Vec<Open>,
    capture: &mut Option<(TableId, u32, FieldId, usize, String, u32, bool)>,
) {
    let depth = stack.len();
    if let Some((t, row, f, d, _, _, _)) = capture.as_ref()
        && *d == depth
    {
        let (t, row, f) = (*t, *row, *f);
        if let Some((_, _, _, _, text, line, is_list)) = capture.take() {
            if is_list {
                b.push_item(t, row, f, &Raw::Text(&text), line);
            } else {
                b.set(t, row, f, &Raw::Text(&text), line);
            }
        }
    }
    while open.last().is_some_and(|o| o.depth == depth) {
        open.pop();
    }
    stack.pop();
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
    let text = String::from_utf8_lossy(head);
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
        let starts = cut_points(&xml, &element, 7);
        assert_eq!(starts.len(), 7);
        assert!(read_parts(&schema, &plan, &xml, "x.xml", &starts, &above).is_some(), "the parts are read, not the fallback");
        for parts in [2, 3, 7, 40] {
            assert_eq!(shown(read_in_parts(&schema, xml.as_bytes(), "x.xml", parts)), one, "{parts} parts");
        }
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
        ];
        for (i, doc) in cases.iter().enumerate() {
            let one = shown(read_in_parts(&schema, doc.as_bytes(), "x.xml", 1));
            for parts in [2, 5, 17] {
                assert_eq!(shown(read_in_parts(&schema, doc.as_bytes(), "x.xml", parts)), one, "case {i}, {parts} parts");
            }
        }
    }
}
