//! The local sandbox: a SolvaPay-compatible REST API (the `/v1/sdk/*` routes and the `/v1/ui/*`
//! routes the MCP tools call) backed by an embedded SQLite ledger, with real billing behaviour,
//! hosted checkout and portal pages, and a settable clock.
//!
//! Layout, from the bottom up: `db` (schema, migration, one SQLite transaction per request; no
//! business rules) · `model/*` (one row type per table, with its loads and stores) · `billing` (rules
//! and the "Sandbox choice" functions, on top of `model`) · `views` (response bodies) · `routes/*`
//! (one file per resource) · `pages` (HTML) · `dashboard` (the `/dashboard` page) · `guard` (Host allow-list, CSRF tokens, form-post
//! checks) · `demo` (seed data) · `clock` · `error` (NestJS error bodies). Routes and pages run in
//! `AppState::swept_tx`: the billing sweep, then the request, in one transaction. `admin` is the
//! `solvapay-mcp sandbox status|reset|export|clock` commands, on the database file itself.

pub mod admin;
mod billing;
mod clock;
mod dashboard;
mod db;
mod demo;
mod error;
mod guard;
mod model;
mod pages;
mod routes;
mod util;
mod views;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rusqlite::Transaction;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, ClockSetting};
pub use db::{Census, Listener};
use error::{ApiError, ApiResult};

/// Where the sandbox keeps its ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A private in-memory database, gone when the sandbox stops.
    Memory,
    /// A SQLite file (WAL mode); parent directories are created.
    Path(PathBuf),
}

/// How to start the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Address to bind; default `127.0.0.1:0` (loopback, any free port).
    pub listen: SocketAddr,
    /// Database location.
    pub db: DbLocation,
    /// Load the demo catalog and customers (idempotent).
    pub demo: bool,
    /// Bearer key clients must send; `None` generates `sk_sandbox_local_<32 hex>`.
    pub key: Option<String>,
    /// Whether the dashboard routes (`/v1/ui/*`) take the key.
    pub ui_routes: UiRoutes,
}

/// How the sandbox's dashboard routes (`/v1/ui/*`) treat the API key. Whether SolvaPay's take a
/// secret key is unknown (its OpenAPI describes them as dashboard-session routes), so the sandbox
/// can play either answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UiRoutes {
    /// They take the key, like the `/v1/sdk` routes.
    #[default]
    AcceptKey,
    /// They answer 401 to any API key, while `/v1/sdk` routes take it.
    RefuseKey,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            db: DbLocation::Memory,
            demo: false,
            key: None,
            ui_routes: UiRoutes::AcceptKey,
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// Creating the database directory or binding the address failed.
    #[error("sandbox I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Opening or migrating the database failed.
    #[error("sandbox database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// Loading the demo data failed.
    #[error("sandbox demo data could not be loaded: {0}")]
    Seed(String),
}

/// Shared state of the running server.
pub(crate) struct AppState {
    pub(crate) db: db::Db,
    pub(crate) clock: Clock,
    pub(crate) key: String,
    pub(crate) ui_routes: UiRoutes,
    pub(crate) base_url: String,
    /// The `Host` values every route answers to.
    pub(crate) hosts: guard::HostPolicy,
    /// Signs the pages' CSRF tokens.
    pub(crate) csrf: guard::CsrfKey,
    /// Milliseconds every API response is held back after its request was handled (`POST
    /// /v1/sandbox/latency`), to stand in for a slow SolvaPay.
    pub(crate) latency_ms: AtomicU64,
    /// The clock setting last read from or written to the database (files only: see
    /// [`follow_stored_clock`]).
    pub(crate) stored_clock: std::sync::Mutex<Option<ClockSetting>>,
}

impl AppState {
    /// Runs the clock as the database says, when someone else stored a clock since this server
    /// last read or wrote it (run inside a database transaction).
    pub(crate) fn adopt_stored_clock(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        let stored = db::load_clock(conn)?;
        let mut seen = self
            .stored_clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if stored != *seen {
            self.clock.apply(stored.unwrap_or_default());
            *seen = stored;
        }
        Ok(())
    }

