//! Calendar arithmetic on dates held as days from the common era.
//!
//! Months and years move the calendar date and clamp to the month's end (31 March minus one month is
//! 28 or 29 February; 29 February plus one year is 28 February). Working days are Monday to Friday
//! that are not holidays. `D - n working days` is the latest date W such that the days W..=D hold n
//! working days (so D itself counts as day 1 when it is a working day); `D + n working days` mirrors
//! it forwards.

use chrono::{Datelike, Months, NaiveDate, Weekday};

fn date(d: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(d)
}

/// `d` plus `n` calendar months (negative `n` goes back), clamped to the month's end.
pub fn add_months(d: i32, n: i64) -> Option<i32> {
    let nd = date(d)?;
    let m = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    let r = if n >= 0 { nd.checked_add_months(m)? } else { nd.checked_sub_months(m)? };
    Some(r.num_days_from_ce())
}

/// Whether `d` is a Saturday or Sunday.
pub fn is_weekend(d: i32) -> Option<bool> {
    Some(matches!(date(d)?.weekday(), Weekday::Sat | Weekday::Sun))
}

/// 1 Monday to 7 Sunday.
pub fn weekday(d: i32) -> Option<i64> {
    Some(i64::from(date(d)?.weekday().number_from_monday()))
}

/// Whether `d` is a working day.
pub fn is_working(d: i32, holidays: &[i32]) -> bool {
    is_weekend(d) == Some(false) && holidays.binary_search(&d).is_err()
}

/// `d - n working days` (n > 0) or `d + n working days` (n < 0 means forwards), as described above.
pub fn working_days_back(d: i32, n: i64, holidays: &[i32]) -> Option<i32> {
    if n == 0 {
        return Some(d);
    }
    let step = if n > 0 { -1 } else { 1 };
    let mut left = n.unsigned_abs();
    let mut cur = d;
    // Bounded: a year has at least 200 working days.
    let limit = left.saturating_mul(4).saturating_add(30);
    let mut steps = 0u64;
    loop {
        if is_working(cur, holidays) {
            left -= 1;
            if left == 0 {
                return Some(cur);
            }
        }
        cur += step;
        steps += 1;
        if steps > limit {
            return None;
        }
    }
}

/// Working days after `a` up to and including `b` (negative when `b` is before `a`).
pub fn working_days_between(a: i32, b: i32, holidays: &[i32]) -> i64 {
    let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
    if hi - lo > 400_000 {
        return 0;
    }
    let count = ((lo + 1)..=hi).filter(|d| is_working(*d, holidays)).count() as i64;
    sign * count
}

/// Whole years from `birth` to `at` (negative when `at` is before `birth`).
pub fn age(birth: i32, at: i32) -> Option<i64> {
    let (b, a) = (date(birth)?, date(at)?);
    let mut years = i64::from(a.year() - b.year());
    if (a.month(), a.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    Some(years)
}

/// The date with this year, month and day.
pub fn make(y: i64, m: i64, d: i64) -> Option<i32> {
    let nd = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, u32::try_from(m).ok()?, u32::try_from(d).ok()?)?;
    Some(nd.num_days_from_ce())
}

/// Year, month, day.
pub fn parts(d: i32) -> Option<(i64, i64, i64)> {
    let nd = date(d)?;
    Some((i64::from(nd.year()), i64::from(nd.month()), i64::from(nd.day())))
}

/// `2024-25` for dates from 1 April 2024 to 31 March 2025.
pub fn collection_year(d: i32) -> Option<String> {
    let nd = date(d)?;
    let start = if nd.month() >= 4 { nd.year() } else { nd.year() - 1 };
    Some(format!("{}-{:02}", start, (start + 1).rem_euclid(100)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> i32 {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap().num_days_from_ce()
    }

    fn hols() -> Vec<i32> {
        let mut h: Vec<i32> = ["2024-03-29", "2024-04-01", "2024-12-25", "2024-12-26", "2025-01-01", "2025-04-18", "2025-04-21"]
            .iter()
            .map(|s| d(s))
            .collect();
        h.sort_unstable();
        h
    }

    #[test]
    fn months_clamp_to_month_end() {
        assert_eq!(add_months(d("2024-03-31"), -1), Some(d("2024-02-29")));
        assert_eq!(add_months(d("2024-02-29"), 12), Some(d("2025-02-28")));
        assert_eq!(add_months(d("2025-03-31"), -12), Some(d("2024-03-31")));
    }

    #[test]
    fn working_days_match_the_catalogue_thresholds() {
        // 8670Q, ReferenceDate 2025-03-31 (a Monday): 45 working days back is 2025-01-28.
        assert_eq!(working_days_back(d("2025-03-31"), 45, &hols()), Some(d("2025-01-28")));
        // 8675Q: 15 working days back is 2025-03-11.
        assert_eq!(working_days_back(d("2025-03-31"), 15, &hols()), Some(d("2025-03-11")));
        // 8569Q, DfE meaning: the last working day before 1 April 2024 is 28 March (Good Friday 29th).
        assert_eq!(working_days_back(d("2024-03-31"), 1, &hols()), Some(d("2024-03-28")));
    }

    #[test]
    fn ages_and_years() {
        assert_eq!(age(d("2008-03-31"), d("2025-03-30")), Some(16));
        assert_eq!(age(d("2008-03-31"), d("2025-03-31")), Some(17));
        assert_eq!(collection_year(d("2025-03-31")).as_deref(), Some("2024-25"));
        assert_eq!(collection_year(d("2025-04-01")).as_deref(), Some("2025-26"));
    }
}
