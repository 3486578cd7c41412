//! Spreadsheets and CSV files are read forgivingly (`31/10/2024`, Excel serials, thousands
//! separators, spaces around values), and each repair is said: one info finding per column and kind
//! of repair, counting the cells and showing the first ones with where they are, what they held and
//! what was read. A case per kind of repair: the shipped FGC CSV sample with cells rewritten, run as
//! `fettle validate` (terminal and JSON); the snapshots hold the repair findings of each.

use super::{fettle, in_suite, root};
use std::path::{Path, PathBuf};

/// A scratch folder for a case.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("repairs").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// CSV files: name and rows of cells.
type Files = Vec<(String, Vec<Vec<String>>)>;

/// The shipped FGC CSV sample's files.
fn sample() -> Files {
    ["About", "Referrals", "Summary"]
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(root().join(format!("samples/fgc/csv/{n}.csv"))).unwrap();
            let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
            let rows = r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect();
            (n.to_string(), rows)
        })
        .collect()
}

/// Sets `column` of the data rows `rows` (1: the first under the header) of `file` to `value(old)`.
fn edit(files: &mut [(String, Vec<Vec<String>>)], file: &str, column: &str, rows: &[usize], value: &dyn Fn(&str) -> String) {
    let (_, grid) = files.iter_mut().find(|(n, _)| n == file).unwrap();
    let c = grid[0].iter().position(|h| h == column).unwrap();
    for &r in rows {
        let cell = &mut grid[r][c];
        *cell = value(cell);
    }
}

fn write_csv(dir: &Path, files: &[(String, Vec<Vec<String>>)]) {
    for (name, rows) in files {
        let mut w = csv::Writer::from_path(dir.join(format!("{name}.csv"))).unwrap();
        for r in rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }
}

/// The blocks of the terminal report about repairs.
fn repair_blocks(human: &str) -> String {
    let mut out = vec![];
    let mut on = false;
    for line in human.lines() {
        if line.starts_with("info[input::repaired") || line.starts_with("query[input::repaired") {
            on = true;
        } else if line.is_empty() {
            on = false;
        }
        if on {
            out.push(line);
        }
    }
    out.join("\n")
}

/// The JSON report's findings about repairs.
fn repair_findings(json: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(json).unwrap();
    let found: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"].as_str().is_some_and(|c| c.starts_with("input::repaired")))
        .collect();
    serde_json::to_string_pretty(&found).unwrap()
}

