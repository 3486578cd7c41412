//! Checks that run before a file is read, in bounded memory and in chunks: that an XML or CSV file
//! is text at all (no NUL byte) and within the [limits](super::limits), and that every part of a
//! workbook unzips, streamed and counted, to no more than the limits allow, with cell references
//! inside a worksheet's grid. A file that fails costs fettle a chunk of memory, not its size.
//!
//! Nothing here trusts what a file declares about itself (a zip entry's size, a sheet's dimension):
//! bytes are counted as they are read.

use super::InputError;
use super::limits::{self, Limit};
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufReader, Read, Seek};
use std::rc::Rc;

/// Bytes read at a time.
const CHUNK: usize = 64 * 1024;

/// The last row of a worksheet (Excel 2007 and later).
pub const MAX_ROW: u64 = 1_048_576;
/// The last column of a worksheet (`XFD`).
pub const MAX_COL: u64 = 16_384;

/// Calls `f` on each chunk of `r` with the chunk's offset, until the end or an error.
fn chunks<R: Read>(mut r: R, display: &str, mut f: impl FnMut(&[u8], u64) -> Result<(), InputError>) -> Result<(), InputError> {
    let mut buf = vec![0u8; CHUNK];
    let mut at: u64 = 0;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(InputError::Io { path: display.into(), source }),
        };
        f(buf.get(..n).unwrap_or_default(), at)?;
        at += n as u64;
    }
}

/// Whether the bytes start with a UTF-16 byte-order mark (then NUL bytes are normal).
fn utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF])
}

/// NUL bytes in a row that make a CSV file not text.
const NUL_RUN: u64 = 1024;

/// Whether the start of a file is UTF-16 text without a byte-order mark: in its first 256 bytes,
/// the bytes at odd (or even) offsets all NUL and the others not.
fn utf16_without_bom(head: &[u8]) -> bool {
    let head = head.get(..head.len().min(256)).unwrap_or_default();
    if head.len() < 8 {
        return false;
    }
    let zeros = |odd: usize| head.iter().skip(odd).step_by(2).all(|&b| b == 0);
    let set = |odd: usize| head.iter().skip(odd).step_by(2).all(|&b| b != 0);
    (zeros(1) && set(0)) || (zeros(0) && set(1))
}

/// The message for NUL bytes in a text file, from byte `at`.
fn nul(at: u64, what: &str) -> String {
    format!(
        "it holds NUL bytes (from byte {at}), which no {what} text holds: the file is damaged, empty space (a file \
         made by `truncate` or a failed copy), or another kind of file under this name"
    )
}

/// Checks an XML document in chunks before it is read: no NUL byte, no value longer than
/// `field-mb` (a run of bytes without `<` or `>`), at most `xml-elements` elements. A document in
/// UTF-16 is not checked here (its reader checks elements and depth as it goes).
pub fn xml<R: Read>(r: R, display: &str) -> Result<(), InputError> {
    let malformed = |reason: String| InputError::Malformed { path: display.into(), format: "XML", reason };
    let field = Limit::FieldMb.bytes();
    let max_elements = Limit::XmlElements.get();
    let mut state = XmlScan::default();
    let mut first = true;
    chunks(r, display, |chunk, at| {
        if first {
            first = false;
            if utf16(chunk) {
                // Not checked; the reader decodes it whole.
                state.skip = true;
            }
        }
        if state.skip {
            return Ok(());
        }
        if let Some(i) = memchr::memchr(0, chunk) {
            return Err(malformed(nul(at + i as u64, "XML")));
        }
        // A run inside one chunk is shorter than the limit when a chunk is: only runs across chunks
        // need each bracket's position.
        let over = if field >= CHUNK as u64 { state.chunk(chunk, field) } else { state.chunk_by_bracket(chunk, field) };
        if let Some(i) = over {
            let what = format!("has a value of more than {} MB before byte {}", Limit::FieldMb.get(), at + i as u64);
            return Err(limits::over(Limit::FieldMb, display, what));
        }
        if state.elements > max_elements {
            return Err(limits::over(Limit::XmlElements, display, format!("has more than {max_elements} elements")));
        }
        Ok(())
    })
}

