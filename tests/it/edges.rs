//! The edges where fettle must never be silently wrong (issue 18): output that cannot be written,
//! reports that fail part way, numbers with commas, rule files that make the parser work hard, huge
//! values in reports, and odd files and names. Every case checks the exit code and the message.

use super::{in_suite, root};
use insta_cmd::assert_cmd_snapshot;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edges").join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `fettle` run from `dir`, so paths in its messages are relative and stable.
fn fettle_in(dir: &Path) -> Command {
    let mut c = Command::new(insta_cmd::get_cargo_bin("fettle"));
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

/// `fettle` with its arguments run by `sh` with writes limited to 1 KiB per file (`ulimit -f 2`,
/// 512-byte blocks) and the signal for a too-large file ignored, so a write past the limit fails
/// with an error as a write to a full disk does.
fn fettle_on_full_disk(dir: &Path, args: &str) -> Command {
    let bin = insta_cmd::get_cargo_bin("fettle");
    let mut c = Command::new("sh");
    c.current_dir(dir).env("NO_COLOR", "1").arg("-c").arg(format!("trap '' XFSZ; ulimit -f 2; exec '{}' {args}", bin.display()));
    c
}

/// Copies a sample into `dir` and gives its name there.
fn sample(dir: &Path, p: &str) -> String {
    let name = Path::new(p).file_name().unwrap().to_string_lossy().into_owned();
    std::fs::copy(root().join("samples").join(p), dir.join(&name)).unwrap();
    name
}

/// The exit code and stderr of a run, for a snapshot (the command line itself names the scratch
/// folder, which differs from machine to machine).
fn outcome(mut c: Command) -> String {
    let out = c.output().unwrap();
    format!("exit code: {:?}\n--- stderr ---\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr))
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn a_report_written_to_dev_full_is_exit_2() {
    in_suite("edges", || {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut c = fettle_in(root());
        c.args(["validate", "samples/cin/census-2024-25.xml", "--format", "json"]).stdout(full);
        assert_cmd_snapshot!("dev-full-json", c);
        // A command other than validate writes through the same checked output.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let mut c = fettle_in(root());
        c.args(["rules", "--return", "fgc"]).stdout(full);
        assert_cmd_snapshot!("dev-full-rules", c);
    });
}

#[test]
fn a_closed_pipe_stays_quiet() {
    let mut child = fettle_in(root())
        .args(["validate", "samples/cin/census-2024-25.xml", "--format", "html"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before fettle has read its rules, let alone written its report.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(1), "the sample has findings, and a closed pipe is not a tool failure");
}

#[test]
fn a_report_cut_short_by_a_full_disk_is_exit_2() {
    in_suite("edges", || {
        let dir = scratch("stdout-full");
        let args = format!("validate {} --format html > report.html", sample(&dir, "fgc/fgc-2024-25.xlsx"));
        insta::assert_snapshot!("full-disk-stdout", outcome(fettle_on_full_disk(&dir, &args)));
        assert_eq!(std::fs::metadata(dir.join("report.html")).unwrap().len(), 1024, "the report was cut short at the limit");
    });
}

#[test]
fn a_full_disk_leaves_the_old_reports_and_no_temporary_file() {
    in_suite("edges", || {
        let dir = scratch("out-full");
        std::fs::create_dir(dir.join("out")).unwrap();
        std::fs::write(dir.join("out/fettle-findings.csv"), "old\n").unwrap();
        std::fs::write(dir.join("out/fettle-report.html"), "old\n").unwrap();
        let input = sample(&dir, "fgc/fgc-2024-25.xlsx");
        let args = format!("validate {input} --out out --format json --format csv --format html --format sarif");
        insta::assert_snapshot!("full-disk-out-dir", outcome(fettle_on_full_disk(&dir, &args)));
        assert_eq!(names(&dir.join("out")), ["fettle-findings.csv", "fettle-report.html"], "no temporary file, no new report");
        assert_eq!(std::fs::read_to_string(dir.join("out/fettle-findings.csv")).unwrap(), "old\n");
        assert_eq!(std::fs::read_to_string(dir.join("out/fettle-report.html")).unwrap(), "old\n");
        // Without the limit the same run replaces both and writes the others.
        let out = fettle_in(&dir)
            .args(["validate", &input, "--out", "out"])
            .args(["--format", "json", "--format", "csv", "--format", "html", "--format", "sarif"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            names(&dir.join("out")),
            ["fettle-findings.csv", "fettle-report.html", "fettle-report.json", "fettle-report.sarif"]
        );
        assert_ne!(std::fs::read_to_string(dir.join("out/fettle-findings.csv")).unwrap(), "old\n");
    });
}

#[test]
fn a_report_that_cannot_be_written_part_way_changes_no_report() {
    in_suite("edges", || {
        let dir = scratch("out-folder");
        std::fs::create_dir(dir.join("out")).unwrap();
        std::fs::write(dir.join("out/fettle-findings.csv"), "old\n").unwrap();
        // The last of the formats has a folder where its file should go.
        std::fs::create_dir(dir.join("out/fettle-report.sarif")).unwrap();
        let mut c = fettle_in(&dir);
        c.args(["validate", &sample(&dir, "fgc/fgc-2024-25.xlsx"), "--out", "out"]);
        c.args(["--format", "csv", "--format", "json", "--format", "sarif"]);
        assert_cmd_snapshot!("report-path-is-a-folder", c);
        assert_eq!(names(&dir.join("out")), ["fettle-findings.csv", "fettle-report.sarif"]);
        assert_eq!(std::fs::read_to_string(dir.join("out/fettle-findings.csv")).unwrap(), "old\n");
    });
}

/// The lines of a terminal report from the heading of `code`'s findings to the next blank line.
fn section(report: &str, code: &str) -> String {
    let start = report.find(&format!("[{code}]")).map(|i| report[..i].rfind('\n').map_or(0, |n| n + 1)).unwrap_or(report.len());
    let rest = &report[start..];
    rest[..rest.find("\n\n").unwrap_or(rest.len())].to_string()
}

#[test]
fn a_comma_is_a_thousands_separator_or_an_input_finding() {
    use fettle::generate::templates::{self, Cell};
    in_suite("edges", || {
        let dir = scratch("commas");
        let mut sheets = templates::fgc(1, 10);
        let main = sheets.iter_mut().find(|s| s.name == "Referrals").unwrap();
        let col = |name: &str| main.headers.iter().position(|h| h.replace(' ', "").eq_ignore_ascii_case(name)).unwrap();
        let (family, professional) = (col("FamilyAttendees"), col("ProfessionalAttendees"));
        main.rows[0][family] = Cell::Text("3,0".into());
        main.rows[1][family] = Cell::Text("1,234".into());
        main.rows[2][professional] = Cell::Text("12,34".into());
        main.rows[3][professional] = Cell::Text("1,5".into());
        std::fs::write(dir.join("fgc.xlsx"), templates::xlsx(&sheets).unwrap()).unwrap();
        std::fs::create_dir(dir.join("csv")).unwrap();
        for (name, text) in templates::csv(&sheets) {
            std::fs::write(dir.join("csv").join(name), text).unwrap();
        }
        for (case, path) in [("xlsx", "fgc.xlsx"), ("csv", "csv")] {
            let out = fettle_in(&dir).args(["validate", path]).output().unwrap();
            assert_eq!(out.status.code(), Some(1));
            let report = String::from_utf8_lossy(&out.stdout);
            let invalid = section(&report, "input::invalid-number");
            assert!(!invalid.contains("`1,234`"), "{case}: 1,234 is a number with a thousands separator:\n{report}");
            assert!(
                section(&report, "input::repaired-thousands").contains("`1,234` read as `1234`"),
                "{case}: the separator dropped is said:\n{report}"
            );
            insta::assert_snapshot!(format!("commas-{case}"), invalid);
        }
    });
}

/// A rule file of one rule whose condition is `body`, in a scratch folder.
fn rule_file(dir: &Path, name: &str, body: &str) -> String {
    let text = format!(
        "return fgc 2024-25\ntable Referrals {{ field FamilyID: text field Sex: text }}\nrule X1 error \"x\" on Referrals {{\n  require {body}\n}}\n"
    );
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

/// `fettle check` of one rule file: its exit code and its diagnostics.
fn check(dir: &Path, file: &str) -> (Option<i32>, String) {
    let out = fettle_in(dir).args(["check", file]).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Unclosed brackets used to cost the parser twice as much with each one (30 would take hours);
/// now each shape is read once. Many more brackets than any rule needs are refused before parsing.
#[test]
fn unclosed_brackets_are_read_once_and_deep_nesting_is_refused() {
    in_suite("edges", || {
        let dir = scratch("parser");
        for (i, shape) in
            ["(", "f(", "count(", "(a, ", "if (", "not (", "exists(x in Referrals where ", "[", "(1 + "].into_iter().enumerate()
        {
            let file = rule_file(&dir, &format!("unclosed-{i}.fettle"), &shape.repeat(30));
            let (code, out) = check(&dir, &file);
            assert_eq!(code, Some(2), "{shape}: {out}");
            assert!(out.contains("syntax::expected") && out.contains("1 errors"), "{shape}: {out}");
        }
        let file = rule_file(&dir, "unclosed.fettle", &"(".repeat(30));
        insta::assert_snapshot!("parser-unclosed", check(&dir, &file).1);
        // A hundred thousand brackets, closed or not, `if`s and operators: refused with a diagnostic
        // instead of overflowing the stack.
        let deep = [
            ("deep-brackets", format!("{}true{}", "(".repeat(100_000), ")".repeat(100_000))),
            ("deep-unclosed", "(".repeat(100_000)),
            ("deep-ifs", "if true then true else ".repeat(100_000) + "true"),
            ("deep-nots", "not ".repeat(100_000) + "true"),
            ("deep-sum", "1 + ".repeat(100_000) + "1 == 2"),
        ];
        for (name, body) in deep {
            let file = rule_file(&dir, &format!("{name}.fettle"), &body);
            let (code, out) = check(&dir, &file);
            assert_eq!(code, Some(2), "{name}: {out}");
            assert!(out.contains("syntax::too-deep"), "{name}: {out}");
            if name != "deep-brackets" {
                // Without the source lines: the rule's line is long.
                let head: Vec<&str> = out.lines().filter(|l| !l.contains('│') && !l.contains('·')).collect();
                insta::assert_snapshot!(format!("parser-{name}"), head.join("\n"));
            }
        }
        // The deepest nesting allowed still checks.
        let fine = format!("{}true{}", "(".repeat(60), ")".repeat(60));
        let (code, out) = check(&dir, &rule_file(&dir, "fine.fettle", &fine));
        assert_eq!((code, out.as_str()), (Some(0), "fgc 2024-25: 1 rules, 0 errors, 0 warnings\n"));
    });
}

/// Invisible characters in a name or a code make one that looks right and is not: a diagnostic
/// names them. A byte-order mark at the very start of a file (as some editors save) is allowed.
#[test]
fn invisible_characters_in_rule_text_are_diagnosed() {
    in_suite("edges", || {
        let dir = scratch("invisible");
        let cases = [
            ("zero-width-space", "present(Fam\u{200b}ilyID)"),
            ("bom-in-name", "present(FamilyID\u{feff})"),
            ("zero-width-joiner-in-code", "Sex == \"1\u{200d}\""),
        ];
        for (name, body) in cases {
            let file = rule_file(&dir, &format!("{name}.fettle"), body);
            let (code, out) = check(&dir, &file);
            assert_eq!(code, Some(2), "{name}: {out}");
            insta::assert_snapshot!(format!("invisible-{name}"), out);
        }
        // In a comment it is harmless; at the start of the file it is the editor's mark.
        let text = "\u{feff}return fgc 2024-25\n# a note\u{200b}\ntable Referrals { field FamilyID: text }\nrule X1 error \"x\" on Referrals {\n  require present(FamilyID)\n}\n";
        std::fs::write(dir.join("bom-at-start.fettle"), text).unwrap();
        assert_eq!(check(&dir, "bom-at-start.fettle"), (Some(0), "fgc 2024-25: 1 rules, 0 errors, 0 warnings\n".into()));
    });
}

/// One 50 MB cell: every report quotes its first 1,000 characters and says how long it was, so
/// reports stay small (the terminal report was 300 MB).
#[test]
fn a_huge_value_is_shortened_in_every_report() {
    in_suite("edges", || {
        let dir = scratch("huge-value");
        std::fs::create_dir(dir.join("csv")).unwrap();
        for e in std::fs::read_dir(root().join("samples/fgc/csv")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join("csv").join(e.file_name())).unwrap();
        }
        let path = dir.join("csv/Referrals.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let column = lines[0].split(',').position(|h| h == "Ethnicity").unwrap();
        let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
        cells[column] = "W".repeat(50_000_000);
        lines[1] = cells.join(",");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();

        let out = fettle_in(&dir).args(["validate", "csv"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.len() < 100_000, "terminal report of {} bytes", out.stdout.len());
        let report = String::from_utf8_lossy(&out.stdout);
        let quoted: Vec<String> = report
            .lines()
            .filter(|l| l.contains("shortened"))
            .map(|l| {
                // Runs of W written as their length, so the snapshot stays readable.
                let run = l.chars().filter(|c| *c == 'W').count();
                l.replacen(&"W".repeat(run), &format!("<{run} × W>"), 1)
            })
            .collect();
        insta::assert_snapshot!("huge-value-terminal", quoted.join("\n"));

        let formats = ["human", "json", "csv", "html", "xlsx", "junit", "sarif"];
        let out = fettle_in(&dir)
            .args(["validate", "csv", "--out", "out"])
            .args(formats.iter().flat_map(|f| ["--format", f]))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        for e in std::fs::read_dir(dir.join("out")).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let len = e.metadata().unwrap().len();
            assert!(len < 300_000, "{name}: {len} bytes");
            if !name.ends_with(".xlsx") {
                let text = std::fs::read_to_string(e.path()).unwrap();
                assert!(text.contains("(50,000,000 characters, shortened)"), "{name} does not say the value was shortened");
            }
        }
        assert_eq!(std::fs::read_dir(dir.join("out")).unwrap().count(), formats.len());
    });
}

/// Copies the FGC sample's CSV folder to `to`.
fn fgc_csv(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(root().join("samples/fgc/csv")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Two exports joined into one file repeat the header row in the middle: one finding says so,
/// instead of a child called `LAchildID` with a finding for every column.
#[test]
fn a_header_row_repeated_mid_file_is_one_finding() {
    in_suite("edges", || {
        let dir = scratch("repeated-header");
        fgc_csv(&dir.join("csv"));
        let path = dir.join("csv/Referrals.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let header = lines[0];
        lines.insert(10, header);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let out = fettle_in(&dir).args(["validate", "csv"]).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1));
        assert!(!report.contains("child LAchildID"), "{report}");
        insta::assert_snapshot!("repeated-header", section(&report, "input::repeated-header"));
    });
}

/// File and folder names with control characters (an escape that would restyle the terminal, a
/// newline that would fake a line of the report) are shown escaped in the terminal report.
#[test]
fn control_characters_in_file_names_are_escaped_in_the_terminal_report() {
    in_suite("edges", || {
        let dir = scratch("control-names");
        fgc_csv(&dir.join("council\u{1b}[2J\nsummary: 0 files"));
        let out = fettle_in(&dir).args(["validate", "."]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(!report.contains('\u{1b}'), "an escape character reached the terminal");
        assert_eq!(report.lines().filter(|l| l.starts_with("summary:")).count(), 1, "{report}");
        let shown: Vec<&str> = report.lines().filter(|l| l.contains("council")).take(2).collect();
        insta::assert_snapshot!("control-names", shown.join("\n"));
    });
}

/// A named pipe where a CSV file should be is named in a clear message (and never opened: opening
/// it would wait for a writer forever), not reported as a missing table.
#[test]
fn a_named_pipe_in_a_csv_folder_is_a_clear_error() {
    in_suite("edges", || {
        let dir = scratch("fifo");
        fgc_csv(&dir.join("csv"));
        std::fs::remove_file(dir.join("csv/Summary.csv")).unwrap();
        let made = Command::new("mkfifo").arg(dir.join("csv/Summary.csv")).status().unwrap();
        assert!(made.success());
        let mut c = fettle_in(&dir);
        c.args(["validate", "csv"]);
        assert_cmd_snapshot!("fifo-in-csv-folder", c);
    });
}

/// A file name with control characters (an escape, a newline that would fake a second message) in
/// a message on stderr is shown escaped, as in the terminal report: one line, no escape character.
#[test]
fn control_characters_in_file_names_are_escaped_on_stderr() {
    in_suite("edges", || {
        let dir = scratch("control-names-stderr");
        let name = "census\u{1b}[2J\nerror: all is well\r.xml";
        std::fs::write(dir.join(name), [0u8; 4096]).unwrap();
        let out = fettle_in(&dir).args(["validate", name]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.chars().any(|c| c.is_control() && c != '\n'), "{stderr:?}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        insta::assert_snapshot!("control-names-stderr", stderr);
    });
}

/// A writer that fails as a full disk does, or as a closed pipe does.
struct Failing(std::io::ErrorKind);

impl std::io::Write for Failing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::new(self.0, "no space left on device"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `fettle serve` announces its address on stdout; a failed write is an error (exit 2: the server
/// does not start with its address lost), a closed pipe is not. (Tested on the announcement
/// itself: tests bind no port.)
#[test]
fn fettle_serve_checks_its_writes_to_stdout() {
    in_suite("edges", || {
        let mut shown = vec![];
        fettle::serve::announce(&mut shown, 8321).unwrap();
        assert!(String::from_utf8(shown).unwrap().starts_with("fettle: open http://127.0.0.1:8321/"));
        assert!(fettle::serve::announce(&mut Failing(std::io::ErrorKind::BrokenPipe), 8321).is_ok());
        let e = fettle::serve::announce(&mut Failing(std::io::ErrorKind::StorageFull), 8321).unwrap_err();
        insta::assert_snapshot!("serve-stdout-lost", e);
    });
}

/// "No files found" names the folders looked in, in every command that looks for files (issue 16).
#[test]
fn no_files_found_names_the_folder() {
    let dir = scratch("no-files");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::write(dir.join("empty/notes.txt"), "not a return").unwrap();
    let census = sample(&dir, "cin/census-2024-25.xml");
    in_suite("edges", || {
        let mut c = fettle_in(&dir);
        c.args(["validate", "empty"]);
        assert_cmd_snapshot!("no-files-validate", c);
        let mut c = fettle_in(&dir);
        c.args(["validate", &census, "--previous", "empty"]);
        assert_cmd_snapshot!("no-files-previous", c);
        let mut c = fettle_in(&dir);
        c.args(["coverage", "--return", "cin", "empty"]);
        assert_cmd_snapshot!("no-files-coverage", c);
        let mut c = fettle_in(&dir);
        c.args(["check", "empty"]);
        assert_cmd_snapshot!("no-files-check", c);
        let mut c = fettle_in(&dir);
        c.args(["fmt", "empty"]);
        assert_cmd_snapshot!("no-files-fmt", c);
    });
}
