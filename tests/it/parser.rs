//! Properties of the parser and checker: they never panic, whatever the input.

use fettle::span::FileId;
use proptest::prelude::*;

const PIECES: &[&str] = &[
    "return",
    "cin",
    "2024-25",
    "rule",
    "8500",
    "error",
    "query",
    "\"msg {x}\"",
    "on",
    "Child",
    "{",
    "}",
    "(",
    ")",
    "require",
    "forbid",
    "when",
    "let",
    "x",
    "=",
    "==",
    "<=",
    "..<",
    "..=",
    "??",
    "exists",
    "count",
    "in",
    "where",
    "and",
    "or",
    "not",
    "2025-03-31",
    "45 working days",
    "-",
    "+",
    "table",
    "field",
    "F",
    ":",
    "date",
    "code",
    "list of",
    "example",
    "pass",
    "fail",
    "fixture",
    ".",
    ",",
    "this",
    "#c\n",
    "\n",
    "27%",
    "1.5",
    "if",
    "then",
    "else",
    "codes",
    "..",
    "\"",
];

fn check_text(text: &str) {
    let (file, _diags) = fettle::syntax::parse(FileId(0), text);
    if let Some(f) = file {
        let mut decls = fettle::check::Decls::default();
        let mut diags = vec![];
        decls.apply(&f, &mut diags);
        let _ = fettle::check::check(&decls, &|_| (String::new(), 0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn parser_never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
        check_text(&s);
    }

    #[test]
    fn checker_never_panics_on_token_soup(idx in proptest::collection::vec(0..PIECES.len(), 0..60)) {
        let text = idx.iter().map(|i| PIECES[*i]).collect::<Vec<_>>().join(" ");
        check_text(&format!("return cin 2024-25\n{text}"));
    }

    #[test]
    fn checker_never_panics_on_mutated_rules(cut in 0usize..4000, insert in 0..PIECES.len()) {
        let base = include_str!("../../rules/cin/2024-25/10-hard-cases.fettle");
        let at = base.char_indices().map(|(i, _)| i).nth(cut % base.chars().count()).unwrap_or(0);
        let text = format!("{}{}{}", &base[..at], PIECES[insert], &base[at..]);
        check_text(&text);
    }
}
