//! A deliberately broken plan or lookup fails the run loudly (an engine fault), where it once gave
//! a missing value that the rule then let pass, so that the file looked clean.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use super::{Fault, prepare, run};
use crate::check::program::{AggPlan, Const, IExpr, IKind, IStep, Program, Type, VarId};
use crate::schema::FieldId;
use crate::table::Dataset;

const RULES: &str = "return t 2024-25\ntable T { xml \"R/T\" field A: int field B: int }\n\
rule X1 error \"A must be positive\" on T {\n  let b = B\n  require A > 0\n  example pass { T { A: 1 } }\n  example fail { T { A: 0 } }\n}\n";

/// The program of [`RULES`] and the data of its failing example (A is 0: one finding).
fn program_and_data() -> (Program, Dataset) {
    let mut lib = crate::library::Library::default();
    lib.sets.insert(("t".into(), "2024-25".into()), vec![("t.fettle".into(), RULES.into())]);
    let c = lib.compile("t", "2024-25");
    let prog = (*c.program.expect("the rules compile")).clone();
    let rule = &prog.rules[0];
    let ex = rule.examples.iter().find(|e| e.fail).unwrap();
    let recs = crate::examples::example_records(rule, ex);
    let data = crate::table::records::read(&prog.schema, &recs, "example");
    (prog, data)
}

fn run_all(prog: &Program, data: Dataset) -> Result<usize, Fault> {
    let p = prepare(prog, data)?;
    Ok(run(prog, &p, &|_| true)?.len())
}

/// The `require` of the rule.
fn check_expr(prog: &mut Program) -> &mut IExpr {
    prog.rules[0].steps.iter_mut().find_map(|s| if let IStep::Require(e) = s { Some(e) } else { None }).unwrap()
}

fn assert_fault(r: Result<usize, Fault>, says: &str) {
    match r {
        Err(f) => {
            let text = f.to_string();
            assert!(text.starts_with("internal error: "), "{text}");
            assert!(text.contains(says), "{text}");
            assert!(text.contains("bug in fettle"), "{text}");
            assert!(text.contains("rule X1"), "the fault names the rule it was met in: {text}");
        }
        Ok(n) => panic!("a broken engine gave {n} findings instead of failing"),
    }
}

#[test]
fn the_unbroken_program_finds_the_failure() {
    let (prog, data) = program_and_data();
    assert_eq!(run_all(&prog, data), Ok(1));
}

#[test]
fn a_column_shorter_than_its_table_is_a_fault_not_a_missing_value() {
    // A missing A would make `A > 0` unknown, and `require` passes on unknown: no finding.
    let (prog, mut data) = program_and_data();
    let a = prog.schema.table_ids().next().map(|t| prog.schema.table(t).field_id("A").unwrap()).unwrap();
    data.tables[0].columns[a.0 as usize].values.clear();
    assert_fault(run_all(&prog, data), "at row 0");
}

#[test]
fn a_plan_reading_a_field_the_table_does_not_have_is_a_fault() {
    let (mut prog, data) = program_and_data();
    let e = check_expr(&mut prog);
    let IKind::Binary(_, lhs, _) = &mut e.kind else { panic!("`A > 0` is a comparison") };
    let IKind::Field { field, .. } = &mut lhs.kind else { panic!("`A` is a field") };
    *field = FieldId(99);
    assert_fault(run_all(&prog, data), "field 99 of table 0 has no column");
}

#[test]
fn a_plan_reading_a_let_that_was_not_evaluated_is_a_fault() {
    let (mut prog, data) = program_and_data();
    let e = check_expr(&mut prog);
    let IKind::Binary(_, lhs, _) = &mut e.kind else { panic!("`A > 0` is a comparison") };
    lhs.kind = IKind::Let(5);
    assert_fault(run_all(&prog, data), "`let` 5 was read before it was evaluated");
}

#[test]
fn a_plan_reading_an_unbound_variable_is_a_fault() {
    let (mut prog, data) = program_and_data();
    let e = check_expr(&mut prog);
    let IKind::Binary(_, lhs, _) = &mut e.kind else { panic!("`A > 0` is a comparison") };
    let IKind::Field { var, .. } = &mut lhs.kind else { panic!("`A` is a field") };
    var.0 = 3;
    assert_fault(run_all(&prog, data), "variable 3 is not bound to rows");
}

