//! The progress display of `fettle validate`: drawn on stderr when stderr is a terminal (a
//! pseudo-terminal here, as a user's terminal is), in every output format, and never on stdout,
//! in a pipe, or with `--no-progress`.

use super::{drain, fettle};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// A pseudo-terminal: (the side the test reads, the side the child writes to as its stderr).
fn pty() -> (std::fs::File, OwnedFd) {
    let (mut leader, mut follower) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the two integers; the name, termios and size
    // arguments may be null.
    let rc = unsafe { libc::openpty(&mut leader, &mut follower, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    unsafe { (std::fs::File::from_raw_fd(leader), OwnedFd::from_raw_fd(follower)) }
}

/// Runs `c` with stderr on a pseudo-terminal; returns (exit code, stdout, what the terminal got).
fn on_terminal(mut c: Command) -> (Option<i32>, Vec<u8>, String) {
    let (leader, follower) = pty();
    c.env("TERM", "xterm").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(follower));
    let mut child = c.spawn().unwrap();
    // The only follower left open is the child's: when it exits, reading the leader ends (EIO).
    drop(c);
    let term = drain(leader);
    let out = drain(child.stdout.take().unwrap());
    let code = child.wait().unwrap().code();
    (code, out.join().unwrap(), String::from_utf8_lossy(&term.join().unwrap()).into_owned())
}

fn validate(args: &[&str]) -> Command {
    let mut c = fettle();
    c.arg("validate").arg("samples/cin/census-2024-25.xml").arg("samples/fgc/fgc-2024-25.xlsx").args(args);
    c
}

#[test]
fn a_terminal_sees_bytes_then_rules_and_stdout_stays_the_same() {
    for format in ["human", "json", "csv", "junit", "sarif", "xlsx", "html", "collect-notes"] {
        // The Excel report is a file (`--output`); every other format is written to stdout.
        let to = std::env::temp_dir().join(format!("fettle-progress-{}.xlsx", std::process::id()));
        let mut args = vec!["--format", format];
        if format == "xlsx" {
            args.extend(["--output", to.to_str().unwrap()]);
        }
        let (code, out, term) = on_terminal(validate(&args));
        // indicatif draws at most 20 frames a second, so which frames a loaded machine shows
        // varies: at least one frame of the bar must reach the terminal, in its own words.
        let reading = term.contains("reading 0/2 files") || term.contains("reading 1/2 files");
        assert!(reading || term.contains("running rules"), "{format}: {term:?}");
        if reading {
            assert!(term.contains(" B/") || term.contains("KiB/"), "bytes read, {format}: {term:?}");
        }
        // The bar is wiped at the end: the last thing on the terminal is a cleared line.
        assert!(term.ends_with("\r\x1b[2K"), "{format}: {:?}", &term[term.len().saturating_sub(80)..]);
        let piped = validate(&args).output().unwrap();
        let _ = std::fs::remove_file(&to);
        assert_eq!(code, piped.status.code());
        assert_eq!(out, piped.stdout, "{format}: stdout differs on a terminal");
        assert!(!String::from_utf8_lossy(&out).contains("running rules"));
    }
}

#[test]
fn no_progress_is_drawn_in_a_pipe_or_with_no_progress() {
    let piped = validate(&["--format", "json"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&piped.stderr), "", "stderr of a piped run");
    let (_, _, term) = on_terminal(validate(&["--format", "json", "--no-progress"]));
    assert_eq!(term, "", "--no-progress on a terminal");
}

/// The `X/Y` of bytes read in each frame of the reading bar.
fn reading_frames(term: &str) -> Vec<(String, String)> {
    term.split(['\r', '\n'])
        .filter(|f| f.contains("reading"))
        .filter_map(|f| {
            let bytes = f.split("] ").nth(1)?.split(" (").next()?;
            let (done, total) = bytes.split_once('/')?;
            Some((done.trim().to_string(), total.trim().to_string()))
        })
        .collect()
}

/// One large census (40,000 children, about 50 MB) shows the bytes read growing while it is read,
/// then the rules; with other files after it, the bar is there from the start (the first frame is
/// of reading, before every file is read), not only once the files are read (issue 16).
#[test]
fn one_large_file_shows_bytes_read_and_many_files_show_from_the_start() {
    let dir = std::env::temp_dir().join(format!("fettle-progress-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("census.xml");
    let made = fettle().args(["generate", "cin", "--size", "40000", "--out"]).arg(&big).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));

    let mut one = fettle();
    one.args(["validate", "--format", "json"]).arg(&big);
    let (code, _, term) = on_terminal(one);
    assert!(code.is_some_and(|c| c < 2), "{code:?}");
    let frames = reading_frames(&term);
    assert!(frames.iter().any(|(done, total)| done != total && done != "0 B"), "a frame shows part of the file read: {frames:?}");
    assert!(!term.contains(" files"), "one file: no count of files: {term:?}");
    assert!(term.contains("running rules"), "then the rules: {term:?}");

    let mut many = fettle();
    many.args(["validate", "--format", "json"])
        .arg(&big)
        .args(["samples/cin/census-2024-25.xml", "samples/fgc/fgc-2024-25.xlsx"]);
    let (_, _, term) = on_terminal(many);
    let first = term.split(['\r', '\n']).find(|f| f.contains("reading") || f.contains("running rules")).unwrap_or("");
    assert!(
        ["reading 0/3 files", "reading 1/3 files", "reading 2/3 files"].iter().any(|r| first.contains(r)),
        "the first frame is of reading: {first:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
