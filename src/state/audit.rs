//! The audit table: a row inserted (and committed) when a write call starts, completed when it
//! finishes. A row without an outcome whose replica no longer has a connection to the database
//! (no `pg_stat_activity` backend under its `application_name`) belongs to a replica that died:
//! PostgreSQL drops a killed process's connections at once, so no grace by age is needed, and a
//! replica that is alive (its calls may be waiting for a person's confirmation for minutes) is
//! never taken for dead.

use time::OffsetDateTime;

use super::{SharedState, StateError};

/// The audit rows of a deployment.
#[derive(Debug, Clone)]
pub struct SharedAudit {
    state: SharedState,
}

/// A call about to run.
#[derive(Debug)]
pub struct Started<'a> {
    /// Its id.
    pub call_id: &'a str,
    /// Who called (a name, never a key), when known.
    pub caller: Option<&'a str>,
    /// The tool.
    pub tool: &'a str,
    /// Its arguments as JSON, already scrubbed of secrets.
    pub arguments: &'a str,
    /// When.
    pub at: OffsetDateTime,
}

/// How a call ended.
#[derive(Debug)]
pub struct Finished<'a> {
    /// Its id.
    pub call_id: &'a str,
    /// When.
    pub at: OffsetDateTime,
    /// The outcome's name (`ok`, `error`, `unknown`, …).
    pub outcome: &'a str,
    /// The error code, for failures.
    pub code: Option<&'a str>,
    /// The error message (scrubbed), for failures.
    pub message: Option<&'a str>,
    /// References the result names.
    pub references: &'a [String],
}

/// A call started and not finished.
#[derive(Debug, Clone)]
pub struct OpenRow {
    /// Its id.
    pub call_id: String,
    /// The tool.
    pub tool: String,
    /// When it started.
    pub started_at: OffsetDateTime,
}

impl SharedAudit {
    /// The audit rows in `state`.
    pub fn new(state: &SharedState) -> Self {
        Self {
            state: state.clone(),
        }
    }

    /// Records `call` as started, committed before returning.
    pub async fn start(&self, call: &Started<'_>) -> Result<(), StateError> {
        self.state
            .client()
            .await?
            .execute(
                "INSERT INTO solvapay_audit (call_id, replica, caller, tool, arguments, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &call.call_id,
                    &self.state.replica(),
                    &call.caller,
                    &call.tool,
                    &call.arguments,
                    &call.at,
                ],
            )
            .await?;
        Ok(())
    }

    /// Records how a call ended (over an `interrupted` another replica may have written).
    pub async fn finish(&self, call: &Finished<'_>) -> Result<(), StateError> {
        self.state
            .client()
            .await?
            .execute(
                "UPDATE solvapay_audit
                 SET finished_at = $2, outcome = $3, code = $4, message = $5, refs = $6
                 WHERE call_id = $1",
                &[
                    &call.call_id,
                    &call.at,
                    &call.outcome,
                    &call.code,
                    &call.message,
                    &call.references,
                ],
            )
            .await?;
        Ok(())
    }

    /// Every call without an outcome, any replica's (running, or left by a dead one), oldest first.
    pub async fn unfinished(&self) -> Result<Vec<OpenRow>, StateError> {
        let rows = self
            .state
            .client()
            .await?
            .query(
                "SELECT call_id, tool, started_at FROM solvapay_audit
                 WHERE finished_at IS NULL ORDER BY started_at, call_id",
                &[],
            )
            .await?;
        Ok(rows.iter().map(open_row).collect())
    }

    /// Closes as `interrupted` (with `message`) the calls of replicas that are gone, and returns
    /// them oldest first; each is returned to one replica only.
    pub async fn recover(&self, message: &str) -> Result<Vec<OpenRow>, StateError> {
        let rows = self
            .state
            .client()
            .await?
            .query(
                "UPDATE solvapay_audit
                 SET finished_at = $2, outcome = 'interrupted', message = $3
                 WHERE finished_at IS NULL AND replica <> $1
                   AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                   WHERE a.application_name = solvapay_audit.replica)
                 RETURNING call_id, tool, started_at",
                &[&self.state.replica(), &OffsetDateTime::now_utc(), &message],
            )
            .await?;
        let mut calls: Vec<OpenRow> = rows.iter().map(open_row).collect();
        calls.sort_by(|a, b| (a.started_at, &a.call_id).cmp(&(b.started_at, &b.call_id)));
        Ok(calls)
    }
}

fn open_row(row: &tokio_postgres::Row) -> OpenRow {
    OpenRow {
        call_id: row.get(0),
        tool: row.get(1),
        started_at: row.get(2),
    }
}
