//! The one clock of the sandbox. Every timestamp the sandbox writes and every billing-period decision
//! reads it, so tests (and `POST /v1/sandbox/clock`, and `solvapay-mcp sandbox clock`) can move time
//! and watch periods roll over. Its setting ([`ClockSetting`]) is kept in the database, so a
//! restarted sandbox resumes the time it had.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// How the sandbox clock runs; what the database keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockSetting {
    /// Wall-clock time shifted by an offset (time keeps flowing).
    Flowing {
        /// Sandbox time minus wall-clock time.
        offset: Duration,
    },
    /// Time stands still until moved.
    Frozen {
        /// The sandbox time.
        at: OffsetDateTime,
    },
}

impl Default for ClockSetting {
    fn default() -> Self {
        Self::Flowing {
            offset: Duration::ZERO,
        }
    }
}

impl ClockSetting {
    /// The sandbox time this setting gives at wall-clock time `wall` (UTC, millisecond precision).
    pub fn now_at(self, wall: OffsetDateTime) -> OffsetDateTime {
        truncate_ms(match self {
            Self::Flowing { offset } => wall + offset,
            Self::Frozen { at } => at,
        })
    }

    /// Time moved by `d` (back, when negative), flowing or not as before.
    pub fn advanced(self, d: Duration) -> Self {
        match self {
            Self::Flowing { offset } => Self::Flowing { offset: offset + d },
            Self::Frozen { at } => Self::Frozen { at: at + d },
        }
    }

    /// Time stopped where it is at wall-clock time `wall`.
    pub fn frozen(self, wall: OffsetDateTime) -> Self {
        Self::Frozen {
            at: self.now_at(wall),
        }
    }

    /// Time flowing again from where it is at wall-clock time `wall`.
    pub fn resumed(self, wall: OffsetDateTime) -> Self {
        match self {
            Self::Flowing { .. } => self,
            Self::Frozen { at } => Self::Flowing { offset: at - wall },
        }
    }

    /// The stored form: `{"mode":"flowing","offsetMs":…}` or `{"mode":"frozen","at":"…"}`.
    pub(crate) fn to_json(self) -> serde_json::Value {
        match self {
            Self::Flowing { offset } => serde_json::json!({
                "mode": "flowing",
                "offsetMs": i64::try_from(offset.whole_milliseconds()).unwrap_or(i64::MAX),
            }),
            Self::Frozen { at } => serde_json::json!({
                "mode": "frozen",
                "at": crate::model::dates::timestamp(at),
            }),
        }
    }

    /// Reads [`ClockSetting::to_json`]'s form; `None` for anything else.
    pub(crate) fn from_json(value: &serde_json::Value) -> Option<Self> {
        match value.get("mode")?.as_str()? {
            "flowing" => Some(Self::Flowing {
                offset: Duration::milliseconds(value.get("offsetMs")?.as_i64()?),
            }),
            "frozen" => Some(Self::Frozen {
                at: super::util::parse_ts(value.get("at")?.as_str()?)?,
            }),
            _ => None,
        }
    }
}

/// A cloneable handle on the sandbox clock; all clones see the same time.
#[derive(Debug, Clone)]
pub struct Clock {
    setting: Arc<Mutex<ClockSetting>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self::with(ClockSetting::default())
    }

    /// A clock that keeps flowing but starts at `start` now.
    pub fn starting_at(start: OffsetDateTime) -> Self {
        Self::with(ClockSetting::Flowing {
            offset: start - OffsetDateTime::now_utc(),
        })
    }

    /// A clock running as `setting` says.
    pub fn with(setting: ClockSetting) -> Self {
        Self {
            setting: Arc::new(Mutex::new(setting)),
        }
    }

    /// How the clock runs now.
    pub fn setting(&self) -> ClockSetting {
        *self.setting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the clock run as `setting` says.
    pub fn apply(&self, setting: ClockSetting) {
        *self.setting.lock().unwrap_or_else(PoisonError::into_inner) = setting;
    }

    /// The current sandbox time (UTC, millisecond precision).
    pub fn now(&self) -> OffsetDateTime {
        self.setting().now_at(OffsetDateTime::now_utc())
    }

    /// Sandbox time minus wall-clock time. Clients stamp events with wall-clock time; adding the
    /// skew puts them on the sandbox's timeline, so a demo clock set in the past still accepts
    /// "now" and keeps the spacing between events.
    pub fn skew(&self) -> Duration {
        self.now() - OffsetDateTime::now_utc()
    }

    /// Freeze time at `t`; it stays there until `set` or `advance` is called again.
    pub fn set(&self, t: OffsetDateTime) {
        self.apply(ClockSetting::Frozen { at: truncate_ms(t) });
    }

    /// Move time forward (or back, with a negative duration).
    pub fn advance(&self, d: Duration) {
        let mut setting = self.setting.lock().unwrap_or_else(PoisonError::into_inner);
        *setting = setting.advanced(d);
    }
}

fn truncate_ms(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let c = Clock::system();
        c.set(datetime!(2026-01-15 00:00 UTC));
        assert_eq!(c.now(), datetime!(2026-01-15 00:00 UTC));
        c.advance(Duration::days(31));
        assert_eq!(c.now(), datetime!(2026-02-15 00:00 UTC));
    }

    #[test]
    fn a_setting_survives_its_stored_form_and_resumes_where_it_stood() {
        let wall = datetime!(2026-03-01 08:00 UTC);
        let frozen = ClockSetting::Frozen {
            at: datetime!(2026-02-11 12:00 UTC),
        };
        let flowing = frozen.resumed(wall);
        assert_eq!(flowing.now_at(wall), datetime!(2026-02-11 12:00 UTC));
        assert_eq!(
            flowing.now_at(wall + Duration::hours(1)),
            datetime!(2026-02-11 13:00 UTC)
        );
        assert_eq!(flowing.frozen(wall), frozen);
        for setting in [frozen, flowing, frozen.advanced(Duration::days(30))] {
            assert_eq!(ClockSetting::from_json(&setting.to_json()), Some(setting));
        }
    }
}
