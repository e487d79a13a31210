//! The Streamable HTTP transport (beside `stdio`): rmcp's [`StreamableHttpService`] mounted at
//! `/mcp` behind rmcp's `Host` and `Origin` check, then the caller check of [`auth`], with
//! `/healthz` and `/readyz`, in an axum router.
//! Every request gets a clone of the one [`BillingServer`] (cheap: its parts are shared), so the
//! process holds no per-caller state that a replica could not lose.
//!
//! - `auth.rs`: who may call (caller keys, operator tokens, anonymous sandbox) and the 401 body.
//! - `tokens.rs`: the operator token file and `token new`.

pub mod auth;
pub mod limits;
pub mod metrics;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::BillingServer;
use crate::caller::Caller;
use crate::config::ConfigError;
use crate::state::SharedState;
use crate::state::sessions::SessionTable;
pub use auth::Access;
use limits::{CallerLimits, LimitSettings};
use metrics::{Metrics, serve_metrics};

/// The path MCP is served on.
pub const MCP_PATH: &str = "/mcp";

/// Default largest request body (`--max-body-bytes`): 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The hosts a request's `Host` may name whatever the operator allows (no DNS rebinding can point
/// an attacker's name at them).
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The network-facing settings of the HTTP transport.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Extra `Host` values accepted beside the loopback ones (DNS-rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// Browser `Origin`s accepted; any other Origin present is answered 403.
    pub allowed_origins: Vec<String>,
    /// Largest request body; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Per-caller concurrency and rate.
    pub limits: LimitSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            limits: LimitSettings::default(),
        }
    }
}

impl HttpSettings {
    /// Refuses a bind that would put the server on a network unprotected: a non-loopback address
    /// needs `--allowed-host`, and the anonymous sandbox listens on loopback only.
    /// `admits_anyone`: the deployment takes no credential.
    pub fn check_bind(&self, addr: SocketAddr, admits_anyone: bool) -> Result<(), ConfigError> {
        if addr.ip().is_loopback() {
            return Ok(());
        }
        if admits_anyone {
            return Err(ConfigError {
                var: "--http",
                problem: format!(
                    "{addr} is not a loopback address, and the sandbox without --tokens admits \
                     anyone: listen on 127.0.0.1, or admit callers with --tokens FILE"
                ),
            });
        }
        if self.allowed_hosts.is_empty() {
            return Err(ConfigError {
                var: "--allowed-host",
                problem: format!(
                    "{addr} is not a loopback address: name the host names clients reach this \
                     server by with --allowed-host (SOLVAPAY_HTTP_ALLOWED_HOSTS), so DNS \
                     rebinding cannot reach it"
                ),
            });
        }
        Ok(())
    }
}

/// Whether the server takes new work: `/readyz` answers 503 once draining has begun, or while
/// the shared state (PostgreSQL) does not answer.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
    state: Option<SharedState>,
}

impl Readiness {
    /// Ready while not draining and while `state` (if any) answers.
    pub fn new(state: Option<SharedState>) -> Self {
        Self {
            draining: Arc::default(),
            state,
        }
    }

    /// From now on `/readyz` answers 503.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// True until [`drain`](Self::drain).
    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst)
    }
}

/// The router: MCP at [`MCP_PATH`] for the callers `access` admits (each within its limits),
/// `/healthz`, `/readyz` and, when `metrics` is installed, `/metrics`. With a shared state the
/// 2025-11-25 sessions live there, so any replica can serve a session another one started.
/// Cancelling `stop` ends every open MCP stream.
pub fn router(
    server: BillingServer,
    access: Access,
    settings: &HttpSettings,
    readiness: Readiness,
    metrics: Option<Metrics>,
    stop: &CancellationToken,
) -> Router {
    let hosts = LOOPBACK_HOSTS
        .iter()
        .map(|h| (*h).to_owned())
        .chain(settings.allowed_hosts.iter().cloned());
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stop.child_token())
        .with_allowed_hosts(hosts)
        .with_allowed_origins(settings.allowed_origins.iter().cloned())
        .enforce_origin_validation()
        .with_max_request_body_bytes(settings.max_body_bytes);
    if let Some(state) = &readiness.state {
        config.session_store = Some(Arc::new(SessionTable::new(state)));
    }
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    let mcp = Router::new()
        .fallback_service(mcp.clone())
        .layer(axum::middleware::from_fn_with_state(
            Gate {
                limit: settings.max_body_bytes,
                readiness: readiness.clone(),
            },
            gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(CallerLimits::new(settings.limits)),
            limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(access),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(mcp),
            host_and_origin,
        ));
    let mut router = Router::new()
        .nest_service(MCP_PATH, mcp)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness);
    if let Some(metrics) = metrics {
        router = router.route("/metrics", get(serve_metrics).with_state(metrics));
    }
    router
}

