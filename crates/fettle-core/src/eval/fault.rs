//! Engine faults: a lookup that `check` guaranteed cannot fail, failing.
//!
//! `eval` runs only programs that `check` accepted, on data that `input` built for the program's
//! schema: every id indexes its vector, every variable is bound by an enclosing scope, every column
//! an expression gives has one value per item of its frame. Where eval relies on one of these it
//! says `INVARIANT` and, should the guarantee ever be broken (a bug in fettle), returns a [`Fault`]
//! instead of a missing value: most rules pass on a missing value, so a broken lookup that gave one
//! would make an engine bug look like clean data. A fault ends the run with exit 2.

use std::fmt;

/// A broken engine invariant: a bug in fettle, never a problem with the data or the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What failed, in words (`column 3 of table 1 has no value for row 12`).
    pub what: String,
}

impl Fault {
    /// A fault saying what failed.
    pub fn new(what: impl Into<String>) -> Fault {
        Fault { what: what.into() }
    }

    /// The same fault, saying which rule was being run (or which value prepared) when it failed.
    pub fn during(self, doing: &str) -> Fault {
        Fault { what: format!("{} (while {doing})", self.what) }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "internal error: {}\nthis is a bug in fettle, not a problem with the data or the rules; no findings were reported \
             because they could not be trusted. Please report it with the command you ran and the version (`fettle --version`)",
            self.what
        )
    }
}

impl std::error::Error for Fault {}

/// The result of an evaluation step that can meet an engine fault.
pub type Checked<T> = Result<T, Fault>;
