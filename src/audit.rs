//! The audit log: a write-ahead JSON-lines record of every write-tool call. Before the call may send
//! anything, a `started` record (time, tool, arguments, call id) is appended and flushed to disk;
//! after it, a `finished` record with the same call id gives the outcome and the references the
//! result names. A crash between the two leaves a `started` record with no outcome, which the next
//! start names on stderr ([`AuditLog::recover`]). With a shared state the records are rows of one
//! table that every replica writes ([`crate::state::audit`]). Every append begins on a fresh line, so a torn
//! tail (a crash mid-append) never spoils the record after it. Secrets given to [`AuditLog::open`]
//! are scrubbed from every line.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;

use crate::error::{self, ErrorCode, ErrorKind};
use crate::redact::Redactor;
use crate::state::audit::SharedAudit;
use crate::state::{self, SharedState, StateError};

/// A write call's identity in the log, shared by its `started` and `finished` records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallId(String);

impl CallId {
    fn fresh() -> Self {
        Self(format!("call_{:024x}", rand::random::<u128>() >> 32))
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How an audited call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// It failed; nothing was applied.
    Error,
    /// It may or may not have been applied (check before retrying).
    Unknown,
    /// The person did not confirm: nothing was sent.
    Declined,
    /// The person was asked to confirm (2026-07-28); nothing was sent yet.
    Asked,
    /// The server stopped before the call finished (shutdown grace over): treat as unknown.
    Interrupted,
}

impl Outcome {
    /// How a call that failed with `kind` ended: the kind decides, never the message.
    pub fn failed(kind: &ErrorKind) -> Self {
        match kind.outcome() {
            error::Outcome::Failed => Self::Error,
            error::Outcome::Unknown => Self::Unknown,
            error::Outcome::Declined => Self::Declined,
        }
    }
}

/// The end of a call, as recorded.
#[derive(Debug, Clone, Default)]
pub struct Finish<'a> {
    /// The error code, for failures.
    pub code: Option<ErrorCode>,
    /// The error message, for failures.
    pub message: Option<&'a str>,
    /// References (`cus_…`, `txn_…`, …) found in the result.
    pub references: Vec<String>,
}

#[derive(Serialize)]
#[serde(
    tag = "record",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
enum Record<'a> {
    Started {
        call_id: &'a CallId,
        #[serde(with = "time::serde::rfc3339")]
        time: OffsetDateTime,
        tool: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        caller: Option<&'a str>,
        arguments: &'a RawValue,
    },
    Finished {
        call_id: &'a CallId,
        #[serde(with = "time::serde::rfc3339")]
        time: OffsetDateTime,
        tool: &'a str,
        outcome: Outcome,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<ErrorCode>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        references: &'a [String],
    },
}

/// A call with a `started` record and no outcome: it may have reached SolvaPay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfinished {
    /// Its call id.
    pub call_id: CallId,
    /// The tool called.
    pub tool: String,
    /// When it started (RFC 3339, as recorded).
    pub time: String,
}

/// An append-only audit log. Cheap to clone; clones share the file (or table) and the calls in
/// flight.
#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Store,
    redactor: Redactor,
    /// Calls started by this process and not finished: call id → tool.
    open: Arc<Mutex<HashMap<CallId, String>>>,
}

/// Where the records go.
#[derive(Debug, Clone)]
enum Store {
    /// A JSON-lines file of this process (and the ones before it).
    File(FileLog),
    /// The audit table of the shared state, one trail for every replica.
    Shared(SharedAudit),
}

#[derive(Debug, Clone)]
struct FileLog {
    path: PathBuf,
    lock: Arc<Mutex<()>>,
    /// The file's length when this process opened it: what earlier processes wrote.
    inherited: u64,
}

