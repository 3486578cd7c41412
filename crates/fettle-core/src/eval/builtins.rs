//! Computes built-in functions on one item's arguments. Missing in, missing out, except `present`,
//! `missing` and `text`.

use super::dates;
use crate::check::builtins::Builtin;
use crate::table::Scalar;
use std::sync::Arc;

/// The check-letter alphabet of UPNs: 23 letters, no I, O or S.
const UPN_ALPHABET: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

fn text(s: &Scalar) -> Option<&str> {
    match s {
        Scalar::Text(t) => Some(t),
        _ => None,
    }
}

fn int(s: &Scalar) -> Option<i64> {
    match s {
        Scalar::Int(n) => Some(*n),
        Scalar::Dec(x) if x.fract() == 0.0 => Some(*x as i64),
        _ => None,
    }
}

fn num(s: &Scalar) -> Option<f64> {
    match s {
        Scalar::Int(n) => Some(*n as f64),
        Scalar::Dec(x) => Some(*x),
        _ => None,
    }
}

fn date(s: &Scalar) -> Option<i32> {
    match s {
        Scalar::Date(d) => Some(*d),
        _ => None,
    }
}

fn t(s: String) -> Scalar {
    Scalar::Text(Arc::from(s))
}

thread_local! {
    /// One shared copy of each one-character ASCII text (check letters, `chars(x, 1, 1)`).
    static ASCII: Vec<Arc<str>> = (0u8..128).map(|b| Arc::from(char::from(b).to_string())).collect();
}

/// A one-character text, shared when it is ASCII.
fn one_char(c: char) -> Scalar {
    match u8::try_from(c).ok().filter(u8::is_ascii).and_then(|b| ASCII.with(|a| a.get(usize::from(b)).cloned())) {
        Some(shared) => Scalar::Text(shared),
        None => t(c.to_string()),
    }
}

/// `s` changed by `f`, or the same shared text when `f` leaves it as it is (no copy).
fn remade(orig: &Arc<str>, changed: impl FnOnce(&str) -> Option<String>) -> Scalar {
    match changed(orig) {
        Some(new) => t(new),
        None => Scalar::Text(orig.clone()),
    }
}

fn shared(s: &Scalar) -> Option<&Arc<str>> {
    match s {
        Scalar::Text(t) => Some(t),
        _ => None,
    }
}

/// The check letter for a 13-character UPN: characters 2-12 digits, 13 a digit or an alphabet letter
/// (temporary UPN); weights 2..=13; sum mod 23 indexes the alphabet. `None` when malformed.
pub fn upn_check_letter(upn: &str) -> Option<char> {
    if upn.chars().count() != 13 {
        return None;
    }
    let mut sum: u32 = 0;
    for (i, c) in upn.chars().enumerate().skip(1) {
        let v = if let Some(d) = c.to_digit(10) {
            d
        } else if i == 12 {
            UPN_ALPHABET.iter().position(|a| char::from(*a) == c)? as u32
        } else {
            return None;
        };
        sum += v * (i as u32 + 1);
    }
    UPN_ALPHABET.get((sum % 23) as usize).map(|b| char::from(*b))
}

