//! Limits on what fettle expands from one input: not only a file's size, but what it unzips to,
//! the strings, rows, cells and elements it holds, and the length of one value. Each has a default
//! that a return of the largest council (30,000 children) is far inside, and that keeps a 2 GB
//! laptop safe from a zip bomb, a sparse file or a stray cell at a sheet's end.
//!
//! A limit is raised with `--limit NAME=N` (`fettle validate`), or the environment variable
//! `FETTLE_LIMITS="NAME=N,NAME=N"`; `FETTLE_MAX_INPUT_MB` still sets `input-mb`. Going over a limit
//! is an [`InputError::Limit`](super::InputError::Limit): exit 2, with a message naming the limit.

use std::sync::RwLock;

/// One limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// The size of one file, or the total its zip entries declare, in MB.
    InputMb,
    /// The bytes actually unzipped from one entry of a workbook, in MB (counted while reading).
    ZipEntryMb,
    /// How many times its zipped size one entry of a workbook may unzip to, checked once it has
    /// unzipped past [`RATIO_GRACE`] bytes (as Apache POI's minimum inflate ratio, 1/100).
    ZipRatio,
    /// Shared strings in a workbook.
    SharedStrings,
    /// Total length of a workbook's shared strings, in MB.
    SharedStringsMb,
    /// Rows in one sheet or CSV file.
    SheetRows,
    /// Cells in one sheet or CSV file.
    SheetCells,
    /// Elements in one XML document (a census file, or a part of a workbook).
    XmlElements,
    /// Depth of nested elements in one XML document.
    XmlDepth,
    /// The length of one value (a cell, a CSV field, an element's text), in MB.
    FieldMb,
}

/// Every limit, in the order they are listed.
pub const ALL: [Limit; 10] = [
    Limit::InputMb,
    Limit::ZipEntryMb,
    Limit::ZipRatio,
    Limit::SharedStrings,
    Limit::SharedStringsMb,
    Limit::SheetRows,
    Limit::SheetCells,
    Limit::XmlElements,
    Limit::XmlDepth,
    Limit::FieldMb,
];

impl Limit {
    /// The name used with `--limit` and `FETTLE_LIMITS`.
    pub fn name(self) -> &'static str {
        match self {
            Limit::InputMb => "input-mb",
            Limit::ZipEntryMb => "zip-entry-mb",
            Limit::ZipRatio => "zip-ratio",
            Limit::SharedStrings => "shared-strings",
            Limit::SharedStringsMb => "shared-strings-mb",
            Limit::SheetRows => "sheet-rows",
            Limit::SheetCells => "sheet-cells",
            Limit::XmlElements => "xml-elements",
            Limit::XmlDepth => "xml-depth",
            Limit::FieldMb => "field-mb",
        }
    }

    /// The default. A CIN census of 30,000 children is about 40 MB of XML and 1.5 million
    /// elements; an FGC workbook of 25,000 families unzips to about 40 MB with 400,000 cells.
    pub fn default_value(self) -> u64 {
        match self {
            Limit::InputMb => 4096,
            Limit::ZipEntryMb => 512,
            Limit::ZipRatio => 100,
            Limit::SharedStrings => 5_000_000,
            Limit::SharedStringsMb => 256,
            Limit::SheetRows => 2_000_000,
            Limit::SheetCells => 10_000_000,
            Limit::XmlElements => 100_000_000,
            Limit::XmlDepth => 256,
            Limit::FieldMb => 64,
        }
    }

    /// What the limit counts, for `fettle validate --help` and the docs.
    pub fn what(self) -> &'static str {
        match self {
            Limit::InputMb => "MB in one file (or declared by a workbook's zip entries together)",
            Limit::ZipEntryMb => "MB actually unzipped from one part of a workbook",
            Limit::ZipRatio => "times its zipped size one part of a workbook may unzip to (past its first 10 MB)",
            Limit::SharedStrings => "shared strings in a workbook",
            Limit::SharedStringsMb => "MB of shared strings in a workbook",
            Limit::SheetRows => "rows in one sheet or CSV file",
            Limit::SheetCells => "cells in one sheet or CSV file",
            Limit::XmlElements => "elements in one XML document",
            Limit::XmlDepth => "levels of nested XML elements",
            Limit::FieldMb => "MB in one value (a cell, a CSV field, an element's text)",
        }
    }

    /// The limit in force: `--limit`, else `FETTLE_LIMITS`, else (for `input-mb`)
    /// `FETTLE_MAX_INPUT_MB`, else the default.
    pub fn get(self) -> u64 {
        if let Ok(set) = SET.read()
            && let Some((_, v)) = set.iter().find(|(l, _)| *l == self)
        {
            return *v;
        }
        if let Ok(env) = std::env::var("FETTLE_LIMITS")
            && let Ok(list) = parse_list(&env)
            && let Some((_, v)) = list.iter().rev().find(|(l, _)| *l == self)
        {
            return *v;
        }
        if self == Limit::InputMb
            && let Some(v) = std::env::var("FETTLE_MAX_INPUT_MB").ok().and_then(|v| v.trim().parse().ok())
        {
            return v;
        }
        self.default_value()
    }

    /// [`Limit::get`] in bytes, for limits counted in MB.
    pub fn bytes(self) -> u64 {
        self.get().saturating_mul(1_000_000)
    }

    /// A limit by its name.
    pub fn named(name: &str) -> Option<Limit> {
        ALL.into_iter().find(|l| l.name() == name.trim())
    }
}

