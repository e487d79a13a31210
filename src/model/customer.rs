//! Customer shapes: what SolvaPay returns (`CustomerResponse`) and what the tools send.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::money::{Currency, Money};

/// A SolvaPay customer (`CustomerResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// Customer reference, e.g. `cus_A1B2C3D4`.
    pub reference: String,
    /// Email address (unique per provider).
    #[serde(default)]
    pub email: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The caller's own ID for this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
    /// E.164 telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Free key/value metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// Derived status, when SolvaPay reports one (`active` = has an active purchase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The customer's active purchases, when SolvaPay includes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchases: Vec<PurchaseInfo>,
    /// Creation time (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// A purchase as embedded in a customer (`PurchaseInfo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseInfo {
    /// Purchase reference, e.g. `pur_T3U4V5W6`.
    pub reference: String,
    /// Product name.
    #[serde(default)]
    pub product_name: String,
    /// Product reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_ref: Option<String>,
    /// Plan reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_ref: Option<String>,
    /// Purchase status (`active`, `trialing`, `cancelled`, …).
    #[serde(default)]
    pub status: String,
    /// Start date (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// End of access, when known (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    /// When the renewal was cancelled (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    /// Amount in USD cents (SolvaPay normalises purchase amounts to USD).
    #[serde(default)]
    pub amount: i64,
    /// The amount formatted in USD.
    #[serde(default, skip_deserializing)]
    pub amount_formatted: String,
}

impl Customer {
    /// Fills the formatted amounts the wire format lacks.
    pub fn with_formatted_amounts(mut self) -> Self {
        let usd = Currency::usd();
        for p in &mut self.purchases {
            p.amount_formatted = Money::new(p.amount, &usd).formatted;
        }
        self
    }
}

/// Body of `POST /v1/sdk/customers`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomer {
    /// Email (required, unique).
    pub email: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E.164 telephone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// Always sent (`{}` when empty): the spec lists it as required.
    pub metadata: Map<String, Value>,
    /// The caller's own ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

/// Body of `PATCH /v1/sdk/customers/{reference}`: only the fields given change.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCustomer {
    /// New email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New telephone (empty clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    /// New metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

impl UpdateCustomer {
    /// True when no field would change.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.name.is_none()
            && self.telephone.is_none()
            && self.metadata.is_none()
    }
}

/// How to find one customer through `GET /v1/sdk/customers?…` (exactly one key).
#[derive(Debug, Clone, Copy)]
pub enum CustomerLookup<'a> {
    /// By the caller's own ID.
    ExternalRef(&'a str),
    /// By email.
    Email(&'a str),
}
