//! The client layer: the typed SolvaPay REST client. Knows HTTP and SolvaPay's wire format; knows
//! nothing of MCP, and imports only the layers below it (`model`, `redact`, `text`).
//!
//! One [`SolvaPayClient`] (one pooled `reqwest::Client`), built from [`ClientSettings`], serves every
//! tool call. Resource files add methods to it: `customers.rs` holds the customer endpoints, and so on.

mod balance;
mod checkout;
mod credits;
mod customers;
mod error;
mod limits;
mod plans;
mod products;
mod purchases;
#[cfg(test)]
mod reading_tests;
mod refunds;
pub mod retry;
mod settings;
mod transactions;
mod usage;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

pub use balance::ProductBalanceWire;
pub use error::{ApiError, Rejection, TransportKind};
pub use plans::PlanPage;
pub use products::{ProductPage, ProductQuery};
pub use purchases::PurchaseQuery;
pub use refunds::{RefundAnswer, RefundRequest};
pub use retry::{CallClass, RetryPolicy};
pub use settings::{
    ApiKey, ClientSettings, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, KeyMode,
};
pub use transactions::{TransactionPage, TransactionQuery};
pub use usage::MAX_BULK_EVENTS;

use crate::redact::Redactor;
use crate::text::sanitize;
use retry::{Decision, Failure};

/// Largest response body read from SolvaPay; anything bigger is refused, not buffered.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;
/// Longest upstream message passed on to the model.
const MAX_MESSAGE_CHARS: usize = 500;
/// Most requests in flight towards SolvaPay at once; further calls queue.
pub const MAX_CONCURRENT_REQUESTS: usize = 128;

/// The SolvaPay REST client. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct SolvaPayClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Built on first use (or by [`SolvaPayClient::warm_up`]): loading the system's root
    /// certificates takes milliseconds that the MCP handshake should not wait for. Shared by the
    /// clients [`SolvaPayClient::for_key`] derives (one connection pool per process).
    http: Arc<std::sync::OnceLock<reqwest::Client>>,
    base_url: Url,
    ui_base_url: Url,
    key: Option<ApiKey>,
    /// Scrubs the key from every answer before it is decoded, and from every error.
    redactor: Redactor,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    connect_timeout: Duration,
    /// Shared with the derived clients: the ceiling holds for the whole process.
    permits: Arc<tokio::sync::Semaphore>,
    /// The dashboard routes that refused the key ([`RouteKey`]): answered at once from here on.
    /// Kept with the refusal's status; a poisoned lock forgets nothing (its map is still read).
    refused_ui: std::sync::Mutex<std::collections::HashMap<RouteKey, u16>>,
    /// What the `/v1/sdk` routes said of the key so far: the evidence that tells a dashboard route
    /// closed to keys from a key refused everywhere.
    sdk_key: std::sync::atomic::AtomicU8,
}

/// What the `/v1/sdk` routes have said of the key in this process (the value of `Inner.sdk_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum SdkKey {
    /// No `/v1/sdk` answer yet.
    Untried = 0,
    /// A `/v1/sdk` route answered without refusing the key (any status but 401/403).
    Accepted = 1,
    /// A `/v1/sdk` route refused the key (401/403), and none has accepted it since.
    Refused = 2,
}

/// A route as `METHOD /v1/ui/customers/{}`: fixed segments kept, every other segment (a reference
/// or id: anything but a lowercase word) as `{}`. A reference that is a bare word is kept as-is,
/// which only means a refusal of it is not taken for its route's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RouteKey(String);

impl RouteKey {
    fn of(method: &Method, segments: &[&str]) -> Self {
        let path: Vec<&str> = segments
            .iter()
            .map(|s| {
                let fixed = !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
                if fixed { *s } else { "{}" }
            })
            .collect();
        Self(format!("{method} /v1/ui/{}", path.join("/")))
    }
}

impl std::fmt::Debug for SolvaPayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolvaPayClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("key", &self.inner.key)
            .finish_non_exhaustive()
    }
}

