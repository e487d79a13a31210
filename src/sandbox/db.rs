//! The sandbox ledger's storage: one SQLite database (WAL on files), its schema migrations, and
//! `Db::tx`, which runs a closure inside one SQLite transaction on a blocking thread: committed only
//! if the closure succeeds, so a failed request leaves nothing half-written. It knows tables, not
//! billing rules: the caller decides what runs inside the transaction. Also the whole-database
//! views the `sandbox status|reset|export` commands need: [`Census`], [`dump`], [`clear`], and the
//! `settings` rows (the clock, the listening server).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::clock::ClockSetting;
use super::error::{ApiError, ApiResult};

/// Schema version written by [`migrate`].
pub(crate) const SCHEMA_VERSION: i64 = 4;

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

/// Version 3: settings the sandbox keeps across restarts (its clock; the server listening on it).
const SCHEMA_V3: &str = r#"
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#;

/// Version 4: when a purchase's cancelled renewal was last reactivated (`reactivatedAt`, an extra
/// field beside SolvaPay's `SdkPurchaseResponse`; the revenue metrics count reactivations by it).
const SCHEMA_V4: &str = r#"
ALTER TABLE purchases ADD COLUMN reactivated_at TEXT;
"#;

/// Open (creating if needed) the database and bring its schema up to date.
pub(crate) fn open(path: Option<&Path>) -> rusqlite::Result<Connection> {
    let conn = match path {
        Some(p) => Connection::open(p)?,
        None => Connection::open_in_memory()?,
    };
    prepare(conn, path.is_some())
}

/// Open the database file at `path`, which must exist, and bring its schema up to date (as the
/// next sandbox started on it would). Safe while a sandbox has it open: SQLite's locks order the
/// writes, and a write waits up to 5 s for the other's to finish.
pub(crate) fn open_existing(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    prepare(Connection::open_with_flags(path, flags)?, true)
}

fn prepare(mut conn: Connection, file: bool) -> rusqlite::Result<Connection> {
    if file {
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
    if version < 2 {
        tx.execute_batch(SCHEMA_V2)?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3)?;
    }
    tx.execute_batch(SCHEMA_V4)?;
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

/// The ledger's tables, parents before children (so deletes run in reverse).
const TABLES: &[&str] = &[
    "customers",
    "products",
    "plans",
    "purchases",
    "transactions",
    "usage_events",
    "checkout_sessions",
    "customer_sessions",
    "credit_grants",
];

/// Columns that hold JSON text: exported as JSON, not as a string.
const JSON_COLUMNS: &[&str] = &["metadata", "config", "extra", "plan_snapshot", "body"];

/// The `settings` key of the clock ([`ClockSetting`]).
const CLOCK: &str = "clock";
/// The `settings` key of the server listening on the database ([`Listener`]).
const LISTENER: &str = "listener";

/// What the ledger holds, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Census {
    /// Customers not deleted.
    pub customers: i64,
    /// Customers deleted (kept for their history).
    pub deleted_customers: i64,
    /// Products.
    pub products: i64,
    /// Plans.
    pub plans: i64,
    /// Purchases, by status (`active`, `cancelled`, …).
    pub purchases: BTreeMap<String, i64>,
    /// Usage events recorded.
    pub usage_events: i64,
    /// Transactions, by type (`payment`, `refund`).
    pub transactions: BTreeMap<String, i64>,
    /// Credit grants made.
    pub credit_grants: i64,
    /// Credits on all customers' balances.
    pub credit_balance: i64,
    /// Hosted checkout sessions.
    pub checkout_sessions: i64,
    /// Customer portal sessions.
    pub customer_sessions: i64,
}

impl Census {
    /// Counts everything in one read transaction.
    pub(crate) fn take(conn: &mut Connection) -> rusqlite::Result<Self> {
        let tx = conn.transaction()?;
        let one = |sql: &str| tx.query_row(sql, [], |r| r.get::<_, i64>(0));
        let grouped = |sql: &str| -> rusqlite::Result<BTreeMap<String, i64>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        let census = Self {
            customers: one("SELECT COUNT(*) FROM customers WHERE deleted_at IS NULL")?,
            deleted_customers: one("SELECT COUNT(*) FROM customers WHERE deleted_at IS NOT NULL")?,
            products: one("SELECT COUNT(*) FROM products")?,
            plans: one("SELECT COUNT(*) FROM plans")?,
            purchases: grouped("SELECT status, COUNT(*) FROM purchases GROUP BY status")?,
            usage_events: one("SELECT COUNT(*) FROM usage_events")?,
            transactions: grouped("SELECT type, COUNT(*) FROM transactions GROUP BY type")?,
            credit_grants: one("SELECT COUNT(*) FROM credit_grants")?,
            credit_balance: one(
                "SELECT COALESCE(SUM(credit_balance), 0) FROM customers WHERE deleted_at IS NULL",
            )?,
            checkout_sessions: one("SELECT COUNT(*) FROM checkout_sessions")?,
            customer_sessions: one("SELECT COUNT(*) FROM customer_sessions")?,
        };
        Ok(census)
    }