/// Runs `fettle validate <path>` from `dir`, as text and as JSON, and snapshots the repairs.
fn check(name: &str, dir: &Path, path: &str, codes: &[&str]) {
    let run = |format: &str| {
        let out = fettle().current_dir(dir).args(["validate", path, "--format", format]).output().unwrap();
        assert!(out.status.code().is_some_and(|c| c < 2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let human = repair_blocks(&run("human"));
    let json = repair_findings(&run("json"));
    for code in codes {
        assert!(human.contains(&format!("[{code}]")), "{name}: no {code} in\n{human}");
    }
    in_suite("repairs", || {
        insta::assert_snapshot!(format!("{name}-human"), human);
        insta::assert_snapshot!(format!("{name}-json"), json);
    });
}

/// A CSV case: the sample with `change` made, expecting findings with `codes`.
fn csv_case(name: &str, codes: &[&str], change: &dyn Fn(&mut Files)) {
    let dir = scratch(name);
    let mut files = sample();
    change(&mut files);
    std::fs::create_dir_all(dir.join(name)).unwrap();
    write_csv(&dir.join(name), &files);
    check(name, &dir, name, codes);
}

#[test]
fn spaces_around_values_are_said() {
    csv_case("spaces", &["input::repaired-spaces"], &|f| {
        edit(f, "Referrals", "Sex", &[1, 2, 3, 4, 5], &|v| format!(" {v} "));
        edit(f, "Referrals", "ReferralDate", &[2], &|v| format!("{v}\u{a0}"));
    });
}

#[test]
fn cells_of_only_spaces_are_said() {
    csv_case("blank", &["input::repaired-blank"], &|f| {
        edit(f, "Referrals", "ExpectedPersonBirthDate", &[1, 2], &|_| "   ".into())
    });
}

#[test]
fn dates_in_other_forms_are_said() {
    csv_case("date-form", &["input::repaired-date-form"], &|f| {
        edit(f, "Referrals", "ReferralDate", &[1, 2, 3], &|v| format!("{}/{}/{}", &v[8..10], &v[5..7], &v[0..4]));
        edit(f, "Referrals", "ReferralDate", &[4], &|v| v.replace('-', "/"));
        edit(f, "Referrals", "ReferralDate", &[5], &|v| format!("{}.{}.{}", &v[8..10], &v[5..7], &v[0..4]));
    });
}

#[test]
fn dates_with_a_time_are_said() {
    csv_case("date-time", &["input::repaired-date-time", "input::repaired-date-form", "input::repaired-time-of-day"], &|f| {
        edit(f, "Referrals", "OfferDate", &[1, 2], &|v| format!("{v}T00:00:00"));
        edit(f, "Referrals", "OfferDate", &[3], &|v| format!("{}/{}/{} 00:00", &v[8..10], &v[5..7], &v[0..4]));
        edit(f, "Referrals", "ConferenceDate", &[1], &|v| format!("{v}T09:30:00Z"));
        edit(f, "Referrals", "ConferenceDate", &[2], &|v| format!("{}/{}/{} 09:30", &v[8..10], &v[5..7], &v[0..4]));
    });
}

#[test]
fn thousands_separators_are_said() {
    csv_case("thousands", &["input::repaired-thousands"], &|f| {
        edit(f, "Referrals", "ProfessionalAttendees", &[1], &|_| "1,000".into());
    });
}

#[test]
fn whole_numbers_with_a_point_are_said() {
    csv_case("whole-number", &["input::repaired-whole-number"], &|f| {
        edit(f, "Referrals", "FamilyAttendees", &[1, 2], &|v| format!("{v}.0"));
    });
}

/// Headers written otherwise than the template writes them (another case, spaces around) are read
/// as their columns, and each is said.
#[test]
fn loose_headers_are_said() {
    csv_case("headers", &["input::repaired-header"], &|f| {
        for (file, grid) in f.iter_mut() {
            for h in grid[0].iter_mut() {
                *h = match (file.as_str(), h.as_str()) {
                    ("Referrals", "ReferralDate") => "referraldate".into(),
                    ("Referrals", "Sex") => " Sex ".into(),
                    ("Referrals", "LAchildID") => "LACHILDID".into(),
                    ("About", "PeriodEnd") => "periodEnd\u{a0}".into(),
                    _ => h.clone(),
                };
            }
        }
    });
}

/// CSV files named otherwise than the template names them (another case, spaces around, a hyphen
/// for an underscore... here case and spaces) are read as their tables' files, and each is said; a
/// file named exactly is not.
#[test]
fn loose_file_names_are_said() {
    csv_case("file-names", &["input::repaired-sheet-name"], &|f| {
        for (name, _) in f.iter_mut() {
            *name = match name.as_str() {
                "Referrals" => "referrals".into(),
                "Summary" => " SUMMARY ".into(),
                _ => name.clone(),
            };
        }
    });
}

/// Sheets named otherwise than the template names them are read as their tables' sheets, and each
/// is said; a sheet named exactly is not.
#[test]
fn loose_sheet_names_are_said() {
    let name = "sheet-names";
    let dir = scratch(name);
    let rename = |sheet: &str| match sheet {
        "Referrals" => "REFERRALS".to_string(),
        "About" => "about ".to_string(),
        other => other.to_string(),
    };
    sample_workbook_named(&dir.join("fgc.xlsx"), &rename, &|_, _, _, _, _| false);
    check(name, &dir, "fgc.xlsx", &["input::repaired-sheet-name"]);
}

/// Writes one cell of a workbook made by [`sample_workbook`] (given the sheet, the cell's row and
/// column, the column's header, the data row (1: the first under the header) and the text), saying
/// whether it did.
pub type CellWriter<'a> = &'a dyn Fn(&mut rust_xlsxwriter::Worksheet, (u32, u16), &str, usize, &str) -> bool;

/// Writes the shipped FGC sample as a workbook, each cell as text except where `cell` writes it.
pub fn sample_workbook(path: &Path, cell: CellWriter) {
    sample_workbook_named(path, &|s| s.to_string(), cell);
}

/// [`sample_workbook`] with each sheet named `name(its name in the sample)`.
fn sample_workbook_named(path: &Path, name: &dyn Fn(&str) -> String, cell: CellWriter) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (sheet, rows) in sample() {
        let ws = book.add_worksheet();
        ws.set_name(name(&sheet)).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let at = (r as u32, c as u16);
                let written = r > 0 && cell(ws, at, &rows[0][c], r, v);
                if !written && !v.is_empty() {
                    ws.write_string(at.0, at.1, v).unwrap();
                }
            }
        }
    }
    book.save(path).unwrap();
}