/// What the XML scan carries from one chunk to the next.
#[derive(Default, Debug, PartialEq)]
struct XmlScan {
    /// Bytes since the last `<` or `>`.
    run: u64,
    /// Start tags so far (a `<` not followed by `/`, `!` or `?`).
    elements: u64,
    /// Whether the last chunk ended with `<` (its tag is counted by the next chunk).
    after_lt: bool,
    /// The document is not checked (UTF-16).
    skip: bool,
}

impl XmlScan {
    /// Scans a chunk; the offset in it where a run went over `field` bytes, if one did. Any `field`.
    fn chunk_by_bracket(&mut self, chunk: &[u8], field: u64) -> Option<usize> {
        self.open_carried(chunk);
        let mut last = 0usize;
        for i in memchr::memchr2_iter(b'<', b'>', chunk) {
            self.run += (i - last) as u64;
            if self.run > field {
                return Some(i);
            }
            self.run = 0;
            last = i + 1;
        }
        self.elements += starts_inside(chunk);
        self.after_lt = chunk.last() == Some(&b'<');
        self.run += (chunk.len() - last) as u64;
        (self.run > field).then_some(chunk.len())
    }

    /// [`XmlScan::chunk_by_bracket`] when `field` is at least the chunk's length, so that only the
    /// first and last bracket matter; the same result.
    fn chunk(&mut self, chunk: &[u8], field: u64) -> Option<usize> {
        self.open_carried(chunk);
        let Some(first) = memchr::memchr2(b'<', b'>', chunk) else {
            self.run += chunk.len() as u64;
            self.after_lt = false;
            return (self.run > field).then_some(chunk.len());
        };
        if self.run + first as u64 > field {
            return Some(first);
        }
        let last = memchr::memrchr2(b'<', b'>', chunk).unwrap_or(first);
        self.elements += starts_inside(chunk);
        self.after_lt = chunk.last() == Some(&b'<');
        self.run = (chunk.len() - last - 1) as u64;
        None
    }

    /// Counts the tag a `<` at the end of the last chunk started, now that its next byte is here.
    fn open_carried(&mut self, chunk: &[u8]) {
        if self.after_lt && !matches!(chunk.first(), Some(b'/' | b'!' | b'?')) {
            self.elements += 1;
        }
    }
}

/// Start tags that begin in `chunk` and whose next byte is in it too: each `<` followed by a byte
/// that is not `/`, `!` or `?` (counted by memchr's vectorised searches, not byte by byte).
fn starts_inside(chunk: &[u8]) -> u64 {
    let Some(head) = chunk.get(..chunk.len().saturating_sub(1)) else { return 0 };
    let pairs = |p: &[u8]| memchr::memmem::find_iter(chunk, p).count();
    let lt = memchr::memchr_iter(b'<', head).count();
    (lt - pairs(b"</") - pairs(b"<!") - pairs(b"<?")) as u64
}

