//! ISO 8601 date filters: a whole day (`2026-01-11`, inclusive) or an instant (`2026-01-11T09:30:00Z`).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use super::FieldError;

/// An ISO 8601 date (`2026-01-11`) or date-time (`2026-01-11T09:30:00Z`) filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsoDate {
    /// A whole day (UTC).
    Day(Date),
    /// An instant.
    At(OffsetDateTime),
}

impl IsoDate {
    /// Parses `raw` for the argument `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if let Ok(d) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
            return Ok(Self::Day(d));
        }
        OffsetDateTime::parse(raw, &Rfc3339)
            .map(Self::At)
            .map_err(|_| {
                FieldError::new(
                    field,
                    format!("{raw:?} is not an ISO 8601 date (2026-01-11) or date-time (2026-01-11T09:30:00Z)"),
                )
            })
    }

    /// The first instant covered.
    pub fn start(self) -> OffsetDateTime {
        match self {
            Self::Day(d) => d.with_time(Time::MIDNIGHT).assume_utc(),
            Self::At(t) => t,
        }
    }

    /// The last instant covered (a day is inclusive).
    pub fn end(self) -> OffsetDateTime {
        match self {
            Self::Day(d) => {
                d.with_time(Time::MIDNIGHT).assume_utc() + time::Duration::days(1)
                    - time::Duration::milliseconds(1)
            }
            Self::At(t) => t,
        }
    }

    /// The value sent to SolvaPay and echoed back.
    pub fn wire(self) -> String {
        match self {
            Self::Day(d) => d.to_string(),
            Self::At(t) => t.format(&Rfc3339).unwrap_or_default(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
