//! `solvapay-mcp usage import FILE [--format jsonl|csv] [--batch N] [--dry-run] [--restart]`:
//! a file's usage events sent through the `record_bulk_usage` tool, batch by batch.
//!
//! - Every line is checked by the tool's own rules first ([`file`]); one bad line and nothing is
//!   sent (exit 2), each bad line named `FILE:LINE: what is wrong`.
//! - Every event carries a `requestId` (its own, else one derived from the event, see [`file`]),
//!   so whatever is sent twice is stored once: SolvaPay answers the repeat as a duplicate.
//! - After each batch's answer, the resume record ([`record`]) notes which lines are done; a
//!   re-run of the same file sends only the others. A run killed mid-batch re-sends that batch,
//!   with the same keys.
//! - Ctrl-C stops after the batch in flight; the record is saved and the summary says how to
//!   resume. Exit codes: 0 every line recorded (or a duplicate); 5 some are not (conflicts,
//!   failures, not sent); 2 a bad command line or file; 130 interrupted; 1 could not run.
//! - Progress: a bar on stderr when stderr is a terminal (TERM set, not `dumb`); otherwise one
//!   plain line per batch.

mod file;
mod record;
mod report;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};

use self::file::{Event, FileError, UsageFile};
use self::record::{Record, Status, write_atomically};
use self::report::{BatchOutcome, Tally};
use super::{SUCCESS, TOOL_FAILED, bad_arguments, out};
use crate::cli::{ImportArgs, data_dir};
use crate::local::{Consent, LocalSession};
use crate::telemetry::LogRedaction;

/// The tool every batch goes through.
const TOOL: &str = "record_bulk_usage";

/// Exit code of an import stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// Runs the import.
pub async fn run(args: &ImportArgs, logs: &LogRedaction) -> ExitCode {
    let name = args.file.display().to_string();
    let usage = match read(args, &name).await {
        Ok(u) => u,
        Err(code) => return code,
    };
    let Some(dir) = data_dir(args.server.data_dir.as_ref()) else {
        return bad_arguments(
            "no data directory to keep the import's progress in (set SOLVAPAY_DATA_DIR, HOME or XDG_DATA_HOME)",
        );
    };
    let mut record = match open_record(dir, &name, &usage, args.restart).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    let pending: Vec<Event> = usage
        .events
        .iter()
        .filter(|e| !record.is_done(e.line))
        .cloned()
        .collect();
    let mut tally = Tally {
        events: usage.events.len(),
        earlier: (
            record.count(Status::Recorded),
            record.count(Status::Duplicate),
        ),
        untimestamped: usage.untimestamped,
        ..Tally::default()
    };
    let batch = usize::try_from(args.batch).unwrap_or(1).max(1);
    if args.dry_run {
        out(&format!(
            "{name}: {} events, all valid; {} done earlier; {} to send in {} batches of up to {batch} ({TOOL}). Nothing was sent (--dry-run).",
            usage.events.len(),
            usage.events.len() - pending.len(),
            pending.len(),
            pending.len().div_ceil(batch),
        ));
        return ExitCode::from(SUCCESS);
    }
    if pending.is_empty() {
        out(&tally.render(&name, &command(args), false));
        return ExitCode::from(SUCCESS);
    }
    let session = match LocalSession::start(&args.server, &args.sandbox, Consent::No, logs).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let sent = send(&session, &pending, batch, &mut record, &mut tally).await;
    session.shutdown().await;
    let stop = match sent {
        Ok(stop) => stop,
        Err(code) => return code,
    };
    let interrupted = stop == Stop::Interrupted;
    out(&tally.render(&name, &command(args), interrupted));
    if interrupted {
        ExitCode::from(INTERRUPTED)
    } else if tally.unfinished() == 0 {
        ExitCode::from(SUCCESS)
    } else {
        ExitCode::from(TOOL_FAILED)
    }
}

