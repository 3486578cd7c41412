//! Bad input: files that are empty, truncated, corrupt, in the wrong format or encoding, or full of
//! the oddities spreadsheets and exports produce. Each case is run as `fettle validate <case>` and
//! must end within 20 s with exit code 0, 1 or 2 (never a panic), with a snapshot of its output,
//! and without changing a byte of its input.
//!
//! Text cases are committed under `tests/fixtures/bad-input/` (`xml/`, `csv/` and `regressions/`;
//! `make.py` there writes `xml/` and `csv/`). Binary and large cases (workbooks, zip files, deep
//! nesting, 100k-character cells, 1,000 columns, unreadable files, symlink loops) are generated
//! here, deterministically, into a scratch folder; they run from that folder so their paths, as
//! shown in the snapshots, read `generated/...`.
//!
//! The smoke fuzz tests at the end feed a few thousand seeded mutations of these inputs to the XML,
//! CSV and xlsx readers in process. Inputs that made a reader panic belong in `regressions/`.

use super::{fettle, in_suite, rel, root};
use fettle::schema::Schema;
use insta_cmd::assert_cmd_snapshot;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Formula, Workbook, Worksheet};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest a case may run.
const LIMIT: Duration = Duration::from_secs(20);

/// The committed fixtures.
fn fixtures() -> PathBuf {
    root().join("tests/fixtures/bad-input")
}

/// A fresh scratch folder for one test in this process.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-input").join(format!("{test}-{}", std::process::id()));
    if dir.exists() {
        make_writable(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Gives back the permissions a test took away, so the folder can be removed.
fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for e in walkdir::WalkDir::new(dir).follow_links(false).into_iter().flatten() {
        if e.file_type().is_file() || e.file_type().is_dir() {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o755));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Running a case

/// One `fettle validate` run.
struct Case {
    /// The snapshot's name.
    name: String,
    /// The folder the command runs in.
    cwd: PathBuf,
    /// The submission, relative to `cwd`.
    path: String,
    /// Run as the unprivileged user 65534 (for permission cases when the tests run as root).
    as_nobody: bool,
}

impl Case {
    /// A committed fixture, run from the crate root.
    fn committed(path: &Path) -> Case {
        let r = rel(path).display().to_string();
        let name = rel(&fixtures()).display().to_string();
        let short = r.strip_prefix(&format!("{name}/")).unwrap_or(&r).replace('/', "__");
        Case { name: short, cwd: root().to_path_buf(), path: r, as_nobody: false }
    }
    /// A generated case, run from the scratch folder that holds `generated/`.
    fn generated(base: &Path, path: &str) -> Case {
        Case { name: path.replace('/', "__"), cwd: base.to_path_buf(), path: path.to_string(), as_nobody: false }
    }
    fn command(&self) -> Command {
        let mut c = fettle();
        c.current_dir(&self.cwd).args(["validate", &self.path]);
        if self.as_nobody {
            use std::os::unix::process::CommandExt;
            c.uid(65534).gid(65534);
        }
        c
    }
}

/// The output of a run that ended.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs a command without a snapshot, killing it (and failing) after [`LIMIT`].
fn run_with_limit(mut cmd: Command, what: &str) -> Ran {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let (out, err) = (crate::drain(out), crate::drain(err));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`fettle validate {what}` ran for more than {LIMIT:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Ran {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Every regular file under `path` (itself, when a file) and its bytes; unreadable files and
/// symlinks are left out.
fn contents(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    for e in walkdir::WalkDir::new(path).follow_links(false).into_iter().flatten() {
        if e.file_type().is_file()
            && let Ok(b) = std::fs::read(e.path())
        {
            m.insert(e.path().to_path_buf(), b);
        }
    }
    m
}

/// Kills the `fettle` processes this test process started for `case` (found in `/proc` by parent,
/// working folder and arguments).
fn kill_children(case: &Case) {
    let me = std::process::id().to_string();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let parent = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1));
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cwd = std::fs::read_link(e.path().join("cwd")).ok();
        if parent == Some(me.as_str())
            && cwd.as_deref() == Some(case.cwd.as_path())
            && cmdline.split(|b| *b == 0).any(|a| a == case.path.as_bytes())
        {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
}

/// Checks a snapshot's recorded run: exit code 0, 1 or 2, no panic, and an error message with 2.
fn check_recorded(case: &Case, snap: &str) {
    let code = snap.lines().find_map(|l| l.strip_prefix("exit_code: ")).unwrap_or("?");
    assert!(!snap.contains("panicked"), "{}: fettle panicked:\n{snap}", case.path);
    assert!(["0", "1", "2"].contains(&code), "{}: exit code {code} (0, 1 or 2 expected):\n{snap}", case.path);
    let stderr = snap.split("----- stderr -----").nth(1).unwrap_or("");
    if code == "2" {
        assert!(stderr.contains("error:"), "{}: exit code 2 without an error message:\n{snap}", case.path);
    }
}

/// Runs one case: a snapshot of its output, taken within [`LIMIT`], with no panic and its input
/// unchanged. The run is checked in the snapshot file it matched (or the `.snap.new` it wrote), so
/// that a snapshot of a panic can never be accepted.
fn check_case(case: &Case) {
    let input = case.cwd.join(&case.path);
    let before = contents(&input);
    let snapshot = std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel();
        let h = s.spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| {
                in_suite("bad-input", || assert_cmd_snapshot!(case.name.as_str(), case.command()));
            }));
            let _ = tx.send(());
            r
        });
        if rx.recv_timeout(LIMIT).is_err() {
            kill_children(case);
            let _ = h.join();
            panic!("`fettle validate {}` ran for more than {LIMIT:?}: a hang", case.path);
        }
        h.join().unwrap()
    });
    let file = root().join("snapshots/bad-input").join(format!("{}.snap", case.name));
    let new = file.with_extension("snap.new");
    // A mismatch or a new snapshot leaves a `.snap.new` (unless insta was told not to write).
    let recorded = if snapshot.is_err() { std::fs::read_to_string(&new).ok() } else { std::fs::read_to_string(&file).ok() };
    if let Some(snap) = recorded {
        check_recorded(case, &snap);
    }
    assert!(before == contents(&input), "{}: fettle changed its input", case.path);
    snapshot.unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// Runs cases on a few threads; reports every failing case, not only the first.
