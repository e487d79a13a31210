//! `/v1/sdk/products/{productRef}/plans` and `/v1/sdk/products/{productRef}/plans/{planRef}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::paging;
use crate::model::validate;
use crate::sandbox::billing::{self, PROVIDER_CURRENCY};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Plan};
use crate::sandbox::util::{Fields, fmt_ts, json_object, query_map};
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
const STRIPPED_FIELDS: &[&str] = &[
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

/// `POST /v1/sdk/products/{productRef}/plans` → 201 `Plan`.
async fn create(
    State(st): St,
    Path(r): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = json_object(&body)?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let product = model::require_product(tx, &r)?;
        let mut plan = Plan::blank(&product.id, PROVIDER_CURRENCY, &fmt_ts(now));
        apply(&map, &mut plan, true)?;
        model::insert_plan(tx, &plan)?;
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
    st.swept_tx(st.clock.now(), move |tx, _| {
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
    st.swept_tx(st.clock.now(), move |tx, _| {
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
    st.swept_tx(st.clock.now(), move |tx, now| {
        let product = model::require_product(tx, &r)?;
        let mut plan = model::require_plan(tx, &product.id, &plan_ref)?;
        apply(&map, &mut plan, false)?;
        plan.updated_at = fmt_ts(now);
        model::update_plan(tx, &plan)?;
        Ok(Json(views::plan(&plan)))
    })
    .await
}

async fn remove(
    State(st): St,
    Path((r, plan_ref)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, _| {
        let product = model::require_product(tx, &r)?;
        let plan = model::require_plan(tx, &product.id, &plan_ref)?;
        model::delete_plan(tx, &plan)?;
        Ok(Json(json!({"success": true})))
    })
    .await
}
