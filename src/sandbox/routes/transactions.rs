//! Dashboard transaction routes: list, stats, get (id or `txn_` reference) and refunds (§6).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::params;
use serde_json::{Value, json};

use super::paging;
use crate::sandbox::billing;
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::model::{self, NewTxn, Txn};
use crate::sandbox::util::{Fields, fmt_ts, json_object, parse_date_bound, query_map};
use crate::sandbox::{AppState, St, views};

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/ui/transactions", get(list))
        .route("/v1/ui/transactions/stats", get(stats))
        .route("/v1/ui/transactions/refunds", post(refund))
        .route("/v1/ui/transactions/{id}", get(fetch))
}

const STATUSES: &[&str] = &["initiated", "completed", "failed", "cancelled", "refunded"];

/// Filters as SQL parameters: `(from, to, currency, status, type, product, customer)`.
struct Filter {
    from: Option<String>,
    to: Option<String>,
    currency: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    product: Option<String>,
    customer: Option<String>,
}

fn filter(q: &std::collections::HashMap<String, String>) -> ApiResult<Filter> {
    let get = |k: &str| q.get(k).cloned().filter(|s| !s.is_empty());
    let bound = |k: &str| -> ApiResult<Option<String>> {
        match get(k) {
            None => Ok(None),
            Some(s) => parse_date_bound(&s)
                .map(|t| Some(fmt_ts(t)))
                .ok_or_else(|| ApiError::bad_request(format!("{k} must be an ISO 8601 date"))),
        }
    };
    let status = get("status");
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status must be one of the following values: {}",
            STATUSES.join(", ")
        )));
    }
    Ok(Filter {
        from: bound("fromDate")?,
        to: bound("toDate")?,
        currency: get("currency"),
        status,
        kind: get("transactionType"),
        product: get("productId"),
        customer: get("customerId"),
    })
}

const WHERE: &str = "(?1 IS NULL OR t.created_at >= ?1) AND (?2 IS NULL OR t.created_at <= ?2)
    AND (?3 IS NULL OR lower(t.currency) = lower(?3)) AND (?4 IS NULL OR t.status = ?4)
    AND (?5 IS NULL OR t.type = ?5)
    AND (?6 IS NULL OR t.product_id IN (SELECT id FROM products WHERE id = ?6 OR reference = ?6))
    AND (?7 IS NULL OR t.customer_id IN (SELECT id FROM customers WHERE id = ?7 OR reference = ?7))";

