//! The progress display of `fettle validate` on stderr (indicatif): the bytes of the input read,
//! then the rules run. Drawn only when stderr is a terminal and `--no-progress` is not given, so a
//! pipe, a CI log or a redirected stderr never sees it; it is cleared before any report is written,
//! and it never touches stdout, whatever the format.

use crate::input::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The bars of one run (absent when not drawn): one for reading, then one for the rules.
pub(super) struct Display {
    reading: Option<ProgressBar>,
    rules: OnceLock<ProgressBar>,
    total_bytes: u64,
    read: AtomicU64,
    files: usize,
    files_read: AtomicUsize,
}

impl Display {
    /// A display for `files` submissions of `total_bytes` bytes in all; drawn only when `on` and
    /// stderr is a terminal.
    pub(super) fn new(on: bool, files: usize, total_bytes: u64) -> Display {
        let reading = (on && std::io::stderr().is_terminal()).then(|| {
            bar(total_bytes, "{spinner} reading{msg} [{bar:30}] {bytes}/{total_bytes} ({elapsed})", files_message(0, files))
        });
        Display { reading, rules: OnceLock::new(), total_bytes, read: AtomicU64::new(0), files, files_read: AtomicUsize::new(0) }
    }

    /// One submission is read.
    pub(super) fn file_read(&self) {
        let n = self.files_read.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.reading {
            bar.set_message(files_message(n, self.files));
        }
    }

    /// Reading is over: a bar of `rules` rule runs replaces the bar of bytes.
    pub(super) fn start_rules(&self, rules: u64) {
        if let Some(reading) = &self.reading {
            let elapsed = reading.elapsed();
            reading.finish_and_clear();
            let bar = bar(rules, "{spinner} running rules [{bar:30}] {pos}/{len} ({elapsed})", String::new());
            // The time shown is the run's, not the rules' alone.
            bar.set_elapsed(elapsed);
            let _ = self.rules.set(bar);
        }
    }

    /// The run is over: the bars are wiped from the terminal.
    pub(super) fn finish(&self) {
        for bar in self.reading.iter().chain(self.rules.get()) {
            bar.finish_and_clear();
        }
    }

    /// Runs `f` (which writes to stderr) with the bar wiped, then draws it again.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.rules.get().or(self.reading.as_ref()) {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

impl Drop for Display {
    /// However the run ends, no bar is left on the terminal.
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Display {
    fn submission_read(&self) {
        self.file_read();
    }

    fn read(&self, n: u64) {
        // A file read twice (its year known only once read) counts once: the bar stops at the total.
        let before = self.read.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.reading {
            bar.set_position(before.saturating_add(n).min(self.total_bytes));
        }
    }

    fn rule(&self) {
        if let Some(bar) = self.rules.get() {
            bar.inc(1);
        }
    }
}

/// A bar on stderr of `len` steps with its message, redrawn ten times a second even when nothing
/// moves. The message is set before the first frame is drawn, so that no frame lacks it.
fn bar(len: u64, template: &str, message: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(style(template));
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

fn files_message(read: usize, files: usize) -> String {
    if files == 1 { String::new() } else { format!(" {read}/{files} files") }
}

fn style(template: &str) -> ProgressStyle {
    // The templates are fixed strings of this file: one that does not parse falls back to the
    // default style rather than failing a run.
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

/// The size in bytes of the files of every submission (a file that cannot be looked at counts 0).
pub(super) fn total_size<'a>(files: impl Iterator<Item = &'a std::path::PathBuf>) -> u64 {
    files.map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum()
}
