//! Year on year: `fettle validate THIS --previous LAST` and the `uses previous` rules, in the
//! terminal and JSON reports, with the usage errors of a wrong previous file.

use super::{fettle, in_suite};
use insta_cmd::assert_cmd_snapshot;

const THIS: &str = "tests/fixtures/previous/census-2024-25.xml";
const LAST: &str = "tests/fixtures/previous/census-2023-24.xml";

#[test]
fn continuity_terminal_and_json() {
    in_suite("previous", || {
        assert_cmd_snapshot!("cin_human", fettle().args(["validate", THIS, "--previous", LAST]));
        assert_cmd_snapshot!("cin_json", fettle().args(["validate", "--format", "json", THIS, "--previous", LAST]));
        assert_cmd_snapshot!("cin_without_previous_json", fettle().args(["validate", "--format", "json", THIS]));
    });
}

#[test]
fn a_2023_24_census_against_2022_23_compares_gender() {
    // Both years record GenderCurrent: 2023-24's own form of CINY08Q compares it with no map. Last
    // year's episodes all closed before its census date, so only the changed gender (C1) is found
    // year on year.
    let last = "tests/fixtures/previous/census-2022-23.xml";
    in_suite("previous", || {
        assert_cmd_snapshot!("cin_2023_24_human", fettle().args(["validate", LAST, "--previous", last]));
        assert_cmd_snapshot!("cin_2023_24_json", fettle().args(["validate", "--format", "json", LAST, "--previous", last]));
    });
}

