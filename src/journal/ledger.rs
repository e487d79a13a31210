//! The mechanism both journals share: an append-only, fsynced JSON-lines file of intents (written
//! before their request is sent) and outcomes (after), replayed at start into the latest outcome
//! of each intent — or, with a shared state, the same intents and outcomes in PostgreSQL
//! ([`crate::state::ledger`]). What a repeat of an intent may do is each journal's own rule, given
//! to [`Ledger::admit`]: both stores show it the same [`Latest`].

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::JournalError;
use crate::state::SharedState;
use crate::state::ledger::{NewIntent, SharedLedger};

/// What a journal records an intent for.
pub(super) trait Intent: Serialize + DeserializeOwned + Send + 'static {
    /// The journal's name in the shared state ("refund", "grant").
    const KIND: &'static str;
    /// What makes two intents the same (an identical request).
    fn key(&self) -> String;
}

/// What became of an intent.
pub(super) trait Outcome: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// Sent, and no answer recorded yet (in flight, or the process died).
    fn pending() -> Self;
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line<I, O> {
    Intent {
        #[serde(alias = "key")]
        id: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        intent: I,
    },
    Outcome {
        #[serde(alias = "key")]
        id: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        outcome: O,
    },
}

/// The latest outcome of an intent: the id it was recorded under, when, and what became of it.
pub(super) struct Latest<'a, O> {
    pub(super) id: &'a str,
    pub(super) at: OffsetDateTime,
    pub(super) outcome: &'a O,
}

#[derive(Debug)]
struct State<O> {
    path: Option<PathBuf>,
    /// intent key → (id, recorded at, latest outcome). A `Pending` intent found at start belongs
    /// to a process that died mid-request: it stays `Pending`.
    latest: HashMap<String, (String, OffsetDateTime, O)>,
    /// id → intent key
    keys: HashMap<String, String>,
}

