//! The command line: flags (each with an environment twin, for MCP clients' `env` blocks) and the
//! `serve` (stdio or `--http`), `sandbox` and `token new` subcommands. Turns flags into [`ServerOptions`].
//! The commands for people have their own files: `sandbox status|reset|export|clock`
//! ([`sandbox`]), `config <client>` ([`config`]), `completions` and `man` ([`manual`]).

pub mod config;
pub mod manual;
pub mod sandbox;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::audit::AuditLog;
use crate::config::{Config, ConfigError, default_data_dir};
use crate::env;
use crate::http::HttpSettings;
use crate::http::limits::LimitSettings;
use crate::journal::{GrantJournal, RefundJournal};
use crate::options::{Caps, ConfirmMode, RefundLimits, RequestStateKey, ServerOptions};
use crate::policy::ToolSelection;
use crate::sandbox::{DbLocation, SandboxOptions, UiRoutes};
use crate::state::{SharedState, StateError, StateUrl};

/// MCP server (stdio) for the SolvaPay billing API.
///
/// The secret key comes from the environment only: SOLVAPAY_SECRET_KEY (or SOLVAPAY_API_KEY).
/// Also read: SOLVAPAY_API_BASE_URL, SOLVAPAY_UI_BASE_URL, SOLVAPAY_TIMEOUT_SECS, RUST_LOG.
/// With no key, the server runs a local SolvaPay-compatible sandbox (SQLite) and uses it.
#[derive(Debug, Parser)]
#[command(
    name = "solvapay-mcp",
    version,
    about,
    long_about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Run something other than the MCP server.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// With no key: the local sandbox the server runs.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

impl Cli {
    /// Parses the process's arguments and environment, as [`Parser::parse`] does, except that an
    /// environment variable set to a blank value counts as unset: an MCP bundle client (Claude
    /// Desktop's MCPB) passes `""` for every option the person left empty. On bad arguments it
    /// prints clap's message and exits with code 2.
    pub fn parse_env_blank_unset() -> Self {
        let mut command = blank_env_is_unset(Self::command());
        let matches = command.get_matches_mut();
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut command).exit())
    }
}

/// `command` with every argument whose environment variable is set but blank read as if it were
/// not set (its `env` dropped), in every subcommand too.
fn blank_env_is_unset(command: clap::Command) -> clap::Command {
    command
        .mut_args(|arg| {
            let blank = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.to_str().is_some_and(|v| v.trim().is_empty()));
            if blank { arg.env(None) } else { arg }
        })
        .mut_subcommands(blank_env_is_unset)
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local sandbox API alone (for other SDKs and tools); prints its URL and key. Its
    /// subcommands inspect, reset, export its database and move its clock.
    Sandbox(sandbox::SandboxArgs),
    /// Run the MCP server: over Streamable HTTP with `--http ADDR`, else over stdio.
    Serve(Box<ServeArgs>),
    /// Manage the operator tokens of `serve --http --tokens FILE`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print a ready MCP client configuration that runs this binary.
    Config(config::ConfigArgs),
    /// Print a shell completion script.
    Completions(manual::CompletionsArgs),
    /// Print the man page (or write one page per subcommand with --dir).
    Man(manual::ManArgs),
    /// List the tools this configuration enables, with their parameters.
    Tools(Box<ToolsArgs>),
    /// Call one tool and print its answer (exit 0; 5 when the tool answers with an error; 2 for a
    /// wrong command line).
    Call(Box<CallArgs>),
    /// Usage events from files.
    #[command(subcommand)]
    Usage(UsageCommand),
    /// Check the configuration: the key, SolvaPay reachable, the tools, the data directory and the
    /// guards, one line each (exit 0; 5 when a check fails).
    Doctor(Box<DoctorArgs>),
}