/// The audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The audit file.
    #[error("audit log {path}: {source}")]
    File {
        /// Where it is.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The audit table in PostgreSQL.
    #[error("the shared audit log: {0}")]
    Shared(#[from] StateError),
}

/// What [`AuditLog::recover`] writes on the calls it closes.
const FOUND_AT_START: &str = "found without an outcome at start: the server stopped during this \
                              call; check its effect in SolvaPay";

impl AuditLog {
    /// Opens (creating directories and file) the log at `path`; `secrets` never reach the file, in
    /// any of the forms [`Redactor`] knows.
    pub fn open(path: &Path, secrets: Vec<String>) -> Result<Self, AuditError> {
        let mut file = FileLog {
            path: path.to_owned(),
            lock: Arc::new(Mutex::new(())),
            inherited: 0,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| file.error(e))?;
        }
        file.inherited = file
            .file()
            .and_then(|f| f.metadata())
            .map_err(|e| file.error(e))?
            .len();
        Ok(Self::of(Store::File(file), &secrets))
    }

    /// The log in the shared state's audit table, which every replica writes; `secrets` never
    /// reach it.
    pub fn shared(state: &SharedState, secrets: Vec<String>) -> Self {
        Self::of(Store::Shared(SharedAudit::new(state)), &secrets)
    }

    fn of(store: Store, secrets: &[String]) -> Self {
        Self {
            store,
            redactor: Redactor::new(secrets),
            open: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Where the log file is (`None` in the shared state).
    pub fn path(&self) -> Option<&Path> {
        match &self.store {
            Store::File(file) => Some(&file.path),
            Store::Shared(_) => None,
        }
    }

    /// Records that `tool` is about to run with `arguments` for `caller` (a name for the logs, never
    /// a key; `None` over stdio), flushed to disk or committed. `Err`: the call must not send
    /// anything.
    pub async fn start(
        &self,
        tool: &str,
        caller: Option<&str>,
        arguments: &RawValue,
    ) -> Result<CallId, AuditError> {
        let call_id = CallId::fresh();
        let time = OffsetDateTime::now_utc().truncate_to_millisecond();
        match &self.store {
            Store::File(file) => {
                let record = Record::Started {
                    call_id: &call_id,
                    time,
                    tool,
                    caller,
                    arguments,
                };
                self.append(file, &record).await?;
            }
            Store::Shared(table) => {
                let arguments = self.redactor.scrub_str(arguments.get());
                let caller = caller.map(|c| self.redactor.scrub_str(c));
                table
                    .start(&state::audit::Started {
                        call_id: &call_id.0,
                        caller: caller.as_deref(),
                        tool,
                        arguments: &arguments,
                        at: time,
                    })
                    .await?;
            }
        }
        self.open_calls().insert(call_id.clone(), tool.to_owned());
        Ok(call_id)
    }

    /// Records how the call `call_id` of `tool` ended, flushed to disk or committed.
    pub async fn finish(
        &self,
        call_id: &CallId,
        tool: &str,
        outcome: Outcome,
        finish: &Finish<'_>,
    ) -> Result<(), AuditError> {
        let time = OffsetDateTime::now_utc().truncate_to_millisecond();
        match &self.store {
            Store::File(file) => {
                let record = Record::Finished {
                    call_id,
                    time,
                    tool,
                    outcome,
                    code: finish.code,
                    message: finish.message,
                    references: &finish.references,
                };
                self.append(file, &record).await?;
            }
            Store::Shared(table) => {
                let name = |v: serde_json::Result<Value>| match v {
                    Ok(Value::String(s)) => s,
                    _ => String::new(),
                };
                let outcome = name(serde_json::to_value(outcome));
                let code = finish.code.map(|c| name(serde_json::to_value(c)));
                let message = finish.message.map(|m| self.redactor.scrub_str(m));
                table
                    .finish(&state::audit::Finished {
                        call_id: &call_id.0,
                        at: time,
                        outcome: &outcome,
                        code: code.as_deref(),
                        message: message.as_deref(),
                        references: &finish.references,
                    })
                    .await?;
            }
        }
        self.open_calls().remove(call_id);
        Ok(())
    }

    /// Records every call this process started and did not finish as [`Outcome::Interrupted`]
    /// (at the end of the shutdown grace). Returns how many there were.
    pub async fn interrupt_open(&self) -> usize {
        let open: Vec<(CallId, String)> = self.open_calls().drain().collect();
        let message = "the server stopped before this call finished; check its effect in SolvaPay";
        for (call_id, tool) in &open {
            let finish = Finish {
                message: Some(message),
                ..Finish::default()
            };
            if let Err(e) = self
                .finish(call_id, tool, Outcome::Interrupted, &finish)
                .await
            {
                tracing::error!("could not write the audit log: {e}");
            }
        }
        open.len()
    }

    /// The calls in the log that started and never finished (a crash, a kill, or still running —
    /// in the shared state, on any replica), oldest first.
    pub async fn unfinished(&self) -> Result<Vec<Unfinished>, AuditError> {
        match &self.store {
            Store::File(file) => {
                let file = file.clone();
                blocking(&file.clone(), move || file.scan(u64::MAX)).await
            }
            Store::Shared(table) => Ok(table
                .unfinished()
                .await?
                .into_iter()
                .map(open_row)
                .collect()),
        }
    }

    /// At start: the calls an earlier process left without an outcome, each now closed as
    /// [`Outcome::Interrupted`] so it is named once. The caller tells the operator. In the shared
    /// state: the calls of replicas no longer connected to the database (see
    /// [`crate::state::audit`]), each named to one replica only.
    pub async fn recover(&self) -> Result<Vec<Unfinished>, AuditError> {
        let file = match &self.store {
            Store::File(file) => file.clone(),
            Store::Shared(table) => {
                let message = self.redactor.scrub_str(FOUND_AT_START);
                let rows = table.recover(&message).await?;
                return Ok(rows.into_iter().map(open_row).collect());
            }
        };
        // Only what earlier processes wrote: this one's calls may be running.
        let scan = file.clone();
        let calls = blocking(&file, move || scan.scan(scan.inherited)).await?;
        let finish = Finish {
            message: Some(FOUND_AT_START),
            ..Finish::default()
        };
        for call in &calls {
            self.finish(&call.call_id, &call.tool, Outcome::Interrupted, &finish)
                .await?;
        }
        Ok(calls)
    }

    fn open_calls(&self) -> std::sync::MutexGuard<'_, HashMap<CallId, String>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn append(&self, file: &FileLog, record: &Record<'_>) -> Result<(), AuditError> {
        let mut line = serde_json::to_string(record).map_err(|e| file.error(e.into()))?;
        self.redactor.scrub_string(&mut line);
        line.push('\n');
        let writer = file.clone();
        blocking(file, move || writer.write(line.as_bytes())).await
    }
}

impl FileLog {
    /// The calls that started and never finished among the first `limit` bytes of the file.
    fn scan(&self, limit: u64) -> Result<Vec<Unfinished>, AuditError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Seen {
            record: Option<String>,
            call_id: Option<CallId>,
            tool: Option<String>,
            time: Option<String>,
        }
        let file = std::fs::File::open(&self.path).map_err(|e| self.error(e))?;
        let mut open: HashMap<CallId, (usize, Unfinished)> = HashMap::new();
        for (n, line) in std::io::BufReader::new(file.take(limit))
            .split(b'\n')
            .enumerate()
        {
            let line = line.map_err(|e| self.error(e))?;
            // A torn or foreign line is skipped, never fatal.
            let Ok(seen) = serde_json::from_slice::<Seen>(&line) else {
                continue;
            };
            let Some(call_id) = seen.call_id else {
                continue;
            };
            match seen.record.as_deref() {
                Some("started") => {
                    let call = Unfinished {
                        call_id: call_id.clone(),
                        tool: seen.tool.unwrap_or_default(),
                        time: seen.time.unwrap_or_default(),
                    };
                    open.insert(call_id, (n, call));
                }
                Some("finished") => {
                    open.remove(&call_id);
                }
                _ => {}
            }
        }
        let mut calls: Vec<(usize, Unfinished)> = open.into_values().collect();
        calls.sort_by_key(|(n, _)| *n);
        Ok(calls.into_iter().map(|(_, call)| call).collect())
    }

    /// Appends `bytes` (one line) on a fresh line and flushes it to disk.
    fn write(&self, bytes: &[u8]) -> Result<(), AuditError> {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file = self.file().map_err(|e| self.error(e))?;
        if !ends_with_newline(&mut file).map_err(|e| self.error(e))? {
            file.write_all(b"\n").map_err(|e| self.error(e))?;
        }
        file.write_all(bytes).map_err(|e| self.error(e))?;
        file.sync_data().map_err(|e| self.error(e))
    }

    fn file(&self) -> std::io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
    }

    fn error(&self, source: std::io::Error) -> AuditError {
        AuditError::File {
            path: self.path.display().to_string(),
            source,
        }
    }
}

