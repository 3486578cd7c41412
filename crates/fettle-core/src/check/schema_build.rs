//! Building the schema from declarations: code lists, tables (fields, parents, keys, parent cycles),
//! the XML layout, and the tables and code lists of other returns that `uses` imports.

use super::resolve::{Checker, err};
use super::{expand_codes, lower_type};
use crate::diag::did_you_mean;
use crate::schema::*;
use crate::span::Span;
use std::collections::HashMap;

impl Checker<'_> {
    pub fn code_lists(&mut self) {
        if let Some((y, n)) = &self.decls.booleans {
            self.schema.booleans =
                Booleans { yes: y.iter().map(|s| s.to_lowercase()).collect(), no: n.iter().map(|s| s.to_lowercase()).collect() };
        }
        for c in &self.decls.codes {
            let codes = expand_codes(c, &mut self.diags);
            let set = codes.iter().map(|(c, _)| c.clone()).collect();
            self.list_ids.insert(c.name.name.clone(), CodeListId(self.schema.code_lists.len() as u32));
            self.schema.code_lists.push(CodeList {
                name: c.name.name.clone(),
                label: c.label.clone(),
                codes,
                set,
                span: c.name.span,
            });
        }
    }

    /// Resolves the XML layout against the tables (after [`Checker::tables`]).
    pub fn layout(&mut self) {
        if let Some(root) = &self.decls.layout {
            let layout = super::layout::resolve(root, &self.schema, &mut self.diags);
            self.schema.layout = Some(layout);
        }
    }

    pub fn tables(&mut self) {
        let names: Vec<String> = self.schema.code_lists.iter().map(|c| c.name.clone()).collect();
        for t in &self.decls.tables {
            let mut fields = vec![];
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for f in &t.fields {
                if let Some(first) = seen.insert(f.name.name.as_str(), f.name.span) {
                    self.diags.push(
                        err("check::duplicate", f.name.span, format!("field `{}` is declared twice", f.name.name))
                            .label("declared again here")
                            .related(first, "first declared here"),
                    );
                    continue;
                }
                let ty = lower_type(&f.ty, &self.list_ids, &names, &mut self.diags);
                fields.push(FieldSchema {
                    name: f.name.name.clone(),
                    ty,
                    required: f.required,
                    label: f.label.clone(),
                    headers: f.headers.clone(),
                    xml: f.xml.clone(),
                    derived: false,
                    span: f.name.span,
                });
            }
            let mut sheets = vec![t.name.name.clone()];
            sheets.extend(t.sheets.iter().filter(|s| **s != t.name.name).cloned());
            self.schema.tables.push(TableSchema {
                name: t.name.name.clone(),
                label: t.label.clone(),
                singleton: t.singleton,
                parent: None,
                key: vec![],
                ordinal: t.ordinal,
                sheets,
                xml: t.xml.clone(),
                fields,
                span: t.name.span,
                foreign: None,
            });
        }
        // Parents and keys, now every table has an id.
        let table_names: Vec<String> = self.schema.tables.iter().map(|t| t.name.clone()).collect();
        for (i, t) in self.decls.tables.iter().enumerate() {
            if let Some(p) = &t.parent {
                match self.schema.table_id(&p.name) {
                    Some(pid) if pid.0 as usize == i => self.diags.push(err(
                        "check::parent-cycle",
                        p.span,
                        format!("table `{}` cannot be its own parent", p.name),
                    )),
                    Some(pid) => {
                        if let Some(ts) = self.schema.tables.get_mut(i) {
                            ts.parent = Some(pid);
                        }
                    }
                    None => {
                        let mut d =
                            err("check::unknown-table", p.span, format!("there is no table `{}`", p.name)).label("unknown table");
                        d.help = did_you_mean(&p.name, table_names.iter().map(String::as_str));
                        self.diags.push(d);
                    }
                }
            }
            let mut key = vec![];
            for k in &t.key {
                let fid = self.schema.tables.get(i).and_then(|ts| ts.field_id(&k.name));
                match fid {
                    Some(f) => key.push(f),
                    None => {
                        let mut d =
                            err("check::unknown-field", k.span, format!("table `{}` has no field `{}`", t.name.name, k.name))
                                .label("unknown field");
                        d.help = did_you_mean(&k.name, t.fields.iter().map(|f| f.name.name.as_str()));
                        self.diags.push(d);
                    }
                }
            }
            if let Some(ts) = self.schema.tables.get_mut(i) {
                ts.key = key;
            }
        }
        // Cycles through longer chains.
        for i in 0..self.schema.tables.len() {
            let id = TableId(i as u32);
            let mut cur = self.schema.table(id).parent;
            let mut steps = 0;
            while let Some(p) = cur {
                steps += 1;
                if p == id || steps > self.schema.tables.len() {
                    let span = self.decls.tables.get(i).and_then(|t| t.parent.as_ref()).map_or(Span::default(), |p| p.span);
                    self.diags.push(err("check::parent-cycle", span, "tables are each other's parents"));
                    if let Some(t) = self.schema.tables.get_mut(i) {
                        t.parent = None;
                    }
                    break;
                }
                cur = self.schema.table(p).parent;
            }
        }
    }

    /// Imports the tables and code lists of the returns named by `uses`, as `ret.Name`. Their rows
    /// come from another submission of the same run; they are never read from this return's files.
    pub fn foreign(&mut self, foreign: &[(String, Schema)]) {
        for u in &self.decls.uses {
            let Some((ret, schema)) = foreign.iter().find(|(r, _)| *r == u.name) else {
                self.diags.push(
                    err("check::unknown-return", u.span, format!("there are no rules for a return `{}`", u.name))
                        .label("unknown return")
                        .help(format!("returns: {}", foreign.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>().join(", "))),
                );
                continue;
            };
            let list_base = self.schema.code_lists.len() as u32;
            for cl in &schema.code_lists {
                let mut c = cl.clone();
                c.name = format!("{ret}.{}", cl.name);
                self.list_ids.insert(c.name.clone(), CodeListId(self.schema.code_lists.len() as u32));
                self.schema.code_lists.push(c);
            }
            let table_base = self.schema.tables.len() as u32;
            fn remap(t: &FieldType, base: u32) -> FieldType {
                match t {
                    FieldType::Code(c) => FieldType::Code(CodeListId(c.0 + base)),
                    FieldType::List(i) => FieldType::List(Box::new(remap(i, base))),
                    other => other.clone(),
                }
            }
            for (i, t) in schema.tables.iter().enumerate() {
                let mut t2 = t.clone();
                t2.name = format!("{ret}.{}", t.name);
                t2.parent = t.parent.map(|p| TableId(p.0 + table_base));
                t2.sheets = vec![];
                t2.xml = None;
                t2.foreign = Some((ret.clone(), TableId(i as u32)));
                for f in &mut t2.fields {
                    f.ty = remap(&f.ty, list_base);
                    f.required = false;
                }
                self.schema.tables.push(t2);
            }
        }
    }
}
