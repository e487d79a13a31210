//! The audit log: one JSON line per write-tool call (time, tool, arguments, outcome, references
//! created), appended and flushed to disk *before* the result goes back to the client, so it
//! survives a crash. Secrets given to [`AuditLog::open`] are scrubbed from every line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

/// One audited call.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry<'a> {
    /// When the call finished (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// Tool name.
    pub tool: &'a str,
    /// The arguments as the client sent them (JSON, embedded as is).
    pub arguments: &'a serde_json::value::RawValue,
    /// `ok`, `error`, `unknown` (may or may not have happened) or `declined` (not confirmed).
    pub outcome: &'a str,
    /// The error code, for failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    /// The error message, for failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    /// References (`cus_…`, `txn_…`, …) found in the result.
    pub references: Vec<String>,
}

/// An append-only audit file. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    secrets: Arc<Vec<String>>,
    lock: Arc<Mutex<()>>,
}

/// The audit file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("audit log {path}: {source}")]
pub struct AuditError {
    path: String,
    #[source]
    source: std::io::Error,
}

impl AuditLog {
    /// Opens (creating directories and file) the log at `path`; `secrets` never reach the file.
    pub fn open(path: &Path, secrets: Vec<String>) -> Result<Self, AuditError> {
        let error = |source| AuditError {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(error)?;
        let secrets = secrets.into_iter().filter(|s| s.len() >= 8).collect();
        Ok(Self {
            path: path.to_owned(),
            secrets: Arc::new(secrets),
            lock: Arc::new(Mutex::new(())),
        })
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` and flushes it to disk.
    pub async fn record(&self, entry: &AuditEntry<'_>) -> Result<(), AuditError> {
        let mut line =
            serde_json::to_string(entry).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
        for secret in self.secrets.iter() {
            line = line.replace(secret.as_str(), "[redacted]");
        }
        line.push('\n');
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.append(line.as_bytes()))
            .await
            .unwrap_or_else(|e| Err(this_error(&e.to_string())))
    }

    fn append(&self, bytes: &[u8]) -> Result<(), AuditError> {
        let error = |source| AuditError {
            path: self.path.display().to_string(),
            source,
        };
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(error)?;
        file.write_all(bytes).map_err(error)?;
        file.sync_data().map_err(error)
    }
}

fn this_error(message: &str) -> AuditError {
    AuditError {
        path: "(audit)".into(),
        source: std::io::Error::other(message.to_owned()),
    }
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

    #[test]
    fn finds_references_anywhere() {
        let v = json!({"refund": {"reference": "txn_H1I2J3K4", "source": "txn_D7E8F9G0"}, "url": "https://x/cus_1", "n": [ "cus_A1B2C3D4", "txn_H1I2J3K4" ]});
        let mut refs = references(&v);
        refs.sort();
        assert_eq!(refs, ["cus_A1B2C3D4", "txn_D7E8F9G0", "txn_H1I2J3K4"]);
    }

    #[tokio::test]
    async fn lines_are_appended_flushed_and_scrubbed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/audit.jsonl");
        let log = AuditLog::open(&path, vec!["sk_live_SECRET123".into()]).unwrap();
        let args = serde_json::value::RawValue::from_string(
            json!({"email": "sk_live_SECRET123@x.io"}).to_string(),
        )
        .unwrap();
        for outcome in ["ok", "error"] {
            let entry = AuditEntry {
                time: OffsetDateTime::now_utc(),
                tool: "create_customer",
                arguments: &args,
                outcome,
                code: None,
                message: None,
                references: vec!["cus_1".into()],
            };
            log.record(&entry).await.unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("SECRET123"));
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["tool"], "create_customer");
        assert_eq!(first["references"], json!(["cus_1"]));
    }
}
