//! Files to the table model. Every format quirk lives here and only here: CIN census XML, xlsx
//! workbooks (a sheet per table), CSV files (a file per table), and example rows from rule files.
//!
//! Readers never modify their input and never panic: a file that cannot be read is an
//! [`InputError`] (exit code 2); a value that does not fit its type is an issue in the dataset.

pub mod conform;
pub mod limits;
pub mod scan;
pub mod sheet;
pub mod xml;

// The row builder, cell typing and example rows are the core's (rules' examples are read without
// IO); every reader here builds with them.
pub use fettle_core::progress::{Progress, Quiet};
pub use fettle_core::table::{builder, coerce, records};

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
    /// The file goes over one of fettle's [limits](limits::Limit).
    #[error(
        "`{path}` {what}, over fettle's limit `{name}` of {value}; if the file is genuine, raise the limit with `--limit {name}=N` or the environment variable FETTLE_LIMITS=\"{name}=N\""
    )]
    Limit {
        /// The file.
        path: String,
        /// What was found, e.g. "has more than 10000000 cells in the sheet `Referrals`".
        what: String,
        /// The limit's name.
        name: &'static str,
        /// The limit.
        value: u64,
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
        Format::Xlsx => {
            let (sheets, heads) = files.first().map(|f| sheet::sniff_xlsx(f)).unwrap_or_default();
            Sniff { sheets, heads, ..Sniff::default() }
        }
        Format::Csv => Sniff {
            sheets: files.iter().filter_map(|f| f.file_stem().and_then(|s| s.to_str()).map(str::to_string)).collect(),
            heads: sheet::heads(files),
            ..Sniff::default()
        },
    }
}

/// [`sniff`] of a submission held in memory: `(name, contents)` pairs, names being file names or
/// relative paths.
pub fn sniff_bytes(format: Format, files: &[(String, Vec<u8>)]) -> Sniff {
    match format {
        Format::Xml => files.first().map(|(_, b)| xml::sniff_bytes(b)).unwrap_or_default(),
        Format::Xlsx => {
            let (sheets, heads) = files.first().map(|(_, b)| sheet::sniff_xlsx_bytes(b)).unwrap_or_default();
            Sniff { sheets, heads, ..Sniff::default() }
        }
        Format::Csv => Sniff {
            sheets: files
                .iter()
                .filter_map(|(n, _)| Path::new(n).file_stem().and_then(|s| s.to_str()).map(str::to_string))
                .collect(),
            heads: sheet::heads_bytes(files),
            ..Sniff::default()
        },
    }
}

/// The largest file (or, for xlsx, the largest workbook once unzipped) fettle reads, in MB:
/// `FETTLE_MAX_INPUT_MB`, default 4096. It keeps memory bounded against giant files and zip bombs.
pub fn max_input_mb() -> u64 {
    limits::Limit::InputMb.get()
}

/// Refuses files over the limit before reading them.
fn check_size(format: Format, files: &[PathBuf], display: &str) -> Result<(), InputError> {
    for f in files {
        let size = std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
        let expanded = if format == Format::Xlsx
            && let Ok(file) = std::fs::File::open(f)
        {
            unzipped_size(std::io::BufReader::new(file))
        } else {
            None
        };
        check_limit(size, expanded, display)?;
    }
    Ok(())
}

/// [`check_size`] of files held in memory.
fn check_size_bytes(format: Format, files: &[(String, Vec<u8>)], display: &str) -> Result<(), InputError> {
    for (_, bytes) in files {
        let expanded = if format == Format::Xlsx { unzipped_size(std::io::Cursor::new(bytes.as_slice())) } else { None };
        check_limit(bytes.len() as u64, expanded, display)?;
    }
    Ok(())
}

/// The size of a zip archive's entries once unzipped, when it is a zip archive.
fn unzipped_size<R: std::io::Read + std::io::Seek>(r: R) -> Option<u64> {
    let mut zip = zip::ZipArchive::new(r).ok()?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        if let Ok(entry) = zip.by_index_raw(i) {
            total = total.saturating_add(entry.size());
        }
    }
    Some(total)
}

/// Refuses a file of `size` bytes (`expanded` once unzipped) over the limit.
fn check_limit(size: u64, expanded: Option<u64>, display: &str) -> Result<(), InputError> {
    let limit = max_input_mb();
    let size = size / 1_000_000;
    if size > limit {
        return Err(InputError::TooLarge { path: display.into(), what: "is", size, limit });
    }
    if let Some(total) = expanded
        && total / 1_000_000 > limit
    {
        return Err(InputError::TooLarge { path: display.into(), what: "would expand to", size: total / 1_000_000, limit });
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
    read_with(schema, format, files, display, &Quiet)
}

/// [`read`], telling `progress` the bytes read.
pub fn read_with(
    schema: &crate::schema::Schema,
    format: Format,
    files: &[PathBuf],
    display: &str,
    progress: &dyn Progress,
) -> Result<crate::table::Dataset, InputError> {
    check_size(format, files, display)?;
    let size = |fs: &[PathBuf]| fs.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum::<u64>();
    let data = match format {
        Format::Xml => {
            let Some(f) = files.first() else {
                return Err(InputError::Missing { path: display.into(), reason: "no file".into() });
            };
            let io = |source| InputError::Io { path: display.into(), source };
            scan::xml(std::io::BufReader::new(std::fs::File::open(f).map_err(io)?), display)?;
            xml::read_file(schema, f, display, progress)
        }
        Format::Xlsx => {
            let Some(f) = files.first() else {
                return Err(InputError::Missing { path: display.into(), reason: "no file".into() });
            };
            let data = sheet::read_xlsx(schema, f, display);
            progress.read(size(files));
            data
        }
        Format::Csv => {
            let data = sheet::read_csv(schema, files, display);
            progress.read(size(files));
            data
        }
    }?;
    Ok(missing_singletons(schema, format, data))
}

/// [`read`] of a submission held in memory: `(name, contents)` pairs, each name a file name or a
/// relative path (`csv/Header.csv`); CSV files are shown in findings by these names.
pub fn read_bytes(
    schema: &crate::schema::Schema,
    format: Format,
    files: &[(String, Vec<u8>)],
    display: &str,
) -> Result<crate::table::Dataset, InputError> {
    check_size_bytes(format, files, display)?;
    let first = || files.first().ok_or_else(|| InputError::Missing { path: display.into(), reason: "no file".into() });
    let data = match format {
        Format::Xml => {
            let bytes = &first()?.1;
            scan::xml(bytes.as_slice(), display)?;
            xml::read(schema, bytes, display)
        }
        Format::Xlsx => sheet::read_xlsx_bytes(schema, &first()?.1, display),
        Format::Csv => sheet::read_csv_bytes(schema, files, display),
    }?;
    Ok(missing_singletons(schema, format, data))
}

fn kind_of(format: Format) -> &'static str {
    if format == Format::Csv { "file" } else { "sheet" }
}