    /// Changes the clock as `change` says (the rule of `solvapay-mcp sandbox clock`), starting from
    /// the clock stored beside this server when the command line moved it, and stores it, inside
    /// the caller's database transaction (so the follower of the stored clock never sees it
    /// half-done and a restarted sandbox resumes this time). Gives the sandbox time afterwards.
    pub(crate) fn change_clock(
        &self,
        conn: &rusqlite::Connection,
        change: admin::ClockChange,
    ) -> rusqlite::Result<OffsetDateTime> {
        self.adopt_stored_clock(conn)?;
        if let Some(next) = change.applied_to(self.clock.setting(), OffsetDateTime::now_utc()) {
            self.clock.apply(next);
            db::store_clock(conn, next)?;
            *self
                .stored_clock
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(next);
        }
        Ok(self.clock.now())
    }

    /// The transaction every request runs in, at sandbox time `now`: first the billing sweep brings
    /// the ledger up to `now` (renewals, expiries, pending refunds), then `f` runs on the swept
    /// ledger. Committed only when both succeed.
    pub(crate) async fn swept_tx<T, F>(&self, now: OffsetDateTime, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, OffsetDateTime) -> ApiResult<T> + Send + 'static,
    {
        self.db
            .tx(now, move |tx, now| {
                billing::sweep(tx, now)?;
                f(tx, now)
            })
            .await
    }
}

pub(crate) type St = State<Arc<AppState>>;

/// A running sandbox server.
pub struct Sandbox {
    base_url: String,
    key: String,
    db_description: String,
    clock: Clock,
    db: db::Db,
    /// This server's record in the database file (none in memory).
    listener: Option<Listener>,
    /// The task that applies the clock stored by others (files only).
    clock_follower: Option<JoinHandle<()>>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.base_url)
            .field("db", &self.db_description)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Open the database (creating directories, WAL, migration), seed demo data if asked, bind, and
    /// serve in the background.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let key = opts
            .key
            .clone()
            .unwrap_or_else(|| format!("sk_sandbox_local_{}", util::hex(32)));
        let (path, db_description) = match &opts.db {
            DbLocation::Memory => (None, ":memory:".to_owned()),
            DbLocation::Path(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                (Some(p.clone()), p.display().to_string())
            }
        };
        let file = path.is_some();
        // The clock the database keeps wins; a demo database that has none starts on the demo's
        // "today" and keeps that from then on.
        let demo = opts.demo;
        let (conn, clock, stored_clock) = tokio::task::spawn_blocking(move || {
            let conn = db::open(path.as_deref())?;
            let stored = match db::load_clock(&conn)? {
                None if demo => {
                    let setting = Clock::starting_at(demo::demo_now()).setting();
                    db::store_clock(&conn, setting)?;
                    db::load_clock(&conn)?
                }
                stored => stored,
            };
            let clock = Clock::with(stored.unwrap_or_default());
            Ok::<_, rusqlite::Error>((conn, clock, stored))
        })
        .await
        .map_err(|e| SandboxError::Io(std::io::Error::other(e)))??;
        let db = db::Db::new(conn);
        if opts.demo {
            // No sweep here: nothing the seed writes is due yet, and every request sweeps first.
            db.tx(clock.now(), demo::seed)
                .await
                .map_err(|e| SandboxError::Seed(e.message))?;
        }
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let mut addr = listener.local_addr()?;
        let hosts = guard::HostPolicy::for_listener(addr);
        if addr.ip().is_unspecified() {
            addr.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        let base_url = format!("http://{addr}");
        let record = file.then(|| Listener {
            url: base_url.clone(),
            pid: std::process::id(),
        });
        if let Some(record) = record.clone() {
            let stored = db.tx(clock.now(), move |tx, _| {
                db::store_listener(tx, &record)?;
                Ok(())
            });
            if let Err(e) = stored.await {
                tracing::warn!(
                    "the sandbox could not record itself in its database: {}",
                    e.message
                );
            }
        }
        let state = Arc::new(AppState {
            db: db.clone(),
            clock: clock.clone(),
            key: key.clone(),
            ui_routes: opts.ui_routes,
            base_url: base_url.clone(),
            hosts,
            csrf: guard::CsrfKey::random(),
            latency_ms: AtomicU64::new(0),
            stored_clock: std::sync::Mutex::new(stored_clock),
        });
        let clock_follower = file.then(|| tokio::spawn(follow_stored_clock(Arc::clone(&state))));
        let app = router(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // The peer address is kept: the dashboard answers loopback peers only.
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "sandbox server stopped with an error");
            }
        });
        tracing::info!(%base_url, db = %db_description, "sandbox listening");
        tracing::info!(
            "sandbox dashboard: {base_url}{} (key-free, this machine only)",
            dashboard::PATH
        );
        Ok(Sandbox {
            base_url,
            key,
            db_description,
            clock,
            db,
            listener: record,
            clock_follower,
            stop,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://127.0.0.1:PORT/dashboard`: the ledger and the clock in a browser, key-free, for
    /// this machine only.
    pub fn dashboard_url(&self) -> String {
        format!("{}{}", self.base_url, dashboard::PATH)
    }

    /// The bearer key clients must send.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The database path, or `:memory:`.
    pub fn db_description(&self) -> String {
        self.db_description.clone()
    }

    /// A handle on the sandbox clock.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// Stop accepting connections, finish in-flight requests, and return.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "sandbox server task ended abnormally");
        }
        if let Some(follower) = self.clock_follower {
            follower.abort();
        }
        if let Some(record) = self.listener {
            let forgotten = self.db.tx(self.clock.now(), move |tx, _| {
                db::forget_listener(tx, &record)?;
                Ok(())
            });
            if let Err(e) = forgotten.await {
                tracing::warn!("the sandbox could not remove its record: {}", e.message);
            }
        }
    }
}

