//! Rows of the ledger as Rust values, and the lookups every route shares.

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult};

fn json_col(row: &Row<'_>, col: &str) -> rusqlite::Result<Value> {
    let s: String = row.get(col)?;
    Ok(serde_json::from_str(&s).unwrap_or_else(|_| Value::Object(Map::new())))
}

fn flag(row: &Row<'_>, col: &str) -> rusqlite::Result<bool> {
    Ok(row.get::<_, i64>(col)? != 0)
}

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
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
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

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) image_url: Option<String>,
    pub(crate) product_type: Option<String>,
    pub(crate) status: String,
    pub(crate) is_mcp_pay: bool,
    pub(crate) tax_behavior: Option<String>,
    pub(crate) config: Value,
    pub(crate) metadata: Value,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Product {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get("id")?,
            reference: r.get("reference")?,
            name: r.get("name")?,
            description: r.get("description")?,
            image_url: r.get("image_url")?,
            product_type: r.get("product_type")?,
            status: r.get("status")?,
            is_mcp_pay: flag(r, "is_mcp_pay")?,
            tax_behavior: r.get("tax_behavior")?,
            config: json_col(r, "config")?,
            metadata: json_col(r, "metadata")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// A product by reference or internal id.
pub(crate) fn find_product(tx: &Transaction<'_>, r: &str) -> ApiResult<Option<Product>> {
    Ok(tx
        .query_row(
            "SELECT * FROM products WHERE reference = ?1 OR id = ?1",
            [r],
            Product::from_row,
        )
        .optional()?)
}

pub(crate) fn require_product(tx: &Transaction<'_>, r: &str) -> ApiResult<Product> {
    find_product(tx, r)?.ok_or_else(|| ApiError::not_found(format!("Product not found: {r}")))
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) id: String,
    pub(crate) reference: String,
    pub(crate) product_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) kind: String,
    pub(crate) price: i64,
    pub(crate) currency: String,
    pub(crate) billing_cycle: Option<String>,
    pub(crate) billing_model: Option<String>,
    pub(crate) free_units: i64,
    pub(crate) limit_units: i64,
    pub(crate) credits_per_unit: Option<i64>,
    pub(crate) base_price: Option<i64>,
    pub(crate) is_default: bool,
    pub(crate) status: String,
    pub(crate) hidden: bool,
    /// Pass-through fields (`features`, `limits`, `metadata`, `overagePolicy`, …; `stripped` holds
    /// the pricing fields the `/v1/sdk` routes do not apply).
    pub(crate) extra: Map<String, Value>,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
}

impl Plan {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        let extra = match json_col(r, "extra")? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Ok(Self {
            id: r.get("id")?,
            reference: r.get("reference")?,
            product_id: r.get("product_id")?,
            name: r.get("name")?,
            description: r.get("description")?,
            kind: r.get("type")?,
            price: r.get("price")?,
            currency: r.get("currency")?,
            billing_cycle: r.get("billing_cycle")?,
            billing_model: r.get("billing_model")?,
            free_units: r.get("free_units")?,
            limit_units: r.get("limit_units")?,
            credits_per_unit: r.get("credits_per_unit")?,
            base_price: r.get("base_price")?,
            is_default: flag(r, "is_default")?,
            status: r.get("status")?,
            hidden: flag(r, "hidden")?,
            extra,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }
}

/// All plans of a product, oldest first.
pub(crate) fn plans_of(tx: &Transaction<'_>, product_id: &str) -> ApiResult<Vec<Plan>> {
    let mut st =
        tx.prepare("SELECT * FROM plans WHERE product_id = ?1 ORDER BY created_at, rowid")?;
    let rows = st.query_map([product_id], Plan::from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The plan `plan_ref` of product `product_id`, or 404.
pub(crate) fn require_plan(
    tx: &Transaction<'_>,
    product_id: &str,
    plan_ref: &str,
) -> ApiResult<Plan> {
    tx.query_row(
        "SELECT * FROM plans WHERE product_id = ?1 AND (reference = ?2 OR id = ?2)",
        params![product_id, plan_ref],
        Plan::from_row,
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found(format!("Plan not found: {plan_ref}")))
}

pub(crate) fn plan_by_id(tx: &Transaction<'_>, id: &str) -> ApiResult<Option<Plan>> {
    Ok(tx
        .query_row("SELECT * FROM plans WHERE id = ?1", [id], Plan::from_row)
        .optional()?)
}

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
    let id = super::util::new_id();
    let reference = t
        .reference
        .map_or_else(|| super::util::new_ref("txn"), str::to_owned);
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
            super::billing::transaction_fee(t.kind, t.amount),
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
