//! The schema, as versioned SQL files embedded in the binary, applied at start in one transaction
//! under a transaction-scoped advisory lock: two replicas starting together apply each migration
//! once, the second waiting for the first and then finding nothing to do.

use super::StateError;

/// Every migration, oldest first: (version, what it does, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "the shared guards",
        include_str!("migrations/0001_shared_guards.sql"),
    ),
    (
        2,
        "spent confirmation states",
        include_str!("migrations/0002_spent_confirmations.sql"),
    ),
];

/// The version this build brings the schema to: its newest migration's.
pub const SCHEMA_VERSION: i32 = match MIGRATIONS.last() {
    Some((version, ..)) => *version,
    None => 0,
};

/// The version a migrated database is at.
pub(super) async fn current(client: &tokio_postgres::Client) -> Result<i32, StateError> {
    Ok(client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM solvapay_schema_version",
            &[],
        )
        .await?
        .get(0))
}

/// The advisory lock key the migrations hold ("solvapay" in ASCII).
const LOCK: i64 = 0x736f_6c76_6170_6179;

/// Brings the schema up to date; returns the version the database is at.
pub(super) async fn apply(client: &mut tokio_postgres::Client) -> Result<i32, StateError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS solvapay_schema_version (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM solvapay_schema_version",
            &[],
        )
        .await?
        .get(0);
    let mut version = current;
    for (v, name, sql) in MIGRATIONS.iter().filter(|(v, ..)| *v > current) {
        let failed = |source| StateError::Migration {
            version: *v,
            name,
            source,
        };
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO solvapay_schema_version (version, name) VALUES ($1, $2)",
            &[v, name],
        )
        .await
        .map_err(failed)?;
        version = *v;
    }
    tx.commit().await?;
    if version > current {
        tracing::info!("shared state: schema migrated from version {current} to {version}");
    }
    Ok(version)
}
