//! Product shapes: what SolvaPay sends (`ProductWire`, read leniently), what a tool answers
//! (`Product`, built from it by one `From`), and the request bodies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::plan::{PlanWire, ProductPlan};
use super::present;

/// A product as SolvaPay sends it (`SdkProductResponse`). Only `reference` is required: it names
/// the product, and it tells a product from a list wrapper.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductWire {
    pub reference: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default, deserialize_with = "super::money::count")]
    pub total_transactions: Option<u64>,
    #[serde(default)]
    pub is_mcp_pay: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// The embedded `SdkPlanResponse` copies (no `name`, no `type`).
    #[serde(default, deserialize_with = "super::rows::embedded")]
    pub plans: Option<Vec<PlanWire>>,
    #[serde(default)]
    pub created_at: Option<String>,
}

/// A product.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// e.g. prd_P9Q0R1S2.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// active or inactive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_transactions: Option<u64>,
    /// Sold through an MCP paywall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_mcp_pay: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<ProductPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl From<ProductWire> for Product {
    fn from(w: ProductWire) -> Self {
        Self {
            reference: w.reference,
            name: present(w.name),
            description: present(w.description),
            status: present(w.status),
            product_type: present(w.product_type),
            total_transactions: w.total_transactions,
            is_mcp_pay: w.is_mcp_pay,
            metadata: w.metadata.filter(|m| !m.is_empty()),
            plans: w
                .plans
                .unwrap_or_default()
                .into_iter()
                .map(ProductPlan::from)
                .collect(),
            created_at: present(w.created_at),
        }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_product_with_odd_embedded_plans_is_read() {
        let wire: ProductWire = serde_json::from_value(json!({
            "reference": "prd_1", "name": "bot", "plans": [
                {"reference": "pln_1", "price": 4900.0, "currency": "usd"},
                {"reference": "pln_2", "price": null},
                null,
                {"reference": "pln_3", "price": "4900", "setupFee": null}
            ], "metadata": {}, "balance": 0
        }))
        .unwrap();
        let product = Product::from(wire);
        let prices: Vec<Option<String>> = product
            .plans
            .iter()
            .map(|p| p.price.as_ref().map(|m| m.formatted.clone()))
            .collect();
        assert_eq!(prices, [Some("$49.00".into()), None, Some("$49.00".into())]);
        assert_eq!(product.plans[2].setup_fee, None);
        assert_eq!(product.metadata, None);
        let bare = Product::from(
            serde_json::from_value::<ProductWire>(json!({"reference": "prd_2", "plans": null}))
                .unwrap(),
        );
        assert_eq!(
            serde_json::to_value(bare).unwrap(),
            json!({"reference": "prd_2"})
        );
    }
}
