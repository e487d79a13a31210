//! Checkout and customer-portal session shapes: the request bodies, and the answers as SolvaPay
//! sends them (read leniently; the tools build their results from them).

use serde::{Deserialize, Serialize};

use super::{CustomerRef, PlanRef, ProductRef};

/// Body of `POST /v1/sdk/checkout-sessions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCheckoutSession {
    pub customer_ref: CustomerRef,
    pub product_ref: ProductRef,
    /// SolvaPay picks the product's default when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_ref: Option<PlanRef>,
    /// Where the customer lands after checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// Answer of `POST /v1/sdk/checkout-sessions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CheckoutSessionWire {
    pub session_id: Option<String>,
    /// Hosted checkout page.
    pub checkout_url: Option<String>,
}

/// Body of `POST /v1/sdk/customers/customer-sessions`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerSession {
    pub customer_ref: CustomerRef,
}

/// Answer of `POST /v1/sdk/customers/customer-sessions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerSessionWire {
    pub session_id: Option<String>,
    /// Hosted billing-portal page.
    pub customer_url: Option<String>,
    /// Expiry, when SolvaPay states it (ISO 8601).
    pub expires_at: Option<String>,
}
