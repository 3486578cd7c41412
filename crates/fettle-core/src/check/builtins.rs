//! Built-in functions: general building blocks (text, dates, working days, UPN check letters),
//! never one rule in disguise. Their types are checked here; eval/builtins.rs computes them.

use super::program::Type;

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `present(x)`: the value is there (and was valid for its type).
    Present,
    /// `missing(x)`: the opposite of `present`.
    Missing,
    /// `length(t)`: number of characters.
    Length,
    /// `chars(t, from, to)`: characters `from` to `to` (1-based, inclusive).
    Chars,
    /// `upper(t)`.
    Upper,
    /// `lower(t)`.
    Lower,
    /// `trim(t)`.
    Trim,
    /// `is_digits(t)`: one or more characters, all `0`-`9`.
    IsDigits,
    /// `is_letters(t)`: one or more characters, all `A`-`Z` or `a`-`z`.
    IsLetters,
    /// `is_alnum(t)`: one or more characters, all ASCII letters or digits.
    IsAlnum,
    /// `upn_check_letter(upn)`: the check letter a 13-character UPN should start with.
    UpnCheckLetter,
    /// `year(d)`.
    Year,
    /// `month(d)`.
    Month,
    /// `day(d)`.
    Day,
    /// `weekday(d)`: 1 Monday to 7 Sunday.
    Weekday,
    /// `is_weekend(d)`.
    IsWeekend,
    /// `is_working_day(d)`: Monday to Friday and not a holiday.
    IsWorkingDay,
    /// `date(y, m, d)`: a date, missing when there is no such day.
    MakeDate,
    /// `age(birth, at)`: whole years from `birth` to `at`.
    Age,
    /// `days_between(a, b)`: `b - a` in days.
    DaysBetween,
    /// `working_days_between(a, b)`: working days after `a` up to and including `b`.
    WorkingDaysBetween,
    /// `overlaps(s1, e1, s2, e2)`: closed intervals meet; a missing end is open.
    Overlaps,
    /// `round(x, digits)`.
    Round,
    /// `percent(x, digits)`: `0.061` as `6.1%`.
    Percent,
    /// `text(x)`: any value as text.
    ToText,
    /// `collection_year(d)`: `2024-25` for a date from 1 April 2024 to 31 March 2025.
    CollectionYear,
    /// `same_items(a, b)`: two lists hold the same values, in any order and number.
    SameItems,
}

/// Every built-in with its name, for lookups and "did you mean".
pub const ALL: &[(&str, Builtin)] = &[
    ("present", Builtin::Present),
    ("missing", Builtin::Missing),
    ("length", Builtin::Length),
    ("chars", Builtin::Chars),
    ("upper", Builtin::Upper),
    ("lower", Builtin::Lower),
    ("trim", Builtin::Trim),
    ("is_digits", Builtin::IsDigits),
    ("is_letters", Builtin::IsLetters),
    ("is_alnum", Builtin::IsAlnum),
    ("upn_check_letter", Builtin::UpnCheckLetter),
    ("year", Builtin::Year),
    ("month", Builtin::Month),
    ("day", Builtin::Day),
    ("weekday", Builtin::Weekday),
    ("is_weekend", Builtin::IsWeekend),
    ("is_working_day", Builtin::IsWorkingDay),
    ("date", Builtin::MakeDate),
    ("age", Builtin::Age),
    ("days_between", Builtin::DaysBetween),
    ("working_days_between", Builtin::WorkingDaysBetween),
    ("overlaps", Builtin::Overlaps),
    ("round", Builtin::Round),
    ("percent", Builtin::Percent),
    ("text", Builtin::ToText),
    ("collection_year", Builtin::CollectionYear),
    ("same_items", Builtin::SameItems),
];

impl Builtin {
    /// Finds a built-in by name.
    pub fn lookup(name: &str) -> Option<Builtin> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(_, b)| *b == self).map_or("?", |(n, _)| n)
    }

    /// Parameter kinds and result type; `None` parameter accepts any type.
    pub fn signature(self) -> (Vec<Option<Type>>, Type) {
        use Builtin::*;
        let t = || Some(Type::Text);
        let d = || Some(Type::Date);
        let i = || Some(Type::Int);
        match self {
            Present | Missing => (vec![None], Type::Bool),
            Length => (vec![t()], Type::Int),
            Chars => (vec![t(), i(), i()], Type::Text),
            Upper | Lower | Trim => (vec![t()], Type::Text),
            IsDigits | IsLetters | IsAlnum => (vec![t()], Type::Bool),
            UpnCheckLetter => (vec![t()], Type::Text),
            Year | Month | Day | Weekday => (vec![d()], Type::Int),
            IsWeekend | IsWorkingDay => (vec![d()], Type::Bool),
            MakeDate => (vec![i(), i(), i()], Type::Date),
            Age | DaysBetween | WorkingDaysBetween => (vec![d(), d()], Type::Int),
            Overlaps => (vec![d(), d(), d(), d()], Type::Bool),
            Round => (vec![Some(Type::Dec), i()], Type::Dec),
            Percent => (vec![Some(Type::Dec), i()], Type::Text),
            ToText => (vec![None], Type::Text),
            CollectionYear => (vec![d()], Type::Text),
            SameItems => (vec![None, None], Type::Bool),
        }
    }

    /// A one-line description for `fettle explain` and completion.
    pub fn describe(self) -> &'static str {
        use Builtin::*;
        match self {
            Present => "the value is there and valid for its type",
            Missing => "the value is absent, empty or not valid for its type",
            Length => "number of characters of a text",
            Chars => "characters from..to of a text, 1-based and inclusive",
            Upper => "text in upper case",
            Lower => "text in lower case",
            Trim => "text without surrounding spaces",
            IsDigits => "text is one or more digits 0-9",
            IsLetters => "text is one or more letters A-Z",
            IsAlnum => "text is one or more ASCII letters or digits",
            UpnCheckLetter => "the check letter for characters 2-13 of a UPN (DfE algorithm), missing if they are malformed",
            Year => "year of a date",
            Month => "month of a date, 1-12",
            Day => "day of the month",
            Weekday => "day of the week, 1 Monday to 7 Sunday",
            IsWeekend => "the date is a Saturday or Sunday",
            IsWorkingDay => "Monday to Friday and not in the return's holidays",
            MakeDate => "the date with this year, month and day; missing when there is no such day",
            Age => "whole years from the first date to the second",
            DaysBetween => "days from the first date to the second",
            WorkingDaysBetween => "working days after the first date up to and including the second",
            Overlaps => "two closed date intervals share a day; a missing end is open",
            Round => "a number rounded to the given decimal places",
            Percent => "a share (0.061) as text (6.1%) with the given decimal places",
            ToText => "a value as text",
            CollectionYear => "the collection year (2024-25) a date falls in, 1 April to 31 March",
            SameItems => "two lists hold the same values, in any order and number",
        }
    }
}
