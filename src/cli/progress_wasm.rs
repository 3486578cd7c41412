//! The progress display of `fettle validate` in the browser build (wasm32): there is no terminal
//! to draw on (the page shows its own state), so nothing is drawn. Same interface as
//! `progress.rs`, which the native build uses.

use crate::input::Progress;

/// Nothing to draw.
pub(super) struct Display;

impl Display {
    pub(super) fn new(_on: bool, _files: usize, _total_bytes: u64) -> Display {
        Display
    }

    pub(super) fn file_read(&self) {}

    pub(super) fn start_rules(&self, _rules: u64) {}

    pub(super) fn finish(&self) {}

    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        f()
    }
}

impl Progress for Display {}

/// The size in bytes of the files of every submission (a file that cannot be looked at counts 0).
pub(super) fn total_size<'a>(files: impl Iterator<Item = &'a std::path::PathBuf>) -> u64 {
    files.map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum()
}
