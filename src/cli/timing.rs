//! `FETTLE_TIMING`: each rule's time, asked of `eval` through the progress callbacks (eval reads no
//! environment and prints nothing), and the slowest rules of a run said on stderr by `validate`.

use crate::input::Progress;
use std::sync::Mutex;
use std::time::Duration;

/// Passes progress on to `inner` and, when `on`, keeps every rule's time.
pub(super) struct Timed<'a> {
    inner: &'a dyn Progress,
    times: Option<Mutex<Vec<(Duration, String)>>>,
}

impl<'a> Timed<'a> {
    /// Progress for one run of rules, timed when `on`.
    pub(super) fn new(inner: &'a dyn Progress, on: bool) -> Timed<'a> {
        Timed { inner, times: on.then(|| Mutex::new(vec![])) }
    }

    /// The `n` slowest rules, slowest first (`CODE 12.3ms, ...`); `None` when not timed.
    pub(super) fn slowest(&self, n: usize) -> Option<String> {
        let times = self.times.as_ref()?;
        let mut slow = times.lock().map(|t| t.clone()).unwrap_or_else(|e| e.into_inner().clone());
        slow.sort_by_key(|x| std::cmp::Reverse(x.0));
        Some(slow.iter().take(n).map(|(d, c)| format!("{c} {d:?}")).collect::<Vec<_>>().join(", "))
    }
}

impl Progress for Timed<'_> {
    fn read(&self, n: u64) {
        self.inner.read(n);
    }
    fn rule(&self) {
        self.inner.rule();
    }
    fn times_rules(&self) -> bool {
        self.times.is_some()
    }
    fn rule_took(&self, code: &str, took: Duration) {
        if let Some(times) = &self.times {
            let mut t = times.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            t.push((took, code.to_string()));
        }
    }
}
