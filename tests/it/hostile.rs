//! Hostile inputs (issue 15): zip bombs, sparse files, crafted cell references, a hidden stale
//! sheet and a merged header. Each file is generated here into a scratch folder (the large ones
//! compressed or sparse, never committed) and run through `fettle validate` from that folder, so
//! paths in the snapshots are relative. Each test asserts the exit code, the message (a snapshot)
//! and the peak memory of the process (its largest resident set, from `wait4`), which must stay
//! under 1 GB: fettle refuses early, without reading what it refuses.

use super::{in_suite, root};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most memory a run may take, in KB (1 GB).
const MEMORY_KB: i64 = 1024 * 1024;

/// A run this long is a hang (not a timing check: a refusal takes a few seconds).
const HANG: Duration = Duration::from_secs(300);

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile").join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How a run ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The largest resident set of the process, in KB.
    peak_kb: i64,
}

/// Runs `fettle` with `args` in `dir`, measuring its peak memory.
///
/// The largest resident set the kernel keeps for a process counts the memory of the process it
/// was forked from (and, when spawned with `vfork`, of its parent's whole address space), so
/// `fettle` is not spawned by this large test process: a small shell starts it in the background
/// and exits, and this process, a child subreaper, adopts it and reaps it with `wait4`.
fn run(dir: &Path, args: &[&str]) -> Ran {
    // SAFETY: sets a flag of this process; no memory is passed.
    let set = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    assert_eq!(set, 0, "prctl: {}", std::io::Error::last_os_error());
    let pidfile = dir.join(format!(".fettle-pid-{}", args.join("-").replace('/', "_")));
    let mut shell = Command::new("sh");
    shell
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("FETTLE_PIDFILE", &pidfile)
        .args(["-c", r#""$0" "$@" </dev/null & echo $! > "$FETTLE_PIDFILE""#])
        .arg(insta_cmd::get_cargo_bin("fettle"))
        .args(args);
    let start = Instant::now();
    let mut child = shell.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (out, err) = (crate::drain(out), crate::drain(err));
    assert!(child.wait().unwrap().success(), "the shell that starts fettle failed");
    let pid: libc::pid_t = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let _ = std::fs::remove_file(&pidfile);
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is this process's (adopted) child, not yet reaped; both pointers are valid.
        let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(got >= 0, "wait4: {}", std::io::Error::last_os_error());
        if got == pid {
            break (status, usage);
        }
        if start.elapsed() > HANG {
            // SAFETY: as above; kills and reaps the child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            panic!("`fettle {}` ran for more than {HANG:?}: a hang", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let ran = Ran {
        code,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
        peak_kb: usage.ru_maxrss,
    };
    // For BENCHMARKS.md (`cargo test --release --test it hostile -- --nocapture`); not asserted.
    eprintln!(
        "fettle {}: exit {:?}, peak memory {} MB, {:.1} s ({:.1} s CPU)",
        args.join(" "),
        ran.code,
        ran.peak_kb / 1024,
        start.elapsed().as_secs_f64(),
        [usage.ru_utime, usage.ru_stime].iter().map(|t| t.tv_sec as f64 + t.tv_usec as f64 / 1e6).sum::<f64>()
    );
    ran
}

/// Asserts the exit code and the memory of a run, and snapshots its message.
fn check(snapshot: &str, ran: &Ran, code: i32) {
    assert_eq!(ran.code, Some(code), "{}\n{}", ran.stderr, ran.stdout);
    assert!(ran.peak_kb < MEMORY_KB, "{snapshot}: peak memory {} MB, over 1 GB", ran.peak_kb / 1024);
    insta::assert_snapshot!(snapshot, format!("exit code: {code}\n{}{}", ran.stderr, ran.stdout));
}

// ------------------------------------------------------------------------------------------------
// Zip archives written by hand, as a streaming writer makes them

/// One entry of [`raw_zip`].
struct Entry {
    name: String,
    /// The entry's bytes as stored: deflated when `deflated`.
    data: Vec<u8>,
    deflated: bool,
    crc: u32,
    /// The uncompressed size its headers declare (which a hostile file need not tell truly).
    declared: u64,
    /// Written as a streaming zip64 writer does: sizes and CRC after the data (a data descriptor),
    /// zip64 size fields.
    streamed: bool,
}

impl Entry {
    /// A small part stored as it is, declared truly.
    fn stored(name: &str, data: &[u8]) -> Entry {
        let crc = crc32fast::hash(data);
        Entry { name: name.into(), data: data.to_vec(), deflated: false, crc, declared: data.len() as u64, streamed: false }
    }
}

/// A zip archive of `entries`, with a central directory and no archive comment.
fn raw_zip(entries: &[Entry]) -> Vec<u8> {
    let (u16le, u32le, u64le) = (|v: u16| v.to_le_bytes(), |v: u32| v.to_le_bytes(), |v: u64| v.to_le_bytes());
    let mut out = vec![];
    let mut central = vec![];
    for e in entries {
        let offset = u32::try_from(out.len()).unwrap();
        let method: u16 = if e.deflated { 8 } else { 0 };
        let compressed = e.data.len() as u64;
        let (version, flags): (u16, u16) = if e.streamed { (45, 0x0008) } else { (20, 0) };
        let small = |v: u64| if e.streamed { u32::MAX } else { u32::try_from(v).unwrap() };
        // Local header.
        out.extend(u32le(0x0403_4b50));
        out.extend(u16le(version));
        out.extend(u16le(flags));
        out.extend(u16le(method));
        out.extend(u16le(0));
        out.extend(u16le(0x21));
        out.extend(u32le(if e.streamed { 0 } else { e.crc }));
        out.extend(u32le(small(compressed)));
        out.extend(u32le(small(e.declared)));
        out.extend(u16le(u16::try_from(e.name.len()).unwrap()));
        out.extend(u16le(if e.streamed { 20 } else { 0 }));
        out.extend(e.name.as_bytes());
        if e.streamed {
            // Zip64 sizes, unknown (zero) until the data descriptor.
            out.extend(u16le(1));
            out.extend(u16le(16));
            out.extend(u64le(0));
            out.extend(u64le(0));
        }
        out.extend(&e.data);
        if e.streamed {
            out.extend(u32le(0x0807_4b50));
            out.extend(u32le(e.crc));
            out.extend(u64le(compressed));
            out.extend(u64le(e.declared));
        }
        // Central directory header.
        central.extend(u32le(0x0201_4b50));
        central.extend(u16le(version));
        central.extend(u16le(version));
        central.extend(u16le(flags));
        central.extend(u16le(method));
        central.extend(u16le(0));
        central.extend(u16le(0x21));
        central.extend(u32le(e.crc));
        central.extend(u32le(small(compressed)));
        central.extend(u32le(small(e.declared)));
        central.extend(u16le(u16::try_from(e.name.len()).unwrap()));
        central.extend(u16le(if e.streamed { 20 } else { 0 }));
        central.extend(u16le(0));
        central.extend(u16le(0));
        central.extend(u16le(0));
        central.extend(u32le(0));
        central.extend(u32le(offset));
        central.extend(e.name.as_bytes());
        if e.streamed {
            central.extend(u16le(1));
            central.extend(u16le(16));
            central.extend(u64le(e.declared));
            central.extend(u64le(compressed));
        }
    }
    let at = u32::try_from(out.len()).unwrap();
    let count = u16::try_from(entries.len()).unwrap();
    let size = u32::try_from(central.len()).unwrap();
    out.extend(central);
    out.extend(u32le(0x0605_4b50));
    out.extend(u16le(0));
    out.extend(u16le(0));
    out.extend(u16le(count));
    out.extend(u16le(count));
    out.extend(u32le(size));
    out.extend(u32le(at));
    out.extend(u16le(0));
    out
}

/// `data` deflated as a piece of a longer stream: byte-aligned, not final, and referring to
/// nothing before it, so pieces can be joined and repeated.
fn deflate_piece(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(vec![], flate2::Compression::best());
    e.write_all(data).unwrap();
    e.flush().unwrap();
    std::mem::take(e.get_mut())
}

/// `data` deflated as the last piece of a stream.
fn deflate_last(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(vec![], flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A deflated entry made of `head`, then `body` `times` times, then `tail`, with its true CRC and
/// size, without ever holding the inflated bytes.
fn repeated(name: &str, head: &str, body: &str, times: u64, tail: &str) -> Entry {
    let mut data = deflate_piece(head.as_bytes());
    let piece = deflate_piece(body.as_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(head.as_bytes());
    let mut body_crc = crc32fast::Hasher::new();
    body_crc.update(body.as_bytes());
    for _ in 0..times {
        data.extend(&piece);
        crc.combine(&body_crc);
    }
    data.extend(deflate_last(tail.as_bytes()));
    crc.update(tail.as_bytes());
    let size = (head.len() + tail.len()) as u64 + body.len() as u64 * times;
    Entry { name: name.into(), data, deflated: true, crc: crc.finalize(), declared: size, streamed: false }
}

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC_RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// The parts of a one-sheet workbook (sheet `Referrals` in `xl/worksheets/sheet1.xml`, with a
/// shared strings part) other than the sheet and the shared strings.
fn book_parts() -> Vec<Entry> {
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let book = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets><sheet name="Referrals" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let book_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    vec![
        Entry::stored("[Content_Types].xml", types.as_bytes()),
        Entry::stored("_rels/.rels", rels.as_bytes()),
        Entry::stored("xl/workbook.xml", book.as_bytes()),
        Entry::stored("xl/_rels/workbook.xml.rels", book_rels.as_bytes()),
    ]
}

/// The start of a worksheet, up to and with its header row of FGC Referrals columns.
fn sheet_head() -> String {
    let names = ["FamilyID", "LAchildID", "KnownToCSC", "ReferralDate"];
    let cells: String = names.iter().map(|n| format!(r#"<c t="inlineStr"><is><t>{n}</t></is></c>"#)).collect();
    format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}"><sheetData><row>{cells}</row>"#)
}

const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// A megabyte of rows of 90-character inline strings.
fn inline_rows() -> String {
    let value = "x".repeat(90);
    let row = format!("<row>{}</row>", format!(r#"<c t="inlineStr"><is><t>{value}</t></is></c>"#).repeat(4));
    row.repeat(1_000_000 / row.len())
}

/// An empty shared strings part.
fn no_strings() -> Entry {
    Entry::stored("xl/sharedStrings.xml", format!(r#"<sst xmlns="{MAIN}" count="0" uniqueCount="0"/>"#).as_bytes())
}

/// Writes `bytes` to `dir/name`.
fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

// ------------------------------------------------------------------------------------------------
// Zip bombs

/// An 8 MB-ish workbook whose one sheet inflates to 1.5 GB of rows of inline strings, written as
/// a streamed zip64 entry (sizes after the data). It is refused once it has unzipped 10 MB at more
/// than 100 times its zipped size (`zip-ratio`); with that limit raised, declared truly, it is
/// refused by the bytes actually unzipped (`zip-entry-mb`); declaring a few KB (a lie), as soon as
/// it unzips past them.
#[test]
fn an_inline_string_zip_bomb_in_a_streamed_zip64_entry_is_refused() {
    in_suite("hostile", || {
        let dir = scratch("inline-bomb");
        let rows = inline_rows();
        let times = 1_500_000_000 / rows.len() as u64;
        for (file, lie) in [("bomb.xlsx", false), ("bomb-lying.xlsx", true)] {
            let mut sheet = repeated("xl/worksheets/sheet1.xml", &sheet_head(), &rows, times, SHEET_TAIL);
            sheet.streamed = true;
            if lie {
                sheet.declared = 4096;
            }
            let mut parts = book_parts();
            parts.push(no_strings());
            parts.push(sheet);
            write(&dir, file, &raw_zip(&parts));
        }
        let size = std::fs::metadata(dir.join("bomb.xlsx")).unwrap().len();
        assert!(size < 16_000_000, "the bomb is {size} bytes");
        check("inline-string-bomb", &run(&dir, &["validate", "bomb.xlsx"]), 2);
        let ratio_raised = ["validate", "--limit", "zip-ratio=100000"];
        check("inline-string-bomb-counted", &run(&dir, &[&ratio_raised[..], &["bomb.xlsx"]].concat()), 2);
        check("inline-string-bomb-lying-size", &run(&dir, &[&ratio_raised[..], &["bomb-lying.xlsx"]].concat()), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A small workbook whose shared strings part inflates to 400 MB: refused by `zip-ratio`, and with
/// that limit raised by the length of its strings (`shared-strings-mb`).
#[test]
fn a_shared_strings_bomb_is_refused() {
    in_suite("hostile", || {
        let dir = scratch("strings-bomb");
        let si = format!("<si><t>{}</t></si>", "y".repeat(90));
        let body = si.repeat(1_000_000 / si.len());
        let head = format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}">"#);
        let strings = repeated("xl/sharedStrings.xml", &head, &body, 400_000_000 / body.len() as u64, "</sst>");
        let sheet = format!("{}{SHEET_TAIL}", sheet_head());
        let mut parts = book_parts();
        parts.push(strings);
        parts.push(Entry::stored("xl/worksheets/sheet1.xml", sheet.as_bytes()));
        write(&dir, "strings.xlsx", &raw_zip(&parts));
        check("shared-strings-bomb", &run(&dir, &["validate", "strings.xlsx"]), 2);
        let ratio_raised = ["validate", "--limit", "zip-ratio=100000", "strings.xlsx"];
        check("shared-strings-bomb-counted", &run(&dir, &ratio_raised), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// A zip entry that unzips to another size than it declares is refused, whatever its XML: fettle
/// checks what calamine will read, so a part the check cannot finish (a mismatched end tag, which
/// calamine reads past) is still counted to its end, and a part shorter than declared is damage.
#[test]
fn a_part_unzipping_to_another_size_than_declared_is_refused() {
    in_suite("hostile", || {
        let dir = scratch("declared");
        // A mismatched end tag early, then a bomb.
        let head = format!("{}<row><c t=\"inlineStr\"><is><t>F1</t></is></c></rowx>", sheet_head());
        let rows = inline_rows();
        let mut parts = book_parts();
        parts.push(no_strings());
        parts.push(repeated("xl/worksheets/sheet1.xml", &head, &rows, 1_500_000_000 / rows.len() as u64, SHEET_TAIL));
        write(&dir, "mismatched.xlsx", &raw_zip(&parts));
        check("mismatched-end-tag-bomb", &run(&dir, &["validate", "mismatched.xlsx"]), 2);
        // A small sheet declaring more than it holds.
        let sheet = format!("{}{SHEET_TAIL}", sheet_head());
        let mut short = Entry::stored("xl/worksheets/sheet1.xml", sheet.as_bytes());
        short.data = deflate_last(sheet.as_bytes());
        short.deflated = true;
        short.declared += 1000;
        let mut parts = book_parts();
        parts.push(no_strings());
        parts.push(short);
        write(&dir, "short.xlsx", &raw_zip(&parts));
        check("part-shorter-than-declared", &run(&dir, &["validate", "short.xlsx"]), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

// ------------------------------------------------------------------------------------------------
// Sparse files

/// `truncate -s 2G Referrals.csv` in a folder with the other FGC files.
#[test]
fn a_sparse_2_gb_csv_file_is_refused_at_once() {
    in_suite("hostile", || {
        let dir = scratch("sparse-csv");
        let fgc = dir.join("fgc");
        std::fs::create_dir_all(&fgc).unwrap();
        for f in ["About.csv", "Referrals.csv", "Summary.csv"] {
            std::fs::copy(root().join("samples/fgc/csv").join(f), fgc.join(f)).unwrap();
        }
        std::fs::OpenOptions::new().write(true).open(fgc.join("Referrals.csv")).unwrap().set_len(2 << 30).unwrap();
        check("sparse-csv", &run(&dir, &["validate", "fgc"]), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// `truncate -s 2G census.xml`, and the sample census followed by 2 GB of nothing.
#[test]
fn a_sparse_2_gb_xml_file_is_refused_at_once() {
    in_suite("hostile", || {
        let dir = scratch("sparse-xml");
        std::fs::File::create(dir.join("census.xml")).unwrap().set_len(2 << 30).unwrap();
        check("sparse-xml", &run(&dir, &["validate", "census.xml"]), 2);
        std::fs::copy(root().join("samples/cin/census-2024-25.xml"), dir.join("padded.xml")).unwrap();
        std::fs::OpenOptions::new().write(true).open(dir.join("padded.xml")).unwrap().set_len(2 << 30).unwrap();
        check("sparse-xml-after-a-census", &run(&dir, &["validate", "padded.xml"]), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

// ------------------------------------------------------------------------------------------------
// Edited copies of the FGC sample workbook

/// The FGC sample workbook with `edit` applied to its parts, by name.
fn edited_sample(edit: &dyn Fn(&str, String) -> Option<String>, extra: &[(&str, String)]) -> Vec<u8> {
    let bytes = std::fs::read(root().join("samples/fgc/fgc-2024-25.xlsx")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(vec![]));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let text = edit(&name, text.clone()).unwrap_or(text);
        out.start_file(name, options).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    for (name, text) in extra {
        out.start_file(*name, options).unwrap();
        out.write_all(text.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// The Referrals sheet of the sample.
const REFERRALS: &str = "xl/worksheets/sheet2.xml";

/// The report without its first line (which names the file).
fn findings(report: &str) -> String {
    report.lines().skip(1).collect::<Vec<_>>().join("\n")
}

/// One value at `XFD1048576`, the last cell of a worksheet (a formula filled down whole columns, a
/// stray keystroke), changes nothing: the same findings as the sample, in megabytes. A reference
/// beyond the grid (`A4294967298`, which would wrap to row 2) or a dimension near the integer
/// limit is refused, never read at a wrapped position.
#[test]
fn crafted_cell_references_give_normal_findings_or_a_clear_refusal() {
    in_suite("hostile", || {
        let dir = scratch("cell-refs");
        let stray = r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#;
        let edits: [(&str, &dyn Fn(String) -> String); 3] = [
            ("stray.xlsx", &|s: String| s.replace("</sheetData>", stray)),
            ("wrapped.xlsx", &|s: String| s.replace(r#"<c r="A66""#, r#"<c r="A4294967298""#)),
            ("dimension.xlsx", &|s: String| s.replace(r#"<dimension ref="A1:AB66"/>"#, r#"<dimension ref="A1:XFD4294967295"/>"#)),
        ];
        for (file, edit) in edits {
            let book = edited_sample(&|name, text| (name == REFERRALS).then(|| edit(text.clone())), &[]);
            write(&dir, file, &book);
        }
        let clean = run(&root().join("samples/fgc"), &["validate", "fgc-2024-25.xlsx"]);
        let stray = run(&dir, &["validate", "stray.xlsx"]);
        assert_eq!(stray.code, Some(1), "{}", stray.stderr);
        assert!(stray.peak_kb < MEMORY_KB, "stray cell: peak memory {} MB", stray.peak_kb / 1024);
        assert_eq!(findings(&stray.stdout), findings(&clean.stdout), "a stray cell changed the findings");
        insta::assert_snapshot!("stray-cell-at-xfd1048576", stray.stdout.lines().next().unwrap_or_default());
        check("cell-reference-beyond-u32", &run(&dir, &["validate", "wrapped.xlsx"]), 2);
        check("dimension-beyond-u32", &run(&dir, &["validate", "dimension.xlsx"]), 2);
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// The lines of a report's findings with `code`, and the line before each (its heading).
fn section(report: &str, code: &str) -> String {
    let lines: Vec<&str> = report.lines().collect();
    let start = lines.iter().position(|l| l.contains(code)).unwrap_or_else(|| panic!("no {code} in:\n{report}"));
    lines.iter().skip(start).take_while(|l| !l.is_empty()).copied().collect::<Vec<_>>().join("\n")
}

/// A workbook whose hidden sheet `Referrals` is a stale copy (its first ten rows) and whose
/// visible, current sheet is `Referrals (2)`: the visible one is read, and a finding says so.
#[test]
fn a_hidden_stale_sheet_is_named_and_the_visible_copy_read() {
    in_suite("hostile", || {
        let dir = scratch("hidden");
        let current = std::cell::RefCell::new(String::new());
        let book = edited_sample(
            &|name, text| {
                match name {
                "xl/workbook.xml" => Some(text.replace(
                    r#"<sheet name="Referrals" sheetId="2" r:id="rId2"/>"#,
                    r#"<sheet name="Referrals" sheetId="2" state="hidden" r:id="rId2"/><sheet name="Referrals (2)" sheetId="4" r:id="rId9"/>"#,
                )),
                "xl/_rels/workbook.xml.rels" => Some(text.replace(
                    "</Relationships>",
                    &format!(r#"<Relationship Id="rId9" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet4.xml"/></Relationships>"#),
                )),
                "[Content_Types].xml" => Some(text.replace(
                    "</Types>",
                    r#"<Override PartName="/xl/worksheets/sheet4.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
                )),
                REFERRALS => {
                    *current.borrow_mut() = text.clone();
                    let cut = text.find(r#"<row r="11""#).unwrap();
                    let end = text.find("</sheetData>").unwrap();
                    Some(format!("{}{}", &text[..cut], &text[end..]).replace("A1:AB66", "A1:AB10"))
                }
                _ => None,
            }
            },
            &[],
        );
        // The current sheet, added after the edit has seen it.
        let mut zip = zip::ZipWriter::new_append(std::io::Cursor::new(book)).unwrap();
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("xl/worksheets/sheet4.xml", options).unwrap();
        zip.write_all(current.borrow().as_bytes()).unwrap();
        write(&dir, "hidden.xlsx", &zip.finish().unwrap().into_inner());
        let ran = run(&dir, &["validate", "hidden.xlsx"]);
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        assert!(ran.peak_kb < MEMORY_KB, "hidden sheet: peak memory {} MB", ran.peak_kb / 1024);
        // Findings on rows past the stale copy's ten, in the visible sheet.
        assert!(ran.stdout.contains("Referrals (2)!D16"), "{}", ran.stdout);
        assert!(!ran.stdout.contains(" Referrals!"), "{}", ran.stdout);
        insta::assert_snapshot!("hidden-stale-sheet", section(&ran.stdout, "input::hidden-sheet"));
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// One header cell merged over two columns (`PersonBirthDate` over D and E, E's header gone): the
/// finding names the columns it spans and what is not read under it.
#[test]
fn a_merged_header_cell_names_the_columns_it_spans() {
    in_suite("hostile", || {
        let dir = scratch("merged");
        let book = edited_sample(
            &|name, text| {
                (name == REFERRALS).then(|| {
                    let e1 = text.find(r#"<c r="E1""#).unwrap();
                    let end = e1 + text[e1..].find("</c>").unwrap() + "</c>".len();
                    let text = format!("{}{}", &text[..e1], &text[end..]);
                    text.replace("<pageMargins", r#"<mergeCells count="1"><mergeCell ref="D1:E1"/></mergeCells><pageMargins"#)
                })
            },
            &[],
        );
        write(&dir, "merged.xlsx", &book);
        let ran = run(&dir, &["validate", "merged.xlsx"]);
        assert!(ran.peak_kb < MEMORY_KB, "merged header: peak memory {} MB", ran.peak_kb / 1024);
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        insta::assert_snapshot!("merged-header", section(&ran.stdout, "input::merged-header"));
        let _ = std::fs::remove_dir_all(&dir);
    });
}
