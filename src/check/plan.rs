//! Planning: how `eval` computes each aggregate, decided once at check time.

use super::program::*;
use crate::syntax::ast::BinOp;
use std::collections::HashSet;

/// Variables an expression reads.
pub(super) fn vars_used(e: &IExpr, out: &mut HashSet<VarId>) {
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

/// `inner == outer` conjuncts of a filter, as join keys.
pub(super) fn collect_keys(f: &IExpr, var: VarId, keys: &mut Vec<(IExpr, IExpr)>) {
    match &f.kind {
        IKind::Binary(BinOp::And, a, b) => {
            collect_keys(a, var, keys);
            collect_keys(b, var, keys);
        }
        IKind::Binary(BinOp::Eq, a, b) => {
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
                keys.push(((**a).clone(), (**b).clone()));
            } else if only_inner(&vb, b) && !va.contains(&var) {
                keys.push(((**b).clone(), (**a).clone()));
            }
        }
        _ => {}
    }
}
