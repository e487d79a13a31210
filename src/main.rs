//! The `solvapay-mcp` binary: parse the command line, log to stderr, serve MCP over stdio.

use std::process::ExitCode;

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient, telemetry};

/// MCP server (stdio) for the SolvaPay billing API.
///
/// Configuration comes from the environment: SOLVAPAY_SECRET_KEY (or SOLVAPAY_API_KEY),
/// SOLVAPAY_API_BASE_URL, SOLVAPAY_UI_BASE_URL, SOLVAPAY_TIMEOUT_SECS, RUST_LOG.
#[derive(Debug, Parser)]
#[command(name = "solvapay-mcp", version, about, long_about)]
struct Cli {}

#[tokio::main]
async fn main() -> ExitCode {
    let _cli = Cli::parse();
    telemetry::init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        "solvapay-mcp {}: {}",
        env!("CARGO_PKG_VERSION"),
        config.describe()
    );
    let api = match SolvaPayClient::new(&config) {
        Ok(api) => api,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match BillingServer::new(api)
        .serve(rmcp::transport::stdio())
        .await
    {
        Ok(service) => match service.waiting().await {
            Ok(reason) => tracing::debug!(?reason, "stopped"),
            Err(e) => {
                tracing::error!("server task failed: {e}");
                return ExitCode::FAILURE;
            }
        },
        // The client went away before the handshake: nothing to do, not an error.
        Err(ServerInitializeError::ConnectionClosed(_)) => {}
        Err(e) => {
            tracing::error!("MCP handshake failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
