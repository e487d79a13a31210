//! `solvapay-mcp doctor [--json]`: the configuration checked through the code the server runs on,
//! one line per check — `✓`, `!` (works, but look) or `✗` (and what to do): the version, the key,
//! SolvaPay reachable (one cheap read through the in-process server), the tools the policy
//! enables, the data directory, and the guards (journals, audit log, shared state, the
//! confirmation sealing key). Exit 0 when no check fails, 5 otherwise. The key is never shown, in
//! any form: only its kind and the variable it came from.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rmcp::model::{CallToolResult, JsonObject, ProtocolVersion};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{SUCCESS, TOOL_FAILED, out};
use crate::api::{ApiKey, KeyMode, RetryPolicy};
use crate::cli::{DoctorArgs, ServerFlags, data_dir};
use crate::config::{self, Config};
use crate::env;
use crate::error::ErrorCode;
use crate::local::{Consent, LocalSession};
use crate::policy::ToolPolicy;
use crate::sandbox::DbLocation;
use crate::telemetry::LogRedaction;

mod guards;

/// The variables of `--data-dir` and `--audit-log`.
const DATA_DIR: &str = "SOLVAPAY_DATA_DIR";
const AUDIT_LOG: &str = "SOLVAPAY_AUDIT_LOG";

/// The longest the API check waits for its one read: a connection, then an answer, once (no
/// retries), whatever `SOLVAPAY_TIMEOUT_SECS` allows the tools (it only ever shortens it).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The reads the API check may make, in order of preference: the first one enabled is called
/// with `limit: 1`.
const PROBES: &[&str] = &[
    "list_products",
    "list_customers",
    "list_plans",
    "list_transactions",
];

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    /// Works, but something deserves a look (it does not fail the run).
    Warning,
    Failed,
}

/// One line of the report.
#[derive(Debug, Clone)]
struct Check {
    name: &'static str,
    verdict: Verdict,
    detail: String,
    /// What to do (for a warning or a failure).
    fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn warning(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Warning,
            fix: Some(fix.into()),
            ..Self::ok(name, detail)
        }
    }

    fn failed(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Failed,
            fix: Some(fix.into()),
            ..Self::ok(name, detail)
        }
    }

    fn json(&self) -> Value {
        json!({
            "check": self.name,
            "ok": self.verdict != Verdict::Failed,
            "detail": self.detail,
            "fix": self.fix,
        })
    }
}

/// Runs every check and prints the report.
pub async fn run(args: &DoctorArgs, logs: &LogRedaction) -> ExitCode {
    let checks = checks(args, logs).await;
    if args.json {
        let all: Vec<Value> = checks.iter().map(Check::json).collect();
        out(&serde_json::to_string_pretty(&all).unwrap_or_default());
    } else {
        out(&render(&checks));
    }
    let failed = checks.iter().any(|c| c.verdict == Verdict::Failed);
    ExitCode::from(if failed { TOOL_FAILED } else { SUCCESS })
}

async fn checks(args: &DoctorArgs, logs: &LogRedaction) -> Vec<Check> {
    let flags = &args.server;
    let lookup = |name: &str| std::env::var(name).ok();
    let key_var = config::key_variable(lookup);
    let key = key_var.and_then(lookup).map(|k| ApiKey::new(&k));
    let mut checks = vec![version()];
    let config = match Config::from_env() {
        Ok(c) => Some(c),
        Err(e) => {
            checks.push(Check::failed(
                "config",
                e.to_string(),
                format!("correct {} (or unset it for the default)", e.var),
            ));
            None
        }
    };
    checks.push(key_check(key.as_ref(), key_var, config.as_ref(), args));
    // The files first: the server's start (for the API check) creates what is missing, and the
    // data directory's line should say what was there before.
    let dir = data_dir(flags.data_dir.as_ref());
    let secrets: Vec<String> = key.iter().map(|k| k.expose().to_owned()).collect();
    let local = guards::local_checks(dir.clone(), flags.state_url.is_some()).await;
    let guards = guards::guard_checks(flags, dir, secrets).await;
    checks.push(match &config {
        Some(config) => api_check(config, key.is_some(), key_var, args, logs).await,
        None => Check::failed(
            "api",
            "not tried: the configuration is invalid",
            "fix the configuration (above) first",
        ),
    });
    checks.push(tools_check(flags, key.as_ref().map(ApiKey::mode)));
    checks.extend(local);
    checks.extend(guards);
    checks
}

/// The build and the MCP revisions it speaks (the server keeps rmcp's full list).
fn version() -> Check {
    let (initialize, stateless): (Vec<_>, Vec<_>) = ProtocolVersion::KNOWN_VERSIONS
        .iter()
        .partition(|v| v.has_initialize());
    let names =
        |vs: &[&ProtocolVersion]| vs.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ");
    Check::ok(
        "version",
        format!(
            "solvapay-mcp {}; MCP {} (initialize) and {} (stateless, server/discover)",
            env!("CARGO_PKG_VERSION"),
            names(&initialize),
            names(&stateless)
        ),
    )
}

