//! Long values shortened in every report. A cell can hold megabytes (a pasted document, a formula
//! filled with text); quoted in full in a message, its values and its related rows, one such cell
//! made a report hundreds of megabytes long, and an xlsx report impossible (a cell holds at most
//! 32,767 characters). Every text of a finding that comes from the data is cut to a bound here, once,
//! for all formats, and says so: `… (50,000,000 characters, shortened)`.

use super::Run;
use crate::eval::finding::Value;

/// The most characters of a value shown in a report.
pub const MAX_VALUE: usize = 1_000;

/// The most characters of a message (which may quote values) shown in a report.
pub const MAX_MESSAGE: usize = 2_000;

/// Shortens every long text of every finding of a run, in place.
pub fn apply(run: &mut Run) {
    for f in &mut run.findings {
        if let Some(cut) = shorten(&mut f.message, MAX_MESSAGE) {
            // The values the message shows keep their places in what is left of it.
            f.quotes.retain_mut(|q| {
                q.end = q.end.min(cut);
                q.start < q.end
            });
        }
        if let Some(e) = &mut f.explained {
            shorten(e, MAX_MESSAGE);
        }
        if let Some(c) = &mut f.child {
            shorten(c, MAX_VALUE);
        }
        for v in f.values.iter_mut().chain(f.related.iter_mut().flat_map(|r| r.values.iter_mut())) {
            shorten_value(&mut v.value, MAX_VALUE);
        }
    }
}

/// Shortens a value of a finding: its text, if it is text or a cell's raw text, or a list to its
/// first item and the items after it shown whole in its first `max` characters (each item
/// shortened first), and a last item that says how long the list was. Its type stays.
pub fn shorten_value(v: &mut Value, max: usize) {
    match v {
        Value::Text(s) | Value::Unfit(s) => {
            shorten(s, max);
        }
        Value::List(items) => {
            let total = items.iter().map(|i| i.text().chars().count()).sum::<usize>() + 2 * items.len().saturating_sub(1);
            if total <= max {
                return;
            }
            let (mut used, mut keep) = (0, 0);
            for (i, item) in items.iter_mut().enumerate() {
                shorten_value(item, max);
                let n = item.text().chars().count() + if i > 0 { 2 } else { 0 };
                if i > 0 && used + n > max {
                    break;
                }
                used += n;
                keep = i + 1;
            }
            items.truncate(keep);
            items.push(Value::Text(format!("… ({} characters, shortened)", thousands(total))));
        }
        Value::Missing | Value::Int(_) | Value::Decimal(_) | Value::Date(_) | Value::Bool(_) | Value::Redacted => {}
    }
}

/// Cuts `s` to its first `max` characters and says how long it was, if it is longer; the byte
/// where it was cut.
pub fn shorten(s: &mut String, max: usize) -> Option<usize> {
    let (cut, _) = s.char_indices().nth(max)?;
    let total = s.chars().count();
    s.truncate(cut);
    s.push_str(&format!("… ({} characters, shortened)", thousands(total)));
    Some(cut)
}

/// `50000000` as `50,000,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn long_text_is_cut_and_says_how_long_it_was() {
        let mut s = "é".repeat(1_234_567);
        shorten(&mut s, 3);
        assert_eq!(s, "ééé… (1,234,567 characters, shortened)");
        let mut s = "abc".to_string();
        shorten(&mut s, 3);
        assert_eq!(s, "abc");
        let mut s = "abcd".to_string();
        shorten(&mut s, 3);
        assert_eq!(s, "abc… (4 characters, shortened)");
    }
}
