//! The Streamable HTTP transport (beside `stdio`): rmcp's [`StreamableHttpService`] mounted at
//! `/mcp` in an axum router, with `/healthz`. Every request gets a clone of the one
//! [`BillingServer`] (cheap: its parts are shared), so the process holds no per-caller state that
//! a replica could not lose.

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::BillingServer;

/// The path MCP is served on.
pub const MCP_PATH: &str = "/mcp";

/// The router: MCP at [`MCP_PATH`], `/healthz`. Cancelling `stop` ends every open MCP stream.
pub fn router(server: BillingServer, stop: &CancellationToken) -> Router {
    let config = StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token());
    let mcp = StreamableHttpService::new(
        move || Ok(server.clone()),
        LocalSessionManager::default().into(),
        config,
    );
    Router::new()
        .nest_service(MCP_PATH, mcp)
        .route("/healthz", get(healthz))
}

async fn healthz() -> &'static str {
    "ok"
}

/// Serves `router` on `listener` until `stop_accepting` is cancelled, then lets open requests end
/// (MCP streams end when the router's own stop token is cancelled).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    stop_accepting: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(stop_accepting.cancelled_owned())
        .await
}

/// The URL a client connects to for a listener bound to `addr`.
pub fn mcp_url(addr: SocketAddr) -> String {
    format!("http://{addr}{MCP_PATH}")
}
