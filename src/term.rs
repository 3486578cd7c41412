//! What every command writes and reads alike, shared by `cli` and `tools` (which do not import each
//! other): standard output (a closed pipe is not an error, a failed write is kept for exit 2),
//! standard error (control characters escaped), and the rule library a command's `--rules` names.

use crate::library::Library;
use std::io::Write;
use std::path::PathBuf;

/// Writes to stdout. A closed pipe (`fettle ... | head`) is not an error; any other failed write (a
/// full disk, `/dev/full`) is kept, and the command line reports it (`cli::main`) and exits 2 once the command is done.
pub(crate) fn out(s: &str) {
    if let Err(e) = try_out(s.as_bytes()) {
        let _ = LOST_OUTPUT.set(e);
    }
}

/// The first write to stdout that failed, for [`lost_output`]. A process-wide cell because
/// stdout is process-wide: every command writes through [`out`].
static LOST_OUTPUT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Writes to stdout; a closed pipe is not an error, any other failed write is.
pub(crate) fn try_out(bytes: &[u8]) -> Result<(), String> {
    let mut o = std::io::stdout().lock();
    match o.write_all(bytes).and_then(|()| o.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to standard output: {e}; the output is lost or incomplete"))
        }
        _ => Ok(()),
    }
}

/// Writes a line to stderr.
pub(crate) fn err_line(s: &str) {
    err(&format!("{s}\n"));
}

/// Writes to stderr, with control characters (from file names, values, rule text) shown as escapes,
/// as the terminal report shows them, so a message cannot restyle the terminal or fake a line: every
/// one but line ends and tabs; and in a message (`error: ...`), which is one line, its line ends but
/// the last too.
pub(crate) fn err(s: &str) {
    let mut o = std::io::stderr().lock();
    let _ = o.write_all(safe_for_stderr(s).as_bytes());
}

/// `s` with control characters escaped for stderr (see [`err`]).
fn safe_for_stderr(s: &str) -> std::borrow::Cow<'_, str> {
    let message = s.starts_with("error: ");
    let body = if message { s.strip_suffix('\n').unwrap_or(s) } else { s };
    let kept = |c: char| !message && matches!(c, '\n' | '\t');
    if !body.chars().any(|c| c.is_control() && !kept(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut from = 0;
    for (i, c) in body.char_indices() {
        if c.is_control() && !kept(c) {
            out.push_str(body.get(from..i).unwrap_or_default());
            out.push_str(&crate::report::human::esc(body.get(i..i + c.len_utf8()).unwrap_or_default()));
            from = i + c.len_utf8();
        }
    }
    out.push_str(body.get(from..).unwrap_or_default());
    if message && s.ends_with('\n') {
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

/// The rule library a command's `--rules` names: the shipped rules, or the folder (or file) given.
pub(crate) fn library(rules: Option<&PathBuf>) -> Result<Library, String> {
    match rules {
        None => Ok(Library::shipped()),
        Some(p) => crate::rules::read(p).map_err(|e| format!("cannot read rules at `{}`: {e}", p.display())),
    }
}

/// The first write to stdout that failed ([`out`]), for the command line to report once a command
/// is done (exit 2).
pub(crate) fn lost_output() -> Option<&'static String> {
    LOST_OUTPUT.get()
}