/// Applies a built-in.
pub fn call(b: Builtin, a: &[&Scalar], holidays: &[i32]) -> Scalar {
    let arg = |i: usize| a.get(i).copied().unwrap_or(&Scalar::Null);
    let r: Option<Scalar> = match b {
        Builtin::Present => Some(Scalar::Bool(!arg(0).is_null())),
        Builtin::Missing => Some(Scalar::Bool(arg(0).is_null())),
        Builtin::Length => text(arg(0)).map(|s| Scalar::Int(s.chars().count() as i64)),
        Builtin::Chars => (|| {
            let s = text(arg(0))?;
            let from = usize::try_from(int(arg(1))?.max(1)).ok()?;
            let to = usize::try_from(int(arg(2))?).ok()?;
            let mut picked = s.chars().skip(from - 1).take((to + 1).saturating_sub(from));
            match (picked.next(), picked.next()) {
                (None, _) => Some(t(String::new())),
                (Some(c), None) => Some(one_char(c)),
                (Some(a), Some(b)) => Some(t([a, b].into_iter().chain(picked).collect())),
            }
        })(),
        Builtin::Upper => shared(arg(0))
            .map(|s| remade(s, |s| (!s.is_ascii() || s.bytes().any(|b| b.is_ascii_lowercase())).then(|| s.to_uppercase()))),
        Builtin::Lower => shared(arg(0))
            .map(|s| remade(s, |s| (!s.is_ascii() || s.bytes().any(|b| b.is_ascii_uppercase())).then(|| s.to_lowercase()))),
        Builtin::Trim => shared(arg(0)).map(|s| remade(s, |s| (s.trim().len() != s.len()).then(|| s.trim().to_string()))),
        Builtin::IsDigits => text(arg(0)).map(|s| Scalar::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()))),
        Builtin::IsLetters => text(arg(0)).map(|s| Scalar::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()))),
        Builtin::IsAlnum => text(arg(0)).map(|s| Scalar::Bool(!s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))),
        Builtin::UpnCheckLetter => text(arg(0)).and_then(upn_check_letter).map(one_char),
        Builtin::Year => date(arg(0)).and_then(dates::parts).map(|(y, _, _)| Scalar::Int(y)),
        Builtin::Month => date(arg(0)).and_then(dates::parts).map(|(_, m, _)| Scalar::Int(m)),
        Builtin::Day => date(arg(0)).and_then(dates::parts).map(|(_, _, d)| Scalar::Int(d)),
        Builtin::Weekday => date(arg(0)).and_then(dates::weekday).map(Scalar::Int),
        Builtin::IsWeekend => date(arg(0)).and_then(dates::is_weekend).map(Scalar::Bool),
        Builtin::IsWorkingDay => date(arg(0)).map(|d| Scalar::Bool(dates::is_working(d, holidays))),
        Builtin::MakeDate => (|| dates::make(int(arg(0))?, int(arg(1))?, int(arg(2))?).map(Scalar::Date))(),
        Builtin::Age => (|| dates::age(date(arg(0))?, date(arg(1))?).map(Scalar::Int))(),
        Builtin::DaysBetween => (|| Some(Scalar::Int(i64::from(date(arg(1))?) - i64::from(date(arg(0))?))))(),
        Builtin::WorkingDaysBetween => {
            (|| Some(Scalar::Int(dates::working_days_between(date(arg(0))?, date(arg(1))?, holidays))))()
        }
        Builtin::Overlaps => (|| {
            let (s1, s2) = (date(arg(0))?, date(arg(2))?);
            let e1 = date(arg(1)).unwrap_or(i32::MAX);
            let e2 = date(arg(3)).unwrap_or(i32::MAX);
            Some(Scalar::Bool(s1 <= e2 && s2 <= e1))
        })(),
        Builtin::Round => (|| {
            let x = num(arg(0))?;
            let p = 10f64.powi(i32::try_from(int(arg(1))?.clamp(0, 10)).ok()?);
            Some(Scalar::Dec((x * p).round() / p))
        })(),
        Builtin::Percent => (|| {
            let x = num(arg(0))?;
            let digits = usize::try_from(int(arg(1))?.clamp(0, 6)).ok()?;
            Some(t(format!("{:.*}%", digits, x * 100.0)))
        })(),
        Builtin::ToText => Some(match arg(0) {
            Scalar::Text(same) => Scalar::Text(same.clone()),
            other => t(other.display()),
        }),
        Builtin::CollectionYear => date(arg(0)).and_then(dates::collection_year).map(t),
        Builtin::SameItems => match (arg(0), arg(1)) {
            (Scalar::List(a), Scalar::List(b)) => {
                let key = |l: &[Scalar]| {
                    let mut v: Vec<String> = l.iter().map(Scalar::display).collect();
                    v.sort();
                    v.dedup();
                    v
                };
                Some(Scalar::Bool(key(a) == key(b)))
            }
            _ => None,
        },
    };
    r.unwrap_or(Scalar::Null)
}

#[cfg(test)]
mod tests {
    use super::upn_check_letter;

    /// The evaluator passes arguments in a four-slot array.
    #[test]
    fn no_builtin_takes_more_than_four_arguments() {
        for (name, b) in crate::check::builtins::ALL {
            assert!(b.signature().0.len() <= 4, "{name}");
        }
    }

    /// Texts a function leaves unchanged are shared, not copied; changed ones are new.
    #[test]
    fn unchanged_texts_are_shared() {
        use crate::check::builtins::Builtin;
        use crate::table::Scalar;
        use std::sync::Arc;
        let code: Arc<str> = Arc::from("18B");
        let x = Scalar::Text(code.clone());
        for b in [Builtin::Upper, Builtin::Trim, Builtin::ToText] {
            let out = super::call(b, &[&x], &[]);
            assert!(matches!(&out, Scalar::Text(o) if Arc::ptr_eq(o, &code)), "{b:?}: {out:?}");
        }
        assert_eq!(super::call(Builtin::Lower, &[&x], &[]), Scalar::Text(Arc::from("18b")));
        assert_eq!(super::call(Builtin::Upper, &[&Scalar::Text(Arc::from("ß"))], &[]), Scalar::Text(Arc::from("SS")));
        assert_eq!(super::call(Builtin::Trim, &[&Scalar::Text(Arc::from(" a "))], &[]), Scalar::Text(Arc::from("a")));
        let chars = |s: &str, a: i64, b: i64| {
            super::call(Builtin::Chars, &[&Scalar::Text(Arc::from(s)), &Scalar::Int(a), &Scalar::Int(b)], &[])
        };
        assert_eq!(chars("A123", 1, 1), Scalar::Text(Arc::from("A")));
        assert_eq!(chars("é123", 1, 1), Scalar::Text(Arc::from("é")));
        assert_eq!(chars("A123", 2, 3), Scalar::Text(Arc::from("12")));
        assert_eq!(chars("A123", 9, 9), Scalar::Text(Arc::from("")));
    }

    #[test]
    fn upn_check_letters_follow_the_catalogue_examples() {
        assert_eq!(upn_check_letter("A123456789123"), Some('P'));
        assert_eq!(upn_check_letter("X98765432123B"), Some('F'));
        assert_eq!(upn_check_letter("A12345678912"), None);
        assert_eq!(upn_check_letter("A1234567891I3"), None);
    }
}
