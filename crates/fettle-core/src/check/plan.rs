//! Planning: how `eval` computes each aggregate, decided once at check time, when the aggregate is
//! resolved. A join over every row of a table takes its keys from the filter's `inner == outer`
//! conjuncts (a hash join instead of every pair); `count`, `exists`, `none`, `min` and `max` over
//! such a join are computed per key without pairs when the rest of the filter allows
//! ([`AggPlan`]). `eval` executes the plan and never inspects the filter to choose.

use super::program::*;
use crate::syntax::ast::{AggFn, BinOp};
use std::collections::HashSet;

/// Variables an expression reads (with those that its aggregates are anchored at).
fn vars_used(e: &IExpr, out: &mut HashSet<VarId>) {
    e.walk(&mut |x| match &x.kind {
        IKind::Field { var, .. } | IKind::Row(var) | IKind::Item(var) | IKind::ItemPos(var) => {
            out.insert(*var);
        }
        IKind::Agg { source: Source::Below { var, .. }, .. } => {
            out.insert(*var);
        }
        _ => {}
    });
}

/// The `inner == outer` conjuncts of a filter, as join keys.
pub(super) fn collect_keys(f: &IExpr, var: VarId, keys: &mut Vec<(IExpr, IExpr)>) {
    let mut parts = vec![];
    conjuncts(f, &mut parts);
    for c in parts {
        if let Some((inner, outer)) = join_key(c, var) {
            keys.push((inner.clone(), outer.clone()));
        }
    }
}

/// `(inner, outer)` when a conjunct is `inner == outer` with `inner` reading only the aggregate's
/// row and `outer` not reading it.
fn join_key(e: &IExpr, var: VarId) -> Option<(&IExpr, &IExpr)> {
    let IKind::Binary(BinOp::Eq, a, b) = &e.kind else { return None };
    let (mut va, mut vb) = (HashSet::new(), HashSet::new());
    vars_used(a, &mut va);
    vars_used(b, &mut vb);
    let has_lets = |e: &IExpr| {
        let mut l = false;
        e.walk(&mut |x| l |= matches!(x.kind, IKind::Let(_) | IKind::GroupKey));
        l
    };
    let only_inner = |v: &HashSet<VarId>, e: &IExpr| v.len() == 1 && v.contains(&var) && !has_lets(e);
    if only_inner(&va, a) && !vb.contains(&var) {
        Some((a, b))
    } else if only_inner(&vb, b) && !va.contains(&var) {
        Some((b, a))
    } else {
        None
    }
}

/// Plans an aggregate, once, where it is resolved: [`AggPlan::Pairs`] unless it is `count`,
/// `exists`, `none`, `min` or `max` over every row of a table joined on keys, and every conjunct of
/// its filter is a key, reads only the inner row, does not read it at all, is `o != this` (once) or
/// `o.V != V` (once); `min` and `max` also need a value of the inner row alone, and not with
/// `o != this`, and with `o.V != V` only of `o.V` itself. `eval` executes the plan it is given and
/// never looks at the filter's shape.
pub(super) fn aggregate(func: AggFn, source: &Source, var: VarId, filter: Option<&IExpr>, arg: Option<&IExpr>) -> AggPlan {
    let Source::All { table, keys } = source else { return AggPlan::Pairs };
    if keys.is_empty() {
        return AggPlan::Pairs;
    }
    let counting = matches!(func, AggFn::Count | AggFn::Exists | AggFn::None);
    if !counting && !matches!(func, AggFn::Min | AggFn::Max) {
        return AggPlan::Pairs;
    }
    let mut parts = vec![];
    if let Some(e) = filter {
        conjuncts(e, &mut parts);
    }
    let mut join = KeyedJoin::default();
    for e in parts {
        match term(e, var) {
            None => return AggPlan::Pairs,
            Some(Term::Key) => {}
            Some(Term::Inner) => join.inner.push(e.clone()),
            Some(Term::Outer) => join.outer.push(e.clone()),
            // The other row is of the joined table (`this` in a rule on it): else the pairs.
            Some(Term::NotSelf(w, ty)) if join.not_self.is_none() && *ty == Type::Row(*table) => join.not_self = Some(w),
            Some(Term::Differs(a, b)) if join.differs.is_none() => join.differs = Some((a.clone(), b.clone())),
            Some(Term::NotSelf(..) | Term::Differs(..)) => return AggPlan::Pairs,
        }
    }
    if counting {
        return AggPlan::CountPerKey(Box::new(join));
    }
    match arg {
        Some(a) if join.not_self.is_none() && inner_only(a, var) && join.differs.as_ref().is_none_or(|(d, _)| d == a) => {
            AggPlan::ExtremePerKey(Box::new(join), Box::new(a.clone()))
        }
        _ => AggPlan::Pairs,
    }
}

