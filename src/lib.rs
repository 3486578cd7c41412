//! fettle: rules-as-code data-quality validation for children's social care statutory returns.
//!
//! This package is the `fettle` command: [`cli`] (arguments, exit codes, the commands that validate,
//! check, test, format and generate), [`tools`] (the rule author's toolkit), [`lsp`] (the language
//! server) and [`serve`] (the browser page on localhost). The work is done by two crates below it,
//! re-exported here by their module names: fettle-core (the rule language, checker, data model and
//! evaluator, without IO) and fettle-io (readers, reporters, submissions, generators).
//! ARCHITECTURE.md draws the layering.

pub use fettle_core::{check, codes, diag, eval, examples, layout, library, progress, schema, span, syntax, table};
pub use fettle_io::{generate, input, pipeline, report, rules, submission};

pub mod cli;
pub mod lsp;
pub mod serve;
mod term;
pub mod tools;
