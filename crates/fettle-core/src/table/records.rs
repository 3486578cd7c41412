//! Example rows written in rule files, read into the table model like any other submission.

use super::builder::Builder;
use crate::schema::{FieldType, Schema, TableId};
use crate::syntax::ast::{Lit, Record, Value, ValueKind};
use crate::table::{Dataset, NONE, Raw};

/// Builds a dataset from example records (already checked against the schema).
pub fn read(schema: &Schema, records: &[&Record], display: &str) -> Dataset {
    let mut b = Builder::new(schema, display);
    for r in records {
        add(schema, &mut b, r, NONE);
    }
    b.finish()
}

fn add(schema: &Schema, b: &mut Builder, r: &Record, parent: u32) {
    let Some(t) = schema.table_id(&r.table.name) else { return };
    let row = b.add_row(t, parent, 0);
    for (name, v) in &r.values {
        let Some(f) = schema.table(t).field_id(&name.name) else { continue };
        b.mark_present(t, f);
        set_value(schema, b, t, row, f, v);
    }
    for c in &r.children {
        add(schema, b, c, row);
    }
}

fn set_value(schema: &Schema, b: &mut Builder, t: TableId, row: u32, f: crate::schema::FieldId, v: &Value) {
    match &v.kind {
        ValueKind::List(items) if matches!(schema.field(t, f).ty, FieldType::List(_)) => {
            for i in items {
                let text = value_text(i);
                b.push_item(t, row, f, &Raw::Text(&text), 0);
            }
        }
        _ => {
            let text = value_text(v);
            b.set(t, row, f, &Raw::Text(&text), 0);
        }
    }
}

fn value_text(v: &Value) -> String {
    match &v.kind {
        ValueKind::Lit(Lit::Str(s)) => s.clone(),
        ValueKind::Lit(Lit::Int(n)) => n.to_string(),
        ValueKind::Lit(Lit::Dec(x)) => x.to_string(),
        ValueKind::Lit(Lit::Date(d)) => d.format("%Y-%m-%d").to_string(),
        ValueKind::Lit(Lit::Bool(x)) => x.to_string(),
        ValueKind::Code(c) => c.clone(),
        ValueKind::List(items) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
    }
}
