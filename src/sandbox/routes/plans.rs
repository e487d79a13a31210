//! `/v1/sdk/products/{productRef}/plans` and `/v1/sdk/products/{productRef}/plans/{planRef}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Transaction, params};
use serde_json::{Map, Value, json};

use super::paging;
use crate::model::validate;
use crate::sandbox::billing::{self, PROVIDER_CURRENCY};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Plan};
use crate::sandbox::util::{Fields, fmt_ts, json_object, new_id, new_ref, query_map};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/v1/sdk/products/{productRef}/plans",
            get(list).post(create),
        )
        .route(
            "/v1/sdk/products/{productRef}/plans/{planRef}",
            get(fetch).put(update).delete(remove),
        )
}

const CYCLES: &[&str] = &["weekly", "monthly", "quarterly", "yearly", "custom"];
const PASS_THROUGH: &[&str] = &[
    "features",
    "limits",
    "metadata",
    "overagePolicy",
    "usageTracking",
    "billingStrategy",
    "prorationPolicy",
    "returnPolicy",
    "fulfillment",
    "warranty",
];

/// Sandbox choice 1.6 / 9.13: pricing fields the `/v1/sdk` plan routes store but do not apply or echo.
pub(crate) const STRIPPED_FIELDS: &[&str] = &[
    "setupFee",
    "trialDays",
    "rolloverUnusedUnits",
    "usageTiers",
    "pricingTiers",
];

