//! The integration tests: one binary, a module per suite. Fixtures live in `tests/fixtures/<suite>/`,
//! snapshots in `snapshots/<suite>/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bad_input;
mod catalogue;
mod check;
mod conform;
mod edges;
mod examples;
mod fmt;
mod hostile;
mod libreoffice;
mod lsp;
mod odd;
mod parser;
mod previous;
mod privacy;
mod progress;
mod repairs;
mod reports;
mod schema_diff;
mod tools;
mod validate;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The crate root; commands run there so that paths in output are relative and stable.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path relative to the crate root.
pub fn rel(p: &Path) -> PathBuf {
    p.strip_prefix(root()).unwrap_or(p).to_path_buf()
}

/// The `fettle` binary, run from the crate root.
pub fn fettle() -> Command {
    let mut c = Command::new(insta_cmd::get_cargo_bin("fettle"));
    c.current_dir(root());
    c.env("NO_COLOR", "1");
    c
}

/// Runs `f` with snapshots stored in `snapshots/<suite>/`.
pub fn in_suite(suite: &str, f: impl FnOnce()) {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots").join(suite));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    s.bind(f);
}

/// Reads a child's output pipe to its end on its own thread (so that a child filling one pipe
/// cannot block on the other).
pub fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut b = vec![];
        let _ = r.read_to_end(&mut b);
        b
    })
}
