//! Reading a usage file: JSON lines or CSV, every line typed and checked by `record_bulk_usage`'s
//! own rules before anything is sent, and every event given its `requestId`.
//!
//! The derived `requestId` (`imp_` + 32 hex digits of a SHA-256) is made from the event's
//! canonical JSON and its occurrence (how many identical lines precede it in the file), so it
//! survives edits elsewhere in the file: appending lines, or fixing one line, changes the file's
//! hash (a new import) but not the other lines' keys, and what was stored before comes back as a
//! duplicate instead of being counted again. An event without a `timestamp` is stamped when it is
//! sent and cannot be told apart from the same event in another file, so its key also carries
//! the file's hash: it is stable across re-runs of that file only.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use ring::digest::{Context, SHA256, digest};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::cli::ImportFormat;
use crate::model::FieldError;
use crate::people::tools::json_types;
use crate::tools::usage::{check_event, event_schema};

/// One event of the file, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// Its line in the file (from 1; a CSV row's first line).
    pub(crate) line: u64,
    /// The event as `record_bulk_usage` takes it, `requestId` included.
    pub(crate) body: Map<String, Value>,
}

/// The file's events, all valid, and its identity.
#[derive(Debug)]
pub(crate) struct UsageFile {
    /// SHA-256 of the file's bytes, hex.
    pub(crate) sha256: String,
    pub(crate) events: Vec<Event>,
    /// Events with no timestamp: keyed to this exact file (see the module docs).
    pub(crate) untimestamped: usize,
}

/// Why the file cannot be imported; nothing is sent then.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    #[error(
        "cannot tell the format of {0} from its extension; give --format jsonl or --format csv"
    )]
    UnknownFormat(String),
    #[error("{0} holds no events")]
    Empty(String),
    /// Bad lines, each `FILE:LINE: what is wrong`.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Lines(Vec<LineError>),
}

/// One bad line.
#[derive(Debug)]
pub(crate) struct LineError {
    file: String,
    line: u64,
    problem: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.problem)
    }
}

/// Bad lines reported before the rest are summed up as a count.
pub(crate) const MAX_REPORTED: usize = 20;

/// The format `--format` gives, else the file's extension says.
pub(crate) fn format_of(
    path: &Path,
    flag: Option<ImportFormat>,
) -> Result<ImportFormat, FileError> {
    if let Some(f) = flag {
        return Ok(f);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl" | "ndjson") => Ok(ImportFormat::Jsonl),
        Some("csv") => Ok(ImportFormat::Csv),
        _ => Err(FileError::UnknownFormat(path.display().to_string())),
    }
}

/// Parses and checks `bytes` (the file `name`) as `format`, at `now` (the timestamp window).
pub(crate) fn parse(
    name: &str,
    bytes: &[u8],
    format: ImportFormat,
    now: OffsetDateTime,
) -> Result<UsageFile, FileError> {
    let sha256 = hex(digest(&SHA256, bytes).as_ref());
    let mut errors = Vec::new();
    let mut bad = |line: u64, problem: String| {
        errors.push(LineError {
            file: name.to_owned(),
            line,
            problem,
        });
    };
    let rows = match format {
        ImportFormat::Jsonl => json_lines(bytes, &mut bad),
        ImportFormat::Csv => csv_rows(bytes, &mut bad),
    };
    let mut given: HashMap<String, u64> = HashMap::new();
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    let mut events = Vec::with_capacity(rows.len());
    let mut untimestamped = 0;
    for (line, body) in rows {
        if let Err(e) = check_event(body.clone(), now) {
            bad(line, e.to_string());
            continue;
        }
        let request_id = body
            .get("requestId")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        let mut body = body;
        match request_id {
            Some(id) => {
                if let Some(first) = given.insert(id.clone(), line) {
                    bad(
                        line,
                        format!("requestId {id:?} repeats line {first}; each event needs its own"),
                    );
                }
            }
            None => {
                body.remove("requestId");
                let canonical = canonical(&Value::Object(body.clone()));
                let timestamped = body
                    .get("timestamp")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.trim().is_empty());
                let scope = if timestamped { "" } else { sha256.as_str() };
                untimestamped += usize::from(!timestamped);
                let n = occurrences
                    .entry(format!("{scope}\u{1f}{canonical}"))
                    .or_default();
                body.insert(
                    "requestId".into(),
                    derived_key(scope, &canonical, *n).into(),
                );
                *n += 1;
            }
        }
        events.push(Event { line, body });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(FileError::Lines(errors));
    }
    if events.is_empty() {
        return Err(FileError::Empty(name.to_owned()));
    }
    Ok(UsageFile {
        sha256,
        events,
        untimestamped,
    })
}

