//! The HTML report. (Being written.)
use super::Run;
/// Renders the run as one HTML page.
pub fn render(_run: &Run) -> String {
    String::new()
}