/// Once a second, applies the clock stored in the database file when someone else changed it
/// (`solvapay-mcp sandbox clock`, `reset`, or another sandbox on the same file), so a running
/// sandbox follows the command line within a second. Read and applied in one database
/// transaction, which `POST /v1/sandbox/clock` also holds while it changes and stores the clock.
async fn follow_stored_clock(st: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let state = Arc::clone(&st);
        let followed = st.db.tx(st.clock.now(), move |tx, _| {
            state.adopt_stored_clock(tx)?;
            Ok(())
        });
        if let Err(e) = followed.await {
            tracing::debug!("the sandbox could not read its stored clock: {}", e.message);
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    let api = routes::router().route_layer(middleware::from_fn_with_state(
        Arc::clone(&state),
        require_key,
    ));
    Router::new()
        .merge(api)
        .merge(pages::router())
        .route("/healthz", get(|| async { "ok" }))
        .fallback(unknown_route)
        .layer(middleware::from_fn(json_errors))
        // Outermost: a request under a foreign Host gets the plain refusal and nothing else.
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            guard::require_host,
        ))
        .with_state(state)
}

/// `Authorization: Bearer <key>` (or `X-API-Key: <key>`), compared in constant time. With
/// [`UiRoutes::RefuseKey`] the dashboard routes refuse every key, as a route guarded by a dashboard
/// session would.
async fn require_key(State(st): St, headers: HeaderMap, req: Request, next: Next) -> Response {
    if st.ui_routes == UiRoutes::RefuseKey && req.uri().path().starts_with("/v1/ui/") {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "This route requires a dashboard session; API keys are not accepted",
        )
        .into_response();
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    if guard::constant_time_eq(given.trim().as_bytes(), st.key.as_bytes()) {
        // Handled at once, answered late: what a slow SolvaPay does to a caller that gives up (or
        // dies) while waiting — the effect happened, the caller never learns it.
        let control = req.uri().path().starts_with("/v1/sandbox/");
        let res = next.run(req).await;
        let latency = st.latency_ms.load(Ordering::Relaxed);
        if latency > 0 && !control {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        res
    } else {
        ApiError::unauthorized().into_response()
    }
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("Cannot {method} {}", uri.path()))
}

/// Turn every error response that is not JSON (or an HTML page) into a NestJS body, and 405 into
/// the 404 NestJS gives for a method it has no route for.
async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::not_found(format!("Cannot {method} {path}")).into_response();
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(status.is_client_error() || status.is_server_error())
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/html")
    {
        return res;
    }
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    let mut out = ApiError::new(status, message).into_response();
    *out.status_mut() = status;
    out
}