fn check_all(cases: &[Case]) {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(vec![]);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::SeqCst)) {
                    if let Err(e) = catch_unwind(AssertUnwindSafe(|| check_case(case))) {
                        let why = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        failures.lock().unwrap().push(format!("{}: {why}", case.path));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

/// The entries of a folder, sorted, without dotfiles.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') || n == "README.md"))
        .collect();
    v.sort();
    v
}

// ------------------------------------------------------------------------------------------------
// The tests

/// Committed fixtures: every file in `xml/` and `regressions/`, every file or folder in `csv/`.
#[test]
fn committed_cases() {
    let cases: Vec<Case> =
        ["xml", "csv", "regressions"].iter().flat_map(|d| entries(&fixtures().join(d))).map(|p| Case::committed(&p)).collect();
    assert!(cases.len() >= 40, "only {} committed cases", cases.len());
    check_all(&cases);
}

/// Generated cases: workbooks, zip files, large and deep files, folders.
#[test]
fn generated_cases() {
    let base = scratch("generated");
    let mut paths = generate(&base.join("generated"));
    paths.sort();
    let cases: Vec<Case> = paths.iter().map(|p| Case::generated(&base, &format!("generated/{p}"))).collect();
    check_all(&cases);
    let _ = std::fs::remove_dir_all(&base);
}

/// A folder whose `Referrals.csv` cannot be read. Root reads any file, so as root the command runs
/// as the unprivileged user 65534; when that is not possible the case only checks for no panic.
#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let base = scratch("unreadable");
    let dir = base.join("generated/dir/unreadable-file");
    write_fgc_csv(&dir, &[]);
    let file = dir.join("Referrals.csv");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut case = Case::generated(&base, "generated/dir/unreadable-file");
    let privileged = std::fs::File::open(&file).is_ok();
    if privileged {
        let mut probe = fettle();
        probe.arg("--version");
        {
            use std::os::unix::process::CommandExt;
            probe.uid(65534).gid(65534);
        }
        if !probe.output().is_ok_and(|o| o.status.success()) {
            let ran = run_with_limit(case.command(), &case.path);
            assert!(matches!(ran.code, Some(0..=2)), "exit code {:?}:\n{}{}", ran.code, ran.stdout, ran.stderr);
            eprintln!("unreadable_file: running as a privileged user that cannot switch users; the snapshot is not checked");
            make_writable(&base);
            let _ = std::fs::remove_dir_all(&base);
            return;
        }
        case.as_nobody = true;
    }
    check_all(&[case]);
    make_writable(&base);
    let _ = std::fs::remove_dir_all(&base);
}

/// A named pipe given as the submission: reading it would wait for a writer forever.
#[test]
fn named_pipe_does_not_hang() {
    let base = scratch("fifo");
    let status = Command::new("mkfifo").arg(base.join("census.xml")).status().unwrap();
    assert!(status.success());
    let case = Case::generated(&base, "census.xml");
    let ran = run_with_limit(case.command(), &case.path);
    assert_eq!(ran.code, Some(2), "{}{}", ran.stdout, ran.stderr);
    let _ = std::fs::remove_dir_all(&base);
}

// ------------------------------------------------------------------------------------------------
// Generated cases

