//! Rule-file diagnostics: what is wrong, where, and how to fix it.
//!
//! Every stage returns its output together with a `Vec<Diag>`; nothing stops at the first problem.
//! Message style: lowercase, no trailing period, user text in backticks, no Rust type names. Each kind
//! has a stable code (`check::unknown-field`) that `fettle explain` can describe.

use crate::span::{Sources, Span};
use std::fmt;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The rules can still run.
    Warning,
    /// The rules cannot run.
    Error,
}

/// One problem in the rule files.
#[derive(Clone, Debug)]
pub struct Diag {
    /// Stable code, e.g. `check::unknown-field`.
    pub code: &'static str,
    /// Error or warning.
    pub level: Level,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// The label under the span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that matter (the first declaration of a duplicate, say).
    pub related: Vec<(Span, String)>,
}

impl Diag {
    /// An error at `span`.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Diag {
        Diag { code, level: Level::Error, message: message.into(), span, label: String::new(), help: None, related: vec![] }
    }
    /// A warning at `span`.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Diag {
        Diag { level: Level::Warning, ..Diag::error(code, span, message) }
    }
    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Diag {
        self.label = label.into();
        self
    }
    /// Sets the help text.
    pub fn help(mut self, help: impl Into<String>) -> Diag {
        self.help = Some(help.into());
        self
    }
    /// Adds a related place.
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Diag {
        self.related.push((span, label.into()));
        self
    }
}

/// A problem without a place yet; the caller attaches the span (`.at(span)`).
#[derive(Clone, Debug)]
pub struct Unplaced {
    /// Stable code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Unplaced {
    /// A new problem.
    pub fn new(code: &'static str, message: impl Into<String>) -> Unplaced {
        Unplaced { code, message: message.into(), help: None }
    }
    /// Attaches the place.
    pub fn at(self, span: Span) -> Diag {
        let mut d = Diag::error(self.code, span, self.message);
        d.help = self.help;
        d
    }
}

/// "did you mean" for `name` among `candidates`: the closest by edit distance, if close enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&lower, &c.to_lowercase());
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Renders diagnostics with miette at a fixed width, without colour when `plain`.
pub fn render(diags: &[Diag], sources: &Sources, plain: bool, width: usize) -> String {
    use miette::{GraphicalReportHandler, GraphicalTheme};
    let theme = if plain { GraphicalTheme::unicode_nocolor() } else { GraphicalTheme::unicode() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(width).with_links(false);
    let mut out = String::new();
    for d in diags {
        let r = Rendered { diag: d, sources };
        if handler.render_report(&mut out, &r).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
    }
    out
}

struct Rendered<'a> {
    diag: &'a Diag,
    sources: &'a Sources,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}
impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}
impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag.help.as_ref().map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.sources.get(self.diag.span.file).map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let file = self.diag.span.file;
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            (!self.diag.label.is_empty()).then(|| self.diag.label.clone()),
            self.diag.span.range(),
        )];
        for (span, label) in &self.diag.related {
            if span.file == file {
                labels.push(miette::LabeledSpan::new_with_span(Some(label.clone()), span.range()));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

impl miette::SourceCode for crate::span::Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}
