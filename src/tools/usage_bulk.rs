//! Sending a validated batch of usage events in chunks of 1000, and the per-event report.
//!
//! Chunks go out in order. At the first chunk that fails, sending **stops**: the failure is usually
//! not specific to the chunk (bad key, outage, rate limit), and every later event is reported
//! `not_sent` with its key, so repeating the call (or just those events, with `requestId` = key)
//! finishes the job without double counting. The failed chunk's events are `failed` when SolvaPay
//! definitely refused them (a 4xx: it validates a whole chunk before storing any), else `unknown`.
//! When the very first chunk is refused, nothing was recorded and the tool fails outright.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Summary;
use crate::api::{ApiError, MAX_BULK_EVENTS, SolvaPayClient};
use crate::error::ToolError;
use crate::model::usage::{BulkUsageResponse, UsageEvent};

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EventStatus {
    /// Stored now.
    Recorded,
    /// Already stored by an earlier call with the same key; not counted again.
    Duplicate,
    /// Refused by SolvaPay; not stored.
    Failed,
    /// Not sent because an earlier chunk failed.
    NotSent,
    /// Sent, but no answer says whether it was stored.
    Unknown,
}

/// One event's line in the report.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventReport {
    /// Position in `events`.
    index: usize,
    status: EventStatus,
    /// Usage record reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// Why no credit was debited, when SolvaPay says.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Given for failed / not_sent / unknown events: resend with requestId = this key to stay safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
}

/// The outcome of `record_bulk_usage`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BulkUsageResult {
    /// True when every event is recorded or duplicate.
    success: bool,
    /// Events newly stored (SolvaPay's count).
    inserted: u64,
    recorded: usize,
    duplicates: usize,
    failed: usize,
    not_sent: usize,
    unknown: usize,
    /// Requests made (chunks of at most 1000).
    requests: usize,
    /// Why sending stopped, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// One entry per event, in input order.
    events: Vec<EventReport>,
}

impl Summary for BulkUsageResult {
    fn summary(&self) -> String {
        let n = self.events.len();
        let mut s = format!(
            "{} of {n} usage events recorded, {} duplicates",
            self.recorded, self.duplicates
        );
        for (count, what) in [
            (self.failed, "failed"),
            (self.unknown, "outcome unknown"),
            (self.not_sent, "not sent"),
        ] {
            if count > 0 {
                s.push_str(&format!(", {count} {what}"));
            }
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(". Stopped: {e}"));
        }
        s
    }
}

fn report(index: usize, status: EventStatus, event: &UsageEvent) -> EventReport {
    EventReport {
        index,
        status,
        reference: None,
        reason: None,
        idempotency_key: Some(event.idempotency_key.clone()),
    }
}

/// Reports for a chunk SolvaPay answered; results missing from the answer are `unknown`.
fn answered(start: usize, chunk: &[UsageEvent], answer: BulkUsageResponse) -> Vec<EventReport> {
    let mut results = answer.results.into_iter();
    chunk
        .iter()
        .enumerate()
        .map(|(j, event)| match results.next() {
            Some(r) => {
                let debit = r.credit_debit;
                let duplicate = debit.as_ref().is_some_and(|d| d.is_duplicate());
                EventReport {
                    index: start + j,
                    status: if duplicate {
                        EventStatus::Duplicate
                    } else {
                        EventStatus::Recorded
                    },
                    reference: r.reference,
                    reason: debit.and_then(|d| d.reason).filter(|_| !duplicate),
                    idempotency_key: None,
                }
            }
            None => report(start + j, EventStatus::Unknown, event),
        })
        .collect()
}

/// Sends `events` in chunks of [`MAX_BULK_EVENTS`] and reports every event (see the module docs).
pub(crate) async fn send_chunks(
    api: &SolvaPayClient,
    events: &[UsageEvent],
) -> Result<BulkUsageResult, ToolError> {
    let mut reports = Vec::with_capacity(events.len());
    let (mut inserted, mut requests, mut error, mut warnings) = (0, 0, None, Vec::new());
    for (k, chunk) in events.chunks(MAX_BULK_EVENTS).enumerate() {
        let start = k * MAX_BULK_EVENTS;
        if error.is_some() {
            reports.extend(
                chunk
                    .iter()
                    .enumerate()
                    .map(|(j, e)| report(start + j, EventStatus::NotSent, e)),
            );
            continue;
        }
        requests += 1;
        match api.record_usage_bulk(chunk).await {
            Ok(answer) => {
                if answer.results.len() != chunk.len() {
                    warnings.push(format!(
                        "request {requests}: SolvaPay returned {} results for {} events; unmatched events are unknown",
                        answer.results.len(),
                        chunk.len()
                    ));
                }
                let before = reports.len();
                inserted += answer.inserted.unwrap_or(0);
                let fallback = answer.inserted.is_none();
                reports.extend(answered(start, chunk, answer));
                if fallback {
                    inserted += reports[before..]
                        .iter()
                        .filter(|r| r.status == EventStatus::Recorded)
                        .count() as u64;
                }
            }
            Err(e) if k == 0 && !e.outcome_unknown() => return Err(nothing_recorded(e)),
            Err(e) => {
                let status = if e.outcome_unknown() {
                    EventStatus::Unknown
                } else {
                    EventStatus::Failed
                };
                reports.extend(
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(j, ev)| report(start + j, status, ev)),
                );
                error = Some(ToolError::from(e).message);
            }
        }
    }
    Ok(tally(reports, inserted, requests, error, warnings))
}

fn nothing_recorded(e: ApiError) -> ToolError {
    let mut err = ToolError::from(e);
    err.message = format!("No usage events were recorded: {}", err.message);
    err
}

fn tally(
    events: Vec<EventReport>,
    inserted: u64,
    requests: usize,
    error: Option<String>,
    mut warnings: Vec<String>,
) -> BulkUsageResult {
    let count = |s: EventStatus| events.iter().filter(|r| r.status == s).count();
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &events {
        if let Some(reason @ ("customer_not_found" | "no_active_purchase")) = r.reason.as_deref() {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    warnings.extend(
        reasons
            .into_iter()
            .map(|(reason, n)| format!("{n} events: {reason}; no credit was debited for them")),
    );
    BulkUsageResult {
        success: count(EventStatus::Recorded) + count(EventStatus::Duplicate) == events.len(),
        inserted,
        recorded: count(EventStatus::Recorded),
        duplicates: count(EventStatus::Duplicate),
        failed: count(EventStatus::Failed),
        not_sent: count(EventStatus::NotSent),
        unknown: count(EventStatus::Unknown),
        requests,
        error,
        warnings,
        events,
    }
}
