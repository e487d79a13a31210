//! The process around the server (top layer, called by the binary's `main`): picks the mode from the
//! command line and the environment (SolvaPay with a key, the in-process local sandbox without;
//! over HTTP, who may call: caller keys, operator tokens or the anonymous sandbox), serves MCP over
//! stdio until stdin closes, or over Streamable HTTP (`serve --http`), until SIGTERM, SIGINT or
//! SIGHUP arrives, gives in-flight
//! calls a grace period, and records in the audit log the writes that were cut off. The
//! `sandbox` subcommand serves the sandbox alone. Logs go to stderr; nothing here writes stdout,
//! which carries JSON-RPC only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::audit::AuditLog;
use crate::cli::{Cli, Command, HttpFlags, SandboxFlags, ServerFlags, request_state_key};
use crate::config::ConfigError;
use crate::http::metrics::Metrics;
use crate::http::tokens::TokenFile;
use crate::http::{Access, HttpSettings, Readiness};
use crate::options::ServerOptions;
use crate::sandbox::Sandbox;
use crate::state::SharedState;
use crate::telemetry::LogRedaction;
use crate::{BillingServer, Config, SolvaPayClient, http, stdio};

/// How long in-flight tool calls may run after the client has gone or a signal arrived.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// Runs the process `cli` describes to its end and gives its exit code: 0 after a clean shutdown,
/// 2 for an invalid configuration, 1 for any other failure to start. `announce` is called once the
/// standalone sandbox (`sandbox` subcommand) listens, to tell the user how to reach it.
pub async fn run(cli: Cli, logs: &LogRedaction, announce: impl FnOnce(&Sandbox)) -> ExitCode {
    match cli.command {
        Some(Command::Sandbox(args)) => {
            run_sandbox(args.flags, cli.server.data_dir, announce).await
        }
        Some(Command::Serve(args)) => {
            let args = *args;
            let transport = match args.http {
                Some(addr) => Transport::Http(addr, args.http_flags),
                None => Transport::Stdio,
            };
            run_server(args.server, args.sandbox, args.use_sandbox, transport, logs).await
        }
        // Handled by the binary before the runtime starts: it prints the token.
        Some(Command::Token(_)) => ExitCode::from(2),
        // Handled by the binary too: commands for people, which need no runtime.
        Some(Command::Config(_) | Command::Completions(_) | Command::Man(_)) => ExitCode::from(2),
        Some(Command::Tools(args)) => crate::people::tools::run(&args, logs).await,
        Some(Command::Call(args)) => crate::people::call::run(&args, logs).await,
        Some(Command::Usage(crate::cli::UsageCommand::Import(args))) => {
            crate::people::import::run(&args, logs).await
        }
        Some(Command::Doctor(args)) => crate::people::doctor::run(&args, logs).await,
        None => run_server(cli.server, cli.sandbox, false, Transport::Stdio, logs).await,
    }
}

/// Where the MCP server is served.
#[derive(Debug, Clone)]
enum Transport {
    /// Standard input and output.
    Stdio,
    /// Streamable HTTP on this address.
    Http(SocketAddr, HttpFlags),
}

/// Who an HTTP server admits (see [`Access`]), decided before anything starts.
#[derive(Debug, Clone)]
enum HttpMode {
    /// Each request brings its own SolvaPay key.
    CallerKeys,
    /// Operator tokens from this file; the operator's key (or the sandbox) serves them.
    Tokens(PathBuf),
    /// The in-process sandbox, to anyone on loopback.
    Anonymous,
}

impl HttpMode {
    fn decide(has_key: bool, sandbox: bool, tokens: Option<PathBuf>) -> Result<Self, ConfigError> {
        match (tokens, has_key || sandbox) {
            (Some(path), true) => Ok(Self::Tokens(path)),
            (Some(_), false) => Err(ConfigError {
                var: "--tokens",
                problem: format!(
                    "operator tokens need the operator's key ({}) or --sandbox to serve them",
                    crate::env::SECRET_KEY
                ),
            }),
            (None, _) if sandbox => Ok(Self::Anonymous),
            (None, true) => Err(ConfigError {
                var: crate::env::SECRET_KEY,
                problem: "is set, and over HTTP without --tokens it would be shared with every \
                          caller: unset it (each caller then sends its own key), or keep it and \
                          admit callers with --tokens FILE (made with `solvapay-mcp token new`)"
                    .to_owned(),
            }),
            (None, false) => Ok(Self::CallerKeys),
        }
    }
}

