//! `uses previous cin as last`: last year's submission of the same return, as tables `last.T`.
//!
//! Last year's tables have this year's shape (the rule set's own tables and data fields, not its
//! derived fields), so continuity rules compare like with like. Their rows are filled from the
//! `--previous` submission when it is attached (`submission::attach_previous`): fields by name, and a
//! field last year's files lack from the `map` declared for it. Their tables are marked
//! `foreign = ("previous", own table)`, so a rule reading them runs only when last year is attached.

use super::merge::Decls;
use super::program::{PreviousMap, PreviousSpec};
use crate::diag::{Diag, did_you_mean};
use crate::schema::{FieldType, Schema, TableId};
use std::collections::HashMap;

/// The `attached` name of last year's submission, and the first part of its tables' `foreign`.
pub const PREVIOUS: &str = "previous";

fn err(code: &'static str, span: crate::span::Span, msg: impl Into<String>) -> Diag {
    Diag::error(code, span, msg)
}

/// Adds last year's tables (`prefix.T` for every table declared so far) and checks the maps.
/// Runs after the own tables are declared and before derived fields are added to them.
pub(super) fn import(decls: &Decls, schema: &mut Schema, diags: &mut Vec<Diag>) -> Option<PreviousSpec> {
    let (u, _) = decls.previous.as_ref()?;
    let own = decls.ret.as_ref().map(|r| r.name.as_str()).unwrap_or_default();
    if u.ret.name != own {
        diags.push(
            err(
                "check::previous-return",
                u.ret.span,
                format!("`uses previous` reads last year's submission of this return, `{own}`, not `{}`", u.ret.name),
            )
            .label("another return")
            .help(format!("write `uses previous {own}`, or `uses {}` to read another return of the same run", u.ret.name)),
        );
        return None;
    }
    let prefix = u.prefix().to_string();
    let clash = schema.tables.iter().any(|t| t.name == prefix) || decls.uses.iter().any(|x| x.name == prefix);
    if clash || prefix == "this" {
        let span = u.alias.as_ref().map_or(u.span, |a| a.span);
        diags.push(
            err("check::previous-alias", span, format!("`{prefix}` already names a table or a return"))
                .label("name taken")
                .help("name last year's tables with another word: `uses previous cin as last`"),
        );
        return None;
    }
    let own_count = schema.tables.len();
    for i in 0..own_count {
        let Some(t) = schema.tables.get(i) else { continue };
        let mut t2 = t.clone();
        t2.name = format!("{prefix}.{}", t.name);
        t2.parent = t.parent.map(|p| TableId(p.0 + own_count as u32));
        t2.sheets = vec![];
        t2.xml = None;
        t2.foreign = Some((PREVIOUS.to_string(), TableId(i as u32)));
        t2.fields.retain(|f| !f.derived);
        for f in &mut t2.fields {
            f.required = false;
        }
        schema.tables.push(t2);
    }
    let mut maps = vec![];
    for m in &u.maps {
        let Some(tid) = schema.tables.iter().take(own_count).position(|t| t.name == m.table.name) else {
            let mut d =
                err("check::unknown-table", m.table.span, format!("there is no table `{}`", m.table.name)).label("unknown table");
            d.help = did_you_mean(&m.table.name, schema.tables.iter().take(own_count).map(|t| t.name.as_str()));
            diags.push(d);
            continue;
        };
        let tid = TableId(tid as u32);
        let tbl = schema.table(tid);
        let Some(fid) = tbl.field_id(&m.field.name).filter(|f| !schema.field(tid, *f).derived) else {
            let mut d =
                err("check::unknown-field", m.field.span, format!("table `{}` has no field `{}`", tbl.name, m.field.name))
                    .label("unknown field");
            d.help = did_you_mean(&m.field.name, tbl.fields.iter().filter(|f| !f.derived).map(|f| f.name.as_str()));
            diags.push(d);
            continue;
        };
        let list = match &schema.field(tid, fid).ty {
            FieldType::Code(c) => schema.code_lists.get(c.0 as usize),
            _ => None,
        };
        let mut pairs: HashMap<String, String> = HashMap::new();
        for (old, new, span) in &m.pairs {
            if let Some(l) = list
                && !l.contains(new)
            {
                let mut d =
                    err("check::unknown-code", *span, format!("`{new}` is not a code of `{}`", l.name)).label("not in the list");
                d.help = did_you_mean(new, l.codes.iter().map(|(c, _)| c.as_str()));
                diags.push(d);
            }
            if pairs.insert(old.clone(), new.clone()).is_some() {
                diags.push(
                    err("check::duplicate", *span, format!("last year's code `{old}` is mapped twice"))
                        .label("mapped again here"),
                );
            }
        }
        if maps.iter().any(|x: &PreviousMap| x.table == tid && x.field == fid) {
            diags.push(
                err("check::duplicate", m.span, format!("`{}.{}` is mapped twice", m.table.name, m.field.name))
                    .label("mapped again here"),
            );
            continue;
        }
        maps.push(PreviousMap { table: tid, field: fid, from: m.from.name.clone(), pairs });
    }
    Some(PreviousSpec { prefix, maps })
}
