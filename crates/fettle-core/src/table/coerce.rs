//! Typing raw cells: text to dates, numbers, yes/no and lists, as councils actually write them.
//!
//! Accepted: dates as `YYYY-MM-DD` (with stray spaces, or a time of day after it: `T14:30`,
//! ` 00:00:00.000`, `T09:30:00Z`, `T00:00:00+01:00`), `DD/MM/YYYY`, `D/M/YYYY`,
//! `DD-MM-YYYY`, `DD.MM.YYYY`, `YYYY/MM/DD`, and Excel serial numbers; yes/no as `true`, `false`, `1`,
//! `0`, `yes`, `no`, `y`, `n` in any case; numbers with surrounding spaces and with commas as thousands
//! separators (`1,234`; a comma anywhere else, as in `3,0`, is not a number); lists separated by `,`
//! or `;`. A value that does not fit becomes missing, and its raw text is kept for the finding.
//!
//! Nothing is repaired without a word: every value read otherwise than exactly as written (spaces
//! trimmed, a date in another form, an Excel serial, thousands separators, a time dropped) comes
//! back with its [`Repairs`], which the builder reports as findings (`input::repaired-*`): an info,
//! or a query for a time of day other than midnight ([`Repair::severity`]).

use crate::codes::Input;
use crate::schema::{Booleans, FieldType};
use crate::table::{Raw, Scalar};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use std::sync::Arc;

/// Why a raw value did not fit its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misfit {
    /// Not a date.
    Date,
    /// Not a whole number.
    Int,
    /// Not a number.
    Decimal,
    /// Not yes/no.
    Bool,
    /// A spreadsheet error value.
    CellError,
}

impl Misfit {
    /// The issue code.
    pub fn code(self) -> Input {
        match self {
            Misfit::Date => Input::InvalidDate,
            Misfit::Int | Misfit::Decimal => Input::InvalidNumber,
            Misfit::Bool => Input::InvalidBool,
            Misfit::CellError => Input::CellError,
        }
    }
    /// What was expected, for messages.
    pub fn expected(self) -> &'static str {
        match self {
            Misfit::Date => "a date (YYYY-MM-DD or DD/MM/YYYY)",
            Misfit::Int => "a whole number",
            Misfit::Decimal => "a number",
            Misfit::Bool => "yes/no (true, false, 1, 0, Y, N)",
            Misfit::CellError => "a value, not a spreadsheet error",
        }
    }
}

pub use crate::codes::Repair;

/// The repairs made while reading one cell (none for almost every cell).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repairs(u8);

impl Repairs {
    /// No repair.
    pub const NONE: Repairs = Repairs(0);

    /// These repairs and `r`.
    #[must_use]
    pub fn with(self, r: Repair) -> Repairs {
        Repairs(self.0 | r.bit())
    }

    /// These repairs and `other`'s.
    #[must_use]
    pub fn and(self, other: Repairs) -> Repairs {
        Repairs(self.0 | other.0)
    }

    /// Whether no repair was made.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The repairs made.
    pub fn iter(self) -> impl Iterator<Item = Repair> {
        Repair::ALL.into_iter().filter(move |r| self.0 & r.bit() != 0)
    }
}

/// A typed value and the repairs made to read it.
pub type Read = (Scalar, Repairs);

/// Shares the text of repeated values (codes) between cells.
#[derive(Default)]
pub struct Interner {
    map: rustc_hash::FxHashMap<Box<str>, Arc<str>>,
}

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.map.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.map.len() < 200_000 {
            self.map.insert(Box::from(s), a.clone());
        }
        a
    }
}

/// Trims spaces, including non-breaking ones.
pub fn clean(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}')
}