/// The clean FGC return: About, Referrals (one family, two children), Summary; as CSV text.
const ABOUT: &str = include_str!("../fixtures/bad-input/csv/clean/About.csv");
const SUMMARY: &str = include_str!("../fixtures/bad-input/csv/clean/Summary.csv");
const REFERRALS: &str = include_str!("../fixtures/bad-input/csv/clean/Referrals.csv");
/// The clean one-child CIN census.
const CIN: &str = include_str!("../fixtures/bad-input/xml/clean.xml");

/// A sheet as rows of cells.
type Rows = Vec<Vec<Cell>>;

/// A cell to write.
#[derive(Clone, Debug)]
enum Cell {
    Empty,
    Text(String),
    Num(f64),
    Bool(bool),
    /// A date cell (a serial number with a date format), from `YYYY-MM-DD`.
    Date(String),
    /// A number with a date-and-time format.
    DateTime(f64),
    /// A formula and, when given, its cached result.
    Formula(String, Option<String>),
}

fn t(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// A CSV cell as a template would hold it: dates as date cells, whole numbers as numbers.
fn typed(s: &str) -> Cell {
    if s.is_empty() {
        Cell::Empty
    } else if s.len() == 10 && ExcelDateTime::parse_from_str(s).is_ok() {
        Cell::Date(s.to_string())
    } else if let Ok(n) = s.parse::<i64>()
        && (!s.starts_with('0') || s == "0")
    {
        Cell::Num(n as f64)
    } else {
        t(s)
    }
}

fn rows(csv: &str) -> Rows {
    csv.lines().map(|l| l.split(',').map(typed).collect()).collect()
}

/// The FGC template's three sheets, filled in with the clean return.
fn fgc_sheets() -> Vec<(String, Rows)> {
    vec![("About".into(), rows(ABOUT)), ("Referrals".into(), rows(REFERRALS)), ("Summary".into(), rows(SUMMARY))]
}

/// The column of a Referrals header.
fn col(name: &str) -> usize {
    REFERRALS.lines().next().unwrap().split(',').position(|h| h == name).unwrap()
}

/// Sets a cell of a sheet (growing it as needed).
fn set(sheets: &mut [(String, Rows)], sheet: &str, row: usize, column: usize, cell: Cell) {
    let rows = &mut sheets.iter_mut().find(|(n, _)| n == sheet).unwrap().1;
    if rows.len() <= row {
        rows.resize(row + 1, vec![]);
    }
    if rows[row].len() <= column {
        rows[row].resize(column + 1, Cell::Empty);
    }
    rows[row][column] = cell;
}

fn write_cells(ws: &mut Worksheet, rows: &Rows, row0: u32, col0: u16) {
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    for (r, cells) in rows.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (row0 + r as u32, col0 + c as u16);
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    let _ = ws.write_string(r, c, s).unwrap();
                }
                Cell::Num(x) => {
                    let _ = ws.write_number(r, c, *x).unwrap();
                }
                Cell::Bool(b) => {
                    let _ = ws.write_boolean(r, c, *b).unwrap();
                }
                Cell::Date(s) => {
                    let _ = ws.write_datetime_with_format(r, c, ExcelDateTime::parse_from_str(s).unwrap(), &date).unwrap();
                }
                Cell::DateTime(x) => {
                    let _ = ws.write_number_with_format(r, c, *x, &datetime).unwrap();
                }
                Cell::Formula(f, None) => {
                    let _ = ws.write_formula(r, c, f.as_str()).unwrap();
                }
                Cell::Formula(f, Some(v)) => {
                    let _ = ws.write_formula(r, c, Formula::new(f).set_result(v)).unwrap();
                }
            }
        }
    }
}

/// A workbook of the sheets; `tweak` may change each sheet after it is written.
fn workbook(sheets: &[(String, Rows)], tweak: &dyn Fn(&str, &mut Worksheet)) -> Vec<u8> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2025, 4, 30).unwrap();
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        write_cells(ws, rows, 0, 0);
        tweak(name, ws);
    }
    wb.save_to_buffer().unwrap()
}

fn plain(sheets: &[(String, Rows)]) -> Vec<u8> {
    workbook(sheets, &|_, _| {})
}

/// The clean FGC workbook.
fn clean_xlsx() -> Vec<u8> {
    plain(&fgc_sheets())
}

