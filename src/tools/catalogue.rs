//! (Being written.)

/// Runs the command; returns the exit code.
pub fn command(rules: Option<&std::path::PathBuf>, ret: Option<&str>, year: Option<&str>, format: &str, output: Option<&std::path::Path>) -> u8 {
    let _ = (rules, format);
    crate::cli::err_line("not written yet");
    2
}
