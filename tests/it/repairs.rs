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
        if line.starts_with("info[input::repaired") {
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
        assert!(human.contains(&format!("info[{code}]")), "{name}: no {code} in\n{human}");
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
    csv_case("date-time", &["input::repaired-date-time", "input::repaired-date-form"], &|f| {
        edit(f, "Referrals", "OfferDate", &[1, 2], &|v| format!("{v}T00:00:00"));
        edit(f, "Referrals", "OfferDate", &[3], &|v| format!("{}/{}/{} 09:30:00", &v[8..10], &v[5..7], &v[0..4]));
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

/// A workbook whose referral dates are plain numbers (Excel serials, one with a time of day).
#[test]
fn excel_serials_are_said() {
    let name = "excel-serial";
    let dir = scratch(name);
    let mut book = rust_xlsxwriter::Workbook::new();
    for (sheet, rows) in sample() {
        let ws = book.add_worksheet();
        ws.set_name(&sheet).unwrap();
        let date_col = rows[0].iter().position(|h| h == "ReferralDate");
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (r32, c16) = (r as u32, c as u16);
                if Some(c) == date_col && (1..=3).contains(&r) {
                    let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap();
                    let serial = (d - chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days() as f64;
                    ws.write_number(r32, c16, if r == 3 { serial + 0.5 } else { serial }).unwrap();
                } else if !v.is_empty() {
                    ws.write_string(r32, c16, v).unwrap();
                }
            }
        }
    }
    book.save(dir.join("fgc.xlsx")).unwrap();
    check(name, &dir, "fgc.xlsx", &["input::repaired-excel-serial", "input::repaired-date-time"]);
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
