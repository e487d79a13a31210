//! The resume record of one import: `<data dir>/imports/<sha256 of the file>.json`, which lines
//! are done (recorded or a duplicate) and which need attention (and why). It is rewritten whole
//! after every batch's answer, atomically (a temporary file, fsync, rename, fsync of the
//! directory), so an import killed at any moment leaves the record of the last answered batch.
//! A batch sent but not answered is not in it, and is sent again with the same requestIds.
//!
//! ```json
//! {"version": 1, "file": "usage.jsonl", "sha256": "…", "events": 5,
//!  "recorded": [[1, 3]], "duplicate": [[5, 5]],
//!  "attention": {"4": {"status": "conflict", "reason": "…"}}, "updatedAt": "…"}
//! ```
//! `recorded` and `duplicate` are inclusive ranges of line numbers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What happened to one line's event (the statuses of `record_bulk_usage`'s report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Recorded,
    Duplicate,
    Conflict,
    Failed,
    NotSent,
    Unknown,
}

impl Status {
    /// Recorded now or before: nothing more to do for the line.
    pub(crate) fn is_done(self) -> bool {
        matches!(self, Self::Recorded | Self::Duplicate)
    }
}

/// A line that is not done, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Attention {
    pub(crate) status: Status,
    pub(crate) reason: String,
}

/// The record as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    version: u32,
    file: String,
    sha256: String,
    events: usize,
    recorded: Vec<(u64, u64)>,
    duplicate: Vec<(u64, u64)>,
    attention: BTreeMap<u64, Attention>,
    updated_at: String,
}

const VERSION: u32 = 1;

/// What the record says, in memory.
#[derive(Debug)]
pub(crate) struct Record {
    path: PathBuf,
    file: String,
    sha256: String,
    events: usize,
    done: BTreeMap<u64, Status>,
    pub(crate) attention: BTreeMap<u64, Attention>,
}

/// The record cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("cannot read or write the import record {0}: {1}")]
    Io(String, std::io::Error),
    #[error("the import record {0} is unreadable ({1}); pass --restart to start this import over")]
    Unreadable(String, String),
}

impl Record {
    /// The record of the file with this hash in `data_dir`: what earlier runs did, or an empty
    /// one (always empty with `restart`).
    pub(crate) fn open(
        data_dir: &Path,
        file: &str,
        sha256: &str,
        events: usize,
        restart: bool,
    ) -> Result<Self, RecordError> {
        let path = data_dir.join("imports").join(format!("{sha256}.json"));
        let mut record = Self {
            path,
            file: file.to_owned(),
            sha256: sha256.to_owned(),
            events,
            done: BTreeMap::new(),
            attention: BTreeMap::new(),
        };
        if restart {
            return Ok(record);
        }
        let text = match std::fs::read(&record.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(record),
            Err(e) => return Err(RecordError::Io(record.describe(), e)),
        };
        let stored: Stored = serde_json::from_slice(&text)
            .map_err(|e| RecordError::Unreadable(record.describe(), e.to_string()))?;
        if stored.version != VERSION || stored.sha256 != sha256 {
            return Err(RecordError::Unreadable(
                record.describe(),
                "it is of another version or file".to_owned(),
            ));
        }
        for (ranges, status) in [
            (stored.recorded, Status::Recorded),
            (stored.duplicate, Status::Duplicate),
        ] {
            for (first, last) in ranges {
                record.done.extend((first..=last).map(|l| (l, status)));
            }
        }
        record.attention = stored.attention;
        Ok(record)
    }

    /// Where it is kept.
    pub(crate) fn describe(&self) -> String {
        self.path.display().to_string()
    }

    /// Whether an earlier run (or this one) got the line recorded.
    pub(crate) fn is_done(&self, line: u64) -> bool {
        self.done.contains_key(&line)
    }

    /// Lines done with `status`.
    pub(crate) fn count(&self, status: Status) -> usize {
        self.done.values().filter(|s| **s == status).count()
    }

    /// Notes what happened to `line`.
    pub(crate) fn mark(&mut self, line: u64, status: Status, reason: Option<String>) {
        if status.is_done() {
            self.done.insert(line, status);
            self.attention.remove(&line);
        } else {
            self.attention.insert(
                line,
                Attention {
                    status,
                    reason: reason.unwrap_or_default(),
                },
            );
        }
    }

    /// The record as stored, and where.
    pub(crate) fn snapshot(&self) -> (PathBuf, Vec<u8>) {
        let stored = Stored {
            version: VERSION,
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            events: self.events,
            recorded: self.ranges(Status::Recorded),
            duplicate: self.ranges(Status::Duplicate),
            attention: self.attention.clone(),
            updated_at: crate::model::dates::timestamp(time::OffsetDateTime::now_utc()),
        };
        let bytes = serde_json::to_vec(&stored).unwrap_or_default();
        (self.path.clone(), bytes)
    }

    fn ranges(&self, status: Status) -> Vec<(u64, u64)> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for line in self
            .done
            .iter()
            .filter(|(_, s)| **s == status)
            .map(|(l, _)| *l)
        {
            match ranges.last_mut() {
                Some((_, last)) if *last + 1 == line => *last = line,
                _ => ranges.push((line, line)),
            }
        }
        ranges
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a torn one:
/// a temporary file beside it, fsynced, renamed over it, and the directory fsynced.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RecordError> {
    let io = |e| RecordError::Io(path.display().to_string(), e);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips_as_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let mut record = Record::open(dir.path(), "u.jsonl", "abc", 7, false).unwrap();
        for line in [1, 2, 3, 6] {
            record.mark(line, Status::Recorded, None);
        }
        record.mark(5, Status::Conflict, Some("clash".into()));
        record.mark(7, Status::Failed, Some("refused".into()));
        record.mark(7, Status::Duplicate, None);
        let (path, bytes) = record.snapshot();
        write_atomically(&path, &bytes).unwrap();
        let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(stored["recorded"], serde_json::json!([[1, 3], [6, 6]]));
        assert_eq!(stored["duplicate"], serde_json::json!([[7, 7]]));
        let again = Record::open(dir.path(), "u.jsonl", "abc", 7, false).unwrap();
        assert!(again.is_done(2) && again.is_done(7) && !again.is_done(4) && !again.is_done(5));
        assert_eq!(again.count(Status::Recorded), 4);
        assert_eq!(again.attention.len(), 1);
        assert_eq!(again.attention[&5].status, Status::Conflict);
        let fresh = Record::open(dir.path(), "u.jsonl", "abc", 7, true).unwrap();
        assert!(!fresh.is_done(1));
        std::fs::write(&path, "{torn").unwrap();
        let e = Record::open(dir.path(), "u.jsonl", "abc", 7, false).unwrap_err();
        assert!(e.to_string().contains("--restart"), "{e}");
    }
}