/// `imp_` + the first 128 bits of SHA-256 over the parts (well within `requestId`'s 256
/// characters, and plain ASCII).
fn derived_key(scope: &str, canonical: &str, occurrence: usize) -> String {
    let mut context = Context::new(&SHA256);
    for part in [
        "solvapay-mcp usage import v1",
        scope,
        canonical,
        &occurrence.to_string(),
    ] {
        context.update(part.as_bytes());
        context.update(&[0x1f]);
    }
    let hash = context.finish();
    format!("imp_{}", hex(hash.as_ref().get(..16).unwrap_or_default()))
}

/// JSON with every object's keys sorted, whatever order the line gave them in.
fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .filter_map(|k| Some((k.clone(), sorted(map.get(k)?))))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One object per non-blank line.
fn json_lines(bytes: &[u8], bad: &mut impl FnMut(u64, String)) -> Vec<(u64, Map<String, Value>)> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut rows = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let Ok(text) = std::str::from_utf8(raw) else {
            bad(line, "is not UTF-8".to_owned());
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => rows.push((line, map)),
            Ok(_) => bad(
                line,
                "is not a JSON object (one event object per line)".to_owned(),
            ),
            Err(e) => bad(line, format!("is not JSON: {e}")),
        }
    }
    rows
}

/// One event per row after the header; each cell typed by the event schema (an empty cell is an
/// absent field).
fn csv_rows(bytes: &[u8], bad: &mut impl FnMut(u64, String)) -> Vec<(u64, Map<String, Value>)> {
    let schema = event_schema();
    let properties = schema.get("properties").and_then(Value::as_object);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            bad(1, format!("the header row cannot be read: {e}"));
            return Vec::new();
        }
    };
    if let Some((i, name)) = header
        .iter()
        .enumerate()
        .find(|(i, name)| header.get(..*i).is_some_and(|before| before.contains(name)))
    {
        bad(
            1,
            format!("column {name:?} is named twice (column {})", i + 1),
        );
        return Vec::new();
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                bad(line, format!("is not a CSV row: {}", csv_problem(&e)));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let mut event = Map::new();
        let mut typed_ok = true;
        for (name, cell) in header.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let types = properties
                .and_then(|p| p.get(name))
                .map(json_types)
                .unwrap_or_default();
            match typed(cell, &types) {
                Ok(v) => {
                    event.insert(name.clone(), v);
                }
                Err(expected) => {
                    typed_ok = false;
                    bad(
                        line,
                        FieldError::new(name, format!("{cell:?} is not {expected}")).to_string(),
                    );
                }
            }
        }
        if typed_ok {
            rows.push((line, event));
        }
    }
    rows
}