async fn run_server(
    flags: ServerFlags,
    sandbox_flags: SandboxFlags,
    use_sandbox: bool,
    transport: Transport,
    logs: &LogRedaction,
) -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return config_error(&e),
    };
    let http_mode = match &transport {
        Transport::Stdio => None,
        Transport::Http(addr, http_flags) => {
            let mode = HttpMode::decide(
                config.api_key.is_some(),
                use_sandbox,
                http_flags.tokens.clone(),
            )
            .and_then(|mode| {
                let anyone = matches!(mode, HttpMode::Anonymous);
                http_flags.settings().check_bind(*addr, anyone)?;
                Ok(mode)
            });
            match mode {
                Ok(mode) => Some(mode),
                Err(e) => return config_error(&e),
            }
        }
    };
    // Over stdio, no key (or --sandbox): serve the local sandbox in-process and point the client
    // at it. Over HTTP, only --sandbox does (without a key, callers bring theirs).
    let local = match http_mode {
        None => config.api_key.is_none() || use_sandbox,
        Some(_) => use_sandbox,
    };
    let Backend {
        config,
        api,
        options,
        sandbox,
    } = match Backend::open(&flags, &sandbox_flags, config, local, logs).await {
        Ok(b) => b,
        Err(code) => return code,
    };
    let mode = match (&sandbox, &http_mode) {
        (Some(s), _) => format!(
            "local sandbox at {} (database {}; set SOLVAPAY_SECRET_KEY to use SolvaPay)",
            s.base_url(),
            s.db_description()
        ),
        (None, Some(HttpMode::CallerKeys)) => format!(
            "SolvaPay API at {}, with each caller's own key",
            config.base_url.as_str()
        ),
        (None, _) => config.describe(),
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
    let code = match (transport, http_mode) {
        (Transport::Http(addr, http_flags), Some(mode)) => {
            let access = match mode {
                HttpMode::CallerKeys => Access::caller_keys(api.clone(), &flags.selection())
                    .map_err(|e| ConfigError {
                        var: "--toolsets/--tools/--exclude-tools",
                        problem: e.to_string(),
                    }),
                HttpMode::Tokens(path) => admit_tokens(&path, &api, &options.policy),
                HttpMode::Anonymous => Ok(Access::Anonymous),
            };
            let access = match access {
                Ok(a) => a,
                Err(e) => return config_error(&e),
            };
            tracing::info!("HTTP: {}", describe(&access));
            let state = options.state.clone();
            let server = BillingServer::with_options(api.clone(), options);
            let grace = Duration::from_secs(http_flags.drain_secs);
            let settings = http_flags.settings();
            let served = Served {
                server,
                access,
                state,
            };
            serve_http(addr, served, api, audit, &settings, grace).await
        }
        _ => {
            serve_stdio(
                BillingServer::with_options(api.clone(), options),
                api,
                audit,
            )
            .await
        }
    };
    if let Some(report) = report {
        let _ = report.await;
    }
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    code
}

/// What a server runs on: the SolvaPay (or local sandbox) client, the server's options, and the
/// in-process sandbox when one was started.
pub(crate) struct Backend {
    pub(crate) config: Config,
    pub(crate) api: SolvaPayClient,
    pub(crate) options: ServerOptions,
    pub(crate) sandbox: Option<Sandbox>,
}

impl Backend {
    /// Opens the shared state (when configured), starts the in-process sandbox when `local`, and
    /// builds the client and the options from `flags`. A failure is logged and given as the exit
    /// code (2: invalid configuration; 1: could not start).
    pub(crate) async fn open(
        flags: &ServerFlags,
        sandbox_flags: &SandboxFlags,
        config: Config,
        local: bool,
        logs: &LogRedaction,
    ) -> Result<Self, ExitCode> {
        let state = match flags.state_url() {
            Ok(url) => url,
            Err(e) => return Err(config_error(&e)),
        };
        // The confirmation sealing key, like the API key, comes from the environment only; it is
        // checked (required with a shared state) before anything is opened.
        let raw_key = std::env::var_os(crate::env::REQUEST_STATE_KEY);
        let request_state_key = match request_state_key(raw_key.as_deref(), state.is_some()) {
            Ok(key) => key,
            Err(e) => return Err(config_error(&e)),
        };
        let state = match state {
            Some(url) => match SharedState::open(&url).await {
                Ok(state) => {
                    tracing::info!("shared state: {url} (this replica: {})", state.replica());
                    Some(state)
                }
                Err(e) => {
                    tracing::error!("the shared state at {url} cannot be opened: {e}");
                    return Err(ExitCode::FAILURE);
                }
            },
            None => None,
        };
        let (config, sandbox) = if !local {
            (config, None)
        } else {
            let options = match sandbox_flags.options(flags.data_dir.as_ref()) {
                Ok(o) => o,
                Err(e) => return Err(config_error(&e)),
            };
            let sandbox = match Sandbox::start(options).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("the local sandbox could not start: {e}");
                    return Err(ExitCode::FAILURE);
                }
            };
            let mut local = match Config::for_base_url(sandbox.base_url(), Some(sandbox.key())) {
                Ok(c) => c,
                Err(e) => return Err(config_error(&e)),
            };
            local.timeout = config.timeout;
            (local, Some(sandbox))
        };
        let api = SolvaPayClient::new(&config);
        // From here on the key (configured, or the local sandbox's) is known: no log line shows it.
        logs.set(api.redactor());
        let mut options = match flags.options(
            &config,
            sandbox.is_some(),
            state.as_ref(),
            request_state_key,
        ) {
            Ok(o) => o,
            Err(e) => return Err(config_error(&e)),
        };
        // Against the in-process sandbox, its clock is the tools' clock (a demo sandbox lives on
        // 2026-02-11, and "the last 30 days" must mean its days).
        if let Some(s) = &sandbox {
            options.clock = s.clock();
        }
        Ok(Self {
            config,
            api,
            options,
            sandbox,
        })
    }
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