    /// Whether the ledger holds nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Every row of every ledger table, as `{table: [{column: value}]}` in insertion order; JSON
/// columns as JSON, amounts as the integers (minor units) stored beside their currency.
pub(crate) fn dump(conn: &mut Connection) -> rusqlite::Result<Map<String, Value>> {
    let tx = conn.transaction()?;
    let mut out = Map::new();
    for table in TABLES {
        let mut stmt = tx.prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query([])?;
        let mut list = Vec::new();
        while let Some(row) = rows.next()? {
            let mut object = Map::new();
            for (i, column) in columns.iter().enumerate() {
                object.insert(column.clone(), json_value(column, row.get_ref(i)?));
            }
            list.push(Value::Object(object));
        }
        out.insert((*table).to_owned(), Value::Array(list));
    }
    Ok(out)
}

fn json_value(column: &str, value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            JSON_COLUMNS
                .contains(&column)
                .then(|| serde_json::from_str(&text).ok())
                .flatten()
                .unwrap_or_else(|| Value::String(text.into_owned()))
        }
        ValueRef::Blob(bytes) => Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

/// Deletes every row of the ledger and the clock setting (the record of a listening server
/// stays: it is about the process, not the data).
pub(crate) fn clear(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    for table in TABLES.iter().rev() {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    tx.execute("DELETE FROM settings WHERE key = ?1", [CLOCK])?;
    Ok(())
}

fn setting(conn: &Connection, key: &str) -> rusqlite::Result<Option<Value>> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

fn put_setting(conn: &Connection, key: &str, value: &Value) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value.to_string()],
    )?;
    Ok(())
}

/// The stored clock, if one was ever set.
pub(crate) fn load_clock(conn: &Connection) -> rusqlite::Result<Option<ClockSetting>> {
    Ok(setting(conn, CLOCK)?.and_then(|v| ClockSetting::from_json(&v)))
}

/// Stores the clock, for the next sandbox started on this database.
pub(crate) fn store_clock(conn: &Connection, clock: ClockSetting) -> rusqlite::Result<()> {
    put_setting(conn, CLOCK, &clock.to_json())
}

/// The sandbox server that said it listens on this database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Listener {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// Its process id.
    pub pid: u32,
}

/// The server on record as listening on this database (perhaps gone without saying so).
pub(crate) fn load_listener(conn: &Connection) -> rusqlite::Result<Option<Listener>> {
    Ok(setting(conn, LISTENER)?.and_then(|v| serde_json::from_value(v).ok()))
}

/// Records `listener` as the server on this database.
pub(crate) fn store_listener(conn: &Connection, listener: &Listener) -> rusqlite::Result<()> {
    let value = serde_json::to_value(listener).unwrap_or_default();
    put_setting(conn, LISTENER, &value)
}

/// Removes the record of `listener`, unless another server has replaced it since.
pub(crate) fn forget_listener(conn: &Connection, listener: &Listener) -> rusqlite::Result<()> {
    if load_listener(conn)?.as_ref() == Some(listener) {
        conn.execute("DELETE FROM settings WHERE key = ?1", [LISTENER])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_2_database_gains_the_settings_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(SCHEMA_V2).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute(
            "INSERT INTO customers (id, reference, email, created_at, updated_at)
             VALUES ('1', 'cus_1', 'a@example.com', 't', 't')",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(Census::take(&mut conn).unwrap().customers, 1);
        let reactivated: Option<String> = conn
            .query_row("SELECT reactivated_at FROM purchases LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap()
            .flatten();
        assert_eq!(
            reactivated, None,
            "the purchases table has the version 4 column"
        );
        assert_eq!(load_clock(&conn).unwrap(), None);
        let frozen = ClockSetting::Frozen {
            at: time::macros::datetime!(2026-03-01 00:00 UTC),
        };
        store_clock(&conn, frozen).unwrap();
        assert_eq!(load_clock(&conn).unwrap(), Some(frozen));
        // Run again, it changes nothing.
        migrate(&mut conn).unwrap();
        assert_eq!(load_clock(&conn).unwrap(), Some(frozen));
    }

    #[test]
    fn clear_empties_every_table_but_keeps_the_listener() {
        let mut conn = open(None).unwrap();
        let listener = Listener {
            url: "http://127.0.0.1:1".into(),
            pid: 7,
        };
        store_listener(&conn, &listener).unwrap();
        store_clock(&conn, ClockSetting::default()).unwrap();
        conn.execute(
            "INSERT INTO customers (id, reference, email, created_at, updated_at)
             VALUES ('1', 'cus_1', 'a@example.com', 't', 't')",
            [],
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        clear(&tx).unwrap();
        tx.commit().unwrap();
        assert!(Census::take(&mut conn).unwrap().is_empty());
        assert_eq!(load_clock(&conn).unwrap(), None);
        assert_eq!(load_listener(&conn).unwrap(), Some(listener.clone()));
        let dump = dump(&mut conn).unwrap();
        assert_eq!(dump.len(), TABLES.len());
        assert!(dump.values().all(|rows| rows == &Value::Array(vec![])));
        forget_listener(&conn, &listener).unwrap();
        assert_eq!(load_listener(&conn).unwrap(), None);
    }
}
