//! The `transactions` row (payments and refunds), and the insert of a new one.

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::Value;

use super::json_col;
use crate::sandbox::error::ApiResult;

#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) amount: i64,
    pub(crate) fee: i64,
    pub(crate) currency: String,
    pub(crate) customer_id: Option<String>,
    pub(crate) product_id: Option<String>,
    pub(crate) purchase_id: Option<String>,
    pub(crate) refunded_amount: i64,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Value,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Txn {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            reference: r.get("reference")?,
            kind: r.get("type")?,
            status: r.get("status")?,
            amount: r.get("amount")?,
            fee: r.get("fee")?,
            currency: r.get("currency")?,
            customer_id: r.get("customer_id")?,
            product_id: r.get("product_id")?,
            purchase_id: r.get("purchase_id")?,
            refunded_amount: r.get("refunded_amount")?,
            description: r.get("description")?,
            metadata: json_col(r, "metadata")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// A transaction by internal id or `txn_` reference.
pub(crate) fn find_txn(tx: &Transaction<'_>, r: &str) -> ApiResult<Option<Txn>> {
    Ok(tx
        .query_row(
            "SELECT * FROM transactions WHERE id = ?1 OR reference = ?1",
            [r],
            Txn::from_row,
        )
        .optional()?)
}

/// A new ledger transaction.
pub(crate) struct NewTxn<'a> {
    pub(crate) kind: &'a str,
    pub(crate) status: &'a str,
    pub(crate) amount: i64,
    /// What the provider is charged for this transaction (see `billing::transaction_fee`).
    pub(crate) fee: i64,
    pub(crate) currency: &'a str,
    pub(crate) customer_id: &'a str,
    pub(crate) product_id: &'a str,
    pub(crate) purchase_id: Option<&'a str>,
    pub(crate) original_id: Option<&'a str>,
    pub(crate) description: String,
    pub(crate) metadata: Value,
    pub(crate) at: &'a str,
    /// A fixed reference (demo data); `None` draws a fresh `txn_` reference.
    pub(crate) reference: Option<&'a str>,
}

/// Insert a transaction; returns its id.
pub(crate) fn insert_txn(tx: &Transaction<'_>, t: NewTxn<'_>) -> ApiResult<String> {
    let id = crate::sandbox::util::new_id();
    let reference = t
        .reference
        .map_or_else(|| crate::sandbox::util::new_ref("txn"), str::to_owned);
    tx.execute(
        "INSERT INTO transactions (id, reference, type, status, amount, fee, currency, customer_id,
           product_id, purchase_id, original_id, description, metadata, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
        params![
            id,
            reference,
            t.kind,
            t.status,
            t.amount,
            t.fee,
            t.currency,
            t.customer_id,
            t.product_id,
            t.purchase_id,
            t.original_id,
            t.description,
            t.metadata.to_string(),
            t.at
        ],
    )?;
    Ok(id)
}
