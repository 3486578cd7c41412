//! The annotated copy of a workbook. (Being written.)
use crate::eval::Finding;
/// A copy of the workbook at `src` with the findings' cells highlighted.
pub fn annotate(_src: &std::path::Path, _findings: &[&Finding]) -> Result<Vec<u8>, String> {
    Err("not written yet".into())
}
