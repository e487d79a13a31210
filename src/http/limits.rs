//! Per-caller limits of the HTTP mode: how many requests one caller may have open at once
//! (a semaphore per caller) and how many it may start per minute (a keyed `governor` limiter).
//! A refused request answers 429 with `Retry-After` and a JSON body saying what to do.
//!
//! Memory stays bounded whatever the stream of callers: a caller's semaphore lives only while it
//! has a request open (the last permit out removes it), at most [`MAX_CALLERS`] callers are
//! tracked at once, and the rate limiter forgets callers whose budget has refilled.

use std::collections::HashMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use http_body::{Frame, SizeHint};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::{self, LimitKind};

/// The most callers with a request open that are tracked at once; past it, a new caller waits.
pub const MAX_CALLERS: usize = 10_000;

/// How long a caller refused for concurrency is told to wait.
const CONCURRENCY_RETRY_AFTER_SECS: u64 = 1;

/// The limits applied to each caller; `None` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitSettings {
    /// Requests one caller may have open at once (an SSE stream stays open until its body ends).
    pub concurrency: Option<NonZeroUsize>,
    /// Requests one caller may start per minute (with a burst of as many).
    pub per_minute: Option<NonZeroU32>,
}

impl LimitSettings {
    /// The default of `--caller-concurrency`.
    pub const DEFAULT_CONCURRENCY: usize = 8;
    /// The default of `--caller-rate-per-minute`.
    pub const DEFAULT_PER_MINUTE: u32 = 600;

    /// Settings from the flags' counts, where 0 turns a limit off.
    pub fn from_counts(concurrency: usize, per_minute: u32) -> Self {
        Self {
            concurrency: NonZeroUsize::new(concurrency),
            per_minute: NonZeroU32::new(per_minute),
        }
    }
}

impl Default for LimitSettings {
    /// 8 requests open and 600 a minute per caller.
    fn default() -> Self {
        Self::from_counts(Self::DEFAULT_CONCURRENCY, Self::DEFAULT_PER_MINUTE)
    }
}

/// Why a request was refused, with how long to wait; answers 429.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Limited {
    /// The caller already has `limit` requests open.
    #[error(
        "Too many requests at once from this caller (at most {limit} open at a time); wait for \
         one to finish, then retry."
    )]
    Concurrency {
        /// The caller's limit.
        limit: NonZeroUsize,
    },
    /// The caller started `per_minute` requests in the last minute.
    #[error(
        "Too many requests from this caller (at most {per_minute} a minute); retry after \
         {retry_after_secs} s."
    )]
    Rate {
        /// The caller's limit.
        per_minute: NonZeroU32,
        /// Seconds until the next request is admitted.
        retry_after_secs: u64,
    },
    /// Too many distinct callers have requests open on this server.
    #[error("This server is busy with too many callers; retry in a moment.")]
    Busy,
}

impl Limited {
    /// Seconds to wait before retrying (the `Retry-After` value).
    pub fn retry_after_secs(&self) -> u64 {
        match self {
            Self::Concurrency { .. } | Self::Busy => CONCURRENCY_RETRY_AFTER_SECS,
            Self::Rate {
                retry_after_secs, ..
            } => *retry_after_secs,
        }
    }

