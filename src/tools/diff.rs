//! (Being written.)

/// Runs the command; returns the exit code.
pub fn command(rules: Option<&std::path::PathBuf>, ret: &str, from: &str, to: &str, format: &str) -> u8 {
    let _ = (rules, format);
    crate::cli::err_line("not written yet");
    2
}