/// A zip archive of stored (uncompressed) entries.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let (mut out, mut central) = (vec![], vec![]);
    for (name, data) in entries {
        let offset = out.len() as u32;
        let (crc, size, n) = (crc32(data), data.len() as u32, name.len() as u16);
        let head = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes());
            }
            for v in [20u16, 0, 0, 0, 0x21] {
                h.extend(v.to_le_bytes());
            }
            h.extend(crc.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend(n.to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h
        };
        out.extend(head(0x0403_4b50, false));
        out.extend(name.as_bytes());
        out.extend(*data);
        central.extend(head(0x0201_4b50, true));
        for v in [0u16, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let at = out.len() as u32;
    let count = entries.len() as u16;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend(v.to_le_bytes());
    }
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The first sector of an OLE compound file: what old .xls workbooks and password-protected
/// (encrypted) xlsx workbooks are.
fn ole() -> Vec<u8> {
    let mut b = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    b.resize(512, 0);
    // Minor and major version, byte order, sector shift: as Excel writes them.
    b[24..32].copy_from_slice(&[0x3E, 0x00, 0x03, 0x00, 0xFE, 0xFF, 0x09, 0x00]);
    b
}

/// An OpenDocument spreadsheet (the parts that name it).
fn ods() -> Vec<u8> {
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
        ("content.xml", b"<?xml version=\"1.0\"?><office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\"/>"),
    ])
}

