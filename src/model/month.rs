//! A calendar month (`2026-01`), as a reconciliation names it: parsed strictly, within the dates
//! the date filters accept, and turned into its first and last day for `fromDate`/`toDate`.

#![deny(clippy::arithmetic_side_effects)]

use std::fmt;

use time::{Date, Month as MonthOfYear};

use super::FieldError;
use super::dates::{EARLIEST, LATEST};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    year: i32,
    month: MonthOfYear,
}

impl Month {
    /// Parses `raw` (`YYYY-MM`, e.g. `2026-01`) for the argument `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let bad = || {
            FieldError::new(
                field,
                format!(
                    "{:?} is not a month (expected YYYY-MM, e.g. 2026-01)",
                    crate::text::scrub(raw)
                ),
            )
        };
        let (year, month) = raw.trim().split_once('-').ok_or_else(bad)?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year, 4) || !digits(month, 2) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = MonthOfYear::try_from(month).map_err(|_| bad())?;
        let value = Self { year, month };
        match (value.first_day(), value.last_day()) {
            (Some(first), Some(last)) if first >= EARLIEST && last <= LATEST => Ok(value),
            _ => Err(FieldError::new(
                field,
                format!(
                    "{value} is out of range: give a month from {} to {}",
                    Self::of(EARLIEST),
                    Self::of(LATEST)
                ),
            )),
        }
    }

    /// The month `day` is in.
    pub fn of(day: Date) -> Self {
        Self {
            year: day.year(),
            month: day.month(),
        }
    }

    /// The month before the one `day` is in ("last month").
    pub fn before(day: Date) -> Self {
        let month = day.month().previous();
        let year = if month == MonthOfYear::December {
            day.year().saturating_sub(1)
        } else {
            day.year()
        };
        Self { year, month }
    }

    /// Its first day, if the calendar has it.
    pub fn first_day(self) -> Option<Date> {
        Date::from_calendar_date(self.year, self.month, 1).ok()
    }

    /// Its last day, if the calendar has it.
    pub fn last_day(self) -> Option<Date> {
        let days = time::util::days_in_month(self.month, self.year);
        Date::from_calendar_date(self.year, self.month, days).ok()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_month_is_parsed_with_its_first_and_last_day() {
        let m = Month::parse("month", " 2024-02 ").unwrap();
        assert_eq!(m.to_string(), "2024-02");
        assert_eq!(m.first_day(), Some(date!(2024 - 02 - 01)));
        assert_eq!(m.last_day(), Some(date!(2024 - 02 - 29)));
        let m = Month::parse("month", "2026-12").unwrap();
        assert_eq!(m.last_day(), Some(date!(2026 - 12 - 31)));
    }

    #[test]
    fn anything_else_is_refused_naming_the_field() {
        for raw in [
            "",
            "2026",
            "2026-1",
            "2026-13",
            "2026-00",
            "26-01",
            "2026-01-05",
            "2026/01",
            "+2026-01",
            "2026-0a",
            "１２３４-01",
            "1969-12",
            "3000-01",
        ] {
            let e = Month::parse("month", raw).unwrap_err();
            assert_eq!(e.field, "month", "{raw}");
        }
        let e = Month::parse("month", "2026-13").unwrap_err();
        assert!(e.message.contains("expected YYYY-MM"), "{}", e.message);
    }

    #[test]
    fn last_month_crosses_the_year() {
        assert_eq!(Month::before(date!(2026 - 01 - 15)).to_string(), "2025-12");
        assert_eq!(Month::before(date!(2026 - 03 - 31)).to_string(), "2026-02");
        assert_eq!(Month::of(date!(2026 - 03 - 31)).to_string(), "2026-03");
    }
}
