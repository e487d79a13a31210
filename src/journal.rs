//! The refund journal: an append-only, fsynced JSON-lines file that records every refund *intent*
//! before its request is sent, and its outcome after. It guarantees that at most one refund request
//! reaches SolvaPay per intent, whatever the model retries, across restarts and crashes.
//!
//! An intent is identified by its source transaction and amount (`None` = "the full remainder").
//! A second identical request is refused with the earlier outcome while the first is pending,
//! unknown, or succeeded recently — unless the caller says it is a new refund.
//!
//! Credit grants keep a journal of the same shape ([`GrantJournal`]), whose intent id is the
//! grant's `Idempotency-Key`.

mod grants;
mod ledger;

pub use grants::{GrantAdmission, GrantIntent, GrantJournal, GrantOutcome, GrantPrior};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use ledger::Ledger;

/// How long a succeeded refund blocks an identical one.
pub const RECENT: Duration = Duration::from_secs(15 * 60);

/// What a refund request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundIntent {
    /// The source transaction reference.
    pub source: String,
    /// Minor units asked for; `None` = the full remaining amount.
    pub amount: Option<i64>,
    /// Reason sent to SolvaPay.
    pub reason: String,
}

impl RefundIntent {
    fn key(&self) -> String {
        match self.amount {
            Some(amount) => format!("{}:{amount}", self.source),
            None => format!("{}:full", self.source),
        }
    }
}

/// What became of an intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RefundOutcome {
    /// Sent, and no answer recorded yet (in flight, or the process died).
    Pending,
    /// SolvaPay accepted it.
    Succeeded {
        /// The new refund transaction, when known.
        refund: Option<String>,
        /// Minor units refunded.
        amount: i64,
    },
    /// SolvaPay refused it (nothing was refunded).
    Failed {
        /// Why.
        message: String,
    },
    /// It may or may not have happened.
    Unknown {
        /// Why the outcome is not known.
        message: String,
    },
}

/// An earlier identical refund and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prior {
    /// The earlier intent's id.
    pub id: String,
    /// When it was recorded.
    pub at: OffsetDateTime,
    /// Its latest outcome.
    pub outcome: RefundOutcome,
}

/// The journal's answer to a new refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Recorded and flushed: send it, then [`RefundJournal::record`] the outcome under this id.
    Proceed(String),
    /// An identical refund is pending, unknown or recent: do not send.
    Duplicate(Prior),
}

impl ledger::Intent for RefundIntent {
    const KIND: &'static str = "refund";
    fn key(&self) -> String {
        RefundIntent::key(self)
    }
}

impl ledger::Outcome for RefundOutcome {
    fn pending() -> Self {
        Self::Pending
    }
}

/// The journal. Cheap to clone; clones share the file and state.
#[derive(Debug, Clone)]
pub struct RefundJournal {
    ledger: Ledger<RefundIntent, RefundOutcome>,
}