/// Types one raw cell, saying which repairs were made. `Err` carries the raw text and why it did
/// not fit.
pub fn coerce(raw: &Raw, ty: &FieldType, bools: &Booleans, strings: &mut Interner) -> Result<Read, (String, Misfit)> {
    let plain = |v: Scalar| (v, Repairs::NONE);
    match raw {
        Raw::Empty => Ok(plain(Scalar::Null)),
        Raw::Error(e) => Err((e.clone(), Misfit::CellError)),
        Raw::Text(raw) => {
            let t = clean(raw);
            if t.is_empty() {
                let r = if raw.is_empty() { Repairs::NONE } else { Repairs::NONE.with(Repair::Blank) };
                return Ok((Scalar::Null, r));
            }
            let trimmed = if t.len() == raw.len() { Repairs::NONE } else { Repairs::NONE.with(Repair::Trimmed) };
            text(t, ty, bools, strings).map(|(v, r)| (v, r.and(trimmed)))
        }
        Raw::Number(x) => match ty {
            FieldType::Int if x.fract() == 0.0 && x.abs() < 9e15 => Ok(plain(Scalar::Int(*x as i64))),
            FieldType::Int => Err((format_number(*x), Misfit::Int)),
            FieldType::Decimal => Ok(plain(Scalar::Dec(*x))),
            FieldType::Date => {
                let d = serial_date(*x).ok_or((format_number(*x), Misfit::Date))?;
                let r = Repairs::NONE.with(Repair::Serial);
                Ok((Scalar::Date(d), if x.fract() == 0.0 { r } else { r.with(Repair::TimeOfDay) }))
            }
            FieldType::Bool if *x == 1.0 => Ok(plain(Scalar::Bool(true))),
            FieldType::Bool if *x == 0.0 => Ok(plain(Scalar::Bool(false))),
            FieldType::Bool => Err((format_number(*x), Misfit::Bool)),
            _ => text(&format_number(*x), ty, bools, strings),
        },
        Raw::Date(d) => match ty {
            FieldType::Date => {
                let r = if d.time() == chrono::NaiveTime::MIN { Repairs::NONE } else { Repairs::NONE.with(Repair::TimeOfDay) };
                Ok((Scalar::Date(d.date().num_days_from_ce()), r))
            }
            _ => text(&format_date_time(d), ty, bools, strings),
        },
        Raw::Bool(b) => match ty {
            FieldType::Bool => Ok(plain(Scalar::Bool(*b))),
            _ => text(if *b { "true" } else { "false" }, ty, bools, strings),
        },
    }
}

/// The text of an xlsx date cell: `2025-03-31`, or `2025-03-31 14:30:00` when it holds a time of day
/// (with milliseconds when it has them).
pub fn format_date_time(d: &NaiveDateTime) -> String {
    match (d.time() == chrono::NaiveTime::MIN, d.nanosecond()) {
        (true, _) => d.format("%Y-%m-%d").to_string(),
        (false, 0) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        (false, _) => d.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    }
}

/// The text of a raw number as a spreadsheet shows it (`45747`, `3.5`).
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { x.to_string() }
}

fn text(t: &str, ty: &FieldType, bools: &Booleans, strings: &mut Interner) -> Result<Read, (String, Misfit)> {
    let plain = |v: Scalar| (v, Repairs::NONE);
    let thousands = |s: &std::borrow::Cow<'_, str>| match s {
        std::borrow::Cow::Owned(_) => Repairs::NONE.with(Repair::Thousands),
        std::borrow::Cow::Borrowed(_) => Repairs::NONE,
    };
    match ty {
        FieldType::Text | FieldType::Code(_) => Ok(plain(Scalar::Text(strings.get(t)))),
        FieldType::Int => {
            let s = without_thousands(t).ok_or((t.to_string(), Misfit::Int))?;
            let r = thousands(&s);
            match s.parse::<i64>() {
                Ok(n) => Ok((Scalar::Int(n), r)),
                Err(_) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.fract() == 0.0 && x.abs() < 9e15)
                    .map(|x| (Scalar::Int(x as i64), r.with(Repair::WholeNumber)))
                    .ok_or((t.to_string(), Misfit::Int)),
            }
        }
        FieldType::Decimal => {
            let s = without_thousands(t).ok_or((t.to_string(), Misfit::Decimal))?;
            let r = thousands(&s);
            s.parse::<f64>().ok().filter(|x| x.is_finite()).map(|x| (Scalar::Dec(x), r)).ok_or((t.to_string(), Misfit::Decimal))
        }
        FieldType::Date => {
            read_date(t).map(|(d, r)| (Scalar::Date(d.num_days_from_ce()), r)).ok_or((t.to_string(), Misfit::Date))
        }
        FieldType::Bool => bools.parse(t).map(|b| plain(Scalar::Bool(b))).ok_or((t.to_string(), Misfit::Bool)),
        FieldType::List(inner) => {
            let mut items = vec![];
            let mut repairs = Repairs::NONE;
            for part in t.split([',', ';']) {
                let p = clean(part);
                if p.is_empty() {
                    continue;
                }
                let (v, r) = text(p, inner, bools, strings)?;
                repairs = repairs.and(r);
                items.push(v);
            }
            Ok((if items.is_empty() { Scalar::Null } else { Scalar::List(Arc::from(items)) }, repairs))
        }
    }
}

