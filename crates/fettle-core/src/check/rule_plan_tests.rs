//! The facts planned for each rule (check/rule_plan.rs) are the ones its expressions say.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::program::*;
use crate::schema::TableId;

const RULES: &str = "return t 2024-25\n\
table T { xml \"R/T\" field K: text field A: int field L: list of int field M: text }\n\
table S { xml \"R/T/S\" parent T field B: int field C: text }\n\
param Limit = 3\n\
derive Big = Limit + 1\n\
derive T.Twice = A * 2\n\
rule X1 error \"{K} has another row with its key\" on T {\n  when A > 0\n  forbid exists(o in T where o.K == K and o != this)\n}\n\
rule X2 error \"K is {K}\" on T {\n  require A > 0 and count(x in L where x > 1) == 0\n}\n\
rule X3 error \"S of {C}\" on S {\n  require B > 0 and A > 0\n}\n\
rule X4 error \"m {A}\" on T {\n  let first = min(S, B)\n  require exists(S) or not all(o in T where o.K == K, o.A > A)\n  forbid first > 0 and Twice > Big\n}\n\
rule X5 error \"{max(o in S where o.B > 0, o.C)} and {count(S)} in {if A > 0 then K else M}\" on T {\n  require count(S) > 3\n}\n\
rule X6 info \"group {this}\" on T by K {\n  let n = count(T)\n  report n\n}\n";

fn program() -> Program {
    let mut lib = crate::library::Library::default();
    lib.sets.insert(("t".into(), "2024-25".into()), vec![("t.fettle".into(), RULES.into())]);
    let c = lib.compile("t", "2024-25");
    (*c.program.unwrap_or_else(|| panic!("the rules compile: {:?}", c.diags))).clone()
}

fn rule<'p>(prog: &'p Program, code: &str) -> &'p RuleDef {
    prog.rules.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("no rule {code}"))
}

fn table(prog: &Program, name: &str) -> TableId {
    prog.schema.table_ids().find(|t| prog.schema.table(*t).name == name).unwrap()
}

/// The `(table, field)` names of what a rule reads.
fn reads(prog: &Program, code: &str) -> Vec<String> {
    rule(prog, code)
        .plan
        .reads
        .iter()
        .map(|(t, f)| format!("{}.{}", prog.schema.table(*t).name, prog.schema.field(*t, *f).name))
        .collect()
}

#[test]
fn an_exists_over_other_rows_is_the_one_witness_of_its_check() {
    let prog = program();
    let r = rule(&prog, "X1");
    let [when, check] = r.plan.witnesses.as_slice() else { panic!("one list per step: {:?}", r.plan.witnesses) };
    assert!(when.is_empty(), "a `when` has no witnesses");
    let [w] = check.as_slice() else { panic!("one witness: {check:?}") };
    assert!(matches!(w.source, Source::All { table, .. } if table == self::table(&prog, "T")), "{w:?}");
    assert!(w.filter.is_some() && w.rejects.is_none(), "{w:?}");
    // The witness is a copy of the aggregate's own parts.
    let IStep::Forbid(e) = &r.steps[1] else { panic!("X1 forbids") };
    let IKind::Agg { var, filter, .. } = &e.kind else { panic!("`exists` is an aggregate") };
    assert_eq!((w.var, w.filter.as_ref()), (*var, filter.as_deref()));
    assert!(r.plan.other_rows && !r.plan.rows_below);
}

#[test]
fn a_rule_reading_only_its_own_row_does_not_look_at_other_rows() {
    let prog = program();
    let r = rule(&prog, "X2");
    // An aggregate over a list's items has no rows to relate.
    assert_eq!(r.plan.witnesses, [vec![]]);
    assert!(!r.plan.other_rows && !r.plan.rows_below);
    assert!(r.plan.below.is_empty());
    assert_eq!(reads(&prog, "X2"), ["T.K", "T.A", "T.L"]);
    assert_eq!(r.plan.hole_fields, [None, Some("T.K".to_string())]);
}