#[test]
fn every_report_names_last_years_file_and_both_rows() {
    // CSV, JUnit and SARIF on stdout; a finding on last year's row says so and names its file, one on
    // this year's row names last year's related row and its file.
    in_suite("previous", || {
        for format in ["csv", "junit", "sarif"] {
            assert_cmd_snapshot!(
                format!("cin_{format}"),
                fettle().args(["validate", "--format", format, THIS, "--previous", LAST])
            );
        }
    });
    // The xlsx and HTML reports, written to files.
    let dir = scratch("formats");
    let (xlsx, html) = (dir.join("r.xlsx"), dir.join("r.html"));
    for (format, out) in [("xlsx", &xlsx), ("html", &html)] {
        let run =
            fettle().args(["validate", "--format", format, THIS, "--previous", LAST, "--output"]).arg(out).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let sheets = super::reports::xlsx_text(&std::fs::read(&xlsx).unwrap());
    // The summary sheet up to its counts, and the findings of the year-on-year rules.
    let wanted: Vec<&str> = sheets
        .lines()
        .take_while(|l| !l.starts_with("Severity"))
        .chain(sheets.lines().filter(|l| l.contains("\tCINY")))
        .collect();
    let page = std::fs::read_to_string(&html).unwrap();
    let start = page.find("<h1>").unwrap();
    let head = &page[start..page.find("</header>").unwrap()];
    let rows: Vec<&str> = page.lines().filter(|l| l.contains("last year")).collect();
    in_suite("previous", || {
        insta::assert_snapshot!("cin_xlsx", wanted.join("\n"));
        insta::assert_snapshot!("cin_html", format!("{head}\n{}", rows.join("\n")));
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_annotated_copy_notes_no_cell_for_last_years_rows() {
    // FGCY01Q is about a row of last year's workbook: it is listed on the findings sheet of the
    // annotated copy of this year's workbook, naming last year's file, never noted on this year's cell.
    let (this, last) = ("tests/fixtures/previous/fgc-2024-25.xlsx", "tests/fixtures/previous/fgc-2023-24.xlsx");
    let dir = scratch("annotate");
    let copy = dir.join("copy.xlsx");
    let run = fettle().args(["validate", this, "--previous", last, "--annotate"]).arg(&copy).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let bytes = std::fs::read(&copy).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut notes = String::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        if e.name().unwrap().contains("fettle-notes") {
            std::io::Read::read_to_string(&mut e, &mut notes).unwrap();
        }
    }
    assert!(!notes.contains("FGCY01Q"), "{notes}");
    let text = super::reports::xlsx_text(&bytes);
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("FGCY01Q")).collect();
    assert!(!listed.is_empty() && listed.iter().all(|l| l.contains(&format!("in `{last}`"))), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn disability_csv_folders_year_on_year() {
    // A child with a disability last year and NONE or nothing now (DISY01Q); the share falling (DISY02Q).
    let (this, last) = ("tests/fixtures/previous/disability-2024-25", "tests/fixtures/previous/disability-2023-24");
    in_suite("previous", || {
        assert_cmd_snapshot!("disability_human", fettle().args(["validate", this, "--previous", last]));
        assert_cmd_snapshot!("disability_json", fettle().args(["validate", "--format", "json", this, "--previous", last]));
    });
}

#[test]
fn fgc_workbooks_year_on_year() {
    // A family referred last year, its 12-month outcome due this period, not carried over (FGCY01Q).
    let (this, last) = ("tests/fixtures/previous/fgc-2024-25.xlsx", "tests/fixtures/previous/fgc-2023-24.xlsx");
    in_suite("previous", || {
        assert_cmd_snapshot!("fgc_human", fettle().args(["validate", this, "--previous", last]));
        assert_cmd_snapshot!("fgc_json", fettle().args(["validate", "--format", "json", this, "--previous", last]));
    });
}

#[test]
fn a_wrong_previous_file_is_a_usage_error() {
    in_suite("previous", || {
        // Not one year earlier: the same year, and the years swapped.
        assert_cmd_snapshot!("same_year", fettle().args(["validate", THIS, "--previous", THIS]));
        assert_cmd_snapshot!("years_swapped", fettle().args(["validate", LAST, "--previous", THIS]));
        // Another return.
        assert_cmd_snapshot!("other_return", fettle().args(["validate", THIS, "--previous", "samples/fgc/fgc-2024-25.xlsx"]));
        assert_cmd_snapshot!("missing_file", fettle().args(["validate", THIS, "--previous", "no/such/last.xml"]));
    });
}

/// A fresh folder for one test's generated files.
fn scratch(test: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("previous").join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every finding of `fettle validate THIS --previous LAST` in `dir` at or above `level` ("info" for
/// all, "query" for every finding but the info ones), as (code, child; empty for a finding on the
/// whole return).
fn findings(dir: &std::path::Path, this: &str, last: &str, level: &str) -> Vec<(String, String)> {
    let out = fettle().current_dir(dir).args(["validate", "--format", "json", this, "--previous", last]).output().unwrap();
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["previous"][0]["previous"], last, "{json}");
    let mut found: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| level == "info" || f["severity"] != "info")
        .map(|f| (f["code"].as_str().unwrap().to_string(), f["child"].as_str().unwrap_or("").to_string()))
        .collect();
    found.sort();
    found
}

/// `fettle generate RET --previous LAST --out THIS` with `args`: the findings due it lists, sorted.
fn generate_pair(dir: &std::path::Path, ret: &str, this: &str, last: &str, args: &[&str]) -> Vec<(String, String)> {
    let run = fettle().current_dir(dir).args(["generate", ret, "--previous", last, "--out", this]).args(args).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let mut due: Vec<(String, String)> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (code, child) = l.split_once(' ').unwrap_or((l, ""));
            (code.to_string(), child.to_string())
        })
        .collect();
    due.sort();
    due
}

/// The year-on-year rules of a return's shipped rules: the codes of the rules that read last year.
fn continuity_codes(ret: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    let out = fettle().args(["rules", "--return", ret, "--format", "json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for r in json.as_array().unwrap() {
        if let Some(c) = r["code"].as_str().filter(|c| c.starts_with(prefix)) {
            codes.insert(c.to_string());
        }
    }
    assert!(!codes.is_empty(), "no {prefix} rules listed: {json}");
    codes
}

#[test]
fn a_generated_pair_of_years_finds_exactly_the_breaks_injected() {
    let dir = scratch("pair");
    // A clean pair: last year's open episodes carried over; no finding at all, of any rule.
    let clean = generate_pair(&dir, "cin", "this.xml", "last.xml", &["--size", "3000", "--seed", "3"]);
    assert_eq!(clean, vec![]);
    assert_eq!(findings(&dir, "this.xml", "last.xml", "info"), vec![]);
    // The same pair with 36 breaks (each rule on one child three times, each rule on the whole
    // return once: the number of children, of open episodes, of open plans moved past the threshold
    // the rule file declares): each break found, on its child, and nothing else.
    let due = generate_pair(&dir, "cin", "this.xml", "last.xml", &["--size", "3000", "--seed", "3", "--breaks", "36"]);
    // A changed ID is one break and two findings.
    assert_eq!(due.len(), 39, "{due:?}");
    let codes: std::collections::BTreeSet<String> = due.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(codes, continuity_codes("cin", "CINY"), "every year-on-year rule is broken");
    assert_eq!(due.iter().filter(|(_, child)| child.is_empty()).count(), 3, "{due:?}");
    assert_eq!(findings(&dir, "this.xml", "last.xml", "info"), due);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generated_pair_of_disability_returns_finds_exactly_the_breaks_injected() {
    // Folders of CSV files. Without breaks nothing is found but the info summary of recorded
    // disability (DIS089), which every return has; with them, each break and nothing else.
    let dir = scratch("disability-pair");
    let size = ["--size", "400", "--seed", "4", "--csv"];
    assert_eq!(generate_pair(&dir, "disability", "this", "last", &size), vec![]);
    let quiet = findings(&dir, "this", "last", "info");
    assert_eq!(quiet, vec![("DIS089".to_string(), String::new())]);
    let due = generate_pair(&dir, "disability", "this", "last", &[&size[..], &["--breaks", "9"]].concat());
    assert_eq!(due.len(), 9, "{due:?}");
    let codes: std::collections::BTreeSet<String> = due.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(codes, continuity_codes("disability", "DISY"), "every year-on-year rule is broken");
    assert_eq!(findings(&dir, "this", "last", "query"), due);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_generated_pair_of_fgc_returns_finds_exactly_the_breaks_injected() {
    // Workbooks. Without breaks nothing is found but the info findings on take-up and timing
    // (FGC090-FGC099); with them, each break (a child whose 12-month outcome is due, left out) and
    // nothing else.
    let dir = scratch("fgc-pair");
    let size = ["--size", "150", "--seed", "2"];
    assert_eq!(generate_pair(&dir, "fgc", "this.xlsx", "last.xlsx", &size), vec![]);
    assert_eq!(findings(&dir, "this.xlsx", "last.xlsx", "query"), vec![]);
    let due = generate_pair(&dir, "fgc", "this.xlsx", "last.xlsx", &[&size[..], &["--breaks", "5"]].concat());
    assert_eq!(due.len(), 5, "{due:?}");
    let codes: std::collections::BTreeSet<String> = due.iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(codes, continuity_codes("fgc", "FGCY"), "every year-on-year rule is broken");
    assert_eq!(findings(&dir, "this.xlsx", "last.xlsx", "query"), due);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generating_a_pair_of_years() {
    let dir = scratch("listing");
    let pair = || {
        let mut c = fettle();
        c.current_dir(&dir).args(["generate", "cin", "--size", "40", "--previous", "last.xml", "--out", "this.xml"]);
        c
    };
    in_suite("previous", || {
        // The findings due, one line each; fewer breaks than asked when too few children fit.
        assert_cmd_snapshot!("generate_breaks", pair().args(["--breaks", "4"]));
        assert_cmd_snapshot!("generate_too_many_breaks", pair().args(["--breaks", "40"]));
        // Usage errors.
        assert_cmd_snapshot!("generate_pair_with_mistakes", pair().args(["--error-rate", "0.1"]));
        assert_cmd_snapshot!(
            "generate_breaks_without_previous",
            fettle().current_dir(&dir).args(["generate", "cin", "--out", "this.xml", "--breaks", "3"])
        );
        assert_cmd_snapshot!(
            "generate_pair_of_fgc",
            fettle().current_dir(&dir).args([
                "generate",
                "fgc",
                "--out",
                "this.xlsx",
                "--previous",
                "last.xlsx",
                "--breaks",
                "2"
            ])
        );
        assert_cmd_snapshot!(
            "generate_pair_of_disability",
            fettle().current_dir(&dir).args([
                "generate",
                "disability",
                "--out",
                "d.xlsx",
                "--previous",
                "dl.xlsx",
                "--breaks",
                "3"
            ])
        );
        assert_cmd_snapshot!(
            "generate_pair_of_census_csv",
            fettle().current_dir(&dir).args(["generate", "cin", "--csv", "--out", "t", "--previous", "l"])
        );
        assert_cmd_snapshot!(
            "generate_pair_same_file",
            fettle().current_dir(&dir).args(["generate", "cin", "--out", "a.xml", "--previous", "a.xml"])
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the browser page says of last year's files (`web/wasm`'s session calls the same library
/// function as `--previous`, worded for the page): the wrong year, the years swapped, another return,
/// two of one return, and the year-on-year rules not run when none is given.
#[test]
fn the_page_words_the_same_checks() {
    use fettle::input::Format;
    use fettle::library::Library;
    use fettle::submission::{self, Files, GivenBy, Loaded, Rulebook, Source};
    let book = Rulebook::new(Library::shipped());
    let read = |path: &str| -> Loaded {
        let files = [super::root().join(path)];
        let format = Format::of(std::path::Path::new(path)).unwrap();
        let name = path.rsplit('/').next().unwrap();
        let src = Source { format, files: Files::Disk(&files), display: name };
        let ret = submission::pick_return(&book, format, &src.sniff()).unwrap();
        submission::read_submission(&book, &src, &ret, None).unwrap()
    };
    let fgc = "samples/fgc/fgc-2024-25.xlsx";
    let said = |this: &str, last: &[&str]| -> String {
        let mut loaded = vec![read(this)];
        let prev: Vec<(String, Result<Loaded, String>)> =
            last.iter().map(|p| (p.rsplit('/').next().unwrap().to_string(), Ok(read(p)))).collect();
        let mut notes = vec![];
        match submission::attach_previous_all(&book, prev, &mut loaded, GivenBy::Page, &mut |n| notes.push(n)) {
            Ok(uses) => {
                let used: Vec<String> = uses.iter().map(|u| format!("{} against {} ({})", u.file, u.previous, u.year)).collect();
                let not_run = submission::previous_not_run(&book, &loaded, GivenBy::Page);
                format!("used: {used:?}\nnotes: {notes:#?}\nnot run: {not_run:?}")
            }
            Err(e) => format!("error: {e}\nnotes: {notes:#?}"),
        }
    };
    let text = [
        ("none given", said(THIS, &[])),
        ("last year's", said(THIS, &[LAST])),
        ("the same year", said(THIS, &[THIS])),
        ("the years swapped", said(LAST, &[THIS])),
        ("another return", said(THIS, &[fgc])),
        ("two of one return", said(THIS, &[LAST, LAST])),
    ]
    .iter()
    .map(|(case, s)| format!("## {case}\n{s}\n"))
    .collect::<Vec<_>>()
    .join("\n");
    in_suite("previous", || insta::assert_snapshot!("page_messages", text));
}
