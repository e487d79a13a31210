//! The server's metrics: their names, and the functions that record them on the `metrics` crate's
//! facade (a no-op until a recorder is installed, as the HTTP mode's Prometheus exporter does, see
//! `crate::http::metrics`). A leaf, callable from any layer: it imports nothing from the crate
//! (`ErrorKind::counted` says how each failure is counted).
//!
//! Every label value is a tool name (`&'static str`, from the catalog) or a member of a closed
//! set below: no key, token, argument or customer data can reach a label.

use std::time::Instant;

/// Tool calls finished, by `tool` and [`CallOutcome`] (`outcome`).
pub const TOOL_CALLS_TOTAL: &str = "solvapay_mcp_tool_calls_total";
/// Tool call latency in seconds, by `tool`.
pub const TOOL_CALL_DURATION_SECONDS: &str = "solvapay_mcp_tool_call_duration_seconds";
/// Tool calls running now.
pub const TOOL_CALLS_IN_FLIGHT: &str = "solvapay_mcp_tool_calls_in_flight";
/// Retries of SolvaPay requests, by [`RetryReason`] (`reason`).
pub const UPSTREAM_RETRIES_TOTAL: &str = "solvapay_mcp_upstream_retries_total";
/// HTTP requests refused by a per-caller limit, by [`LimitKind`] (`limit`).
pub const CALLER_LIMITED_TOTAL: &str = "solvapay_mcp_caller_limited_total";

/// The latency histogram's bucket bounds, in seconds: 1 ms (the sandbox) to 60 s (a host's limit
/// for one call).
pub const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The label a tool call is counted under when the tool does not exist (the name asked for is
/// caller input, so it never becomes a label).
pub const UNKNOWN_TOOL: &str = "unknown";

/// How a tool call ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// It succeeded.
    Ok,
    /// The person was asked to confirm (an MRTR input request): nothing was sent yet.
    Asked,
    /// The person did not confirm, or the confirmation did not hold: nothing was sent.
    Refused,
    /// It may or may not have been applied upstream.
    Unknown,
    /// A tool-level error (`isError`) coded `NOT_FOUND`.
    NotFound,
    /// A tool-level error coded `VALIDATION_ERROR`.
    ValidationError,
    /// A tool-level error coded `UNAUTHORIZED`.
    Unauthorized,
    /// A tool-level error coded `INTERNAL_ERROR`.
    InternalError,
    /// A protocol error (unknown tool, bad request, cancelled).
    ProtocolError,
    /// The call was dropped before it answered (the client went away).
    Cancelled,
}

impl CallOutcome {
    /// The `outcome` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Asked => "asked",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
            Self::NotFound => "not_found",
            Self::ValidationError => "validation_error",
            Self::Unauthorized => "unauthorized",
            Self::InternalError => "internal_error",
            Self::ProtocolError => "protocol_error",
            Self::Cancelled => "cancelled",
        }
    }
}

/// One tool call being measured: in flight while alive. [`ToolCall::finish`] counts it and
/// records its latency; dropped unfinished (a cancelled call), it is counted as
/// [`CallOutcome::Cancelled`]. Either way the in-flight gauge goes back down.
#[derive(Debug)]
#[must_use = "a call is measured until it is finished or dropped"]
pub struct ToolCall {
    tool: &'static str,
    started: Instant,
    finished: bool,
}

impl ToolCall {
    /// Starts measuring a call of `tool`.
    pub fn start(tool: &'static str) -> Self {
        metrics::gauge!(TOOL_CALLS_IN_FLIGHT).increment(1.0);
        Self {
            tool,
            started: Instant::now(),
            finished: false,
        }
    }

    /// Counts the call as ended with `outcome`.
    pub fn finish(mut self, outcome: CallOutcome) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: CallOutcome) {
        self.finished = true;
        metrics::counter!(TOOL_CALLS_TOTAL, "tool" => self.tool, "outcome" => outcome.as_str())
            .increment(1);
        metrics::histogram!(TOOL_CALL_DURATION_SECONDS, "tool" => self.tool)
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl Drop for ToolCall {
    fn drop(&mut self) {
        if !self.finished {
            self.record(CallOutcome::Cancelled);
        }
        metrics::gauge!(TOOL_CALLS_IN_FLIGHT).decrement(1.0);
    }
}

/// Counts a call of a tool that does not exist (or is not enabled).
pub fn unknown_tool() {
    metrics::counter!(
        TOOL_CALLS_TOTAL,
        "tool" => UNKNOWN_TOOL,
        "outcome" => CallOutcome::ProtocolError.as_str()
    )
    .increment(1);
}

/// Why a SolvaPay request was sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// The connection could not be made.
    Connect,
    /// The connection broke, or the body was cut short, after the request may have left.
    Interrupted,
    /// No complete answer in time.
    Timeout,
    /// SolvaPay answered 429.
    RateLimited,
    /// SolvaPay answered with a server error (5xx).
    ServerError,
    /// A success whose body could not be read.
    Malformed,
}

