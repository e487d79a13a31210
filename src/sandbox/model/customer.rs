//! The `customers` row: soft-deleted, found by reference, email, external ref or id.

use rusqlite::{OptionalExtension, Row, Transaction};
use serde_json::Value;

use super::json_col;
use crate::sandbox::error::{ApiError, ApiResult};

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) telephone: Option<String>,
    pub(crate) external_ref: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) metadata: Value,
    pub(crate) credit_balance: i64,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Customer {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            reference: r.get("reference")?,
            email: r.get("email")?,
            name: r.get("name")?,
            telephone: r.get("telephone")?,
            external_ref: r.get("external_ref")?,
            description: r.get("description")?,
            metadata: json_col(r, "metadata")?,
            credit_balance: r.get("credit_balance")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// A live (not deleted) customer found by `column = value` (`column` is a fixed identifier).
pub(crate) fn find_customer(
    tx: &Transaction<'_>,
    column: &str,
    value: &str,
) -> ApiResult<Option<Customer>> {
    let cond = if column == "email" {
        "lower(email) = lower(?1)"
    } else {
        match column {
            "id" => "id = ?1",
            "external_ref" => "external_ref = ?1",
            _ => "reference = ?1",
        }
    };
    let sql = format!("SELECT * FROM customers WHERE {cond} AND deleted_at IS NULL");
    Ok(tx.query_row(&sql, [value], Customer::from_row).optional()?)
}

/// The customer with reference `r`, or the documented 404.
pub(crate) fn require_customer(tx: &Transaction<'_>, r: &str) -> ApiResult<Customer> {
    find_customer(tx, "reference", r)?
        .ok_or_else(|| ApiError::not_found(format!("Customer with reference {r} not found")))
}

/// A customer by internal id, deleted or not (for history such as transactions).
pub(crate) fn find_customer_any(tx: &Transaction<'_>, id: &str) -> ApiResult<Option<Customer>> {
    Ok(tx
        .query_row(
            "SELECT * FROM customers WHERE id = ?1",
            [id],
            Customer::from_row,
        )
        .optional()?)
}