/// The key's kind and where it came from; without one, where the local sandbox keeps its data.
fn key_check(
    key: Option<&ApiKey>,
    var: Option<&'static str>,
    config: Option<&Config>,
    args: &DoctorArgs,
) -> Check {
    let var = var.unwrap_or(env::SECRET_KEY);
    let at = config.map_or_else(String::new, |c| format!(" at {}", c.base_url.as_str()));
    let Some(key) = key else {
        return match args.sandbox.options(args.server.data_dir.as_ref()) {
            Ok(options) => Check::ok(
                "key",
                format!(
                    "none ({} and {} unset): the tools use the local sandbox, database {}",
                    env::SECRET_KEY,
                    env::API_KEY,
                    match &options.db {
                        DbLocation::Memory => "in memory (gone at exit)".to_owned(),
                        DbLocation::Path(p) => p.display().to_string(),
                    }
                ),
            ),
            Err(e) => Check::failed(
                "key",
                format!("none, and the local sandbox cannot run: {e}"),
                format!(
                    "set {} (or --data-dir), or give the sandbox --db PATH or :memory:",
                    DATA_DIR
                ),
            ),
        };
    };
    if unsendable(key) {
        return Check::failed(
            "key",
            format!(
                "the key in {var} holds a space, a control or a non-ASCII character: it cannot be sent"
            ),
            format!("copy the secret key again, whole and alone, into {var}"),
        );
    }
    match key.mode() {
        KeyMode::Sandbox => Check::ok(
            "key",
            format!("sandbox key (sk_sandbox_/sk_test_) from {var}: SolvaPay's test data{at}"),
        ),
        KeyMode::Live => Check::ok(
            "key",
            format!("live key (sk_live_) from {var}: real money{at}"),
        ),
        KeyMode::Unrecognised => Check::warning(
            "key",
            format!(
                "the key in {var} does not start with sk_live_, sk_sandbox_ or sk_test_: treated as \
                 live (the live-key guard applies){at}"
            ),
            format!("check that {var} holds a SolvaPay secret key"),
        ),
    }
}

/// Whether the key has a character an `Authorization` header cannot carry as it is.
fn unsendable(key: &ApiKey) -> bool {
    key.expose()
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
}

/// One cheap read through the in-process server, as the tools would make it, with its latency.
async fn api_check(
    config: &Config,
    has_key: bool,
    key_var: Option<&'static str>,
    args: &DoctorArgs,
    logs: &LogRedaction,
) -> Check {
    // One attempt within a short time: a base URL nothing answers on fails within seconds,
    // instead of after the tools' retries and 20-second attempts.
    let mut probe = config.clone();
    probe.timeout = probe.timeout.min(PROBE_TIMEOUT);
    probe.retry = RetryPolicy {
        max_retries: 0,
        total_budget: PROBE_TIMEOUT,
        ..RetryPolicy::default()
    };
    let started =
        LocalSession::start_with(probe, &args.server, &args.sandbox, Consent::No, logs).await;
    let Ok(session) = started else {
        return Check::failed(
            "api",
            "not tried: the server does not start with this configuration (the error it logged \
             on stderr says why)",
            "fix what the error names (see also the checks below), then run doctor again",
        );
    };
    let upstream = if has_key {
        format!("the SolvaPay API at {}", config.base_url.as_str())
    } else {
        session.upstream().to_owned()
    };
    let check = probe_read(&session, &upstream, config, key_var).await;
    session.shutdown().await;
    check
}

async fn probe_read(
    session: &LocalSession,
    upstream: &str,
    config: &Config,
    key_var: Option<&'static str>,
) -> Check {
    let tools = match session.list_tools().await {
        Ok(t) => t,
        Err(e) => return Check::failed("api", e.to_string(), "report this as a bug"),
    };
    let Some(tool) = PROBES
        .iter()
        .find(|name| tools.iter().any(|t| t.name == **name))
    else {
        return Check::warning(
            "api",
            format!("not tried: none of {} is enabled", PROBES.join(", ")),
            "enable the catalog, customers or payments toolset to let doctor make one read",
        );
    };
    let mut arguments = JsonObject::new();
    arguments.insert("limit".into(), json!(1));
    let started = Instant::now();
    let result = session.call(tool, arguments).await;
    let ms = started.elapsed().as_millis();
    let result = match result {
        Ok(r) => r,
        Err(e) => return Check::failed("api", e.to_string(), "report this as a bug"),
    };
    if result.is_error != Some(true) {
        return Check::ok("api", format!("{tool} answered in {ms} ms by {upstream}"));
    }
    let failure = Failure::of(&result);
    let detail = format!(
        "{tool} failed after {ms} ms against {upstream}: {}",
        failure.message
    );
    let base = config.base_url.as_str();
    let var = key_var.unwrap_or(env::SECRET_KEY);
    let fix = match (failure.code, failure.status) {
        (Some(ErrorCode::Unauthorized), _) => format!(
            "check that {var} holds a valid, unexpired secret key for the API at {base} (a \
             sandbox key for test data, a live key for real money)"
        ),
        (Some(ErrorCode::InternalError), None) => format!(
            "check {} (now {base}) and the network (proxy, firewall, DNS) from this machine",
            env::BASE_URL
        ),
        (Some(ErrorCode::InternalError), Some(_)) => format!(
            "SolvaPay failed: retry later; if it persists, check that {} ({base}) is the SolvaPay \
             API",
            env::BASE_URL
        ),
        _ => format!("check that {} ({base}) is the SolvaPay API", env::BASE_URL),
    };
    Check::failed("api", detail, fix)
}

