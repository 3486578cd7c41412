//! The evaluator's join plans on real submissions read by the readers here (they were eval's own
//! tests, in fettle-core's eval/expr.rs, until the readers and generators moved to this crate):
//! the per-key plans find exactly what the pairs find, and pairs made a slice at a time find what
//! they find at once.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crate::eval;
use fettle_core::eval::expr::Options;

/// Every join makes its pairs: the reference the per-key plans are compared with.
fn pairs_only() -> Options {
    Options { per_key: false, ..Options::default() }
}
/// Every join makes its pairs, five at a time.
const SMALL_SLICES: Options = Options { per_key: false, pairs_at_once: 5 };

fn findings(xml: &str, opts: Options) -> Vec<String> {
    let lib = crate::library::Library::shipped();
    let prog = lib.compile("cin", "2024-25").program.unwrap();
    let data = crate::input::xml::read(&prog.schema, xml.as_bytes(), "x.xml").unwrap();
    let p = eval::prepare_with(&prog, data, opts).unwrap();
    eval::run(&prog, &p, &|_| true).unwrap().iter().map(|f| format!("{f:?}")).collect()
}

fn fgc_findings(files: &[(String, Vec<u8>)], opts: Options) -> Vec<String> {
    let lib = crate::library::Library::shipped();
    let prog = lib.compile("fgc", "2024-25").program.unwrap();
    let data = crate::input::read_bytes(&prog.schema, crate::input::Format::Csv, files, "fgc").unwrap();
    let p = eval::prepare_with(&prog, data, opts).unwrap();
    eval::run(&prog, &p, &|_| true).unwrap().iter().map(|f| format!("{f:?}")).collect()
}

/// The same for the FGC family rules (`o.FamilyID == FamilyID and o.ReferralDate !=
/// ReferralDate`, and the `min` naming the other date), on real families and on a file where
/// every referral has one FamilyID.
#[test]
fn grouped_joins_agree_with_pairs_on_families() {
    let files: Vec<(String, Vec<u8>)> = crate::generate::templates::csv(&crate::generate::templates::fgc(5, 120))
        .into_iter()
        .map(|(n, t)| (n, t.into_bytes()))
        .collect();
    let one_family: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(n, b)| {
            let text = String::from_utf8(b.clone()).unwrap();
            let text = if n.starts_with("Referrals") {
                text.lines()
                    .enumerate()
                    .map(|(i, l)| if i == 0 { l.to_string() } else { format!("F1{}", &l[l.find(',').unwrap()..]) })
                    .collect::<Vec<_>>()
                    .join("\n")
            } else {
                text
            };
            (n.clone(), text.into_bytes())
        })
        .collect();
    for (i, set) in [&files, &one_family].into_iter().enumerate() {
        let grouped = fgc_findings(set, Options::default());
        let paired = fgc_findings(set, pairs_only());
        assert_eq!(grouped, paired, "set {i}");
        if i == 1 {
            assert!(grouped.iter().any(|f| f.contains("FGC050")), "one family, many referral dates");
        }
    }
}

/// The counted join (count, exists and none over keys, without pairs) finds exactly what the
/// pairs find, and pairs taken a slice at a time find what they find at once, on a census with
/// mistakes and on one where every child shares one LAchildID and one UPN (where the pairs are
/// quadratic).
#[test]
fn counted_joins_agree_with_pairs() {
    let normal = crate::generate::cin_xml(400, 11, 0.3, 2025);
    let mut shared = normal.clone();
    for (tag, value) in [("LAchildID", "C1"), ("UPN", "A123456789012")] {
        let mut out = String::new();
        let mut rest = shared.as_str();
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        while let Some(i) = rest.find(&open) {
            let j = rest[i..].find(&close).unwrap() + i;
            out.push_str(&rest[..i + open.len()]);
            out.push_str(value);
            rest = &rest[j..];
        }
        out.push_str(rest);
        shared = out;
    }
    for doc in [&normal, &shared] {
        let counted = findings(doc, Options::default());
        let paired = findings(doc, pairs_only());
        let sliced = findings(doc, SMALL_SLICES);
        assert_eq!(counted, paired);
        assert_eq!(sliced, paired);
    }
    let dup = findings(&shared, Options::default()).iter().filter(|f| f.contains("code: \"8510\"")).count();
    assert_eq!(dup, 400, "every child shares its LAchildID");
}
