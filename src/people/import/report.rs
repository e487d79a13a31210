//! What one batch's `record_bulk_usage` answer says about each of its lines, and the summary a
//! run ends with.

use std::fmt::Write as _;

use rmcp::model::CallToolResult;
use serde::Deserialize;

use super::file::Event;
use super::record::Status;
use crate::model::usage::StoredUsageWire;

/// The parts of `record_bulk_usage`'s structured result the import reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkAnswer {
    #[serde(default)]
    warnings: Vec<String>,
    /// The exceptions; an event not listed is recorded.
    #[serde(default)]
    events: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    index: usize,
    status: Status,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    idempotency_key: Option<String>,
    #[serde(default)]
    earlier: Option<StoredUsageWire>,
}

/// The error envelope of a tool error (`{"success": false, "error": {…}}`).
#[derive(Debug, Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Debug, Deserialize)]
struct EnvelopeError {
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    outcome: Option<String>,
}

/// One line's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineOutcome {
    pub(crate) line: u64,
    pub(crate) status: Status,
    /// Why, for anything but a plain recorded or duplicate.
    pub(crate) reason: Option<String>,
}

/// A batch's answer, line by line.
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    pub(crate) lines: Vec<LineOutcome>,
    pub(crate) warnings: Vec<String>,
}

impl BatchOutcome {
    /// Whether sending should stop: something failed, or its fate is unknown (the cause is rarely
    /// the batch itself: a key, an outage, a limit). A conflict is the line's own problem.
    pub(crate) fn stops(&self) -> bool {
        self.lines
            .iter()
            .any(|l| matches!(l.status, Status::Failed | Status::Unknown | Status::NotSent))
    }

