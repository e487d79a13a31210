//! The deployment's spent confirmation states: a 2026-07-28 `requestState` is good for one call,
//! and with several replicas "one" must hold across them. Spending is one `INSERT … ON CONFLICT
//! DO NOTHING` on the state's nonce: of two replicas spending the same state at once, exactly one
//! inserts the row.

use std::time::Duration;

use super::{SharedState, StateError};

/// The spent states of a deployment.
#[derive(Debug, Clone)]
pub struct SpentStates {
    state: SharedState,
}

impl SpentStates {
    /// The spent states in `state`.
    pub fn new(state: &SharedState) -> Self {
        Self {
            state: state.clone(),
        }
    }

    /// Marks `nonce` as spent for `lifetime` (the state's time to live); false when it already
    /// was. Rows past their expiry are removed on the way.
    pub async fn spend(&self, nonce: &str, lifetime: Duration) -> Result<bool, StateError> {
        let client = self.state.client().await?;
        let seconds = lifetime.as_secs_f64();
        client
            .execute(
                "DELETE FROM solvapay_spent_confirmations WHERE expires_at < now()",
                &[],
            )
            .await?;
        let inserted = client
            .execute(
                "INSERT INTO solvapay_spent_confirmations (nonce, expires_at)
                 VALUES ($1, now() + make_interval(secs => $2))
                 ON CONFLICT (nonce) DO NOTHING",
                &[&nonce, &seconds],
            )
            .await?;
        Ok(inserted == 1)
    }
}
