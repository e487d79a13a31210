//! ISO 8601 date filters: a whole day (`2026-01-11`, inclusive) or an instant (`2026-01-11T09:30:00Z`).
//!
//! Every value is checked against [`EARLIEST`]..=[`LATEST`] when parsed, and nothing here does
//! unchecked date arithmetic (the lint below keeps it so): `9999-12-31` used to panic one day
//! past the calendar's end.

#![deny(clippy::arithmetic_side_effects)]

use time::format_description::well_known::Rfc3339;
use time::macros::{date, format_description, time};
use time::{Date, OffsetDateTime, Time, UtcOffset};

use super::FieldError;

/// The first day a date argument may name: billing data starts at the Unix epoch.
pub const EARLIEST: Date = date!(1970 - 01 - 01);
/// The last day a date argument may name: far enough for any "until further notice", near
/// enough that every day and 30-day step around it stays inside the calendar.
pub const LATEST: Date = date!(2999 - 12 - 31);

/// The last instant of a day.
const DAY_END: Time = time!(23:59:59.999);

/// An ISO 8601 date (`2026-01-11`) or date-time (`2026-01-11T09:30:00Z`) filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsoDate {
    /// A whole day (UTC).
    Day(Date),
    /// An instant.
    At(OffsetDateTime),
}

impl IsoDate {
    /// Parses `raw` for the argument `field`: a date or RFC 3339 date-time between
    /// [`EARLIEST`] and [`LATEST`] (UTC).
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let value = match Date::parse(raw, format_description!("[year]-[month]-[day]")) {
            Ok(d) => Self::Day(d),
            Err(_) => OffsetDateTime::parse(raw, &Rfc3339)
                .map(Self::At)
                .map_err(|_| {
                    FieldError::new(
                        field,
                        format!("{raw:?} is not an ISO 8601 date (2026-01-11) or date-time (2026-01-11T09:30:00Z)"),
                    )
                })?,
        };
        let in_range = value.start() >= EARLIEST.midnight().assume_utc()
            && value.end() <= LATEST.with_time(DAY_END).assume_utc();
        if !in_range {
            return Err(FieldError::new(
                field,
                format!("{raw:?} is out of range: give a date from {EARLIEST} to {LATEST}"),
            ));
        }
        Ok(value)
    }

    /// The first instant covered.
    pub fn start(self) -> OffsetDateTime {
        match self {
            Self::Day(d) => d.midnight().assume_utc(),
            Self::At(t) => t,
        }
    }

    /// The last instant covered (a day is inclusive, to the millisecond).
    pub fn end(self) -> OffsetDateTime {
        match self {
            Self::Day(d) => d.with_time(DAY_END).assume_utc(),
            Self::At(t) => t,
        }
    }

    /// The first instant covered, in UTC (a parsed value is always representable in UTC).
    pub fn start_utc(self) -> OffsetDateTime {
        let start = self.start();
        start.checked_to_offset(UtcOffset::UTC).unwrap_or(start)
    }

    /// The last instant covered, in UTC.
    pub fn end_utc(self) -> OffsetDateTime {
        let end = self.end();
        end.checked_to_offset(UtcOffset::UTC).unwrap_or(end)
    }

    /// The value as given, echoed back in results (`2026-01-11`, or the instant in RFC 3339).
    pub fn wire(self) -> String {
        match self {
            Self::Day(d) => d.to_string(),
            Self::At(t) => t.format(&Rfc3339).unwrap_or_default(),
        }
    }

    /// The value sent as a range's lower bound (`fromDate`): its first instant, in UTC to the
    /// millisecond (`2026-01-11T00:00:00.000Z`).
    pub fn from_bound(self) -> String {
        utc_millis(self.start())
    }

    /// The value sent as a range's upper bound (`toDate`): its last instant, so a whole day is
    /// sent as `2026-01-11T23:59:59.999Z`. A bare date would be read as that day's midnight and
    /// drop the day the range promises to include (issue 13).
    pub fn to_bound(self) -> String {
        utc_millis(self.end())
    }
}

/// `t` in UTC as `2026-01-11T23:59:59.999Z` (sub-millisecond digits are dropped).
fn utc_millis(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.checked_to_offset(UtcOffset::UTC)
        .unwrap_or(t)
        .format(&format)
        .unwrap_or_else(|_| t.to_string())
}