/// Which family of routes a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routes {
    /// The public `/v1/sdk/*` API.
    Sdk,
    /// The dashboard `/v1/ui/*` routes (no public equivalent exists for some tools).
    Ui,
}

impl SolvaPayClient {
    /// The client for `settings`. Nothing can fail here: the connection pool is built on first use
    /// (or by [`warm_up`](Self::warm_up)), and reports its failure there.
    pub fn new(settings: impl Into<ClientSettings>) -> Self {
        let settings = settings.into();
        // rustls needs a process-wide crypto provider; a second install is a harmless no-op error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            inner: Arc::new(Inner {
                http: Arc::default(),
                redactor: Redactor::new(settings.key.iter().map(ApiKey::expose)),
                base_url: settings.base_url,
                ui_base_url: settings.ui_base_url,
                key: settings.key,
                retry: settings.retry,
                attempt_timeout: settings.attempt_timeout,
                connect_timeout: settings.connect_timeout,
                permits: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_REQUESTS)),
                refused_ui: std::sync::Mutex::default(),
                sdk_key: std::sync::atomic::AtomicU8::new(SdkKey::Untried as u8),
            }),
        }
    }

    /// A client for the same SolvaPay, with the same settings and connection pool, sending `key`
    /// (a caller's own key, on the HTTP transport). It has its own redactor (of `key`) and its
    /// own memory of what SolvaPay said of the key.
    pub fn for_key(&self, key: ApiKey) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base_url: inner.base_url.clone(),
                ui_base_url: inner.ui_base_url.clone(),
                redactor: Redactor::new([key.expose()]),
                key: Some(key),
                retry: inner.retry,
                attempt_timeout: inner.attempt_timeout,
                connect_timeout: inner.connect_timeout,
                permits: inner.permits.clone(),
                refused_ui: std::sync::Mutex::default(),
                sdk_key: std::sync::atomic::AtomicU8::new(SdkKey::Untried as u8),
            }),
        }
    }

    /// The mode of the key this client sends (`None`: no key).
    pub fn key_mode(&self) -> Option<KeyMode> {
        self.inner.key.as_ref().map(ApiKey::mode)
    }

    /// Builds the HTTP client now (call from a blocking thread at start); later calls are free.
    pub fn warm_up(&self) -> Result<(), ApiError> {
        self.http().map(drop)
    }

    /// The one pooled HTTP client.
    fn http(&self) -> Result<&reqwest::Client, ApiError> {
        if let Some(client) = self.inner.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("solvapay-mcp/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.inner.connect_timeout.min(self.inner.attempt_timeout))
            .timeout(self.inner.attempt_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Transport {
                kind: TransportKind::Connect,
                detail: format!("HTTP client could not be built: {e}"),
            })?;
        // Two first calls racing both build; one client wins and the other is dropped.
        Ok(self.inner.http.get_or_init(|| client))
    }

    /// The redactor of this client's key: what every text leaving the server passes through.
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// `routes` base + `/v1/{sdk|ui}/` + each segment percent-encoded as exactly one path segment.
    pub(crate) fn url(&self, routes: Routes, segments: &[&str]) -> Url {
        let (mut url, family) = match routes {
            Routes::Sdk => (self.inner.base_url.clone(), "sdk"),
            Routes::Ui => (self.inner.ui_base_url.clone(), "ui"),
        };
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v1").push(family).extend(segments);
        }
        url
    }

    /// `GET` with query parameters, decoding the JSON answer.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        routes: Routes,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.send(Method::GET, routes, segments, query, None::<&()>)
            .await
    }

    /// A request with a JSON body, decoding the JSON answer (an empty answer decodes as `null`).
    /// Its retry class follows the method: `GET` reads, `PUT`/`PATCH` are idempotent, anything else
    /// is an unprotected write (see [`retry`]).
    pub(crate) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        routes: Routes,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let class = match method {
            Method::GET | Method::HEAD => CallClass::Read,
            Method::PUT | Method::PATCH => CallClass::Deduplicated,
            _ => CallClass::Unprotected,
        };
        self.send_as(class, method, routes, segments, query, body)
            .await
    }

    /// [`send`](Self::send) with an explicit retry class (e.g. usage events that carry an
    /// `idempotencyKey` are [`CallClass::Deduplicated`]).
    pub(crate) async fn send_as<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        class: CallClass,
        method: Method,
        routes: Routes,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.send_keyed(class, method, routes, segments, query, body, None)
            .await
    }

    /// [`send_as`](Self::send_as) with an `Idempotency-Key` header, the same on every attempt.
    #[expect(
        clippy::too_many_arguments,
        reason = "the one request builder, private to api/"
    )]
    pub(crate) async fn send_keyed<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        class: CallClass,
        method: Method,
        routes: Routes,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ApiError> {
        let key = self.inner.key.as_ref().ok_or(ApiError::MissingKey)?;
        let url = self.url(routes, segments);
        let operation = format!("{method} {}", url.path());
        let ui_route = (routes == Routes::Ui).then(|| RouteKey::of(&method, segments));
        if let Some(status) = ui_route.as_ref().and_then(|r| self.refused(r)) {
            return Err(ApiError::DashboardOnly {
                operation,
                status,
                sdk_accepts_key: true,
            });
        }
        let body = body
            // Serialised once; every attempt shares the bytes (a clone is a reference count).
            .map(|b| serde_json::to_vec(b).map(bytes::Bytes::from))
            .transpose()
            .map_err(|e| ApiError::Decode {
                operation: operation.clone(),
                detail: e.to_string(),
            })?;
        let http = self.http()?;
        let policy = self.inner.retry;
        let deadline = Instant::now() + policy.total_budget;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut request = http
                .request(method.clone(), url.clone())
                .bearer_auth(key.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(
                    self.inner
                        .attempt_timeout
                        .min(remaining)
                        .max(Duration::from_millis(100)),
                );
            if !query.is_empty() {
                request = request.query(query);
            }
            if let Some(k) = idempotency_key {
                request = request.header("Idempotency-Key", k);
            }
            if let Some(bytes) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(bytes.clone());
            }
            let answer = self.attempt(request, &operation).await;
            if routes == Routes::Sdk {
                self.note_sdk_answer(&answer);
            }
            let (failure, retry_after, error) = match answer {
                Ok(bytes) => match decode(&operation, &bytes, &self.inner.redactor) {
                    Ok(value) => return Ok(value),
                    Err(e @ ApiError::Unreadable { .. }) => (Failure::WrongShape, None, e),
                    Err(e) => (Failure::Malformed, None, e),
                },
                Err(failed) => failed,
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let jitter = 0.5 + rand::random::<f64>() / 2.0;
            match policy.decide(class, failure, attempt, retry_after, remaining, jitter) {
                Decision::RetryAfter(pause) => {
                    tracing::warn!(%operation, attempt, ?failure, ?pause, "retrying SolvaPay call");
                    crate::metrics::upstream_retry(failure.reason());
                    tokio::time::sleep(pause).await;
                }
                Decision::GiveUp => {
                    let error = match (ui_route, error.status(), self.sdk_key()) {
                        // The same key refused on /v1/sdk too: the key itself is refused.
                        (Some(_), Some(401 | 403), SdkKey::Refused) | (None, ..) => error,
                        (Some(route), Some(status @ (401 | 403)), SdkKey::Accepted) => {
                            self.remember_refusal(route, status);
                            ApiError::DashboardOnly {
                                operation,
                                status,
                                sdk_accepts_key: true,
                            }
                        }
                        // No /v1/sdk answer yet: said as both, and asked again next time.
                        (Some(_), Some(status @ (401 | 403)), SdkKey::Untried) => {
                            ApiError::DashboardOnly {
                                operation,
                                status,
                                sdk_accepts_key: false,
                            }
                        }
                        (Some(_), ..) => error,
                    };
                    // Any text in the error may come from SolvaPay (bodies, headers, decoder messages).
                    let error = error.redacted(&self.inner.redactor);
                    // A read changed nothing, whatever became of its answer.
                    return Err(if class == CallClass::Read && error.outcome_unknown() {
                        ApiError::Read(Box::new(error))
                    } else {
                        error
                    });
                }
            }
        }
    }

    /// What the `/v1/sdk` routes have said of the key so far.
    fn sdk_key(&self) -> SdkKey {
        match self
            .inner
            .sdk_key
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            1 => SdkKey::Accepted,
            2 => SdkKey::Refused,
            _ => SdkKey::Untried,
        }
    }

    /// Keeps what a `/v1/sdk` answer says of the key: any HTTP answer but 401/403 accepts it (a
    /// 404 too: the key was let in); a 401/403 refuses it until another answer accepts it.
    fn note_sdk_answer<T>(&self, answer: &Result<T, (Failure, Option<Duration>, ApiError)>) {
        let said = match answer {
            Ok(_) => SdkKey::Accepted,
            Err((Failure::Status(401 | 403), ..)) => SdkKey::Refused,
            Err((Failure::Status(_), ..)) => SdkKey::Accepted,
            Err(_) => return,
        };
        self.inner
            .sdk_key
            .store(said as u8, std::sync::atomic::Ordering::Relaxed);
    }

    /// The status with which the dashboard route `route` refused the key earlier, if it did.
    fn refused(&self, route: &RouteKey) -> Option<u16> {
        let refused = self
            .inner
            .refused_ui
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        refused.get(route).copied()
    }

    /// Remembers for the life of the process that the dashboard route `route` refused the key
    /// with `status` (401/403). The same key is not then "invalid": a refusal on `/v1/sdk` is
    /// answered as that, and never remembered.
    fn remember_refusal(&self, route: RouteKey, status: u16) {
        tracing::warn!(route = %route.0, status, "dashboard route refused the API key; not calling it again");
        self.inner
            .refused_ui
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(route, status);
    }

    /// One attempt: the body of a 2xx answer, or why it failed (with any `Retry-After`).
    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
        operation: &str,
    ) -> Result<Vec<u8>, (Failure, Option<Duration>, ApiError)> {
        // The semaphore is never closed, so `acquire` cannot fail; without a permit the request
        // would still be sent, only unqueued.
        let _permit = self.inner.permits.acquire().await.ok();
        tracing::debug!(%operation, "request");
        let response = request
            .send()
            .await
            .map_err(|e| failed(transport_error(e)))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-request-id")
            .or_else(|| header("x-correlation-id"))
            .map(|v| sanitize(&v, 100));
        let retry_after = header("retry-after")
            .as_deref()
            .and_then(retry::parse_retry_after);
        let mut body = read_capped(response).await.map_err(failed)?;
        tracing::debug!(%operation, status = status.as_u16(), bytes = body.len(), "response");
        // Some APIs echo the key, refused or not, raw or encoded: it must never reach a decoder,
        // the model or the logs. Escaped forms are seen through, so the decoded JSON is clean too.
        if let std::borrow::Cow::Owned(clean) = self.inner.redactor.scrub_bytes(&body) {
            body = clean;
        }
        if status.is_success() {
            Ok(body)
        } else {
            let e = status_error(status, &body, request_id);
            Err((Failure::Status(status.as_u16()), retry_after, e))
        }
    }
}