/// Writes the clean FGC return as CSV files into `dir`, with files replaced.
fn write_fgc_csv(dir: &Path, replace: &[(&str, &[u8])]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in [("About.csv", ABOUT), ("Referrals.csv", REFERRALS), ("Summary.csv", SUMMARY)] {
        let bytes = replace.iter().find(|(n, _)| *n == name).map_or(text.as_bytes(), |(_, b)| b);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Writes every generated case under `dir`; returns their paths relative to it.
fn generate(dir: &Path) -> Vec<String> {
    let mut paths = vec![];
    let mut put = |path: &str, bytes: &[u8]| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        paths.push(path.to_string());
    };
    let clean = clean_xlsx();
    assert_eq!(clean, clean_xlsx(), "workbooks must be generated deterministically");

    // Files that are not workbooks, or not whole ones.
    put("xlsx/empty.xlsx", b"");
    put("xlsx/truncated.xlsx", &clean[..clean.len() / 2]);
    let mut corrupt = clean.clone();
    for i in (clean.len() / 3..clean.len() * 2 / 3).step_by(7) {
        corrupt[i] ^= 0x5A;
    }
    put("xlsx/corrupt.xlsx", &corrupt);
    put("xlsx/csv-saved-as.xlsx", REFERRALS.as_bytes());
    put("xlsx/zip-without-workbook.xlsx", &zip(&[("Referrals.txt", REFERRALS.as_bytes())]));
    put("xlsx/password-protected.xlsx", &ole());
    put("xlsx/opendocument-renamed.xlsx", &ods());
    put("other/legacy.xls", &ole());
    put("other/opendocument.ods", &ods());

    // Sheets missing, renamed, duplicated.
    let sheets = fgc_sheets();
    let without = |name: &str| sheets.iter().filter(|(n, _)| n != name).cloned().collect::<Vec<_>>();
    put("xlsx/sheet-missing.xlsx", &plain(&without("Referrals")));
    put("xlsx/about-sheet-missing.xlsx", &plain(&without("About")));
    let mut renamed = sheets.clone();
    renamed[1].0 = "Referals".into();
    put("xlsx/sheet-renamed.xlsx", &plain(&renamed));
    let mut spaced = sheets.clone();
    spaced[1].0 = " referrals ".into();
    put("xlsx/sheet-name-case-and-spaces.xlsx", &plain(&spaced));
    let mut dup = sheets.clone();
    let mut copy = dup[1].clone();
    copy.0 = "Referrals (2)".into();
    let mut third = copy.1[2].clone();
    third[col("LAchildID")] = t("CH01003");
    copy.1.push(third);
    dup.insert(1, copy);
    put("xlsx/sheet-duplicated.xlsx", &plain(&dup));
    put("xlsx/blank-workbook.xlsx", &plain(&[("Sheet1".into(), vec![])]));
    let headers: Vec<(String, Rows)> = sheets.iter().map(|(n, r)| (n.clone(), vec![r[0].clone()])).collect();
    put("xlsx/headers-only.xlsx", &plain(&headers));

    // Layout: merged cells, title rows, hidden and protected sheets.
    let mut grouped = sheets.clone();
    grouped[1].1.insert(0, vec![]);
    put(
        "xlsx/merged-group-header.xlsx",
        &workbook(&grouped, &|name, ws| {
            if name == "Referrals" {
                // A row of merged group titles above the column names.
                let f = Format::new();
                ws.merge_range(0, 0, 0, 9, "The child", &f).unwrap();
                ws.merge_range(0, 10, 0, 14, "Referral and consent", &f).unwrap();
                ws.merge_range(0, 15, 0, 27, "The conference and after", &f).unwrap();
            }
        }),
    );
    put(
        "xlsx/merged-header-cells.xlsx",
        &workbook(&sheets, &|name, ws| {
            if name == "Referrals" {
                // `ReferralDate` merged over `ReferralSource`: that column loses its header.
                let c = col("ReferralDate") as u16;
                ws.merge_range(0, c, 0, c + 1, "ReferralDate", &Format::new()).unwrap();
                // And a data cell merged over two rows: the second row's cell is empty.
                let c = col("FamilyID") as u16;
                ws.merge_range(1, c, 2, c, "F0001", &Format::new()).unwrap();
            }
        }),
    );
    let mut titled = sheets.clone();
    for (_, r) in titled.iter_mut() {
        let mut t_rows = vec![vec![t("Family Group Conference return 2024-25")], vec![t("Example Borough Council")], vec![]];
        t_rows.extend(r.iter().map(|row| std::iter::once(Cell::Empty).chain(row.iter().cloned()).collect()));
        *r = t_rows;
    }
    put(
        "xlsx/title-rows-and-offset.xlsx",
        &workbook(&titled, &|_, ws| {
            ws.merge_range(0, 0, 0, 8, "Family Group Conference return 2024-25", &Format::new().set_bold()).unwrap();
        }),
    );
    let mut lists = sheets.clone();
    lists.push(("Lists".into(), vec![vec![t("Ethnicity")], vec![t("WBRI")], vec![t("WIRI")]]));
    let mut extra = lists[1].1[2].clone();
    extra[col("LAchildID")] = t("CH01003");
    lists[1].1.push(extra);
    put(
        "xlsx/hidden-sheets-and-rows.xlsx",
        &workbook(&lists, &|name, ws| match name {
            "Referrals" => {
                let _ = ws.set_row_hidden(3).unwrap();
            }
            "Summary" => {
                let _ = ws.set_hidden(true);
            }
            "Lists" => {
                let _ = ws.set_very_hidden(true);
            }
            _ => {}
        }),
    );
    put(
        "xlsx/protected-sheets.xlsx",
        &workbook(&sheets, &|_, ws| {
            let _ = ws.protect_with_password("secret");
        }),
    );

    // Formulas: with cached results, with error results, without results.
    let summary_formulas = |results: [Option<&str>; 4]| {
        let mut s = sheets.clone();
        let f = [
            "SUMPRODUCT(1/COUNTIF(Referrals!A2:A3,Referrals!A2:A3))",
            "COUNTA(Referrals!B2:B3)",
            "SUMPRODUCT((Referrals!N2:N3=\"Y\")/COUNTIF(Referrals!A2:A3,Referrals!A2:A3))",
            "COUNTIF(Referrals!N2:N3,\"Y\")",
        ];
        for (i, (f, r)) in f.iter().zip(results).enumerate() {
            set(&mut s, "Summary", 1, i, Cell::Formula(f.to_string(), r.map(str::to_string)));
        }
        s
    };
    put("xlsx/formulas-cached.xlsx", &plain(&summary_formulas([Some("1"), Some("2"), Some("1"), Some("2")])));
    put("xlsx/formulas-not-calculated.xlsx", &plain(&summary_formulas([None, None, None, None])));
    let mut errs = summary_formulas([Some("#REF!"), Some("#N/A"), Some("1"), Some("#DIV/0!")]);
    set(
        &mut errs,
        "Referrals",
        1,
        col("Ethnicity"),
        Cell::Formula("VLOOKUP(\"x\",Lists!A:A,1,FALSE)".into(), Some("#N/A".into())),
    );
    set(&mut errs, "Referrals", 2, col("LAchildID"), Cell::Formula("#REF!".into(), Some("#REF!".into())));
    set(&mut errs, "Referrals", 2, col("ReferralDate"), Cell::Formula("DATE(2024,6,\"x\")".into(), Some("#VALUE!".into())));
    put("xlsx/formulas-errors.xlsx", &plain(&errs));

    // Dates.
    let mut d = sheets.clone();
    set(&mut d, "Referrals", 1, col("ReferralDate"), Cell::Num(45446.0));
    set(&mut d, "Referrals", 2, col("ReferralDate"), Cell::Num(45446.75));
    set(&mut d, "Referrals", 1, col("PersonBirthDate"), Cell::DateTime(42688.5729));
    set(&mut d, "About", 1, 2, Cell::Num(45383.0));
    set(&mut d, "Referrals", 2, col("OfferDate"), Cell::Text("45453".into()));
    put("xlsx/dates-as-serials.xlsx", &plain(&d));
    let mut d = sheets.clone();
    set(&mut d, "About", 1, 2, t("01/04/2024"));
    set(&mut d, "About", 1, 3, t("31.03.2025"));
    set(&mut d, "Referrals", 1, col("ReferralDate"), t("03/06/2024"));
    set(&mut d, "Referrals", 1, col("OfferDate"), t("2024/06/10"));
    set(&mut d, "Referrals", 1, col("ConferenceDate"), t("1 July 2024"));
    set(&mut d, "Referrals", 1, col("PlanDate"), t("Jul 2 2024"));
    set(&mut d, "Referrals", 2, col("ReferralDate"), t("3-6-2024"));
    set(&mut d, "Referrals", 2, col("OfferDate"), t("2024-06-10T00:00:00"));
    set(&mut d, "Referrals", 2, col("ConferenceDate"), t("01/07/2024 00:00:00"));
    set(&mut d, "Referrals", 2, col("PlanDate"), t("07/02/2024"));
    put("xlsx/dates-as-text.xlsx", &plain(&d));
    let mut d = sheets.clone();
    set(&mut d, "Referrals", 1, col("ReferralDate"), t("31/02/2024"));
    set(&mut d, "Referrals", 1, col("PersonBirthDate"), t("2016-02-30"));
    set(&mut d, "Referrals", 1, col("ReviewDate"), Cell::Num(0.0));
    set(&mut d, "Referrals", 2, col("ReferralDate"), Cell::Num(-45446.0));
    set(&mut d, "Referrals", 2, col("ReviewDate"), Cell::Num(1.0e7));
    set(&mut d, "Referrals", 2, col("ClosureDate"), Cell::Num(60.0));
    put("xlsx/impossible-dates.xlsx", &plain(&d));

    // Numbers, yes/no, spaces.
    let mut n = sheets.clone();
    set(&mut n, "Referrals", 1, col("FamilyAttendees"), t("5"));
    set(&mut n, "Referrals", 1, col("ProfessionalAttendees"), t(" 2 "));
    set(&mut n, "Referrals", 1, col("FamilyFeedback"), Cell::Num(4.5));
    set(&mut n, "Referrals", 2, col("FamilyAttendees"), t("five"));
    set(&mut n, "Referrals", 2, col("FamilyFeedback"), t("4.0"));
    set(&mut n, "Summary", 1, 0, t("1"));
    set(&mut n, "Summary", 1, 1, t("2,000"));
    set(&mut n, "Summary", 1, 2, t("1e0"));
    put("xlsx/numbers-as-text.xlsx", &plain(&n));
    let mut b = sheets.clone();
    set(&mut b, "Referrals", 1, col("KnownToCSC"), Cell::Bool(true));
    set(&mut b, "Referrals", 1, col("Consent"), Cell::Num(1.0));
    set(&mut b, "Referrals", 1, col("ConferenceHeld"), t("yes"));
    set(&mut b, "Referrals", 1, col("PlanAgreed"), t("Yes "));
    set(&mut b, "Referrals", 2, col("KnownToCSC"), Cell::Bool(false));
    set(&mut b, "Referrals", 2, col("PrivateFamilyTime"), t("maybe"));
    set(&mut b, "Referrals", 2, col("Consent"), Cell::Num(2.0));
    put("xlsx/yes-no-values.xlsx", &plain(&b));
    let mut s = sheets.clone();
    set(&mut s, "Referrals", 0, col("FamilyID"), t(" FamilyID\u{a0}"));
    set(&mut s, "Referrals", 0, col("ReferralDate"), t("Referral date"));
    set(&mut s, "Referrals", 1, col("LAchildID"), t("  CH01001 "));
    set(&mut s, "Referrals", 2, col("LAchildID"), t("CH01002\u{a0}"));
    set(&mut s, "Referrals", 1, col("Ethnicity"), t("\u{a0}WBRI\u{a0}"));
    set(&mut s, "Referrals", 2, col("Ethnicity"), t("W BRI"));
    set(&mut s, "Referrals", 1, col("Disabilities"), t(" NONE ; "));
    set(&mut s, "About", 1, 0, t(" 201 "));
    put("xlsx/spaces-and-nbsp.xlsx", &plain(&s));

    // Size.
    let mut l = sheets.clone();
    set(&mut l, "Referrals", 1, col("LAchildID"), Cell::Text("X".repeat(32_767)));
    set(&mut l, "Referrals", 2, col("Ethnicity"), Cell::Text("W".repeat(32_767)));
    put("xlsx/longest-cells.xlsx", &plain(&l));
    let mut w = sheets.clone();
    for c in 0..1000 {
        set(&mut w, "Referrals", 0, 28 + c, t(&format!("Extra{c}")));
        set(&mut w, "Referrals", 1, 28 + c, Cell::Num(c as f64));
    }
    set(&mut w, "Referrals", 2, 1027, t("the last of 1,028 columns"));
    put("xlsx/thousand-columns.xlsx", &plain(&w));

    // XML too large to commit.
    put("xml/long-value.xml", CIN.replace(">fettle tests<", &format!(">{}<", "X".repeat(100_000))).as_bytes());
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    put("xml/deep-nesting.xml", CIN.replace("<Children>", &format!("<Children>{deep}")).as_bytes());
    put("xml/deep-nesting-unclosed.xml", format!("<Message>{}", "<a>".repeat(100_000)).as_bytes());
    // Folders: CSV too large to commit, only formats fettle does not read, nothing, symlink loops.
    let write = |path: &str, bytes: &[u8]| {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    };
    let long = REFERRALS.replacen("CH01001", &"X".repeat(100_000), 1);
    write_fgc_csv(&dir.join("csv/long-cell"), &[("Referrals.csv", long.as_bytes())]);
    let mut wide = String::new();
    for (i, line) in REFERRALS.lines().enumerate() {
        wide.push_str(line);
        for c in 0..1000 {
            wide.push_str(&if i == 0 { format!(",Extra{c}") } else { format!(",{c}") });
        }
        wide.push('\n');
    }
    write_fgc_csv(&dir.join("csv/thousand-columns"), &[("Referrals.csv", wide.as_bytes())]);
    write("dir/unsupported-only/legacy.xls", &ole());
    write("dir/unsupported-only/opendocument.ods", &ods());
    std::fs::create_dir_all(dir.join("dir/empty")).unwrap();
    let loops = dir.join("dir/symlink-loop");
    write_fgc_csv(&loops, &[]);
    std::os::unix::fs::symlink(".", loops.join("loop")).unwrap();
    std::os::unix::fs::symlink("b.csv", loops.join("a.csv")).unwrap();
    std::os::unix::fs::symlink("a.csv", loops.join("b.csv")).unwrap();
    std::os::unix::fs::symlink("census.xml", loops.join("census.xml")).unwrap();
    // A folder whose Referrals.csv is a symlink to a good file elsewhere.
    let linked = dir.join("dir/symlinked-file");
    write_fgc_csv(&linked, &[]);
    std::fs::remove_file(linked.join("Referrals.csv")).unwrap();
    std::os::unix::fs::symlink("../symlink-loop/Referrals.csv", linked.join("Referrals.csv")).unwrap();
    paths.extend(
        ["csv/long-cell", "csv/thousand-columns", "dir/unsupported-only", "dir/empty", "dir/symlink-loop", "dir/symlinked-file"]
            .iter()
            .chain(&["dir/symlink-loop/census.xml", "dir/symlink-loop/a.csv"])
            .map(|s| s.to_string()),
    );
    paths
}

// ------------------------------------------------------------------------------------------------
// Smoke fuzzing: seeded mutations, in process

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// Fragments that mean something to one of the formats.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&lol;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?",
    b"?>",
    b"<!DOCTYPE a [<!ENTITY e \"&e;\">]>",
    b"<Child>",
    b"</Child>",
    b"<CINdetails>",
    b"</Message>",
    b"xmlns:a=\"x\"",
    b"a:",
    b"\"",
    b"\"\"",
    b",",
    b";",
    b"\r",
    b"\n",
    b"\r\n",
    b"\t",
    b"\0",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xC3",
    b"\xE2\x80",
    b"\xA0",
    b"\xC2\xA0",
    b"=SUM(A1)",
    b"#REF!",
    b"31/02/2024",
    b"2024-13-45",
    b"45446",
    b"-1",
    b"1e308",
    b"NaN",
    b"9999999999999999999",
    b"PK\x03\x04",
    b"PK\x05\x06",
];

