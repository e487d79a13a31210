//! The per-call floor: a bare rmcp stdio server with one tool, `get_customer`, that does the same
//! GET against the same upstream as solvapay-mcp's cheapest read (`GET /v1/sdk/customers/{ref}`
//! with the key as a bearer token) and answers the customer as structured content plus its JSON as
//! text (rmcp's own `Json<T>`). No validation, redaction, retries, audit or own transport: what an
//! rmcp server cannot do without. `benches/whole_process.py` runs it beside the real binary.
//!
//! `cargo build --release --example floor`, then run with `SOLVAPAY_API_BASE_URL` and
//! `SOLVAPAY_SECRET_KEY` set (a cargo example, so the main binary does not carry it).

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
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
    base: String,
    key: String,
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
    ) -> Result<Json<Customer>, String> {
        let url = format!("{}/v1/sdk/customers/{}", self.base, args.reference);
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.key)
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
            .with_server_info(Implementation::new("floor", "0"))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let floor = Floor {
        http: reqwest::Client::builder().build()?,
        base: std::env::var("SOLVAPAY_API_BASE_URL")?,
        key: std::env::var("SOLVAPAY_SECRET_KEY")?,
        tool_router: Floor::tool_router(),
    };
    // The same runtime flavour as solvapay-mcp's main.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            floor
                .serve(rmcp::transport::stdio())
                .await?
                .waiting()
                .await?;
            Ok(())
        })
}
