//! Checkout and customer-portal session shapes.

use serde::{Deserialize, Serialize};

/// Body of `POST /v1/sdk/checkout-sessions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCheckoutSession {
    /// Customer reference.
    pub customer_ref: String,
    /// Product reference.
    pub product_ref: String,
    /// Plan reference; SolvaPay picks the product's default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_ref: Option<String>,
    /// Where the customer lands after checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// Answer of `POST /v1/sdk/checkout-sessions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    /// Session id.
    #[serde(default)]
    pub session_id: String,
    /// Hosted checkout page.
    #[serde(default)]
    pub checkout_url: String,
}

/// Body of `POST /v1/sdk/customers/customer-sessions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerSession {
    /// Customer reference.
    pub customer_ref: String,
}

/// Answer of `POST /v1/sdk/customers/customer-sessions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerSession {
    /// Session id.
    #[serde(default)]
    pub session_id: String,
    /// Hosted billing-portal page.
    #[serde(default)]
    pub customer_url: String,
    /// Expiry, when SolvaPay states it (ISO 8601).
    #[serde(default)]
    pub expires_at: Option<String>,
}
