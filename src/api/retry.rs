//! The retry policy, written as data and decided by a pure function: which failures are retried for
//! which class of call, how long to wait, and when the time budget says stop.
//!
//! A write that SolvaPay does not deduplicate is retried only when nothing can have been sent
//! (connection refused); once its bytes may have left, the outcome is *unknown* and reported as such.

use std::time::Duration;

use crate::metrics::RetryReason;

/// How safe it is to send a call twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClass {
    /// Reads (`GET`, and `POST /v1/sdk/limits`): repeating changes nothing.
    Read,
    /// Writes SolvaPay deduplicates or that are idempotent by nature (usage events carrying an
    /// `idempotencyKey`, `PUT`/`PATCH` of a full set of fields): repeated with the same body.
    Deduplicated,
    /// Writes without documented dedupe (refunds, checkout and customer sessions, cancellations,
    /// creates, deletes): repeated only when nothing can have been sent.
    Unprotected,
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection was never established: nothing was sent.
    Connect,
    /// The request may have been sent, then the connection broke or the body was cut short.
    Interrupted,
    /// No complete answer within the attempt's time.
    Timeout,
    /// SolvaPay answered with this HTTP status.
    Status(u16),
    /// A 2xx answer whose body is not JSON (cut short or garbled): another attempt may read whole.
    Malformed,
    /// A 2xx answer in valid JSON of the wrong shape: every attempt gets the same answer.
    WrongShape,
}

impl Failure {
    /// The reason a retry of this failure is counted under (`solvapay_mcp_upstream_retries_total`).
    pub fn reason(self) -> RetryReason {
        match self {
            Self::Connect => RetryReason::Connect,
            Self::Interrupted => RetryReason::Interrupted,
            Self::Timeout => RetryReason::Timeout,
            Self::Status(429) => RetryReason::RateLimited,
            Self::Status(_) => RetryReason::ServerError,
            Self::Malformed | Self::WrongShape => RetryReason::Malformed,
        }
    }
}

/// The decision for one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this pause.
    RetryAfter(Duration),
    /// Report the failure.
    GiveUp,
}

/// Retry limits and time budget. Defaults keep a whole tool call well under a host's 60 s limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles each retry.
    pub base_delay: Duration,
    /// Longest backoff between two attempts.
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
    /// The whole call, every attempt and pause included.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
            total_budget: Duration::from_secs(45),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (tests that count requests exactly).
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Whether this failure, for this class of call, may be retried at all.
    pub fn retryable(class: CallClass, failure: Failure) -> bool {
        match failure {
            Failure::Connect => true,
            // 429: a rate limiter rejects before doing any work, so even unprotected writes may retry.
            Failure::Status(429) => true,
            Failure::Interrupted | Failure::Timeout | Failure::Status(500 | 502..=504) => {
                class != CallClass::Unprotected
            }
            // A malformed 2xx succeeded upstream; only a read can safely ask again.
            Failure::Malformed => class == CallClass::Read,
            Failure::Status(_) | Failure::WrongShape => false,
        }
    }

    /// Backoff before retry number `retry` (1-based): `base × 2^(retry-1)`, capped, scaled by
    /// `jitter` ∈ [0.5, 1.0], never below `base`.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        capped
            .mul_f64(jitter.clamp(0.5, 1.0))
            .max(self.base_delay.min(capped))
    }

    /// The decision after attempt number `attempt` (1-based) failed with `failure`, with
    /// `remaining` budget left and the server's `Retry-After`, if any.
    pub fn decide(
        &self,
        class: CallClass,
        failure: Failure,
        attempt: u32,
        retry_after: Option<Duration>,
        remaining: Duration,
        jitter: f64,
    ) -> Decision {
        if attempt > self.max_retries || !Self::retryable(class, failure) {
            return Decision::GiveUp;
        }
        let pause = match retry_after {
            Some(wait) if wait > self.max_retry_after => return Decision::GiveUp,
            Some(wait) => wait.max(self.backoff(attempt, jitter)),
            None => self.backoff(attempt, jitter),
        };
        // Leave at least a second for the next attempt itself.
        if pause + Duration::from_secs(1) > remaining {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(pause)
    }
}

