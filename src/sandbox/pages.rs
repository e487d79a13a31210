//! The hosted pages the session URLs point at: checkout (`/customer/checkout?id=`) and the customer
//! portal (`/customer/manage?id=`). Plain HTML forms, no JavaScript; every value is HTML-escaped.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{OptionalExtension, Transaction, params};

use super::error::ApiError;
use super::model::{self, Plan};
use super::routes::cancel_purchase;
use super::util::{fmt_ts, html_escape as esc, query_map};
use super::{AppState, St, billing};

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/customer/checkout",
            get(checkout_page).post(checkout_submit),
        )
        .route("/customer/manage", get(portal_page))
        .route("/customer/manage/cancel", post(portal_cancel))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto}}\
         .card{{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}}</style></head>\
         <body><p><strong>SolvaPay sandbox</strong> (no real payments)</p><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    (status, Html(html)).into_response()
}

fn failure(e: &ApiError) -> Response {
    page(
        e.status,
        "Something went wrong",
        &format!("<p>{}</p>", esc(&e.message)),
    )
}

/// `4900, "USD"` → `$49.00`, `2500, "JPY"` → `¥2,500`: the same formatting as tool results.
fn money(amount: i64, currency: &str) -> String {
    crate::model::Currency::from_api(currency).format(amount)
}

fn price_line(p: &Plan) -> String {
    let amount = billing::charge_amount(p);
    match (amount, p.billing_cycle.as_deref()) {
        (0, _) => "Free".to_owned(),
        (_, Some(c)) if p.kind != "one-time" => format!("{} / {c}", money(amount, &p.currency)),
        _ => money(amount, &p.currency),
    }
}

fn form_map(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Session row: `(customer_id, product_id, plan_id, return_url, status)`.
type SessionRow = (String, String, Option<String>, Option<String>, String);

fn load_session(tx: &Transaction<'_>, id: &str) -> Result<SessionRow, ApiError> {
    tx.query_row(
        "SELECT customer_id, product_id, plan_id, return_url, status FROM checkout_sessions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found("Checkout session not found or expired"))
}

async fn checkout_page(State(st): St, RawQuery(q): RawQuery) -> Response {
    let id = query_map(q.as_deref()).remove("id").unwrap_or_default();
    let out = st
        .db
        .tx(st.clock.now(), move |tx, _| {
            let (customer_id, product_id, plan_id, _, status) = load_session(tx, &id)?;
            if status == "used" {
                return Ok(page(StatusCode::OK, "Checkout complete", "<p>This checkout session has already been completed.</p>"));
            }
            if status != "active" {
                return Ok(page(StatusCode::GONE, "Checkout expired", "<p>This checkout session has expired. Ask for a new link.</p>"));
            }
            let customer = model::find_customer_any(tx, &customer_id)?.ok_or_else(ApiError::internal)?;
            let product = model::require_product(tx, &product_id)?;
            let plans: Vec<Plan> = model::plans_of(tx, &product.id)?
                .into_iter()
                .filter(|p| match &plan_id {
                    Some(pid) => &p.id == pid,
                    None => p.status == "active" && !p.hidden,
                })
                .collect();
            let mut body = format!(
                "<div class=\"card\"><p>Product: <strong>{}</strong></p><p>Customer: {}</p></div>\
                 <form method=\"post\" action=\"/customer/checkout\"><input type=\"hidden\" name=\"id\" value=\"{}\">",
                esc(&product.name), esc(&customer.email), esc(&id)
            );
            match plans.as_slice() {
                [] => body.push_str("<p>No plan is available for this product.</p></form>"),
                [p] if plan_id.is_some() => {
                    let amount = billing::charge_amount(p);
                    let action = if amount > 0 { format!("Pay {}", money(amount, &p.currency)) } else { "Activate free plan".to_owned() };
                    body.push_str(&format!(
                        "<div class=\"card\"><p>Plan: <strong>{}</strong> ({})</p><p>Amount due today: <strong>{}</strong></p></div>\
                         <input type=\"hidden\" name=\"planRef\" value=\"{}\"><button type=\"submit\">{}</button></form>",
                        esc(&p.name), esc(&p.reference), esc(&money(amount, &p.currency)), esc(&p.reference), esc(&action)
                    ));
                }
                list => {
                    body.push_str("<fieldset><legend>Choose a plan</legend>");
                    for (i, p) in list.iter().enumerate() {
                        body.push_str(&format!(
                            "<p><label><input type=\"radio\" name=\"planRef\" value=\"{}\"{}> {} ({}): {}</label></p>",
                            esc(&p.reference), if i == 0 { " checked" } else { "" }, esc(&p.name), esc(&p.reference), esc(&price_line(p))
                        ));
                    }
                    body.push_str("</fieldset><button type=\"submit\">Pay</button></form>");
                }
            }
            Ok(page(StatusCode::OK, &format!("Checkout: {}", product.name), &body))
        })
        .await;
    out.unwrap_or_else(|e| failure(&e))
}

/// The Pay button: activates the purchase and records the payment (§5.3).
async fn checkout_submit(State(st): St, body: Bytes) -> Response {
    let form = form_map(&body);
    let id = form.get("id").cloned().unwrap_or_default();
    let plan_ref = form.get("planRef").cloned();
    let out = st
        .db
        .tx(st.clock.now(), move |tx, now| {
            let (customer_id, product_id, plan_id, return_url, status) = load_session(tx, &id)?;
            if status != "active" {
                return Err(ApiError::bad_request(format!("This checkout session is {status}")));
            }
            let customer = model::find_customer_any(tx, &customer_id)?.ok_or_else(ApiError::internal)?;
            let product = model::require_product(tx, &product_id)?;
            let plan = match (&plan_id, &plan_ref) {
                (Some(pid), _) => model::plan_by_id(tx, pid)?.ok_or_else(|| ApiError::not_found("Plan not found"))?,
                (None, Some(r)) => model::require_plan(tx, &product.id, r)?,
                (None, None) => return Err(ApiError::bad_request("Choose a plan")),
            };
            if plan.status != "active" {
                return Err(ApiError::bad_request(format!("Plan {} is not active", plan.reference)));
            }
            let origin = if plan.kind == "one-time" { "one_time" } else { "paid" };
            let purchase_id = billing::activate(tx, now, &customer, &product, &plan, origin, (None, None))?;
            tx.execute(
                "UPDATE checkout_sessions SET status = 'used', purchase_id = ?1, plan_id = ?2 WHERE id = ?3",
                params![purchase_id, plan.id, id],
            )?;
            let p = model::require_purchase(tx, &purchase_id)?;
            Ok((return_url, p.reference, plan.name, money(p.amount, &p.currency)))
        })
        .await;
    match out {
        Ok((Some(url), ..)) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
        Ok((None, purchase, plan, paid)) => page(
            StatusCode::OK,
            "Payment successful",
            &format!(
                "<p>Plan <strong>{}</strong> is active. Paid: {}.</p><p>Purchase reference: <code>{}</code></p>",
                esc(&plan),
                esc(&paid),
                esc(&purchase)
            ),
        ),
        Err(e) => failure(&e),
    }
}

/// Session row of the portal: `(customer_id, status)`.
fn portal_session(tx: &Transaction<'_>, id: &str) -> Result<(String, String), ApiError> {
    tx.query_row(
        "SELECT customer_id, status FROM customer_sessions WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Customer session not found: {id}")))
}

