//! `fettle validate THIS --previous LAST`: reads last year's submissions and gives each to this
//! year's submission of the same return (`uses previous`), after checking that it is that return,
//! one collection year earlier. A mismatch is a usage error. Without `--previous`, says once that the
//! year-on-year rules did not run.

use super::validate::{Submission, discover, pick_return};
use crate::check::previous::PREVIOUS;
use crate::report::PreviousUse;
use crate::submission::{self, Loaded, Rulebook};
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

/// Attaches each of last year's submissions ([`read`]) to this year's submission of its return.
/// Returns what was attached and the notes for the report; `Err` is a usage error (or an unreadable
/// file).
pub fn attach(book: &Rulebook, read: Read, loaded: &mut [Loaded]) -> Result<(Attached, Vec<String>), String> {
    let mut out = Attached::default();
    let mut notes = vec![];
    for (sub, prev) in read? {
        let sub = &sub;
        let prev = prev?;
        for n in &prev.notes {
            super::err(&format!("{n}\n"));
        }
        let Some(this) = loaded.iter_mut().find(|l| l.ret == prev.ret) else {
            return Err(format!(
                "--previous `{}` is the {} return; no {} return is validated with it",
                sub.display, prev.ret, prev.ret
            ));
        };
        if this.data.attached.iter().any(|a| a == PREVIOUS) {
            return Err(format!("--previous gives two {} returns; give one for each return validated", prev.ret));
        }
        let this_year = submission::data_year(book, this).unwrap_or_else(|| this.year.clone());
        let prev_year = submission::data_year(book, &prev).unwrap_or_else(|| prev.year.clone());
        let want = submission::year_before(&this_year).unwrap_or_default();
        if prev_year != want {
            return Err(format!(
                "--previous `{}` is the {} return for {prev_year}; last year's return for `{}` ({this_year}) is for {want}",
                sub.display, prev.ret, this.data.file
            ));
        }
        out.uses.push(PreviousUse { file: this.data.file.clone(), previous: sub.display.clone(), year: prev_year });
        out.files.extend(sub.files.iter().cloned());
        for n in submission::attach_previous(book, this, prev) {
            super::err(&format!("{n}\n"));
        }
    }
    // Rules that read last year and did not run: counted once, with where to see them (listing
    // their codes here would change every report each time a continuity rule is added).
    let mut skipped: Vec<String> = vec![];
    let mut rets: Vec<String> = vec![];
    for l in loaded.iter() {
        if l.data.attached.iter().any(|a| a == PREVIOUS) {
            continue;
        }
        let Ok(prog) = book.program(&l.ret, &l.year) else { continue };
        let before = skipped.len();
        skipped.extend(prog.rules.iter().filter(|r| r.needs.iter().any(|n| n == PREVIOUS)).map(|r| r.code.clone()));
        if skipped.len() > before {
            rets.push(format!("`fettle rules --return {}`", l.ret));
        }
    }
    if !skipped.is_empty() {
        skipped.sort();
        skipped.dedup();
        rets.sort();
        rets.dedup();
        notes.push(format!(
            "{} year-on-year rule{} did not run: give last year's return with --previous ({} list{} {})",
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            rets.join(" and "),
            if rets.len() == 1 { "s" } else { "" },
            if skipped.len() == 1 { "it" } else { "them" }
        ));
    }
    Ok((out, notes))
}
