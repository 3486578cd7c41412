//! One finding per line, for spreadsheets and scripts. A row of last year's return (`--previous`) has
//! its file in `location` (`last year at ... in `last.xml``), and a related row of it in `values`.

use super::Run;

/// Renders findings as CSV with a header line.
pub fn render(run: &Run) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record([
        "file",
        "code",
        "severity",
        "child",
        "table",
        "row",
        "location",
        "fields",
        "values",
        "message",
        "explained",
        "rule",
    ]);
    for f in &run.findings {
        let values: Vec<String> = f.values.iter().map(|v| format!("{}={}", v.field, v.value)).collect();
        let related: Vec<String> = f
            .related
            .iter()
            .map(|r| match &r.file {
                Some(file) => format!("{} row {} in `{file}`", r.table, r.row + 1),
                None => format!("{} row {}", r.table, r.row + 1),
            })
            .collect();
        let mut vals = values.join("; ");
        if !related.is_empty() {
            vals.push_str(&format!(" (with {})", related.join(", ")));
        }
        let _ = w.write_record([
            f.file.as_str(),
            f.code.as_str(),
            f.severity.as_str(),
            f.child.as_deref().unwrap_or(""),
            f.table.as_deref().unwrap_or(""),
            &f.row.map(|r| (r + 1).to_string()).unwrap_or_default(),
            &super::place_text(f),
            &f.fields.join("; "),
            &vals,
            &f.message_with_also(),
            f.explained.as_deref().unwrap_or(""),
            &f.rule.as_ref().map(|r| format!("{}:{}", r.file, r.line)).unwrap_or_default(),
        ]);
    }
    w.into_inner().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}
