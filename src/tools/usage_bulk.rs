//! Sending a validated batch of usage events in chunks of 1000, and the per-event report.
//!
//! Chunks go out in order. At the first chunk that fails, sending **stops**: the failure is usually
//! not specific to the chunk (bad key, outage, rate limit), and every later event is reported
//! `not_sent` with its key, so repeating the call (or just those events, with `requestId` = key)
//! finishes the job without double counting. The failed chunk's events are `failed` when SolvaPay
//! definitely refused them (a 4xx: it validates a whole chunk before storing any), else `unknown`.
//! When the very first chunk is refused, nothing was recorded and the tool fails outright.
//!
//! An event whose key SolvaPay already holds for a *different* event (a reused `requestId`) is a
//! `conflict`, not a duplicate: it was not recorded, and the report names the earlier event.
//!
//! The report lists exceptions only. A plainly recorded event is a count, not an entry: its usage
//! reference is not repeated back (10,000 of them were 170 KB of the model's context). A reason
//! that is normal for the plan (`plan_not_credit_based`, `no_product_ref`) is no exception either;
//! only a reason [`skip_warning`] words (the event was recorded but not billed as meant) is.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Summary;
use super::usage::UNCOMPARED_DUPLICATE;
use crate::api::{ApiError, MAX_BULK_EVENTS, SolvaPayClient};
use crate::error::ToolError;
use crate::model::usage::{BulkUsageWire, StoredUsage, UsageConflict, UsageEvent, skip_warning};

/// What happened to one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EventStatus {
    /// Stored now.
    Recorded,
    /// Already stored by an earlier call with the same key; not counted again.
    Duplicate,
    /// Its key (requestId) already holds a different event (`earlier`); this one was not recorded.
    Conflict,
    /// Refused by SolvaPay; not stored.
    Failed,
    /// Not sent because an earlier chunk failed.
    NotSent,
    /// Sent, but no answer says whether it was stored.
    Unknown,
}

/// An event the report names: anything but a plain `recorded`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventReport {
    /// Position in `events`.
    index: usize,
    status: EventStatus,
    /// Its usage record (a duplicate's earlier one).
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// Why no credit was debited, when SolvaPay says; for a conflict, how the events differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// To resend safely as requestId (a conflict needs a new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    /// For a conflict: the event stored earlier under the key.
    #[serde(skip_serializing_if = "Option::is_none")]
    earlier: Option<StoredUsage>,
}

/// The outcome of `record_bulk_usage`. Its size follows what went wrong, not the batch: a clean
/// batch of any size is its counts.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BulkUsageResult {
    /// True when every event is recorded or a duplicate of the same event.
    success: bool,
    /// Events newly stored (SolvaPay's count).
    inserted: u64,
    recorded: usize,
    duplicates: usize,
    /// Events whose requestId already holds a different event: not recorded.
    conflicts: usize,
    failed: usize,
    not_sent: usize,
    unknown: usize,
    /// Requests made (chunks of at most 1000).
    requests: usize,
    /// Events whose credits were debited (credit-based plans), when any were.
    #[serde(skip_serializing_if = "Option::is_none")]
    debited: Option<usize>,
    /// Credits debited in all, when any event was debited.
    #[serde(skip_serializing_if = "Option::is_none")]
    credits_debited: Option<i64>,
    /// Why sending stopped, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    /// The exceptions, in input order: every event not recorded, and recorded ones not billed as meant.
    events: Vec<EventReport>,
}

impl BulkUsageResult {
    fn total(&self) -> usize {
        self.recorded
            + self.duplicates
            + self.conflicts
            + self.failed
            + self.not_sent
            + self.unknown
    }
}

