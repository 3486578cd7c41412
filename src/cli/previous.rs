//! `fettle validate THIS --previous LAST`: reads last year's submissions and gives each to this
//! year's submission of the same return (`uses previous`), after checking that it is that return,
//! one collection year earlier. A mismatch is a usage error. Without `--previous`, says once that the
//! year-on-year rules did not run.

use super::validate::{Submission, discover, pick_return};
use crate::report::PreviousUse;
use crate::submission::{self, GivenBy, Loaded, Rulebook};
use rayon::prelude::*;
use std::path::PathBuf;

/// What `--previous` attached.
#[derive(Default)]
pub struct Attached {
    /// Each submission checked against last year's.
    pub uses: Vec<PreviousUse>,
    /// Last year's files (never to be overwritten by a report).
    pub files: Vec<PathBuf>,
}

/// Last year's submissions as read (`--previous`), each with its reading's outcome, in order; `Err`
/// when the paths give none.
pub type Read = Result<Vec<(Submission, Result<Loaded, String>)>, String>;

/// Reads the `--previous` paths (in parallel, and alongside this year's files: nothing here needs
/// them). Errors are kept for [`attach`], which says them in order after this year's.
pub fn read(book: &Rulebook, paths: &[PathBuf], ret: Option<&str>) -> Read {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let subs = discover(paths).map_err(|e| format!("--previous: {e}"))?;
    if subs.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
        return Err(format!("--previous: no xml, xlsx or csv files found in {}", named.join(", ")));
    }
    let read: Vec<Result<Loaded, String>> = subs
        .par_iter()
        .map(|sub| {
            let r = match ret {
                Some(r) => r.to_string(),
                None => pick_return(book, sub)?,
            };
            submission::read_submission(book, &sub.source(), &r, None)
        })
        .collect();
    Ok(subs.into_iter().zip(read).collect())
}

/// Attaches each of last year's submissions ([`read`]) to this year's submission of its return
/// ([`submission::attach_previous_all`], as the browser page does). Returns what was attached and the
/// notes for the report; `Err` is a usage error (or an unreadable file).
pub fn attach(book: &Rulebook, read: Read, loaded: &mut [Loaded]) -> Result<(Attached, Vec<String>), String> {
    let mut out = Attached::default();
    let mut names = vec![];
    for (sub, prev) in read? {
        out.files.extend(sub.files.iter().cloned());
        names.push((sub.display, prev));
    }
    out.uses = submission::attach_previous_all(book, names, loaded, GivenBy::Option, &mut |n| super::err(&format!("{n}\n")))?;
    Ok((out, submission::previous_not_run(book, loaded, GivenBy::Option).into_iter().collect()))
}