/// One mutation of `seed`.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = rng.next() as u8;
            }
            2 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at.min(end)..end);
            }
            3 => b.truncate(at),
            4 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                b.splice(at..at, tok.iter().copied());
            }
            5 if !b.is_empty() => {
                // Repeat a chunk.
                let start = rng.below(b.len());
                let end = (start + 1 + rng.below(256)).min(b.len());
                let chunk = b[start..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let n = rng.below(16);
                let random: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, random);
            }
        }
    }
    b
}

fn schema(ret: &str) -> Schema {
    let c = fettle::library::Library::shipped().compile(ret, "2024-25");
    c.program.as_ref().expect("the shipped rules compile").schema.clone()
}

/// Feeds `n` mutations of the seeds to `read`, which must not panic. Panicking inputs are written
/// to `crashes/` in the scratch folder, and the test fails naming them.
fn smoke(name: &str, seeds: &[Vec<u8>], n: usize, read: &(dyn Fn(&[u8]) + Sync)) {
    let dir = scratch(&format!("smoke-{name}"));
    let start = Instant::now();
    let mut rng = Rng(0x5EED_0000 ^ name.len() as u64 ^ (u64::from(name.as_bytes()[0]) << 32));
    let mut crashes = vec![];
    for i in 0..n {
        let seed = &seeds[i % seeds.len()];
        let input = if i < seeds.len() { seed.clone() } else { mutate(&mut rng, seed) };
        if catch_unwind(AssertUnwindSafe(|| read(&input))).is_err() {
            let path = dir.join(format!("crashes/{name}-{i}.bin"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &input).unwrap();
            crashes.push(path.display().to_string());
        }
    }
    assert!(crashes.is_empty(), "{name}: {} inputs made the reader panic; kept in:\n{}", crashes.len(), crashes.join("\n"));
    assert!(start.elapsed() < Duration::from_secs(60), "{name}: {n} inputs took {:?}", start.elapsed());
}

/// Runs `f` on a thread and fails if it takes more than a minute (a hang in a reader).
fn within_a_minute(name: &'static str, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => h.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e)
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{name}: a reader hung"),
    }
}

