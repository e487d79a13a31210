//! Rows of the ledger as Rust values, one module per table: the row type, its lookups, and the
//! stores more than one caller shares (a plan's insert, update and delete; a transaction's insert).
//! Re-exported here, so callers write `model::require_plan`.

mod customer;
mod plan;
mod product;
mod purchase;
mod txn;

pub(crate) use customer::{Customer, find_customer, find_customer_any, require_customer};
pub(crate) use plan::{
    Plan, delete_plan, insert_plan, plan_by_id, plans_of, require_plan, update_plan,
};
pub(crate) use product::{Product, find_product, require_product};
pub(crate) use purchase::{Purchase, find_purchase, purchases_where, require_purchase};
pub(crate) use txn::{NewTxn, Txn, find_txn, insert_txn};

use rusqlite::Row;
use serde_json::{Map, Value};

fn json_col(row: &Row<'_>, col: &str) -> rusqlite::Result<Value> {
    let s: String = row.get(col)?;
    Ok(serde_json::from_str(&s).unwrap_or_else(|_| Value::Object(Map::new())))
}

fn flag(row: &Row<'_>, col: &str) -> rusqlite::Result<bool> {
    Ok(row.get::<_, i64>(col)? != 0)
}
