//! The `purchases` row, with the plan snapshot frozen into it.

use rusqlite::{OptionalExtension, Row, Transaction};
use serde_json::Value;

use super::{flag, json_col};
use crate::sandbox::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub(crate) struct Purchase {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) customer_id: String,
    pub(crate) product_id: String,
    pub(crate) status: String,
    pub(crate) amount: i64,
    pub(crate) currency: String,
    pub(crate) start_date: String,
    pub(crate) end_date: Option<String>,
    pub(crate) paid_at: Option<String>,
    pub(crate) is_recurring: bool,
    pub(crate) billing_cycle: Option<String>,
    pub(crate) auto_renew: bool,
    pub(crate) next_billing_date: Option<String>,
    pub(crate) period_start: Option<String>,
    pub(crate) period_end: Option<String>,
    pub(crate) cancelled_at: Option<String>,
    pub(crate) cancellation_reason: Option<String>,
    /// When a cancelled renewal was last reactivated.
    pub(crate) reactivated_at: Option<String>,
    pub(crate) origin: String,
    pub(crate) plan_snapshot: Value,
    pub(crate) metadata: Value,
    pub(crate) created_at: String,
}

impl Purchase {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            reference: r.get("reference")?,
            customer_id: r.get("customer_id")?,
            product_id: r.get("product_id")?,
            status: r.get("status")?,
            amount: r.get("amount")?,
            currency: r.get("currency")?,
            start_date: r.get("start_date")?,
            end_date: r.get("end_date")?,
            paid_at: r.get("paid_at")?,
            is_recurring: flag(r, "is_recurring")?,
            billing_cycle: r.get("billing_cycle")?,
            auto_renew: flag(r, "auto_renew")?,
            next_billing_date: r.get("next_billing_date")?,
            period_start: r.get("period_start")?,
            period_end: r.get("period_end")?,
            cancelled_at: r.get("cancelled_at")?,
            cancellation_reason: r.get("cancellation_reason")?,
            reactivated_at: r.get("reactivated_at")?,
            origin: r.get("origin")?,
            plan_snapshot: json_col(r, "plan_snapshot")?,
            metadata: json_col(r, "metadata")?,
            created_at: r.get("created_at")?,
        })
    }

    /// A number field of the frozen plan snapshot (0 when absent).
    pub(crate) fn snap_i64(&self, key: &str) -> i64 {
        self.plan_snapshot
            .get(key)
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    pub(crate) fn snap_str(&self, key: &str) -> &str {
        self.plan_snapshot
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

pub(crate) fn find_purchase(tx: &Transaction<'_>, r: &str) -> ApiResult<Option<Purchase>> {
    Ok(tx
        .query_row(
            "SELECT * FROM purchases WHERE reference = ?1 OR id = ?1",
            [r],
            Purchase::from_row,
        )
        .optional()?)
}

pub(crate) fn require_purchase(tx: &Transaction<'_>, r: &str) -> ApiResult<Purchase> {
    find_purchase(tx, r)?.ok_or_else(|| ApiError::not_found("Purchase not found"))
}

/// Purchases matching a `WHERE` clause (fixed SQL text) with its parameters, newest first.
pub(crate) fn purchases_where(
    tx: &Transaction<'_>,
    cond: &str,
    args: &[&dyn rusqlite::ToSql],
) -> ApiResult<Vec<Purchase>> {
    let sql = format!("SELECT * FROM purchases WHERE {cond} ORDER BY start_date DESC, rowid DESC");
    let mut st = tx.prepare(&sql)?;
    let rows = st.query_map(args, Purchase::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
