//! The credit-grant journal: like the refund journal, an append-only, fsynced JSON-lines file with
//! every grant *intent* before its request is sent and its outcome after. An intent's id is the
//! `Idempotency-Key` sent with it, so:
//! - a repeat of a grant whose outcome is pending or unknown reuses that key (SolvaPay answers the
//!   first grant again instead of granting twice), across restarts;
//! - a repeat of a grant that succeeded recently is refused unless the caller says it is new;
//! - a repeat of a failed grant is a new intent with a new key.
//!
//! An intent is identified by its customer, credits and reason.

use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ledger::{self, Ledger};
use super::{JournalError, RECENT};

/// What a grant asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantIntent {
    /// The customer reference.
    pub customer: String,
    /// Credits to add.
    pub credits: i64,
    /// Reason sent to SolvaPay.
    pub reason: Option<String>,
}

impl GrantIntent {
    fn key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.customer,
            self.credits,
            self.reason.as_deref().unwrap_or("")
        )
    }
}

/// What became of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum GrantOutcome {
    /// Sent, and no answer recorded yet (in flight, or the process died).
    Pending,
    /// SolvaPay granted it.
    Succeeded {
        /// The balance after the grant, in credits, when SolvaPay said.
        balance: Option<i64>,
    },
    /// SolvaPay refused it (nothing was granted).
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

/// An earlier identical grant that succeeded recently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantPrior {
    /// Its `Idempotency-Key`.
    pub key: String,
    /// When it was asked for.
    pub at: OffsetDateTime,
    /// Its latest outcome.
    pub outcome: GrantOutcome,
}

/// The journal's answer to a grant request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantAdmission {
    /// Send with this `Idempotency-Key`, then [`GrantJournal::record`] the outcome under it.
    Send {
        /// The key: new, or the one an unfinished identical grant was sent with.
        key: String,
        /// True when the key is an earlier intent's (its outcome was pending or unknown).
        reused: bool,
    },
    /// An identical grant succeeded recently: do not send.
    Duplicate(GrantPrior),
}

impl ledger::Intent for GrantIntent {
    const KIND: &'static str = "grant";
    fn key(&self) -> String {
        GrantIntent::key(self)
    }
}

impl ledger::Outcome for GrantOutcome {
    fn pending() -> Self {
        Self::Pending
    }
}

/// The grant journal. Cheap to clone; clones share the file and state.
#[derive(Debug, Clone)]
pub struct GrantJournal {
    ledger: Ledger<GrantIntent, GrantOutcome>,
}

impl GrantJournal {
    /// A journal kept in memory only (tests, or when no data directory exists).
    pub fn in_memory() -> Self {
        Self {
            ledger: Ledger::in_memory(),
        }
    }

    /// The journal in the shared state: every replica resends and refuses against the same intents.
    pub fn shared(state: &crate::state::SharedState) -> Self {
        Self {
            ledger: Ledger::shared(state),
        }
    }

    /// Opens (creating if needed) the journal at `path` and replays it; a torn last line is skipped.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Ok(Self {
            ledger: Ledger::open(path)?,
        })
    }

    /// Decides on a grant request; a new intent is on disk before this returns.
    pub async fn admit(
        &self,
        intent: GrantIntent,
        force_new: bool,
    ) -> Result<GrantAdmission, JournalError> {
        let repeat = |earlier: ledger::Latest<'_, GrantOutcome>, now: OffsetDateTime| match earlier
            .outcome
        {
            GrantOutcome::Pending | GrantOutcome::Unknown { .. } => Some(GrantAdmission::Send {
                key: earlier.id.to_owned(),
                reused: true,
            }),
            GrantOutcome::Succeeded { .. } if now - earlier.at < RECENT => {
                Some(GrantAdmission::Duplicate(GrantPrior {
                    key: earlier.id.to_owned(),
                    at: earlier.at,
                    outcome: earlier.outcome.clone(),
                }))
            }
            GrantOutcome::Succeeded { .. } | GrantOutcome::Failed { .. } => None,
        };
        let fresh = |key| GrantAdmission::Send { key, reused: false };
        self.ledger
            .admit(intent, force_new, "grant", repeat, fresh)
            .await
    }

    /// Records the outcome of the grant sent with `key` (flushed to disk before returning).
    pub async fn record(&self, key: &str, outcome: GrantOutcome) -> Result<(), JournalError> {
        self.ledger.record(key, outcome).await
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn intent(credits: i64) -> GrantIntent {
        GrantIntent {
            customer: "cus_A1B2C3D4".into(),
            credits,
            reason: Some("goodwill".into()),
        }
    }

    async fn send(journal: &GrantJournal, credits: i64, force: bool) -> (String, bool) {
        match journal.admit(intent(credits), force).await.unwrap() {
            GrantAdmission::Send { key, reused } => (key, reused),
            GrantAdmission::Duplicate(p) => panic!("duplicate {p:?}"),
        }
    }

    #[tokio::test]
    async fn a_grant_file_written_before_the_shared_ledger_is_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.jsonl");
        // The first grant journal named the id `key`; an unknown outcome must still be resent with it.
        std::fs::write(
            &path,
            concat!(
                r#"{"type":"intent","key":"grant_old","at":"2026-12-01T20:00:00Z","intent":{"customer":"cus_A1B2C3D4","credits":5000,"reason":"goodwill"}}"#,
                "\n",
                r#"{"type":"outcome","key":"grant_old","at":"2026-12-01T20:00:01Z","outcome":{"status":"unknown","message":"timed out"}}"#,
                "\n"
            ),
        )
        .unwrap();
        let journal = GrantJournal::open(&path).unwrap();
        assert_eq!(
            send(&journal, 5000, false).await,
            ("grant_old".into(), true)
        );
    }

    #[tokio::test]
    async fn an_unknown_grant_is_resent_with_its_key_and_a_success_blocks_a_repeat() {
        let journal = GrantJournal::in_memory();
        let (key, reused) = send(&journal, 5000, false).await;
        assert!(!reused);
        journal
            .record(
                &key,
                GrantOutcome::Unknown {
                    message: "timed out".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(send(&journal, 5000, false).await, (key.clone(), true));
        // Another amount is another intent.
        assert_ne!(send(&journal, 10, false).await.0, key);
        journal
            .record(
                &key,
                GrantOutcome::Succeeded {
                    balance: Some(5000),
                },
            )
            .await
            .unwrap();
        assert!(matches!(
            journal.admit(intent(5000), false).await.unwrap(),
            GrantAdmission::Duplicate(GrantPrior { key: k, .. }) if k == key
        ));
        let (again, reused) = send(&journal, 5000, true).await;
        assert!(again != key && !reused);
    }

    #[tokio::test]
    async fn a_failed_grant_gets_a_new_key_and_the_journal_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.jsonl");
        let journal = GrantJournal::open(&path).unwrap();
        let (key, _) = send(&journal, 5000, false).await;
        journal
            .record(
                &key,
                GrantOutcome::Failed {
                    message: "404".into(),
                },
            )
            .await
            .unwrap();
        let (second, reused) = send(&journal, 5000, false).await;
        assert!(second != key && !reused);
        drop(journal);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"type\":\"outc")
            .unwrap();
        // The second intent never got an outcome: after a restart it is resent with its key.
        let reopened = GrantJournal::open(&path).unwrap();
        assert_eq!(send(&reopened, 5000, false).await, (second, true));
    }
}