impl Summary for BulkUsageResult {
    fn summary(&self) -> String {
        let n = self.total();
        let mut s = format!(
            "{} of {n} usage events recorded, {} duplicates",
            self.recorded, self.duplicates
        );
        if let (Some(events), Some(credits)) = (self.debited, self.credits_debited) {
            s.push_str(&format!(", {credits} credits debited for {events} events"));
        }
        for (count, what) in [
            (
                self.conflicts,
                "conflicting (requestId already used for another event; not recorded)",
            ),
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

/// What a listed event's entry says besides its index and status.
#[derive(Default)]
struct Detail {
    reference: Option<String>,
    reason: Option<String>,
    idempotency_key: Option<String>,
    earlier: Option<StoredUsage>,
}

/// The report being built, one event at a time in input order.
#[derive(Default)]
struct Tally {
    /// Events seen so far (the next one's index).
    seen: usize,
    events: Vec<EventReport>,
    counts: [usize; 6],
    /// Events debited, and the credits debited for them.
    debited: usize,
    credits: i64,
    /// Events recorded without a debit, by SolvaPay's reason.
    reasons: BTreeMap<String, usize>,
    /// Duplicates whose earlier event SolvaPay did not describe (a reused key cannot be ruled out).
    uncompared: usize,
}

impl Tally {
    /// An event SolvaPay answered for: stored now or before, with its record. A recorded event is
    /// listed only when its reason is one to warn about.
    fn stored(&mut self, status: EventStatus, reference: Option<String>, reason: Option<String>) {
        if let Some(r) = &reason {
            *self.reasons.entry(r.clone()).or_default() += 1;
        }
        let warned = reason.as_deref().and_then(skip_warning).is_some();
        let listed = status != EventStatus::Recorded || warned;
        self.push(
            status,
            listed.then(|| Detail {
                reference,
                reason: reason.filter(|_| warned),
                ..Detail::default()
            }),
        );
    }

    /// An event that was not stored (as far as anyone knows): listed with the key to resend it with.
    fn unsent(&mut self, status: EventStatus, event: &UsageEvent) {
        let detail = Detail {
            idempotency_key: Some(event.idempotency_key.clone()),
            ..Detail::default()
        };
        self.push(status, Some(detail));
    }

    /// An event refused because its key holds another: listed with the key and the earlier event.
    fn conflict(&mut self, event: &UsageEvent, conflict: UsageConflict) {
        let reason = format!(
            "requestId already used for a different event (differs in {}); not recorded",
            conflict.fields.join(", ")
        );
        let detail = Detail {
            reason: Some(reason),
            idempotency_key: Some(event.idempotency_key.clone()),
            earlier: Some(conflict.earlier.into()),
            ..Detail::default()
        };
        self.push(EventStatus::Conflict, Some(detail));
    }

    /// Counts the event, and lists it when `listed` gives its details.
    fn push(&mut self, status: EventStatus, listed: Option<Detail>) {
        let index = self.seen;
        self.seen += 1;
        if let Some(count) = self.counts.get_mut(status as usize) {
            *count += 1;
        }
        if let Some(Detail {
            reference,
            reason,
            idempotency_key,
            earlier,
        }) = listed
        {
            self.events.push(EventReport {
                index,
                status,
                reference,
                reason,
                idempotency_key,
                earlier,
            });
        }
    }

    /// A chunk SolvaPay answered; results missing from the answer are `unknown`.
    fn answered(&mut self, chunk: &[UsageEvent], answer: BulkUsageWire) {
        let mut results = answer.results.into_iter();
        for event in chunk {
            match results.next() {
                Some(r) => {
                    if let Some(conflict) = event.body.conflict_with(&r) {
                        self.conflict(event, conflict);
                        continue;
                    }
                    let duplicate = r.is_duplicate();
                    if duplicate && r.event.is_none() {
                        self.uncompared += 1;
                    }
                    let debit = r.credit_debit;
                    if let Some(d) = debit.as_ref().filter(|d| d.debited == Some(true)) {
                        self.debited += 1;
                        self.credits += d.amount.unwrap_or(0);
                    }
                    let (status, reason) = if duplicate {
                        (EventStatus::Duplicate, None)
                    } else {
                        (EventStatus::Recorded, debit.and_then(|d| d.reason))
                    };
                    self.stored(status, r.reference, reason);
                }
                None => self.unsent(EventStatus::Unknown, event),
            }
        }
    }

    fn count(&self, status: EventStatus) -> usize {
        self.counts.get(status as usize).copied().unwrap_or(0)
    }

    fn finish(
        self,
        inserted: u64,
        requests: usize,
        error: Option<String>,
        mut warnings: Vec<String>,
    ) -> BulkUsageResult {
        warnings.extend(self.reasons.iter().filter_map(|(reason, n)| {
            let why = skip_warning(reason)?;
            Some(format!(
                "{n} events: {reason}: {why}; nothing was debited for them"
            ))
        }));
        if self.uncompared > 0 {
            warnings.push(format!(
                "{} duplicates: {UNCOMPARED_DUPLICATE}",
                self.uncompared
            ));
        }
        BulkUsageResult {
            success: self.count(EventStatus::Recorded) + self.count(EventStatus::Duplicate)
                == self.seen,
            inserted,
            recorded: self.count(EventStatus::Recorded),
            duplicates: self.count(EventStatus::Duplicate),
            conflicts: self.count(EventStatus::Conflict),
            failed: self.count(EventStatus::Failed),
            not_sent: self.count(EventStatus::NotSent),
            unknown: self.count(EventStatus::Unknown),
            requests,
            debited: (self.debited > 0).then_some(self.debited),
            credits_debited: (self.debited > 0).then_some(self.credits),
            error,
            warnings,
            events: self.events,
        }
    }
}

/// Sends `events` in chunks of [`MAX_BULK_EVENTS`] and reports every event (see the module docs).
pub(crate) async fn send_chunks(
    api: &SolvaPayClient,
    events: &[UsageEvent],
) -> Result<BulkUsageResult, ToolError> {
    let mut tally = Tally::default();
    let (mut inserted, mut requests, mut error, mut warnings) = (0, 0, None, Vec::new());
    for (k, chunk) in events.chunks(MAX_BULK_EVENTS).enumerate() {
        if error.is_some() {
            chunk
                .iter()
                .for_each(|e| tally.unsent(EventStatus::NotSent, e));
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
                let recorded_before = tally.count(EventStatus::Recorded);
                let counted = answer.inserted;
                tally.answered(chunk, answer);
                inserted += counted.unwrap_or_else(|| {
                    (tally.count(EventStatus::Recorded) - recorded_before) as u64
                });
            }
            Err(e) if k == 0 && !e.outcome_unknown() => return Err(nothing_recorded(e)),
            Err(e) => {
                let status = if e.outcome_unknown() {
                    EventStatus::Unknown
                } else {
                    EventStatus::Failed
                };
                chunk.iter().for_each(|ev| tally.unsent(status, ev));
                error = Some(ToolError::from(e).message());
            }
        }
    }
    Ok(tally.finish(inserted, requests, error, warnings))
}

fn nothing_recorded(e: ApiError) -> ToolError {
    ToolError::from(e).about("No usage events were recorded")
}