/// An issue for each singleton table (a header, an About sheet) that the submission does not have
/// at all: without its one row, every rule that reads it sees missing values and passes quietly.
fn missing_singletons(schema: &crate::schema::Schema, format: Format, mut data: crate::table::Dataset) -> crate::table::Dataset {
    for t in schema.table_ids() {
        let ts = schema.table(t);
        let empty = data.table(t).is_none_or(|tbl| tbl.len == 0);
        let told = data.issues.iter().any(|i| i.table == Some(t) && i.row.is_none());
        if !ts.singleton || ts.foreign.is_some() || ts.data_fields().next().is_none() || !empty || told {
            continue;
        }
        let present = data.table(t).is_some_and(|tbl| tbl.columns.iter().any(|c| c.present));
        let message = match format {
            Format::Xlsx | Format::Csv if present => {
                format!("the {} `{}` has headers but no row; the return needs its one row", kind_of(format), ts.name)
            }
            Format::Xml => {
                let path = ts.xml.clone().unwrap_or_else(|| ts.name.clone());
                let element = path.rsplit('/').next().unwrap_or(&path).to_string();
                format!("the `<{element}>` element (`{path}`) is missing; the return needs its one {} record", ts.name)
            }
            Format::Xlsx => format!("the sheet `{}` is missing; the return needs its one row", ts.name),
            Format::Csv => format!("the file `{}.csv` is missing; the return needs its one row", ts.name),
        };
        data.issues.push(crate::table::InputIssue {
            line: 0,
            path: None,
            code: crate::codes::Input::MissingTable.into(),
            table: Some(t),
            field: None,
            row: None,
            message,
            severity: crate::syntax::ast::Severity::Error,
            cause: None,
            cell: None,
        });
    }
    data
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn root() -> PathBuf {
        // The repository, where samples/ is (two folders above this crate).
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn held(files: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
        files.iter().map(|f| (f.display().to_string(), std::fs::read(f).unwrap())).collect()
    }

    /// Files held in memory are sniffed and read exactly as the same files on disk.
    #[test]
    fn bytes_read_as_files() {
        let lib = crate::library::Library::shipped();
        let csv_dir = root().join("samples/fgc/csv");
        let mut csv: Vec<PathBuf> = std::fs::read_dir(&csv_dir).unwrap().map(|e| e.unwrap().path()).collect();
        csv.sort();
        let cases: Vec<(&str, Format, Vec<PathBuf>, String)> = vec![
            ("cin", Format::Xml, vec![root().join("samples/cin/census-2024-25.xml")], "census.xml".into()),
            ("cin", Format::Xlsx, vec![root().join("samples/cin/census-2024-25.xlsx")], "census.xlsx".into()),
            ("fgc", Format::Xlsx, vec![root().join("samples/fgc/fgc-2024-25.xlsx")], "fgc.xlsx".into()),
            ("disability", Format::Xlsx, vec![root().join("samples/disability/disability-2024-25.xlsx")], "d.xlsx".into()),
            ("fgc", Format::Csv, csv, csv_dir.display().to_string()),
        ];
        for (ret, format, files, display) in cases {
            let year = lib.years(ret).into_iter().find(|y| y == "2024-25").unwrap();
            let c = lib.compile(ret, &year);
            let prog = c.program.as_ref().unwrap();
            let bytes = held(&files);
            let on_disk = read(&prog.schema, format, &files, &display).unwrap();
            let in_memory = read_bytes(&prog.schema, format, &bytes, &display).unwrap();
            assert_eq!(format!("{on_disk:?}"), format!("{in_memory:?}"), "{display}");
            assert_eq!(format!("{:?}", sniff(format, &files)), format!("{:?}", sniff_bytes(format, &bytes)), "{display}");
        }
    }

    #[test]
    fn bytes_that_are_not_a_workbook_are_explained() {
        let lib = crate::library::Library::shipped();
        let c = lib.compile("fgc", "2024-25");
        let schema = &c.program.as_ref().unwrap().schema;
        for (bytes, why) in [(&b""[..], "empty"), (&b"\xD0\xCF\x11\xE0...."[..], ".xls"), (&b"hello"[..], "zip")] {
            let e = read_bytes(schema, Format::Xlsx, &[("x.xlsx".into(), bytes.to_vec())], "x.xlsx").unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
        let e = read_bytes(schema, Format::Xml, &[], "x.xml").unwrap_err().to_string();
        assert!(e.contains("no file"), "{e}");
    }
}
