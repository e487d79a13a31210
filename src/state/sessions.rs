//! rmcp's [`SessionStore`] in PostgreSQL: the `initialize` parameters of each 2025-11-25 session,
//! so a replica that did not start a session can restore it. Plug it into
//! `StreamableHttpServerConfig::session_store` as `Arc::new(SessionTable::new(&state))`.

use rmcp::transport::streamable_http_server::session::{
    SessionState, SessionStore, SessionStoreError,
};

use super::SharedState;

/// The sessions of a deployment.
#[derive(Debug, Clone)]
pub struct SessionTable {
    state: SharedState,
}

impl SessionTable {
    /// The sessions in `state`.
    pub fn new(state: &SharedState) -> Self {
        Self {
            state: state.clone(),
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for SessionTable {
    async fn load(&self, session_id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let row = self
            .state
            .client()
            .await?
            .query_opt(
                "SELECT state FROM solvapay_sessions WHERE id = $1",
                &[&session_id],
            )
            .await?;
        match row {
            Some(row) => Ok(Some(serde_json::from_value(row.get(0))?)),
            None => Ok(None),
        }
    }

    async fn store(&self, session_id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let value = serde_json::to_value(state)?;
        self.state
            .client()
            .await?
            .execute(
                "INSERT INTO solvapay_sessions (id, state) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()",
                &[&session_id, &value],
            )
            .await?;
        Ok(())
    }

    async fn delete(&self, session_id: &str) -> Result<(), SessionStoreError> {
        self.state
            .client()
            .await?
            .execute(
                "DELETE FROM solvapay_sessions WHERE id = $1",
                &[&session_id],
            )
            .await?;
        Ok(())
    }
}
