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

pub use grants::{GrantAdmission, GrantIntent, GrantJournal, GrantOutcome, GrantPrior};

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Intent {
        id: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        intent: RefundIntent,
    },
    Outcome {
        id: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        outcome: RefundOutcome,
    },
}

#[derive(Debug, Default)]
struct State {
    /// intent key → (id, recorded at, latest outcome)
    latest: HashMap<String, (String, OffsetDateTime, RefundOutcome)>,
    /// id → intent key
    keys: HashMap<String, String>,
}

impl State {
    fn apply(&mut self, line: Line) {
        match line {
            Line::Intent { id, at, intent } => {
                let key = intent.key();
                self.keys.insert(id.clone(), key.clone());
                self.latest.insert(key, (id, at, RefundOutcome::Pending));
            }
            Line::Outcome { id, outcome, .. } => {
                if let Some(entry) = self.keys.get(&id).and_then(|k| self.latest.get_mut(k))
                    && entry.0 == id
                {
                    entry.2 = outcome;
                }
            }
        }
    }
}

/// The journal. Cheap to clone; clones share the file and state.
#[derive(Debug, Clone)]
pub struct RefundJournal {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    path: Option<PathBuf>,
    /// A `Pending` intent found at start belongs to a process that died mid-refund: it stays
    /// `Pending`, which blocks an identical refund exactly like `Unknown` does.
    state: State,
}

/// The journal could not be read or written; refunds must not proceed.
#[derive(Debug, thiserror::Error)]
#[error("refund journal {path}: {source}")]
pub struct JournalError {
    path: String,
    #[source]
    source: std::io::Error,
}

impl RefundJournal {
    /// A journal kept in memory only (tests, or when no data directory exists).
    pub fn in_memory() -> Self {
        Self::from_inner(Inner {
            path: None,
            state: State::default(),
        })
    }

    /// Opens (creating if needed) the journal at `path` and replays it.
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
                // A torn last line (crash mid-write) is skipped, not fatal, and closed so the next
                // record starts on a line of its own.
                for line in text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Line>(l).ok())
                {
                    state.apply(line);
                }
                if !text.is_empty() && !text.ends_with('\n') {
                    let mut file = std::fs::OpenOptions::new()
                        .append(true)
                        .open(path)
                        .map_err(error)?;
                    file.write_all(b"\n").map_err(error)?;
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

    /// Where the journal lives (`None` in memory).
    pub fn path(&self) -> Option<PathBuf> {
        self.inner.lock().ok().and_then(|i| i.path.clone())
    }

    /// Decides on a new refund request; on `Proceed` the intent is on disk before this returns.
    pub async fn admit(
        &self,
        intent: RefundIntent,
        force_new: bool,
    ) -> Result<Admission, JournalError> {
        let inner = self.inner.clone();
        blocking(move || {
            let mut guard = lock(&inner);
            let now = OffsetDateTime::now_utc().truncate_to_millisecond();
            if !force_new && let Some((id, at, outcome)) = guard.state.latest.get(&intent.key()) {
                let blocks = match outcome {
                    RefundOutcome::Pending | RefundOutcome::Unknown { .. } => true,
                    RefundOutcome::Succeeded { .. } => now - *at < RECENT,
                    RefundOutcome::Failed { .. } => false,
                };
                if blocks {
                    return Ok(Admission::Duplicate(Prior {
                        id: id.clone(),
                        at: *at,
                        outcome: outcome.clone(),
                    }));
                }
            }
            let id = format!("ri_{:032x}", rand::random::<u128>());
            let line = Line::Intent {
                id: id.clone(),
                at: now,
                intent,
            };
            append(&guard.path, &line)?;
            guard.state.apply(line);
            Ok(Admission::Proceed(id))
        })
        .await
    }

    /// Records the outcome of the intent `id` (flushed to disk before returning).
    pub async fn record(&self, id: &str, outcome: RefundOutcome) -> Result<(), JournalError> {
        let inner = self.inner.clone();
        let id = id.to_owned();
        blocking(move || {
            let mut guard = lock(&inner);
            let line = Line::Outcome {
                id,
                at: OffsetDateTime::now_utc().truncate_to_millisecond(),
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
    // A panic while holding the lock cannot leave the state half-updated (apply is the last step).
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn append(path: &Option<PathBuf>, line: &impl Serialize) -> Result<(), JournalError> {
    let Some(path) = path else { return Ok(()) };
    let error = |source| JournalError {
        path: path.display().to_string(),
        source,
    };
    let mut text = serde_json::to_string(line).map_err(|e| error(std::io::Error::other(e)))?;
    text.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    file.sync_data().map_err(error)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, JournalError> + Send + 'static,
) -> Result<T, JournalError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(JournalError {
            path: "(journal)".into(),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
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