/// `solvapay-mcp usage …`.
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Record the usage events of a JSON-lines or CSV file (record_bulk_usage), resumably.
    ///
    /// Every line is checked before anything is sent; each event gets a stable requestId, and
    /// what is done is kept in the data directory, so a re-run sends only what is not done yet.
    /// Exit 0: every event recorded; 5: some need attention (the summary lists them); 2: a bad
    /// file or line, nothing sent; 130: interrupted (Ctrl-C; re-run to resume); 1: could not run.
    Import(Box<ImportArgs>),
}

/// `solvapay-mcp usage import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: one event object per line (.jsonl, .ndjson), or CSV with a header row naming the
    /// event fields (.csv).
    pub file: PathBuf,
    /// The file's format [default: from its extension].
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Events per record_bulk_usage call (the progress is saved after each).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
    /// Check the file and say what would be sent; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Forget what earlier runs of this file recorded and send every line again (the events keep
    /// their requestIds, so what is already stored comes back as duplicates).
    #[arg(long)]
    pub restart: bool,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// With no key: the local sandbox the events go to.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// How a usage file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// One JSON object per line; blank lines are skipped.
    Jsonl,
    /// A header row of event field names, then one event per row.
    Csv,
}

/// `solvapay-mcp doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Print the checks as a JSON array of {check, ok, detail, fix}.
    #[arg(long)]
    pub json: bool,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// With no key: the local sandbox the tools call.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// `solvapay-mcp tools`.
#[derive(Debug, Clone, Args)]
pub struct ToolsArgs {
    /// Print `tools/list`'s JSON instead of the page.
    #[arg(long)]
    pub json: bool,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// With no key: the local sandbox the tools call.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// `solvapay-mcp call`.
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// The tool (see `solvapay-mcp tools`).
    pub tool: String,
    /// Its arguments as one JSON object, e.g. '{"limit": 5}'.
    pub arguments: Option<String>,
    /// One argument, KEY=VALUE (repeatable); VALUE takes the parameter's type (a number, true,
    /// a JSON array…), and stays text where the parameter is text.
    #[arg(long = "arg", value_name = "KEY=VALUE")]
    pub args: Vec<String>,
    /// Print the structured result (or the error's JSON envelope) instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Confirm a money-moving call without asking (otherwise asked on a terminal, and declined
    /// without one).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// With no key: the local sandbox the tools call.
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// `solvapay-mcp token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token, append its hash to the token file, and print the token (once).
    New(NewToken),
}

/// `solvapay-mcp token new`.
#[derive(Debug, Clone, Args)]
pub struct NewToken {
    /// The token's name (in logs, the audit log and limits).
    #[arg(long)]
    pub name: String,
    /// Toolsets the token may use, comma-separated (default: all the server enables).
    #[arg(long, value_delimiter = ',')]
    pub toolsets: Option<Vec<String>>,
    /// The token may use only tools that change nothing.
    #[arg(long)]
    pub read_only: bool,
    /// The token file.
    #[arg(long, env = "SOLVAPAY_HTTP_TOKENS", value_name = "FILE")]
    pub file: PathBuf,
}

