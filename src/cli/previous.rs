//! `fettle validate THIS --previous LAST`: reads last year's submissions and gives each to this
//! year's submission of the same return (`uses previous`), after checking that it is that return,
//! one collection year earlier. A mismatch is a usage error. Without `--previous`, says once that the
//! year-on-year rules did not run.

use crate::pipeline::PreviousRead;
use crate::report::PreviousUse;
use crate::submission::{self, GivenBy, Loaded, Rulebook};
use std::path::PathBuf;

/// What `--previous` attached.
#[derive(Default)]
pub struct Attached {
    /// Each submission checked against last year's.
    pub uses: Vec<PreviousUse>,
    /// Last year's files (never to be overwritten by a report).
    pub files: Vec<PathBuf>,
}

/// Attaches each of last year's submissions ([`crate::pipeline::read_previous`]) to this year's
/// submission of its return ([`submission::attach_previous_all`], as the browser page does). Returns
/// what was attached and the notes for the report; `Err` is a usage error (or an unreadable file).
pub fn attach(book: &Rulebook, read: PreviousRead, loaded: &mut [Loaded]) -> Result<(Attached, Vec<String>), String> {
    let mut out = Attached::default();
    let mut names = vec![];
    for (sub, prev) in read? {
        out.files.extend(sub.files.iter().cloned());
        names.push((sub.display, prev));
    }
    out.uses = submission::attach_previous_all(book, names, loaded, GivenBy::Option, &mut |n| super::err(&format!("{n}\n")))?;
    Ok((out, submission::previous_not_run(book, loaded, GivenBy::Option).into_iter().collect()))
}
