//! The REST routes, one file per resource, plus the merchant and the sandbox clock and latency
//! controls.

mod checkout;
mod credits;
mod customers;
mod limits;
mod plans;
mod products;
mod purchases;
mod transactions;
mod usage;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use time::Duration;

use super::admin::ClockChange;
use super::error::{ApiError, ApiResult};
use super::util::{Fields, fmt_ts, json_object, parse_ts};
use super::{AppState, St};

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .merge(customers::router())
        .merge(products::router())
        .merge(plans::router())
        .merge(purchases::router())
        .merge(limits::router())
        .merge(checkout::router())
        .merge(usage::router())
        .merge(transactions::router())
        .merge(credits::router())
        .route("/v1/sdk/merchant", get(merchant))
        .route("/v1/sandbox/clock", post(set_clock))
        .route("/v1/sandbox/latency", post(set_latency))
}

/// `GET /v1/sdk/merchant` → `SdkMerchantResponseDto`.
async fn merchant() -> Json<Value> {
    Json(json!({
        "displayName": "SolvaPay Sandbox",
        "legalName": "SolvaPay Sandbox (local)",
        "defaultCurrency": super::billing::PROVIDER_CURRENCY,
        "country": "US",
        "supportedTopupCurrencies": [super::billing::PROVIDER_CURRENCY],
    }))
}

/// `POST /v1/sandbox/clock` `{"now": RFC 3339}` or `{"advanceSeconds": n}` → `{now}`.
async fn set_clock(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let now = f.str_opt("now", 1, 64);
    let advance = f.int_opt("advanceSeconds", -(10 * 365 * 86_400), 10 * 365 * 86_400);
    f.finish()?;
    let change = match (now, advance) {
        (Some(s), None) => {
            let t = parse_ts(&s)
                .ok_or_else(|| ApiError::bad_request("now must be an RFC 3339 date-time"))?;
            ClockChange::Set(t)
        }
        (None, Some(secs)) => ClockChange::Advance(Duration::seconds(secs)),
        _ => {
            return Err(ApiError::bad_request(
                "Provide exactly one of now or advanceSeconds",
            ));
        }
    };
    let state = Arc::clone(&st);
    let now = st
        .db
        .tx(st.clock.now(), move |tx, _| {
            Ok(state.change_clock(tx, change)?)
        })
        .await?;
    Ok(Json(json!({"now": fmt_ts(now)})))
}

/// `POST /v1/sandbox/latency` `{"ms": n}` (0–60000) → `{ms}`: every later API request (but these
/// controls) is handled at once and answered `n` ms later.
async fn set_latency(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let ms = f.int_opt("ms", 0, 60_000);
    f.finish()?;
    let ms = ms.ok_or_else(|| ApiError::bad_request("ms is required"))?;
    let ms = u64::try_from(ms).unwrap_or_default();
    st.latency_ms
        .store(ms, std::sync::atomic::Ordering::Relaxed);
    Ok(Json(json!({"ms": ms})))
}

/// Parse `limit` / `offset` query values: limit clamped to 1..=100 (default `default`), offset ≥ 0.
pub(crate) fn paging(
    q: &std::collections::HashMap<String, String>,
    default: i64,
) -> ApiResult<(i64, i64)> {
    let num = |key: &str| -> ApiResult<Option<i64>> {
        match q.get(key).map(String::as_str).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| Some(f as i64))
                .ok_or_else(|| ApiError::bad_request(format!("{key} must be a number"))),
        }
    };
    let limit = num("limit")?.unwrap_or(default).clamp(1, 100);
    let offset = num("offset")?.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::bad_request("offset must not be less than 0"));
    }
    Ok((limit, offset))
}
