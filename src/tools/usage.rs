//! Usage tools: record one event, or many in chunks of 1000. Every event is sent with an idempotency
//! key (the caller's `requestId`, else [`UsageEvent::derived_key`]), so a retried call cannot count
//! twice; the bulk result says what happened to every event.

use std::collections::HashMap;

use crate::tools::Parameters;
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::usage_bulk::{BulkUsageResult, send_chunks};
use super::{Json, Summary};
use crate::error::ToolError;
use crate::model::dates;
use crate::model::transaction::IsoDate;
use crate::model::usage::{
    ActionType, CreditDebit, EventIdentity, Outcome, UsageBody, UsageEvent, UsageMetadata,
};
use crate::model::{CustomerRef, FieldError, ProductRef, validate};
use crate::server::BillingServer;

/// Most events one `record_bulk_usage` call takes.
const MAX_EVENTS: usize = 10_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RecordUsageArgs {
    /// cus_…
    #[serde(alias = "customerId")]
    customer_ref: String,
    /// prd_…
    #[serde(alias = "productReference")]
    product_ref: String,
    /// success, paywall or fail.
    outcome: Outcome,
    action: Option<String>,
    /// Unique event id, making a repeat safe: repeats are ignored, reuse for another event refused.
    request_id: Option<String>,
    /// Duration, ms.
    action_duration: Option<i64>,
    /// Unit kind (default api_call).
    action_type: Option<ActionType>,
    /// Units, 0-100000 (default 1).
    units: Option<i64>,
    /// ISO 8601 (default now).
    timestamp: Option<String>,
}

/// One event of `record_bulk_usage`: the `record_usage` fields, with `productRef` and `outcome` optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UsageEventArgs {
    #[serde(alias = "customerId")]
    customer_ref: String,
    #[serde(alias = "productReference")]
    product_ref: Option<String>,
    /// Default success.
    outcome: Option<Outcome>,
    action: Option<String>,
    /// Unique event id (recommended).
    request_id: Option<String>,
    action_duration: Option<i64>,
    action_type: Option<ActionType>,
    units: Option<i64>,
    timestamp: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RecordBulkUsageArgs {
    /// 1-10000 events, same fields as record_usage.
    events: Vec<UsageEventArgs>,
}

impl From<RecordUsageArgs> for UsageEventArgs {
    fn from(a: RecordUsageArgs) -> Self {
        Self {
            customer_ref: a.customer_ref,
            product_ref: Some(a.product_ref),
            outcome: Some(a.outcome),
            action: a.action,
            request_id: a.request_id,
            action_duration: a.action_duration,
            action_type: a.action_type,
            units: a.units,
            timestamp: a.timestamp,
        }
    }
}

/// Said of a duplicate whose earlier event SolvaPay did not describe.
pub(super) const UNCOMPARED_DUPLICATE: &str = "SolvaPay already holds an event under this requestId and \
did not say what it held; if this call describes a different event, send it with a new requestId";

/// The outcome of `record_usage`.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageRecorded {
    success: bool,
    /// Usage record reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    /// True when SolvaPay had already recorded this event (same key): nothing counted twice.
    duplicate: bool,
    /// The key sent; pass it as requestId to retry safely.
    idempotency_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_debit: Option<CreditDebit>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

impl Summary for UsageRecorded {
    fn summary(&self) -> String {
        let what = if self.duplicate {
            "Usage event already recorded (duplicate, not counted again)"
        } else {
            "Usage event recorded"
        };
        let reference = self.reference.as_deref().unwrap_or("no reference returned");
        let warn = self
            .warnings
            .first()
            .map(|w| format!(". Warning: {w}"))
            .unwrap_or_default();
        format!("{what}: {reference}{warn}")
    }
}

