//! Shared state in PostgreSQL (`SOLVAPAY_STATE_URL`): the refund and credit-grant journals, the
//! deployment's refund and grant totals, the audit log of write calls and the Streamable HTTP
//! sessions, so that any number of replicas keep "at most one request per intent" and one audit
//! trail. This module knows tables, not business rules: the journals, the caps and the audit log
//! (one layer up) decide, and keep their local files when no database is configured.
//!
//! Each job has its file: [`pool`] (connections and their timeouts), [`migrate`] (the schema,
//! applied at start), [`ledger`] (intent admission), [`totals`] (caps), [`audit`] (the audit
//! table), [`sessions`] (rmcp's `SessionStore`) and [`spent`] (confirmation states already used).

pub mod audit;
pub mod ledger;
mod migrate;
mod pool;
pub mod sessions;
pub mod spent;
pub mod totals;

use std::fmt;
use std::str::FromStr;

pub use migrate::SCHEMA_VERSION;
pub use pool::SharedState;

/// Where the shared state lives: a parsed `postgres://` URL. Its `Display` and `Debug` name the
/// host, port, database and user, never the password.
#[derive(Clone)]
pub struct StateUrl {
    config: tokio_postgres::Config,
}

impl FromStr for StateUrl {
    type Err = StateError;

    fn from_str(url: &str) -> Result<Self, StateError> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StateError::Url(
                "must be a postgres:// (or postgresql://) URL".into(),
            ));
        }
        // tokio-postgres's parse errors name the option at fault, never its value.
        let config = url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| StateError::Url(e.to_string()))?;
        if config.get_hosts().is_empty() {
            return Err(StateError::Url("names no host".into()));
        }
        Ok(Self { config })
    }
}

impl fmt::Display for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.config.get_user().unwrap_or("(default user)");
        write!(f, "postgres://{user}@")?;
        for (n, host) in self.config.get_hosts().iter().enumerate() {
            if n > 0 {
                f.write_str(",")?;
            }
            match host {
                tokio_postgres::config::Host::Tcp(name) => f.write_str(name)?,
                tokio_postgres::config::Host::Unix(path) => write!(f, "[{}]", path.display())?,
            }
        }
        if let Some(port) = self.config.get_ports().first() {
            write!(f, ":{port}")?;
        }
        write!(f, "/{}", self.config.get_dbname().unwrap_or(""))
    }
}

impl fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateUrl({self})")
    }
}

/// The shared state could not be opened, read or written. Money-moving and write calls that need
/// it are not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// `SOLVAPAY_STATE_URL` is not a usable PostgreSQL URL (the reason never echoes the URL).
    #[error("not a usable PostgreSQL URL: {0}")]
    Url(String),
    /// No connection to PostgreSQL within the pool's timeouts.
    #[error("PostgreSQL cannot be reached: {0}")]
    Unreachable(#[source] deadpool_postgres::PoolError),
    /// A statement failed (the database went away mid-way, or refused it).
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// The schema could not be brought up to date.
    #[error("PostgreSQL schema migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: i32,
        /// What it does.
        name: &'static str,
        /// Why it failed.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A stored value could not be encoded or decoded.
    #[error("a stored value is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<deadpool_postgres::PoolError> for StateError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Self::Query(e),
            other => Self::Unreachable(other),
        }
    }
}