impl RetryReason {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Interrupted => "interrupted",
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::Malformed => "malformed",
        }
    }
}

/// Counts one retry of a SolvaPay request.
pub fn upstream_retry(reason: RetryReason) {
    metrics::counter!(UPSTREAM_RETRIES_TOTAL, "reason" => reason.as_str()).increment(1);
}

/// Which per-caller limit refused an HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Too many calls of this caller at once.
    Concurrency,
    /// Too many calls of this caller this minute.
    Rate,
}

impl LimitKind {
    /// The `limit` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Concurrency => "concurrency",
            Self::Rate => "rate",
        }
    }
}

/// Counts one request refused by a per-caller limit.
pub fn caller_limited(limit: LimitKind) {
    metrics::counter!(CALLER_LIMITED_TOTAL, "limit" => limit.as_str()).increment(1);
}

/// Gives every metric its help text (for the exporter to print); call once a recorder is installed.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        TOOL_CALLS_TOTAL,
        "Tool calls finished, by tool and outcome."
    );
    describe_histogram!(
        TOOL_CALL_DURATION_SECONDS,
        Unit::Seconds,
        "Tool call latency, by tool."
    );
    describe_gauge!(TOOL_CALLS_IN_FLIGHT, "Tool calls running now.");
    describe_counter!(
        UPSTREAM_RETRIES_TOTAL,
        "Retries of SolvaPay requests, by reason."
    );
    describe_counter!(
        CALLER_LIMITED_TOTAL,
        "HTTP requests refused by a per-caller limit, by limit."
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

    /// One metric as recorded: name, labels, value.
    type Seen = (String, Vec<(String, String)>, DebugValue);

    fn values(snapshotter: &Snapshotter) -> Vec<Seen> {
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let labels = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                (key.name().to_owned(), labels, value)
            })
            .collect()
    }

    /// How far the in-flight gauge moved in `seen` (a debugging snapshot drains what it reads, so
    /// each snapshot holds the changes since the one before).
    fn in_flight_change(seen: &[Seen]) -> f64 {
        seen.iter()
            .find_map(|(name, _, value)| match value {
                DebugValue::Gauge(g) if name == TOOL_CALLS_IN_FLIGHT => Some(g.into_inner()),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_dropped_call_leaves_flight_and_is_counted_as_cancelled() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let _local = metrics::set_default_local_recorder(&recorder);

        let call = ToolCall::start("list_customers");
        let while_alive = values(&snapshotter);
        drop(call);
        let after = values(&snapshotter);

        assert_eq!(in_flight_change(&while_alive), 1.0, "in flight while alive");
        assert_eq!(
            in_flight_change(&after),
            -1.0,
            "and out of flight once dropped"
        );
        let counted: Vec<_> = after
            .iter()
            .filter(|(name, ..)| name == TOOL_CALLS_TOTAL)
            .map(|(_, labels, value)| (labels.clone(), value))
            .collect();
        assert_eq!(
            counted,
            [(
                vec![
                    ("tool".to_owned(), "list_customers".to_owned()),
                    ("outcome".to_owned(), "cancelled".to_owned())
                ],
                &DebugValue::Counter(1)
            )]
        );
    }

    #[test]
    fn a_finished_call_is_counted_once_with_its_outcome() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            ToolCall::start("create_refund").finish(CallOutcome::Unknown);
        });
        let all = values(&snapshotter);
        let counters: Vec<_> = all
            .iter()
            .filter(|(name, ..)| name == TOOL_CALLS_TOTAL)
            .collect();
        let [(_, labels, count)] = counters.as_slice() else {
            panic!("one counter expected: {all:?}");
        };
        assert_eq!(
            labels,
            &[
                ("tool".to_owned(), "create_refund".to_owned()),
                ("outcome".to_owned(), "unknown".to_owned())
            ]
        );
        assert_eq!(count, &DebugValue::Counter(1));
        let latency = all
            .iter()
            .find(|(name, ..)| name == TOOL_CALL_DURATION_SECONDS);
        assert!(
            matches!(latency, Some((_, _, DebugValue::Histogram(h))) if h.len() == 1),
            "{all:?}"
        );
        assert_eq!(in_flight_change(&all), 0.0, "up and down again");
    }
}