/// Parses `Retry-After` given in seconds (the HTTP-date form is treated as absent).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL_CLASSES: [CallClass; 3] = [
        CallClass::Read,
        CallClass::Deduplicated,
        CallClass::Unprotected,
    ];

    fn decide(class: CallClass, failure: Failure) -> Decision {
        RetryPolicy::default().decide(class, failure, 1, None, Duration::from_secs(40), 1.0)
    }

    #[test]
    fn the_table() {
        use CallClass::*;
        use Failure::*;
        let retried = |c, f| matches!(decide(c, f), Decision::RetryAfter(_));
        for class in ALL_CLASSES {
            assert!(retried(class, Connect), "{class:?}");
            assert!(retried(class, Status(429)), "{class:?}");
            for status in [400, 401, 403, 404, 409, 422] {
                assert!(!retried(class, Status(status)), "{class:?} {status}");
            }
        }
        for f in [
            Interrupted,
            Timeout,
            Status(500),
            Status(502),
            Status(503),
            Status(504),
        ] {
            assert!(retried(Read, f) && retried(Deduplicated, f), "{f:?}");
            assert!(
                !retried(Unprotected, f),
                "{f:?} must not be retried for an unprotected write"
            );
        }
        assert!(retried(Read, Malformed));
        assert!(!retried(Deduplicated, Malformed) && !retried(Unprotected, Malformed));
        for class in ALL_CLASSES {
            assert!(
                !retried(class, WrongShape),
                "{class:?}: the same answer comes back"
            );
        }
    }

    #[test]
    fn each_retried_failure_is_counted_under_its_cause() {
        use Failure::*;
        let reason = |f: Failure| f.reason().as_str();
        assert_eq!(reason(Connect), "connect");
        assert_eq!(reason(Interrupted), "interrupted");
        assert_eq!(reason(Timeout), "timeout");
        assert_eq!(reason(Status(429)), "rate_limited");
        for status in [500, 502, 503, 504] {
            assert_eq!(reason(Status(status)), "server_error");
        }
        assert_eq!(reason(Malformed), "malformed");
    }

    #[test]
    fn retry_after_is_honoured_only_within_the_cap_and_budget() {
        let p = RetryPolicy::default();
        let short = p.decide(
            CallClass::Read,
            Failure::Status(429),
            1,
            Some(Duration::from_secs(2)),
            Duration::from_secs(40),
            1.0,
        );
        assert_eq!(short, Decision::RetryAfter(Duration::from_secs(2)));
        let long = p.decide(
            CallClass::Read,
            Failure::Status(429),
            1,
            Some(Duration::from_secs(120)),
            Duration::from_secs(40),
            1.0,
        );
        assert_eq!(long, Decision::GiveUp);
        let no_budget = p.decide(
            CallClass::Read,
            Failure::Status(503),
            1,
            None,
            Duration::from_millis(900),
            1.0,
        );
        assert_eq!(no_budget, Decision::GiveUp);
    }

    #[test]
    fn attempts_are_bounded() {
        let p = RetryPolicy::default();
        let third = p.decide(
            CallClass::Read,
            Failure::Connect,
            3,
            None,
            Duration::from_secs(40),
            1.0,
        );
        assert_eq!(third, Decision::GiveUp);
        assert_eq!(
            RetryPolicy::none().decide(
                CallClass::Read,
                Failure::Connect,
                1,
                None,
                Duration::from_secs(40),
                1.0
            ),
            Decision::GiveUp
        );
    }

    proptest! {
        #[test]
        fn backoff_stays_within_bounds(retry in 1u32..100, jitter in -1.0f64..2.0) {
            let p = RetryPolicy::default();
            let d = p.backoff(retry, jitter);
            prop_assert!(d >= p.base_delay);
            prop_assert!(d <= p.max_delay);
        }

        #[test]
        fn backoff_grows_until_the_cap(retry in 1u32..10) {
            let p = RetryPolicy::default();
            prop_assert!(p.backoff(retry + 1, 1.0) >= p.backoff(retry, 1.0));
        }

        #[test]
        fn client_errors_are_never_retried(status in 400u16..500, attempt in 1u32..5, secs in 0u64..60) {
            prop_assume!(status != 429);
            for class in ALL_CLASSES {
                let d = RetryPolicy::default().decide(class, Failure::Status(status), attempt, None, Duration::from_secs(secs), 0.7);
                prop_assert_eq!(d, Decision::GiveUp);
            }
        }

        #[test]
        fn a_retry_never_overruns_the_budget(attempt in 1u32..4, ms in 0u64..50_000, after in proptest::option::of(0u64..20)) {
            let remaining = Duration::from_millis(ms);
            if let Decision::RetryAfter(pause) = RetryPolicy::default().decide(
                CallClass::Read, Failure::Status(503), attempt, after.map(Duration::from_secs), remaining, 0.8)
            {
                prop_assert!(pause + Duration::from_secs(1) <= remaining);
            }
        }
    }
}