    /// Every line of `batch` with one status: the batch could not be sent, or no answer came.
    pub(crate) fn all(batch: &[Event], status: Status, reason: &str) -> Self {
        Self {
            lines: batch
                .iter()
                .map(|e| LineOutcome {
                    line: e.line,
                    status,
                    reason: Some(reason.to_owned()),
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// Reads the tool's answer to `batch`.
    pub(crate) fn read(batch: &[Event], result: &CallToolResult) -> Self {
        if result.is_error == Some(true) {
            return Self::refused(batch, &text(result));
        }
        let answer = result
            .structured_content
            .clone()
            .and_then(|v| serde_json::from_value::<BulkAnswer>(v).ok());
        let Some(answer) = answer else {
            return Self::all(
                batch,
                Status::Unknown,
                "record_bulk_usage answered without a readable report",
            );
        };
        let mut lines: Vec<LineOutcome> = batch
            .iter()
            .map(|e| LineOutcome {
                line: e.line,
                status: Status::Recorded,
                reason: None,
            })
            .collect();
        for entry in answer.events {
            let Some(line) = lines.get_mut(entry.index) else {
                continue;
            };
            let reason = match (entry.reason, entry.earlier) {
                (Some(r), Some(earlier)) => Some(format!(
                    "{r}; {} holds {}",
                    entry
                        .idempotency_key
                        .map_or_else(|| "its requestId".to_owned(), |k| format!("{k:?}")),
                    earlier.describe()
                )),
                (r, _) => r,
            };
            line.status = entry.status;
            line.reason = reason;
        }
        Self {
            lines,
            warnings: answer.warnings,
        }
    }

    /// A tool error: nothing of the batch was recorded (the tool fails outright only then), or,
    /// when the error says so, its fate is unknown. An event the tool refused is named by its line.
    fn refused(batch: &[Event], text: &str) -> Self {
        let Ok(Envelope { error }) = serde_json::from_str::<Envelope>(text) else {
            return Self::all(batch, Status::Failed, text.trim());
        };
        let status = if error.outcome.as_deref() == Some("unknown") {
            Status::Unknown
        } else {
            Status::Failed
        };
        let culprit = error.field.as_deref().and_then(event_index);
        let mut outcome = Self::all(batch, status, &error.message);
        if let Some(culprit) = culprit.filter(|i| *i < outcome.lines.len()) {
            for (i, line) in outcome.lines.iter_mut().enumerate() {
                if i == culprit {
                    line.status = Status::Failed;
                } else {
                    line.status = Status::NotSent;
                    line.reason =
                        Some("not sent: another event of its batch was refused".to_owned());
                }
            }
        }
        outcome
    }
}

/// `3` of `events[3].timestamp`.
fn event_index(field: &str) -> Option<usize> {
    field
        .strip_prefix("events[")?
        .split(']')
        .next()?
        .parse()
        .ok()
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a run did, for its summary.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Events in the file.
    pub(crate) events: usize,
    /// Done before this run: recorded, duplicates.
    pub(crate) earlier: (usize, usize),
    pub(crate) recorded: usize,
    pub(crate) duplicates: usize,
    /// Lines not done in this run, in file order.
    pub(crate) problems: Vec<LineOutcome>,
    /// Lines this run did not get to (it stopped first).
    pub(crate) not_sent: usize,
    pub(crate) warnings: Vec<String>,
    /// Events of the file with neither a timestamp nor a requestId.
    pub(crate) untimestamped: usize,
}

impl Tally {
    /// Counts a batch's outcome.
    pub(crate) fn add(&mut self, batch: BatchOutcome) {
        // A warning is the tool's, about its batch: said with the batch's lines.
        let lines = match (batch.lines.first(), batch.lines.last()) {
            (Some(a), Some(b)) if a.line != b.line => format!("lines {}-{}", a.line, b.line),
            (Some(a), _) => format!("line {}", a.line),
            _ => String::new(),
        };
        self.warnings
            .extend(batch.warnings.iter().map(|w| format!("{lines}: {w}")));
        for line in batch.lines {
            match line.status {
                Status::Recorded => self.recorded += 1,
                Status::Duplicate => self.duplicates += 1,
                _ => self.problems.push(line),
            }
        }
    }

    fn count(&self, status: Status) -> usize {
        self.problems.iter().filter(|l| l.status == status).count()
    }

    /// Lines not recorded: by this run's answers, or never sent.
    pub(crate) fn unfinished(&self) -> usize {
        self.problems.len() + self.not_sent
    }

    /// The summary: counts, the lines that need attention and why, and how to finish.
    pub(crate) fn render(&self, file: &str, command: &str, interrupted: bool) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{file}: {} events", self.events);
        let (rec, dup) = self.earlier;
        if rec + dup > 0 {
            let _ = writeln!(
                s,
                "  done earlier  {:>6}  ({rec} recorded, {dup} duplicates; not sent again)",
                rec + dup
            );
        }
        let _ = writeln!(s, "  recorded      {:>6}", self.recorded);
        let _ = writeln!(
            s,
            "  duplicates    {:>6}  (already stored; not counted again)",
            self.duplicates
        );
        for (status, label) in [
            (Status::Conflict, "conflicts"),
            (Status::Failed, "failed"),
            (Status::Unknown, "unknown"),
        ] {
            let n = self.count(status);
            if n == 0 && status == Status::Unknown {
                continue;
            }
            let _ = writeln!(s, "  {label:<13} {n:>6}");
            list(&mut s, self.problems.iter().filter(|l| l.status == status));
        }
        let not_sent = self.not_sent + self.count(Status::NotSent);
        let _ = writeln!(s, "  not sent      {not_sent:>6}");
        list(
            &mut s,
            self.problems.iter().filter(|l| l.status == Status::NotSent),
        );
        const WARNINGS_SHOWN: usize = 5;
        for w in self.warnings.iter().take(WARNINGS_SHOWN) {
            let _ = writeln!(s, "  warning: {w}");
        }
        if self.warnings.len() > WARNINGS_SHOWN {
            let _ = writeln!(
                s,
                "  … and {} more warnings",
                self.warnings.len() - WARNINGS_SHOWN
            );
        }
        if self.untimestamped > 0 {
            let _ = writeln!(
                s,
                "  note: {} events have no timestamp or requestId: they are stamped when sent, and their requestIds hold for this exact file only (an edited file would record them again); give them a timestamp",
                self.untimestamped
            );
        }
        let left = self.unfinished();
        if left == 0 && self.recorded + self.duplicates == 0 {
            let _ = write!(
                s,
                "Nothing to send: every event of {file} was recorded by an earlier run."
            );
        } else if left == 0 {
            let _ = write!(s, "Done: every event of {file} is recorded.");
        } else {
            let what = if interrupted {
                "Interrupted"
            } else {
                "Not finished"
            };
            let fix = if self.count(Status::Conflict) + self.count(Status::Failed) > 0 {
                "Fix the lines listed (a conflict needs its own requestId; the edited file is a new import, whose recorded lines come back as duplicates), then re-run"
            } else {
                "Re-run"
            };
            let _ = write!(
                s,
                "{what}: {left} of {} events are not recorded yet. {fix} the same command to send only those: {command}",
                self.events
            );
        }
        s
    }
}

/// The lines, consecutive ones with one reason as one range; at most a screenful.
fn list<'a>(s: &mut String, lines: impl Iterator<Item = &'a LineOutcome>) {
    const SHOWN: usize = 20;
    let mut groups: Vec<(u64, u64, &str)> = Vec::new();
    for l in lines {
        let reason = l.reason.as_deref().unwrap_or("");
        match groups.last_mut() {
            Some((_, last, r)) if *r == reason && *last < l.line => *last = l.line,
            _ => groups.push((l.line, l.line, reason)),
        }
    }
    for (first, last, reason) in groups.iter().take(SHOWN) {
        let at = if first == last {
            format!("line {first}")
        } else {
            format!("lines {first}-{last}")
        };
        let _ = writeln!(s, "    {at}: {reason}");
    }
    if groups.len() > SHOWN {
        let _ = writeln!(s, "    … and {} more", groups.len() - SHOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ContentBlock;
    use serde_json::{Value, json};

    fn batch(lines: &[u64]) -> Vec<Event> {
        lines
            .iter()
            .map(|l| Event {
                line: *l,
                body: serde_json::Map::new(),
            })
            .collect()
    }

    #[test]
    fn unlisted_events_are_recorded_and_a_conflict_names_the_earlier_event() {
        let mut result = CallToolResult::success(vec![]);
        result.structured_content = Some(json!({
            "success": false, "recorded": 1, "duplicates": 1, "conflicts": 1,
            "events": [
                {"index": 1, "status": "duplicate", "reference": "usage_B"},
                {"index": 2, "status": "conflict", "reason": "requestId already used for a different event (differs in units); not recorded",
                 "idempotencyKey": "r-1",
                 "earlier": {"reference": "usage_A", "customerRef": "cus_A1B2C3D4", "actionType": "api_call", "units": 9, "outcome": "success"}}
            ]
        }));
        let outcome = BatchOutcome::read(&batch(&[4, 5, 7]), &result);
        let statuses: Vec<Status> = outcome.lines.iter().map(|l| l.status).collect();
        assert_eq!(
            statuses,
            [Status::Recorded, Status::Duplicate, Status::Conflict]
        );
        let reason = outcome.lines[2].reason.as_deref().unwrap();
        assert!(
            reason.contains("differs in units")
                && reason.contains("usage_A")
                && reason.contains("9 units"),
            "{reason}"
        );
        assert!(!outcome.stops());
    }

    #[test]
    fn a_tool_error_fails_the_batch_or_names_its_line() {
        let error = |envelope: Value| {
            let mut r = CallToolResult::error(vec![ContentBlock::text(envelope.to_string())]);
            r.is_error = Some(true);
            BatchOutcome::read(&batch(&[2, 3]), &r)
        };
        let down = error(
            json!({"success": false, "error": {"code": "UPSTREAM_ERROR", "message": "No usage events were recorded: down", "outcome": "unknown"}}),
        );
        assert!(down.stops());
        assert!(down.lines.iter().all(|l| l.status == Status::Unknown));
        let late = error(
            json!({"success": false, "error": {"code": "VALIDATION_ERROR", "message": "events[1].timestamp: too old", "field": "events[1].timestamp"}}),
        );
        assert_eq!(late.lines[0].status, Status::NotSent);
        assert_eq!(late.lines[1].status, Status::Failed);
        assert_eq!(
            late.lines[1].reason.as_deref(),
            Some("events[1].timestamp: too old")
        );
    }

    #[test]
    fn the_summary_says_how_to_finish() {
        let mut tally = Tally {
            events: 5,
            earlier: (1, 0),
            ..Tally::default()
        };
        tally.add(BatchOutcome {
            lines: vec![
                LineOutcome {
                    line: 2,
                    status: Status::Recorded,
                    reason: None,
                },
                LineOutcome {
                    line: 3,
                    status: Status::Failed,
                    reason: Some("refused".into()),
                },
                LineOutcome {
                    line: 4,
                    status: Status::Failed,
                    reason: Some("refused".into()),
                },
            ],
            warnings: vec!["1 events: customer_not_found: SolvaPay knows no such customer".into()],
        });
        tally.not_sent = 1;
        let page = tally.render("u.jsonl", "solvapay-mcp usage import u.jsonl", false);
        assert!(page.contains("    lines 3-4: refused"), "{page}");
        assert!(
            page.contains("  warning: lines 2-4: 1 events: customer_not_found"),
            "{page}"
        );
        assert!(page.contains("  not sent           1"), "{page}");
        assert!(
            page.ends_with(
                "then re-run the same command to send only those: solvapay-mcp usage import u.jsonl"
            ),
            "{page}"
        );
        let done = Tally {
            events: 2,
            earlier: (2, 0),
            ..Tally::default()
        };
        assert!(
            done.render("u.jsonl", "x", false)
                .ends_with("recorded by an earlier run.")
        );
    }
}