/// Classifies a failed attempt for the retry policy.
fn failed(e: ApiError) -> (Failure, Option<Duration>, ApiError) {
    let failure = match &e {
        ApiError::Transport {
            kind: TransportKind::Connect,
            ..
        } => Failure::Connect,
        ApiError::Transport {
            kind: TransportKind::Timeout,
            ..
        } => Failure::Timeout,
        ApiError::TooLarge { .. } => Failure::Malformed,
        _ => Failure::Interrupted,
    };
    (failure, None, e)
}

fn transport_error(e: reqwest::Error) -> ApiError {
    let kind = if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Interrupted
    };
    // `without_url` keeps paths and queries out of the message shown to the model.
    let detail = sanitize(&e.without_url().to_string(), MAX_MESSAGE_CHARS);
    ApiError::Transport { kind, detail }
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(ApiError::TooLarge {
            limit: MAX_RESPONSE_BYTES,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ApiError::TooLarge {
                limit: MAX_RESPONSE_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes a (scrubbed) answer in two steps, so the retry policy can tell them apart: bytes that are
/// not JSON ([`ApiError::Decode`], cut short: a read asks again), then JSON that is not the shape
/// expected ([`ApiError::Unreadable`], naming the field: asking again gets the same). When the
/// answer holds escapes, its strings are scrubbed once more after parsing: `\u0025` then `5F` is a
/// `%5F` the scrub of the raw bytes could not see.
fn decode<T: DeserializeOwned>(
    operation: &str,
    body: &[u8],
    redactor: &Redactor,
) -> Result<T, ApiError> {
    let trimmed = body.trim_ascii();
    let mut value = if trimmed.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(trimmed).map_err(|e| ApiError::Decode {
            operation: operation.to_owned(),
            detail: sanitize(&e.to_string(), 200),
        })?
    };
    if redactor.is_active() && memchr::memchr(b'\\', trimmed).is_some() {
        redactor.scrub_json(&mut value);
    }
    read_value(operation, unwrap_envelope(value))
}

/// SolvaPay's envelope `{"data": …}` (alone, or beside `success`, `message`, `statusCode`,
/// `timestamp`) read as what it wraps; any other answer as it is. A list with its `total` beside
/// `data` is not an envelope: the list readers take it as it is.
fn unwrap_envelope(value: Value) -> Value {
    const ENVELOPE: [&str; 5] = ["data", "success", "message", "statusCode", "timestamp"];
    match value {
        Value::Object(mut map)
            if map.get("data").is_some_and(|d| !d.is_null())
                && map.keys().all(|k| ENVELOPE.contains(&k.as_str())) =>
        {
            map.remove("data").unwrap_or_default()
        }
        other => other,
    }
}

/// `value` as a `T`, or [`ApiError::Unreadable`] naming the field at fault.
pub(crate) fn read_value<T: DeserializeOwned>(
    operation: &str,
    value: Value,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        ApiError::Unreadable {
            operation: operation.to_owned(),
            field: sanitize(&field, 200),
            detail: sanitize(&e.into_inner().to_string(), 200),
        }
    })
}

