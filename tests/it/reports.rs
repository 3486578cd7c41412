//! Every report format on one shared fixture of findings.
