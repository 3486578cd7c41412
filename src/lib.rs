//! fettle: rules-as-code data-quality validation for children's social care statutory returns.
//!
//! Stages, each depending only on those above it: [`syntax`] (text to AST), [`check`] (AST to a
//! resolved, typed [`check::Program`]), [`table`] (the in-memory data model), [`input`] (files to
//! tables), [`eval`] (program and tables to findings), [`report`] (findings to output formats),
//! [`submission`] (a submission's return and year, read with the right rules), [`cli`] (arguments and
//! exit codes).

pub mod check;
pub mod cli;
pub mod diag;
pub mod eval;
pub mod examples;
pub mod generate;
pub mod input;
pub mod layout;
pub mod library;
pub mod lsp;
pub mod report;
pub mod schema;
pub mod serve;
pub mod span;
pub mod submission;
pub mod syntax;
pub mod table;
pub mod tools;
