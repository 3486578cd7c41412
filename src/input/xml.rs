//! The DfE CIN census XML message, read by the schema's `xml` paths in one streaming pass.
//!
//! A table's `xml` path is relative to its parent row's element (top tables: from the document root,
//! root included); a field's path is relative to its row's element, `.` meaning the element's own
//! text. A field element that repeats fills a list field item by item; for other fields the first
//! non-empty value counts. Unknown elements and stray text are ignored. DTDs are not processed and
//! entities other than the five XML ones are left as written, so no file can expand or fetch
//! anything.

use super::builder::Builder;
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

/// Reads a CIN census XML message.
pub fn read(schema: &Schema, bytes: &[u8], display: &str) -> Result<Dataset, InputError> {
    let malformed = |reason: String| InputError::Malformed { path: display.into(), format: "XML", reason };
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(format!("it is not UTF-8 text ({e})")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder::new(schema, display);
    // Element names as small ids, so matching paths compares integers.
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
    for t in schema.table_ids() {
        let tp = schema.table(t).xml.clone().unwrap_or_default();
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
        if let Some(tbl) = b.data_mut().tables.get_mut(t.0 as usize) {
            tbl.origin = Origin::Xml { path: tp, fields };
        }
        for (f, fs) in schema.table(t).data_fields() {
            let _ = fs;
            b.track_lines(t, f);
        }
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<u32> = vec![];
    let mut open: Vec<Open> = vec![];
    // (table, row, field, depth, text, line, is_list)
    let mut capture: Option<(TableId, u32, FieldId, usize, String, u32, bool)> = None;
    let mut line: u32 = 1;
    let mut last_pos: usize = 0;
    let mut seen_root = false;
    loop {
        let ev = reader.read_event().map_err(|e| malformed(format!("{e} near byte {}", reader.error_position())))?;
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
                    return Err(malformed(format!(
                        "it has a second root element `<{name}>` after the first one closed; an XML file has one root"
                    )));
                }
                if !seen_root {
                    seen_root = true;
                    if let Some(root) =
                        schema.tables.iter().filter_map(|t| t.xml.as_ref()).next().and_then(|p| p.split('/').next())
                        && root != name
                    {
                        return Err(malformed(format!("its root element is `{name}`, expected `{root}`")));
                    }
                }
                stack.push(names.id(name));
                let depth = stack.len();
                if depth > MAX_DEPTH {
                    return Err(malformed(format!("elements are nested more than {MAX_DEPTH} deep")));
                }
                on_open(schema, &table_paths, &field_paths, &mut b, &stack, &mut open, &mut capture, line);
                if is_empty {
                    on_close(&mut b, &mut stack, &mut open, &mut capture);
                }
            }
            Event::End(_) => {
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
        return Err(malformed("it has no elements".into()));
    }
    if !stack.is_empty() {
        let open_path: Vec<&str> = stack.iter().map(|i| names.name(*i)).collect();
        return Err(malformed(format!("it ends inside `<{}>`", open_path.join("/"))));
    }
    Ok(b.finish())
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

/// The root element and a few paths, without reading the whole file.
pub fn sniff(path: &Path) -> Sniff {
    let Ok(bytes) = std::fs::read(path) else { return Sniff::default() };
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
                if !last_text.is_empty() {
                    paths.push(format!("{}={}", stack.join("/"), last_text));
                    last_text.clear();
                } else {
                    paths.push(stack.join("/"));
                }
                stack.pop();
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    Sniff { xml_paths: paths, ..Sniff::default() }
}
