//! `--redact`: child ids and dates of birth replaced by stable pseudonyms in every report, for
//! sharing outside the council. The same id always gives the same pseudonym (FNV-1a of the id and
//! an optional salt, which the CLI reads from `FETTLE_REDACT_SALT`), so findings about one child
//! stay together.

use super::Run;
use crate::eval::Quote;
use crate::eval::finding::Value;

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

/// What a sensitive value becomes: a pseudonym for an id, `(redacted)` for a date of birth.
fn replacement(field: &str, value: &str, salt: &str) -> Option<String> {
    match sensitive(field) {
        Some(true) if !value.is_empty() => Some(pseudonym(value, salt)),
        Some(false) if !value.is_empty() => Some("(redacted)".into()),
        _ => None,
    }
}

/// What a sensitive value of a finding becomes: an id's pseudonym, text still (the raw text of an
/// id that did not fit its type stays `Unfit`); a date of birth [`Value::Redacted`], whatever it
/// was. A missing value stays missing.
fn redact_value(field: &str, value: &Value, salt: &str) -> Option<Value> {
    let text = value.text();
    match (sensitive(field)?, value) {
        (_, Value::Missing) => None,
        _ if text.is_empty() => None,
        (true, Value::Unfit(raw)) => Some(Value::Unfit(pseudonym(raw, salt))),
        (true, _) => Some(Value::Text(pseudonym(&text, salt))),
        (false, _) => Some(Value::Redacted),
    }
}

/// Replaces the sensitive values a message shows, by where they are ([`Quote`]s), never by
/// searching its text: an id `C1` cannot touch `C12`.
fn redact_message(message: &mut String, quotes: &mut Vec<Quote>, salt: &str) {
    quotes.sort();
    for q in quotes.iter().rev() {
        let Some(value) = message.get(q.start..q.end) else { continue };
        if let Some(new) = replacement(&q.field, value, salt) {
            message.replace_range(q.start..q.end, &new);
        }
    }
    // The ranges no longer hold: a message is redacted once.
    quotes.clear();
}

/// Redacts a run in place, pseudonyms made with `salt` (empty for none).
pub fn apply(run: &mut Run, salt: &str) {
    for f in &mut run.findings {
        if let Some(c) = &f.child {
            f.child = Some(pseudonym(c, salt));
        }
        let values = f.values.iter_mut().chain(f.related.iter_mut().flat_map(|r| r.values.iter_mut()));
        for v in values {
            if let Some(new) = redact_value(&v.field, &v.value, salt) {
                v.value = new;
            }
        }
        redact_message(&mut f.message, &mut f.quotes, salt);
        for m in &mut f.merged {
            redact_message(&mut m.message, &mut m.quotes, salt);
        }
    }
}
