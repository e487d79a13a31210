//! The floor for the HTTP benchmark: a bare rmcp Streamable HTTP server (axum, `/mcp`) with one
//! tool, `get_customer`, that does the same GET against the same upstream as solvapay-mcp's
//! cheapest read (`GET /v1/sdk/customers/{ref}`, the caller's own bearer key passed on, as a
//! caller-keys deployment does) and answers the customer as structured content plus its JSON as
//! text (rmcp's own `Json<T>`). No validation, redaction, retries, audit, policy, limits or
//! metrics: what an rmcp HTTP server cannot do without. `benches/http.py` runs it beside
//! `solvapay-mcp serve --http`, with the same rmcp settings and runtime, and `TCP_NODELAY` on its
//! connections (see `main`).
//!
//! `cargo build --release --example floor_http`, then
//! `SOLVAPAY_API_BASE_URL=http://127.0.0.1:PORT floor_http 127.0.0.1:8080`.

use axum::http::request::Parts;
use axum::serve::ListenerExt;
use rmcp::handler::server::common::Extension;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, JsonSchema)]
struct GetCustomerArgs {
    /// The customer's reference (cus_…).
    reference: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Customer {
    reference: String,
    email: Option<String>,
    name: Option<String>,
    #[serde(default)]
    metadata: serde_json::Map<String, serde_json::Value>,
    created_at: Option<String>,
}

#[derive(Clone)]
struct Floor {
    http: reqwest::Client,
    base: std::sync::Arc<str>,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Floor {
    #[tool(
        description = "Get a customer by reference.",
        annotations(read_only_hint = true)
    )]
    async fn get_customer(
        &self,
        Parameters(args): Parameters<GetCustomerArgs>,
        Extension(parts): Extension<Parts>,
    ) -> Result<Json<Customer>, String> {
        let key = parts
            .headers
            .get("authorization")
            .ok_or("no Authorization header")?;
        let url = format!("{}/v1/sdk/customers/{}", self.base, args.reference);
        let response = self
            .http
            .get(url)
            .header("authorization", key)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?;
        response.json().await.map(Json).map_err(|e| e.to_string())
    }
}

// The router built once and held (the macro's default, `Self::tool_router()`, rebuilds it per call).
#[tool_handler(router = self.tool_router)]
impl ServerHandler for Floor {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("floor_http", "0"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .ok_or("usage: floor_http ADDR")?
        .parse()?;
    let floor = Floor {
        http: reqwest::Client::builder().build()?,
        base: std::env::var("SOLVAPAY_API_BASE_URL")?.into(),
        tool_router: Floor::tool_router(),
    };
    // The service factory runs once per request: a clone of the held server, as ours does.
    let service = StreamableHttpService::new(
        move || Ok(floor.clone()),
        LocalSessionManager::default().into(),
        // rmcp's defaults, as `solvapay-mcp serve --http` (src/http/mod.rs): 2025-11-25 sessions
        // kept, 2026-07-28 requests served statelessly, answers as a one-event SSE stream.
        StreamableHttpServerConfig::default(),
    );
    let app = axum::Router::new().nest_service("/mcp", service);
    // The same runtime flavour as `solvapay-mcp serve --http`.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            // TCP_NODELAY: an answer is an SSE stream written in pieces (event, then the chunked
            // end); without it Nagle holds the last piece until the client's delayed ACK (~40 ms).
            let listener = tokio::net::TcpListener::bind(addr).await?.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await?;
            Ok(())
        })
}
