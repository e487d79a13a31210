//! The `solvapay-mcp` binary: parse the command line, log to stderr, serve MCP over stdio, and shut
//! down cleanly on stdin EOF, SIGTERM, SIGINT or SIGHUP.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use solvapay_mcp::cli::{Cli, ServerFlags};
use solvapay_mcp::{BillingServer, Config, SolvaPayClient, stdio, telemetry};

/// How long in-flight tool calls may run after the client has gone or a signal arrived.
const GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run(cli.server));
    // A blocking read of stdin may still be parked after a signal; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

async fn run(flags: ServerFlags) -> ExitCode {
    let configured = Config::from_env().and_then(|config| {
        let options = flags.options(&config, false)?;
        Ok((config, options))
    });
    let (config, options) = match configured {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(
        "solvapay-mcp {}: {}; {}",
        env!("CARGO_PKG_VERSION"),
        config.describe(),
        options.policy
    );
    let api = match SolvaPayClient::new(&config) {
        Ok(api) => api,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    serve(BillingServer::with_options(api, options)).await
}

async fn serve(server: BillingServer) -> ExitCode {
    let in_flight = server.in_flight();
    // Install the handlers before the first message, so no signal can find the default action.
    let signals = Signals::install();
    let input = stdio::bounded_lines(tokio::io::stdin(), stdio::MAX_LINE_BYTES);
    let service = match server.serve((input, tokio::io::stdout())).await {
        Ok(service) => service,
        // The client went away before the handshake: nothing to do, not an error.
        Err(ServerInitializeError::ConnectionClosed(_)) => return ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("MCP handshake failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = service.cancellation_token();
    tokio::spawn(async move {
        let signal = signals.recv().await;
        tracing::info!("{signal}: finishing in-flight calls, then exiting");
        stop.cancel();
    });
    if let Err(e) = service.waiting().await {
        tracing::error!("server task failed: {e}");
    }
    // No new calls are accepted now; let the ones already running finish.
    in_flight.close();
    if tokio::time::timeout(GRACE, in_flight.wait()).await.is_err() {
        tracing::warn!(
            remaining = in_flight.len(),
            "grace period over; exiting with calls unfinished"
        );
    }
    ExitCode::SUCCESS
}

/// SIGTERM, SIGINT and SIGHUP, caught from installation on.
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves on the first of the three signals, naming it.
    async fn recv(mut self) -> &'static str {
        async fn next(signal: Option<&mut tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(self.term.as_mut()) => "SIGTERM",
            () = next(self.hup.as_mut()) => "SIGHUP",
            () = next(self.int.as_mut()) => "SIGINT",
        }
    }
}