/// Validates one event into what it says (its key is given by the caller: [`key_one`], [`build_events`]).
fn build_body(a: UsageEventArgs, now: OffsetDateTime) -> Result<UsageBody, FieldError> {
    let units = a.units.unwrap_or(1);
    if !(0..=100_000).contains(&units) {
        return Err(FieldError::new(
            "units",
            format!("must be an integer 0-100000 (got {units})"),
        ));
    }
    if let Some(d) = a.action_duration.filter(|d| *d < 0) {
        return Err(FieldError::new(
            "actionDuration",
            format!("must be ≥ 0 ms (got {d})"),
        ));
    }
    let request_id = validate::opt_text("requestId", a.request_id.as_deref(), 256)?;
    Ok(UsageBody {
        customer_ref: CustomerRef::parse("customerRef", &a.customer_ref)?,
        product_ref: a
            .product_ref
            .as_deref()
            .map(|p| ProductRef::parse("productRef", p))
            .transpose()?,
        action_type: a.action_type.unwrap_or_default(),
        units,
        outcome: a.outcome.unwrap_or_default(),
        duration: a.action_duration,
        metadata: UsageMetadata {
            action: validate::opt_text("action", a.action.as_deref(), 200)?,
            request_id,
        },
        timestamp: timestamp(a.timestamp.as_deref(), now)?,
    })
}

/// The JSON schema of one `record_bulk_usage` event (its fields and their types): what
/// `usage import` types a CSV file's cells by.
pub(crate) fn event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(UsageEventArgs)).unwrap_or_default()
}

/// Checks one `record_bulk_usage` event by the tool's own rules (fields, types, ranges, the
/// timestamp window at `now`), without sending it: `usage import` checks a whole file with it
/// before it sends anything.
pub(crate) fn check_event(
    event: serde_json::Map<String, serde_json::Value>,
    now: OffsetDateTime,
) -> Result<(), FieldError> {
    let args: UsageEventArgs = serde_path_to_error::deserialize(serde_json::Value::Object(event))
        .map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            "event".to_owned()
        } else {
            field
        };
        FieldError::new(field, e.into_inner().to_string())
    })?;
    build_body(args, now).map(|_| ())
}

/// The scope of a derived key: a caller-given timestamp makes the event identifiable across calls
/// (a repeated batch with the same timestamps is the same batch); a server-stamped one is scoped to
/// this call only.
fn scope<'a>(a: &UsageEventArgs, call: &'a str) -> &'a str {
    if a.timestamp.is_some() { "" } else { call }
}

/// One event keyed by its `requestId`, else by its [`UsageBody::identity`].
fn key_one(a: UsageEventArgs, now: OffsetDateTime, call: &str) -> Result<UsageEvent, FieldError> {
    let call = scope(&a, call);
    let body = build_body(a, now)?;
    let idempotency_key = match &body.metadata.request_id {
        Some(id) => id.clone(),
        None => body.identity(call).key(0),
    };
    Ok(UsageEvent {
        body,
        idempotency_key,
    })
}

/// The event time, UTC to the millisecond: the caller's (within SolvaPay's 30 days back / 24 h ahead), or now.
fn timestamp(raw: Option<&str>, now: OffsetDateTime) -> Result<String, FieldError> {
    let at = match raw {
        Some(r) => IsoDate::parse("timestamp", r)?.start_utc(),
        None => now,
    };
    let earliest = now.checked_sub(Duration::days(30));
    let latest = now.checked_add(Duration::hours(24));
    if earliest.is_none_or(|e| at < e) || latest.is_none_or(|l| at > l) {
        return Err(FieldError::new(
            "timestamp",
            "must be within the last 30 days and at most 24 h ahead",
        ));
    }
    // Millisecond precision: an event in the same second as a purchase's start still falls inside
    // its period.
    Ok(dates::timestamp(at))
}

/// Which tool call this is: a random per-process nonce and the JSON-RPC request id (unique within
/// one session), so derived keys of separate calls never collide.
fn call_scope(context: &RequestContext<RoleServer>) -> String {
    static NONCE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let nonce = NONCE.get_or_init(rand::random::<u64>);
    format!(
        "{nonce:016x}/{}",
        serde_json::to_string(&context.id).unwrap_or_default()
    )
}