/// Flags of the HTTP transport (`serve --http`).
#[derive(Debug, Clone, Args)]
pub struct HttpFlags {
    /// Admit callers by operator token (file of hashes; see `token new`); the operator's key
    /// (SOLVAPAY_SECRET_KEY) or --sandbox serves them.
    #[arg(long, env = "SOLVAPAY_HTTP_TOKENS", value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// A `Host` clients reach the server by (repeatable; needed to listen on a non-loopback
    /// address).
    #[arg(
        long = "allowed-host",
        env = "SOLVAPAY_HTTP_ALLOWED_HOSTS",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub allowed_hosts: Vec<String>,
    /// A browser `Origin` allowed to call (repeatable, with scheme: https://app.example.com:443);
    /// any other Origin is refused with 403.
    #[arg(
        long = "allowed-origin",
        env = "SOLVAPAY_HTTP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub allowed_origins: Vec<String>,
    /// Largest request body in bytes; larger ones are refused with 413.
    #[arg(long, env = "SOLVAPAY_HTTP_MAX_BODY_BYTES", default_value_t = crate::http::DEFAULT_MAX_BODY_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1024..=(64 * 1024 * 1024)))]
    pub max_body_bytes: u64,
    /// Seconds in-flight calls may run after SIGTERM before the server exits.
    #[arg(long, env = "SOLVAPAY_HTTP_DRAIN_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_secs: u64,
    /// Requests one caller may have open at once over HTTP (a stream counts until it ends); 0: no limit.
    #[arg(long, env = "SOLVAPAY_CALLER_CONCURRENCY", default_value_t = LimitSettings::DEFAULT_CONCURRENCY)]
    pub caller_concurrency: usize,
    /// Requests one caller may start per minute over HTTP (bursts of as many); 0: no limit.
    #[arg(long, env = "SOLVAPAY_CALLER_RATE_PER_MINUTE", default_value_t = LimitSettings::DEFAULT_PER_MINUTE)]
    pub caller_rate_per_minute: u32,
}

impl HttpFlags {
    /// The transport's network settings.
    pub fn settings(&self) -> HttpSettings {
        HttpSettings {
            allowed_hosts: self.allowed_hosts.clone(),
            allowed_origins: self.allowed_origins.clone(),
            max_body_bytes: usize::try_from(self.max_body_bytes)
                .unwrap_or(crate::http::DEFAULT_MAX_BODY_BYTES),
            limits: LimitSettings::from_counts(
                self.caller_concurrency,
                self.caller_rate_per_minute,
            ),
        }
    }
}

/// `solvapay-mcp serve`: the MCP server's flags plus where to serve it.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Serve Streamable HTTP on this address (path /mcp, plus /healthz, /readyz and /metrics) instead of stdio.
    #[arg(long, env = "SOLVAPAY_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Serve the in-process local sandbox, even when a key is set (over HTTP without --tokens:
    /// to anyone on loopback).
    #[arg(long = "sandbox", env = "SOLVAPAY_SANDBOX")]
    pub use_sandbox: bool,
    /// The HTTP transport's flags.
    #[command(flatten)]
    pub http_flags: HttpFlags,
    /// Which tools to expose, and the guards around them.
    #[command(flatten)]
    pub server: ServerFlags,
    /// The local sandbox the server runs (with `--sandbox`, or no key).
    #[command(flatten)]
    pub sandbox: SandboxFlags,
}

/// Flags of the local sandbox.
#[derive(Debug, Clone, Args)]
pub struct SandboxFlags {
    /// Address to listen on (loopback unless told otherwise) [default: 127.0.0.1:<--port>].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// SQLite database file, or `:memory:` [default: <data dir>/sandbox.sqlite].
    #[arg(long, env = "SOLVAPAY_SANDBOX_DB")]
    pub db: Option<String>,
    /// Load the demo catalog and customers of the documentation's examples.
    #[arg(long, env = "SOLVAPAY_SANDBOX_DEMO")]
    pub demo: bool,
    /// Bearer key the sandbox requires [default: generated at each start].
    #[arg(long, env = "SOLVAPAY_SANDBOX_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Make the dashboard routes (/v1/ui/*) refuse the key, as SolvaPay's may (for testing).
    #[arg(long, env = "SOLVAPAY_SANDBOX_UI_REFUSES_KEYS")]
    pub sandbox_ui_refuses_keys: bool,
    /// Port on 127.0.0.1 when --listen is not given.
    #[arg(long, env = "SOLVAPAY_SANDBOX_PORT")]
    pub port: Option<u16>,
}

