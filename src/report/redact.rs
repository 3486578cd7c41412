//! `--redact`: child ids and dates of birth replaced by stable pseudonyms in every report, for
//! sharing outside the council. The same id always gives the same pseudonym (FNV-1a of the id and
//! an optional salt, which the CLI reads from `FETTLE_REDACT_SALT`), so findings about one child
//! stay together.

use super::Run;

/// A stable pseudonym for a child id, with `salt` mixed in (empty for none).
pub fn pseudonym(id: &str, salt: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in salt.bytes().chain([0u8]).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("child-{:08x}", h >> 32)
}

fn sensitive(field: &str) -> Option<bool> {
    let f = field.rsplit('.').next().unwrap_or(field);
    if f == "LAchildID" || f == "UPN" || f == "FormerUPN" {
        Some(true)
    } else if f.contains("BirthDate") {
        Some(false)
    } else {
        None
    }
}

/// Redacts a run in place, pseudonyms made with `salt` (empty for none).
pub fn apply(run: &mut Run, salt: &str) {
    let ids: Vec<String> = run.findings.iter().filter_map(|f| f.child.clone()).collect();
    for f in &mut run.findings {
        if let Some(c) = &f.child {
            f.child = Some(pseudonym(c, salt));
        }
        let values = f.values.iter_mut().chain(f.related.iter_mut().flat_map(|r| r.values.iter_mut()));
        let mut replaced: Vec<(String, String)> = vec![];
        for v in values {
            let new = match sensitive(&v.field) {
                Some(true) if !v.value.is_empty() => pseudonym(&v.value, salt),
                Some(false) if !v.value.is_empty() => "(redacted)".into(),
                _ => continue,
            };
            replaced.push((std::mem::replace(&mut v.value, new.clone()), new));
        }
        // The same values quoted in the message and in the reading problems folded into it.
        for m in std::iter::once(&mut f.message).chain(f.merged.iter_mut().map(|m| &mut m.message)) {
            for (old, new) in &replaced {
                if m.contains(old.as_str()) {
                    *m = m.replace(old.as_str(), new);
                }
            }
            for id in &ids {
                if m.contains(id.as_str()) {
                    *m = m.replace(id.as_str(), &pseudonym(id, salt));
                }
            }
        }
    }
}
