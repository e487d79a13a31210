//! The one clock of the sandbox. Every timestamp the sandbox writes and every billing-period decision
//! reads it, so tests (and `POST /v1/sandbox/clock`) can move time and watch periods roll over.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Wall-clock time shifted by an offset (time keeps flowing).
    Offset(Duration),
    /// Time stands still until moved.
    Frozen(OffsetDateTime),
}

/// A cloneable handle on the sandbox clock; all clones see the same time.
#[derive(Debug, Clone)]
pub struct Clock {
    mode: Arc<Mutex<Mode>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self {
            mode: Arc::new(Mutex::new(Mode::Offset(Duration::ZERO))),
        }
    }

    /// A clock that keeps flowing but starts at `start` now.
    pub fn starting_at(start: OffsetDateTime) -> Self {
        Self {
            mode: Arc::new(Mutex::new(Mode::Offset(start - OffsetDateTime::now_utc()))),
        }
    }

    /// The current sandbox time (UTC, millisecond precision).
    pub fn now(&self) -> OffsetDateTime {
        let mode = *self.mode.lock().unwrap_or_else(PoisonError::into_inner);
        let t = match mode {
            Mode::Offset(d) => OffsetDateTime::now_utc() + d,
            Mode::Frozen(t) => t,
        };
        truncate_ms(t)
    }

    /// Freeze time at `t`; it stays there until `set` or `advance` is called again.
    /// Sandbox time minus wall-clock time. Clients stamp events with wall-clock time; adding the
    /// skew puts them on the sandbox's timeline, so a demo clock set in the past still accepts
    /// "now" and keeps the spacing between events.
    pub fn skew(&self) -> Duration {
        self.now() - OffsetDateTime::now_utc()
    }

    pub fn set(&self, t: OffsetDateTime) {
        *self.mode.lock().unwrap_or_else(PoisonError::into_inner) = Mode::Frozen(truncate_ms(t));
    }

    /// Move time forward (or back, with a negative duration).
    pub fn advance(&self, d: Duration) {
        let mut mode = self.mode.lock().unwrap_or_else(PoisonError::into_inner);
        *mode = match *mode {
            Mode::Offset(o) => Mode::Offset(o + d),
            Mode::Frozen(t) => Mode::Frozen(t + d),
        };
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
}