/// A number's text without its thousands separators: commas are accepted only between groups of
/// three digits in the whole part (`1,234`, `-12,345,678.5`). Any other comma (`3,0`, `1,5` as a
/// decimal comma, `12,34`, `,5`, `1,,000`) makes the text not a number (`None`), so the cell becomes
/// an input finding instead of being read as another number.
fn without_thousands(t: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !t.contains(',') {
        return Some(std::borrow::Cow::Borrowed(t));
    }
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    let whole_len = unsigned.find(|c: char| !(c.is_ascii_digit() || c == ',')).unwrap_or(unsigned.len());
    let (whole, rest) = unsigned.split_at(whole_len);
    if rest.contains(',') {
        return None;
    }
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let grouped = (1..=3).contains(&first.len()) && groups.all(|g| g.len() == 3);
    grouped.then(|| std::borrow::Cow::Owned(t.replace(',', "")))
}

/// Whether text has the shape of a date (digits and separators, as `31/02/2024` or `2024-02-30`).
pub fn looks_like_date(t: &str) -> bool {
    let t = clean(t);
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
}

/// `true/false/1/0/yes/no/y/n` in any case.
pub fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A date written as text, in the forms listed at the top of this module.
pub fn parse_date(t: &str) -> Option<NaiveDate> {
    read_date(t).map(|(d, _)| d)
}

/// [`parse_date`], saying whether the date was in another form than `YYYY-MM-DD` or had a time.
fn read_date(t: &str) -> Option<(NaiveDate, Repairs)> {
    let t = clean(t);
    // Fast path for the common `YYYY-MM-DD`.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = t.as_bytes() {
        let digit = |c: &u8| c.is_ascii_digit().then(|| u32::from(c - b'0'));
        if let (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f), Some(g), Some(h)) =
            (digit(y1), digit(y2), digit(y3), digit(y4), digit(m1), digit(m2), digit(d1), digit(d2))
        {
            return NaiveDate::from_ymd_opt((a * 1000 + b * 100 + c * 10 + d) as i32, e * 10 + f, g * 10 + h)
                .map(|d| (d, Repairs::NONE));
        }
    }
    let form = Repairs::NONE.with(Repair::DateForm);
    // A date, possibly followed by a time (`2024-03-31T00:00:00`, `2024-03-31 00:00`,
    // `31/03/2024 14:30`).
    let (head, time) = match t.split_once(['T', ' ']) {
        Some((head, time)) => (head, Some(time_of_day(time.trim_start())?)),
        None => (t, None),
    };
    // chrono skips spaces before a number (`2021-\n01-01`): a date has none.
    if head.contains(char::is_whitespace) {
        return None;
    }
    let with_time = |r: Repairs| time.map_or(r, |time| r.with(time));
    if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
        // `2024-3-5` is a date in another form.
        let r = if head.len() == 10 && head.get(4..5) == Some("-") && head.get(7..8) == Some("-") { Repairs::NONE } else { form };
        return Some((d, with_time(r)));
    }
    for fmt in ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(head, fmt) {
            return Some((d, with_time(form)));
        }
    }
    None
}