    /// The limit that refused, as counted.
    pub fn kind(&self) -> LimitKind {
        match self {
            Self::Concurrency { .. } | Self::Busy => LimitKind::Concurrency,
            Self::Rate { .. } => LimitKind::Rate,
        }
    }
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after_secs();
        let body = json!({
            "error": {
                "code": "RATE_LIMITED",
                "limit": self.kind().as_str(),
                "message": self.to_string(),
                "retryAfterSecs": retry_after,
            }
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        response
    }
}

/// The per-caller limits of one server. Cheap to clone (shared state).
#[derive(Clone)]
pub struct CallerLimits {
    inner: Arc<Inner>,
}

struct Inner {
    settings: LimitSettings,
    open: Mutex<HashMap<String, Arc<Semaphore>>>,
    rate: Option<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for CallerLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Caller names stay out of Debug output.
        f.debug_struct("CallerLimits")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl CallerLimits {
    /// Limits as `settings` say.
    pub fn new(settings: LimitSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                open: Mutex::new(HashMap::new()),
                rate: settings
                    .per_minute
                    .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            }),
        }
    }

    /// Admits one request of `caller` (its name: a token's name or a key's fingerprint), or says
    /// which limit refuses it. Hold the result until the response is done: see [`Admitted::hold`].
    pub fn admit(&self, caller: &str) -> Result<Admitted, Limited> {
        let admitted = self.admit_unrecorded(caller);
        if let Err(limited) = &admitted {
            metrics::caller_limited(limited.kind());
        }
        admitted
    }

    fn admit_unrecorded(&self, caller: &str) -> Result<Admitted, Limited> {
        // Concurrency first: a request refused for it does not spend the caller's rate budget.
        let permit = match self.inner.settings.concurrency {
            Some(limit) => Some(self.open_one(caller, limit)?),
            None => None,
        };
        if let (Some(rate), Some(per_minute)) = (&self.inner.rate, self.inner.settings.per_minute) {
            if rate.len() > MAX_CALLERS {
                rate.retain_recent();
            }
            if let Err(not_until) = rate.check_key(&caller.to_owned()) {
                let wait = not_until.wait_time_from(rate.clock().now());
                return Err(Limited::Rate {
                    per_minute,
                    retry_after_secs: whole_seconds(wait),
                });
            }
        }
        Ok(Admitted { permit })
    }

    fn open_one(&self, caller: &str, limit: NonZeroUsize) -> Result<Permit, Limited> {
        let mut open = self.inner.lock();
        // Taken under the lock, like every clone of a caller's semaphore (see `Permit::drop`);
        // never waits: a caller over its limit is told so at once.
        let permit = match open.get(caller) {
            Some(semaphore) => Arc::clone(semaphore).try_acquire_owned(),
            None if open.len() >= MAX_CALLERS => return Err(Limited::Busy),
            None => {
                let semaphore = Arc::new(Semaphore::new(limit.get()));
                open.insert(caller.to_owned(), Arc::clone(&semaphore));
                semaphore.try_acquire_owned()
            }
        };
        drop(open);
        match permit {
            Ok(permit) => Ok(Permit {
                permit: Some(permit),
                caller: caller.to_owned(),
                limits: Arc::clone(&self.inner),
            }),
            Err(_) => Err(Limited::Concurrency { limit }),
        }
    }

    /// Callers tracked for concurrency now (those with a request open).
    #[cfg(test)]
    fn tracked_callers(&self) -> usize {
        self.inner.lock().len()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `wait` rounded up to whole seconds, at least one.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// One caller's slot for one request; released on drop, and the caller forgotten when it was its
/// last.
struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    caller: String,
    limits: Arc<Inner>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        // Under the lock, as every clone of the semaphore is made: a count of one then means
        // nobody else holds or is taking a permit of this caller's.
        let mut open = self.limits.lock();
        drop(self.permit.take());
        if open
            .get(&self.caller)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            open.remove(&self.caller);
        }
    }
}

/// An admitted request. Dropped, it frees the caller's slot; [`Admitted::hold`] keeps the slot
/// until the response's body has been sent.
#[must_use = "the caller's slot is freed when this is dropped"]
pub struct Admitted {
    permit: Option<Permit>,
}

impl std::fmt::Debug for Admitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admitted").finish_non_exhaustive()
    }
}

impl Admitted {
    /// `response`, holding the caller's slot until its body ends or is dropped (an SSE stream
    /// outlives the handler that returned it).
    pub fn hold(self, response: Response) -> Response {
        match self.permit {
            None => response,
            Some(permit) => response.map(|body| {
                Body::new(HeldBody {
                    body,
                    permit: Some(permit),
                })
            }),
        }
    }
}

/// A body that carries a caller's slot until its last frame.
struct HeldBody {
    body: Body,
    permit: Option<Permit>,
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(frame, Poll::Ready(None | Some(Err(_)))) {
            this.permit = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests;