/// Runs `f` on the blocking pool (file I/O and fsync).
async fn blocking<T: Send + 'static>(
    file: &FileLog,
    f: impl FnOnce() -> Result<T, AuditError> + Send + 'static,
) -> Result<T, AuditError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| file.error(std::io::Error::other(e)))?
}

fn open_row(row: state::audit::OpenRow) -> Unfinished {
    Unfinished {
        call_id: CallId(row.call_id),
        tool: row.tool,
        time: row
            .started_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }
}

/// True when `file` is empty or its last byte is a newline.
fn ends_with_newline(file: &mut std::fs::File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last == [b'\n'])
}

/// Every string in `value` that looks like a SolvaPay reference, in order, without repeats.
pub fn references(value: &Value) -> Vec<String> {
    const PREFIXES: [&str; 7] = ["cus_", "prd_", "pln_", "pur_", "txn_", "usage_", "usg_"];
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s)
                if PREFIXES.iter().any(|p| s.starts_with(p))
                    && s.len() <= 64
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && seen.insert(s.as_str()) =>
            {
                found.push(s.clone());
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn finds_references_anywhere() {
        let v = json!({"refund": {"reference": "txn_H1I2J3K4", "source": "txn_D7E8F9G0"}, "url": "https://x/cus_1", "n": [ "cus_A1B2C3D4", "txn_H1I2J3K4" ]});
        let mut refs = references(&v);
        refs.sort();
        assert_eq!(refs, ["cus_A1B2C3D4", "txn_D7E8F9G0", "txn_H1I2J3K4"]);
    }

    #[tokio::test]
    async fn a_call_is_started_then_finished_under_one_id_and_scrubbed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/audit.jsonl");
        let log = AuditLog::open(&path, vec!["sk_live_SECRET123".into()]).unwrap();
        // The key raw, and JSON-escaped as a client may send it.
        let args = RawValue::from_string(
            r#"{"email": "sk_live_SECRET123@x.io", "name": "sk\u005flive\u005fSECRET123"}"#.into(),
        )
        .unwrap();
        let id = log.start("create_customer", None, &args).await.unwrap();
        assert_eq!(log.unfinished().await.unwrap().len(), 1);
        let finish = Finish {
            references: vec!["cus_1".into()],
            ..Finish::default()
        };
        log.finish(&id, "create_customer", Outcome::Ok, &finish)
            .await
            .unwrap();
        let text = lines(&path);
        assert_eq!(text.len(), 2);
        assert!(!text.concat().contains("SECRET123"), "{text:?}");
        let started: Value = serde_json::from_str(&text[0]).unwrap();
        let finished: Value = serde_json::from_str(&text[1]).unwrap();
        assert_eq!(started["record"], "started");
        assert_eq!(finished["record"], "finished");
        assert_eq!(started["callId"], finished["callId"]);
        assert_eq!(finished["outcome"], "ok");
        assert_eq!(finished["references"], json!(["cus_1"]));
        assert!(log.unfinished().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_torn_tail_does_not_spoil_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(
            &path,
            "{\"record\":\"started\",\"callId\":\"call_torn\",\"to",
        )
        .unwrap();
        let log = AuditLog::open(&path, Vec::new()).unwrap();
        let id = log
            .start(
                "delete_plan",
                None,
                &RawValue::from_string("{}".into()).unwrap(),
            )
            .await
            .unwrap();
        let text = lines(&path);
        assert_eq!(text.len(), 2, "{text:?}");
        let record: Value = serde_json::from_str(&text[1]).unwrap();
        assert_eq!(record["callId"], id.to_string());
        let unfinished = log.unfinished().await.unwrap();
        assert_eq!(unfinished.len(), 1);
        assert_eq!(unfinished[0].tool, "delete_plan");
    }

    #[tokio::test]
    async fn an_earlier_process_s_unfinished_calls_are_named_once_and_this_one_s_never() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let args = RawValue::from_string("{}".into()).unwrap();
        let earlier = AuditLog::open(&path, Vec::new()).unwrap();
        let lost = earlier.start("create_customer", None, &args).await.unwrap();
        let done = earlier.start("create_product", None, &args).await.unwrap();
        earlier
            .finish(&done, "create_product", Outcome::Ok, &Finish::default())
            .await
            .unwrap();
        let now = AuditLog::open(&path, Vec::new()).unwrap();
        let running = now.start("delete_plan", None, &args).await.unwrap();
        let recovered = now.recover().await.unwrap();
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].call_id, lost);
        assert_eq!(recovered[0].tool, "create_customer");
        assert_eq!(now.unfinished().await.unwrap()[0].call_id, running);
        now.finish(&running, "delete_plan", Outcome::Ok, &Finish::default())
            .await
            .unwrap();
        let again = AuditLog::open(&path, Vec::new()).unwrap();
        assert!(again.recover().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn calls_open_at_shutdown_are_recorded_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::open(&path, Vec::new()).unwrap();
        let args = RawValue::from_string("{}".into()).unwrap();
        for _ in 0..3 {
            log.start("create_customer", None, &args).await.unwrap();
        }
        assert_eq!(log.interrupt_open().await, 3);
        assert!(log.unfinished().await.unwrap().is_empty());
        let interrupted = lines(&path)
            .iter()
            .filter(|l| l.contains("\"outcome\":\"interrupted\""))
            .count();
        assert_eq!(interrupted, 3);
    }
}