impl SandboxFlags {
    /// The sandbox's start options; `data_dir` holds the default database.
    pub fn options(&self, dir_flag: Option<&PathBuf>) -> Result<SandboxOptions, ConfigError> {
        let listen = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], self.port.unwrap_or(0))));
        let db = db_location(self.db.as_deref(), dir_flag)?;
        Ok(SandboxOptions {
            listen,
            db,
            demo: self.demo,
            key: self.key.clone(),
            ui_routes: if self.sandbox_ui_refuses_keys {
                UiRoutes::RefuseKey
            } else {
                UiRoutes::AcceptKey
            },
        })
    }
}

/// Where the sandbox database is: `db` (`--db`, `SOLVAPAY_SANDBOX_DB`) when given, else
/// `sandbox.sqlite` in the data directory.
pub fn db_location(
    db: Option<&str>,
    dir_flag: Option<&PathBuf>,
) -> Result<DbLocation, ConfigError> {
    Ok(match db.map(str::trim) {
        Some(":memory:") => DbLocation::Memory,
        Some(path) if !path.is_empty() => DbLocation::Path(PathBuf::from(path)),
        _ => match data_dir(dir_flag) {
            Some(dir) => DbLocation::Path(dir.join("sandbox.sqlite")),
            None => {
                return Err(ConfigError {
                    var: "SOLVAPAY_SANDBOX_DB",
                    problem: "no data directory (set HOME, XDG_DATA_HOME or SOLVAPAY_DATA_DIR), so give a path or :memory:".into(),
                });
            }
        },
    })
}

/// Flags of the MCP server.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    /// Toolsets to enable, comma-separated: customers, catalog, purchases, checkout, usage, payments,
    /// credits (default: all).
    #[arg(long, env = "SOLVAPAY_TOOLSETS", value_delimiter = ',')]
    pub toolsets: Option<Vec<String>>,
    /// Single tools to enable in addition to the toolsets (alone: only these tools).
    #[arg(long, env = "SOLVAPAY_TOOLS", value_delimiter = ',')]
    pub tools: Vec<String>,
    /// Tools to disable.
    #[arg(long, env = "SOLVAPAY_EXCLUDE_TOOLS", value_delimiter = ',')]
    pub exclude_tools: Vec<String>,
    /// Register no tool that writes; wins over every other flag.
    #[arg(long, env = "SOLVAPAY_READ_ONLY")]
    pub read_only: bool,
    /// With a live key, enable refunds, cancellations and deletions.
    #[arg(long, env = "SOLVAPAY_ALLOW_DESTRUCTIVE")]
    pub allow_destructive: bool,
    /// Largest single refund, in minor units.
    #[arg(long, env = "SOLVAPAY_MAX_REFUND_AMOUNT", value_parser = clap::value_parser!(i64).range(1..))]
    pub max_refund_amount: Option<i64>,
    /// Largest total of refunds made by one server process (with --state-url: by the whole
    /// deployment), in minor units.
    #[arg(long, env = "SOLVAPAY_MAX_REFUND_TOTAL", value_parser = clap::value_parser!(i64).range(1..))]
    pub max_refund_total: Option<i64>,
    /// Largest single credit grant (grant_credits), in credits.
    #[arg(long, env = "SOLVAPAY_MAX_CREDIT_GRANT", value_parser = clap::value_parser!(i64).range(1..))]
    pub max_credit_grant: Option<i64>,
    /// Largest total of credits granted by one server process (with --state-url: by the whole
    /// deployment).
    #[arg(long, env = "SOLVAPAY_MAX_CREDIT_GRANT_TOTAL", value_parser = clap::value_parser!(i64).range(1..))]
    pub max_credit_grant_total: Option<i64>,
    /// Ask the human to confirm destructive and money-moving calls (when the client supports it).
    #[arg(long, env = "SOLVAPAY_CONFIRM", value_enum, default_value_t = ConfirmMode::Auto)]
    pub confirm: ConfirmMode,
    /// Seconds a person has to answer a confirmation (both protocol eras).
    #[arg(long, env = "SOLVAPAY_CONFIRM_TIMEOUT_SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub confirm_timeout_secs: u64,
    /// Audit log of write calls (JSON lines) [default: <data dir>/audit.jsonl].
    #[arg(long, env = "SOLVAPAY_AUDIT_LOG")]
    pub audit_log: Option<PathBuf>,
    /// Directory for the audit log, refund journal and local sandbox database
    /// [default: $XDG_DATA_HOME/solvapay-mcp, else ~/.local/share/solvapay-mcp].
    #[arg(long, env = "SOLVAPAY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…) of the state replicas share: the refund and credit-grant
    /// journals, the refund and grant totals and the audit log, instead of files in the data
    /// directory. Prefer the environment variable when the URL holds a password.
    #[arg(long, env = "SOLVAPAY_STATE_URL", hide_env_values = true)]
    pub state_url: Option<StateUrlArg>,
}