/// Bytes a zip entry may unzip to before [`Limit::ZipRatio`] is checked: small parts of real
/// workbooks (a sheet of empty styled rows) can compress far better than a sheet of data.
pub const RATIO_GRACE: u64 = 10_000_000;

/// Limits set for this process (by `--limit`), over the environment.
static SET: RwLock<Vec<(Limit, u64)>> = RwLock::new(Vec::new());

/// Parses `NAME=N`.
pub fn parse(s: &str) -> Result<(Limit, u64), String> {
    let known = || ALL.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ");
    let Some((name, value)) = s.split_once('=') else {
        return Err(format!("`{s}` is not NAME=N; the limits are {}", known()));
    };
    let Some(limit) = Limit::named(name) else {
        return Err(format!("`{}` is not a limit; the limits are {}", name.trim(), known()));
    };
    match value.trim().replace('_', "").parse::<u64>() {
        Ok(v) if v > 0 => Ok((limit, v)),
        _ => Err(format!("the limit `{}` must be a whole number above 0, not `{}`", limit.name(), value.trim())),
    }
}

/// Parses `NAME=N,NAME=N`.
pub fn parse_list(s: &str) -> Result<Vec<(Limit, u64)>, String> {
    s.split(',').filter(|p| !p.trim().is_empty()).map(parse).collect()
}

/// Sets limits for the rest of the process (over `FETTLE_LIMITS`).
pub fn set(limits: &[(Limit, u64)]) {
    if let Ok(mut set) = SET.write() {
        for (l, v) in limits {
            set.retain(|(k, _)| k != l);
            set.push((*l, *v));
        }
    }
}

/// Checks that `FETTLE_LIMITS`, when set, is readable.
pub fn check_env() -> Result<(), String> {
    match std::env::var("FETTLE_LIMITS") {
        Ok(env) => parse_list(&env).map(|_| ()).map_err(|e| format!("FETTLE_LIMITS: {e}")),
        Err(_) => Ok(()),
    }
}

/// The error for going over `limit` in `path`: `what` says what was found, e.g. "the part
/// `xl/worksheets/sheet1.xml` unzips to more than 512 MB".
pub fn over(limit: Limit, path: &str, what: String) -> super::InputError {
    super::InputError::Limit { path: path.into(), what, name: limit.name(), value: limit.get() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_parse_and_mistakes_are_explained() {
        assert_eq!(parse("sheet-cells=20_000_000").unwrap(), (Limit::SheetCells, 20_000_000));
        assert_eq!(parse_list("field-mb=4, xml-depth=300").unwrap(), vec![(Limit::FieldMb, 4), (Limit::XmlDepth, 300)]);
        assert!(parse("cells=3").unwrap_err().contains("the limits are input-mb, zip-entry-mb"));
        assert!(parse("field-mb=0").unwrap_err().contains("above 0"));
        assert!(parse("field-mb").unwrap_err().contains("NAME=N"));
        for l in ALL {
            assert_eq!(Limit::named(l.name()), Some(l));
        }
    }
}