#[test]
fn a_parents_field_is_another_row() {
    let prog = program();
    let r = rule(&prog, "X3");
    assert!(r.plan.other_rows && !r.plan.rows_below);
    assert_eq!(r.plan.witnesses, [vec![]]);
    assert_eq!(reads(&prog, "X3"), ["T.A", "S.B", "S.C"]);
    assert_eq!(r.plan.hole_fields, [None, Some("S.C".to_string())]);
}

#[test]
fn witnesses_are_the_aggregates_a_check_hangs_on_in_the_order_written() {
    let prog = program();
    let r = rule(&prog, "X4");
    let [lets, require, forbid] = r.plan.witnesses.as_slice() else { panic!("{:?}", r.plan.witnesses) };
    // `min(S, B)` is a `let`'s: no witness, though the `forbid` reads it through the `let`.
    assert!(lets.is_empty() && forbid.is_empty(), "{lets:?} {forbid:?}");
    let [below, all] = require.as_slice() else { panic!("two witnesses: {require:?}") };
    assert!(matches!(below.source, Source::Below { table, .. } if table == self::table(&prog, "S")), "{below:?}");
    assert!(below.filter.is_none() && below.rejects.is_none());
    assert!(matches!(all.source, Source::All { .. }), "{all:?}");
    assert!(all.filter.is_some() && all.rejects.is_some(), "an `all` relates the rows it rejects: {all:?}");
    assert!(r.plan.other_rows && r.plan.rows_below);
    assert_eq!(r.plan.below.iter().copied().collect::<Vec<_>>(), [table(&prog, "S")]);
}

#[test]
fn what_a_rule_reads_includes_what_its_derived_fields_and_values_read() {
    let prog = program();
    // `Twice` reads A; `Big` reads `Limit`, which reads no field.
    assert_eq!(reads(&prog, "X4"), ["T.K", "T.A", "T.Twice", "S.B"]);
}

#[test]
fn a_hole_shows_the_field_of_an_aggregates_value_or_of_an_if_and_no_field_for_a_count() {
    let prog = program();
    let r = rule(&prog, "X5");
    let h = &r.plan.hole_fields;
    assert_eq!(h.len(), r.template.len());
    let shown: Vec<Option<&str>> =
        r.template.iter().zip(h).filter(|(p, _)| matches!(p, IPart::Expr(_))).map(|(_, f)| f.as_deref()).collect();
    assert_eq!(shown, [Some("S.C"), None, Some("T.K")]);
    // The message's rows below are read; its check's `count(S)` is a witness and counts rows below.
    assert_eq!(reads(&prog, "X5"), ["T.K", "T.A", "T.M", "S.B", "S.C"]);
    assert!(r.plan.rows_below);
    assert_eq!(r.plan.witnesses.iter().map(Vec::len).collect::<Vec<_>>(), [1]);
}

#[test]
fn a_group_rules_key_is_read_and_its_group_is_not_another_row_of_a_table() {
    let prog = program();
    let r = rule(&prog, "X6");
    assert_eq!(reads(&prog, "X6"), ["T.K"]);
    // An info rule's `let` has no witnesses; `count(T)` is over the group's rows.
    assert_eq!(r.plan.witnesses, [vec![]]);
    assert!(r.plan.other_rows, "a group rule's aggregate reads its group's rows");
    assert!(!r.plan.rows_below);
}

#[test]
fn every_shipped_rule_is_planned_step_by_step_and_piece_by_piece() {
    let lib = crate::library::Library::shipped();
    for (ret, year) in [("cin", "2024-25"), ("fgc", "2024-25"), ("disability", "2024-25")] {
        let prog = lib.compile(ret, year).program.expect("the shipped rules check");
        for r in &prog.rules {
            assert_eq!(r.plan.witnesses.len(), r.steps.len(), "{}", r.code);
            assert_eq!(r.plan.hole_fields.len(), r.template.len(), "{}", r.code);
            for w in r.plan.witnesses.iter().flatten() {
                assert!(!matches!(w.source, Source::List(_)), "{}: a witness over a list", r.code);
            }
        }
    }
}