fn committed_seeds(folder: &str, ext: &str) -> Vec<Vec<u8>> {
    walkdir::WalkDir::new(fixtures().join(folder))
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == ext))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect()
}

#[test]
fn smoke_fuzz_xml_reader() {
    within_a_minute("xml", || {
        let schema = schema("cin");
        let mut seeds = committed_seeds("xml", "xml");
        seeds.push(std::fs::read(root().join("samples/cin/census-2024-25.xml")).unwrap());
        smoke("xml", &seeds, 3000, &|b| {
            let _ = fettle::input::xml::read(&schema, b, "fuzz");
        });
    });
}

#[test]
fn smoke_fuzz_csv_reader() {
    within_a_minute("csv", || {
        let schema = schema("fgc");
        let dir = scratch("smoke-csv-files");
        let files: Vec<PathBuf> = ["About.csv", "Referrals.csv", "Summary.csv"].iter().map(|n| dir.join(n)).collect();
        write_fgc_csv(&dir, &[]);
        let seeds = committed_seeds("csv", "csv");
        // Each input replaces Referrals.csv; About and Summary stay clean.
        smoke("csv", &seeds, 1500, &|b| {
            std::fs::write(&files[1], b).unwrap();
            let _ = fettle::input::sheet::read_csv(&schema, &files, "fuzz");
        });
    });
}

