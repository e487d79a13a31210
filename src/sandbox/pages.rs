//! The hosted pages the session URLs point at: checkout (`/customer/checkout?id=`) and the customer
//! portal (`/customer/manage?id=`), and under the same headers the dashboard (`dashboard`). Plain HTML forms, no JavaScript, no inline style; every value is
//! HTML-escaped. Every form post is checked by `guard::check_form_post` (own origin, urlencoded,
//! the page's CSRF token) before it touches the ledger, and every response carries the headers of
//! `PAGE_HEADERS` and a Content-Security-Policy.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use rusqlite::{OptionalExtension, Transaction, params};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;
use super::guard::{self, PageForm, Refusal};
use super::model::{self, Plan};
use super::util::{fmt_ts, html_escape as esc, query_map};
use super::{AppState, St, billing};

pub(crate) fn router() -> Router<Arc<AppState>> {
    let pages = Router::new()
        .route(
            "/customer/checkout",
            get(checkout_page).post(checkout_submit),
        )
        .route("/customer/manage", get(portal_page))
        .route("/customer/manage/cancel", post(portal_cancel))
        .route(STYLESHEET, get(stylesheet))
        .merge(super::dashboard::router())
        // A checkout page with a return URL sets its own policy (see `csp`).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp(None),
        ));
    PAGE_HEADERS
        .into_iter()
        .fold(pages, |pages, (name, value)| {
            pages.layer(SetResponseHeaderLayer::overriding(
                name,
                HeaderValue::from_static(value),
            ))
        })
}

/// The headers of every page response. `Referrer-Policy` is `same-origin`, not `no-referrer`: under
/// `no-referrer` Chromium sends `Origin: null` with the page's own form post, which the origin check
/// must refuse; `same-origin` still sends no Referer (with the session id in it) to any other site.
const PAGE_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// `default-src 'self'; form-action 'self'; frame-ancestors 'none'`. Browsers apply `form-action`
/// to the redirect that answers a form post too, so a checkout with a return URL also allows that
/// URL's origin (see `csp_source`), or the Pay button could not land there.
fn csp(return_source: Option<&str>) -> HeaderValue {
    const BASE: &str = "default-src 'self'; form-action 'self'; frame-ancestors 'none'";
    return_source
        .and_then(|source| {
            HeaderValue::from_str(&format!(
                "default-src 'self'; form-action 'self' {source}; frame-ancestors 'none'"
            ))
            .ok()
        })
        .unwrap_or(HeaderValue::from_static(BASE))
}

/// `scheme://host[:port]` of a return URL, when it makes a CSP host-source: a DNS name or an IPv4
/// address, nothing (a `;`, a quote) that could end the directive.
fn csp_source(return_url: &str) -> Option<String> {
    let url = url::Url::parse(return_url).ok()?;
    let host = match url.host()? {
        url::Host::Domain(name)
            if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
        {
            name.to_owned()
        }
        url::Host::Ipv4(ip) => ip.to_string(),
        _ => return None,
    };
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// The pages' only style, served from here so the policy needs no `'unsafe-inline'`.
const STYLESHEET: &str = "/customer/sandbox.css";

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{font-family:sans-serif;max-width:40rem;margin:2rem auto}\n\
         .card{border:1px solid #ccc;border-radius:8px;padding:1rem;margin:1rem 0}\n",
    )
        .into_response()
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <link rel=\"stylesheet\" href=\"{STYLESHEET}\"></head>\
         <body><p><strong>SolvaPay sandbox</strong> (no real payments)</p><h1>{t}</h1>{body}</body></html>",
        t = esc(title)
    );
    (status, Html(html)).into_response()
}

/// A refused form post: says why, and that nothing happened.
fn refused(r: Refusal) -> Response {
    page(
        r.status(),
        "Request refused",
        &format!("<p>{}</p><p>Nothing was changed.</p>", esc(&r.to_string())),
    )
}

/// The hidden field that carries `form`'s CSRF token for `session_id`.
fn token_field(st: &AppState, form: PageForm, session_id: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&st.csrf.token(form, session_id))
    )
}

fn failure(e: &ApiError) -> Response {
    page(
        e.status,
        "Something went wrong",
        &format!("<p>{}</p>", esc(&e.message)),
    )
}

/// `4900, "USD"` → `$49.00`, `2500, "JPY"` → `¥2,500`: the same formatting as tool results.
pub(crate) fn money(amount: i64, currency: &str) -> String {
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
    let token = token_field(&st, PageForm::Checkout, &id);
    let out = st
        .db
        .tx(st.clock.now(), move |tx, _| {
            let (customer_id, product_id, plan_id, return_url, status) = load_session(tx, &id)?;
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
                 <form method=\"post\" action=\"/customer/checkout\"><input type=\"hidden\" name=\"id\" value=\"{}\">{token}",
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
            let mut res = page(StatusCode::OK, &format!("Checkout: {}", product.name), &body);
            if let Some(source) = return_url.as_deref().and_then(csp_source) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp(Some(&source)));
            }
            Ok(res)
        })
        .await;
    out.unwrap_or_else(|e| failure(&e))
}

/// The Pay button: activates the purchase and records the payment (§5.3).
async fn checkout_submit(State(st): St, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_map(&body);
    let id = form.get("id").cloned().unwrap_or_default();
    let token = form.get("csrf").map(String::as_str);
    if let Err(r) = guard::check_form_post(&headers, &st.csrf, PageForm::Checkout, &id, token) {
        return refused(r);
    }
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
    let token = token_field(&st, PageForm::PortalCancel, &id);
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
                        "<form method=\"post\" action=\"/customer/manage/cancel\"><input type=\"hidden\" name=\"id\" value=\"{}\">{token}\
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
async fn portal_cancel(State(st): St, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_map(&body);
    let id = form.get("id").cloned().unwrap_or_default();
    let token = form.get("csrf").map(String::as_str);
    if let Err(r) = guard::check_form_post(&headers, &st.csrf, PageForm::PortalCancel, &id, token) {
        return refused(r);
    }
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
            billing::cancel_purchase(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_return_url_widens_form_action_only_by_a_clean_host_source() {
        let cases = [
            (
                "https://app.example.com/done?x=1",
                Some("https://app.example.com"),
            ),
            ("http://127.0.0.1:3000/back", Some("http://127.0.0.1:3000")),
            (
                "https://APP.example.com:443/",
                Some("https://app.example.com"),
            ),
            ("https://a;script-src *.example/", None),
            ("https://a'b.example/", None),
            ("http://[::1]:3000/", None),
            ("not a url", None),
        ];
        for (url, expected) in cases {
            assert_eq!(csp_source(url).as_deref(), expected, "{url}");
        }
        assert_eq!(
            csp(Some("https://app.example.com")),
            "default-src 'self'; form-action 'self' https://app.example.com; frame-ancestors 'none'"
        );
    }
}