pub(crate) fn config_error(e: &ConfigError) -> ExitCode {
    tracing::error!("invalid configuration: {e}");
    ExitCode::from(2)
}

/// `solvapay-mcp sandbox`: the sandbox alone until a signal arrives.
async fn run_sandbox(
    flags: SandboxFlags,
    data_dir: Option<PathBuf>,
    announce: impl FnOnce(&Sandbox),
) -> ExitCode {
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
    tracing::info!(
        "sandbox listening at {} (database {})",
        sandbox.base_url(),
        sandbox.db_description()
    );
    let signal = signals.recv().await;
    tracing::info!("{signal}: stopping the sandbox");
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

async fn serve_stdio(
    server: BillingServer,
    api: SolvaPayClient,
    audit: Option<AuditLog>,
) -> ExitCode {
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
    drain(&in_flight, audit, GRACE).await;
    ExitCode::SUCCESS
}

/// The operator tokens of `path`, each serving through `api` within `policy`.
fn admit_tokens(
    path: &std::path::Path,
    api: &SolvaPayClient,
    policy: &crate::policy::ToolPolicy,
) -> Result<Access, ConfigError> {
    let problem = |problem: String| ConfigError {
        var: "--tokens",
        problem,
    };
    let file = TokenFile::read(path).map_err(|e| problem(e.to_string()))?;
    if file.is_empty() {
        tracing::warn!(
            "{}: no token yet, so no caller is admitted (make one with `solvapay-mcp token new`)",
            path.display()
        );
    }
    Access::tokens(&file, api, policy).map_err(|e| problem(e.to_string()))
}

/// Who an HTTP server admits, for the start-up line.
fn describe(access: &Access) -> String {
    match access {
        Access::CallerKeys(_) => {
            "each request brings its own SolvaPay key (Authorization: Bearer sk_… or X-API-Key)"
                .to_owned()
        }
        Access::Tokens(callers) => format!(
            "{} operator token(s) admitted (Authorization: Bearer smt_…)",
            callers.len()
        ),
        Access::Anonymous => "the local sandbox, without credentials, on loopback".to_owned(),
    }
}

/// Streamable HTTP on `addr` until SIGTERM, SIGINT or SIGHUP: then `/readyz` answers 503 and new
/// calls are refused, the calls in flight get `grace`, and the listener and the open MCP streams
/// are closed.
/// What the HTTP transport serves: the server, to whom, and the shared state (if any).
struct Served {
    server: BillingServer,
    access: Access,
    state: Option<SharedState>,
}

async fn serve_http(
    addr: SocketAddr,
    served: Served,
    api: SolvaPayClient,
    audit: Option<AuditLog>,
    settings: &HttpSettings,
    grace: Duration,
) -> ExitCode {
    let Served {
        server,
        access,
        state,
    } = served;
    let in_flight = server.in_flight();
    let metrics = match Metrics::install() {
        Ok(m) => Some(m),
        Err(e) => {
            tracing::error!("metrics are off: {e}");
            None
        }
    };
    let signals = Signals::install();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = api.warm_up() {
            tracing::error!("{e}");
        }
    });
    let close_streams = CancellationToken::new();
    let stop_accepting = CancellationToken::new();
    let readiness = Readiness::new(state);
    let router = http::router(
        server,
        access,
        settings,
        readiness.clone(),
        metrics,
        &close_streams,
    );
    tracing::info!("listening on {}", http::mcp_url(bound));
    let serving = tokio::spawn(http::serve(listener, router, stop_accepting.clone()));
    let signal = signals.recv().await;
    tracing::info!("{signal}: finishing in-flight calls, then exiting");
    // Load balancers see /readyz fail and new calls are refused with 503, while the calls in
    // flight (and a confirmation they wait on) finish; then the listener and the streams close.
    readiness.drain();
    drain(&in_flight, audit, grace).await;
    stop_accepting.cancel();
    close_streams.cancel();
    match tokio::time::timeout(Duration::from_secs(1), serving).await {
        Ok(Ok(Err(e))) => tracing::error!("HTTP server failed: {e}"),
        Ok(_) => {}
        Err(_) => tracing::debug!("connections still open at exit"),
    }
    ExitCode::SUCCESS
}

/// After the transport stopped taking calls: gives those in flight the grace period, then records
/// in the audit log the writes that were cut off.
pub(crate) async fn drain(in_flight: &TaskTracker, audit: Option<AuditLog>, grace: Duration) {
    in_flight.close();
    if tokio::time::timeout(grace, in_flight.wait()).await.is_err() {
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
}

/// SIGTERM, SIGINT and SIGHUP, caught from installation on.
#[cfg(unix)]
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    hup: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
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

/// Off Unix (Windows): Ctrl-C, caught from the first wait on.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> Self {
        Self
    }

    /// Resolves on Ctrl-C, naming it.
    async fn recv(self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    }
}
