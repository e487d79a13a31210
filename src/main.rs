//! The `solvapay-mcp` binary: parse the command line, log to stderr, serve MCP over stdio, and shut
//! down cleanly on stdin EOF, SIGTERM, SIGINT or SIGHUP.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use solvapay_mcp::audit::AuditLog;
use solvapay_mcp::cli::{Cli, Command, SandboxFlags, ServerFlags};
use solvapay_mcp::config::ConfigError;
use solvapay_mcp::sandbox::Sandbox;
use solvapay_mcp::telemetry::LogRedaction;
use solvapay_mcp::{BillingServer, Config, SolvaPayClient, stdio, telemetry};

/// How long in-flight tool calls may run after the client has gone or a signal arrived.
const GRACE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = telemetry::init();
    // One thread drives everything: the calls wait on I/O, not on CPU, and keeping stdin, the
    // handlers and the HTTP connections on one thread saves a cross-thread wake-up per message
    // (BENCHMARKS.md). Blocking work (fsync, SQLite, root certificates) runs on the blocking pool.
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        match cli.command {
            Some(Command::Sandbox(flags)) => run_sandbox(flags, cli.server.data_dir).await,
            None => run(cli.server, cli.sandbox, &logs).await,
        }
    });
    // A blocking read of stdin may still be parked after a signal; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
    code
}

async fn run(flags: ServerFlags, sandbox_flags: SandboxFlags, logs: &LogRedaction) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    // No key: serve the local sandbox in-process and point the client at it.
    let (config, sandbox) = if config.api_key.is_some() {
        (config, None)
    } else {
        let options = match sandbox_flags.options(flags.data_dir.as_ref()) {
            Ok(o) => o,
            Err(e) => return config_error(&e),
        };
        let sandbox = match Sandbox::start(options).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("the local sandbox could not start: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut local = match Config::for_base_url(sandbox.base_url(), Some(sandbox.key())) {
            Ok(c) => c,
            Err(e) => return config_error(&e),
        };
        local.timeout = config.timeout;
        (local, Some(sandbox))
    };
    let api = SolvaPayClient::new(&config);
    // From here on the key (configured, or the local sandbox's) is known: no log line shows it.
    logs.set(api.redactor());
    let options = match flags.options(&config, sandbox.is_some()) {
        Ok(o) => o,
        Err(e) => return config_error(&e),
    };
    let mode = match &sandbox {
        Some(s) => format!(
            "no API key — local sandbox at {} (database {}; set SOLVAPAY_SECRET_KEY to use SolvaPay)",
            s.base_url(),
            s.db_description()
        ),
        None => config.describe(),
    };
    tracing::info!(
        "solvapay-mcp {}: {mode}; {}",
        env!("CARGO_PKG_VERSION"),
        options.policy
    );
    let audit = options.audit.clone();
    // Read off the handshake path; awaited before exit, so the report is never lost.
    let report = audit
        .clone()
        .map(|log| tokio::spawn(async move { report_unfinished(&log).await }));
    let code = serve(
        BillingServer::with_options(api.clone(), options),
        api,
        audit,
    )
    .await;
    if let Some(report) = report {
        let _ = report.await;
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    code
}

/// Names on stderr the write calls an earlier process started and never finished (a crash or a
/// kill mid-call), so the operator can check them in SolvaPay.
async fn report_unfinished(log: &AuditLog) {
    match log.recover().await {
        Ok(calls) => {
            for call in calls {
                tracing::warn!(
                    "audit: {} (call {}, started {}) has no recorded outcome: the server stopped \
                     during it; check its effect in SolvaPay",
                    call.tool,
                    call.call_id,
                    call.time
                );
            }
        }
        Err(e) => tracing::error!("could not read the audit log: {e}"),
    }
}

fn config_error(e: &ConfigError) -> ExitCode {
    tracing::error!("invalid configuration: {e}");
    ExitCode::from(2)
}

/// `solvapay-mcp sandbox`: the sandbox alone until a signal arrives.
async fn run_sandbox(flags: SandboxFlags, data_dir: Option<std::path::PathBuf>) -> ExitCode {
    let options = match flags.options(data_dir.as_ref()) {
        Ok(o) => o,
        Err(e) => return config_error(&e),
    };
    let signals = Signals::install();
    let sandbox = match Sandbox::start(options).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("the local sandbox could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    announce(&sandbox);
    let signal = signals.recv().await;
    tracing::info!("{signal}: stopping the sandbox");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

/// Prints how to reach the standalone sandbox, in a form a shell can `eval`. This mode speaks no
/// JSON-RPC, so stdout belongs to the user here (and only here).
fn announce(sandbox: &Sandbox) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "SOLVAPAY_API_BASE_URL={}", sandbox.base_url());
    let _ = writeln!(out, "SOLVAPAY_SECRET_KEY={}", sandbox.key());
    let _ = out.flush();
    tracing::info!(
        "sandbox listening at {} (database {})",
        sandbox.base_url(),
        sandbox.db_description()
    );
}

async fn serve(server: BillingServer, api: SolvaPayClient, audit: Option<AuditLog>) -> ExitCode {
    let in_flight = server.in_flight();
    // Install the handlers before the first message, so no signal can find the default action.
    let signals = Signals::install();
    let service = match server.serve(stdio::transport()).await {
        Ok(service) => service,
        // The client went away before the handshake: nothing to do, not an error.
        Err(ServerInitializeError::ConnectionClosed(_)) => return ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("MCP handshake failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Load the root certificates once the handshake is answered, so it never waits for them.
    tokio::task::spawn_blocking(move || {
        if let Err(e) = api.warm_up() {
            tracing::error!("{e}");
        }
    });
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
    // Writes still running are on record as started; say that they were cut off.
    if let Some(log) = audit {
        let interrupted = log.interrupt_open().await;
        if interrupted > 0 {
            tracing::warn!("audit: {interrupted} write call(s) recorded as interrupted");
        }
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
