//! What a long run tells a progress display: the reader (bytes read) and the evaluator (rules run,
//! and each rule's time when asked). A callback the caller passes in, never a global.

/// What a long run tells a progress display: a callback the caller passes in (never a global).
/// Every method does nothing unless implemented.
pub trait Progress: Sync {
    /// `n` more bytes of an input file were read: an XML document as it is parsed (a megabyte at a
    /// time), a workbook or a CSV file once it is read.
    fn read(&self, n: u64) {
        let _ = n;
    }
    /// One more submission has been read (however many files it has).
    fn submission_read(&self) {}
    /// One more rule of a submission has run (or was skipped, its tables absent).
    fn rule(&self) {}
    /// Whether the caller wants each rule's time ([`Progress::rule_took`]); asked once a run, so
    /// that a run nobody times reads no clock (wasm32-unknown-unknown has none: `Instant::now`
    /// panics there).
    fn times_rules(&self) -> bool {
        false
    }
    /// Rule `code` took `took` to run (only when [`Progress::times_rules`]).
    fn rule_took(&self, code: &str, took: std::time::Duration) {
        let _ = (code, took);
    }
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {}