/// Validate a create (`existing = None`) or update body and apply it onto `plan`.
fn apply(map: &Map<String, Value>, plan: &mut Plan, creating: bool) -> ApiResult<()> {
    let mut f = Fields::new(map);
    let name = if creating {
        f.str_req("name", 2, 200)
    } else {
        f.str_opt("name", 2, 200)
    };
    let description = f.str_opt("description", 0, 500);
    let kind = if creating {
        f.enum_opt("type", &["recurring", "usage-based", "one-time", "hybrid"])
    } else {
        None
    };
    let cycle = f.enum_opt("billingCycle", CYCLES);
    let model_ = f.enum_opt("billingModel", &["pre-paid", "post-paid"]);
    let price = f.int_opt("price", 0, 10_000_000);
    let currency = f.str_opt("currency", 3, 3);
    let base_price = f.int_opt("basePrice", 0, 10_000_000);
    let free_units = f.int_opt("freeUnits", 0, i64::from(i32::MAX));
    let limit = f.int_opt("limit", 0, i64::from(i32::MAX));
    let credits = f.int_opt("creditsPerUnit", 1, i64::from(i32::MAX));
    let default = f.bool_opt("default");
    let status = f.enum_opt("status", &["active", "inactive", "archived"]);
    let hidden = f.bool_opt("hidden");
    f.enum_opt("taxBehavior", &["auto", "inclusive", "exclusive"]);
    for key in [
        "accessExpiryDays",
        "maxActiveUsers",
        "cancellationNoticeDays",
        "trialDays",
    ] {
        f.int_opt(key, 0, i64::from(i32::MAX));
    }
    f.int_opt("setupFee", 0, 10_000_000);
    f.bool_opt("autoRenew");
    f.bool_opt("rolloverUnusedUnits");
    for key in PASS_THROUGH {
        f.object_opt(key);
    }
    if !matches!(
        map.get("pricingOptions"),
        None | Some(Value::Array(_) | Value::Null)
    ) {
        f.fail("pricingOptions", "pricingOptions must be an array");
    }
    f.finish()?;
    if let Some(n) = &name {
        validate::name("name", n, 2, 200)
            .map_err(|e| ApiError::bad_request(format!("name {}", e.message)))?;
    }
    if let Some(c) = &currency
        && !c.eq_ignore_ascii_case(PROVIDER_CURRENCY)
    {
        return Err(ApiError::bad_request(format!(
            "Currency {c} is not supported for this provider; available currencies: {PROVIDER_CURRENCY}"
        )));
    }
    if let Some(v) = name {
        plan.name = v.trim().to_owned();
    }
    if description.is_some() {
        plan.description = description;
    }
    if let Some(v) = kind {
        plan.kind = v;
    }
    if cycle.is_some() {
        plan.billing_cycle = cycle;
    }
    if model_.is_some() {
        plan.billing_model = model_;
    }
    if let Some(v) = price {
        plan.price = v;
    }
    if let Some(v) = currency {
        plan.currency = v.to_ascii_uppercase();
    }
    if base_price.is_some() {
        plan.base_price = base_price;
    }
    if let Some(v) = free_units {
        plan.free_units = v;
    }
    if let Some(v) = limit {
        plan.limit_units = v;
    }
    if credits.is_some() {
        plan.credits_per_unit = credits;
    }
    if let Some(v) = default {
        plan.is_default = v;
    }
    if let Some(v) = status {
        plan.status = v;
    }
    if let Some(v) = hidden {
        plan.hidden = v;
    }
    // §1.6: freeUnits on create of a usage-based plan is zeroed; an update can set it.
    if creating && plan.kind == "usage-based" {
        plan.free_units = 0;
    }
    for key in PASS_THROUGH.iter().chain(
        [
            "accessExpiryDays",
            "maxActiveUsers",
            "taxBehavior",
            "autoRenew",
        ]
        .iter(),
    ) {
        if let Some(v) = map.get(*key).filter(|v| !v.is_null()) {
            plan.extra.insert((*key).to_owned(), v.clone());
        }
    }
    let mut stripped = plan
        .extra
        .get("stripped")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for key in STRIPPED_FIELDS {
        if let Some(v) = map.get(*key).filter(|v| !v.is_null()) {
            stripped.insert((*key).to_owned(), v.clone());
        }
    }
    if !stripped.is_empty() {
        plan.extra
            .insert("stripped".into(), Value::Object(stripped));
    }
    let needs_cycle = matches!(plan.kind.as_str(), "recurring" | "hybrid")
        || (plan.kind == "usage-based" && plan.billing_model.as_deref() == Some("post-paid"));
    if needs_cycle && plan.billing_cycle.is_none() {
        return Err(ApiError::bad_request(format!(
            "billingCycle is required for {} plans",
            if plan.kind == "usage-based" {
                "post-paid usage-based"
            } else {
                &plan.kind
            }
        )));
    }
    if plan.is_default && billing::requires_payment(plan) && plan.kind != "usage-based" {
        return Err(ApiError::bad_request(
            "Only free or usage-based plans can be set as the default plan",
        ));
    }
    Ok(())
}

fn save(tx: &Transaction<'_>, p: &Plan, insert: bool) -> ApiResult<()> {
    if p.is_default {
        tx.execute(
            "UPDATE plans SET is_default = 0 WHERE product_id = ?1 AND id <> ?2",
            params![p.product_id, p.id],
        )?;
    }
    let sql = if insert {
        "INSERT INTO plans (id, reference, product_id, name, description, type, price, currency,
           billing_cycle, billing_model, free_units, limit_units, credits_per_unit, base_price,
           is_default, status, hidden, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
    } else {
        "UPDATE plans SET reference = ?2, product_id = ?3, name = ?4, description = ?5, type = ?6,
           price = ?7, currency = ?8, billing_cycle = ?9, billing_model = ?10, free_units = ?11,
           limit_units = ?12, credits_per_unit = ?13, base_price = ?14, is_default = ?15, status = ?16,
           hidden = ?17, extra = ?18, created_at = ?19, updated_at = ?20 WHERE id = ?1"
    };
    tx.execute(
        sql,
        params![
            p.id,
            p.reference,
            p.product_id,
            p.name,
            p.description,
            p.kind,
            p.price,
            p.currency,
            p.billing_cycle,
            p.billing_model,
            p.free_units,
            p.limit_units,
            p.credits_per_unit,
            p.base_price,
            p.is_default,
            p.status,
            p.hidden,
            Value::Object(p.extra.clone()).to_string(),
            p.created_at,
            p.updated_at
        ],
    )?;
    Ok(())
}

