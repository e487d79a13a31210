//! `POST /v1/sdk/limits`: the limits decision of BEHAVIOUR §3.1.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::checkout::new_checkout_session;
use crate::sandbox::billing::{self, UNLIMITED_REMAINING};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model;
use crate::sandbox::util::{Fields, fmt_ts, json_object};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new().route("/v1/sdk/limits", post(check))
}

async fn check(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let customer_ref = f.str_opt("customerRef", 0, 20).filter(|s| !s.is_empty());
    let product_ref = f.str_opt("productRef", 0, 20).filter(|s| !s.is_empty());
    let meter = f.str_opt("meterName", 1, 100);
    let with_checkout = f.bool_opt("includeCheckoutSession").unwrap_or(false);
    let plan_ref = f.str_opt("planRef", 1, 20);
    f.str_opt("usageType", 0, 100);
    f.finish()?;
    let (Some(customer_ref), Some(product_ref)) = (customer_ref, product_ref) else {
        return Err(ApiError::bad_request("Missing customerRef or productRef"));
    };
    let base = st.base_url.clone();
    st.swept_tx(st.clock.now(), move |tx, now| {
        let customer = model::require_customer(tx, &customer_ref)?;
        let product = model::require_product(tx, &product_ref)?;
        let plans = model::plans_of(tx, &product.id)?;
        let offered: Vec<Value> = plans
            .iter()
            .filter(|p| p.status == "active" && !p.hidden)
            .map(views::limit_plan_item)
            .collect();
        let find_access = |tx: &rusqlite::Transaction<'_>| {
            Ok::<_, ApiError>(
                model::purchases_where(
                    tx,
                    "customer_id = ?1 AND product_id = ?2",
                    &[&customer.id, &product.id],
                )?
                .into_iter()
                .find(|p| billing::grants_access(&p.status) && !p.plan_snapshot.is_null()),
            )
        };
        let mut purchase = find_access(tx)?;
        let default_plan = plans.iter().find(|p| p.is_default && p.status == "active");
        let mut out = Map::new();
        if purchase.is_none()
            && let Some(d) = default_plan.filter(|d| !billing::requires_payment(d))
        {
            // §3.1 2a / Sandbox choice 9.18: auto-enrol the free default plan.
            billing::activate(
                tx,
                now,
                &customer,
                &product,
                d,
                "free_default",
                (None, None),
            )?;
            purchase = find_access(tx)?;
        }
        let (within, remaining) = match &purchase {
            None => {
                if let Some(d) = default_plan {
                    // §3.1 2b: a priced (PAYG) default plan needs activation.
                    let cpu = d.credits_per_unit.unwrap_or(1).max(1);
                    let units = customer.credit_balance.max(0) / cpu;
                    out.insert("activationRequired".into(), true.into());
                    out.insert(
                        "balance".into(),
                        json!({
                            "creditBalance": customer.credit_balance, "creditsPerUnit": cpu,
                            "currency": d.currency, "remainingUnits": units,
                        }),
                    );
                    out.insert(
                        "confirmationUrl".into(),
                        format!("{base}/customer/checkout?activate={}", d.reference).into(),
                    );
                }
                (false, 0)
            }
            Some(p) => {
                out.insert("plan".into(), p.snap_str("reference").into());
                let start = p
                    .period_start
                    .clone()
                    .unwrap_or_else(|| p.start_date.clone());
                let used = billing::usage_used(
                    tx,
                    &customer.reference,
                    &product.reference,
                    &start,
                    &fmt_ts(now + time::Duration::milliseconds(1)),
                )?;
                let cpu = p.snap_i64("creditsPerUnit");
                let prepaid = p.snap_str("planType") == "usage-based"
                    && cpu > 0
                    && p.plan_snapshot.get("billingModel").and_then(Value::as_str)
                        != Some("post-paid");
                if prepaid {
                    let mut units = customer.credit_balance.max(0) / cpu;
                    if let Some(cap) = billing::usage_cap(p) {
                        units = units.min((cap - used).max(0));
                    }
                    let currency = p.currency.clone();
                    out.insert("creditBalance".into(), customer.credit_balance.into());
                    out.insert("creditsPerUnit".into(), cpu.into());
                    out.insert("currency".into(), currency.clone().into());
                    out.insert(
                        "balance".into(),
                        json!({
                            "creditBalance": customer.credit_balance, "creditsPerUnit": cpu,
                            "currency": currency, "remainingUnits": units,
                        }),
                    );
                    (units > 0, units)
                } else {
                    match billing::usage_cap(p) {
                        None => (true, UNLIMITED_REMAINING),
                        Some(cap) => (used < cap, (cap - used).max(0)),
                    }
                }
            }
        };
        if !within && with_checkout {
            let plan_id = match &plan_ref {
                Some(r) => Some(model::require_plan(tx, &product.id, r)?.id),
                None => None,
            };
            let (id, url) = new_checkout_session(
                tx,
                now,
                &base,
                &customer,
                &product,
                plan_id.as_deref(),
                None,
            )?;
            out.insert("checkoutUrl".into(), url.into());
            out.insert("checkoutSessionId".into(), id.into());
        }
        out.insert("withinLimits".into(), within.into());
        out.insert("remaining".into(), remaining.into());
        out.insert(
            "meterName".into(),
            meter.unwrap_or_else(|| "requests".into()).into(),
        );
        out.insert("plans".into(), Value::Array(offered));
        out.insert(
            "product".into(),
            json!({"reference": product.reference, "name": product.name}),
        );
        Ok(Json(Value::Object(out)))
    })
    .await
}