/// What a failed tool result's envelope says (see [`crate::error::ToolError::structured`]).
#[derive(Debug, Default)]
struct Failure {
    code: Option<ErrorCode>,
    status: Option<u16>,
    message: String,
}

impl Failure {
    fn of(result: &CallToolResult) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            code: ErrorCode,
            message: String,
            status: Option<u16>,
        }
        let text: String = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
            .collect();
        match serde_json::from_str::<Envelope>(&text) {
            Ok(Envelope { error }) => Self {
                code: Some(error.code),
                status: error.status,
                message: error.message,
            },
            Err(_) => Self {
                message: text,
                ..Self::default()
            },
        }
    }
}

/// The tools the policy enables for this key, and the caps.
fn tools_check(flags: &ServerFlags, mode: Option<KeyMode>) -> Check {
    let policy: ToolPolicy = match flags.selection().resolve(mode) {
        Ok(p) => p,
        Err(e) => {
            return Check::failed(
                "tools",
                e.to_string(),
                "correct --toolsets/--tools/--exclude-tools (SOLVAPAY_TOOLSETS, SOLVAPAY_TOOLS, \
                 SOLVAPAY_EXCLUDE_TOOLS)",
            );
        }
    };
    let count = policy.enabled().count();
    let writes = if flags.read_only {
        "read-only"
    } else {
        "writes on"
    };
    let detail = format!("{policy}; {writes}; caps: {}", caps(flags));
    let live = matches!(mode, Some(KeyMode::Live | KeyMode::Unrecognised));
    let refunds_open = policy.allows("create_refund")
        && flags.max_refund_amount.is_none()
        && flags.max_refund_total.is_none();
    if count == 0 {
        Check::failed(
            "tools",
            detail,
            "enable some: --toolsets/--tools, and fewer --exclude-tools",
        )
    } else if live && refunds_open {
        Check::warning(
            "tools",
            detail,
            "with a live key and refunds on, cap them: --max-refund-amount and --max-refund-total \
             (SOLVAPAY_MAX_REFUND_AMOUNT, SOLVAPAY_MAX_REFUND_TOTAL)",
        )
    } else {
        Check::ok("tools", detail)
    }
}

/// The refund and credit-grant ceilings, or "none".
fn caps(flags: &ServerFlags) -> String {
    let caps: Vec<String> = [
        (flags.max_refund_amount, "refund", "per call"),
        (flags.max_refund_total, "refunds", "in total"),
        (flags.max_credit_grant, "credit grant", "per call"),
        (flags.max_credit_grant_total, "credit grants", "in total"),
    ]
    .into_iter()
    .filter_map(|(cap, what, scope)| cap.map(|c| format!("{what} ≤ {c} {scope}")))
    .collect();
    if caps.is_empty() {
        "none".to_owned()
    } else {
        caps.join(", ")
    }
}

/// The page: one line per check, its fix beneath, then the count.
fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut page = String::new();
    for check in checks {
        let mark = match check.verdict {
            Verdict::Ok => '✓',
            Verdict::Warning => '!',
            Verdict::Failed => '✗',
        };
        page.push_str(&format!("{mark} {:width$}  {}\n", check.name, check.detail));
        if let Some(fix) = &check.fix {
            page.push_str(&format!("  {:width$}  → {fix}\n", ""));
        }
    }
    let count = |v| checks.iter().filter(|c| c.verdict == v).count();
    let (failed, warned) = (count(Verdict::Failed), count(Verdict::Warning));
    page.push_str(&match (failed, warned) {
        (0, 0) => format!("all {} checks passed", checks.len()),
        (0, w) => format!("{} checks passed, {w} with a warning", checks.len()),
        (f, _) => format!("{f} of {} checks failed", checks.len()),
    });
    page
}