/// `--state-url` as given; its `Debug` hides it (it may hold a password), and it is parsed by
/// [`ServerFlags::state_url`], whose error never echoes it.
#[derive(Clone)]
pub struct StateUrlArg(String);

impl std::str::FromStr for StateUrlArg {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for StateUrlArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateUrlArg(..)")
    }
}

/// The data directory: `--data-dir`, else [`default_data_dir`].
pub fn data_dir(flag: Option<&PathBuf>) -> Option<PathBuf> {
    flag.cloned().or_else(default_data_dir)
}

impl ServerFlags {
    /// The shared state's URL, when one is given (`--state-url` / `SOLVAPAY_STATE_URL`).
    pub fn state_url(&self) -> Result<Option<StateUrl>, ConfigError> {
        let Some(StateUrlArg(url)) = &self.state_url else {
            return Ok(None);
        };
        url.parse().map(Some).map_err(|e: StateError| ConfigError {
            var: env::STATE_URL,
            problem: e.to_string(),
        })
    }

    /// The tools the operator chose.
    pub fn selection(&self) -> ToolSelection {
        ToolSelection {
            toolsets: self.toolsets.clone(),
            tools: self.tools.clone(),
            exclude: self.exclude_tools.clone(),
            read_only: self.read_only,
            allow_destructive: self.allow_destructive,
        }
    }

    /// Builds the server's options for `config`; `local_sandbox` when no key is set and the
    /// local sandbox serves as SolvaPay; `state`, when opened, holds the journals, the caps'
    /// totals and the audit log instead of the data directory's files.
    pub fn options(
        &self,
        config: &Config,
        local_sandbox: bool,
        state: Option<&SharedState>,
        request_state_key: RequestStateKey,
    ) -> Result<ServerOptions, ConfigError> {
        let selection = self.selection();
        let mode = if local_sandbox {
            None
        } else {
            config.api_key.as_ref().map(|k| k.mode())
        };
        let policy = selection.resolve(mode).map_err(|e| ConfigError {
            var: "--toolsets/--tools/--exclude-tools",
            problem: e.to_string(),
        })?;
        let dir = data_dir(self.data_dir.as_ref());
        let secrets: Vec<String> = config
            .api_key
            .iter()
            .map(|k| k.expose().to_owned())
            .collect();
        if let Some(state) = state {
            return Ok(ServerOptions {
                policy,
                audit: Some(AuditLog::shared(state, secrets)),
                journal: RefundJournal::shared(state),
                grants: GrantJournal::shared(state),
                refund_limits: RefundLimits::new(self.max_refund_amount, self.max_refund_total)
                    .deployment_wide(state),
                grant_limits: Caps::credit_grants(
                    self.max_credit_grant,
                    self.max_credit_grant_total,
                )
                .deployment_wide(state),
                state: Some(state.clone()),
                request_state_key,
                ..self.common_options()
            });
        }
        let audit_path = self
            .audit_log
            .clone()
            .or_else(|| dir.as_ref().map(|d| d.join("audit.jsonl")));
        let audit = match audit_path {
            Some(path) => Some(AuditLog::open(&path, secrets).map_err(|e| ConfigError {
                var: "SOLVAPAY_AUDIT_LOG",
                problem: e.to_string(),
            })?),
            None => None,
        };
        let journal = match &dir {
            Some(d) => RefundJournal::open(&d.join("refunds.jsonl")).map_err(|e| ConfigError {
                var: "SOLVAPAY_DATA_DIR",
                problem: e.to_string(),
            })?,
            None => RefundJournal::in_memory(),
        };
        let grants = match &dir {
            Some(d) => GrantJournal::open(&d.join("grants.jsonl")).map_err(|e| ConfigError {
                var: "SOLVAPAY_DATA_DIR",
                problem: e.to_string(),
            })?,
            None => GrantJournal::in_memory(),
        };
        Ok(ServerOptions {
            policy,
            audit,
            journal,
            request_state_key,
            grants,
            refund_limits: RefundLimits::new(self.max_refund_amount, self.max_refund_total),
            grant_limits: Caps::credit_grants(self.max_credit_grant, self.max_credit_grant_total),
            ..self.common_options()
        })
    }

