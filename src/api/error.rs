//! What a SolvaPay call can fail with. Keeps the HTTP status, SolvaPay's own message and the request id;
//! never the key, headers or a URL with a query.

use std::fmt;

use crate::redact::Redactor;

/// A failed SolvaPay request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// No secret key is configured.
    #[error("no SolvaPay API key is configured")]
    MissingKey,
    /// SolvaPay answered with a non-2xx status.
    #[error("SolvaPay answered HTTP {status}: {message}")]
    Status {
        /// HTTP status code.
        status: u16,
        /// SolvaPay's `message` (array messages joined with "; "), or the plain-text body.
        message: String,
        /// SolvaPay's `error` label (e.g. "Not Found"), when present.
        error: Option<String>,
        /// The `x-request-id` (or `x-correlation-id`) response header, when present.
        request_id: Option<String>,
    },
    /// The request did not complete: no answer, or no complete answer, came back.
    #[error("{kind} while calling SolvaPay: {detail}")]
    Transport {
        /// What went wrong on the wire.
        kind: TransportKind,
        /// Short description, without URL or headers.
        detail: String,
    },
    /// The answer was larger than the cap.
    #[error("SolvaPay's answer exceeded {limit} bytes and was discarded")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// A dashboard route (`/v1/ui/*`) refused the API key with 401/403, now or earlier in this
    /// process: the route is not open to API keys (the `/v1/sdk` routes are a separate matter).
    #[error("SolvaPay's dashboard route {operation} refused the API key (HTTP {status})")]
    DashboardOnly {
        /// `METHOD /path` of the refused request.
        operation: String,
        /// The refusal's status (401 or 403).
        status: u16,
        /// Whether a `/v1/sdk` route has accepted the same key in this process (then the refusal
        /// is remembered); without that evidence the key itself may be the cause.
        sdk_accepts_key: bool,
    },
    /// A 2xx answer that is not JSON at all (cut short, or garbled): asking again may get a whole one.
    #[error("SolvaPay's answer to {operation} could not be read: {detail}")]
    Decode {
        /// `METHOD /path` of the request.
        operation: String,
        /// Where and why decoding failed.
        detail: String,
    },
    /// A 2xx answer in valid JSON of a shape this server cannot read (a field of the wrong type, a
    /// required one missing): deterministic, so never retried.
    #[error("SolvaPay's answer to {operation} cannot be read by this server: `{field}` {detail}")]
    Unreadable {
        /// `METHOD /path` of the request.
        operation: String,
        /// The JSON path of the field at fault (`purchases[2].amount`; `.` for the whole answer).
        field: String,
        /// Why it could not be read.
        detail: String,
    },
    /// A read that got no usable answer (no answer in time, a cut connection, garbled JSON, or a
    /// 5xx): a read changes nothing, so its outcome is never unknown.
    #[error("{0}")]
    Read(Box<ApiError>),
}

/// What a 4xx answer means ([`ApiError::rejection`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 401/403: the key is missing, wrong or expired.
    Key,
    /// 404 for a route that API keys cannot use.
    NoRoute,
    /// 404: no such object.
    NotFound,
    /// 409 (or a 4xx saying "already exists"): a duplicate.
    Conflict,
    /// 429: too many requests.
    RateLimited,
    /// Any other 4xx: the request broke a rule.
    Invalid,
}

/// The ways a request can fail before a complete HTTP answer arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection could not be made: nothing was sent.
    Connect,
    /// No complete answer within the time allowed: the request may have been processed.
    Timeout,
    /// The connection broke after the request was sent: it may have been processed.
    Interrupted,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "timed out",
            TransportKind::Interrupted => "connection interrupted",
        })
    }
}

impl ApiError {
    /// The HTTP status, when SolvaPay answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Read(cause) => cause.status(),
            _ => None,
        }
    }

    /// True for 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A duplicate ([`Rejection::Conflict`]).
    pub fn is_conflict(&self) -> bool {
        self.rejection() == Some(Rejection::Conflict)
    }

    /// Why SolvaPay refused the request, for the 4xx answers that say nothing was applied; `None`
    /// for every other failure. The status decides, except where SolvaPay says no more than its
    /// message: a duplicate sent back as 400/422 (documented only as "a message containing
    /// `already exists`", CONTRACT Q14), and a route that does not exist for API keys (404 with
    /// NestJS's `Cannot <METHOD> <path>`, the same status and `error` label as a missing object).
    /// Those two readings of SolvaPay's text are the only ones, and they stay here.
    pub fn rejection(&self) -> Option<Rejection> {
        if let ApiError::Read(cause) = self {
            return cause.rejection();
        }
        let ApiError::Status {
            status, message, ..
        } = self
        else {
            return None;
        };
        Some(match status {
            401 | 403 => Rejection::Key,
            404 if message.starts_with("Cannot ") => Rejection::NoRoute,
            404 => Rejection::NotFound,
            409 => Rejection::Conflict,
            429 => Rejection::RateLimited,
            400..=499 if message.to_ascii_lowercase().contains("already exists") => {
                Rejection::Conflict
            }
            400..=499 => Rejection::Invalid,
            _ => return None,
        })
    }

    /// True when the request may have reached SolvaPay and been acted on although no answer was read
    /// (never for a read, nor for an answer read whole but of the wrong shape).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ApiError::Transport {
                kind: TransportKind::Timeout | TransportKind::Interrupted,
                ..
            }
        ) || matches!(
            self,
            ApiError::Status {
                status: 500 | 502..=504,
                ..
            }
        ) || matches!(self, ApiError::TooLarge { .. } | ApiError::Decode { .. })
    }

    /// This error with every secret scrubbed from its texts (they may quote SolvaPay).
    pub(crate) fn redacted(mut self, redactor: &Redactor) -> Self {
        match &mut self {
            ApiError::Status {
                message,
                error,
                request_id,
                ..
            } => {
                redactor.scrub_string(message);
                error.iter_mut().for_each(|e| redactor.scrub_string(e));
                request_id.iter_mut().for_each(|r| redactor.scrub_string(r));
            }
            ApiError::Transport { detail, .. } | ApiError::Decode { detail, .. } => {
                redactor.scrub_string(detail);
            }
            ApiError::DashboardOnly { operation, .. } => redactor.scrub_string(operation),
            ApiError::Unreadable { field, detail, .. } => {
                redactor.scrub_string(field);
                redactor.scrub_string(detail);
            }
            ApiError::Read(cause) => {
                let clean = std::mem::replace(cause.as_mut(), ApiError::MissingKey);
                **cause = clean.redacted(redactor);
            }
            ApiError::MissingKey | ApiError::TooLarge { .. } => {}
        }
        self
    }
}
