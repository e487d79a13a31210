//! SolvaPay's 2026 credit routes: `GET /v1/sdk/customers/{reference}/balance`,
//! `POST /v1/sdk/customers/{reference}/credits` (idempotent by `Idempotency-Key`) and
//! `POST /v1/sdk/activate`. (Reactivation lives with the purchase routes.)

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::checkout::new_checkout_session;
use crate::model::Currency;
use crate::sandbox::billing::{self, CREDITS_PER_MINOR_UNIT};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, Customer};
use crate::sandbox::util::{Fields, fmt_ts, json_object, new_id};
use crate::sandbox::{AppState, St};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/sdk/customers/{reference}/balance", get(balance))
        .route("/v1/sdk/customers/{reference}/credits", post(grant))
        .route("/v1/sdk/activate", post(activate))
}

/// `CustomerBalanceResponse` of `c` (USD, parity rate).
fn balance_view(c: &Customer) -> Value {
    let cents = c.credit_balance / CREDITS_PER_MINOR_UNIT;
    json!({
        "customerRef": c.reference,
        "credits": c.credit_balance,
        "creditsPerMinorUnit": CREDITS_PER_MINOR_UNIT,
        "displayCurrency": billing::PROVIDER_CURRENCY,
        "displayExchangeRate": 1,
        "display": {
            "amountMajor": c.credit_balance as f64 / (CREDITS_PER_MINOR_UNIT * 100) as f64,
            "currency": billing::PROVIDER_CURRENCY,
            "formatted": Currency::usd().format(cents),
            "exchangeRate": 1,
            "rateSource": "parity",
        },
    })
}

/// `GET /v1/sdk/customers/{reference}/balance`; 404 unknown customer.
async fn balance(State(st): St, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, _| {
        let c = model::require_customer(tx, &r)?;
        Ok(Json(balance_view(&c)))
    })
    .await
}

/// `POST /v1/sdk/customers/{reference}/credits` `{credits > 0, reason?}`. A repeated
/// `Idempotency-Key` answers the first grant again and grants nothing (whatever the new body says).
async fn grant(
    State(st): St,
    Path(r): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let credits = f.int_opt("credits", 1, i64::from(i32::MAX));
    let reason = f.str_opt("reason", 0, 256);
    if !f.has("credits") {
        f.fail("credits", "credits must be a positive integer");
    }
    f.finish()?;
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if (1..=256).contains(&k.len()) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Idempotency-Key must be 1 to 256 characters",
            ));
        }
    };
    let credits = credits.unwrap_or(0);
    st.swept_tx(st.clock.now(), move |tx, now| {
        let c = model::require_customer(tx, &r)?;
        if let Some(k) = &key {
            let prior = tx
                .query_row(
                    "SELECT customer_id, credits, reason, balance FROM credit_grants
                     WHERE idempotency_key = ?1",
                    [k],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, Option<String>>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    },
                )
                .optional()?;
            if let Some((customer_id, credits, reason, balance)) = prior {
                if customer_id != c.id {
                    return Err(ApiError::bad_request(
                        "Idempotency-Key was already used for another customer",
                    ));
                }
                return Ok(Json(grant_view(&c.reference, credits, balance, reason)));
            }
        }
        let balance = c.credit_balance.saturating_add(credits);
        tx.execute(
            "UPDATE customers SET credit_balance = ?1, updated_at = ?2 WHERE id = ?3",
            params![balance, fmt_ts(now), c.id],
        )?;
        tx.execute(
            "INSERT INTO credit_grants (idempotency_key, customer_id, credits, reason, balance,
               created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.clone().unwrap_or_else(new_id),
                c.id,
                credits,
                reason,
                balance,
                fmt_ts(now)
            ],
        )?;
        Ok(Json(grant_view(&c.reference, credits, balance, reason)))
    })
    .await
}

fn grant_view(customer: &str, credits: i64, balance: i64, reason: Option<String>) -> Value {
    json!({
        "success": true, "customerRef": customer, "credits": credits, "balance": balance,
        "reason": reason.unwrap_or_else(|| "manual_grant".into()),
    })
}

/// `POST /v1/sdk/activate` `{customerRef, productRef, planRef}` → `ActivatePlanResponseDto`
/// (Sandbox choice, after openapi.json): the same plan active → `already_active`; a plan of another
/// product or not active → `invalid`; a credit-based plan activates once the customer holds the
/// credits of one unit, else `topup_required`; a plan that needs payment → `payment_required`
/// with a checkout link; anything else (free) activates at once, ending the customer's other plan
/// of the product. 404 for an unknown customer or product.
async fn activate(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let customer_ref = f.str_req("customerRef", 1, 20);
    let product_ref = f.str_req("productRef", 1, 20);
    let plan_ref = f.str_req("planRef", 1, 20);
    f.finish()?;
    let (customer_ref, product_ref, plan_ref) = (
        customer_ref.unwrap_or_default(),
        product_ref.unwrap_or_default(),
        plan_ref.unwrap_or_default(),
    );
    let base = st.base_url.clone();
    st.swept_tx(st.clock.now(), move |tx, now| {
        let customer = model::require_customer(tx, &customer_ref)?;
        let product = model::require_product(tx, &product_ref)?;
        let invalid = |message: String| Ok(Json(json!({"status": "invalid", "message": message})));
        let plan = match model::require_plan(tx, &product.id, &plan_ref) {
            Ok(p) if p.status == "active" => p,
            Ok(p) => return invalid(format!("Plan {} is not active", p.reference)),
            Err(_) => {
                return invalid(format!(
                    "Plan {plan_ref} is not a plan of product {}",
                    product.reference
                ));
            }
        };
        let current = model::purchases_where(
            tx,
            "customer_id = ?1 AND product_id = ?2",
            &[&customer.id, &product.id],
        )?
        .into_iter()
        .find(|p| billing::grants_access(&p.status) && p.snap_str("reference") == plan.reference);
        if let Some(p) = current {
            return Ok(Json(json!({
                "status": "already_active", "purchaseRef": p.reference,
                "message": "The customer already has this plan",
            })));
        }
        if let Some(cpu) = billing::credits_per_unit(&plan) {
            if customer.credit_balance < cpu {
                return Ok(Json(json!({
                    "status": "topup_required", "creditBalance": customer.credit_balance,
                    "creditsPerUnit": cpu, "currency": plan.currency,
                    "message": "Top up credits before activating this usage-based plan",
                })));
            }
        } else if billing::requires_payment(&plan) {
            let (id, url) =
                new_checkout_session(tx, now, &base, &customer, &product, Some(&plan.id), None)?;
            return Ok(Json(json!({
                "status": "payment_required", "checkoutUrl": url, "checkoutSessionId": id,
                "message": "This plan requires payment: complete the checkout",
            })));
        }
        let id = billing::activate(tx, now, &customer, &product, &plan, "manual", (None, None))?;
        let p = model::require_purchase(tx, &id)?;
        let mut out = json!({"status": "activated", "purchaseRef": p.reference});
        if let (Some(cpu), Some(m)) = (billing::credits_per_unit(&plan), out.as_object_mut()) {
            m.insert("creditBalance".into(), customer.credit_balance.into());
            m.insert("creditsPerUnit".into(), cpu.into());
            m.insert("currency".into(), plan.currency.clone().into());
        }
        Ok(Json(out))
    })
    .await
}