/// Validates every event before anything is sent (errors name `events[i].field`), refuses a
/// `requestId` used twice, and gives identical unkeyed events distinct keys by occurrence.
fn build_events(args: Vec<UsageEventArgs>, call: &str) -> Result<Vec<UsageEvent>, FieldError> {
    if args.is_empty() || args.len() > MAX_EVENTS {
        let n = args.len();
        return Err(FieldError::new(
            "events",
            format!("must hold 1-{MAX_EVENTS} events (got {n})"),
        ));
    }
    let now = OffsetDateTime::now_utc();
    let mut given: HashMap<String, usize> = HashMap::new();
    let mut occurrences: HashMap<EventIdentity, usize> = HashMap::new();
    let mut events = Vec::with_capacity(args.len());
    for (i, a) in args.into_iter().enumerate() {
        let call = scope(&a, call);
        let body = build_body(a, now).map_err(|e| e.nested(&format!("events[{i}]")))?;
        let idempotency_key = match &body.metadata.request_id {
            Some(id) => {
                if let Some(first) = given.insert(id.clone(), i) {
                    return Err(FieldError::new(
                        format!("events[{i}].requestId"),
                        format!("repeats events[{first}].requestId; each event needs its own"),
                    ));
                }
                id.clone()
            }
            None => {
                let identity = body.identity(call);
                let n = occurrences.entry(identity).or_default();
                let key = identity.key(*n);
                *n += 1;
                key
            }
        };
        events.push(UsageEvent {
            body,
            idempotency_key,
        });
    }
    Ok(events)
}

#[tool_router(router = usage_tools, vis = "pub(crate)")]
impl BillingServer {
    // A requestId SolvaPay already holds for a different event is refused (VALIDATION_ERROR naming
    // both events) rather than reported as a duplicate: the new event was not recorded.
    #[tool(
        description = "Record one usage event. Not idempotent: a repeated call counts again unless it carries the same requestId or timestamp (then it is a duplicate, not counted). Returns its reference and any credit debit."
    )]
    async fn record_usage(
        &self,
        Parameters(args): Parameters<RecordUsageArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<UsageRecorded>, ToolError> {
        let event = key_one(
            args.into(),
            OffsetDateTime::now_utc(),
            &call_scope(&context),
        )?;
        let answer = self.api().record_usage(&event).await?;
        if let Some(conflict) = event.body.conflict_with(&answer) {
            return Err(ToolError::invalid(
                "requestId",
                conflict.describe(&event.idempotency_key),
            ));
        }
        let duplicate = answer.is_duplicate();
        let credit_debit = answer.credit_debit.map(CreditDebit::from);
        let mut warnings: Vec<String> = credit_debit
            .iter()
            .filter_map(CreditDebit::warning)
            .collect();
        if duplicate && answer.event.is_none() {
            // SolvaPay did not say what the earlier event held: a reused requestId for another
            // event would look the same, so say so rather than report a plain duplicate.
            warnings.insert(0, UNCOMPARED_DUPLICATE.to_owned());
        }
        Ok(Json(UsageRecorded {
            success: answer.success,
            reference: answer.reference,
            duplicate,
            idempotency_key: event.idempotency_key,
            warnings,
            credit_debit,
        }))
    }

    #[tool(
        description = "Record many usage events (chunks of 1000; this server's own retries never double count). Not idempotent: a repeated call counts its events again unless each has a requestId or timestamp. Returns every event's status."
    )]
    async fn record_bulk_usage(
        &self,
        Parameters(args): Parameters<RecordBulkUsageArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<BulkUsageResult>, ToolError> {
        let events = build_events(args.events, &call_scope(&context))?;
        Ok(Json(send_chunks(self.api(), &events).await?))
    }
}
