//! `POST /v1/sdk/usages` and `POST /v1/sdk/usages/bulk` (BEHAVIOUR §4).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use crate::sandbox::billing;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model;
use crate::sandbox::util::{Fields, fmt_ts, json_object, new_id, new_ref, parse_ts};
use crate::sandbox::{AppState, St};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/usages", post(record))
        .route("/v1/sdk/usages/bulk", post(record_bulk))
}

const MAX_BULK: usize = 1000;

/// One validated usage event.
struct Event {
    customer_ref: String,
    product_ref: Option<String>,
    purchase_ref: Option<String>,
    action_type: String,
    units: i64,
    outcome: String,
    idempotency_key: Option<String>,
    ts: String,
    body: Map<String, Value>,
}

/// Validate one event (§4.2); problems are recorded in `errors` under `prefix`.
fn parse_event(
    map: &Map<String, Value>,
    now: OffsetDateTime,
    skew: Duration,
    prefix: &str,
    errors: &mut Vec<Value>,
) -> Option<Event> {
    let mut f = Fields::new(map);
    let customer_ref = f.str_req("customerRef", 1, 20);
    let product_ref = f.str_opt("productRef", 0, 20).filter(|s| !s.is_empty());
    let purchase_ref = f.str_opt("purchaseRef", 0, 20).filter(|s| !s.is_empty());
    let action_type = f.enum_opt(
        "actionType",
        &[
            "transaction",
            "api_call",
            "hour",
            "email",
            "storage",
            "custom",
        ],
    );
    let outcome = f.enum_opt("outcome", &["success", "paywall", "fail"]);
    let units = f.int_opt("units", 0, 100_000);
    let key = f.str_opt("idempotencyKey", 1, 256);
    let raw_ts = f.str_opt("timestamp", 1, 64);
    f.object_opt("metadata");
    f.str_opt("description", 0, 1000);
    f.str_opt("errorMessage", 0, 5000);
    if map
        .get("duration")
        .is_some_and(|d| !d.is_null() && !d.as_f64().is_some_and(|n| n >= 0.0))
    {
        f.fail("duration", "duration must be a number not less than 0");
    }
    let ts = match raw_ts.as_deref().map(|raw| parse_ts(raw).map(|t| t + skew)) {
        None => Some(now),
        Some(None) => {
            f.fail("timestamp", "timestamp must be an ISO 8601 date-time");
            None
        }
        Some(Some(t)) if t > now + Duration::hours(24) => {
            f.fail(
                "timestamp",
                "timestamp must not be more than 24 hours in the future",
            );
            None
        }
        Some(Some(t)) if t < now - Duration::days(30) => {
            f.fail(
                "timestamp",
                "timestamp must not be more than 30 days in the past",
            );
            None
        }
        Some(Some(t)) => Some(t),
    };
    if let Err(e) = f.finish() {
        if let Some(Value::Array(list)) = e.errors {
            for mut item in list {
                if let (false, Some(path)) = (
                    prefix.is_empty(),
                    item.get_mut("path").and_then(Value::as_array_mut),
                ) {
                    path.insert(0, prefix.into());
                }
                errors.push(item);
            }
        }
        return None;
    }
    Some(Event {
        customer_ref: customer_ref?,
        product_ref,
        purchase_ref,
        action_type: action_type.unwrap_or_else(|| "api_call".into()),
        units: units.unwrap_or(1),
        outcome: outcome.unwrap_or_else(|| "success".into()),
        idempotency_key: key,
        ts: fmt_ts(ts?),
        body: map.clone(),
    })
}

fn validation_failed(errors: Vec<Value>) -> ApiError {
    ApiError::bad_request("Validation failed").with_errors(Value::Array(errors))
}

/// Store one event (or recognise a replay) and debit credits (§4.1, §4.3). Returns
/// `(result, newly_inserted)`.
///
/// A replay answers as SolvaPay does (§4.3: 200, the first call's `reference`, `creditDebit.reason
/// "duplicate"`, nothing stored, the first event wins, whatever the new body says). SolvaPay's docs
/// are silent on a replay whose body differs, so the sandbox adds the stored event as `event`
/// (reference, customerRef, productRef, actionType, units, outcome, timestamp): an extra field a
/// client may ignore, and what lets the MCP tools tell a retry from a reused `requestId`.
fn process(tx: &Transaction<'_>, e: &Event, now: OffsetDateTime) -> ApiResult<(Value, bool)> {
    if let Some(key) = &e.idempotency_key {
        let prior = tx
            .query_row(
                "SELECT reference, customer_ref, product_ref, action_type, units, outcome, ts
                 FROM usage_events WHERE idempotency_key = ?1",
                [key],
                |r| {
                    Ok(json!({
                        "reference": r.get::<_, String>(0)?,
                        "customerRef": r.get::<_, String>(1)?,
                        "productRef": r.get::<_, Option<String>>(2)?,
                        "actionType": r.get::<_, String>(3)?,
                        "units": r.get::<_, i64>(4)?,
                        "outcome": r.get::<_, String>(5)?,
                        "timestamp": r.get::<_, String>(6)?,
                    }))
                },
            )
            .optional()?;
        if let Some(stored) = prior {
            let answer = json!({
                "reference": stored.get("reference"),
                "creditDebit": {"debited": false, "reason": "duplicate"},
                "event": stored,
            });
            return Ok((answer, false));
        }
    }
    let debit = credit_debit(tx, e)?;
    let reference = new_ref("usage");
    tx.execute(
        "INSERT INTO usage_events (id, reference, customer_ref, product_ref, purchase_ref, action_type,
           units, outcome, idempotency_key, ts, body, credit_debit, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            new_id(), reference, e.customer_ref, e.product_ref, e.purchase_ref, e.action_type,
            e.units, e.outcome, e.idempotency_key, e.ts, Value::Object(e.body.clone()).to_string(),
            debit.as_ref().map(Value::to_string), fmt_ts(now)
        ],
    )?;
    let mut out = json!({"reference": reference});
    if let (Some(d), Some(m)) = (debit, out.as_object_mut()) {
        m.insert("creditDebit".into(), d);
    }
    Ok((out, true))
}

