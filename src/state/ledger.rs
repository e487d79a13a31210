//! The journals' table: intents with their latest outcome, and per intent key the latest intent.
//! Admission is one transaction: the key's row is inserted if it is new (`ON CONFLICT DO NOTHING`
//! waits for a concurrent admission of the same key to commit) or locked (`FOR UPDATE`), so of
//! two replicas admitting the identical request at once exactly one records a new intent and the
//! other sees it. What a repeat may do is the journal's rule, given as `decide`.

use serde_json::Value;
use time::OffsetDateTime;

use super::{SharedState, StateError};

/// One journal's rows (`kind`: "refund", "grant").
#[derive(Debug, Clone)]
pub struct SharedLedger {
    state: SharedState,
    kind: &'static str,
}

/// The latest intent of a key, as stored.
#[derive(Debug, Clone)]
pub struct Earlier {
    /// Its id.
    pub id: String,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// Its latest outcome (the journal's JSON).
    pub outcome: Value,
}

/// A new intent to record.
#[derive(Debug, Clone)]
pub struct NewIntent {
    /// Its id.
    pub id: String,
    /// What makes two intents the same.
    pub key: String,
    /// When it is recorded.
    pub at: OffsetDateTime,
    /// The intent (the journal's JSON).
    pub intent: Value,
    /// Its outcome until one is recorded ("pending").
    pub pending: Value,
}

impl SharedLedger {
    /// The journal `kind` in `state`.
    pub fn new(state: &SharedState, kind: &'static str) -> Self {
        Self {
            state: state.clone(),
            kind,
        }
    }

    /// Admits `new` unless `decide`, shown the latest intent with the same key, answers instead:
    /// `Ok(Some(answer))` records nothing, `Ok(None)` means `new` is committed.
    pub async fn admit<R>(
        &self,
        new: NewIntent,
        decide: impl FnOnce(Earlier) -> Option<R>,
    ) -> Result<Option<R>, StateError> {
        let mut client = self.state.client().await?;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO solvapay_latest_intents (kind, key, id) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, key) DO NOTHING",
                &[&self.kind, &new.key, &new.id],
            )
            .await?;
        if inserted == 0 {
            let id: String = tx
                .query_one(
                    "SELECT id FROM solvapay_latest_intents WHERE kind = $1 AND key = $2
                     FOR UPDATE",
                    &[&self.kind, &new.key],
                )
                .await?
                .get(0);
            // A statement of its own, so it sees the intent the lock waited for.
            let row = tx
                .query_one(
                    "SELECT at, outcome FROM solvapay_intents WHERE kind = $1 AND id = $2",
                    &[&self.kind, &id],
                )
                .await?;
            let earlier = Earlier {
                id,
                at: row.get(0),
                outcome: row.get(1),
            };
            if let Some(answer) = decide(earlier) {
                tx.rollback().await?;
                return Ok(Some(answer));
            }
            tx.execute(
                "UPDATE solvapay_latest_intents SET id = $3 WHERE kind = $1 AND key = $2",
                &[&self.kind, &new.key, &new.id],
            )
            .await?;
        }
        tx.execute(
            "INSERT INTO solvapay_intents (kind, id, key, at, intent, outcome)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &self.kind,
                &new.id,
                &new.key,
                &new.at,
                &new.intent,
                &new.pending,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(None)
    }

    /// Records `outcome` as the latest of the intent `id`.
    pub async fn record(
        &self,
        id: &str,
        at: OffsetDateTime,
        outcome: &Value,
    ) -> Result<(), StateError> {
        self.state
            .client()
            .await?
            .execute(
                "UPDATE solvapay_intents SET outcome = $3, outcome_at = $4
                 WHERE kind = $1 AND id = $2",
                &[&self.kind, &id, outcome, &at],
            )
            .await?;
        Ok(())
    }
}
