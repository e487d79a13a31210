//! The credit-grant journal: like the refund journal, an append-only, fsynced JSON-lines file with
//! every grant *intent* before its request is sent and its outcome after. An intent's id is the
//! `Idempotency-Key` sent with it, so:
//! - a repeat of a grant whose outcome is pending or unknown reuses that key (SolvaPay answers the
//!   first grant again instead of granting twice), across restarts;
//! - a repeat of a grant that succeeded recently is refused unless the caller says it is new;
//! - a repeat of a failed grant is a new intent with a new key.
//!
//! An intent is identified by its customer, credits and reason.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{JournalError, RECENT, append, blocking};

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

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Intent {
        key: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        intent: GrantIntent,
    },
    Outcome {
        key: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        outcome: GrantOutcome,
    },
}

#[derive(Debug, Default)]
struct State {
    /// intent → (idempotency key, asked at, latest outcome)
    latest: HashMap<String, (String, OffsetDateTime, GrantOutcome)>,
    /// idempotency key → intent
    intents: HashMap<String, String>,
}

impl State {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Intent { key, at, intent } => {
                let id = intent.key();
                self.intents.insert(key.clone(), id.clone());
                self.latest.insert(id, (key, at, GrantOutcome::Pending));
            }
            Line::Outcome { key, outcome, .. } => {
                if let Some(entry) = self.intents.get(&key).and_then(|i| self.latest.get_mut(i))
                    && entry.0 == key
                {
                    entry.2 = outcome;
                }
            }
        }
    }
}

#[derive(Debug)]
struct Inner {
    path: Option<PathBuf>,
    state: State,
}

/// The grant journal. Cheap to clone; clones share the file and state.
#[derive(Debug, Clone)]
pub struct GrantJournal {
    inner: Arc<Mutex<Inner>>,
}

impl GrantJournal {
    /// A journal kept in memory only (tests, or when no data directory exists).
    pub fn in_memory() -> Self {
        Self::from_inner(Inner {
            path: None,
            state: State::default(),
        })
    }

    /// Opens (creating if needed) the journal at `path` and replays it; a torn last line is skipped.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let error = |source| JournalError {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let mut state = State::default();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for line in text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Line>(l).ok())
                {
                    state.apply(line);
                }
                if !text.is_empty() && !text.ends_with('\n') {
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open(path)
                        .and_then(|mut f| f.write_all(b"\n"))
                        .map_err(error)?;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(e)),
        }
        Ok(Self::from_inner(Inner {
            path: Some(path.to_owned()),
            state,
        }))
    }

    fn from_inner(inner: Inner) -> Self {
        Self {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// Decides on a grant request; a new intent is on disk before this returns.
    pub async fn admit(
        &self,
        intent: GrantIntent,
        force_new: bool,
    ) -> Result<GrantAdmission, JournalError> {
        let inner = self.inner.clone();
        blocking(move || {
            let mut guard = lock(&inner);
            let now = OffsetDateTime::now_utc();
            if !force_new && let Some((key, at, outcome)) = guard.state.latest.get(&intent.key()) {
                match outcome {
                    GrantOutcome::Pending | GrantOutcome::Unknown { .. } => {
                        return Ok(GrantAdmission::Send {
                            key: key.clone(),
                            reused: true,
                        });
                    }
                    GrantOutcome::Succeeded { .. } if now - *at < RECENT => {
                        return Ok(GrantAdmission::Duplicate(GrantPrior {
                            key: key.clone(),
                            at: *at,
                            outcome: outcome.clone(),
                        }));
                    }
                    GrantOutcome::Succeeded { .. } | GrantOutcome::Failed { .. } => {}
                }
            }
            let key = format!("grant_{:032x}", rand::random::<u128>());
            let line = Line::Intent {
                key: key.clone(),
                at: now,
                intent,
            };
            append(&guard.path, &line)?;
            guard.state.apply(line);
            Ok(GrantAdmission::Send { key, reused: false })
        })
        .await
    }

    /// Records the outcome of the grant sent with `key` (flushed to disk before returning).
    pub async fn record(&self, key: &str, outcome: GrantOutcome) -> Result<(), JournalError> {
        let inner = self.inner.clone();
        let key = key.to_owned();
        blocking(move || {
            let mut guard = lock(&inner);
            let line = Line::Outcome {
                key,
                at: OffsetDateTime::now_utc(),
                outcome,
            };
            append(&guard.path, &line)?;
            guard.state.apply(line);
            Ok(())
        })
        .await
    }
}

fn lock(inner: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
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
