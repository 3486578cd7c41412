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
