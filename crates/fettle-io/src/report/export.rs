//! A submission's tables as sheets: a sheet (xlsx) or CSV file per table, with the key columns that
//! link each row to its parent (`LAchildID`, `CINdetailsID`, ...) before the table's own fields. This
//! is the spreadsheet layout `input` reads, so an exported census validates like the XML it came from.

use crate::schema::{FieldId, Schema, TableId};
use crate::table::{Dataset, NONE, Scalar};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One exported sheet: name, headers, rows of text.
pub struct Sheet {
    /// The sheet (or CSV file stem).
    pub name: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Cell texts.
    pub rows: Vec<Vec<String>>,
}

/// The key fields that identify a row of `t` across the whole return: its ancestors' keys, root first.
fn parent_keys(schema: &Schema, t: TableId) -> Vec<(TableId, FieldId)> {
    let mut chain: Vec<TableId> = schema.ancestors(t);
    chain.reverse();
    chain.iter().flat_map(|a| schema.table(*a).key.iter().map(move |k| (*a, *k))).collect()
}

fn text(v: &Scalar) -> String {
    match v {
        Scalar::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        other => other.display(),
    }
}

/// Lays out every table with rows as sheets.
pub fn sheets(schema: &Schema, data: &Dataset) -> Vec<Sheet> {
    let mut out = vec![];
    for t in schema.table_ids() {
        let ts = schema.table(t);
        if ts.foreign.is_some() {
            continue;
        }
        let Some(tbl) = data.table(t) else { continue };
        let keys = parent_keys(schema, t);
        let own: Vec<FieldId> = ts.data_fields().map(|(f, _)| f).collect();
        let mut headers: Vec<String> = keys.iter().map(|(a, f)| schema.field(*a, *f).name.clone()).collect();
        headers.extend(own.iter().map(|f| schema.field(t, *f).name.clone()));
        let mut rows = vec![];
        for r in 0..tbl.len as u32 {
            let mut row = vec![];
            for (a, f) in &keys {
                // The ancestor row of `r` in table `a`.
                let mut cur = (t, r);
                while cur.0 != *a {
                    let p = schema.table(cur.0).parent;
                    let pr = data.table(cur.0).and_then(|x| x.parent.get(cur.1 as usize)).copied().unwrap_or(NONE);
                    match p {
                        Some(p) if pr != NONE => cur = (p, pr),
                        _ => break,
                    }
                }
                let v =
                    if cur.0 == *a { data.table(*a).and_then(|x| x.col(*f)).and_then(|c| c.get(cur.1)).map(text) } else { None };
                row.push(v.unwrap_or_default());
            }
            for f in &own {
                let c = tbl.col(*f);
                let v = c.map(|c| match c.get(r) {
                    Some(Scalar::Null) | None => c.raw(r).map(|x| x.to_string()).unwrap_or_default(),
                    Some(v) => text(v),
                });
                row.push(v.unwrap_or_default());
            }
            rows.push(row);
        }
        out.push(Sheet { name: ts.sheets.first().cloned().unwrap_or_else(|| ts.name.clone()), headers, rows });
    }
    out
}

/// The sheets as an xlsx workbook.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(&s.name)?;
        for (c, h) in s.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in s.rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    ws.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
        }
    }
    wb.save_to_buffer()
}

/// The sheets as CSV files: `(file name, text)`.
pub fn csv(sheets: &[Sheet]) -> Vec<(String, String)> {
    sheets
        .iter()
        .map(|s| {
            let mut w = csv::Writer::from_writer(vec![]);
            let _ = w.write_record(&s.headers);
            for r in &s.rows {
                let _ = w.write_record(r);
            }
            (format!("{}.csv", s.name), w.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default())
        })
        .collect()
}
