//! Files to the table model. Every format quirk lives here and only here: CIN census XML, xlsx
//! workbooks (a sheet per table), CSV files (a file per table), and example rows from rule files.
//!
//! Readers never modify their input and never panic: a file that cannot be read is an
//! [`InputError`] (exit code 2); a value that does not fit its type is an issue in the dataset.

pub mod builder;
pub mod coerce;
pub mod records;
pub mod sheet;
pub mod xml;

use std::path::{Path, PathBuf};

/// A file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The operating system refused.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what its name says.
    #[error("`{path}` is not a readable {format} file: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// `xlsx`, `CSV`, `XML`.
        format: &'static str,
        /// Why.
        reason: String,
    },
    /// The file is bigger than fettle's limit for one file.
    #[error(
        "`{path}` {what} {size} MB, over fettle's limit of {limit} MB for one file; if the file is genuine, raise the limit with the environment variable FETTLE_MAX_INPUT_MB"
    )]
    TooLarge {
        /// The file.
        path: String,
        /// `is` or `would expand to`.
        what: &'static str,
        /// Its size in MB.
        size: u64,
        /// The limit in MB.
        limit: u64,
    },
    /// The file lacks something the return needs.
    #[error("`{path}`: {reason}")]
    Missing {
        /// The file.
        path: String,
        /// What is missing.
        reason: String,
    },
}

/// The kinds of file fettle reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// CIN census XML.
    Xml,
    /// An Excel workbook.
    Xlsx,
    /// One CSV file per table.
    Csv,
}

impl Format {
    /// The format a file's extension names, if fettle reads it.
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "xml" => Some(Format::Xml),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// A name as matched against table, sheet and column names: case, surrounding spaces and the
/// difference between spaces and underscores are ignored.
pub fn norm_name(s: &str) -> String {
    coerce::clean(s).to_lowercase().replace([' ', '-'], "_")
}

/// What a file says about itself, for picking the return and year.
#[derive(Clone, Debug, Default)]
pub struct Sniff {
    /// Root element and the first few element paths (XML).
    pub xml_paths: Vec<String>,
    /// Sheet names (xlsx) or file stems (CSV).
    pub sheets: Vec<String>,
    /// Texts in the first rows of the sheets or files (their headers).
    pub heads: Vec<String>,
}

/// Reads just enough of a submission to pick its return.
pub fn sniff(format: Format, files: &[PathBuf]) -> Sniff {
    match format {
        Format::Xml => files.first().map(|f| xml::sniff(f)).unwrap_or_default(),
        Format::Xlsx => Sniff {
            sheets: files.first().map(|f| sheet::sheet_names(f)).unwrap_or_default(),
            heads: sheet::heads(files, true),
            ..Sniff::default()
        },
        Format::Csv => Sniff {
            sheets: files.iter().filter_map(|f| f.file_stem().and_then(|s| s.to_str()).map(str::to_string)).collect(),
            heads: sheet::heads(files, false),
            ..Sniff::default()
        },
    }
}

/// The largest file (or, for xlsx, the largest workbook once unzipped) fettle reads, in MB:
/// `FETTLE_MAX_INPUT_MB`, default 4096. It keeps memory bounded against giant files and zip bombs.
pub fn max_input_mb() -> u64 {
    std::env::var("FETTLE_MAX_INPUT_MB").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(4096)
}

/// Refuses files over the limit before reading them.
fn check_size(format: Format, files: &[PathBuf], display: &str) -> Result<(), InputError> {
    let limit = max_input_mb();
    for f in files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) / 1_000_000;
        if size > limit {
            return Err(InputError::TooLarge { path: display.into(), what: "is", size, limit });
        }
        if format == Format::Xlsx
            && let Ok(file) = std::fs::File::open(f)
            && let Ok(mut zip) = zip::ZipArchive::new(std::io::BufReader::new(file))
        {
            let mut total: u64 = 0;
            for i in 0..zip.len() {
                if let Ok(entry) = zip.by_index_raw(i) {
                    total = total.saturating_add(entry.size());
                }
            }
            if total / 1_000_000 > limit {
                return Err(InputError::TooLarge {
                    path: display.into(),
                    what: "would expand to",
                    size: total / 1_000_000,
                    limit,
                });
            }
        }
    }
    Ok(())
}

/// Reads a submission (one XML or xlsx file, or a set of CSV files) into tables of `schema`.
pub fn read(
    schema: &crate::schema::Schema,
    format: Format,
    files: &[PathBuf],
    display: &str,
) -> Result<crate::table::Dataset, InputError> {
    check_size(format, files, display)?;
    match format {
        Format::Xml => {
            let Some(f) = files.first() else {
                return Err(InputError::Missing { path: display.into(), reason: "no file".into() });
            };
            let bytes = std::fs::read(f).map_err(|source| InputError::Io { path: display.into(), source })?;
            xml::read(schema, &bytes, display)
        }
        Format::Xlsx => {
            let Some(f) = files.first() else {
                return Err(InputError::Missing { path: display.into(), reason: "no file".into() });
            };
            sheet::read_xlsx(schema, f, display)
        }
        Format::Csv => sheet::read_csv(schema, files, display),
    }
}
