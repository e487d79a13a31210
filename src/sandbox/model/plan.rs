//! The `plans` row: a product's price points, and their storage (insert, update, delete).

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde_json::{Map, Value};

use super::{flag, json_col};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::util::{new_id, new_ref};

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
    /// A fresh plan of product `product_id` with the defaults of a create: a free `recurring` plan in
    /// `currency`, with new id and `pln_` reference, created and updated at `now`.
    pub(crate) fn blank(product_id: &str, currency: &str, now: &str) -> Self {
        Self {
            id: new_id(),
            reference: new_ref("pln"),
            product_id: product_id.to_owned(),
            name: String::new(),
            description: None,
            kind: "recurring".into(),
            price: 0,
            currency: currency.to_owned(),
            billing_cycle: None,
            billing_model: None,
            free_units: 0,
            limit_units: 0,
            credits_per_unit: None,
            base_price: None,
            is_default: false,
            status: "active".into(),
            hidden: false,
            extra: Map::new(),
            created_at: now.to_owned(),
            updated_at: now.to_owned(),
        }
    }

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

/// Store a new plan. A default plan takes the default away from the product's other plans.
pub(crate) fn insert_plan(tx: &Transaction<'_>, p: &Plan) -> ApiResult<()> {
    save(
        tx,
        p,
        "INSERT INTO plans (id, reference, product_id, name, description, type, price, currency,
           billing_cycle, billing_model, free_units, limit_units, credits_per_unit, base_price,
           is_default, status, hidden, extra, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )
}

/// Store every field of an existing plan (matched by id). A default plan takes the default away
/// from the product's other plans.
pub(crate) fn update_plan(tx: &Transaction<'_>, p: &Plan) -> ApiResult<()> {
    save(
        tx,
        p,
        "UPDATE plans SET reference = ?2, product_id = ?3, name = ?4, description = ?5, type = ?6,
           price = ?7, currency = ?8, billing_cycle = ?9, billing_model = ?10, free_units = ?11,
           limit_units = ?12, credits_per_unit = ?13, base_price = ?14, is_default = ?15, status = ?16,
           hidden = ?17, extra = ?18, created_at = ?19, updated_at = ?20 WHERE id = ?1",
    )
}

/// Delete a plan; purchases and checkout sessions that named it keep their rows, without the link
/// (a purchase keeps its plan snapshot).
pub(crate) fn delete_plan(tx: &Transaction<'_>, p: &Plan) -> ApiResult<()> {
    tx.execute(
        "UPDATE purchases SET plan_id = NULL WHERE plan_id = ?1",
        [&p.id],
    )?;
    tx.execute(
        "UPDATE checkout_sessions SET plan_id = NULL WHERE plan_id = ?1",
        [&p.id],
    )?;
    tx.execute("DELETE FROM plans WHERE id = ?1", [&p.id])?;
    Ok(())
}

/// Run `sql` (an insert or update binding the 20 columns in schema order) for `p`.
fn save(tx: &Transaction<'_>, p: &Plan, sql: &str) -> ApiResult<()> {
    if p.is_default {
        tx.execute(
            "UPDATE plans SET is_default = 0 WHERE product_id = ?1 AND id <> ?2",
            params![p.product_id, p.id],
        )?;
    }
    tx.execute(
        sql,
        params![
            p.id,
            p.reference,
            p.product_id,
            p.name,
            p.description,
            p.kind,
            p.price,
            p.currency,
            p.billing_cycle,
            p.billing_model,
            p.free_units,
            p.limit_units,
            p.credits_per_unit,
            p.base_price,
            p.is_default,
            p.status,
            p.hidden,
            Value::Object(p.extra.clone()).to_string(),
            p.created_at,
            p.updated_at
        ],
    )?;
    Ok(())
}