fn load(
    tx: &rusqlite::Transaction<'_>,
    f: &Filter,
    page: Option<(i64, i64)>,
) -> ApiResult<Vec<Txn>> {
    let (limit, offset) = page.unwrap_or((-1, 0));
    let mut st = tx.prepare(&format!(
        "SELECT t.* FROM transactions t WHERE {WHERE} ORDER BY t.created_at DESC, t.rowid DESC
         LIMIT ?8 OFFSET ?9"
    ))?;
    let rows = st.query_map(
        params![
            f.from, f.to, f.currency, f.status, f.kind, f.product, f.customer, limit, offset
        ],
        Txn::from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `GET /v1/ui/transactions` → `{transactions, total}` (plus the applied `limit`, `offset`).
async fn list(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let (limit, offset) = paging(&q, 20)?;
    let f = filter(&q)?;
    st.swept_tx(st.clock.now(), move |tx, _| {
        let total = load(tx, &f, None)?.len();
        let transactions = load(tx, &f, Some((limit, offset)))?
            .iter()
            .map(|t| views::txn(tx, t))
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(Json(
            json!({"transactions": transactions, "total": total, "limit": limit, "offset": offset}),
        ))
    })
    .await
}

/// `GET /v1/ui/transactions/stats?fromDate=&toDate=&currency=` → `TransactionStatsResponse` (§6.4).
async fn stats(State(st): St, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let q = query_map(q.as_deref());
    let f = Filter {
        status: None,
        kind: None,
        product: None,
        customer: None,
        ..filter(&q)?
    };
    st.swept_tx(st.clock.now(), move |tx, _| {
        let set = load(tx, &f, None)?;
        let count = |s: &str| set.iter().filter(|t| t.status == s).count();
        let total_amount: i64 = set
            .iter()
            .filter(|t| {
                t.kind == "payment"
                    && billing::RECEIVED_PAYMENT_STATUSES.contains(&format!("'{}'", t.status))
            })
            .map(|t| t.amount)
            .sum();
        let mut by_type = BTreeMap::<String, usize>::new();
        let mut by_currency = BTreeMap::<String, usize>::new();
        for t in &set {
            *by_type.entry(t.kind.clone()).or_default() += 1;
            *by_currency
                .entry(t.currency.to_ascii_uppercase())
                .or_default() += 1;
        }
        Ok(Json(json!({
            "total": set.len(), "totalAmount": total_amount,
            "completedTransactions": count("completed"), "pendingTransactions": count("initiated"),
            "failedTransactions": count("failed"), "cancelledTransactions": count("cancelled"),
            "byType": by_type, "byCurrency": by_currency,
        })))
    })
    .await
}

/// `GET /v1/ui/transactions/{id}`: internal id or `txn_` reference.
async fn fetch(State(st): St, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    st.swept_tx(st.clock.now(), move |tx, _| {
        let t = model::find_txn(tx, &id)?
            .ok_or_else(|| ApiError::not_found("Transaction not found"))?;
        Ok(Json(views::txn(tx, &t)?))
    })
    .await
}

/// `POST /v1/ui/transactions/refunds` `RefundTransactionDto` → 200 with the new refund transaction
/// (`TransactionResponse`, status `initiated`; completed on the next request). Sandbox choice 6.3.
async fn refund(State(st): St, body: Bytes) -> ApiResult<Json<Value>> {
    let map = json_object(&body)?;
    let mut f = Fields::new(&map);
    let original = f.str_req("originalTransactionId", 1, 64);
    let amount = f.int_opt("refundAmount", i64::MIN + 1, i64::from(i32::MAX));
    if !f.has("refundAmount") {
        f.fail("refundAmount", "refundAmount is required");
    }
    let currency = f.str_req("currency", 1, 10);
    let reason = f.str_opt("reason", 1, 1000);
    let metadata = f.object_opt("metadata");
    f.finish()?;
    let (Some(original), Some(amount), Some(currency)) = (original, amount, currency) else {
        return Err(ApiError::bad_request("Validation failed"));
    };
    if amount <= 0 {
        return Err(ApiError::bad_request(
            "refundAmount must be a positive number",
        ));
    }
    let reason = reason.unwrap_or_else(|| "requested_by_customer".into());
    st.swept_tx(st.clock.now(), move |tx, now| {
            let orig = model::find_txn(tx, &original)?.ok_or_else(|| ApiError::not_found("Transaction not found"))?;
            billing::check_refund(&orig, amount, &currency)?;
            let now_s = fmt_ts(now);
            let refunded = orig.refunded_amount + amount;
            let full = refunded >= orig.amount;
            let mut meta = json!({
                "originalTransactionRef": orig.reference, "originalTransactionId": orig.id,
                "reason": reason, "refundType": if full { "full" } else { "partial" },
            });
            if let (Some(extra), Some(m)) = (metadata, meta.as_object_mut()) {
                m.insert("custom".into(), Value::Object(extra));
            }
            let id = model::insert_txn(
                tx,
                NewTxn {
                    kind: "refund",
                    status: "initiated",
                    amount,
                    fee: billing::transaction_fee("refund", amount),
                    currency: &orig.currency,
                    customer_id: orig.customer_id.as_deref().unwrap_or(""),
                    product_id: orig.product_id.as_deref().unwrap_or(""),
                    purchase_id: orig.purchase_id.as_deref(),
                    original_id: Some(&orig.id),
                    description: format!("Refund of {}: {reason}", orig.reference),
                    metadata: meta,
                    at: &now_s,
                    reference: None,
                },
            )?;
            let mut orig_meta = orig.metadata.clone();
            if let Some(m) = orig_meta.as_object_mut() {
                m.insert("refundedAmount".into(), refunded.into());
            }
            tx.execute(
                "UPDATE transactions SET refunded_amount = ?1, metadata = ?2, updated_at = ?3,
                   status = CASE WHEN ?4 THEN 'refunded' ELSE status END WHERE id = ?5",
                params![refunded, orig_meta.to_string(), now_s, full, orig.id],
            )?;
            if full && let Some(pid) = &orig.purchase_id {
                // A full refund revokes the entitlement (§6.3).
                tx.execute(
                    "UPDATE purchases SET status = 'refunded', auto_renew = 0, end_date = ?1, updated_at = ?1
                     WHERE id = ?2",
                    params![now_s, pid],
                )?;
            }
            let t = model::find_txn(tx, &id)?.ok_or_else(ApiError::internal)?;
            Ok(Json(views::txn(tx, &t)?))
        })
        .await
}
