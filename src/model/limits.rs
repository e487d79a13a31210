//! Usage-limit shapes: SolvaPay's `LimitResponse` and the request body of `POST /v1/sdk/limits`.

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/sdk/limits`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsRequest {
    /// Customer reference.
    pub customer_ref: String,
    /// Product reference.
    pub product_ref: String,
    /// True makes SolvaPay create a checkout session when the customer must pay (CONTRACT.md,
    /// `check_limits`). `check_limits` is a read, so it sends false; links come from
    /// `create_checkout_session`.
    pub include_checkout_session: bool,
}

/// A plan offered in a limits answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitPlan {
    /// Plan reference.
    #[serde(default)]
    pub reference: String,
    /// Plan name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether buying it needs a payment.
    #[serde(default)]
    pub requires_payment: Option<bool>,
}

/// The product a limits answer is about.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LimitProduct {
    /// Product name.
    #[serde(default)]
    pub name: Option<String>,
}

/// SolvaPay's `LimitResponse`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitResponse {
    /// False when the customer is over the limit (or has no usable purchase).
    #[serde(default)]
    pub within_limits: bool,
    /// Units left this period.
    #[serde(default)]
    pub remaining: i64,
    /// The unit being counted, e.g. "requests".
    #[serde(default)]
    pub meter_name: Option<String>,
    /// Credit balance (credits), for pre-paid plans.
    #[serde(default)]
    pub credit_balance: Option<i64>,
    /// True when a default plan must be activated first.
    #[serde(default)]
    pub activation_required: Option<bool>,
    /// Plans on offer.
    #[serde(default)]
    pub plans: Vec<LimitPlan>,
    /// The product.
    #[serde(default)]
    pub product: Option<LimitProduct>,
}
