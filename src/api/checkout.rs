//! Hosted-page sessions: checkout (`/v1/sdk/checkout-sessions`) and the customer billing portal
//! (`/v1/sdk/customers/customer-sessions`).

use reqwest::Method;

use super::{ApiError, Routes, SolvaPayClient};
use crate::model::checkout::{
    CheckoutSessionWire, CreateCheckoutSession, CreateCustomerSession, CustomerSessionWire,
};

impl SolvaPayClient {
    /// `POST /v1/sdk/checkout-sessions`.
    pub async fn create_checkout_session(
        &self,
        body: &CreateCheckoutSession,
    ) -> Result<CheckoutSessionWire, ApiError> {
        self.send(
            Method::POST,
            Routes::Sdk,
            &["checkout-sessions"],
            &[],
            Some(body),
        )
        .await
    }

    /// `POST /v1/sdk/customers/customer-sessions`.
    pub async fn create_customer_session(
        &self,
        body: &CreateCustomerSession,
    ) -> Result<CustomerSessionWire, ApiError> {
        self.send(
            Method::POST,
            Routes::Sdk,
            &["customers", "customer-sessions"],
            &[],
            Some(body),
        )
        .await
    }
}
