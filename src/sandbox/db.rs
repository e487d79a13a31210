//! The sandbox ledger's storage: one SQLite database (WAL on files), its schema migrations, and
//! `Db::tx`, which runs a closure inside one SQLite transaction on a blocking thread: committed only
//! if the closure succeeds, so a failed request leaves nothing half-written. It knows tables, not
//! billing rules: the caller decides what runs inside the transaction.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, Transaction};
use time::OffsetDateTime;

use super::error::{ApiError, ApiResult};

/// Schema version written by [`migrate`].
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = r#"
CREATE TABLE customers (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, email TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
    telephone TEXT, external_ref TEXT, description TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    credit_balance INTEGER NOT NULL DEFAULT 0,
    deleted_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX customers_email ON customers(lower(email)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX customers_external_ref ON customers(external_ref)
    WHERE deleted_at IS NULL AND external_ref IS NOT NULL;

CREATE TABLE products (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, name TEXT NOT NULL, description TEXT,
    image_url TEXT, product_type TEXT, status TEXT NOT NULL DEFAULT 'active', is_mcp_pay INTEGER NOT NULL DEFAULT 0,
    tax_behavior TEXT, config TEXT NOT NULL DEFAULT '{}', metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);

CREATE TABLE plans (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE,
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    name TEXT NOT NULL, description TEXT, type TEXT NOT NULL, price INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL, billing_cycle TEXT, billing_model TEXT, free_units INTEGER NOT NULL DEFAULT 0,
    limit_units INTEGER NOT NULL DEFAULT 0, credits_per_unit INTEGER, base_price INTEGER,
    is_default INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'active', hidden INTEGER NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX plans_product ON plans(product_id);

CREATE TABLE purchases (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id), product_id TEXT NOT NULL,
    plan_id TEXT, status TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    start_date TEXT NOT NULL, end_date TEXT, paid_at TEXT, is_recurring INTEGER NOT NULL,
    billing_cycle TEXT, auto_renew INTEGER NOT NULL, next_billing_date TEXT,
    period_start TEXT, period_end TEXT, cancelled_at TEXT, cancellation_reason TEXT,
    origin TEXT NOT NULL, plan_snapshot TEXT NOT NULL, metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX purchases_customer ON purchases(customer_id);
CREATE INDEX purchases_due ON purchases(status, period_end);

CREATE TABLE usage_events (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, customer_ref TEXT NOT NULL, product_ref TEXT,
    purchase_ref TEXT, action_type TEXT NOT NULL, units INTEGER NOT NULL, outcome TEXT NOT NULL,
    idempotency_key TEXT UNIQUE, ts TEXT NOT NULL, body TEXT NOT NULL, credit_debit TEXT, created_at TEXT NOT NULL
);
CREATE INDEX usage_customer_ts ON usage_events(customer_ref, ts);

CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, product_id TEXT NOT NULL, plan_id TEXT,
    return_url TEXT, status TEXT NOT NULL, purchase_id TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL
);

CREATE TABLE customer_sessions (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, product_id TEXT, status TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, expires_at TEXT NOT NULL
);

CREATE TABLE transactions (
    id TEXT PRIMARY KEY, reference TEXT NOT NULL UNIQUE, type TEXT NOT NULL, status TEXT NOT NULL,
    amount INTEGER NOT NULL, fee INTEGER NOT NULL DEFAULT 0, currency TEXT NOT NULL,
    customer_id TEXT, product_id TEXT, purchase_id TEXT, original_id TEXT,
    refunded_amount INTEGER NOT NULL DEFAULT 0, description TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX transactions_created ON transactions(created_at);
CREATE INDEX transactions_product ON transactions(product_id);
"#;

/// Version 2: credit grants, one row per `Idempotency-Key` (a grant without a key gets its own).
const SCHEMA_V2: &str = r#"
CREATE TABLE credit_grants (
    idempotency_key TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
    credits INTEGER NOT NULL, reason TEXT, balance INTEGER NOT NULL, created_at TEXT NOT NULL
);
"#;

/// Open (creating if needed) the database and bring its schema up to date.
pub(crate) fn open(path: Option<&Path>) -> rusqlite::Result<Connection> {
    let mut conn = match path {
        Some(p) => Connection::open(p)?,
        None => Connection::open_in_memory()?,
    };
    if path.is_some() {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// The migrations: the schema on an empty database, then each later version's additions; a no-op
/// when it is current.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    if version < 1 {
        tx.execute_batch(SCHEMA)?;
    }
    tx.execute_batch(SCHEMA_V2)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()
}

/// Shared handle on the connection. One connection behind a mutex serialises requests, which keeps
/// concurrent writes safe (SQLite allows one writer at a time anyway).
#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub(crate) fn new(conn: Connection) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
        }
    }

    /// Run `f` in one transaction at sandbox time `now`. Commits only when `f` succeeds.
    pub(crate) async fn tx<T, F>(&self, now: OffsetDateTime, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, OffsetDateTime) -> ApiResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = guard.transaction()?;
            let out = f(&tx, now)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "sandbox database task failed");
            ApiError::internal()
        })?
    }
}