/// §4.1 / Sandbox choices 9.6, 9.7, 9.11: debit `units × creditsPerUnit` from a pre-paid
/// usage-based purchase; otherwise say why not. Non-`success` events debit nothing.
fn credit_debit(tx: &Transaction<'_>, e: &Event) -> ApiResult<Option<Value>> {
    let skip = |reason: &str| Ok(Some(json!({"debited": false, "reason": reason})));
    let Some(customer) = model::find_customer(tx, "reference", &e.customer_ref)? else {
        return skip("customer_not_found");
    };
    if e.outcome != "success" {
        return Ok(None);
    }
    let purchase = match (&e.purchase_ref, &e.product_ref) {
        (Some(r), _) => model::find_purchase(tx, r)?.filter(|p| p.customer_id == customer.id),
        (None, Some(r)) => match model::find_product(tx, r)? {
            Some(prod) => model::purchases_where(
                tx,
                "customer_id = ?1 AND product_id = ?2",
                &[&customer.id, &prod.id],
            )?
            .into_iter()
            .find(|p| billing::grants_access(&p.status)),
            None => None,
        },
        (None, None) => return skip("no_product_ref"),
    };
    let Some(p) = purchase.filter(|p| billing::grants_access(&p.status)) else {
        return skip("no_active_purchase");
    };
    let cpu = p.snap_i64("creditsPerUnit");
    let post_paid =
        p.plan_snapshot.get("billingModel").and_then(Value::as_str) == Some("post-paid");
    if p.snap_str("planType") != "usage-based" || cpu <= 0 || post_paid {
        return skip("plan_not_credit_based");
    }
    let amount = e.units * cpu;
    let balance = customer.credit_balance - amount;
    tx.execute(
        "UPDATE customers SET credit_balance = ?1 WHERE id = ?2",
        params![balance, customer.id],
    )?;
    Ok(Some(
        json!({"debited": true, "amount": amount, "unitsRemaining": balance.max(0) / cpu}),
    ))
}

/// `POST /v1/sdk/usages` → `{success, reference, creditDebit?}`.
async fn record(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let now = st.clock.now();
    let mut errors = Vec::new();
    let event = parse_event(&map, now, st.clock.skew(), "", &mut errors)
        .ok_or_else(|| validation_failed(errors))?;
    st.swept_tx(now, move |tx, now| {
        let (mut result, _) = process(tx, &event, now)?;
        if let Some(m) = result.as_object_mut() {
            m.insert("success".into(), true.into());
        }
        Ok(Json(result))
    })
    .await
}

/// `POST /v1/sdk/usages/bulk` `{events: [1..=1000]}`: the whole batch is validated first; one bad
/// event → 400 and nothing stored.
async fn record_bulk(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let now = st.clock.now();
    let Some(Value::Array(raw)) = map.get("events") else {
        return Err(validation_failed(vec![
            json!({"code": "invalid_type", "path": ["events"], "message": "events must be an array"}),
        ]));
    };
    if raw.is_empty() || raw.len() > MAX_BULK {
        return Err(validation_failed(vec![json!({
            "code": "invalid_length", "path": ["events"],
            "message": format!("events must contain between 1 and {MAX_BULK} items"),
        })]));
    }
    let mut errors = Vec::new();
    let skew = st.clock.skew();
    let mut events = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let prefix = format!("events.{i}");
        match item {
            Value::Object(m) => events.extend(parse_event(m, now, skew, &prefix, &mut errors)),
            _ => errors.push(json!({"code": "invalid_type", "path": [prefix], "message": "each event must be an object"})),
        }
    }
    if !errors.is_empty() {
        return Err(validation_failed(errors));
    }
    st.swept_tx(now, move |tx, now| {
        let mut results = Vec::with_capacity(events.len());
        let mut inserted = 0;
        for e in &events {
            let (r, new) = process(tx, e, now)?;
            inserted += usize::from(new);
            results.push(r);
        }
        Ok(Json(
            json!({"success": true, "inserted": inserted, "results": results}),
        ))
    })
    .await
}