/// Turns a non-2xx answer into [`ApiError::Status`]: NestJS JSON (`message` string or array, `error`),
/// Zod's `errors[]`, or a plain-text / HTML body.
fn status_error(status: StatusCode, body: &[u8], request_id: Option<String>) -> ApiError {
    let text = String::from_utf8_lossy(body);
    let (message, error) = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => {
            let message = message_text(obj.get("message"))
                .or_else(|| zod_errors(obj.get("errors")))
                .or_else(|| obj.get("error").and_then(|e| message_text(Some(e))))
                .unwrap_or_default();
            let error = obj
                .get("error")
                .and_then(Value::as_str)
                .map(|e| sanitize(e, 100));
            let message = match zod_errors(obj.get("errors")) {
                Some(details) if !message.contains(&details) => format!("{message}: {details}"),
                _ => message,
            };
            (message, error)
        }
        Ok(Value::String(s)) => (s, None),
        _ if text.trim_start().starts_with('<') => (String::new(), None),
        _ => (text.trim().to_owned(), None),
    };
    let message = if message.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    ApiError::Status {
        status: status.as_u16(),
        message: sanitize(&message, MAX_MESSAGE_CHARS),
        error,
        request_id,
    }
}

fn message_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
                    _ => None,
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        Value::Object(o) => o.get("message").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn zod_errors(value: Option<&Value>) -> Option<String> {
    let items = value?.as_array()?;
    let parts: Vec<String> = items
        .iter()
        .filter_map(|i| {
            let msg = i.get("message")?.as_str()?;
            let path: Vec<String> = i
                .get("path")
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Some(if path.is_empty() {
                msg.to_owned()
            } else {
                format!("{}: {msg}", path.join("."))
            })
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> SolvaPayClient {
        let base = Url::parse("http://127.0.0.1:9/base/").unwrap();
        SolvaPayClient::new(ClientSettings::new(base, Some(ApiKey::new("sk_test_x"))))
    }

    #[test]
    fn every_reference_is_exactly_one_path_segment() {
        let url = client().url(Routes::Sdk, &["customers", "cus_1/../../admin?x=1#f"]);
        assert_eq!(
            url.path(),
            "/base/v1/sdk/customers/cus_1%2F..%2F..%2Fadmin%3Fx=1%23f"
        );
        assert_eq!(url.query(), None);
        assert_eq!(
            client().url(Routes::Ui, &["customers"]).as_str(),
            "http://127.0.0.1:9/base/v1/ui/customers"
        );
    }

    #[test]
    fn a_dashboard_route_is_remembered_by_its_shape_not_its_references() {
        let key = |m: Method, s: &[&str]| RouteKey::of(&m, s).0;
        assert_eq!(
            key(Method::DELETE, &["customers", "507f1f77bcf86cd799439011"]),
            key(Method::DELETE, &["customers", "cus_A1B2C3D4"])
        );
        assert_eq!(
            key(Method::GET, &["transactions", "txn_D7E8F9G0"]),
            "GET /v1/ui/transactions/{}"
        );
        assert_ne!(
            key(Method::GET, &["transactions", "stats"]),
            key(Method::GET, &["transactions", "txn_D7E8F9G0"])
        );
        assert_ne!(
            key(Method::GET, &["customers"]),
            key(Method::DELETE, &["customers", "cus_A1B2C3D4"])
        );
    }

    #[test]
    fn error_bodies_of_every_shape() {
        let e = status_error(
            StatusCode::NOT_FOUND,
            br#"{"statusCode":404,"message":"Customer with reference cus_X not found","error":"Not Found"}"#,
            Some("req-1".into()),
        );
        assert!(
            matches!(&e, ApiError::Status { status: 404, message, error: Some(err), request_id: Some(id) }
            if message == "Customer with reference cus_X not found" && err == "Not Found" && id == "req-1")
        );
        let e = status_error(
            StatusCode::BAD_REQUEST,
            br#"{"message":["email must be an email","name too long"]}"#,
            None,
        );
        assert!(
            e.to_string()
                .contains("email must be an email; name too long"),
            "{e}"
        );
        let e = status_error(
            StatusCode::BAD_REQUEST,
            br#"{"statusCode":400,"message":"Validation failed","errors":[{"path":["events",0,"customerRef"],"message":"Required"}]}"#,
            None,
        );
        assert!(
            e.to_string()
                .contains("Validation failed: events.0.customerRef: Required"),
            "{e}"
        );
        let e = status_error(StatusCode::UNAUTHORIZED, b"unauthorized", None);
        assert!(e.to_string().ends_with("unauthorized"));
        let e = status_error(
            StatusCode::BAD_GATEWAY,
            b"<html><body>nginx</body></html>",
            None,
        );
        assert!(e.to_string().ends_with("Bad Gateway"), "{e}");
        let e = status_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "x\u{7}".repeat(400).as_bytes(),
            None,
        );
        assert!(e.to_string().chars().count() < 600 && !e.to_string().contains('\u{7}'));
    }

    #[test]
    fn conflicts_are_recognised_by_status_or_message() {
        let conflict = |status, message: &str| ApiError::Status {
            status,
            message: message.into(),
            error: None,
            request_id: None,
        };
        assert!(conflict(409, "dup").is_conflict());
        assert!(conflict(400, "Customer with this email already exists").is_conflict());
        assert!(!conflict(500, "already exists").is_conflict());
        assert!(!conflict(400, "Invalid email").is_conflict());
    }

    fn any_api_error() -> impl proptest::strategy::Strategy<Value = ApiError> {
        use proptest::prelude::*;
        prop_oneof![
            (100u16..600).prop_map(|status| ApiError::Status {
                status,
                message: "m".into(),
                error: None,
                request_id: None
            }),
            prop_oneof![
                Just(TransportKind::Connect),
                Just(TransportKind::Timeout),
                Just(TransportKind::Interrupted)
            ]
            .prop_map(|kind| ApiError::Transport {
                kind,
                detail: "d".into()
            }),
            Just(ApiError::TooLarge { limit: 1 }),
            Just(ApiError::Decode {
                operation: "POST /x".into(),
                detail: "d".into()
            }),
        ]
    }

    /// The failure the retry loop sees for `e` (statuses come from the answer, the rest from `failed`).
    fn failure_of(e: &ApiError) -> Failure {
        match e {
            ApiError::Status { status, .. } => Failure::Status(*status),
            ApiError::Decode { .. } => Failure::Malformed,
            other => failed(other.clone()).0,
        }
    }

    proptest::proptest! {
        #[test]
        fn a_valid_reference_is_always_exactly_its_own_path_segment(raw in "\\PC{0,80}|[A-Za-z0-9_.%/?#-]{1,70}") {
            let Ok(reference) = crate::model::ids::check_reference("reference", &raw) else {
                return Ok(());
            };
            let url = client().url(Routes::Sdk, &["customers", &reference]);
            let segments: Vec<String> = url
                .path_segments()
                .unwrap()
                .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned())
                .collect();
            proptest::prop_assert_eq!(segments, vec!["base", "v1", "sdk", "customers", reference.as_str()]);
            proptest::prop_assert_eq!(url.query(), None);
            proptest::prop_assert_eq!(url.fragment(), None);
        }

        #[test]
        fn the_url_builder_encodes_any_segment_but_dot_segments(segment in "\\PC{1,40}") {
            // `.` and `..` are dropped by the URL library: references must never be either, which the
            // reference validator guarantees (it refuses '.').
            proptest::prop_assume!(segment != "." && segment != "..");
            let url = client().url(Routes::Ui, &["transactions", &segment]);
            let last = url.path_segments().unwrap().next_back().unwrap().to_owned();
            proptest::prop_assert_eq!(
                percent_encoding::percent_decode_str(&last).decode_utf8().unwrap(),
                segment.as_str()
            );
            proptest::prop_assert_eq!(url.path_segments().unwrap().count(), 5);
        }

        #[test]
        fn an_unprotected_write_is_never_retried_once_it_may_have_been_sent(
            error in any_api_error(),
            attempt in 1u32..4,
            after in proptest::option::of(0u64..20),
            remaining_ms in 0u64..60_000,
            jitter in 0.0f64..1.0,
        ) {
            let failure = failure_of(&error);
            let decision = RetryPolicy::default().decide(
                CallClass::Unprotected,
                failure,
                attempt,
                after.map(Duration::from_secs),
                Duration::from_millis(remaining_ms),
                jitter,
            );
            if error.outcome_unknown() {
                proptest::prop_assert_eq!(decision, Decision::GiveUp, "{:?}", error);
            }
            if let Decision::RetryAfter(_) = decision {
                proptest::prop_assert!(matches!(failure, Failure::Connect | Failure::Status(429)), "{:?}", failure);
            }
        }

        #[test]
        fn connect_failures_are_retried_while_attempts_and_budget_last(attempt in 1u32..3, class in 0usize..3) {
            let class = [CallClass::Read, CallClass::Deduplicated, CallClass::Unprotected][class];
            let decision = RetryPolicy::default().decide(class, Failure::Connect, attempt, None, Duration::from_secs(40), 0.5);
            proptest::prop_assert!(matches!(decision, Decision::RetryAfter(_)));
        }
    }
}