async fn portal_page(State(st): St, RawQuery(q): RawQuery) -> Response {
    let id = query_map(q.as_deref()).remove("id").unwrap_or_default();
    let out = st
        .db
        .tx(st.clock.now(), move |tx, _| {
            let (customer_id, status) = portal_session(tx, &id)?;
            if status != "active" {
                return Ok(page(StatusCode::GONE, "Link expired", "<p>This billing portal link has expired. Ask for a new one.</p>"));
            }
            let customer = model::find_customer_any(tx, &customer_id)?.ok_or_else(ApiError::internal)?;
            let mut body = format!("<p>{} &lt;{}&gt;</p><h2>Purchases</h2>", esc(&customer.name), esc(&customer.email));
            let purchases = model::purchases_where(tx, "customer_id = ?1", &[&customer.id])?;
            if purchases.is_empty() {
                body.push_str("<p>No purchases yet.</p>");
            }
            for p in purchases {
                let product: String = tx
                    .query_row("SELECT name FROM products WHERE id = ?1", [&p.product_id], |r| r.get(0))
                    .optional()?
                    .unwrap_or_default();
                let dates = match (&p.cancelled_at, &p.next_billing_date, &p.end_date) {
                    (Some(_), _, Some(end)) => format!("Renewal cancelled; access until {}", &end[..10.min(end.len())]),
                    (None, Some(next), _) if p.auto_renew => format!("Next billing {}", &next[..10.min(next.len())]),
                    _ => String::new(),
                };
                body.push_str(&format!(
                    "<div class=\"card\"><p><strong>{}</strong>: {} ({})</p><p>Status: {} · {} · Started {}</p><p>{}</p>",
                    esc(&product), esc(p.snap_str("name")), esc(&p.reference), esc(&p.status),
                    esc(&money(p.amount, &p.currency)), esc(&p.start_date[..10.min(p.start_date.len())]), esc(&dates)
                ));
                if billing::grants_access(&p.status) && p.cancelled_at.is_none() {
                    body.push_str(&format!(
                        "<form method=\"post\" action=\"/customer/manage/cancel\"><input type=\"hidden\" name=\"id\" value=\"{}\">\
                         <input type=\"hidden\" name=\"purchaseRef\" value=\"{}\"><button type=\"submit\">Cancel renewal</button></form>",
                        esc(&id), esc(&p.reference)
                    ));
                }
                body.push_str("</div>");
            }
            Ok(page(StatusCode::OK, "Billing portal", &body))
        })
        .await;
    out.unwrap_or_else(|e| failure(&e))
}

/// The cancel-renewal button of the portal.
async fn portal_cancel(State(st): St, body: Bytes) -> Response {
    let form = form_map(&body);
    let id = form.get("id").cloned().unwrap_or_default();
    let purchase_ref = form.get("purchaseRef").cloned().unwrap_or_default();
    let back = format!(
        "/customer/manage?id={}",
        url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    let out = st
        .db
        .tx(st.clock.now(), move |tx, now| {
            let (customer_id, status) = portal_session(tx, &id)?;
            if status != "active" {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    "This billing portal link has expired",
                ));
            }
            let p = model::require_purchase(tx, &purchase_ref)?;
            if p.customer_id != customer_id {
                return Err(ApiError::not_found("Purchase not found"));
            }
            cancel_purchase(
                tx,
                &p,
                Some("Cancelled by the customer in the billing portal"),
                now,
            )?;
            tx.execute(
                "UPDATE customer_sessions SET updated_at = ?1 WHERE id = ?2",
                params![fmt_ts(now), id],
            )?;
            Ok(())
        })
        .await;
    match out {
        Ok(()) => (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response(),
        Err(e) => failure(&e),
    }
}
