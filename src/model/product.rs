//! Product shapes: what SolvaPay returns (`SdkProductResponse`) and what the tools send.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::plan::Plan;

/// A SolvaPay product (`SdkProductResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Product reference, e.g. `prd_P9Q0R1S2`.
    pub reference: String,
    /// Product name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `active` or `inactive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Free-form product type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Number of transactions so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_transactions: Option<i64>,
    /// Sold through an MCP paywall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_mcp_pay: Option<bool>,
    /// Free key/value metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The product's plans, when SolvaPay embeds them (no name or type there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<Plan>,
    /// Creation time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl Product {
    /// Fills the formatted amounts the wire format lacks.
    pub fn with_formatted_amounts(mut self) -> Self {
        self.plans = self
            .plans
            .into_iter()
            .map(Plan::with_formatted_amounts)
            .collect();
        self
    }
}

/// Body of `POST /v1/sdk/products`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateProduct {
    /// Name (2–100 characters).
    pub name: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Always sent (`{}`): the spec lists it as required.
    pub metadata: Map<String, Value>,
}

/// Body of `PUT /v1/sdk/products/{productRef}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProduct {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Product status filter of `list_products`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProductStatus {
    Active,
    Inactive,
}

impl ProductStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

/// Answer of `DELETE /v1/sdk/products/{productRef}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeleteOutcome {
    /// `deleted`, `deactivated` or `soft_deleted`.
    #[serde(default)]
    pub action: Option<String>,
}