/// What a conjunct of a keyed join's filter is.
enum Term<'e> {
    /// One of the `==` conjuncts the join's keys are taken from ([`join_key`]).
    Key,
    /// Reads only the inner row (`o.Sex == "1"`).
    Inner,
    /// Does not read the inner row (`present(UPN)`).
    Outer,
    /// `o != this`: the inner row is not the outer item's own row (the other variable and its type).
    NotSelf(VarId, &'e Type),
    /// `o.V != V`: a value of the inner row differs from one of the outer item (of the same type).
    Differs(&'e IExpr, &'e IExpr),
}

/// The conjuncts of `e` (`a and b and c`).
fn conjuncts<'e>(e: &'e IExpr, out: &mut Vec<&'e IExpr>) {
    match &e.kind {
        IKind::Binary(BinOp::And, a, b) => {
            conjuncts(a, out);
            conjuncts(b, out);
        }
        _ => out.push(e),
    }
}

/// The variables an expression reads (those of rows an aggregate of its own is anchored at too),
/// and whether it needs more than its variables' rows (rule `let`s, a group key, an aggregate).
fn reads(e: &IExpr) -> (Vec<VarId>, bool) {
    let (mut vars, mut context) = (vec![], false);
    e.walk(&mut |x| match &x.kind {
        IKind::Field { var, .. } | IKind::Row(var) | IKind::Item(var) | IKind::ItemPos(var) => vars.push(*var),
        IKind::Agg { source, .. } => {
            context = true;
            if let Source::Below { var, .. } = source {
                vars.push(*var);
            }
        }
        IKind::Let(_) | IKind::GroupKey => context = true,
        _ => {}
    });
    (vars, context)
}

/// Whether `e` reads the inner row and nothing else of its context.
fn inner_only(e: &IExpr, var: VarId) -> bool {
    let (vars, context) = reads(e);
    !context && !vars.is_empty() && vars.iter().all(|v| *v == var)
}

