//! The usage-limit check: `POST /v1/sdk/limits`.

use reqwest::Method;

use super::{ApiError, CallClass, Routes, SolvaPayClient};
use crate::model::limits::{LimitsRequest, LimitsWire};

impl SolvaPayClient {
    /// `POST /v1/sdk/limits`. A read, retried as one, when `includeCheckoutSession` is false and the
    /// customer already has a purchase (otherwise SolvaPay may create a checkout session, or enrol
    /// the customer in a free default plan; see `tools/checkout/limits.rs`).
    pub async fn check_limits(&self, body: &LimitsRequest) -> Result<LimitsWire, ApiError> {
        self.send_as(
            CallClass::Read,
            Method::POST,
            Routes::Sdk,
            &["limits"],
            &[],
            Some(body),
        )
        .await
    }
}