impl<O: Outcome> State<O> {
    fn apply<I: Intent>(&mut self, line: Line<I, O>) {
        match line {
            Line::Intent { id, at, intent } => {
                let key = intent.key();
                self.keys.insert(id.clone(), key.clone());
                self.latest.insert(key, (id, at, O::pending()));
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

    /// Appends `line` (flushed to disk) and applies it: nothing is applied that is not on disk.
    fn write<I: Intent>(&mut self, line: Line<I, O>) -> Result<(), JournalError> {
        append(&self.path, &line)?;
        self.apply(line);
        Ok(())
    }
}

/// Where a ledger keeps its intents.
#[derive(Debug)]
enum Store<O> {
    /// A file (or memory), replayed at start; this process alone admits.
    File(Arc<Mutex<State<O>>>),
    /// PostgreSQL, shared by every replica of the deployment.
    Shared(SharedLedger),
}

/// A journal of intents `I` and their outcomes `O`. Cheap to clone; clones share the file and
/// state.
#[derive(Debug)]
pub(super) struct Ledger<I, O> {
    store: Store<O>,
    intents: std::marker::PhantomData<fn(I)>,
}

impl<I, O> Clone for Ledger<I, O> {
    fn clone(&self) -> Self {
        Self {
            store: match &self.store {
                Store::File(state) => Store::File(state.clone()),
                Store::Shared(ledger) => Store::Shared(ledger.clone()),
            },
            intents: std::marker::PhantomData,
        }
    }
}

impl<I: Intent, O: Outcome + std::fmt::Debug> Ledger<I, O> {
    /// Kept in memory only (tests, or when no data directory exists).
    pub(super) fn in_memory() -> Self {
        Self::of(State {
            path: None,
            latest: HashMap::new(),
            keys: HashMap::new(),
        })
    }

    /// Opens (creating if needed) the file at `path` and replays it. A torn last line (a crash
    /// mid-write) is skipped, not fatal, and closed so the next record starts on a line of its own.
    pub(super) fn open(path: &Path) -> Result<Self, JournalError> {
        let error = |source| JournalError::File {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let mut state = State {
            path: Some(path.to_owned()),
            latest: HashMap::new(),
            keys: HashMap::new(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                for line in text
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Line<I, O>>(l).ok())
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
        Ok(Self::of(state))
    }

    /// Kept in the shared state's tables, under `I::KIND`.
    pub(super) fn shared(state: &SharedState) -> Self {
        Self {
            store: Store::Shared(SharedLedger::new(state, I::KIND)),
            intents: std::marker::PhantomData,
        }
    }

    fn of(state: State<O>) -> Self {
        Self {
            store: Store::File(Arc::new(Mutex::new(state))),
            intents: std::marker::PhantomData,
        }
    }

    /// Where the file lives (`None` in memory or in the shared state).
    pub(super) fn path(&self) -> Option<PathBuf> {
        match &self.store {
            Store::File(state) => lock(state).path.clone(),
            Store::Shared(_) => None,
        }
    }

    /// Decides on a request for `intent`. `repeat` is the journal's rule for an identical earlier
    /// intent (never consulted when `force_new`): its answer stands, or `None` lets the request go
    /// as a new intent, recorded (and flushed) under a fresh `prefix_…` id before `fresh` answers.
    pub(super) async fn admit<R: Send + 'static>(
        &self,
        intent: I,
        force_new: bool,
        prefix: &'static str,
        repeat: impl FnOnce(Latest<'_, O>, OffsetDateTime) -> Option<R> + Send + 'static,
        fresh: impl FnOnce(String) -> R + Send + 'static,
    ) -> Result<R, JournalError> {
        let state = match &self.store {
            Store::File(state) => state.clone(),
            Store::Shared(ledger) => {
                return admit_shared(ledger, intent, force_new, prefix, repeat, fresh).await;
            }
        };
        blocking(move || {
            let mut guard = lock(&state);
            let now = OffsetDateTime::now_utc().truncate_to_millisecond();
            if !force_new
                && let Some((id, at, outcome)) = guard.latest.get(&intent.key())
                && let Some(answer) = repeat(
                    Latest {
                        id,
                        at: *at,
                        outcome,
                    },
                    now,
                )
            {
                return Ok(answer);
            }
            let id = fresh_id(prefix);
            guard.write(Line::<I, O>::Intent {
                id: id.clone(),
                at: now,
                intent,
            })?;
            Ok(fresh(id))
        })
        .await
    }

    /// Records the outcome of the intent `id` (flushed to disk before returning).
    pub(super) async fn record(&self, id: &str, outcome: O) -> Result<(), JournalError> {
        let at = OffsetDateTime::now_utc().truncate_to_millisecond();
        let state = match &self.store {
            Store::File(state) => state.clone(),
            Store::Shared(ledger) => {
                let outcome = serde_json::to_value(&outcome).map_err(shared)?;
                return Ok(ledger.record(id, at, &outcome).await?);
            }
        };
        let id = id.to_owned();
        blocking(move || lock(&state).write(Line::<I, O>::Outcome { id, at, outcome })).await
    }
}

/// [`Ledger::admit`] in the shared state: one transaction decides, whichever replica asks.
async fn admit_shared<I: Intent, O: Outcome, R>(
    ledger: &SharedLedger,
    intent: I,
    force_new: bool,
    prefix: &'static str,
    repeat: impl FnOnce(Latest<'_, O>, OffsetDateTime) -> Option<R>,
    fresh: impl FnOnce(String) -> R,
) -> Result<R, JournalError> {
    let at = OffsetDateTime::now_utc().truncate_to_millisecond();
    let id = fresh_id(prefix);
    let new = NewIntent {
        id: id.clone(),
        key: intent.key(),
        at,
        intent: serde_json::to_value(&intent).map_err(shared)?,
        pending: serde_json::to_value(O::pending()).map_err(shared)?,
    };
    let decided = ledger
        .admit(new, |earlier| {
            if force_new {
                return None;
            }
            // An outcome this build cannot read blocks like one still pending.
            let outcome = serde_json::from_value(earlier.outcome).unwrap_or_else(|_| O::pending());
            let latest = Latest {
                id: &earlier.id,
                at: earlier.at,
                outcome: &outcome,
            };
            repeat(latest, at)
        })
        .await?;
    Ok(decided.unwrap_or_else(|| fresh(id)))
}

fn fresh_id(prefix: &str) -> String {
    format!("{prefix}_{:032x}", rand::random::<u128>())
}

fn shared(e: serde_json::Error) -> JournalError {
    JournalError::Shared(e.into())
}

fn lock<O>(state: &Mutex<State<O>>) -> std::sync::MutexGuard<'_, State<O>> {
    // A panic while holding the lock cannot leave the state half-updated (apply is the last step).
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Appends `line` to the file at `path` (if any) and flushes it to disk.
pub(super) fn append(path: &Option<PathBuf>, line: &impl Serialize) -> Result<(), JournalError> {
    let Some(path) = path else { return Ok(()) };
    let error = |source| JournalError::File {
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
        Err(JournalError::File {
            path: "(journal)".into(),
            source: std::io::Error::other(e.to_string()),
        })
    })
}
