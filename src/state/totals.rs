//! The deployment's totals behind the caps: a reservation is one conditional `UPDATE … RETURNING`,
//! so replicas reserving at once never exceed a cap together; a release gives the amount back.
//! Totals count from the database's creation (an operator resets one with
//! `UPDATE solvapay_totals SET used = 0 WHERE what = '…'`).

use super::{SharedState, StateError};

/// One capped amount's total ("refund", "credit grant").
#[derive(Debug, Clone)]
pub struct SharedTotal {
    state: SharedState,
    what: &'static str,
}

impl SharedTotal {
    /// The total of `what` in `state`.
    pub fn new(state: &SharedState, what: &'static str) -> Self {
        Self {
            state: state.clone(),
            what,
        }
    }

    /// Adds `amount` unless the total would pass `cap`: `Ok(Ok(total))` after the reservation,
    /// `Ok(Err(total))` with the total it would have made.
    pub async fn reserve(
        &self,
        amount: i64,
        cap: Option<i64>,
    ) -> Result<Result<i64, i64>, StateError> {
        let client = self.state.client().await?;
        let reserved = client
            .query_opt(
                "UPDATE solvapay_totals SET used = used + $2
                 WHERE what = $1 AND ($3::bigint IS NULL OR used + $2 <= $3)
                 RETURNING used",
                &[&self.what, &amount, &cap],
            )
            .await?;
        if let Some(row) = reserved {
            return Ok(Ok(row.get(0)));
        }
        let used: i64 = client
            .query_one(
                "SELECT used FROM solvapay_totals WHERE what = $1",
                &[&self.what],
            )
            .await?
            .get(0);
        Ok(Err(used + amount))
    }

    /// Gives back `amount`.
    pub async fn release(&self, amount: i64) -> Result<(), StateError> {
        self.state
            .client()
            .await?
            .execute(
                "UPDATE solvapay_totals SET used = used - $2 WHERE what = $1",
                &[&self.what, &amount],
            )
            .await?;
        Ok(())
    }
}