/// Holds each POST of an authenticated caller to its limits (a refused one is answered 429 with
/// `Retry-After`); the slot is kept until the answer's stream ends. A 2025-11-25 session's
/// standing GET stream is not counted: it stays open for the whole session.
async fn limit(
    axum::extract::State(limits): axum::extract::State<Arc<CallerLimits>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let caller = request.extensions().get::<Caller>().map(|c| c.name.clone());
    match caller {
        Some(name) if request.method() == axum::http::Method::POST => match limits.admit(&name) {
            Ok(admitted) => admitted.hold(next.run(request).await),
            Err(limited) => limited.into_response(),
        },
        _ => next.run(request).await,
    }
}

/// rmcp's MCP service, as the router mounts it.
type Mcp = StreamableHttpService<BillingServer, LocalSessionManager>;

/// In front of everything else at `/mcp` (the caller check, the limits, the body limit): a request
/// whose `Host` or `Origin` rmcp refuses is answered with rmcp's 403, so a page of a foreign
/// origin (or a rebound host name) is told it is forbidden, never how to authenticate, and spends
/// no caller's budget. rmcp's own check decides, so its matching rules stay the only ones: it is
/// asked with a bodiless `OPTIONS` request carrying just those two headers, which past the check
/// it answers 405 without doing anything.
async fn host_and_origin(
    axum::extract::State(mcp): axum::extract::State<Arc<Mcp>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut probe = axum::http::Request::new(axum::body::Body::empty());
    *probe.method_mut() = axum::http::Method::OPTIONS;
    probe.uri_mut().clone_from(request.uri());
    for name in [axum::http::header::HOST, axum::http::header::ORIGIN] {
        for value in request.headers().get_all(&name) {
            probe.headers_mut().append(name.clone(), value.clone());
        }
    }
    let answer = mcp.handle(probe).await;
    if answer.status() == StatusCode::FORBIDDEN {
        return answer.map(axum::body::Body::new);
    }
    next.run(request).await
}

/// What [`gate`] needs: the body limit, and whether the server still takes calls.
#[derive(Debug, Clone)]
struct Gate {
    limit: usize,
    readiness: Readiness,
}

/// The shape of a JSON-RPC message, as far as [`gate`] looks: a request has a `method` and an `id`.
#[derive(serde::Deserialize)]
struct Shape {
    method: Option<serde::de::IgnoredAny>,
    id: Option<serde::de::IgnoredAny>,
}

/// In front of MCP, for POSTs: a body over the limit is answered 413; one that is not JSON, as
/// JSON-RPC says, with a parse error (-32700, `id: null`; rmcp would answer 415); and while the
/// server drains, a new request with 503 (answers and notifications still pass, so a confirmation
/// asked of a person can still be answered). Anything else goes on to rmcp.
async fn gate(
    axum::extract::State(gate): axum::extract::State<Gate>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let limit = gate.limit;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload Too Large: the body exceeds {limit} bytes"),
        )
            .into_response();
    };
    let error = |status: StatusCode, code: i32, message: String| {
        let body = serde_json::json!({
            "jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}
        });
        (status, axum::Json(body)).into_response()
    };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return error(StatusCode::BAD_REQUEST, -32700, format!("Parse error: {e}"));
    }
    let new_request = || {
        serde_json::from_slice::<Shape>(&bytes)
            .is_ok_and(|shape| shape.method.is_some() && shape.id.is_some())
    };
    if !gate.readiness.is_ready() && new_request() {
        let mut response = error(
            StatusCode::SERVICE_UNAVAILABLE,
            -32603,
            "the server is shutting down; send the request again (another replica may serve it)"
                .to_owned(),
        );
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return response;
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(
    axum::extract::State(readiness): axum::extract::State<Readiness>,
) -> (StatusCode, &'static str) {
    if !readiness.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining");
    }
    match &readiness.state {
        Some(state) if state.ping().await.is_err() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the shared state (PostgreSQL) does not answer: money-moving calls are refused",
        ),
        _ => (StatusCode::OK, "ready"),
    }
}

/// Serves `router` on `listener` until `stop_accepting` is cancelled, then lets open requests end
/// (MCP streams end when the router's own stop token is cancelled).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    stop_accepting: CancellationToken,
) -> std::io::Result<()> {
    // TCP_NODELAY: an answer is an SSE stream written in pieces (the event, then the chunked
    // end); with Nagle on, the last piece waits for the client's delayed ACK, ~40 ms a call
    // (benches/http.py: 44 → 2,000+ calls/s for one client).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(stop_accepting.cancelled_owned())
        .await
}

/// The URL a client connects to for a listener bound to `addr`.
pub fn mcp_url(addr: SocketAddr) -> String {
    format!("http://{addr}{MCP_PATH}")
}