/// A minimal xlsx workbook with stored (uncompressed) parts, so that mutations reach the XML of
/// the sheet, the shared strings and the workbook rather than stopping at the zip layer.
fn stored_xlsx(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let entries: Vec<(&str, &[u8])> = parts.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    zip(&entries)
}

fn xlsx_parts() -> Vec<(&'static str, Vec<u8>)> {
    let ct = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let wb = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Referrals" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let wb_rels = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    let sst = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4" uniqueCount="4"><si><t>FamilyID</t></si><si><t>LAchildID</t></si><si><t>ReferralDate</t></si><si><t xml:space="preserve"> F0001 </t></si></sst>"#;
    let sheet = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:D3"/><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="inlineStr"><is><t>KnownToCSC</t></is></c></row><row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2" t="inlineStr"><is><t>CH01001</t></is></c><c r="C2"><v>45446</v></c><c r="D2" t="b"><v>1</v></c></row><row r="3"><c r="A3" t="str"><f>A2</f><v>F0001</v></c><c r="B3" t="e"><v>#N/A</v></c><c r="C3" t="str"><v>31/02/2024</v></c><c r="D3"><f>1/0</f><v>0</v></c></row></sheetData><mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells></worksheet>"#;
    vec![
        ("[Content_Types].xml", ct.as_bytes().to_vec()),
        ("_rels/.rels", rels.as_bytes().to_vec()),
        ("xl/workbook.xml", wb.as_bytes().to_vec()),
        ("xl/_rels/workbook.xml.rels", wb_rels.as_bytes().to_vec()),
        ("xl/sharedStrings.xml", sst.as_bytes().to_vec()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes().to_vec()),
    ]
}

#[test]
fn smoke_fuzz_xlsx_reader() {
    within_a_minute("xlsx", || {
        let schema = schema("fgc");
        let dir = scratch("smoke-xlsx-files");
        let file = dir.join("fuzz.xlsx");
        let read = |b: &[u8]| {
            std::fs::write(&file, b).unwrap();
            let _ = fettle::input::sheet::sheet_names(&file);
            let _ = fettle::input::sheet::read_xlsx(&schema, &file, "fuzz");
        };
        // The minimal workbook must read cleanly, or the mutations below test nothing.
        let parts = xlsx_parts();
        std::fs::write(&file, stored_xlsx(&parts)).unwrap();
        let data = fettle::input::sheet::read_xlsx(&schema, &file, "fuzz").unwrap();
        assert_eq!(data.tables.get(1).map(|t| t.len), Some(2), "the minimal workbook's Referrals rows");
        // Whole-file mutations of real workbooks (mostly stopped by the zip layer).
        let whole = vec![clean_xlsx(), std::fs::read(root().join("samples/fgc/fgc-2024-25.xlsx")).unwrap()];
        smoke("xlsx-zip", &whole, 300, &read);
        // Mutations of one part of the minimal workbook at a time.
        let mut rng = Rng(0xA11CE);
        let mut seeds = vec![];
        for i in 0..600 {
            let mut p = parts.clone();
            let k = i % p.len();
            p[k].1 = mutate(&mut rng, &p[k].1);
            seeds.push(stored_xlsx(&p));
        }
        smoke("xlsx-parts", &seeds, seeds.len(), &read);
    });
}