/// Checks `from ≤ to` when both are given.
pub fn check_range(from: Option<IsoDate>, to: Option<IsoDate>) -> Result<(), FieldError> {
    match (from, to) {
        (Some(f), Some(t)) if f.start() > t.end() => Err(FieldError::new(
            "fromDate",
            format!("{} is after toDate {}", f.wire(), t.wire()),
        )),
        _ => Ok(()),
    }
}

/// `2026-02-11T10:00:00.000Z`: the one timestamp format every result, request and sandbox answer
/// uses (UTC, exactly three fraction digits: milliseconds, as SolvaPay writes them).
pub fn timestamp(t: OffsetDateTime) -> String {
    let utc = t.checked_to_offset(UtcOffset::UTC).unwrap_or(t);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    utc.format(&fmt).unwrap_or_else(|_| utc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_milliseconds_exactly() {
        let t = OffsetDateTime::parse("2026-02-11T11:00:00.123456789+01:00", &Rfc3339).unwrap();
        assert_eq!(timestamp(t), "2026-02-11T10:00:00.123Z");
        let whole = OffsetDateTime::parse("2026-02-11T10:00:00Z", &Rfc3339).unwrap();
        assert_eq!(timestamp(whole), "2026-02-11T10:00:00.000Z");
    }

    #[test]
    fn dates_and_ranges() {
        let from = IsoDate::parse("fromDate", "2026-01-11").unwrap();
        let to = IsoDate::parse("toDate", "2026-01-11T23:00:00+01:00").unwrap();
        assert_eq!(from.wire(), "2026-01-11");
        assert!(check_range(Some(from), Some(to)).is_ok());
        assert!(check_range(Some(from), Some(from)).is_ok());
        let early = IsoDate::parse("toDate", "2026-01-10").unwrap();
        assert_eq!(
            check_range(Some(from), Some(early)).unwrap_err().field,
            "fromDate"
        );
        assert_eq!(
            IsoDate::parse("toDate", "11/01/2026").unwrap_err().field,
            "toDate"
        );
        assert_eq!(from.from_bound(), "2026-01-11T00:00:00.000Z");
        assert_eq!(from.to_bound(), "2026-01-11T23:59:59.999Z");
        assert_eq!(to.to_bound(), "2026-01-11T22:00:00.000Z");
        assert_eq!(
            from.end(),
            IsoDate::parse("t", "2026-01-11T23:59:59.999Z")
                .unwrap()
                .start()
        );
    }

    #[test]
    fn the_calendar_edges_are_refused_naming_the_field() {
        for raw in [
            "9999-12-31",
            "3000-01-01",
            "0000-01-01",
            "1969-12-31",
            "-0001-01-01",
            "+10000-01-01",
            "9999-12-31T23:59:59Z",
            "2999-12-31T23:30:00-01:00",
            "1970-01-01T00:30:00+01:00",
            "0000-01-01T00:00:00+23:59",
        ] {
            let e = IsoDate::parse("toDate", raw).unwrap_err();
            assert_eq!(e.field, "toDate", "{raw}");
        }
        for raw in ["1970-01-01", "2999-12-31", "2999-12-31T23:59:59.999Z"] {
            let d = IsoDate::parse("toDate", raw).unwrap();
            assert!(d.start() <= d.end(), "{raw}");
        }
    }

    fn date_like() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            "\\PC{0,40}",
            "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}",
            "[+-]?[0-9]{4,6}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?(Z|[+-][0-2][0-9]:[0-5][0-9])",
        ]
    }

    proptest::proptest! {
        #[test]
        fn any_string_parses_or_is_refused_without_panicking(raw in date_like()) {
            match IsoDate::parse("fromDate", &raw) {
                Ok(d) => {
                    proptest::prop_assert!(d.start() <= d.end());
                    proptest::prop_assert!(d.start_utc().date() >= EARLIEST);
                    proptest::prop_assert!(d.end() <= LATEST.with_time(DAY_END).assume_utc());
                    proptest::prop_assert!(!d.wire().is_empty());
                    proptest::prop_assert!(check_range(Some(d), Some(d)).is_ok());
                }
                Err(e) => proptest::prop_assert_eq!(e.field, "fromDate"),
            }
        }
    }
}
