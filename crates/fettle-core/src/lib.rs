//! fettle's core: rules-as-code data-quality validation without IO.
//!
//! Stages, each depending only on those above it: [`syntax`] (text to AST), [`check`] (AST to a
//! resolved, typed [`check::Program`]; never imports [`eval`]), [`table`] (the in-memory data model,
//! the row builder every reader uses, and rules' example rows), [`eval`] (program and tables to
//! findings). [`library`] holds the shipped rules and compiles rule sets; [`examples`] runs rules'
//! examples. No file or network IO, no command line, no environment variables: this crate builds for
//! wasm32-unknown-unknown. Readers and reporters are fettle-io's.

pub mod check;
pub mod codes;
pub mod diag;
pub mod eval;
pub mod examples;
/// The declared XML layout of a return, part of its schema ([`schema::layout`]).
pub use schema::layout;
pub mod library;
pub mod progress;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod table;
