//! The sandbox database as a person sees it from the command line (`solvapay-mcp sandbox
//! status|reset|export|clock`): what a file holds, emptied or reloaded with the demo, exported
//! whole, its clock read or moved. Every operation opens the file through `db` (the migrations,
//! the locks, the tables it owns) and runs in one SQLite transaction, so it is safe beside a
//! running sandbox: SQLite orders the writes, and the server's next request reads the result. A
//! clock moved here is what the next sandbox started on the file runs on, and what a running one
//! switches to within a second (it follows the stored clock).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use serde::Serialize;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::clock::ClockSetting;
use super::db::{self, Census, Listener};
use super::demo;

/// Why a command on the sandbox database failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// There is no database file at the path.
    #[error("no sandbox database at {0}")]
    Missing(PathBuf),
    /// Reading or writing the database failed.
    #[error("sandbox database {path}: {source}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// Creating the database's directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Loading the demo data failed.
    #[error("the demo data could not be loaded: {0}")]
    Seed(String),
}

/// The clock of a database: the time it gives now and how it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockView {
    /// The sandbox time now (RFC 3339, milliseconds).
    pub now: String,
    /// `flowing` (wall-clock time plus an offset) or `frozen`.
    pub mode: ClockMode,
    /// Sandbox time minus wall-clock time, in seconds (while flowing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset_seconds: Option<i64>,
    /// Whether the database keeps a clock setting (else the next sandbox runs on the wall clock,
    /// or on the demo's day with `--demo`).
    pub stored: bool,
}

/// How a sandbox clock runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// Time flows (shifted by an offset).
    Flowing,
    /// Time stands still.
    Frozen,
}

impl ClockView {
    fn of(setting: ClockSetting, stored: bool) -> Self {
        let wall = OffsetDateTime::now_utc();
        let (mode, offset_seconds) = match setting {
            ClockSetting::Flowing { offset } => (ClockMode::Flowing, Some(offset.whole_seconds())),
            ClockSetting::Frozen { .. } => (ClockMode::Frozen, None),
        };
        Self {
            now: crate::model::dates::timestamp(setting.now_at(wall)),
            mode,
            offset_seconds,
            stored,
        }
    }
}

/// A sandbox server on record as listening on the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    /// Its base URL.
    pub url: String,
    /// Its dashboard (`<url>/dashboard`: key-free, for this machine only).
    pub dashboard: String,
    /// Its process id.
    pub pid: u32,
    /// Whether it answers `GET /healthz` now (a crashed server leaves its record behind).
    pub running: bool,
}

/// What `sandbox status` reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The database file.
    pub path: PathBuf,
    /// Whether it exists yet.
    pub exists: bool,
    /// Its size in bytes, with its write-ahead log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Its schema version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
    /// Its clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockView>,
    /// What it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contents: Option<Census>,
    /// The server on record as listening on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerView>,
}

/// A change to a database's clock (`sandbox clock …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// Only read it.
    Show,
    /// Stop time at this instant (as `POST /v1/sandbox/clock {"now"}`).
    Set(OffsetDateTime),
    /// Move time by this much (as `POST /v1/sandbox/clock {"advanceSeconds"}`).
    Advance(Duration),
    /// Stop time where it is.
    Freeze,
    /// Let stopped time flow again from where it stands.
    Resume,
}

impl ClockChange {
    /// The setting `current` becomes at wall-clock time `wall`; `None` for [`ClockChange::Show`].
    /// The one rule for the command line, `POST /v1/sandbox/clock` and the dashboard's form.
    pub(crate) fn applied_to(
        self,
        current: ClockSetting,
        wall: OffsetDateTime,
    ) -> Option<ClockSetting> {
        match self {
            Self::Show => None,
            Self::Set(at) => Some(ClockSetting::Frozen { at }.frozen(wall)),
            Self::Advance(d) => Some(current.advanced(d)),
            Self::Freeze => Some(current.frozen(wall)),
            Self::Resume => Some(current.resumed(wall)),
        }
    }
}

/// Where the database is, what it holds, its clock, and the server on it. A file that does not
/// exist is reported as such (nothing is created).
pub fn status(path: &Path) -> Result<Status, AdminError> {
    if !path.exists() {
        return Ok(Status {
            path: path.to_owned(),
            exists: false,
            size_bytes: None,
            schema_version: None,
            clock: None,
            contents: None,
            server: None,
        });
    }
    let mut conn = open(path)?;
    let fail = |source| AdminError::Db {
        path: path.to_owned(),
        source,
    };
    let census = Census::take(&mut conn).map_err(fail)?;
    let stored = db::load_clock(&conn).map_err(fail)?;
    let listener = db::load_listener(&conn).map_err(fail)?;
    let size = [path.to_owned(), wal_path(path)]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    Ok(Status {
        path: path.to_owned(),
        exists: true,
        size_bytes: Some(size),
        schema_version: Some(db::SCHEMA_VERSION),
        clock: Some(ClockView::of(stored.unwrap_or_default(), stored.is_some())),
        contents: Some(census),
        server: listener.map(probe),
    })
}