const JOIN_RULES: &str = "return t 2024-25\ntable T { xml \"R/T\" field K: text }\n\
rule X1 error \"K is shared\" on T {\n  forbid exists(o in T where o.K == K and o != this)\n  example pass { T { K: \"a\" } T { K: \"b\" } }\n  example fail { T { K: \"a\" } T { K: \"a\" } }\n}\n";

/// The program of [`JOIN_RULES`] and the data of its failing example (two rows share K: two findings).
fn join_program_and_data() -> (Program, Dataset) {
    let mut lib = crate::library::Library::default();
    lib.sets.insert(("t".into(), "2024-25".into()), vec![("t.fettle".into(), JOIN_RULES.into())]);
    let prog = (*lib.compile("t", "2024-25").program.expect("the rules compile")).clone();
    let rule = &prog.rules[0];
    let ex = rule.examples.iter().find(|e| e.fail).unwrap();
    let data = crate::table::records::read(&prog.schema, &crate::examples::example_records(rule, ex), "example");
    (prog, data)
}

/// The per-key plan of the rule's `exists`.
fn join_plan(prog: &mut Program) -> &mut AggPlan {
    let IStep::Forbid(e) = &mut prog.rules[0].steps[0] else { panic!("the rule forbids") };
    let IKind::Agg { plan, .. } = &mut e.kind else { panic!("`exists` is an aggregate") };
    plan
}

#[test]
fn the_unbroken_join_finds_both_rows() {
    let (mut prog, data) = join_program_and_data();
    assert!(matches!(join_plan(&mut prog), AggPlan::CountPerKey(_)), "counted per key");
    assert_eq!(run_all(&prog, data), Ok(2));
}

#[test]
fn a_per_key_plan_taking_off_an_unbound_row_is_a_fault() {
    let (mut prog, data) = join_program_and_data();
    let AggPlan::CountPerKey(join) = join_plan(&mut prog) else { panic!("counted per key") };
    join.not_self = Some(VarId(7));
    assert_fault(run_all(&prog, data), "variable 7 is not bound to rows of the joined table");
}

#[test]
fn a_per_key_plan_for_an_aggregate_it_cannot_compute_is_a_fault() {
    let (mut prog, data) = join_program_and_data();
    let plan = join_plan(&mut prog);
    let AggPlan::CountPerKey(join) = plan.clone() else { panic!("counted per key") };
    // `exists` has no value: a plan for `min` or `max` of one does not fit it.
    let value = IExpr { kind: IKind::Const(Const::Int(1)), ty: Type::Int, span: Default::default() };
    *plan = AggPlan::ExtremePerKey(join, Box::new(value));
    assert_fault(run_all(&prog, data), "a per-key plan was made for `Exists`");
}

#[test]
fn a_witness_plan_binding_another_variable_than_its_filter_reads_is_a_fault() {
    let (mut prog, data) = join_program_and_data();
    let [w] = prog.rules[0].plan.witnesses[0].as_mut_slice() else { panic!("the `exists` is the one witness") };
    // The filter reads `o` (variable 1): a witness binding variable 7 leaves it unbound.
    w.var = VarId(7);
    assert_fault(run_all(&prog, data), "variable 1 is not bound to rows");
}

#[test]
fn a_plan_without_the_witnesses_of_a_check_is_a_fault_not_a_finding_without_related_rows() {
    let (mut prog, data) = join_program_and_data();
    prog.rules[0].plan.witnesses.clear();
    assert_fault(run_all(&prog, data), "the plan has no witness aggregates for step 0");
}

#[test]
fn a_plan_naming_the_fields_of_other_message_pieces_is_a_fault_not_a_message_without_quotes() {
    let (mut prog, data) = program_and_data();
    prog.rules[0].plan.hole_fields.pop();
    assert_fault(run_all(&prog, data), "the plan names the fields of 0 message pieces, the template has 1");
}
