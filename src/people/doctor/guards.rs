//! The checks of the files and stores the guards keep their records in: the data directory, the
//! refund and grant journals, the audit log (and its unfinished calls), the shared state and the
//! key that seals confirmation states — each opened as the server opens it.

use std::path::{Path, PathBuf};

use super::{AUDIT_LOG, Check, DATA_DIR};
use crate::audit::AuditLog;
use crate::cli::{ServerFlags, request_state_key};
use crate::config::ConfigError;
use crate::env;
use crate::journal::{GrantJournal, RefundJournal};
use crate::state::{SCHEMA_VERSION, SharedState};

/// The data directory (created if missing, written and cleaned up) and, without a shared state,
/// the journals in it, opened as the server opens them. File work: on the blocking pool.
pub(super) async fn local_checks(dir: Option<PathBuf>, shared: bool) -> Vec<Check> {
    let checks = tokio::task::spawn_blocking(move || {
        let mut checks = vec![dir_check(dir.as_deref())];
        if !shared {
            checks.push(journal_check(
                "refund journal",
                dir.as_deref(),
                "refunds.jsonl",
                |p| RefundJournal::open(p).map(drop),
            ));
            checks.push(journal_check(
                "grant journal",
                dir.as_deref(),
                "grants.jsonl",
                |p| GrantJournal::open(p).map(drop),
            ));
        }
        checks
    })
    .await;
    checks.unwrap_or_else(|e| {
        vec![Check::failed(
            "data dir",
            e.to_string(),
            "report this as a bug",
        )]
    })
}

