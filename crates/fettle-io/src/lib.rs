//! fettle's readers and writers, on fettle-core: [`input`] (files to tables: xlsx, CSV, XML),
//! [`report`] (findings to every output format, the annotated workbook, templates, export),
//! [`submission`] (a submission's return and year, read with the right rules, and the tables of the
//! returns it `uses`), [`rules`] (rule folders read from disk) and [`generate`] (synthetic
//! submissions, for `fettle generate`, benchmarks and tests). No command line: that is the `fettle`
//! package's.

// The core's modules, by their names, for the code here (`crate::schema::Schema`).
use fettle_core::{check, codes, eval, layout, library, schema, syntax, table};

pub mod generate;
pub mod input;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod submission;

#[cfg(test)]
mod join_tests;