/// A plan with the defaults of a fresh create.
pub(crate) fn blank_plan(product_id: &str, now: &str) -> Plan {
    Plan {
        id: new_id(),
        reference: new_ref("pln"),
        product_id: product_id.to_owned(),
        name: String::new(),
        description: None,
        kind: "recurring".into(),
        price: 0,
        currency: PROVIDER_CURRENCY.into(),
        billing_cycle: None,
        billing_model: None,
        free_units: 0,
        limit_units: 0,
        credits_per_unit: None,
        base_price: None,
        is_default: false,
        status: "active".into(),
        hidden: false,
        extra: Map::new(),
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    }
}

/// Insert a plan built outside the routes (demo data).
pub(crate) fn insert_plan(tx: &Transaction<'_>, p: &Plan) -> ApiResult<()> {
    save(tx, p, true)
}

/// `POST /v1/sdk/products/{productRef}/plans` → 201 `Plan`.
async fn create(
    State(st): St,
    Path(r): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = json_object(&body)?;
    st.db
        .tx(st.clock.now(), move |tx, now| {
            let product = model::require_product(tx, &r)?;
            let mut plan = blank_plan(&product.id, &fmt_ts(now));
            apply(&map, &mut plan, true)?;
            save(tx, &plan, true)?;
            Ok((StatusCode::CREATED, Json(views::plan(&plan))))
        })
        .await
}

/// `GET /v1/sdk/products/{productRef}/plans` → `{plans, total, limit, offset}`.
async fn list(
    State(st): St,
    Path(r): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = paging(&query_map(q.as_deref()), 50)?;
    st.db
        .tx(st.clock.now(), move |tx, _| {
            let product = model::require_product(tx, &r)?;
            let all = model::plans_of(tx, &product.id)?;
            let plans: Vec<Value> = all
                .iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(usize::try_from(limit).unwrap_or(0))
                .map(views::plan)
                .collect();
            Ok(Json(
                json!({"plans": plans, "total": all.len(), "limit": limit, "offset": offset}),
            ))
        })
        .await
}

async fn fetch(
    State(st): St,
    Path((r, plan_ref)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    st.db
        .tx(st.clock.now(), move |tx, _| {
            let product = model::require_product(tx, &r)?;
            Ok(Json(views::plan(&model::require_plan(
                tx,
                &product.id,
                &plan_ref,
            )?)))
        })
        .await
}

/// `PUT …/plans/{planRef}`: only supplied fields change; existing purchases keep their snapshot.
async fn update(
    State(st): St,
    Path((r, plan_ref)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    st.db
        .tx(st.clock.now(), move |tx, now| {
            let product = model::require_product(tx, &r)?;
            let mut plan = model::require_plan(tx, &product.id, &plan_ref)?;
            apply(&map, &mut plan, false)?;
            plan.updated_at = fmt_ts(now);
            save(tx, &plan, false)?;
            Ok(Json(views::plan(&plan)))
        })
        .await
}

async fn remove(
    State(st): St,
    Path((r, plan_ref)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    st.db
        .tx(st.clock.now(), move |tx, _| {
            let product = model::require_product(tx, &r)?;
            let plan = model::require_plan(tx, &product.id, &plan_ref)?;
            tx.execute(
                "UPDATE purchases SET plan_id = NULL WHERE plan_id = ?1",
                [&plan.id],
            )?;
            tx.execute(
                "UPDATE checkout_sessions SET plan_id = NULL WHERE plan_id = ?1",
                [&plan.id],
            )?;
            tx.execute("DELETE FROM plans WHERE id = ?1", [&plan.id])?;
            Ok(Json(json!({"success": true})))
        })
        .await
}