/// The journal could not be read or written; refunds and grants must not proceed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal's file.
    #[error("journal {path}: {source}")]
    File {
        /// Where it is.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The shared journal in PostgreSQL.
    #[error("the shared journal: {0}")]
    Shared(#[from] crate::state::StateError),
}

impl RefundJournal {
    /// A journal kept in memory only (tests, or when no data directory exists).
    pub fn in_memory() -> Self {
        Self {
            ledger: Ledger::in_memory(),
        }
    }

    /// Opens (creating if needed) the journal at `path` and replays it. A `Pending` intent found
    /// there belongs to a process that died mid-refund: it blocks an identical refund exactly like
    /// `Unknown` does.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Ok(Self {
            ledger: Ledger::open(path)?,
        })
    }

    /// The journal in the shared state: every replica admits refunds against the same intents.
    pub fn shared(state: &crate::state::SharedState) -> Self {
        Self {
            ledger: Ledger::shared(state),
        }
    }

    /// Where the journal lives (`None` in memory or in the shared state).
    pub fn path(&self) -> Option<PathBuf> {
        self.ledger.path()
    }

    /// Decides on a new refund request; on `Proceed` the intent is on disk before this returns.
    pub async fn admit(
        &self,
        intent: RefundIntent,
        force_new: bool,
    ) -> Result<Admission, JournalError> {
        let repeat = |earlier: ledger::Latest<'_, RefundOutcome>, now: OffsetDateTime| {
            let blocks = match earlier.outcome {
                RefundOutcome::Pending | RefundOutcome::Unknown { .. } => true,
                RefundOutcome::Succeeded { .. } => now - earlier.at < RECENT,
                RefundOutcome::Failed { .. } => false,
            };
            blocks.then(|| {
                Admission::Duplicate(Prior {
                    id: earlier.id.to_owned(),
                    at: earlier.at,
                    outcome: earlier.outcome.clone(),
                })
            })
        };
        self.ledger
            .admit(intent, force_new, "ri", repeat, Admission::Proceed)
            .await
    }

    /// Records the outcome of the intent `id` (flushed to disk before returning).
    pub async fn record(&self, id: &str, outcome: RefundOutcome) -> Result<(), JournalError> {
        self.ledger.record(id, outcome).await
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn intent(amount: Option<i64>) -> RefundIntent {
        RefundIntent {
            source: "txn_D7E8F9G0".into(),
            amount,
            reason: "Double charge".into(),
        }
    }

    #[tokio::test]
    async fn an_identical_refund_is_refused_while_pending_or_unknown() {
        let journal = RefundJournal::in_memory();
        let Admission::Proceed(id) = journal.admit(intent(Some(2500)), false).await.unwrap() else {
            panic!()
        };
        assert!(matches!(
            journal.admit(intent(Some(2500)), false).await.unwrap(),
            Admission::Duplicate(Prior {
                outcome: RefundOutcome::Pending,
                ..
            })
        ));
        journal
            .record(
                &id,
                RefundOutcome::Unknown {
                    message: "timed out".into(),
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            journal.admit(intent(Some(2500)), false).await.unwrap(),
            Admission::Duplicate(_)
        ));
        // A different amount is a different intent; an explicit new refund is allowed.
        assert!(matches!(
            journal.admit(intent(Some(100)), false).await.unwrap(),
            Admission::Proceed(_)
        ));
        assert!(matches!(
            journal.admit(intent(Some(2500)), true).await.unwrap(),
            Admission::Proceed(_)
        ));
    }

    #[tokio::test]
    async fn a_failed_refund_may_be_asked_again_and_a_recent_success_may_not() {
        let journal = RefundJournal::in_memory();
        let Admission::Proceed(id) = journal.admit(intent(None), false).await.unwrap() else {
            panic!()
        };
        journal
            .record(
                &id,
                RefundOutcome::Failed {
                    message: "400".into(),
                },
            )
            .await
            .unwrap();
        let Admission::Proceed(id) = journal.admit(intent(None), false).await.unwrap() else {
            panic!()
        };
        journal
            .record(
                &id,
                RefundOutcome::Succeeded {
                    refund: Some("txn_R".into()),
                    amount: 4900,
                },
            )
            .await
            .unwrap();
        let Admission::Duplicate(prior) = journal.admit(intent(None), false).await.unwrap() else {
            panic!()
        };
        assert_eq!(
            prior.outcome,
            RefundOutcome::Succeeded {
                refund: Some("txn_R".into()),
                amount: 4900
            }
        );
    }

    #[tokio::test]
    async fn the_journal_survives_a_restart_and_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/refunds.jsonl");
        let journal = RefundJournal::open(&path).unwrap();
        let Admission::Proceed(_) = journal.admit(intent(Some(2500)), false).await.unwrap() else {
            panic!()
        };
        drop(journal);
        // A crash mid-append leaves half a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"type\":\"outc")
            .unwrap();
        let reopened = RefundJournal::open(&path).unwrap();
        assert!(matches!(
            reopened.admit(intent(Some(2500)), false).await.unwrap(),
            Admission::Duplicate(Prior {
                outcome: RefundOutcome::Pending,
                ..
            })
        ));
        let Admission::Proceed(_) = reopened.admit(intent(Some(1)), false).await.unwrap() else {
            panic!()
        };
        drop(reopened);
        let again = RefundJournal::open(&path).unwrap();
        assert!(matches!(
            again.admit(intent(Some(1)), false).await.unwrap(),
            Admission::Duplicate(_)
        ));
    }
}