/// The day of a `YYYY-MM-DD` text.
fn day(v: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap()
}

/// A workbook whose referral dates are plain numbers (Excel serials, one with a time of day).
#[test]
fn excel_serials_are_said() {
    let name = "excel-serial";
    let dir = scratch(name);
    sample_workbook(&dir.join("fgc.xlsx"), &|ws, (r, c), head, row, v| {
        if head != "ReferralDate" || !(1..=3).contains(&row) {
            return false;
        }
        let serial = (day(v) - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64;
        ws.write_number(r, c, if row == 3 { serial + 0.5 } else { serial }).unwrap();
        true
    });
    check(name, &dir, "fgc.xlsx", &["input::repaired-excel-serial", "input::repaired-time-of-day"]);
}

/// Writes the offer dates of the FGC sample as Excel date-time cells: rows 1 and 2 with a time of
/// day (14:30, and 23:00 the day before, as a date moved from British Summer Time to UTC), row 3 at
/// midnight shown as a date (a plain date cell, no repair).
pub fn date_time_workbook(path: &Path) {
    use chrono::Datelike;
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let with_time = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sample_workbook(path, &|ws, (r, c), head, row, v| {
        if head != "OfferDate" || !(1..=3).contains(&row) || v.is_empty() {
            return false;
        }
        let d = day(v);
        let at = |d: chrono::NaiveDate| ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).unwrap();
        let (cell, format) = match row {
            1 => (at(d).and_hms(14, 30, 0).unwrap(), &with_time),
            2 => (at(d.pred_opt().unwrap()).and_hms(23, 0, 0).unwrap(), &with_time),
            _ => (at(d), &date),
        };
        ws.write_datetime_with_format(r, c, cell, format).unwrap();
        true
    });
}

/// Date cells holding a time of day: the time is not dropped silently but said as a query (the
/// date read may not be the one meant); a date cell at midnight is read as it is.
#[test]
fn date_cells_with_a_time_of_day_are_said() {
    let name = "date-time-cells";
    let dir = scratch(name);
    date_time_workbook(&dir.join("fgc.xlsx"));
    check(name, &dir, "fgc.xlsx", &["input::repaired-time-of-day"]);
}

/// A value read exactly as written is not a repair: the shipped samples have none.
#[test]
fn exact_values_are_not_repairs() {
    for s in ["samples/fgc/csv", "samples/fgc/fgc-2024-25.xlsx", "samples/cin/census-2024-25.xlsx", "samples/disability/csv"] {
        let out = fettle().args(["validate", s, "--format", "json"]).output().unwrap();
        let json = String::from_utf8(out.stdout).unwrap();
        assert_eq!(repair_findings(&json), "[]", "{s}");
    }
}

/// What `fettle explain` says of the repairs that drop a time and of a header or a sheet name read loosely: what
/// was read, and what the DfE does with it; and of two sheets or files named alike, one not read.
#[test]
fn explain_texts_of_times_and_headers() {
    for code in [
        "input::repaired-date-time",
        "input::repaired-time-of-day",
        "input::repaired-header",
        "input::repaired-sheet-name",
        "input::duplicate-sheet",
    ] {
        let name = format!("explain-{}", code.trim_start_matches("input::"));
        in_suite("repairs", || insta_cmd::assert_cmd_snapshot!(name, fettle().args(["explain", code])));
    }
}
