//! The HTML report: one self-contained page (inline CSS, a little inline JavaScript, inline SVG
//! charts; no scripts, fonts, images or anything else loaded from anywhere, which a
//! Content-Security-Policy `default-src 'none'` also enforces).
//!
//! It shows the files and counts, a summary by severity and by rule, two charts (findings by rule;
//! findings per field), the findings grouped by rule and by child in collapsible `<details>`, and a
//! filter box that hides the findings not matching the words typed (the findings indexed once, the
//! typing debounced: responsive on 10,000 findings, BENCHMARKS.md). Every string from the data or
//! the rules is escaped. The output is deterministic: no timestamps.

use super::MISSING;
use super::Run;
use super::xlsx::{RuleGroup, by_child, by_rule, related_text, rule_title, values_text};
use crate::eval::Finding;
use crate::eval::finding::Value;
use crate::syntax::ast::Severity;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Rule groups start open when the run has at most this many findings.
const OPEN_UP_TO: usize = 100;

/// Escapes text for HTML content and attribute values; drops control characters.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && !matches!(c, '\n' | '\t') => {}
            c => o.push(c),
        }
    }
    o
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1 error, 2 queries, 0 info`.
fn counts_text(errors: usize, queries: usize, info: usize) -> String {
    format!("{}, {}, {info} info", plural(errors, "error", "errors"), plural(queries, "query", "queries"))
}

fn sev_badge(s: Severity) -> String {
    format!("<span class=\"sev sev-{0}\">{0}</span>", s.as_str())
}

const CSS: &str = r#"
:root { --text: #0b0c0c; --muted: #505a5f; --line: #b1b4b6; --pale: #f3f2f1; --link: #1d4ed8;
  --error: #b10e1e; --query: #ffdd00; --query-bar: #b25e00; --info: #1d70b8; --focus: #ffdd00; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--text); background: #fff; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 16px; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; border-bottom: 4px solid var(--text); }
h1 { font-size: 2rem; margin: .5rem 0; }
h2 { font-size: 1.5rem; margin: 2rem 0 .75rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
a { color: var(--link); }
a:focus, summary:focus, input:focus, details:focus { outline: 3px solid var(--focus); outline-offset: 0;
  box-shadow: 0 0 0 6px var(--text); }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--focus); color: var(--text); padding: .5rem; z-index: 1; }
.files { margin: .25rem 0; }
.files li { font-family: ui-monospace, "Cascadia Mono", Menlo, Consolas, monospace; word-break: break-all; }
.counts { list-style: none; padding: 0; margin: .75rem 0 1rem; display: flex; flex-wrap: wrap; gap: .5rem; }
.counts li { border: 2px solid var(--text); padding: .25rem .75rem; font-weight: 600; }
.counts .n { font-size: 1.5rem; margin-right: .25rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--pale); }
table.narrow { width: auto; min-width: 16rem; }
td.code { white-space: nowrap; }
td.code code { word-break: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, "Cascadia Mono", Menlo, Consolas, monospace; font-size: .92em;
  background: var(--pale); padding: 0 .2em; word-break: break-word; }
.sev { display: inline-block; min-width: 3.6em; text-align: center; font-weight: 700; font-size: .85rem;
  padding: 0 .4em; border: 1px solid var(--text); }
.sev-error { background: var(--error); color: #fff; }
.sev-query { background: var(--query); color: var(--text); }
.sev-info { background: var(--info); color: #fff; }
.explained { font-size: .85rem; font-weight: 600; color: var(--muted); }
details.group { border: 1px solid var(--line); margin: .5rem 0; }
details.group > summary { cursor: pointer; padding: .5rem; background: var(--pale); }
details.group > summary .count { color: var(--muted); }
details.group > .body { padding: .25rem .75rem .5rem; }
.meta { margin: .25rem 0; color: var(--muted); }
.missing { font-style: italic; color: var(--muted); }
.related { margin: 0; padding-left: 1rem; }
.filter { border: 2px solid var(--text); padding: .75rem; margin: 1rem 0; background: #fff; }
.filter label { display: block; font-weight: 700; margin-bottom: .25rem; }
.filter input { font: inherit; width: 100%; max-width: 36rem; padding: .35rem; border: 2px solid var(--text); }
.filter p { margin: .35rem 0 0; }
figure { margin: 1rem 0; }
figcaption { font-weight: 700; margin-bottom: .25rem; }
svg { max-width: 100%; height: auto; }
svg text { font-family: ui-monospace, "Cascadia Mono", Menlo, Consolas, monospace; font-size: 12px; fill: var(--text); }
.bar-error { fill: var(--error); } .bar-query { fill: var(--query-bar); } .bar-info { fill: var(--info); }
.bar-field { fill: var(--info); }
.sw-error { background: var(--error); } .sw-query { background: var(--query-bar); } .sw-info { background: var(--info); }
.legend { list-style: none; padding: 0; display: flex; gap: 1rem; font-size: .9rem; }
.swatch { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: middle; border: 1px solid var(--text); }
footer { color: var(--muted); border-top: 1px solid var(--line); margin-top: 2rem; padding-top: .5rem; padding-bottom: 2rem; }
"#;

const JS: &str = r#"
(function () {
  var input = document.getElementById('filter');
  if (!input) { return; }
  var status = document.getElementById('filter-status');
  var none = document.getElementById('no-match');
  // The index, made once: each group as it was drawn, and each finding's text, its group and
  // whether it counts (the by-rule list holds every finding once).
  var groupEls = Array.prototype.slice.call(document.querySelectorAll('details.group'));
  var groups = groupEls.map(function (g) { return { el: g, open: g.open, hidden: g.hidden, any: false }; });
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.finding')).map(function (r) {
    var g = r.closest('details.group');
    return {
      el: r,
      q: r.getAttribute('data-q') || '',
      hidden: r.hidden,
      group: g ? groups[groupEls.indexOf(g)] : null,
      counted: r.closest('#by-rule') !== null
    };
  });
  var total = rows.filter(function (r) { return r.counted; }).length;
  var last = null;
  // Shows the findings that have every word typed; the page is written to only where it changes.
  function apply() {
    var q = input.value.trim().toLowerCase();
    if (q === last) { return; }
    last = q;
    var words = q.split(/\s+/).filter(function (w) { return w.length > 0; });
    var shown = 0;
    groups.forEach(function (g) { g.any = false; });
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var hide = false;
      for (var j = 0; j < words.length && !hide; j++) { hide = r.q.indexOf(words[j]) === -1; }
      if (hide !== r.hidden) { r.el.hidden = hide; r.hidden = hide; }
      if (!hide) {
        if (r.group) { r.group.any = true; }
        if (r.counted) { shown += 1; }
      }
    }
    groups.forEach(function (g) {
      if (g.hidden !== !g.any) { g.hidden = !g.any; g.el.hidden = g.hidden; }
      var open = words.length > 0 ? g.any : g.open;
      if (g.el.open !== open) { g.el.open = open; }
    });
    status.textContent = words.length > 0
      ? 'Showing ' + shown + ' of ' + total + ' findings.'
      : 'Showing all ' + total + ' findings.';
    none.hidden = shown !== 0;
    // What the page shows is filtered by: the words as typed, lower case.
    status.setAttribute('data-filter', q);
  }
  // Typing is debounced: the findings are filtered once the typing pauses.
  var timer = null;
  input.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 150);
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { clearTimeout(timer); input.value = ''; apply(); }
  });
  apply();
})();
"#;

/// Renders the run as one HTML page.
pub fn render(run: &Run) -> String {
    let s = run.summary();
    let mut o = String::new();
    let what = match run.files.as_slice() {
        [one] => one.clone(),
        files => plural(files.len(), "file", "files"),
    };
    let counts = counts_text(s.errors, s.queries, s.info);
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n",
    );
    let _ = writeln!(o, "<meta name=\"generator\" content=\"fettle {}\">", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(o, "<title>fettle report: {}: {}</title>", esc(&what), esc(&counts));
    let _ = writeln!(o, "<style>{CSS}</style>\n</head>\n<body>");
    o.push_str("<a class=\"skip\" href=\"#findings\">Skip to the findings</a>\n<header>\n");
    o.push_str("<h1>fettle validation report</h1>\n");
    let _ = writeln!(o, "<p>{} validated:</p>\n<ul class=\"files\">", plural(run.files.len(), "file", "files"));
    for f in &run.files {
        let _ = writeln!(o, "<li>{}</li>", esc(f));
    }
    if !run.previous.is_empty() {
        o.push_str("</ul>\n<p>Checked against last year's:</p>\n<ul class=\"files previous\">\n");
        for p in &run.previous {
            let _ = writeln!(o, "<li>{} against {} ({})</li>", esc(&p.file), esc(&p.previous), esc(&p.year));
        }
    }
    o.push_str("</ul>\n<ul class=\"counts\" aria-label=\"Findings by severity\">\n");
    for (sev, n, word) in [
        (Severity::Error, s.errors, if s.errors == 1 { "error" } else { "errors" }),
        (Severity::Query, s.queries, if s.queries == 1 { "query" } else { "queries" }),
        (Severity::Info, s.info, "info"),
    ] {
        let _ = writeln!(
            o,
            "<li class=\"count-{}\" id=\"count-{}\"><span class=\"n\">{n}</span> {word}</li>",
            sev.as_str(),
            sev.as_str()
        );
    }
    if s.explained > 0 {
        let _ = writeln!(o, "<li id=\"count-explained\"><span class=\"n\">{}</span> explained</li>", s.explained);
    }
    o.push_str("</ul>\n</header>\n<main>\n");
    o.push_str(
        "<nav aria-label=\"Contents\"><ul><li><a href=\"#summary\">Summary</a></li><li><a href=\"#charts\">Charts</a></li>\
         <li><a href=\"#by-rule\">Findings by rule</a></li><li><a href=\"#by-child\">Findings by child</a></li></ul></nav>\n",
    );

    let groups = by_rule(run);
    summary(&mut o, run, &groups);
    charts(&mut o, run, &groups);

    let multi = run.findings.iter().map(|f| f.file.as_str()).collect::<BTreeSet<_>>().len() > 1;
    o.push_str("<section id=\"findings\" aria-labelledby=\"h-findings\">\n<h2 id=\"h-findings\">Findings</h2>\n");
    if run.findings.is_empty() {
        o.push_str("<p>No findings: every rule passed.</p>\n");
    } else {
        o.push_str("<div class=\"filter\" role=\"search\">\n<label for=\"filter\">Filter findings</label>\n");
        o.push_str(
            "<p id=\"filter-hint\">Type a child's id, a rule code, a field, a value or any other words: only findings \
             containing all of them are shown.</p>\n",
        );
        o.push_str("<input id=\"filter\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" aria-describedby=\"filter-hint filter-status\">\n");
        let _ = writeln!(o, "<p id=\"filter-status\" role=\"status\">Showing all {} findings.</p>", run.findings.len());
        o.push_str("<p id=\"no-match\" hidden>No findings match the filter.</p>\n</div>\n");
    }
    by_rule_section(&mut o, run, &groups, multi);
    by_child_section(&mut o, run, multi);
    o.push_str("</section>\n</main>\n");
    let _ = writeln!(
        o,
        "<footer><p>Made by fettle {}. This page is self-contained: it loads nothing from the network.</p></footer>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(o, "<script>{JS}</script>\n</body>\n</html>");
    o
}

/// The HTML id of the `i`th group of findings by rule.
fn group_id(i: usize) -> String {
    format!("rule-{}", i + 1)
}

fn summary(o: &mut String, run: &Run, groups: &[RuleGroup]) {
    let s = run.summary();
    o.push_str("<section id=\"summary\" aria-labelledby=\"h-summary\">\n<h2 id=\"h-summary\">Summary</h2>\n");
    o.push_str("<h3 id=\"h-by-severity\">By severity</h3>\n<table class=\"narrow\" aria-labelledby=\"h-by-severity\">\n");
    o.push_str("<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\" class=\"num\">Findings</th></tr></thead>\n<tbody>\n");
    for (sev, n) in [(Severity::Error, s.errors), (Severity::Query, s.queries), (Severity::Info, s.info)] {
        let _ = writeln!(o, "<tr><td>{}</td><td class=\"num\">{n}</td></tr>", sev_badge(sev));
    }
    let _ =
        writeln!(o, "<tr id=\"summary-total\"><th scope=\"row\">total</th><td class=\"num\">{}</td></tr>", run.findings.len());
    if s.explained > 0 {
        let _ = writeln!(o, "<tr><td>explained queries (included above)</td><td class=\"num\">{}</td></tr>", s.explained);
    }
    o.push_str("</tbody>\n</table>\n");
    o.push_str("<h3 id=\"h-by-rule-summary\">By rule</h3>\n");
    if groups.is_empty() {
        o.push_str("<p>No rule has findings.</p>\n</section>\n");
        return;
    }
    o.push_str(
        "<table aria-labelledby=\"h-by-rule-summary\">\n<thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Severity</th>",
    );
    o.push_str("<th scope=\"col\" class=\"num\">Findings</th><th scope=\"col\">Message</th></tr></thead>\n<tbody>\n");
    for (i, g) in groups.iter().enumerate() {
        let id = group_id(i);
        let _ = writeln!(
            o,
            "<tr><td class=\"code\"><a href=\"#{id}\"><code>{}</code></a></td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            esc(g.code.as_str()),
            sev_badge(g.severity),
            g.findings.len(),
            esc(&rule_title(g))
        );
    }
    o.push_str("</tbody>\n</table>\n</section>\n");
}

/// The fields a finding names: its rule's fields, else the `Table.Field` names of its values.
fn fields_of(f: &Finding) -> BTreeSet<&str> {
    if !f.fields.is_empty() {
        return f.fields.iter().map(String::as_str).collect();
    }
    f.values.iter().map(|v| v.field.as_str()).filter(|n| n.contains('.')).collect()
}

/// A horizontal bar chart as inline SVG: a bar per `(label, count, class)`.
fn bar_chart(o: &mut String, id: &str, title: &str, desc: &str, bars: &[(String, usize, &str)]) {
    const ROW: usize = 24;
    const BAR_MAX: usize = 420;
    const CHAR_W: f64 = 7.3;
    const MAX_LABEL: usize = 34;
    let label = |s: &str| -> String {
        if s.chars().count() > MAX_LABEL {
            format!("{}…", s.chars().take(MAX_LABEL - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let longest = bars.iter().map(|(l, _, _)| label(l).chars().count()).max().unwrap_or(0);
    let left = (longest as f64 * CHAR_W).ceil() as usize + 12;
    let max = bars.iter().map(|(_, n, _)| *n).max().unwrap_or(1).max(1);
    let width = left + BAR_MAX + 60;
    let height = bars.len() * ROW + 8;
    let _ = writeln!(
        o,
        "<svg id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">"
    );
    let _ = writeln!(o, "<title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>", esc(title), esc(desc));
    for (i, (name, n, class)) in bars.iter().enumerate() {
        let y = 4 + i * ROW;
        let w = ((*n as f64 / max as f64) * BAR_MAX as f64).round().max(2.0) as usize;
        let _ = writeln!(
            o,
            "<g class=\"bar\"><title>{}: {n}</title><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect class=\"{class}\" x=\"{left}\" y=\"{}\" width=\"{w}\" height=\"{}\"></rect>\
             <text x=\"{}\" y=\"{}\">{n}</text></g>",
            esc(name),
            left - 8,
            y + 15,
            esc(&label(name)),
            y + 3,
            ROW - 6,
            left + w + 6,
            y + 15,
        );
    }
    o.push_str("</svg>\n");
}

fn charts(o: &mut String, run: &Run, groups: &[RuleGroup]) {
    o.push_str("<section id=\"charts\" aria-labelledby=\"h-charts\">\n<h2 id=\"h-charts\">Charts</h2>\n");
    if run.findings.is_empty() {
        o.push_str("<p>No findings to chart.</p>\n</section>\n");
        return;
    }
    let mut rules: Vec<(String, usize, &str)> = groups
        .iter()
        .map(|g| {
            let class = match g.severity {
                Severity::Error => "bar-error",
                Severity::Query => "bar-query",
                Severity::Info => "bar-info",
            };
            (g.code.to_string(), g.findings.len(), class)
        })
        .collect();
    rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    o.push_str("<figure>\n<figcaption id=\"cap-rules\">Findings by rule</figcaption>\n");
    bar_chart(
        o,
        "chart-rules",
        "Findings by rule",
        "Horizontal bars: the number of findings of each rule, most first; the colour is the rule's severity.",
        &rules,
    );
    o.push_str(
        "<ul class=\"legend\" aria-label=\"Colours\"><li><span class=\"swatch sw-error\"></span>error</li>\
         <li><span class=\"swatch sw-query\"></span>query</li><li><span class=\"swatch sw-info\"></span>info</li></ul>\n</figure>\n",
    );
    let mut per_field: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &run.findings {
        for name in fields_of(f) {
            *per_field.entry(name).or_insert(0) += 1;
        }
    }
    let mut fields: Vec<(String, usize, &str)> = per_field.iter().map(|(k, n)| ((*k).to_string(), *n, "bar-field")).collect();
    fields.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    o.push_str("<figure>\n<figcaption id=\"cap-fields\">Coverage by field: findings per field</figcaption>\n");
    if fields.is_empty() {
        o.push_str("<p>No finding names a field.</p>\n");
    } else {
        bar_chart(
            o,
            "chart-fields",
            "Coverage by field",
            "Horizontal bars: for each field named in findings, the number of findings about it, most first.",
            &fields,
        );
        o.push_str("<details><summary>Findings per field as a table</summary>\n<table>\n<thead><tr><th scope=\"col\">Field</th>");
        o.push_str("<th scope=\"col\" class=\"num\">Findings</th></tr></thead>\n<tbody>\n");
        for (name, n, _) in &fields {
            let _ = writeln!(o, "<tr><td><code>{}</code></td><td class=\"num\">{n}</td></tr>", esc(name));
        }
        o.push_str("</tbody>\n</table>\n</details>\n");
    }
    o.push_str("</figure>\n</section>\n");
}

/// The searchable text of a finding, lower-case.
fn search_text(f: &Finding) -> String {
    [
        f.code.as_str(),
        f.severity.as_str(),
        f.child.as_deref().unwrap_or(""),
        &f.file,
        f.table.as_deref().unwrap_or(""),
        &super::place_text(f),
        &f.message_with_also(),
        &f.fields.join(" "),
        &values_text(f),
        &related_text(f),
        f.explained.as_deref().map_or("", |_| "explained"),
        f.explained.as_deref().unwrap_or(""),
    ]
    .iter()
    .filter(|s| !s.is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase()
}

/// A value as code, or `(missing)`.
fn value_html(v: &Value) -> String {
    if v.is_missing() { format!("<span class=\"missing\">{MISSING}</span>") } else { format!("<code>{}</code>", esc(&v.text())) }
}

fn values_html(f: &Finding) -> String {
    f.values
        .iter()
        .map(|v| {
            let val = value_html(&v.value);
            let at = v
                .location
                .as_ref()
                .map(|l| format!(" <span class=\"meta\">at {}</span>", esc(&l.to_string())))
                .unwrap_or_default();
            format!("{} = {val}{at}", esc(&v.field))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn related_html(f: &Finding) -> String {
    if f.related.is_empty() {
        return String::new();
    }
    let items: Vec<String> = f
        .related
        .iter()
        .map(|r| {
            let place = r.location.as_ref().map(|l| format!(" at {}", esc(&l.to_string()))).unwrap_or_default();
            let file = r.file.as_ref().map(|f| format!(" in <code>{}</code>", esc(f))).unwrap_or_default();
            let vals: Vec<String> = r.values.iter().map(|v| format!("{} = {}", esc(&v.field), value_html(&v.value))).collect();
            let vals = if vals.is_empty() { String::new() } else { format!(": {}", vals.join(", ")) };
            format!("<li>{} row {}{place}{file}{vals}</li>", esc(&r.table), r.row + 1)
        })
        .collect();
    format!("<ul class=\"related\">{}</ul>", items.join(""))
}

fn explained_html(f: &Finding) -> String {
    f.explained.as_deref().map(|e| format!("<span class=\"explained\">explained:</span> {}", esc(e))).unwrap_or_default()
}

fn by_rule_section(o: &mut String, run: &Run, groups: &[RuleGroup], multi: bool) {
    o.push_str("<section id=\"by-rule\" aria-labelledby=\"h-by-rule\">\n<h3 id=\"h-by-rule\">Findings by rule</h3>\n");
    let open = if run.findings.len() <= OPEN_UP_TO { " open" } else { "" };
    for (i, g) in groups.iter().enumerate() {
        let (id, code, list) = (group_id(i), g.code.as_str(), &g.findings);
        // A code that two returns or years of the run both have: the group says whose rule it is.
        let whose = match g.rule {
            Some(r) if run.rules_with_code(&r.code).nth(1).is_some() => {
                format!(" <span class=\"meta\">({} {})</span>", esc(&r.ret), esc(&r.year))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "<details class=\"group rule\" id=\"{id}\" data-code=\"{}\"{open}>\n<summary>{} <code>{}</code>{whose} {} <span class=\"count\">({})</span></summary>\n<div class=\"body\">",
            esc(code),
            sev_badge(g.severity),
            esc(code),
            esc(&rule_title(g)),
            plural(list.len(), "finding", "findings"),
        );
        if let Some(r) = g.rule {
            let _ = writeln!(
                o,
                "<p class=\"meta\">Rule at <code>{}:{}</code>: <code>{}</code></p>",
                esc(&r.file),
                r.line,
                esc(&r.check)
            );
        }
        let fix = g.rule.and_then(|r| r.fix.clone()).or_else(|| list.iter().find_map(|f| f.fix.clone()));
        if let Some(fix) = fix {
            let _ = writeln!(o, "<p><strong>Fix:</strong> {}</p>", esc(&fix));
        }
        findings_table(o, list, multi, "<th scope=\"col\">Child</th>", |f| {
            let who = match (&f.child, &f.table) {
                (Some(c), _) => esc(c),
                (None, Some(t)) => format!("<span class=\"meta\">{}</span>", esc(t)),
                (None, None) => "<span class=\"meta\">whole return</span>".to_string(),
            };
            format!("<td>{who}</td>")
        });
        o.push_str("</tbody>\n</table>\n</div>\n</details>\n");
    }
    o.push_str("</section>\n");
}

fn by_child_section(o: &mut String, run: &Run, multi: bool) {
    o.push_str("<section id=\"by-child\" aria-labelledby=\"h-by-child\">\n<h3 id=\"h-by-child\">Findings by child</h3>\n");
    let children = by_child(run);
    let others: Vec<&Finding> = run.findings.iter().filter(|f| f.child.is_none()).collect();
    if children.is_empty() {
        o.push_str("<p>No finding is about one child.</p>\n");
    }
    let mut groups: Vec<(String, String, &Vec<&Finding>)> =
        children.iter().map(|(c, l)| (format!("child-{}", slug(c)), format!("<code>{}</code>", esc(c)), l)).collect();
    if !others.is_empty() {
        groups.push(("not-a-child".into(), "Not about one child (the return, a table or a group)".into(), &others));
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (id, title, list) in groups {
        let mut id = id;
        let mut n = 2;
        while !seen.insert(id.clone()) {
            id = format!("{id}-{n}");
            n += 1;
        }
        let count = |s: Severity| list.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(
            o,
            "<details class=\"group child\" id=\"{id}\">\n<summary>{title} <span class=\"count\">({}: {})</span></summary>\n<div class=\"body\">",
            plural(list.len(), "finding", "findings"),
            counts_text(count(Severity::Error), count(Severity::Query), count(Severity::Info)),
        );
        findings_table(o, list, multi, "<th scope=\"col\">Rule</th><th scope=\"col\">Severity</th>", |f| {
            format!("<td class=\"code\"><code>{}</code></td><td>{}</td>", esc(f.code.as_str()), sev_badge(f.severity))
        });
        o.push_str("</tbody>\n</table>\n</div>\n</details>\n");
    }
    o.push_str("</section>\n");
}

/// A table of findings: the file (when there are several), the columns `lead` names and
/// `lead_cells` fills, then location, message, values, related rows and explanation.
fn findings_table(o: &mut String, list: &[&Finding], multi: bool, lead: &str, lead_cells: impl Fn(&Finding) -> String) {
    o.push_str("<table class=\"findings\">\n<thead><tr>");
    if multi {
        o.push_str("<th scope=\"col\">File</th>");
    }
    o.push_str(lead);
    o.push_str("<th scope=\"col\">Location</th><th scope=\"col\">Message</th>");
    o.push_str("<th scope=\"col\">Values</th><th scope=\"col\">Related rows</th><th scope=\"col\">Explanation</th></tr></thead>\n<tbody>\n");
    for f in list {
        let _ = write!(o, "<tr class=\"finding\" data-q=\"{}\">", esc(&search_text(f)));
        if multi {
            let _ = write!(o, "<td>{}</td>", esc(&f.file));
        }
        let _ = writeln!(
            o,
            "{}<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            lead_cells(f),
            esc(&super::place_text(f)),
            esc(&f.message_with_also()),
            values_html(f),
            related_html(f),
            explained_html(f),
        );
    }
}

/// An id-safe form of a child id.
fn slug(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(esc("<a href=\"x\">O'Brien & co</a>\u{7}"), "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;");
    }

    #[test]
    fn empty_run_renders() {
        let html = render(&Run::default());
        assert!(html.contains("No findings: every rule passed."));
        assert!(!html.contains("<svg"));
    }
}
