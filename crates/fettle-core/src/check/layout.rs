//! The XML layout (`layout xml`) resolved against the tables: each element's facets, and the field
//! read from it (whose type gives the element's facets when the layout states none).

use crate::diag::{Diag, did_you_mean};
use crate::layout::{Elem, Layout, ValueRule};
use crate::schema::{FieldId, FieldType, Schema, TableId};
use crate::syntax::ast::{Element, Facet, TextKind};
use std::collections::HashMap;

/// The absolute element path of every table's rows and of every data field.
fn field_paths(schema: &Schema) -> HashMap<String, (TableId, FieldId)> {
    let mut table_paths: Vec<Option<String>> = vec![];
    for t in schema.table_ids() {
        let ts = schema.table(t);
        let own = ts.xml.clone();
        let abs = match (ts.parent, own) {
            (_, None) => None,
            (None, Some(p)) => Some(p),
            (Some(p), Some(x)) => table_paths.get(p.0 as usize).cloned().flatten().map(|a| format!("{a}/{x}")),
        };
        table_paths.push(abs);
    }
    let mut out = HashMap::new();
    for t in schema.table_ids() {
        let Some(Some(base)) = table_paths.get(t.0 as usize) else { continue };
        for (f, fs) in schema.table(t).data_fields() {
            let rel = fs.xml.clone().unwrap_or_else(|| fs.name.clone());
            let path = if rel == "." { base.clone() } else { format!("{base}/{rel}") };
            out.entry(path).or_insert((t, f));
        }
    }
    out
}

/// Resolves the declared layout. Errors: an unknown code list, a pattern that is not a valid
/// regular expression.
pub(super) fn resolve(root: &Element, schema: &Schema, diags: &mut Vec<Diag>) -> Layout {
    let fields = field_paths(schema);
    let mut layout = Layout::default();
    add(root, "", &fields, schema, &mut layout, diags);
    layout
}

fn add(
    el: &Element,
    above: &str,
    fields: &HashMap<String, (TableId, FieldId)>,
    schema: &Schema,
    layout: &mut Layout,
    diags: &mut Vec<Diag>,
) -> usize {
    let path = if above.is_empty() { el.name.name.clone() } else { format!("{above}/{}", el.name.name) };
    let field = fields.get(&path).copied();
    let value = value_rule(el, field, schema, diags);
    let at = layout.elements.len();
    layout.elements.push(Elem {
        name: el.name.name.clone(),
        min: el.min,
        max: el.max,
        children: None,
        value,
        field,
        path: path.clone(),
    });
    if let Some(children) = &el.children {
        let ids: Vec<usize> = children.iter().map(|c| add(c, &path, fields, schema, layout, diags)).collect();
        if let Some(e) = layout.elements.get_mut(at) {
            e.children = Some(ids);
        }
    }
    at
}

fn value_rule(el: &Element, field: Option<(TableId, FieldId)>, schema: &Schema, diags: &mut Vec<Diag>) -> ValueRule {
    let mut rule = ValueRule::default();
    if el.facets.is_empty()
        && el.children.is_none()
        && let Some((t, f)) = field
    {
        let ty = match &schema.field(t, f).ty {
            FieldType::List(inner) => (**inner).clone(),
            other => other.clone(),
        };
        match ty {
            FieldType::Date => rule.kind = TextKind::Date,
            FieldType::Int => rule.kind = TextKind::Integer,
            FieldType::Code(c) => {
                let list = schema.code_list(c);
                rule.enums = Some((list.codes.iter().map(|(c, _)| c.clone()).collect(), Some(list.name.clone())));
            }
            FieldType::Bool => {
                let b = &schema.booleans;
                rule.enums = Some((b.yes.iter().chain(&b.no).cloned().collect(), None));
            }
            FieldType::Text | FieldType::Decimal | FieldType::List(_) => {}
        }
    }
    for f in &el.facets {
        match f {
            Facet::Kind(k, _) => rule.kind = *k,
            Facet::Enum(vs, _) => rule.enums = Some((vs.clone(), None)),
            Facet::Codes(name) => match schema.code_lists.iter().find(|l| l.name == name.name) {
                Some(list) => rule.enums = Some((list.codes.iter().map(|(c, _)| c.clone()).collect(), Some(list.name.clone()))),
                None => {
                    let mut d = Diag::error("check::unknown-codes", name.span, format!("there is no code list `{}`", name.name))
                        .label("unknown code list");
                    d.help = did_you_mean(&name.name, schema.code_lists.iter().map(|l| l.name.as_str()));
                    diags.push(d);
                }
            },
            Facet::Pattern(ps, span) => {
                for p in ps {
                    match regex::Regex::new(&format!("^(?:{p})$")) {
                        Ok(re) => rule.patterns.push((p.clone(), re)),
                        Err(e) => diags.push(
                            Diag::error("check::pattern", *span, format!("the pattern `{p}` is not a regular expression"))
                                .label("invalid pattern")
                                .help(e.to_string().lines().last().unwrap_or("").trim().to_string()),
                        ),
                    }
                }
            }
            Facet::Length(a, b, _) => rule.length = Some((*a, *b)),
        }
    }
    rule
}
