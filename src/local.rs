//! The MCP server in-process, for the commands people run at a terminal (`tools`, `call`,
//! `usage import`, `doctor`): the same [`BillingServer`] — options, policy, guards, audit, the
//! local sandbox when no key is set — as the stdio server, served over an in-memory pipe to an rmcp
//! client. That client answers the server's confirmations for the person: it asks at the
//! terminal, or answers as `--yes` says.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, JsonObject, Tool,
};
use rmcp::service::{RequestContext, RunningService, ServiceError};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use tokio_util::task::TaskTracker;

use crate::audit::AuditLog;
use crate::cli::{SandboxFlags, ServerFlags};
use crate::sandbox::Sandbox;
use crate::serve::{Backend, GRACE, config_error, drain};
use crate::telemetry::LogRedaction;
use crate::{BillingServer, Config, stdio};

/// How a money-moving call's confirmation is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Ask the person at the terminal (stdin and stderr), `[y/N]`.
    Ask,
    /// Yes, without asking (`--yes`).
    Yes,
    /// No: nobody is there to ask (no terminal, no `--yes`); the tool says it was not confirmed.
    No,
}

impl Consent {
    /// `--yes` answers yes; otherwise the person is asked when stdin is a terminal, and nobody
    /// is there to say yes when it is not.
    pub fn from_flag(yes: bool) -> Self {
        match (yes, std::io::stdin().is_terminal()) {
            (true, _) => Self::Yes,
            (false, true) => Self::Ask,
            (false, false) => Self::No,
        }
    }
}

/// A failure of the session itself (not of a tool: a tool's failure is a result with `isError`).
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The in-process client and server could not talk.
    #[error("the in-process MCP session failed: {0}")]
    Session(#[from] ServiceError),
}

/// The in-process server and its client.
pub struct LocalSession {
    client: RunningService<RoleClient, Person>,
    in_flight: TaskTracker,
    audit: Option<AuditLog>,
    sandbox: Option<Sandbox>,
    upstream: String,
}

impl LocalSession {
    /// Starts the server as the stdio server would be started with `flags` (with no key: on the
    /// local sandbox of `sandbox_flags`), and connects to it. A failure is logged and given as
    /// the exit code (2: invalid configuration; 1: could not start).
    pub async fn start(
        flags: &ServerFlags,
        sandbox_flags: &SandboxFlags,
        consent: Consent,
        logs: &LogRedaction,
    ) -> Result<Self, ExitCode> {
        let config = Config::from_env().map_err(|e| config_error(&e))?;
        Self::start_with(config, flags, sandbox_flags, consent, logs).await
    }

    /// [`start`](Self::start) with `config` instead of the environment's (`doctor` shortens the
    /// timeout and drops the retries of its one read).
    pub async fn start_with(
        config: Config,
        flags: &ServerFlags,
        sandbox_flags: &SandboxFlags,
        consent: Consent,
        logs: &LogRedaction,
    ) -> Result<Self, ExitCode> {
        let local = config.api_key.is_none();
        let Backend {
            config,
            api,
            options,
            sandbox,
        } = Backend::open(flags, sandbox_flags, config, local, logs).await?;
        let upstream = match &sandbox {
            Some(s) => format!("the local sandbox (database {})", s.db_description()),
            None => config.describe(),
        };
        let audit = options.audit.clone();
        let server = BillingServer::with_options(api, options);
        let in_flight = server.in_flight();
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let (input, output) = tokio::io::split(server_io);
        let transport = stdio::over(input, output, stdio::MAX_LINE_BYTES);
        tokio::spawn(async move {
            if let Ok(running) = server.serve(transport).await {
                let _ = running.waiting().await;
            }
        });
        let client = match (Person { consent }).serve(client_io).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the in-process MCP session did not start: {e}");
                return Err(ExitCode::FAILURE);
            }
        };
        Ok(Self {
            client,
            in_flight,
            audit,
            sandbox,
            upstream,
        })
    }

    /// What the session's tools call: SolvaPay at its URL, or the local sandbox.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The tools the server lists (its toolsets and flags applied).
    pub async fn list_tools(&self) -> Result<Vec<Tool>, LocalError> {
        Ok(self.client.peer().list_all_tools().await?)
    }

    /// Calls `name` with `arguments`, through the server's one call path.
    pub async fn call(
        &self,
        name: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, LocalError> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        Ok(self.client.peer().call_tool(params).await?)
    }

    /// Ends the session as the stdio server ends: calls in flight get the grace period, writes
    /// cut off are recorded as interrupted, and the local sandbox stops.
    pub async fn shutdown(self) {
        let _ = self.client.cancel().await;
        drain(&self.in_flight, self.audit, GRACE).await;
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The person behind the in-process client: declares form elicitation and answers it as
/// [`Consent`] says.
#[derive(Debug, Clone, Copy)]
struct Person {
    consent: Consent,
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let capabilities: ClientCapabilities =
            serde_json::from_value(serde_json::json!({"elicitation": {"form": {}}}))
                .unwrap_or_default();
        ClientConfig::new(
            capabilities,
            Implementation::new("solvapay-mcp-cli", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        // Only forms are declared; anything else is not answered yes.
        let ElicitRequestParams::FormElicitationParams { message, .. } = request else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let yes = match self.consent {
            Consent::Yes => true,
            Consent::No => {
                tracing::warn!(
                    "not confirmed (no terminal to ask; pass --yes to confirm): {message}"
                );
                false
            }
            Consent::Ask => tokio::task::spawn_blocking(move || ask(&message))
                .await
                .unwrap_or(false),
        };
        if !yes {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        }
        let mut result = ElicitResult::new(ElicitationAction::Accept);
        result.content = Some(serde_json::json!({"confirm": true}));
        Ok(result)
    }
}

/// Asks `question` on stderr and reads the answer from stdin: only `y` or `yes` is yes.
fn ask(question: &str) -> bool {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