    /// The options that do not depend on where the state lives.
    fn common_options(&self) -> ServerOptions {
        ServerOptions {
            confirm: self.confirm,
            confirm_timeout: std::time::Duration::from_secs(self.confirm_timeout_secs),
            clock: crate::sandbox::Clock::system(),
            ..ServerOptions::default()
        }
    }
}

/// The key sealing 2026-07-28 confirmation states: `raw` (the value of
/// `SOLVAPAY_REQUEST_STATE_KEY`), else a random one for this process — unless the state is
/// `shared` by replicas, which must all open what any of them sealed. A bad value is named by its
/// variable, never echoed.
pub fn request_state_key(
    raw: Option<&std::ffi::OsStr>,
    shared: bool,
) -> Result<RequestStateKey, ConfigError> {
    let bad = |e: crate::options::RequestStateKeyError| ConfigError {
        var: env::REQUEST_STATE_KEY,
        problem: e.to_string(),
    };
    match raw.map(|r| r.to_str().map(str::trim)) {
        Some(Some(text)) if !text.is_empty() => RequestStateKey::parse(text).map_err(bad),
        Some(None) => Err(bad(crate::options::RequestStateKeyError::NotEncoded)),
        _ if shared => Err(ConfigError {
            var: env::REQUEST_STATE_KEY,
            problem: format!(
                "required with {}: every replica must seal and open confirmations with the same \
                 key; give them all one (e.g. `openssl rand -hex 32`)",
                env::STATE_URL
            ),
        }),
        _ => Ok(RequestStateKey::random()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn a_bad_request_state_key_names_its_variable_and_never_its_value() {
        let value = "0123456789abcdef-not-a-key";
        let e = request_state_key(Some(OsStr::new(value)), false).unwrap_err();
        assert_eq!(e.var, "SOLVAPAY_REQUEST_STATE_KEY");
        assert!(!e.to_string().contains(value), "{e}");
        let short = request_state_key(Some(OsStr::new("abcd")), false).unwrap_err();
        assert!(short.to_string().contains("decodes to 2 bytes"), "{short}");
        for unset in [None, Some(OsStr::new("")), Some(OsStr::new("  "))] {
            assert!(request_state_key(unset, false).is_ok());
            let required = request_state_key(unset, true).unwrap_err();
            assert_eq!(required.var, "SOLVAPAY_REQUEST_STATE_KEY");
            assert!(
                required
                    .problem
                    .contains("required with SOLVAPAY_STATE_URL"),
                "{required}"
            );
        }
        let hex = "ab".repeat(32);
        assert!(request_state_key(Some(OsStr::new(&hex)), false).is_ok());
        assert!(request_state_key(Some(OsStr::new(&hex)), true).is_ok());
    }
}
