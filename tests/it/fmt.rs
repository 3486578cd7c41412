//! `fettle fmt`: formatting never changes meaning, formatting twice changes nothing, and the shipped
//! rules are formatted.

use fettle::span::FileId;
use proptest::prelude::*;

fn parse(text: &str) -> Option<fettle::syntax::ast::File> {
    let (f, diags) = fettle::syntax::parse(FileId(0), text);
    if diags.iter().any(|d| d.level == fettle::diag::Level::Error) { None } else { f }
}

fn shipped_files() -> Vec<(String, String)> {
    let mut out = vec![];
    for e in walkdir::WalkDir::new(super::root().join("rules")).sort_by_file_name().into_iter().flatten() {
        if e.path().extension().is_some_and(|x| x == "fettle") {
            out.push((e.path().display().to_string(), std::fs::read_to_string(e.path()).unwrap()));
        }
    }
    out
}

/// The comments of rule text, in order: from a `#` outside a string to the end of its line.
fn comments(text: &str) -> Vec<&str> {
    let mut out = vec![];
    for line in text.lines() {
        let (mut in_string, mut escaped) = (false, false);
        for (i, c) in line.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '#' if !in_string => {
                    out.push(line[i..].trim_end());
                    break;
                }
                _ => {}
            }
        }
    }
    out
}

/// Formats `text` (which must parse: a generated text that does not is a broken test), and checks
/// that the meaning is kept, formatting twice changes nothing, and every comment is kept in order.
fn round_trip(name: &str, text: &str) {
    let ast = parse(text).unwrap_or_else(|| panic!("{name}: the text to format does not parse:\n{text}"));
    let once = fettle::syntax::format::format(text, &ast);
    let again_ast = parse(&once).unwrap_or_else(|| panic!("{name}: formatted text does not parse:\n{once}"));
    assert_eq!(ast, again_ast, "{name}: formatting changed the meaning");
    let twice = fettle::syntax::format::format(&once, &again_ast);
    assert_eq!(once, twice, "{name}: formatting twice changed the text");
    assert_eq!(comments(&once), comments(text), "{name}: comments lost or moved out of order:\n{once}");
}

/// The checks above fail when they should: a comment dropped, and a text that does not parse.
#[test]
fn round_trip_checks_can_fail() {
    assert_eq!(comments("a # one\nb \"# not\" # two\n"), ["# one", "# two"]);
    assert_ne!(comments("# top\nreturn t 2024-25\n"), comments("return t 2024-25\n"));
    let broken =
        std::panic::catch_unwind(|| round_trip("broken", "return t 2024-25\nrule R1 error \"m\" on T {\n  require (\n}\n"));
    assert!(broken.is_err(), "an unparsable text must fail the round trip");
}

#[test]
fn shipped_rules_round_trip_and_are_formatted() {
    let files = shipped_files();
    assert!(files.len() > 10);
    for (name, text) in &files {
        round_trip(name, text);
        let ast = parse(text).unwrap();
        assert_eq!(&fettle::syntax::format::format(text, &ast), text, "{name} is not formatted: run `fettle fmt`");
    }
}

#[test]
fn comments_are_kept() {
    let text = "# top\nreturn t 2024-25\n# about the table\ntable T { xml \"R/T\"\n  # the field\n  field A: int # trailing\n}\n# last\n";
    let ast = parse(text).unwrap();
    let out = fettle::syntax::format::format(text, &ast);
    for c in ["# top", "# about the table", "# the field", "# trailing", "# last"] {
        assert!(out.contains(c), "lost {c}:\n{out}");
    }
    round_trip("comments", text);
}

const EXPRS: &[&str] = &[
    "A > 0",
    "present(B)",
    "not (A ?? 0) > 1",
    "A in 1 ..= 5",
    "B in (\"x\", \"y\")",
    "if A > 1 then A else 0",
    "count(x in T where x.A == A and x != this) > 1",
    "D - 45 working days",
    "D + 1 year",
    "(A + 2) * 3 / 4",
    "exists(T)",
    "A == 1 or A == 2 and not present(B)",
    "-A < 3",
    "27% < 0.5",
    "\"a\" + B",
    "all(T, A > 0)",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn generated_rules_round_trip(parts in proptest::collection::vec(0..EXPRS.len(), 1..6), neg in any::<bool>()) {
        let mut text = String::from("return t 2024-25\ntable T { xml \"R/T\" field A: int field B: text field D: date }\n");
        for (i, p) in parts.iter().enumerate() {
            let kw = if neg { "forbid" } else { "require" };
            text.push_str(&format!("rule R{i} error \"m {{A}}\" on T {{\n  fields A\n  {kw} {}\n  example pass {{ T {{ A: 1 }} }}\n}}\n", EXPRS[*p]));
        }
        round_trip("generated", &text);
    }
}

/// A long chain bracketed on the right (`a and (b and c ...)`) keeps its brackets when broken, so
/// formatting keeps the meaning and formatting twice changes nothing; unbracketed, it breaks at
/// every operand.
#[test]
fn right_nested_chains_format_once() {
    let long = (1..=12).map(|i| format!("missing(Summary.Field{i})")).collect::<Vec<_>>().join(" and ");
    let nested =
        format!("return fgc 2024-25\n\nrule X1 error \"m\" on return {{\n  forbid count(Summary) == 1 and ({long})\n}}\n");
    round_trip("right-nested", &nested);
    let once = fettle::syntax::format::format(&nested, &parse(&nested).unwrap());
    assert!(once.contains("\n    and (missing(Summary.Field1) and"), "{once}");
    let flat = nested.replace(&format!("({long})"), &long);
    round_trip("flat", &flat);
    let once = fettle::syntax::format::format(&flat, &parse(&flat).unwrap());
    assert_eq!(once.lines().filter(|l| l.trim_start().starts_with("and missing(")).count(), 12, "{once}");
}