/// What the database at `path` holds (for the question `reset` asks first).
pub fn census(path: &Path) -> Result<Census, AdminError> {
    let mut conn = open(path)?;
    Census::take(&mut conn).map_err(|source| AdminError::Db {
        path: path.to_owned(),
        source,
    })
}

/// Empties the database (creating it if need be) and forgets its clock; with `demo`, loads the
/// demo data and its clock. One transaction: a sandbox running on the file sees the old ledger or
/// the new one, never half of each. Gives what it holds afterwards.
pub fn reset(path: &Path, with_demo: bool) -> Result<Census, AdminError> {
    let fail = |source| AdminError::Db {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| AdminError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    let mut conn = db::open(Some(path)).map_err(fail)?;
    let tx = conn.transaction().map_err(fail)?;
    db::clear(&tx).map_err(fail)?;
    if with_demo {
        let start = demo::demo_now();
        demo::seed(&tx, start).map_err(|e| AdminError::Seed(e.message))?;
        let offset = start - OffsetDateTime::now_utc();
        db::store_clock(&tx, ClockSetting::Flowing { offset }).map_err(fail)?;
    }
    tx.commit().map_err(fail)?;
    Census::take(&mut conn).map_err(fail)
}

/// Everything the database holds, as one JSON object with sorted keys: the schema version, the
/// clock, and every table's rows (money as stored: integer minor units beside a currency).
pub fn export(path: &Path) -> Result<Value, AdminError> {
    let mut conn = open(path)?;
    let fail = |source| AdminError::Db {
        path: path.to_owned(),
        source,
    };
    let tables = db::dump(&mut conn).map_err(fail)?;
    let stored = db::load_clock(&conn).map_err(fail)?;
    let clock = ClockView::of(stored.unwrap_or_default(), stored.is_some());
    let mut out = Map::new();
    out.insert("schemaVersion".into(), Value::from(db::SCHEMA_VERSION));
    out.insert(
        "clock".into(),
        serde_json::to_value(clock).unwrap_or_default(),
    );
    out.insert("tables".into(), Value::Object(tables));
    Ok(Value::Object(out))
}

/// Reads the database's clock, or changes it as `POST /v1/sandbox/clock` would and stores it.
/// Gives the clock afterwards and the server on record as running on the file (which follows
/// the stored clock within a second).
pub fn clock(
    path: &Path,
    change: ClockChange,
) -> Result<(ClockView, Option<ServerView>), AdminError> {
    let conn = open(path)?;
    let fail = |source| AdminError::Db {
        path: path.to_owned(),
        source,
    };
    let stored = db::load_clock(&conn).map_err(fail)?;
    let current = stored.unwrap_or_default();
    let next = change.applied_to(current, OffsetDateTime::now_utc());
    if let Some(next) = next {
        db::store_clock(&conn, next).map_err(fail)?;
    }
    let server = db::load_listener(&conn).map_err(fail)?.map(probe);
    let view = match next {
        Some(setting) => ClockView::of(setting, true),
        None => ClockView::of(current, stored.is_some()),
    };
    Ok((view, server.filter(|s| s.running)))
}

/// Parses `30d`, `12h`, `1h30m`, `90s`, `2w`, with an optional leading `-` (back in time).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().ok()?;
        digits.clear();
        let unit = match c {
            'w' => Duration::weeks(1),
            'd' => Duration::days(1),
            'h' => Duration::hours(1),
            'm' => Duration::minutes(1),
            's' => Duration::seconds(1),
            _ => return None,
        };
        total = total.checked_add(unit.checked_mul(i32::try_from(n).ok()?)?)?;
    }
    if !digits.is_empty() {
        return None;
    }
    Some(total * sign)
}

fn open(path: &Path) -> Result<rusqlite::Connection, AdminError> {
    if !path.exists() {
        return Err(AdminError::Missing(path.to_owned()));
    }
    db::open_existing(path).map_err(|source| AdminError::Db {
        path: path.to_owned(),
        source,
    })
}

fn wal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Whether the recorded server answers `GET /healthz` on loopback within half a second.
fn probe(listener: Listener) -> ServerView {
    let running = healthy(&listener.url);
    ServerView {
        dashboard: format!("{}{}", listener.url, super::dashboard::PATH),
        url: listener.url,
        pid: listener.pid,
        running,
    }
}

fn healthy(url: &str) -> bool {
    let Some(addr) = url
        .strip_prefix("http://")
        .and_then(|a| a.parse::<SocketAddr>().ok())
    else {
        return false;
    };
    let timeout = StdDuration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.take(4096).read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer.starts_with("HTTP/1.1 200") && answer.trim_end().ends_with("ok")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("30d"), Some(Duration::days(30)));
        assert_eq!(parse_duration("12h"), Some(Duration::hours(12)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("-1d"), Some(Duration::days(-1)));
        assert_eq!(parse_duration("2w3d"), Some(Duration::days(17)));
        for bad in ["", "30", "d", "1x", "1.5h", "-", "h1"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