fn dir_check(dir: Option<&Path>) -> Check {
    let Some(dir) = dir else {
        return Check::warning(
            "data dir",
            "none (HOME, XDG_DATA_HOME and SOLVAPAY_DATA_DIR unset): the journals are kept in \
             memory and lost at exit",
            format!("set {} (or --data-dir) to a writable directory", DATA_DIR),
        );
    };
    let shown = dir.display();
    let fix = format!(
        "make {shown} a writable directory, or point {} (or --data-dir) at one",
        DATA_DIR
    );
    let existed = dir.is_dir();
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Check::failed("data dir", format!("{shown} cannot be created: {e}"), fix);
    }
    let probe = dir.join(format!(".doctor-probe-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"probe\n"));
    let removed = std::fs::remove_file(&probe);
    match (written, removed) {
        (Ok(()), Ok(())) => Check::ok(
            "data dir",
            format!(
                "{shown} ({}), writable",
                if existed { "exists" } else { "created now" }
            ),
        ),
        (Err(e), _) | (_, Err(e)) => {
            Check::failed("data dir", format!("{shown} is not writable: {e}"), fix)
        }
    }
}

fn journal_check(
    name: &'static str,
    dir: Option<&Path>,
    file: &str,
    open: impl FnOnce(&Path) -> Result<(), crate::journal::JournalError>,
) -> Check {
    let Some(dir) = dir else {
        return Check::warning(
            name,
            "in memory (no data directory): lost at exit, so a retried call after a restart is \
             not recognised",
            format!("set {} (or --data-dir)", DATA_DIR),
        );
    };
    let path = dir.join(file);
    match open(&path) {
        Ok(()) => Check::ok(name, format!("{}: readable", path.display())),
        Err(e) => Check::failed(
            name,
            e.to_string(),
            format!(
                "make {} readable and writable by this user; keep it (it stops a money-moving \
                 call from being sent twice)",
                path.display()
            ),
        ),
    }
}

/// The shared state (when configured), the audit log and its unfinished calls, and the key that
/// seals confirmation states.
pub(super) async fn guard_checks(
    flags: &ServerFlags,
    dir: Option<PathBuf>,
    secrets: Vec<String>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let state = match flags.state_url() {
        Ok(None) => {
            checks.push(Check::ok(
                "shared state",
                format!(
                    "none ({} unset): the journals, the caps' totals and the audit log are this \
                     machine's",
                    env::STATE_URL
                ),
            ));
            None
        }
        Ok(Some(url)) => match open_state(&url).await {
            Ok((state, check)) => {
                checks.push(check);
                Some(state)
            }
            Err(check) => {
                checks.push(check);
                None
            }
        },
        Err(e) => {
            checks.push(state_url_failed(&e));
            None
        }
    };
    let shared = flags.state_url.is_some();
    match (&state, shared) {
        (Some(state), _) => {
            for journal in ["refund journal", "grant journal"] {
                checks.push(Check::ok(
                    journal,
                    format!("in the shared state ({})", state.url()),
                ));
            }
            checks.push(audit_check(Some(AuditLog::shared(state, secrets))).await);
        }
        (None, true) => checks.push(Check::failed(
            "audit log",
            "not read: it is in the shared state, which cannot be opened",
            "fix the shared state (above)",
        )),
        (None, false) => {
            let path = flags
                .audit_log
                .clone()
                .or_else(|| dir.map(|d| d.join("audit.jsonl")));
            let opened = path.map(|p| {
                AuditLog::open(&p, secrets).map_err(|e| (p.display().to_string(), e.to_string()))
            });
            checks.push(match opened {
                Some(Ok(log)) => audit_check(Some(log)).await,
                Some(Err((path, e))) => Check::failed(
                    "audit log",
                    e,
                    format!("make {path} readable and writable by this user (or set {AUDIT_LOG})"),
                ),
                None => audit_check(None).await,
            });
        }
    }
    checks.push(sealing_key_check(shared));
    checks
}

fn state_url_failed(e: &ConfigError) -> Check {
    Check::failed(
        "shared state",
        e.to_string(),
        format!(
            "give {} as postgres://user:password@host:port/database",
            env::STATE_URL
        ),
    )
}

/// Connects to the shared state (applying the migrations this build knows, as the server does)
/// and reads its schema version.
async fn open_state(url: &crate::state::StateUrl) -> Result<(SharedState, Check), Check> {
    let failed = |e: &dyn std::fmt::Display| {
        Check::failed(
            "shared state",
            format!("{url}: {e}"),
            format!(
                "check that PostgreSQL at {url} is up, reachable from here, and lets this user \
                 create tables ({})",
                env::STATE_URL
            ),
        )
    };
    let state = SharedState::open(url).await.map_err(|e| failed(&e))?;
    let version = state.schema_version().await.map_err(|e| failed(&e))?;
    let detail = format!("{url}: connected, schema version {version}");
    let check = if version > SCHEMA_VERSION {
        Check::warning(
            "shared state",
            format!("{detail} (this build knows up to {SCHEMA_VERSION})"),
            "a newer solvapay-mcp migrated it: run that version on every replica",
        )
    } else {
        Check::ok("shared state", detail)
    };
    Ok((state, check))
}

/// The audit log read, and the write calls it holds without an outcome (a warning: the server
/// stopped during them).
async fn audit_check(log: Option<AuditLog>) -> Check {
    let Some(log) = log else {
        return Check::warning(
            "audit log",
            "none (no data directory and no --audit-log): write calls are not recorded",
            format!("set {DATA_DIR} or {AUDIT_LOG}"),
        );
    };
    let place = log.path().map_or_else(
        || "in the shared state".to_owned(),
        |p| p.display().to_string(),
    );
    match log.unfinished().await {
        Ok(calls) if calls.is_empty() => Check::ok(
            "audit log",
            format!("{place}: readable; every recorded write call has its outcome"),
        ),
        Ok(calls) => {
            let tools: Vec<String> = calls
                .iter()
                .map(|c| format!("{} ({}, {})", c.tool, c.call_id, c.time))
                .collect();
            Check::warning(
                "audit log",
                format!(
                    "{place}: {} write call(s) started with no recorded outcome: {}",
                    calls.len(),
                    tools.join("; ")
                ),
                "check their effect in SolvaPay; the server marks them interrupted at its next \
                 start (on a shared state, some may still be running on another replica)",
            )
        }
        Err(e) => Check::failed(
            "audit log",
            e.to_string(),
            "make the audit log readable by this user; if a line is damaged, move the file \
             aside (the server starts a new one)",
        ),
    }
}

/// The key sealing 2026-07-28 confirmation states, checked as the server checks it (never shown).
fn sealing_key_check(shared: bool) -> Check {
    let raw = std::env::var_os(env::REQUEST_STATE_KEY);
    let given = raw.as_deref().is_some_and(|r| !r.is_empty());
    match request_state_key(raw.as_deref(), shared) {
        Ok(_) if given => Check::ok(
            "request-state key",
            format!(
                "{} set: confirmations are sealed with it",
                env::REQUEST_STATE_KEY
            ),
        ),
        Ok(_) => Check::ok(
            "request-state key",
            format!(
                "{} unset: a random key per process (a confirmation does not outlive it)",
                env::REQUEST_STATE_KEY
            ),
        ),
        Err(e) => Check::failed(
            "request-state key",
            e.to_string(),
            format!(
                "give {} (the same on every replica) hex or base64 of at least 32 bytes, e.g. \
                 `openssl rand -hex 32`",
                env::REQUEST_STATE_KEY
            ),
        ),
    }
}