/// Checks a CSV file in chunks before it is read: no NUL byte, at most `sheet-rows` records,
/// `sheet-cells` fields and no field over `field-mb`, as the CSV reader will split it with
/// `delimiter`. A file in UTF-16 is not checked here.
pub fn csv<R: Read>(r: R, display: &str, delimiter: u8) -> Result<(), InputError> {
    let field_limit = Limit::FieldMb.bytes();
    let (max_rows, max_cells) = (Limit::SheetRows.get(), Limit::SheetCells.get());
    let mut rdr = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut out = vec![0u8; CHUNK];
    let (mut field, mut rows, mut cells, mut first, mut skip, mut zeros) = (0u64, 0u64, 0u64, true, false, 0u64);
    let mut step = |input: &[u8], at: u64, rows: &mut u64, cells: &mut u64| -> Result<(), InputError> {
        let mut input = input;
        loop {
            let (res, nin, nout) = rdr.read_field(input, &mut out);
            input = input.get(nin..).unwrap_or_default();
            field += nout as u64;
            if field > field_limit {
                return Err(limits::over(
                    Limit::FieldMb,
                    display,
                    format!("has a field of more than {} MB (near byte {at})", Limit::FieldMb.get()),
                ));
            }
            match res {
                csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::End => return Ok(()),
                csv_core::ReadFieldResult::OutputFull => {}
                csv_core::ReadFieldResult::Field { record_end } => {
                    field = 0;
                    *cells += 1;
                    if record_end {
                        *rows += 1;
                    }
                    if *rows > max_rows {
                        return Err(limits::over(Limit::SheetRows, display, format!("has more than {max_rows} rows")));
                    }
                    if *cells > max_cells {
                        return Err(limits::over(Limit::SheetCells, display, format!("has more than {max_cells} cells")));
                    }
                }
            }
            if input.is_empty() && !matches!(res, csv_core::ReadFieldResult::OutputFull) {
                return Ok(());
            }
        }
    };
    chunks(r, display, |chunk, at| {
        if first {
            first = false;
            skip = utf16(chunk);
        }
        if skip {
            return Ok(());
        }
        let malformed = |reason: String| InputError::Malformed { path: display.into(), format: "CSV", reason };
        if at == 0 && utf16_without_bom(chunk) {
            return Err(malformed(
                "it looks like UTF-16 text without a byte-order mark (every other byte is NUL); save it as UTF-8 (Excel: \"CSV UTF-8\")".into(),
            ));
        }
        // A stray NUL is a value's problem; a long run of them is not text at all.
        let mut from = 0usize;
        while let Some(z) = chunk.get(from..).and_then(|c| memchr::memchr(0, c)).map(|z| from + z) {
            let end = chunk.get(z..).and_then(|c| c.iter().position(|&b| b != 0)).map_or(chunk.len(), |p| z + p);
            zeros = if z == 0 { zeros + end as u64 } else { (end - z) as u64 };
            if zeros >= NUL_RUN {
                return Err(malformed(nul(at + end as u64 - zeros, "CSV")));
            }
            from = end;
        }
        if chunk.last() != Some(&0) {
            zeros = 0;
        }
        step(chunk, at, &mut rows, &mut cells)
    })?;
    if !skip {
        step(&[], 0, &mut rows, &mut cells)?;
    }
    Ok(())
}

/// A merged range of cells, 0-based and inclusive: `(first row, first column, last row, last column)`.
pub type Merge = (u32, u32, u32, u32);

/// What the scan of a workbook learnt on the way.
#[derive(Debug, Default)]
pub struct Workbook {
    /// Merged ranges near the top of each sheet (by sheet name), for explaining merged headers.
    pub merges: HashMap<String, Vec<Merge>>,
}

/// Merged ranges kept per sheet (those starting in its first rows), enough for its header.
const MERGES_KEPT: usize = 10_000;
/// Merged ranges starting below this 0-based row are not kept.
const MERGE_ROWS: u32 = 1_000;