/// Sorts a filter's conjunct into a [`Term`], when it is one of them.
fn term(e: &IExpr, var: VarId) -> Option<Term<'_>> {
    let (vars, context) = reads(e);
    if !vars.contains(&var) {
        return Some(Term::Outer);
    }
    if !context && vars.iter().all(|v| *v == var) {
        return Some(Term::Inner);
    }
    if join_key(e, var).is_some() {
        return Some(Term::Key);
    }
    let IKind::Binary(BinOp::Ne, a, b) = &e.kind else { return None };
    match (&a.kind, &b.kind) {
        (IKind::Row(x), IKind::Row(y)) if *x == var && *y != var => Some(Term::NotSelf(*y, &b.ty)),
        (IKind::Row(y), IKind::Row(x)) if *x == var && *y != var => Some(Term::NotSelf(*y, &a.ty)),
        _ if a.ty == b.ty && inner_only(a, var) && !reads(b).0.contains(&var) => Some(Term::Differs(a, b)),
        _ if a.ty == b.ty && inner_only(b, var) && !reads(a).0.contains(&var) => Some(Term::Differs(b, a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    /// The plan of every aggregate of a rule, outermost first, in the order written.
    fn plans(prog: &Program, code: &str) -> Vec<AggPlan> {
        let rule = prog.rules.iter().find(|r| r.code == code).unwrap_or_else(|| panic!("no rule {code}"));
        let mut out = vec![];
        for s in &rule.steps {
            let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
            e.walk(&mut |x| {
                if let IKind::Agg { plan, .. } = &x.kind {
                    out.push(plan.clone());
                }
            });
        }
        out
    }

    fn shipped(ret: &str) -> std::sync::Arc<Program> {
        crate::library::Library::shipped().compile(ret, "2024-25").program.expect("the shipped rules check")
    }

    fn compiled(rules: &str) -> Program {
        let mut lib = crate::library::Library::default();
        lib.sets.insert(("t".into(), "2024-25".into()), vec![("t.fettle".into(), rules.into())]);
        (*lib.compile("t", "2024-25").program.expect("the rules compile")).clone()
    }

    /// `date ± duration` is lowered to its own node, the count signed by the operator: eval runs
    /// a `Shift` and never looks for a duration on the right of a `+` or `-`.
    #[test]
    fn a_date_moved_by_a_duration_is_a_shift() {
        let prog = compiled(
            "return t 2024-25\ntable T { xml \"R/T\" field D: date field E: date }\n\
             rule X1 error \"m\" on T {\n  forbid E < D - 45 working days\n}\n\
             rule X2 error \"m\" on T {\n  forbid E > D + 2 months\n}\n",
        );
        let mut found = vec![];
        for r in &prog.rules {
            for s in &r.steps {
                let (IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e)) = s;
                e.walk(&mut |x| match &x.kind {
                    IKind::Shift(d, by, unit) => found.push((r.code.clone(), matches!(d.kind, IKind::Field { .. }), *by, *unit)),
                    IKind::Duration(..) => found.push((r.code.clone(), false, 0, crate::syntax::ast::Unit::Days)),
                    _ => {}
                });
            }
        }
        use crate::syntax::ast::Unit;
        assert_eq!(found, [("X1".into(), true, -45, Unit::WorkingDays), ("X2".into(), true, 2, Unit::Months)]);
    }

    #[test]
    fn a_shared_id_is_counted_per_key_without_the_row_itself() {
        // 8510: exists(o in ChildIdentifiers where o.LAchildID == LAchildID and o != this)
        let ps = plans(&shipped("cin"), "8510");
        let [AggPlan::CountPerKey(join)] = ps.as_slice() else { panic!("one per-key count: {ps:?}") };
        assert_eq!(join.not_self, Some(VarId(0)));
        assert!(join.inner.is_empty() && join.outer.is_empty() && join.differs.is_none());
    }

    #[test]
    fn a_family_with_another_date_is_counted_and_its_earliest_other_date_taken_per_key() {
        // FGC: let other = min(o in Referrals where o.FamilyID == FamilyID and o.ReferralDate !=
        // ReferralDate, o.ReferralDate); forbid exists(the same join)
        let prog = shipped("fgc");
        let rule = prog.rules.iter().find(|r| r.file.ends_with("30-families.fettle")).unwrap();
        let ps = plans(&prog, &rule.code);
        let [AggPlan::ExtremePerKey(min, value), AggPlan::CountPerKey(exists)] = ps.as_slice() else { panic!("{ps:?}") };
        assert!(exists.differs.is_some() && exists.not_self.is_none(), "{exists:?}");
        let (inner, _) = min.differs.as_ref().expect("o.ReferralDate != ReferralDate");
        assert_eq!(inner, &**value, "the value is the one that differs");
        assert!(min.not_self.is_none());
    }

    #[test]
    fn joins_the_per_key_plans_cannot_compute_make_their_pairs() {
        let prog = compiled(
            "return t 2024-25\ntable T { xml \"R/T\" field K: text field A: int }\n\
             table S { xml \"R/T/S\" parent T field B: int }\n\
             rule X1 error \"m\" on T {\n  forbid exists(o in T where o.K == K and o.A > A)\n}\n\
             rule X2 error \"m\" on T {\n  forbid sum(o in T where o.K == K, o.A) > 3\n}\n\
             rule X3 error \"m\" on T {\n  forbid exists(o in T where o.A > A)\n}\n\
             rule X4 error \"m\" on T {\n  forbid min(o in T where o.K == K and o != this, o.A) < A\n}\n\
             rule X5 error \"m\" on T {\n  forbid exists(o in T where o.K == K and exists(o.S))\n}\n\
             rule X6 error \"m\" on T {\n  forbid exists(o in T where o.K == K and o.A > 0 and present(A))\n}\n",
        );
        for code in ["X1", "X2", "X3", "X4"] {
            assert_eq!(plans(&prog, code), [AggPlan::Pairs], "{code}");
        }
        // A conjunct whose own aggregate is anchored at the inner row reads the inner row: the pairs.
        assert!(matches!(plans(&prog, "X5").as_slice(), [AggPlan::Pairs, AggPlan::Pairs]), "X5");
        let ps = plans(&prog, "X6");
        let [AggPlan::CountPerKey(join)] = ps.as_slice() else { panic!("X6 is counted per key: {ps:?}") };
        assert_eq!((join.inner.len(), join.outer.len()), (1, 1), "o.A > 0 reads the inner row, present(A) the outer");
    }
}
