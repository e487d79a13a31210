//! `POST /v1/sdk/checkout-sessions` and the customer (portal) sessions.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Customer, Product};
use crate::sandbox::util::{Fields, fmt_ts, hex, json_object};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/checkout-sessions", post(create_checkout))
        .route("/v1/sdk/customers/customer-sessions", post(create_portal))
        .route(
            "/v1/sdk/customers/customer-sessions/{sessionId}",
            get(get_portal),
        )
}

/// Lifetime of checkout and customer sessions (§5.1, §5.4: 15 minutes).
pub(crate) const SESSION_LIFETIME: Duration = Duration::minutes(15);

/// Mint a checkout session; returns `(sessionId, checkoutUrl)`.
pub(crate) fn new_checkout_session(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    base_url: &str,
    customer: &Customer,
    product: &Product,
    plan_id: Option<&str>,
    return_url: Option<&str>,
) -> ApiResult<(String, String)> {
    let id = hex(32);
    tx.execute(
        "INSERT INTO checkout_sessions (id, customer_id, product_id, plan_id, return_url, status,
           created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7)",
        params![
            id,
            customer.id,
            product.id,
            plan_id,
            return_url,
            fmt_ts(now),
            fmt_ts(now + SESSION_LIFETIME)
        ],
    )?;
    let url = format!("{base_url}/customer/checkout?id={id}");
    Ok((id, url))
}

/// `POST /v1/sdk/checkout-sessions` `{customerRef, productRef, planRef?, returnUrl?}` → 201.
async fn create_checkout(State(st): St, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let customer_ref = f.str_req("customerRef", 1, 20);
    let product_ref = f.str_opt("productRef", 1, 20);
    let plan_ref = f.str_opt("planRef", 1, 20);
    let return_url = f.str_opt("returnUrl", 1, 2048);
    let purpose = f.enum_opt("purpose", &["credit_topup"]);
    f.finish()?;
    if purpose.is_some() {
        return Err(ApiError::bad_request(
            "Credit top-up checkout is not supported by the local sandbox",
        ));
    }
    let Some(product_ref) = product_ref else {
        return Err(ApiError::bad_request("productRef is required"));
    };
    if let Some(u) = &return_url
        && !matches!(
            url::Url::parse(u).map(|u| u.scheme().to_owned()).as_deref(),
            Ok("http" | "https")
        )
    {
        return Err(ApiError::bad_request("returnUrl must be an http(s) URL"));
    }
    let customer_ref = customer_ref.unwrap_or_default();
    let base = st.base_url.clone();
    st.swept_tx(st.clock.now(), move |tx, now| {
        let customer = model::require_customer(tx, &customer_ref)?;
        let product = model::require_product(tx, &product_ref)?;
        let plan = match &plan_ref {
            Some(r) => Some(model::require_plan(tx, &product.id, r)?),
            None => None,
        };
        if let Some(p) = &plan
            && p.status != "active"
        {
            return Err(ApiError::bad_request(format!(
                "Plan {} is not active",
                p.reference
            )));
        }
        let (id, url) = new_checkout_session(
            tx,
            now,
            &base,
            &customer,
            &product,
            plan.as_ref().map(|p| p.id.as_str()),
            return_url.as_deref(),
        )?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"sessionId": id, "checkoutUrl": url})),
        ))
    })
    .await
}

/// `POST /v1/sdk/customers/customer-sessions` `{customerRef, productRef?}` → 201
/// `{sessionId, customerUrl}`.
async fn create_portal(State(st): St, body: Bytes) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let customer_ref = f.str_req("customerRef", 1, 20).unwrap_or_default();
    let product_ref = f.str_opt("productRef", 1, 20);
    f.finish()?;
    let base = st.base_url.clone();
    st.swept_tx(st.clock.now(), move |tx, now| {
        let customer = model::require_customer(tx, &customer_ref)?;
        let product = match &product_ref {
            Some(r) => Some(model::require_product(tx, r)?),
            None => None,
        };
        let id = hex(32);
        tx.execute(
            "INSERT INTO customer_sessions (id, customer_id, product_id, status, created_at,
                   updated_at, expires_at) VALUES (?1, ?2, ?3, 'active', ?4, ?4, ?5)",
            params![
                id,
                customer.id,
                product.map(|p| p.id),
                fmt_ts(now),
                fmt_ts(now + SESSION_LIFETIME)
            ],
        )?;
        let url = format!("{base}/customer/manage?id={id}");
        Ok((
            StatusCode::CREATED,
            Json(json!({"sessionId": id, "customerUrl": url})),
        ))
    })
    .await
}

/// `GET /v1/sdk/customers/customer-sessions/{sessionId}` → `GetCustomerSessionResponse`.
async fn get_portal(State(st): St, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let base = st.base_url.clone();
    st.swept_tx(st.clock.now(), move |tx, _| {
        let row: Option<(String, String, String, String, String)> = tx
            .query_row(
                "SELECT customer_id, status, expires_at, created_at, updated_at
                     FROM customer_sessions WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let (customer_id, status, expires, created, updated) =
            row.ok_or_else(|| ApiError::not_found(format!("Customer session not found: {id}")))?;
        let customer = model::find_customer_any(tx, &customer_id)?
            .ok_or_else(|| ApiError::not_found(format!("Customer session not found: {id}")))?;
        Ok(Json(json!({
            "sessionId": id, "status": status,
            "customerUrl": format!("{base}/customer/manage?id={id}"),
            "expiresAt": expires, "createdAt": created, "updatedAt": updated,
            "customer": views::customer(tx, &customer)?,
        })))
    })
    .await
}