/// Reads every entry of a workbook once, streamed and to its end, counting the bytes it unzips to
/// (`zip-entry-mb`), and scans each XML part as calamine will read it: elements and depth, the
/// length of values, shared strings (count and length), rows and cells per sheet, and every cell
/// reference, row number, dimension and merged range against the worksheet's grid. An entry that
/// cannot be unzipped, or unzips to another size than its zip entry declares, is refused: calamine
/// reads the same entries with the same zip crate, so nothing it reads is left unscanned. A file
/// that is not a zip archive passes (its reader says why it cannot be read).
pub fn workbook<R: Read + Seek>(r: R, display: &str) -> Result<Workbook, InputError> {
    let zipped = Rc::new(Cell::new(0u64));
    let raw = Raw { inner: r, read: Rc::clone(&zipped) };
    let Ok(mut zip) = zip::ZipArchive::new(raw) else { return Ok(Workbook::default()) };
    // Every entry by its index (two entries may share a name), the workbook part and its
    // relationships first, to name sheets in messages.
    let names: Vec<(usize, String)> = (0..zip.len())
        .map(|i| (i, zip.name_for_index(i).and_then(Result::ok).map(|n| n.into_owned()).unwrap_or_default()))
        .collect();
    let is_book = |n: &str| n.ends_with("workbook.xml") || n.ends_with("workbook.xml.rels");
    let mut order: Vec<&(usize, String)> = names.iter().filter(|(_, n)| is_book(n)).collect();
    order.extend(names.iter().filter(|(_, n)| !is_book(n)));
    let mut book = Book::default();
    let mut out = Workbook::default();
    for (index, name) in order {
        let damaged = |shown: &str, why: String| InputError::Malformed {
            path: display.into(),
            format: "xlsx",
            reason: format!("{shown} {why}; the file has been damaged, or was not made by a spreadsheet program"),
        };
        let entry = match zip.by_index(*index) {
            Ok(e) => e,
            Err(e) => return Err(damaged(&format!("the part `{name}`"), format!("cannot be unzipped ({e})"))),
        };
        let declared = entry.size();
        let counted = Counted {
            inner: entry,
            read: 0,
            zipped: Rc::clone(&zipped),
            zipped_from: zipped.get(),
            ratio: Limit::ZipRatio.get(),
            limit: Limit::ZipEntryMb.bytes(),
            run: 0,
            field: Limit::FieldMb.bytes(),
            over: None,
            failed: None,
        };
        let sheet = book.sheet_of(name);
        let shown = match &sheet {
            Some(s) => format!("the sheet `{s}`"),
            None => format!("the part `{name}`"),
        };
        let mut reader = quick_xml::Reader::from_reader(BufReader::with_capacity(CHUNK, counted));
        // As calamine reads a part: end tags are not matched against start tags.
        reader.config_mut().check_end_names = false;
        let result = if name.ends_with(".xml") || name.ends_with(".rels") {
            part(&mut reader, name, &shown, display, &mut book)
        } else {
            Ok(vec![])
        };
        // The rest of the entry, whatever its XML: counted to its end.
        if !matches!(result, Err(Some(_))) {
            let _ = std::io::copy(reader.get_mut(), &mut std::io::sink());
        }
        let counted = reader.get_ref().get_ref();
        match counted.over {
            Some(Limit::ZipEntryMb) => {
                let what = format!("unzips {shown} to more than {} MB", Limit::ZipEntryMb.get());
                return Err(limits::over(Limit::ZipEntryMb, display, what));
            }
            Some(Limit::ZipRatio) => {
                let what = format!(
                    "unzips {shown} to more than {} times its zipped size (a zip bomb, or a part no spreadsheet program writes)",
                    Limit::ZipRatio.get()
                );
                return Err(limits::over(Limit::ZipRatio, display, what));
            }
            Some(_) => {
                let what = format!("has a value of more than {} MB in {shown}", Limit::FieldMb.get());
                return Err(limits::over(Limit::FieldMb, display, what));
            }
            None => {}
        }
        let merges = match result {
            Ok(merges) => merges,
            Err(Some(e)) => return Err(e),
            // Not well-formed (its bytes counted all the same): the reader reports it, if it
            // reads this part at all.
            Err(None) => vec![],
        };
        if let Some(e) = &counted.failed {
            return Err(damaged(&shown, format!("cannot be unzipped ({})", lower_first(e))));
        }
        if counted.read != declared {
            let why = format!("unzips to {} bytes, but its zip entry declares {declared}", counted.read);
            return Err(damaged(&shown, why));
        }
        if let Some(s) = sheet
            && !merges.is_empty()
        {
            out.merges.insert(s, merges);
        }
    }
    Ok(out)
}

/// `s` with its first letter in lower case, for an error's text inside a sentence.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_lowercase().chain(c).collect())
}

/// Sheet names and their parts, from `xl/workbook.xml` and its relationships.
#[derive(Default)]
struct Book {
    /// The workbook part's folder (`xl/`).
    dir: String,
    /// `(name, relationship id)` of each sheet.
    sheets: Vec<(String, String)>,
    /// Part paths by relationship id.
    targets: HashMap<String, String>,
}

impl Book {
    /// The name of the sheet held in a part, when known.
    fn sheet_of(&self, part: &str) -> Option<String> {
        let (name, _) = self.sheets.iter().find(|(_, id)| {
            self.targets.get(id).is_some_and(|t| match t.strip_prefix('/') {
                Some(abs) => abs == part,
                None => format!("{}{t}", self.dir) == part,
            })
        })?;
        Some(name.clone())
    }
}

/// The zipped bytes of a workbook, counted as the zip crate reads them (into `read`, shared with
/// each entry's [`Counted`]).
struct Raw<R> {
    inner: R,
    read: Rc<Cell<u64>>,
}

impl<R: Read> Read for Raw<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get().saturating_add(n as u64));
        Ok(n)
    }
}

