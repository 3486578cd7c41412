//! The rule author's toolkit: the rule catalogue, year-to-year differences, coverage, explanations.

pub mod catalogue;
pub mod coverage;
pub mod diff;
pub mod explain;