/// What earlier runs of this file did (nothing, with `restart`); a record that cannot be read
/// is reported and becomes the exit code.
async fn open_record(
    dir: PathBuf,
    name: &str,
    usage: &UsageFile,
    restart: bool,
) -> Result<Record, ExitCode> {
    let (name, sha, events) = (name.to_owned(), usage.sha256.clone(), usage.events.len());
    let opened =
        tokio::task::spawn_blocking(move || Record::open(&dir, &name, &sha, events, restart)).await;
    match opened {
        Ok(Ok(record)) => Ok(record),
        Ok(Err(e)) => {
            tracing::error!("{e}");
            Err(ExitCode::FAILURE)
        }
        Err(e) => {
            tracing::error!("could not read the import record: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Reads and checks the file; a problem is reported and becomes the exit code.
async fn read(args: &ImportArgs, name: &str) -> Result<UsageFile, ExitCode> {
    let format =
        file::format_of(&args.file, args.format).map_err(|e| bad_arguments(&e.to_string()))?;
    let bytes = tokio::fs::read(&args.file)
        .await
        .map_err(|e| bad_arguments(&FileError::Read(name.to_owned(), e).to_string()))?;
    let now = time::OffsetDateTime::now_utc();
    match file::parse(name, &bytes, format, now) {
        Ok(u) => Ok(u),
        Err(FileError::Lines(errors)) => {
            for e in errors.iter().take(file::MAX_REPORTED) {
                eprintln!("{e}");
            }
            if errors.len() > file::MAX_REPORTED {
                eprintln!("… and {} more", errors.len() - file::MAX_REPORTED);
            }
            Err(bad_arguments(&format!(
                "{} lines of {name} are wrong; nothing was sent",
                errors.len()
            )))
        }
        Err(e) => Err(bad_arguments(&e.to_string())),
    }
}

/// How sending ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Every batch was sent, or one failed and the rest were held back.
    Finished,
    /// Ctrl-C: the batch in flight was finished, the others held back.
    Interrupted,
}

/// Sends `pending` in batches, saving the record after every answer.
async fn send(
    session: &LocalSession,
    pending: &[Event],
    batch: usize,
    record: &mut Record,
    tally: &mut Tally,
) -> Result<Stop, ExitCode> {
    let tools = session.list_tools().await.map_err(|e| {
        tracing::error!("{e}");
        ExitCode::FAILURE
    })?;
    if !tools.iter().any(|t| t.name == TOOL) {
        return Err(bad_arguments(&format!(
            "{TOOL} is not enabled with these flags (--read-only, --toolsets, --tools, --exclude-tools); the import needs it"
        )));
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn({
        let interrupt = interrupt.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupt.store(true, Ordering::SeqCst);
                eprintln!("\ninterrupted: stopping after the batch in flight…");
            }
        }
    });
    let mut progress = Progress::new(pending.len());
    let mut stop = Stop::Finished;
    let mut chunks = pending.chunks(batch);
    for chunk in chunks.by_ref() {
        let outcome = match session.call(TOOL, arguments(chunk)).await {
            Ok(result) => BatchOutcome::read(chunk, &result),
            Err(e) => {
                tracing::error!("{e}");
                BatchOutcome::all(chunk, Status::Unknown, &e.to_string())
            }
        };
        for line in &outcome.lines {
            record.mark(line.line, line.status, line.reason.clone());
        }
        let (path, bytes) = record.snapshot();
        let saved = tokio::task::spawn_blocking(move || write_atomically(&path, &bytes)).await;
        if let Err(e) = saved
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
        {
            progress.finish();
            tracing::error!("{e}; stopping: what is not in the record would be sent again");
            watcher.abort();
            return Err(ExitCode::FAILURE);
        }
        let stops = outcome.stops();
        progress.batch(&outcome);
        tally.add(outcome);
        if stops {
            break;
        }
        if interrupt.load(Ordering::SeqCst) {
            stop = Stop::Interrupted;
            break;
        }
    }
    tally.not_sent = chunks.map(<[Event]>::len).sum();
    progress.finish();
    watcher.abort();
    Ok(stop)
}

/// `{"events": [...]}` for one batch.
fn arguments(chunk: &[Event]) -> Map<String, Value> {
    let events: Vec<Value> = chunk
        .iter()
        .map(|e| Value::Object(e.body.clone()))
        .collect();
    let mut args = Map::new();
    args.insert("events".into(), Value::Array(events));
    args
}

/// The command that resumes this import.
fn command(args: &ImportArgs) -> String {
    let mut c = format!("solvapay-mcp usage import {}", quoted(&args.file));
    if let Some(f) = args.format {
        c.push_str(match f {
            crate::cli::ImportFormat::Jsonl => " --format jsonl",
            crate::cli::ImportFormat::Csv => " --format csv",
        });
    }
    c
}

fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// The progress of the events sent: a bar on a terminal, else a line per batch.
enum Progress {
    Bar(ProgressBar),
    Lines {
        total: usize,
        sent: usize,
        batches: usize,
    },
}

impl Progress {
    fn new(total: usize) -> Self {
        // indicatif also hides its bar on a terminal with TERM unset or `dumb`: plain lines then.
        let target = ProgressDrawTarget::stderr();
        if !std::io::stderr().is_terminal() || target.is_hidden() {
            return Self::Lines {
                total,
                sent: 0,
                batches: 0,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), target);
        let style = ProgressStyle::with_template(
            "{bar:40.cyan/blue} {pos}/{len} events  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self::Bar(bar)
    }

    fn batch(&mut self, outcome: &BatchOutcome) {
        let n = outcome.lines.len();
        match self {
            Self::Bar(bar) => bar.inc(n as u64),
            Self::Lines {
                total,
                sent,
                batches,
            } => {
                *sent += n;
                *batches += 1;
                let done = outcome.lines.iter().filter(|l| l.status.is_done()).count();
                eprintln!(
                    "batch {batches}: {n} events sent ({done} recorded or duplicates); {sent} of {total}",
                );
            }
        }
    }

    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_quotes_what_a_shell_would_split() {
        assert_eq!(quoted(Path::new("data/u.jsonl")), "data/u.jsonl");
        assert_eq!(quoted(Path::new("my file's.csv")), r"'my file'\''s.csv'");
    }
}