impl<R: Seek> Seek for Raw<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// A zip entry's bytes, counted as they are read: refuses to go on past `limit` bytes, past
/// `ratio` times the zipped bytes read for it (once past [`limits::RATIO_GRACE`]; the zipped count
/// includes the zip crate's read-ahead, so the ratio is never overstated), or past `field` bytes
/// without `<` or `>` (one value, or one tag, longer than `field-mb`).
struct Counted<R> {
    inner: R,
    read: u64,
    zipped: Rc<Cell<u64>>,
    /// The zipped count when this entry began.
    zipped_from: u64,
    ratio: u64,
    limit: u64,
    run: u64,
    field: u64,
    over: Option<Limit>,
    /// Why the entry could not be unzipped, when it could not (not a limit).
    failed: Option<String>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                self.failed = Some(e.to_string());
                return Err(e);
            }
        };
        self.read += n as u64;
        let got = buf.get(..n).unwrap_or_default();
        let mut last = 0usize;
        for i in memchr::memchr2_iter(b'<', b'>', got) {
            self.run += (i - last) as u64;
            if self.run > self.field {
                break;
            }
            self.run = 0;
            last = i + 1;
        }
        if self.run <= self.field {
            self.run += (n - last) as u64;
        }
        let zipped = self.zipped.get().saturating_sub(self.zipped_from).max(1);
        if self.read > self.limit {
            self.over = Some(Limit::ZipEntryMb);
        } else if self.read > limits::RATIO_GRACE && self.read > self.ratio.saturating_mul(zipped) {
            self.over = Some(Limit::ZipRatio);
        } else if self.run > self.field {
            self.over = Some(Limit::FieldMb);
        }
        if self.over.is_some() {
            return Err(std::io::Error::other("over a limit"));
        }
        Ok(n)
    }
}

/// The value of attribute `key`, when present and readable. Borrowed where the XML allows: this
/// runs for every cell of every sheet. Duplicate attributes are not looked for (calamine does not).
fn attr<'a>(e: &'a BytesStart, key: &str) -> Option<Cow<'a, str>> {
    let mut all = e.attributes();
    all.with_checks(false);
    all.flatten().find(|a| a.key.local_name().as_ref() == key).map(|a| a.value)
}

/// A cell reference (`B12`, `$B$12`) as 1-based `(row, column)`, or why it is not one.
pub fn cell_ref(s: &str) -> Result<(u64, u64), String> {
    cell_ref_bytes(s.as_bytes())
}

/// [`cell_ref`] on the bytes of an attribute, allocating only to say why it is not one.
fn cell_ref_bytes(raw: &[u8]) -> Result<(u64, u64), String> {
    let shown = || String::from_utf8_lossy(raw).into_owned();
    let t = raw.trim_ascii();
    let (mut col, mut letters, mut row, mut digits) = (0u64, 0usize, 0u64, 0usize);
    let mut in_row = false;
    for (i, &b) in t.iter().enumerate() {
        match b {
            // `$` fixes a column or a row: allowed before either part.
            b'$' if !in_row && (i == 0 || letters > 0) => {}
            b if b.is_ascii_alphabetic() && !in_row && digits == 0 => {
                letters += 1;
                col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1;
            }
            b if b.is_ascii_digit() && letters > 0 => {
                in_row = true;
                digits += 1;
                row = row.saturating_mul(10).saturating_add(u64::from(b - b'0'));
            }
            _ => return Err(format!("`{}`, which is not one", shown())),
        }
        if letters > 3 {
            return Err(format!("`{}`, which is not one", shown()));
        }
    }
    if letters == 0 || digits == 0 {
        return Err(format!("`{}`, which is not one", shown()));
    }
    if row > MAX_ROW {
        return Err(format!("`{}`, beyond the last row of a worksheet ({MAX_ROW})", shown()));
    }
    if row == 0 {
        return Err(format!("`{}`, naming row 0, which no worksheet has", shown()));
    }
    if col > MAX_COL {
        return Err(format!("`{}`, beyond the last column of a worksheet (XFD)", shown()));
    }
    Ok((row, col))
}

/// A range (`A1:C3`, or one cell) as a [`Merge`].
fn range(s: &str) -> Result<Merge, String> {
    let (a, b) = s.split_once(':').unwrap_or((s, s));
    let (r0, c0) = cell_ref(a)?;
    let (r1, c1) = cell_ref(b)?;
    let z = |v: u64| v.saturating_sub(1) as u32;
    Ok((z(r0.min(r1)), z(c0.min(c1)), z(r0.max(r1)), z(c0.max(c1))))
}

