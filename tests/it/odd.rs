//! Odd spreadsheets: the FGC and disability samples saved with blank rows, extra columns, columns
//! in another order, dates typed as text, numbers stored as text, a title above the header, and a
//! sheet missing. Each variant is written at test time and validated from its own folder, so paths
//! in the output are stable.

use fettle::generate::templates::{self, Cell, Sheet};
use insta_cmd::assert_cmd_snapshot;
use std::path::PathBuf;
use std::process::Command;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fettle-odd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(insta_cmd::get_cargo_bin("fettle"));
    c.current_dir(dir).args(args).env("NO_COLOR", "1");
    c
}

fn write(dir: &std::path::Path, name: &str, sheets: &[Sheet]) {
    std::fs::write(dir.join(name), templates::xlsx(sheets).unwrap()).unwrap();
}

fn sheet<'a>(sheets: &'a mut [Sheet], name: &str) -> &'a mut Sheet {
    sheets.iter_mut().find(|s| s.name == name).unwrap()
}

/// Every variant of one template, validated; the findings must match the clean file's, except where
/// the variant itself is the problem.
fn variants(ret: &str, sheets: fn() -> Vec<Sheet>, main: &str) {
    let dir = temp(ret);
    // Blank rows, columns reversed, an extra column, a title row above the header.
    let mut s = sheets();
    {
        let m = sheet(&mut s, main);
        m.headers.reverse();
        for r in &mut m.rows {
            r.reverse();
        }
        m.headers.push("Notes from the team".into());
        for r in &mut m.rows {
            r.push(Cell::Text("checked".into()));
        }
        m.rows.insert(3, vec![Cell::Blank; m.headers.len()]);
        m.rows.insert(7, vec![Cell::Blank; m.headers.len()]);
    }
    write(&dir, "reordered.xlsx", &s);
    // Dates typed as text in several forms, numbers stored as text, spaces around values.
    let mut s = sheets();
    {
        let m = sheet(&mut s, main);
        for (i, r) in m.rows.iter_mut().enumerate() {
            for c in r.iter_mut() {
                *c = match c.clone() {
                    Cell::Date(d) if i % 3 == 0 => Cell::Text(d.format("%d/%m/%Y").to_string()),
                    Cell::Date(d) if i % 3 == 1 => Cell::Text(format!(" {} ", d.format("%Y-%m-%d"))),
                    Cell::Num(n) => Cell::Text(format!("{n}")),
                    Cell::Text(t) => Cell::Text(format!("{t}\u{a0}")),
                    other => other,
                };
            }
        }
    }
    write(&dir, "typed-as-text.xlsx", &s);
    // The Summary sheet missing.
    let mut s = sheets();
    s.retain(|x| x.name != "Summary");
    write(&dir, "no-summary.xlsx", &s);
    // The main sheet missing: a clear error naming it.
    let mut s = sheets();
    s.retain(|x| x.name != main);
    write(&dir, "no-main-sheet.xlsx", &s);
    // The clean file, for comparison.
    write(&dir, "clean.xlsx", &sheets());
    let summary = |file: &str| {
        let out = run_in(&dir, &["validate", file]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("by rule")).collect::<String>()
    };
    let clean = summary("clean.xlsx");
    // The extra column is said once (a column of no table is not read); nothing else changes.
    let reordered = summary("reordered.xlsx");
    assert!(!clean.contains("input::unknown-column"), "{clean}");
    assert_eq!(
        reordered.replace(", input::unknown-column (1)", ""),
        clean,
        "{ret}: reordered columns, blank rows and extra columns change nothing but the extra column's query"
    );
    assert!(reordered.ends_with(", input::unknown-column (1)"), "{reordered}");
    super::in_suite("odd", || {
        for f in ["typed-as-text.xlsx", "no-summary.xlsx", "no-main-sheet.xlsx"] {
            insta::with_settings!({ snapshot_suffix => format!("{ret}-{f}") }, {
                assert_cmd_snapshot!("odd", run_in(&dir, &["validate", f]));
            });
        }
    });
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn odd_fgc_workbooks() {
    variants("fgc", || templates::fgc(3, 30), "Referrals");
}

#[test]
fn odd_disability_workbooks() {
    variants("disability", || templates::disability(5, 120), "Children");
}
