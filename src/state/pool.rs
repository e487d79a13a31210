//! The connection pool (deadpool-postgres over tokio-postgres, without TLS: the database is
//! expected on loopback or a private network) and this replica's identity. Every wait is short, so
//! a database that is gone answers within seconds instead of holding a call.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use super::{StateError, StateUrl, migrate};

/// How long opening a connection, waiting for a free one, or checking one may take.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Connections per replica.
const MAX_CONNECTIONS: usize = 16;

/// The opened shared state: a pool on a migrated database, and the name this replica's
/// connections carry (`application_name`), which tells the other replicas that it is alive.
/// Cheap to clone.
#[derive(Clone)]
pub struct SharedState {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    url: StateUrl,
    replica: String,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState")
            .field("url", &self.inner.url)
            .field("replica", &self.inner.replica)
            .finish_non_exhaustive()
    }
}

impl SharedState {
    /// Connects to `url` and applies the migrations this build knows (safe when several replicas
    /// start together).
    pub async fn open(url: &StateUrl) -> Result<Self, StateError> {
        let replica = format!("solvapay-mcp r_{:016x}", rand::random::<u64>());
        let mut config = url.config.clone();
        config
            .application_name(&replica)
            .connect_timeout(TIMEOUT)
            // A database that stops answering (no reset, a dead host) closes the connection
            // once what was sent stays unacknowledged this long, instead of holding the call.
            .tcp_user_timeout(Duration::from_secs(10))
            .keepalives_idle(Duration::from_secs(10));
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(MAX_CONNECTIONS)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(TIMEOUT))
            .create_timeout(Some(TIMEOUT))
            .recycle_timeout(Some(TIMEOUT))
            .build()
            .map_err(|e| StateError::Url(e.to_string()))?;
        let state = Self {
            inner: Arc::new(Inner {
                pool,
                url: url.clone(),
                replica,
            }),
        };
        let mut client = state.client().await?;
        migrate::apply(&mut client).await?;
        drop(client);
        Ok(state)
    }

    /// Where the state lives (without the password).
    pub fn url(&self) -> &StateUrl {
        &self.inner.url
    }

    /// This replica's name, as its connections carry it.
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StateError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    /// The schema version the database is at (opening brings it to [`SCHEMA_VERSION`]; a newer
    /// one was migrated by a newer build).
    ///
    /// [`SCHEMA_VERSION`]: super::SCHEMA_VERSION
    pub async fn schema_version(&self) -> Result<i32, StateError> {
        let client = self.client().await?;
        migrate::current(&client).await
    }

    /// A connection from the pool.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StateError> {
        Ok(self.inner.pool.get().await?)
    }
}