/// Scans one XML part. `Err(None)`: not well-formed XML (left to the reader).
fn part<R: std::io::BufRead>(
    reader: &mut quick_xml::Reader<R>,
    name: &str,
    shown: &str,
    display: &str,
    book: &mut Book,
) -> Result<Vec<Merge>, Option<InputError>> {
    let bad = |what: String| {
        Some(InputError::Malformed {
            path: display.into(),
            format: "xlsx",
            reason: format!(
                "{shown} has {what}; the file was not saved this way by a spreadsheet program, or it has been damaged"
            ),
        })
    };
    let (max_elements, max_depth) = (Limit::XmlElements.get(), Limit::XmlDepth.get());
    let (max_rows, max_cells) = (Limit::SheetRows.get(), Limit::SheetCells.get());
    let (max_strings, max_strings_len) = (Limit::SharedStrings.get(), Limit::SharedStringsMb.bytes());
    let mut buf = Vec::with_capacity(1024);
    let (mut elements, mut depth, mut rows, mut cells, mut strings, mut strings_len) = (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut root: Option<String> = None;
    let mut merges = vec![];
    loop {
        buf.clear();
        let ev = reader.read_event_into(&mut buf).map_err(|_| None)?;
        let (e, opens) = match &ev {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Event::Text(t) if root.as_deref() == Some("sst") => {
                strings_len += t.len() as u64;
                if strings_len > max_strings_len {
                    let what = format!("has more than {} MB of shared strings", Limit::SharedStringsMb.get());
                    return Err(Some(limits::over(Limit::SharedStringsMb, display, what)));
                }
                continue;
            }
            Event::Eof => return Ok(merges),
            _ => continue,
        };
        elements += 1;
        if elements > max_elements {
            return Err(Some(limits::over(
                Limit::XmlElements,
                display,
                format!("has more than {max_elements} elements in {shown}"),
            )));
        }
        if opens {
            depth += 1;
            if depth > max_depth {
                return Err(Some(limits::over(
                    Limit::XmlDepth,
                    display,
                    format!("nests elements more than {max_depth} deep in {shown}"),
                )));
            }
        }
        let local = e.local_name();
        let local = local.as_ref();
        let Some(kind) = root.as_deref() else {
            root = Some(local.to_string());
            if local == "workbook" {
                book.dir = name.rfind('/').map_or(String::new(), |i| name.get(..=i).unwrap_or_default().to_string());
            }
            continue;
        };
        match (kind, local) {
            ("workbook", "sheet") => {
                if let (Some(n), Some(id)) = (attr(e, "name"), attr(e, "id")) {
                    book.sheets.push((n.into_owned(), id.into_owned()));
                }
            }
            ("Relationships", "Relationship") if name.ends_with("workbook.xml.rels") => {
                if let (Some(id), Some(target)) = (attr(e, "Id"), attr(e, "Target")) {
                    book.targets.insert(id.into_owned(), target.into_owned());
                }
            }
            ("sst", "si") => {
                strings += 1;
                if strings > max_strings {
                    return Err(Some(limits::over(
                        Limit::SharedStrings,
                        display,
                        format!("has more than {max_strings} shared strings"),
                    )));
                }
            }
            ("worksheet", "row") => {
                rows += 1;
                if rows > max_rows {
                    return Err(Some(limits::over(
                        Limit::SheetRows,
                        display,
                        format!("has more than {max_rows} rows in {shown}"),
                    )));
                }
                if let Some(r) = attr(e, "r") {
                    let t = r.as_bytes().trim_ascii();
                    let n = (!t.is_empty() && t.len() <= 19 && t.iter().all(u8::is_ascii_digit))
                        .then(|| t.iter().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')));
                    if !n.is_some_and(|n| (1..=MAX_ROW).contains(&n)) {
                        return Err(bad(format!("a row numbered `{r}`, outside a worksheet's rows 1 to {MAX_ROW}")));
                    }
                }
            }
            ("worksheet", "c") => {
                cells += 1;
                if cells > max_cells {
                    return Err(Some(limits::over(
                        Limit::SheetCells,
                        display,
                        format!("has more than {max_cells} cells in {shown}"),
                    )));
                }
                if let Some(r) = attr(e, "r") {
                    cell_ref_bytes(r.as_bytes()).map_err(|why| bad(format!("a cell reference {why}")))?;
                }
            }
            ("worksheet", "dimension") => {
                if let Some(r) = attr(e, "ref") {
                    range(&r).map_err(|why| bad(format!("a dimension with the reference {why}")))?;
                }
            }
            ("worksheet", "mergeCell") => {
                if let Some(r) = attr(e, "ref") {
                    let m = range(&r).map_err(|why| bad(format!("a merged range with the reference {why}")))?;
                    if m.0 < MERGE_ROWS && merges.len() < MERGES_KEPT {
                        merges.push(m);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The XML scan's fast path (the limit on a value at least a chunk long) gives what the scan by
    /// every bracket gives: elements, carried run, the offset of a value over the limit.
    #[test]
    fn xml_scan_fast_path_agrees() {
        let mut seed: u64 = 7;
        let mut byte = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b"<<>>//!?a b".get((seed >> 33) as usize % 11).copied().unwrap_or(b'a')
        };
        for case in 0..3000 {
            let len = 1 + case % 40;
            let chunks: Vec<Vec<u8>> = (0..1 + case % 5).map(|_| (0..len).map(|_| byte()).collect()).collect();
            for field in [len as u64, len as u64 + 3, 2 * len as u64] {
                let (mut a, mut b) = (XmlScan::default(), XmlScan::default());
                for c in &chunks {
                    let (x, y) = (a.chunk(c, field), b.chunk_by_bracket(c, field));
                    assert_eq!(x, y, "{chunks:?} {field}");
                    if x.is_some() {
                        break;
                    }
                    assert_eq!(a, b, "{chunks:?} {field}");
                }
            }
        }
    }

    #[test]
    fn cell_references_are_checked_not_wrapped() {
        assert_eq!(cell_ref("B12").unwrap(), (12, 2));
        assert_eq!(cell_ref("$XFD$1048576").unwrap(), (1_048_576, 16_384));
        assert!(cell_ref("A4294967298").unwrap_err().contains("beyond the last row"));
        assert!(cell_ref("A99999999999999999999999").unwrap_err().contains("beyond the last row"));
        assert!(cell_ref("XFE1").unwrap_err().contains("last column"));
        assert!(cell_ref("ZZZZZZZ1").unwrap_err().contains("which is not one"));
        assert!(cell_ref("A0").unwrap_err().contains("row 0"));
        assert!(cell_ref("12").unwrap_err().contains("which is not one"));
        assert_eq!(range("C3:A1").unwrap(), (0, 0, 2, 2));
    }

    #[test]
    fn text_files_with_nul_bytes_or_endless_values_are_refused_in_chunks() {
        let zeros = std::io::repeat(0).take(10 << 20);
        assert!(xml(zeros, "x.xml").unwrap_err().to_string().contains("NUL bytes (from byte 0)"));
        let long = (&b"<a>"[..]).chain(std::io::repeat(b'x').take(65_000_000));
        assert!(xml(long, "x.xml").unwrap_err().to_string().contains("field-mb"));
        assert!(xml(std::io::Cursor::new("<a><b/><c>x</c></a>"), "x.xml").is_ok());
        let csv_zeros = std::io::repeat(0).take(1 << 20);
        assert!(csv(csv_zeros, "x.csv", b',').unwrap_err().to_string().contains("NUL bytes (from byte 0)"));
        let mut late = b"a,b\n1,2\n".to_vec();
        late.extend(vec![0u8; 100_000]);
        assert!(csv(late.as_slice(), "x.csv", b',').unwrap_err().to_string().contains("NUL bytes (from byte 8)"));
        assert!(csv(&b"a,b\n1,\x002\n"[..], "x.csv", b',').is_ok());
        let utf16: Vec<u8> = "a,b\n1,2\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(csv(utf16.as_slice(), "x.csv", b',').unwrap_err().to_string().contains("UTF-16"));
        let long = (&b"a,b\n\""[..]).chain(std::io::repeat(b',').take(65_000_000));
        assert!(csv(long, "x.csv", b',').unwrap_err().to_string().contains("field-mb"));
        assert!(csv(std::io::Cursor::new("a,b\n1,2\n"), "x.csv", b',').is_ok());
    }
}
