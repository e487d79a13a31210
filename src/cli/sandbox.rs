//! `solvapay-mcp sandbox [status | reset | export | clock]`: with no subcommand, the standalone
//! sandbox server (its flags as always); with one, a look at or a change to its database file,
//! through [`crate::sandbox::admin`]. Output is for people (text, or `--json` for scripts) on
//! stdout; exit 0 on success, 2 for a bad argument or a refused reset, 1 when the database cannot
//! be read or written.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{SandboxFlags, db_location};
use crate::sandbox::admin::{self, AdminError, ClockChange, ClockMode, ClockView, ServerView};
use crate::sandbox::{Census, DbLocation};

/// `solvapay-mcp sandbox`: the server's flags, or a subcommand.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    /// Look at or change the sandbox database instead of serving it.
    #[command(subcommand)]
    pub command: Option<SandboxCommand>,
    /// The standalone sandbox's flags.
    #[command(flatten)]
    pub flags: SandboxFlags,
}

/// The sandbox database commands.
#[derive(Debug, Clone, Subcommand)]
pub enum SandboxCommand {
    /// Where the database is, what it holds, its clock, and whether a sandbox runs on it.
    Status {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Empty the database (asks first; --yes to skip the question).
    Reset {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// Reset without asking (needed when stdin is not a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Load the demo data (and its clock) into the emptied database.
        #[arg(long)]
        demo: bool,
    },
    /// Write everything the database holds as JSON (money in minor units beside its currency).
    Export {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// Write to this file instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show or move the sandbox clock (the one `POST /v1/sandbox/clock` moves), kept in the
    /// database for the next sandbox started on it.
    Clock {
        /// The database.
        #[command(flatten)]
        db: DbArgs,
        /// One JSON object instead of text.
        #[arg(long, global = true)]
        json: bool,
        /// What to do with the clock [default: show].
        #[command(subcommand)]
        action: Option<ClockAction>,
    },
}

/// `sandbox clock …`.
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum ClockAction {
    /// Print the sandbox time and how it runs.
    Show,
    /// Stop time at this instant (RFC 3339, e.g. 2026-03-01T00:00:00Z).
    Set {
        /// The instant.
        #[arg(value_parser = parse_instant, value_name = "RFC3339")]
        at: OffsetDateTime,
    },
    /// Move time by a duration: 30d, 12h, 1h30m, 2w (-1d goes back).
    Advance {
        /// The duration.
        #[arg(value_parser = parse_duration, allow_hyphen_values = true, value_name = "DURATION")]
        by: Duration,
    },
    /// Stop time where it is.
    Freeze,
    /// Let stopped time flow again from where it stands.
    Resume,
}

/// Which database a command works on: resolved as the sandbox resolves it.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// SQLite database file [default: <data dir>/sandbox.sqlite].
    #[arg(long, env = "SOLVAPAY_SANDBOX_DB", global = true)]
    pub db: Option<String>,
    /// The data directory [default: $XDG_DATA_HOME/solvapay-mcp, else ~/.local/share/solvapay-mcp].
    #[arg(long, env = "SOLVAPAY_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
}

impl DbArgs {
    /// The database file, or why there is none to work on.
    fn path(&self) -> Result<PathBuf, String> {
        match db_location(self.db.as_deref(), self.data_dir.as_ref()) {
            Ok(DbLocation::Path(path)) => Ok(path),
            Ok(DbLocation::Memory) => Err(
                "--db :memory: lives only inside a running sandbox; give the database file".into(),
            ),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn parse_instant(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map_err(|_| "expected an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z".to_owned())
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    admin::parse_duration(text)
        .ok_or_else(|| "expected a duration like 30d, 12h, 1h30m, 2w or -1d".to_owned())
}

/// Runs one sandbox database command, writing its output to `out` and notes for the person
/// (what else the change reached) to `note`.
pub fn run(command: &SandboxCommand, out: &mut dyn Write, note: &mut dyn Write) -> ExitCode {
    let db = match command {
        SandboxCommand::Status { db, .. }
        | SandboxCommand::Reset { db, .. }
        | SandboxCommand::Export { db, .. }
        | SandboxCommand::Clock { db, .. } => db,
    };
    let path = match db.path() {
        Ok(p) => p,
        Err(problem) => {
            tracing::error!("{problem}");
            return ExitCode::from(2);
        }
    };
    let done = match command {
        SandboxCommand::Status { json, .. } => status(&path, *json, out),
        SandboxCommand::Reset { yes, demo, .. } => reset(&path, *yes, *demo, out, note),
        SandboxCommand::Export { output, .. } => export(&path, output.as_deref(), out, note),
        SandboxCommand::Clock { json, action, .. } => {
            let change = match action.unwrap_or(ClockAction::Show) {
                ClockAction::Show => ClockChange::Show,
                ClockAction::Set { at } => ClockChange::Set(at),
                ClockAction::Advance { by } => ClockChange::Advance(by),
                ClockAction::Freeze => ClockChange::Freeze,
                ClockAction::Resume => ClockChange::Resume,
            };
            clock(&path, change, *json, out, note)
        }
    };
    match done {
        Ok(code) => code,
        Err(Failure::Admin(AdminError::Missing(path))) => {
            tracing::error!(
                "no sandbox database at {} yet ({})",
                path.display(),
                HOW_IT_IS_MADE
            );
            ExitCode::FAILURE
        }
        Err(Failure::Admin(e)) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
        // The reader went away (`| head`): what it wanted, it has.
        Err(Failure::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

const HOW_IT_IS_MADE: &str = "the sandbox creates it when it first starts: `solvapay-mcp sandbox`, \
    or the MCP server with no SOLVAPAY_SECRET_KEY; `solvapay-mcp sandbox reset --demo` makes one \
    holding the demo data";

/// What stopped a command.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("could not write the output: {0}")]
    Io(#[from] std::io::Error),
}

fn status(path: &Path, json: bool, out: &mut dyn Write) -> Result<ExitCode, Failure> {
    let status = admin::status(path)?;
    if json {
        writeln!(out, "{}", pretty(&status))?;
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(contents), Some(clock)) = (&status.contents, &status.clock) else {
        writeln!(out, "database  {} (does not exist yet)", path.display())?;
        writeln!(out, "          {HOW_IT_IS_MADE}")?;
        return Ok(ExitCode::SUCCESS);
    };
    let size = status.size_bytes.unwrap_or_default();
    writeln!(
        out,
        "database  {} ({}, schema {})",
        path.display(),
        human_size(size),
        status.schema_version.unwrap_or_default()
    )?;
    writeln!(out, "clock     {}", describe_clock(clock))?;
    if let Some(server) = &status.server {
        writeln!(out, "server    {}", describe_server(server))?;
        if server.running {
            writeln!(out, "dashboard {}", server.dashboard)?;
        }
    }
    for (label, line) in census_lines(contents) {
        writeln!(out, "{label:<12} {line}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn reset(
    path: &Path,
    yes: bool,
    demo: bool,
    out: &mut dyn Write,
    note: &mut dyn Write,
) -> Result<ExitCode, Failure> {
    if !yes {
        let holding = match admin::census(path) {
            Ok(census) => summary(&census),
            Err(AdminError::Missing(_)) => "not created yet".to_owned(),
            Err(e) => return Err(e.into()),
        };
        let question = format!("reset {} ({holding})? [y/N] ", path.display());
        if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
            tracing::error!(
                "not resetting {} ({holding}) without a confirmation: stdin is not a terminal, \
                 so pass --yes",
                path.display()
            );
            return Ok(ExitCode::from(2));
        }
        if !ask(&question)? {
            writeln!(out, "nothing reset")?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    let census = admin::reset(path, demo)?;
    let what = if demo {
        format!("demo data loaded ({})", summary(&census))
    } else {
        "empty".to_owned()
    };
    writeln!(out, "reset {}: {what}", path.display())?;
    if let Some(server) = admin::status(path)?.server.filter(|s| s.running) {
        writeln!(
            note,
            "the sandbox running at {} (pid {}) serves the reset ledger from its next request, \
             and its clock within a second",
            server.url, server.pid
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal; only `y` or `yes` is a yes.
fn ask(question: &str) -> Result<bool, std::io::Error> {
    let mut err = std::io::stderr().lock();
    write!(err, "{question}")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn export(
    path: &Path,
    output: Option<&Path>,
    out: &mut dyn Write,
    note: &mut dyn Write,
) -> Result<ExitCode, Failure> {
    let export = admin::export(path)?;
    let text = pretty(&export);
    match output {
        Some(file) => {
            std::fs::write(file, format!("{text}\n"))?;
            writeln!(note, "exported {} to {}", path.display(), file.display())?;
        }
        None => writeln!(out, "{text}")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn clock(
    path: &Path,
    change: ClockChange,
    json: bool,
    out: &mut dyn Write,
    note: &mut dyn Write,
) -> Result<ExitCode, Failure> {
    let (view, running) = admin::clock(path, change)?;
    if json {
        writeln!(out, "{}", pretty(&view))?;
    } else {
        writeln!(out, "{}", describe_clock(&view))?;
    }
    if let (Some(server), false) = (running, change == ClockChange::Show) {
        writeln!(
            note,
            "the sandbox running at {} (pid {}) switches to this clock within a second",
            server.url, server.pid
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn describe_clock(clock: &ClockView) -> String {
    let how = match (clock.mode, clock.offset_seconds) {
        (ClockMode::Frozen, _) => "frozen".to_owned(),
        (ClockMode::Flowing, Some(0) | None) => "flowing, the wall clock".to_owned(),
        (ClockMode::Flowing, Some(secs)) => format!(
            "flowing, {} {} the wall clock",
            human_span(secs.unsigned_abs()),
            if secs < 0 { "behind" } else { "ahead of" }
        ),
    };
    format!("{} ({how})", clock.now)
}

fn describe_server(server: &ServerView) -> String {
    if server.running {
        format!("running at {} (pid {})", server.url, server.pid)
    } else {
        format!(
            "none running (the last one, pid {}, at {}, stopped without saying so)",
            server.pid, server.url
        )
    }
}

fn census_lines(c: &Census) -> Vec<(&'static str, String)> {
    let deleted = if c.deleted_customers > 0 {
        format!(" ({} deleted)", c.deleted_customers)
    } else {
        String::new()
    };
    vec![
        ("customers", format!("{}{deleted}", c.customers)),
        ("products", c.products.to_string()),
        ("plans", c.plans.to_string()),
        ("purchases", grouped(&c.purchases)),
        ("usage", format!("{} events", c.usage_events)),
        ("transactions", grouped(&c.transactions)),
        (
            "credits",
            format!(
                "{} grants, {} on balances",
                c.credit_grants, c.credit_balance
            ),
        ),
        (
            "sessions",
            format!(
                "{} checkout, {} portal",
                c.checkout_sessions, c.customer_sessions
            ),
        ),
    ]
}

/// `3 (active 2, cancelled 1)`, or `0`.
fn grouped(counts: &std::collections::BTreeMap<String, i64>) -> String {
    let total: i64 = counts.values().sum();
    if total == 0 {
        return "0".to_owned();
    }
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    format!("{total} ({})", parts.join(", "))
}

/// `2 customers, 1 product, 2 plans, 2 purchases, 86 usage events, 1 transaction`, or `empty`.
fn summary(c: &Census) -> String {
    if c.is_empty() {
        return "empty".to_owned();
    }
    let count = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    [
        count(c.customers, "customer", "customers"),
        count(c.products, "product", "products"),
        count(c.plans, "plan", "plans"),
        count(c.purchases.values().sum(), "purchase", "purchases"),
        count(c.usage_events, "usage event", "usage events"),
        count(c.transactions.values().sum(), "transaction", "transactions"),
    ]
    .join(", ")
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// `293d 4h 12m` (minutes and up; `under a minute` below).
fn human_span(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if parts.is_empty() {
        "under a minute".to_owned()
    } else {
        parts.join(" ")
    }
}