/// What the time after a date says: [`Repair::DateTime`] for midnight, [`Repair::TimeOfDay`] for
/// any other time; `None` when it is not a time of day (`HH:MM`, `HH:MM:SS`, with a fraction of a
/// second and a time zone, `Z` or `+01:00`, allowed), and the text is then not a date.
fn time_of_day(t: &str) -> Option<Repair> {
    let t = t.strip_suffix('Z').unwrap_or(t);
    // A time zone after the time: `+01:00`, `-05:00`.
    let t = match t.rfind(['+', '-']) {
        Some(i) => {
            let zone = t.get(i + 1..)?;
            let ok =
                zone.len() == 5 && zone.get(2..3) == Some(":") && zone.bytes().filter(|b| *b != b':').all(|b| b.is_ascii_digit());
            if !ok {
                return None;
            }
            t.get(..i)?
        }
        None => t,
    };
    let (hms, fraction) = t.split_once('.').unwrap_or((t, ""));
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    let numbers: Option<Vec<u32>> =
        parts.iter().map(|p| (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok()).flatten()).collect();
    let n = numbers?;
    let fits = matches!(n.as_slice(), [h, m] | [h, m, _] if *h < 24 && *m < 60) && n.get(2).is_none_or(|s| *s < 60);
    if !fits || (n.len() == 2 && !fraction.is_empty()) {
        return None;
    }
    let midnight = n.iter().all(|x| *x == 0) && fraction.bytes().all(|b| b == b'0');
    Some(if midnight { Repair::DateTime } else { Repair::TimeOfDay })
}

/// An Excel serial day number (1900 system, with its phantom 29 February 1900) as days from CE.
pub fn serial_date(x: f64) -> Option<i32> {
    if !(1.0..=2_958_465.0).contains(&x) {
        return None;
    }
    let n = x.floor() as i32;
    // Serial 60 is the non-existent 1900-02-29; serials after it are one day ahead.
    let n = if n > 60 { n - 1 } else { n };
    let base = NaiveDate::from_ymd_opt(1899, 12, 31)?.num_days_from_ce();
    Some(base + n)
}

#[cfg(test)]
mod tests {
    use super::{Repair, Repairs, read_date, without_thousands};

    #[test]
    fn a_time_after_a_date_is_midnight_or_a_time_of_day() {
        let form = Repairs::NONE.with(Repair::DateForm);
        let midnight = Repairs::NONE.with(Repair::DateTime);
        let time = Repairs::NONE.with(Repair::TimeOfDay);
        for (text, read) in [
            ("2025-03-31", Some(Repairs::NONE)),
            ("2025-03-31T00:00:00", Some(midnight)),
            ("2025-03-31 00:00", Some(midnight)),
            ("2025-03-31T00:00:00.000", Some(midnight)),
            ("2025-03-31T00:00:00Z", Some(midnight)),
            ("2025-03-31T00:00:00+01:00", Some(midnight)),
            ("2025-03-31  00:00", Some(midnight)),
            ("2025-03-31T14:30", Some(time)),
            ("2025-03-30T23:00:00Z", Some(time)),
            ("2025-03-31T00:00:00.001", Some(time)),
            ("2025-03-31T09:30:00-05:00", Some(time)),
            ("31/03/2025 00:00:00", Some(form.and(midnight))),
            ("31/03/2025 09:30", Some(form.and(time))),
            ("2025/03/31 10:00", Some(form.and(time))),
            ("2025-3-31 00:00", Some(form.and(midnight))),
            ("2025-03-31 foo", None),
            ("2025-03-31T", None),
            ("2025-03-31T24:00", None),
            ("2025-03-31T12:60", None),
            ("2025-03-31T12:00.5", None),
            ("2025-03-31T1:00", None),
            ("2025-03-31T12:00+1", None),
            ("31/03/2025 x", None),
            ("2021-\n01-01", None),
            ("31/\n03/2025", None),
        ] {
            assert_eq!(read_date(text).map(|(_, r)| r), read, "{text}");
        }
    }

    #[test]
    fn commas_are_thousands_separators_or_nothing() {
        for (text, read) in [
            ("1,234", Some("1234")),
            ("12,345,678", Some("12345678")),
            ("-1,234.5", Some("-1234.5")),
            ("+999,999", Some("+999999")),
            ("1234", Some("1234")),
            ("3,0", None),
            ("1,5", None),
            ("12,34", None),
            ("1234,567", None),
            (",5", None),
            ("1,,000", None),
            ("1,000,", None),
            ("1.5,000", None),
            ("1,000.000,1", None),
        ] {
            assert_eq!(without_thousands(text).as_deref(), read, "{text}");
        }
    }
}
