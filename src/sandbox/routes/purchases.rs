//! `/v1/sdk/purchases*`: lists, get, cancel (renewal) and reactivate.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{Transaction, params};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::sandbox::billing;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Purchase};
use crate::sandbox::util::{Fields, fmt_ts, json_object, query_map};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/purchases", get(list))
        .route("/v1/sdk/purchases/customer/{customerRef}", get(by_customer))
        .route("/v1/sdk/purchases/product/{productRef}", get(by_product))
        .route("/v1/sdk/purchases/{purchaseRef}", get(fetch))
        .route("/v1/sdk/purchases/{purchaseRef}/cancel", post(cancel))
        .route(
            "/v1/sdk/purchases/{purchaseRef}/reactivate",
            post(reactivate),
        )
}

const STATUSES: &[&str] = &[
    "pending",
    "active",
    "trialing",
    "past_due",
    "cancelled",
    "expired",
    "suspended",
    "refunded",
];

/// Filters shared by the list routes.
struct Filter {
    status: Option<String>,
    include_free: bool,
}

fn filter(q: &std::collections::HashMap<String, String>) -> ApiResult<Filter> {
    let status = q.get("status").cloned().filter(|s| !s.is_empty());
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status must be one of the following values: {}",
            STATUSES.join(", ")
        )));
    }
    let include_free = match q.get("includeFree").map(String::as_str) {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(ApiError::bad_request("includeFree must be a boolean value")),
    };
    Ok(Filter {
        status,
        include_free,
    })
}

fn render(
    tx: &Transaction<'_>,
    rows: Vec<Purchase>,
    f: &Filter,
    now: OffsetDateTime,
) -> ApiResult<Json<Value>> {
    let purchases = rows
        .iter()
        .filter(|p| f.status.as_deref().is_none_or(|s| p.status == s))
        .filter(|p| f.include_free || p.origin != "free_default")
        .map(|p| views::purchase(tx, p, now))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(json!({ "purchases": purchases })))
}

/// `GET /v1/sdk/purchases?status=&productRef=&customerRef=&includeFree=` → `{purchases}`.
async fn list(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let f = filter(&q)?;
    let customer = q.get("customerRef").cloned().filter(|s| !s.is_empty());
    let product = q.get("productRef").cloned().filter(|s| !s.is_empty());
    st.swept_tx(st.clock.now(), move |tx, now| {
        let rows = model::purchases_where(
            tx,
            "(?1 IS NULL OR customer_id IN (SELECT id FROM customers WHERE reference = ?1))
                 AND (?2 IS NULL OR product_id IN (SELECT id FROM products WHERE reference = ?2))",
            &[&customer, &product],
        )?;
        render(tx, rows, &f, now)
    })
    .await
}

/// `GET /v1/sdk/purchases/customer/{customerRef}` → `{purchases}`; 404 unknown customer.
async fn by_customer(
    State(st): St,
    Path(r): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let f = filter(&query_map(q.as_deref()))?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let c = model::require_customer(tx, &r)?;
        let rows = model::purchases_where(tx, "customer_id = ?1", &[&c.id])?;
        render(tx, rows, &f, now)
    })
    .await
}

/// `GET /v1/sdk/purchases/product/{productRef}` → `{purchases}`; 404 unknown product.
async fn by_product(
    State(st): St,
    Path(r): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let f = filter(&query_map(q.as_deref()))?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let p = model::require_product(tx, &r)?;
        let rows = model::purchases_where(tx, "product_id = ?1", &[&p.id])?;
        render(tx, rows, &f, now)
    })
    .await
}

async fn fetch(State(st): St, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, now| {
        let p = model::require_purchase(tx, &r)?;
        Ok(Json(views::purchase(tx, &p, now)?))
    })
    .await
}

/// `POST /v1/sdk/purchases/{purchaseRef}/cancel` `{reason?}` → `{success, purchase, message}`.
async fn cancel(State(st): St, Path(r): Path<String>, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let reason = f.str_opt("reason", 0, 1000);
    f.finish()?;
    st.swept_tx(st.clock.now(), move |tx, now| {
        let p = model::require_purchase(tx, &r)?;
        billing::cancel_purchase(tx, &p, reason.as_deref(), now)?;
        let p = model::require_purchase(tx, &p.id)?;
        Ok(Json(json!({
            "success": true,
            "purchase": views::purchase(tx, &p, now)?,
            "message": "Renewal cancelled successfully",
        })))
    })
    .await
}

/// `POST /v1/sdk/purchases/{purchaseRef}/reactivate` (§2.5).
async fn reactivate(State(st): St, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, now| {
        let p = model::require_purchase(tx, &r)?;
        if p.status != "active" {
            return Err(ApiError::bad_request(format!(
                "Purchase {} cannot be reactivated: it has already ended (status: {})",
                p.reference, p.status
            )));
        }
        if p.cancelled_at.is_none() {
            return Err(ApiError::bad_request(format!(
                "Purchase {} cannot be reactivated: it is not pending cancellation",
                p.reference
            )));
        }
        tx.execute(
            "UPDATE purchases SET cancelled_at = NULL, cancellation_reason = NULL,
                   auto_renew = is_recurring, end_date = NULL, reactivated_at = ?1, updated_at = ?1
             WHERE id = ?2",
            params![fmt_ts(now), p.id],
        )?;
        let p = model::require_purchase(tx, &p.id)?;
        Ok(Json(json!({
            "success": true,
            "purchase": views::purchase(tx, &p, now)?,
            "message": "Purchase reactivated successfully",
        })))
    })
    .await
}
