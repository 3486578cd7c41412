//! Checking rules' examples against the schema: each row in a table the rule set declares, under
//! its parent's row, giving only data fields, each value fitting its field's type.

use super::resolve::{Checker, err};
use crate::diag::Diag;
use crate::schema::*;
use crate::syntax::ast::{self, Lit};

impl Checker<'_> {
    pub(super) fn example(&mut self, ex: &ast::Example) {
        for r in &ex.records {
            self.record(r, None);
        }
    }

    pub(super) fn record(&mut self, r: &ast::Record, parent: Option<TableId>) {
        let Some(tid) = self.table_named(&r.table) else { return };
        let tp = self.schema.table(tid).parent;
        if tp != parent {
            let msg = match (tp, parent) {
                (Some(p), _) => format!("`{}` rows go inside a `{}` row", r.table.name, self.schema.table(p).name),
                (None, Some(p)) => format!("`{}` is not a table below `{}`", r.table.name, self.schema.table(p).name),
                (None, None) => String::new(),
            };
            self.diags.push(err("check::example-shape", r.table.span, msg).label("misplaced row"));
        }
        for (name, v) in &r.values {
            let Some(fid) = self.schema.table(tid).field_id(&name.name) else {
                self.diags.push(self.unknown_field(tid, name));
                continue;
            };
            let fs = self.schema.field(tid, fid);
            if fs.derived {
                self.diags.push(
                    err("check::example-type", name.span, format!("`{}` is derived; examples give only data fields", name.name))
                        .label("derived field"),
                );
                continue;
            }
            let ty = fs.ty.clone();
            self.example_value(v, &ty);
        }
        for c in &r.children {
            self.record(c, Some(tid));
        }
    }

    fn example_value(&mut self, v: &ast::Value, ty: &FieldType) {
        use ast::ValueKind as V;
        let ok = match (&v.kind, ty) {
            (V::Lit(Lit::Str(_)), _) => true, // raw text is read like a cell
            (V::List(items), FieldType::List(inner)) => {
                for i in items {
                    self.example_value(i, inner);
                }
                true
            }
            (V::Lit(Lit::Date(_)), FieldType::Date) => true,
            (V::Lit(Lit::Int(_)), FieldType::Int | FieldType::Decimal | FieldType::Text | FieldType::Code(_)) => true,
            (V::Lit(Lit::Dec(_)), FieldType::Decimal) => true,
            (V::Lit(Lit::Bool(_)), FieldType::Bool) => true,
            (V::Code(c), FieldType::Code(l)) => {
                let list = self.schema.code_list(*l);
                if !list.contains(c) {
                    self.diags.push(
                        Diag::warning("check::unknown-code", v.span, format!("`{c}` is not a code of `{}`", list.name))
                            .label("not in the list")
                            .help("quote it (`\"...\"`) to give an invalid value on purpose"),
                    );
                }
                true
            }
            (V::Code(_), FieldType::Text) => true,
            _ => false,
        };
        if !ok {
            self.diags.push(
                err("check::example-type", v.span, format!("this value does not fit a {} field", ty.describe(&self.schema)))
                    .label("wrong type")
                    .help("write the value as the field's type, or quote it to give raw text as a file would"),
            );
        }
    }
}
