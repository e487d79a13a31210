//! The `products` row.

use rusqlite::{OptionalExtension, Row, Transaction};
use serde_json::Value;

use super::{flag, json_col};
use crate::sandbox::error::{ApiError, ApiResult};

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
