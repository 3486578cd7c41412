//! The blank template of a return as an xlsx workbook: a sheet per table with its headers, drop-down
//! lists for coded and yes/no columns, date formats, and a `Notes` sheet explaining every column.
//! Code lists sit on a hidden `Lists` sheet that the drop-downs refer to; the workbook opens on the
//! first table of many rows, and the Notes sheet has its title above its header row.

use crate::check::program::Program;
use crate::schema::{FieldType, Schema};
use rust_xlsxwriter::{DataValidation, Format, FormatBorder, Formula, Workbook, XlsxError};

/// Rows given drop-downs and formats below the header.
const ROWS: u32 = 2000;

fn col_name(c: u16) -> String {
    crate::table::col_letters(u32::from(c))
}

fn describe(t: &FieldType, schema: &Schema) -> String {
    match t {
        FieldType::Bool => "Y or N".into(),
        FieldType::Date => "date (YYYY-MM-DD)".into(),
        FieldType::Int => "whole number".into(),
        FieldType::Decimal => "number".into(),
        FieldType::Text => "text".into(),
        FieldType::Code(c) => format!("a code from the list {}", schema.code_list(*c).name),
        FieldType::List(inner) => format!("{}; several separated by commas", describe(inner, schema)),
    }
}

/// Writes the template of `program`'s return to an xlsx file in memory.
pub fn workbook(program: &Program) -> Result<Vec<u8>, XlsxError> {
    let schema = &program.schema;
    let mut wb = Workbook::new();
    let head = Format::new().set_bold().set_background_color("#DDEBF7").set_border_bottom(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");
    // Lists first, so drop-downs can refer to them.
    let mut list_cols: Vec<(u16, usize)> = vec![];
    {
        let lists = wb.add_worksheet();
        lists.set_name("Lists")?;
        for (i, cl) in schema.code_lists.iter().enumerate() {
            let c = i as u16;
            lists.write_string_with_format(0, c, &cl.name, &head)?;
            for (r, (code, _)) in cl.codes.iter().enumerate() {
                lists.write_string(r as u32 + 1, c, code)?;
            }
            list_cols.push((c, cl.codes.len()));
        }
        let yn = schema.code_lists.len() as u16;
        lists.write_string_with_format(0, yn, "YesNo", &head)?;
        lists.write_string(1, yn, "Y")?;
        lists.write_string(2, yn, "N")?;
        lists.set_hidden(true);
    }
    let yes_no_col = schema.code_lists.len() as u16;
    // The workbook opens on the main data sheet: the first table of many rows (else the first).
    let own: Vec<_> = schema.tables.iter().filter(|t| t.foreign.is_none()).collect();
    let main = own.iter().position(|t| !t.singleton).unwrap_or(0);
    for (i, t) in own.iter().enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(t.sheets.first().unwrap_or(&t.name))?;
        if i == main {
            ws.set_active(true);
        }
        ws.set_freeze_panes(1, 0)?;
        let last_row = if t.singleton { 1 } else { ROWS };
        for (c, (_, f)) in t.data_fields().enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, &f.name, &head)?;
            ws.set_column_width(c, (f.name.len() as f64 + 4.0).max(12.0))?;
            let mut dv = None;
            match &f.ty {
                FieldType::Date => {
                    ws.set_column_format(c, &date)?;
                }
                FieldType::Code(id) => {
                    ws.set_column_format(c, &text)?;
                    let (lc, n) = list_cols.get(id.0 as usize).copied().unwrap_or((0, 0));
                    let range = format!("=Lists!${}$2:${}${}", col_name(lc), col_name(lc), n + 1);
                    dv = Some(DataValidation::new().allow_list_formula(Formula::new(range)));
                }
                FieldType::Bool => {
                    let range = format!("=Lists!${}$2:${}$3", col_name(yes_no_col), col_name(yes_no_col));
                    dv = Some(DataValidation::new().allow_list_formula(Formula::new(range)));
                }
                FieldType::Text | FieldType::List(_) => {
                    ws.set_column_format(c, &text)?;
                }
                _ => {}
            }
            if let Some(mut v) = dv {
                let label = f.label.clone().unwrap_or_else(|| f.name.clone());
                let msg: String = label.chars().take(250).collect();
                v = v.set_input_message(msg)?;
                ws.add_data_validation(1, c, last_row, c, &v)?;
            }
        }
    }
    let notes = wb.add_worksheet();
    notes.set_name("Notes")?;
    let wrap = Format::new().set_text_wrap();
    // The title above the header row, then the columns explained.
    notes.write_string_with_format(
        0,
        0,
        format!("{} ({} {})", program.title, program.ret, program.year),
        &Format::new().set_bold(),
    )?;
    for (c, (h, w)) in
        [("Sheet", 18.0), ("Column", 26.0), ("Type", 30.0), ("Required", 10.0), ("Description", 70.0), ("Codes", 70.0)]
            .iter()
            .enumerate()
    {
        notes.write_string_with_format(2, c as u16, *h, &head)?;
        notes.set_column_width(c as u16, *w)?;
    }
    let mut r = 3u32;
    for t in schema.tables.iter().filter(|t| t.foreign.is_none()) {
        for (_, f) in t.data_fields() {
            notes.write_string(r, 0, t.sheets.first().unwrap_or(&t.name))?;
            notes.write_string(r, 1, &f.name)?;
            notes.write_string(r, 2, describe(&f.ty, schema))?;
            notes.write_string(r, 3, if f.required { "yes" } else { "" })?;
            notes.write_string_with_format(r, 4, f.label.clone().unwrap_or_default(), &wrap)?;
            let codes = match &f.ty {
                FieldType::Code(c) => Some(*c),
                FieldType::List(inner) => match **inner {
                    FieldType::Code(c) => Some(c),
                    _ => None,
                },
                _ => None,
            };
            if let Some(c) = codes {
                let list = schema.code_list(c);
                let text: Vec<String> = list
                    .codes
                    .iter()
                    .map(|(code, label)| label.as_ref().map_or(code.clone(), |l| format!("{code} {l}")))
                    .collect();
                notes.write_string_with_format(r, 5, text.join("; "), &wrap)?;
            }
            r += 1;
        }
    }
    wb.save_to_buffer()
}