/// A cell as the JSON its field's types take: a number for a number, JSON for an object or
/// array, else the text.
fn typed(cell: &str, types: &[String]) -> Result<Value, String> {
    let wants = |t: &str| types.iter().any(|x| x == t);
    if wants("integer") || wants("number") {
        let parsed: Option<Value> = serde_json::from_str(cell).ok();
        return match parsed {
            Some(v) if v.is_i64() || (wants("number") && v.is_number()) => Ok(v),
            _ if wants("integer") => Err("an integer".to_owned()),
            _ => Err("a number".to_owned()),
        };
    }
    if wants("boolean") {
        return match cell.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("true or false".to_owned()),
        };
    }
    if wants("object") || wants("array") {
        return serde_json::from_str(cell).map_err(|_| "JSON".to_owned());
    }
    Ok(Value::String(cell.to_owned()))
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header names {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn keys(file: &UsageFile) -> Vec<String> {
        file.events
            .iter()
            .map(|e| e.body["requestId"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn keys_follow_the_event_not_its_place_in_the_file() {
        let a = br#"{"customerRef":"cus_A1B2C3D4","units":2,"timestamp":"2026-12-01T10:00:00Z"}
{"customerRef":"cus_A1B2C3D4","units":2,"timestamp":"2026-12-01T10:00:00Z"}"#;
        let first = parse("a.jsonl", a, ImportFormat::Jsonl, now()).unwrap();
        let k = keys(&first);
        assert_ne!(k[0], k[1], "identical lines are two events");
        assert!(k[0].starts_with("imp_") && k[0].len() == 36, "{}", k[0]);
        // The same events after another line, keys in another order: the same keys.
        let b = br#"{"customerRef":"cus_X7Y8Z9W0","timestamp":"2026-12-01T11:00:00Z"}

{"timestamp":"2026-12-01T10:00:00Z","units":2,"customerRef":"cus_A1B2C3D4"}
{"customerRef":"cus_A1B2C3D4","units":2,"timestamp":"2026-12-01T10:00:00Z"}"#;
        let second = parse("b.jsonl", b, ImportFormat::Jsonl, now()).unwrap();
        assert_ne!(first.sha256, second.sha256);
        assert_eq!(keys(&second)[1..], k[..]);
        assert_eq!(second.events[1].line, 3);
        // CSV of the same events: the same keys.
        let csv = b"customerRef,units,timestamp\ncus_A1B2C3D4,2,2026-12-01T10:00:00Z\ncus_A1B2C3D4,2,2026-12-01T10:00:00Z\n";
        let third = parse("c.csv", csv, ImportFormat::Csv, now()).unwrap();
        assert_eq!(keys(&third), k);
        assert_eq!(third.events[0].line, 2);
    }

    #[test]
    fn an_event_without_a_timestamp_is_keyed_to_its_file() {
        let one = parse(
            "a.jsonl",
            br#"{"customerRef":"cus_A1B2C3D4"}"#,
            ImportFormat::Jsonl,
            now(),
        )
        .unwrap();
        let other = parse(
            "a.jsonl",
            b"{\"customerRef\":\"cus_A1B2C3D4\"}\n\n",
            ImportFormat::Jsonl,
            now(),
        )
        .unwrap();
        assert_ne!(keys(&one), keys(&other));
        let again = parse(
            "a.jsonl",
            br#"{"customerRef":"cus_A1B2C3D4"}"#,
            ImportFormat::Jsonl,
            now(),
        )
        .unwrap();
        assert_eq!(keys(&one), keys(&again));
    }

    #[test]
    fn every_bad_line_is_named_and_a_given_request_id_is_kept() {
        let text = br#"{"customerRef":"cus_A1B2C3D4","requestId":"r-1"}
{"customerRef":"cus_A1B2C3D4","units":-1}
[1]
{"customerRef":"cus_A1B2C3D4","requestId":"r-1"}
{"customerRef":"cus_A1B2C3D4","colour":"red"}
{"customerRef":"cus_A1B2C3D4","units":"many"}"#;
        let Err(FileError::Lines(errors)) = parse("u.jsonl", text, ImportFormat::Jsonl, now())
        else {
            panic!("accepted");
        };
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(
            lines[0].starts_with("u.jsonl:2: units: must be an integer 0-100000"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("u.jsonl:3: is not a JSON object"),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("u.jsonl:4: requestId \"r-1\" repeats line 1"),
            "{lines:#?}"
        );
        assert!(
            lines[3].contains("u.jsonl:5:") && lines[3].contains("colour"),
            "{lines:#?}"
        );
        assert!(lines[4].starts_with("u.jsonl:6: units:"), "{lines:#?}");
        let ok = parse(
            "u.jsonl",
            br#"{"customerRef":"cus_A1B2C3D4","requestId":"r-1"}"#,
            ImportFormat::Jsonl,
            now(),
        )
        .unwrap();
        assert_eq!(keys(&ok), ["r-1"]);
    }

    #[test]
    fn csv_cells_are_typed_by_the_event_schema() {
        let text = b"customerRef,productRef,units,actionDuration,action\ncus_A1B2C3D4,,3,250,007\ncus_A1B2C3D4,prd_P9Q0R1S2,three,,x\ncus_A1B2C3D4,prd_P9Q0R1S2\n";
        let Err(FileError::Lines(errors)) = parse("u.csv", text, ImportFormat::Csv, now()) else {
            panic!("accepted");
        };
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "u.csv:3: units: \"three\" is not an integer",
                "u.csv:4: is not a CSV row: 2 cells where the header names 5"
            ]
        );
        let good = b"customerRef,productRef,units,actionDuration,action\ncus_A1B2C3D4,,3,250,007\n";
        let file = parse("u.csv", good, ImportFormat::Csv, now()).unwrap();
        let body = &file.events[0].body;
        assert_eq!(body["units"], 3);
        assert_eq!(body["actionDuration"], 250);
        assert_eq!(body["action"], "007");
        assert!(!body.contains_key("productRef"));
    }

    #[test]
    fn the_format_comes_from_the_flag_or_the_extension() {
        let f = |p: &str, flag| format_of(Path::new(p), flag).ok();
        assert_eq!(f("a.JSONL", None), Some(ImportFormat::Jsonl));
        assert_eq!(f("a.ndjson", None), Some(ImportFormat::Jsonl));
        assert_eq!(f("a.csv", None), Some(ImportFormat::Csv));
        assert_eq!(f("a.txt", None), None);
        assert_eq!(f("a.txt", Some(ImportFormat::Csv)), Some(ImportFormat::Csv));
    }
}
